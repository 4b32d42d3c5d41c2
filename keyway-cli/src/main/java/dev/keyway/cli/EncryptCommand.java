package dev.keyway.cli;

import dev.keyway.authority.AuthorityClient;
import dev.keyway.authority.EscrowReceipt;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Durations;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.OwnerName;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.identity.Recipients;
import dev.keyway.core.kdf.KdfParams;
import dev.keyway.envelope.EnvelopeWriter;
import dev.keyway.envelope.Header;
import dev.keyway.envelope.PayloadAead;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "encrypt", mixinStandardHelpOptions = true,
        header = "Encrypt a file or message for one or more recipients.",
        description = {"Encrypt with a fresh session key (the file key), wrapped for each recipient. The output is authenticated in 64 KiB chunks; with --sign-with the sender signs everything, so recipients can tell the message really comes from the sender. Every message gets a random id and a creation time, which a receiver's replay guard checks (keyway decrypt --replay-db). The format is described in docs/FORMAT.md."},
        footer = {"", "Example:", "  keyway encrypt -r kwx255191... --sign-with me.key -o report.pdf.kw report.pdf"})
final class EncryptCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-r", "--recipient"}, paramLabel = "RECIPIENT", description = "A recipient string (repeatable).")
    List<String> recipients = new ArrayList<>();

    @Option(names = {"-R", "--recipients-file"}, paramLabel = "FILE", description = "A file of recipient strings, one per line (repeatable).")
    List<Path> recipientFiles = new ArrayList<>();

    @Option(names = "--passphrase-file", paramLabel = "FILE",
            description = "Encrypt to the passphrase in FILE (Argon2id) instead of to recipients.")
    String passphraseFile;

    @Option(names = "--sign-with", paramLabel = "IDENTITY", description = "Sign the message with this identity file.")
    String signWith;

    @Option(names = "--identity-passphrase-file", paramLabel = "FILE", description = "Passphrase of an encrypted --sign-with identity.")
    String identityPassphraseFile;

    @Option(names = "--escrow-recipient", paramLabel = "RECIPIENT",
            description = "Also wrap the file key for this backup authority recipient (an escrow stanza), bound to --escrow-owner.")
    String escrowRecipient;

    @Option(names = "--escrow-owner", paramLabel = "NAME",
            description = "The owner name the escrow stanza is bound to: the name you enrolled under with the authority.")
    String escrowOwner;

    @Option(names = "--escrow", paramLabel = "URL",
            description = "Also escrow the file key with this backup authority (needs --cacert and --sign-with, the enrolled owner).")
    String escrowUrl;

    @Option(names = "--policy", paramLabel = "FILE",
            description = "An escrow policy: always add an escrow stanza for the authority it names (default: "
                    + "$KEYWAY_ESCROW_POLICY, ~/.config/keyway/escrow-policy, /etc/keyway/escrow-policy; see docs/ENVELOPE.md).")
    String policyFile;

    @Option(names = "--cacert", paramLabel = "FILE", description = "With --escrow: the authority's certificate (tls-cert.pem).")
    Path escrowCacert;

    @Option(names = "--description", paramLabel = "TEXT", description = "With --escrow: what the file is (default: its name).")
    String description;

    @Option(names = "--expires", paramLabel = "DURATION", description = "The message expires this long from now (e.g. 10m, 2h, 7d).")
    String expires;

    @Option(names = "--serial", paramLabel = "N", description = "A serial number, increasing per sender (checked by replay guards on signed messages).")
    Long serial;

    @Option(names = "--content-type", paramLabel = "TYPE", description = "A media type to record, e.g. text/plain.")
    String contentType;

    @Option(names = "--aead", paramLabel = "NAME", description = "Payload cipher: aes-256-gcm (default) or chacha20-poly1305.")
    String aead;

    @Option(names = "--max-recipients", paramLabel = "N", description = "Allow more than 256 recipients.")
    int maxRecipients = Header.DEFAULT_MAX_RECIPIENTS;

    @Option(names = {"-a", "--armor"}, description = "Write the PEM-like text form.")
    boolean armor;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT", description = "Write to OUT (created only on success) instead of standard output.")
    String output;

    @Option(names = "--output-dir", paramLabel = "DIR",
            description = "Encrypt each IN to DIR/NAME.kw (DIR is made if missing). A failure on one file is reported and the "
                    + "others go on; the exit status is 0 only when every file was encrypted. Needed for several files.")
    Path outputDir;

    @Option(names = "--recursive", description = "With --output-dir: take the files under directory arguments, mirroring their tree in DIR.")
    boolean recursive;

    @Parameters(arity = "0..*", paramLabel = "IN", description = "The file(s) to encrypt ('-' or nothing: standard input).")
    List<String> inputs = new ArrayList<>();

    /** What every file of this run is encrypted with, checked and read once. */
    private List<Recipient> recipientList;
    private byte[] passphrase;
    private Recipient authority;
    private String owner;
    private Instant expiresAt;
    private PayloadAead payloadAead;
    private AuthorityClient authorityClient;
    private Optional<EscrowPolicy> policy;

    @Override
    public Integer call() {
        boolean batch = Batch.requested(outputDir, output, inputs, recursive, "encrypt", "each IN becomes DIR/NAME.kw");
        // Everything that can be checked here is checked before the authority (if any) is asked anything.
        prepare();
        try (Identity signer = signWith == null ? null : CliIo.readIdentity(signWith, identityPassphraseFile)) {
            if (batch) {
                Batch.Plan plan = Batch.plan(inputs, recursive, outputDir, name -> name + ".kw");
                askAuthority(signer);
                int status = Batch.run(plan, (in, out) -> {
                    try (InputStream is = new FileInputStream(in.toFile()); Sink sink = Sink.newFile(out, false)) {
                        encryptOne(is, sink, signer, description != null ? description : in.toString());
                    }
                }, Runtime.getRuntime().availableProcessors(), spec.commandLine().getErr(), "encrypting", "encrypted", outputDir);
                return status;
            }
            String input = inputs.isEmpty() ? null : inputs.get(0);
            if (!armor && (output == null || output.equals("-")) && StdStreams.terminal) {
                throw KeywayException.usage("refusing to write binary ciphertext to the terminal", "use -o FILE, -a, or redirect the output");
            }
            // The output appears only on success.
            try (InputStream in = Sink.input(input, spec.commandLine().getErr(), "encrypting");
                 Sink sink = Sink.open(output, false)) {
                askAuthority(signer); // only once the local mistakes (a missing input, an existing output) are ruled out
                encryptOne(in, sink, signer, description != null ? description : input == null || input.equals("-") ? "standard input" : input);
            } catch (IOException e) {
                throw CliIo.ioFailure(e);
            }
            return 0;
        } finally {
            if (passphrase != null) {
                Arrays.fill(passphrase, (byte) 0);
            }
        }
    }

    /** With --escrow: the authority's recipient, and the name it has enrolled the signer under (the stanza's owner). */
    private void askAuthority(Identity signer) {
        if (authorityClient == null) {
            return;
        }
        authority = Recipient.parse(authorityClient.authorityRecipient());
        checkPolicy(policy, authority);
        // Bind the stanza to the name the authority has for the signer: that is who may recover it.
        String enrolled = authorityClient.enrolledName(signer);
        if (owner != null && escrowOwner != null && !owner.equals(enrolled)) {
            throw KeywayException.usage("--escrow-owner '" + Printable.escape(escrowOwner) + "' is not the name the "
                    + "authority has for --sign-with ('" + Printable.escape(enrolled) + "')",
                    "drop --escrow-owner: --escrow binds to the enrolled name");
        }
        owner = enrolled;
    }

    /** Checks the options and reads what every file needs (recipients, passphrase, policy, authority). */
    private void prepare() {
        recipientList = new ArrayList<>(KeyInputs.recipients(recipients));
        for (Path f : recipientFiles) {
            recipientList.addAll(Recipients.readFile(f));
        }
        policy = EscrowPolicy.find(policyFile, System.getenv());
        // The envelope's rule, asked now: nothing goes to the authority for a file that cannot be made. --escrow
        // counts as an escrow stanza with a passphrase (never allowed) but not as the only recipient (it needs -r).
        EnvelopeWriter.RecipientProblem problem = EnvelopeWriter.recipientProblem(recipientList.size(), passphraseFile != null,
                escrowRecipient != null || (passphraseFile != null && escrowUrl != null));
        if (problem == EnvelopeWriter.RecipientProblem.PASSPHRASE_NOT_ALONE) {
            throw KeywayException.usage("--passphrase-file must be the only recipient",
                    "encrypt either to a passphrase or to recipients, not both");
        }
        if (problem == EnvelopeWriter.RecipientProblem.NONE_GIVEN) {
            throw KeywayException.usage("no recipient given", "give -r RECIPIENT, -R FILE or --passphrase-file FILE");
        }
        if (passphraseFile != null && policy.isPresent()) {
            throw KeywayException.policy("the escrow policy " + policy.get().source() + " requires an escrow stanza, which a "
                    + "passphrase-encrypted file cannot have", "encrypt to recipients (-r) instead");
        }
        if (escrowUrl != null && (escrowRecipient != null || signWith == null || escrowCacert == null)) {
            throw KeywayException.usage("--escrow needs --cacert and --sign-with (the enrolled owner), and no --escrow-recipient",
                    "see 'keyway encrypt --help'");
        }
        if (escrowOwner != null && escrowUrl == null && escrowRecipient == null && policy.isEmpty()) {
            throw KeywayException.usage("--escrow-owner goes with --escrow-recipient (or a policy)", "see 'keyway encrypt --help'");
        }
        authority = escrowRecipient != null ? Recipient.parse(escrowRecipient)
                : escrowUrl == null ? policy.map(EscrowPolicy::authority).orElse(null) : null;
        checkPolicy(policy, authority);
        owner = escrowOwner != null ? OwnerName.normalize(escrowOwner) : policy.map(EscrowPolicy::owner).orElse(null);
        if (authority != null && owner == null) {
            throw KeywayException.usage("an escrow stanza is bound to an owner, and none was given",
                    "give --escrow-owner NAME (the name you enrolled under with the authority), or an 'owner' line in the policy");
        }
        if (expires != null) {
            expiresAt = Instant.now().plus(Durations.parse(expires, "--expires"));
        }
        if (serial != null && serial < 0) {
            throw KeywayException.usage("--serial must not be negative", "give a number from 0 up");
        }
        if (aead != null) {
            payloadAead = PayloadAead.byId(aead);
            if (payloadAead == null) {
                throw KeywayException.usage("unknown --aead '" + aead + "'", "use aes-256-gcm or chacha20-poly1305");
            }
        }
        if (escrowUrl != null) {
            AuthorityOptions a = new AuthorityOptions();
            a.url = escrowUrl;
            a.cacert = escrowCacert;
            authorityClient = a.client();
        }
        if (passphraseFile != null) {
            passphrase = CliIo.readSecret(passphraseFile, "passphrase file");
        }
    }

    /** Encrypts one input to {@code sink} and commits it; with --escrow, escrows its key first. */
    private void encryptOne(InputStream in, Sink sink, Identity signer, String what) throws IOException {
        EnvelopeWriter writer = new EnvelopeWriter().maxRecipients(maxRecipients).recipients(recipientList);
        if (passphrase != null) {
            writer.passphrase(passphrase, KdfParams.Argon2idParams.DEFAULT); // copied, and the copy zeroed when done
        }
        if (expiresAt != null) {
            writer.expires(expiresAt);
        }
        if (serial != null) {
            writer.serial(serial);
        }
        if (contentType != null) {
            writer.contentType(contentType);
        }
        if (payloadAead != null) {
            writer.aead(payloadAead);
        }
        if (authority != null) {
            writer.escrow(authority, owner);
        }
        writer.signer(signer);
        Header header = writer.encrypt(in, sink.envelope(armor));
        if (authorityClient != null) {
            // Escrow before the output appears: if the authority refuses, nothing is left half done.
            EscrowReceipt receipt = authorityClient.escrow(signer, header.escrowBlob(), what, serial, header.messageIdHex(), null);
            PrintWriter err = spec.commandLine().getErr();
            synchronized (err) {
                err.println("keyway: escrowed with the authority: "
                        + Printable.escape(receipt.escrowId()) + " (message " + header.messageIdHex() + ")");
                err.flush();
            }
        }
        sink.commit();
    }

    /** With a policy in force, escrow goes to the policy's authority and no other. */
    private static void checkPolicy(Optional<EscrowPolicy> policy, Recipient authority) {
        if (policy.isPresent() && authority != null && !authority.equals(policy.get().authority())) {
            throw KeywayException.policy("the escrow policy " + policy.get().source() + " requires escrow with authority "
                    + policy.get().authority().idHex() + ", not " + authority.idHex(), "escrow with the policy's authority");
        }
    }
}
