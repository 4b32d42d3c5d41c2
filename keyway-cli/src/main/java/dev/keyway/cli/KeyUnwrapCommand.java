package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.keys.SessionKey;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "unwrap", mixinStandardHelpOptions = true,
        header = "Recover a session key from a key blob.",
        description = {"Recover the session key from a key blob with the identity it was wrapped for, or with the key-encryption key it was wrapped under. A blob for another identity, or one that was altered, fails with exit 3."})
final class KeyUnwrapCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = {"-i", "--identity"}, paramLabel = "IDENTITY", description = "Identity file made by 'keyway keygen' (repeatable).")
        List<String> identities;

        @Option(names = "--kek-file", paramLabel = "FILE", description = "Key-encryption key file (hex).")
        String kekFile;
    }

    @Option(names = {"--identity-passphrase-file", "--passphrase-file"}, paramLabel = "FILE",
            description = "Passphrase of an encrypted identity (default: ask on the terminal; --passphrase-file is the old spelling).")
    String passphraseFile;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the key to FILE (mode 0600) instead of standard output.")
    String output;

    @Option(names = "--json", description = "Print JSON: key, algorithm, bits, scheme.")
    boolean json;

    @Parameters(index = "0", arity = "0..1", paramLabel = "BLOB", description = "Key blob file, armored or binary ('-' or nothing: standard input).")
    String blobFile;

    @Override
    public void run() {
        byte[] input = CliIo.readInput(blobFile, KeyBlob.MAX_SIZE * 2, "key blob");
        if (input.length == 0) {
            throw KeywayException.malformed("the input is empty", "give a blob made by 'keyway key wrap'");
        }
        KeyBlob blob = KeyBlob.parse(input);
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("scheme", blob.scheme().label());
        try (SessionKey key = unwrap(blob)) {
            CliIo.emit(spec.commandLine().getOut(), output, CliIo.keyText(key, json, extra), true);
        }
    }

    private SessionKey unwrap(KeyBlob blob) {
        if (source.kekFile != null) {
            try (SessionKey kek = KeyInputs.kek(source.kekFile)) {
                return KeyWrap.unwrap(blob, kek);
            }
        }
        if (source.identities.size() == 1) {
            try (Identity id = CliIo.readIdentity(source.identities.get(0), passphraseFile)) {
                return KeyWrap.unwrap(blob, id);
            }
        }
        List<String> ids = new ArrayList<>();
        for (String path : source.identities) {
            try (Identity id = CliIo.readIdentity(path, passphraseFile)) {
                if (MessageDigest.isEqual(id.recipient().id(), blob.recipientId())) {
                    return KeyWrap.unwrap(blob, id);
                }
                ids.add(id.recipient().idHex());
            }
        }
        throw new KeywayException(ErrorCode.AUTH_FAILED, "key blob was not wrapped for any of the given identities (blob is for recipient "
                + blob.recipientIdHex() + ", identities are " + String.join(", ", ids) + ")", "unwrap with the identity it was wrapped for");
    }
}
