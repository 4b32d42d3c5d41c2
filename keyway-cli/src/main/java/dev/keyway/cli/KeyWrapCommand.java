package dev.keyway.cli;

import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.SessionKey;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.util.LinkedHashMap;
import java.util.Map;

@Command(name = "wrap", mixinStandardHelpOptions = true,
        header = "Wrap a session key as a key blob for a recipient or under a key-encryption key.",
        description = {"Wrap a session key as a key blob: for a recipient's public key (HPKE for x25519, xwing and p256; RSA-OAEP-SHA256 for rsa3072), or under a key-encryption key (AES-KWP, RFC 5649). The key file holds hex as 'keyway key new' prints it (or its --json output)."})
final class KeyWrapCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = {"-r", "--recipient"}, paramLabel = "RECIPIENT", description = "Recipient string (kwxwing1..., kwx255191..., ...).")
        String recipient;

        @Option(names = "--kek-file", paramLabel = "FILE", description = "Key-encryption key (hex, 16/24/32 bytes), as 'keyway key new --alg aes-kw' prints it.")
        String kekFile;
    }

    @Option(names = "--alg", paramLabel = "NAME", description = "Algorithm of the session key (default: AES-256-GCM, or what the JSON input names).")
    String alg;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the blob to FILE instead of standard output.")
    String output;

    @Option(names = "--json", description = "Print JSON: blob (armored), scheme, algorithm, recipientId.")
    boolean json;

    @Parameters(index = "0", arity = "0..1", paramLabel = "KEYFILE", description = "Session key file ('-' or nothing: standard input).")
    String keyFile;

    @Override
    public void run() {
        KeyBlob blob;
        if (target.recipient != null) {
            Recipient r = KeyInputs.recipient(target.recipient);
            try (SessionKey key = KeyInputs.sessionKey(keyFile, alg)) {
                blob = KeyWrap.wrap(key, r);
            }
        } else {
            try (SessionKey kek = KeyInputs.kek(target.kekFile); SessionKey key = KeyInputs.sessionKey(keyFile, alg)) {
                blob = KeyWrap.wrap(key, kek);
            }
        }
        String text = blob.armor();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("blob", text);
            m.put("scheme", blob.scheme().label());
            m.put("algorithm", blob.algorithm().name());
            m.put("recipientId", blob.recipientIdHex());
            text = CliIo.json(m);
        }
        CliIo.emit(spec.commandLine().getOut(), output, text, false);
    }
}
