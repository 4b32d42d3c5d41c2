package dev.keyway.cli;

import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipients;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.envelope.EnvelopeReader;
import dev.keyway.envelope.Header;
import dev.keyway.envelope.Rekey;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

@Command(name = "rekey", mixinStandardHelpOptions = true,
        header = "Add or remove recipients of an encrypted file without re-encrypting it.",
        description = {"Rewrite only the header: a new set of recipient stanzas, a new MAC and (for signed files) a new signature. The body's bytes are copied untouched, after every chunk of the old file was verified. Metadata and the message id stay the same. A signed file must be signed again: give --sign-with. A removed recipient can still read copies it already has."})
final class RekeyCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = {"-i", "--identity"}, paramLabel = "IDENTITY", required = true, description = "An identity the file is encrypted to (repeatable).")
    List<String> identities = new ArrayList<>();

    @Option(names = "--identity-passphrase-file", paramLabel = "FILE", description = "Passphrase of encrypted identity files.")
    String identityPassphraseFile;

    @Option(names = "--add", paramLabel = "RECIPIENT", description = "Add this recipient (repeatable).")
    List<String> add = new ArrayList<>();

    @Option(names = "--remove", paramLabel = "RECIPIENT", description = "Remove this recipient (repeatable).")
    List<String> remove = new ArrayList<>();

    @Option(names = "--sign-with", paramLabel = "IDENTITY", description = "Sign the new file with this identity.")
    String signWith;

    @Option(names = "--max-recipients", paramLabel = "N", description = "Allow more than 256 recipients.")
    int maxRecipients = Header.DEFAULT_MAX_RECIPIENTS;

    @Option(names = {"-a", "--armor"}, description = "Write the PEM-like text form.")
    boolean armor;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT", required = true, description = "The new file (created only on success).")
    String output;

    @Parameters(index = "0", paramLabel = "IN", description = "The encrypted file.")
    String input;

    @Override
    public void run() {
        if (add.isEmpty() && remove.isEmpty()) {
            throw KeywayException.usage("nothing to change", "give --add RECIPIENT or --remove RECIPIENT");
        }
        var toAdd = KeyInputs.recipients(add);
        var toRemove = Recipients.parse(remove);
        List<Identity> ids = new ArrayList<>();
        Identity signer = null;
        try (InputStream in = Sink.input(input, spec.commandLine().getErr(), "re-keying")) {
            EnvelopeReader reader = EnvelopeReader.open(in, maxRecipients);
            ids.addAll(CliIo.readIdentities(identities, identityPassphraseFile));
            signer = signWith == null ? null : CliIo.readIdentity(signWith, identityPassphraseFile);
            try (SessionKey fileKey = reader.unwrap(ids); Sink sink = Sink.open(output, false)) {
                reader.authenticate(fileKey);
                Rekey.rekey(reader, fileKey, toAdd, toRemove, signer, maxRecipients, sink.envelope(armor));
                sink.commit();
            }
        } catch (IOException e) {
            throw CliIo.ioFailure(e);
        } finally {
            ids.forEach(Identity::destroy);
            if (signer != null) {
                signer.destroy();
            }
        }
    }
}
