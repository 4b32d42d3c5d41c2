package dev.keyway.cli;

import dev.keyway.authority.Recovery;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.envelope.EnvelopeReader;
import dev.keyway.envelope.Header;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

@Command(name = "recover", mixinStandardHelpOptions = true, header = "Get an escrowed session key back from a backup authority.",
        description = {"Asks the authority for the key escrowed under your owner name by serial number or message id (with "
                + "--file and neither, the file's message id). The authority unwraps it with its private key and wraps it "
                + "again for this identity, so no plaintext key crosses the wire. With --file, decrypts that encrypted file "
                + "with the recovered key; otherwise prints the new key blob. A recovery officer may add --owner to recover "
                + "another owner's key.",
                "",
                "The output is checked before the authority is asked (an existing -o file is refused first), so a released "
                        + "key is not lost to a bad path; under the two-person rule the requester may collect an approved "
                        + "request again until the approval expires (24 hours by default)."})
final class RecoverCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Mixin
    AuthorityOptions authority;

    @Mixin
    ClientIdentity identity;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Which which;

    static final class Which {
        @Option(names = "--serial", paramLabel = "N", description = "The serial the key was escrowed with.")
        Long serial;

        @Option(names = "--message-id", paramLabel = "ID", description = "The message id of the encrypted file (keyway inspect shows it).")
        String messageId;

        @Option(names = "--request-id", paramLabel = "ID", description = "Collect a recovery request a second officer approved.")
        String requestId;
    }

    @Option(names = "--owner", paramLabel = "NAME", description = "Recover another owner's key (recovery officers only).")
    String owner;

    @Option(names = "--file", paramLabel = "ENCRYPTED", description = "Decrypt this file with the recovered key.")
    String file;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT", description = "Where the plaintext (with --file) or the key blob goes.")
    String output;

    @Override
    public void run() {
        PrintWriter err = spec.commandLine().getErr();
        if (which == null && file == null) {
            throw KeywayException.usage("say which key: --serial, --message-id, --request-id, or --file ENCRYPTED",
                    "see 'keyway recover --help'");
        }
        // Everything that can fail locally fails before the authority is asked: the identity, the encrypted
        // file's header, and the output (an existing -o file is refused here, not after the key was released).
        try (Identity id = identity.read();
             InputStream in = file == null ? null : Sink.input(file, err, "decrypting");
             Sink sink = Sink.open(output, file != null)) {
            EnvelopeReader reader = in == null ? null : EnvelopeReader.open(in, Header.DEFAULT_MAX_RECIPIENTS);
            if (owner != null && which != null && which.requestId != null) {
                throw KeywayException.usage("--owner does not go with --request-id (the request names the key)", "drop --owner");
            }
            Recovery.Query query = which == null ? Recovery.Query.messageId(owner, reader.header().messageIdHex())
                    : which.serial != null ? Recovery.Query.serial(owner, which.serial)
                    : which.messageId != null ? Recovery.Query.messageId(owner, which.messageId)
                    : Recovery.Query.collect(which.requestId);
            Recovery answer = authority.client().recover(id, query);
            if (answer instanceof Recovery.Pending p) {
                String req = Printable.escape(p.requestId());
                throw KeywayException.policy("the authority requires a second officer's approval: recovery request " + req
                        + " is pending", "ask a recovery officer who is another person to run 'keyway authority approve-recovery "
                        + req + "', then run this again with --request-id " + req);
            }
            Recovery.Released released = (Recovery.Released) answer;
            KeyBlob blob = released.blob();
            if (reader == null) {
                if (sink.isStdout()) {
                    spec.commandLine().getOut().print(blob.armor());
                    spec.commandLine().getOut().flush();
                } else {
                    sink.stream().write(blob.armor().getBytes(StandardCharsets.US_ASCII));
                    sink.commit();
                }
                return;
            }
            try (SessionKey key = KeyWrap.unwrap(blob, id)) {
                byte[] k = key.bytes();
                try (SessionKey fileKey = SessionKey.of(reader.header().aead().algorithm(), k)) {
                    reader.authenticate(fileKey);
                    reader.decrypt(fileKey, sink.stream());
                } finally {
                    Arrays.fill(k, (byte) 0);
                }
            }
            sink.commit();
            err.println("keyway: recovered escrow " + Printable.escape(released.escrowId()) + " and decrypted "
                    + Printable.escape(file));
            err.flush();
        } catch (IOException e) {
            throw CliIo.ioFailure(e);
        }
    }
}
