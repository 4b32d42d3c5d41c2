package dev.keyway.cli;

import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.IdentityFile;
import dev.keyway.core.identity.KeyType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

@Command(name = "keygen", mixinStandardHelpOptions = true,
        header = "Make a new identity (key-exchange and signing keys) and print its recipient string.",
        description = {"Make a new identity: a key-exchange key pair (xwing by default: ML-KEM-768 + X25519) and an Ed25519 signing key. The identity file is written with mode 0600, sealed with Argon2id and AES-256-GCM when a passphrase file is given; an existing file is never overwritten. Prints the recipient string, the public half to give to people who send you keys."})
final class KeygenCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--type", paramLabel = "TYPE", defaultValue = "xwing",
            description = "x25519, xwing, p256 or rsa3072 (default: ${DEFAULT-VALUE}).")
    String type;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "Identity file to create. Without it the identity is printed on standard output and the recipient on standard error.")
    String output;

    @Option(names = "--passphrase-file", paramLabel = "FILE", description = "Encrypt the identity file with the passphrase in FILE.")
    String passphraseFile;

    @Option(names = "--json", description = "Print JSON: recipient, type, id, file, encrypted.")
    boolean json;

    @Override
    public void run() {
        KeyType t = KeyType.byId(type);
        byte[] passphrase = passphraseFile == null ? null : CliIo.readSecret(passphraseFile, "passphrase file");
        var out = spec.commandLine().getOut();
        try (Identity id = Identity.generate(t)) {
            String recipient = id.recipient().encode();
            if (output == null) {
                out.print(IdentityFile.format(id, passphrase));
                spec.commandLine().getErr().println("Public key: " + recipient);
                out.flush();
                return;
            }
            IdentityFile.write(Path.of(output), id, passphrase);
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("recipient", recipient);
                m.put("type", t.id());
                m.put("id", id.recipient().idHex());
                m.put("file", output);
                m.put("encrypted", passphrase != null);
                out.print(CliIo.json(m));
            } else {
                out.println(recipient);
            }
            out.flush();
        } finally {
            if (passphrase != null) {
                Arrays.fill(passphrase, (byte) 0);
            }
        }
    }
}
