package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Durations;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.envelope.EnvelopeReader;
import dev.keyway.envelope.Header;
import dev.keyway.envelope.ReplayGuard;
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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

@Command(name = "decrypt", mixinStandardHelpOptions = true,
        header = "Decrypt a file made by 'keyway encrypt'.",
        description = {"Decrypt with an identity the file was encrypted to, a passphrase, or a revealed session key. Every chunk is authenticated; a signed file's signature is checked at the end. With -o the plaintext appears under its name only after every check passed (otherwise no file exists and the exit code is 3 or 4). To standard output it is streamed: a failure may leave partial output, so discard it unless the exit code is 0.",
                "",
                "Replay guard (--replay-db): refuses a message id seen before, a message older than --max-age (default 5m) or from the future, and a serial not above the signer's last one (exit 4). A message past its expiry time is refused with or without the guard.",
                "",
                "Escrow check (--require-escrow, or an escrow policy: docs/ENVELOPE.md): refuses, before any output, a file whose escrow stanza is missing, made for another authority, or does not recompute from the file key (exit 4): the authority could not give its key back to its owner."})
final class DecryptCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-i", "--identity"}, paramLabel = "IDENTITY", description = "Identity file (repeatable).")
    List<String> identities = new ArrayList<>();

    @Option(names = "--identity-passphrase-file", paramLabel = "FILE", description = "Passphrase of encrypted identity files.")
    String identityPassphraseFile;

    @Option(names = "--passphrase-file", paramLabel = "FILE", description = "Passphrase of a passphrase-encrypted file (default: ask).")
    String passphraseFile;

    @Option(names = "--session-key", paramLabel = "HEX", description = "Decrypt with this revealed file key instead of an identity.")
    String sessionKeyHex;

    @Option(names = "--show-session-key", description = "Print this message's file key (hex) on standard error.")
    boolean showSessionKey;

    @Option(names = "--expect-signer", paramLabel = "RECIPIENT", description = "Require a valid signature by this recipient.")
    String expectSigner;

    @Option(names = "--replay-db", paramLabel = "PATH", description = "Replay guard database (SQLite; created if missing).")
    Path replayDb;

    @Option(names = "--max-age", paramLabel = "DURATION", description = "Refuse messages older than this (default 5m with --replay-db).")
    String maxAge;

    @Option(names = "--require-escrow", paramLabel = "RECIPIENT",
            description = "Require an escrow stanza for this authority that recomputes from the file key.")
    String requireEscrow;

    @Option(names = "--policy", paramLabel = "FILE",
            description = "An escrow policy whose authority to require (default: $KEYWAY_ESCROW_POLICY, "
                    + "~/.config/keyway/escrow-policy, /etc/keyway/escrow-policy).")
    String policyFile;

    @Option(names = "--no-policy", description = "Do not apply an escrow policy found at the default locations (to read older files).")
    boolean noPolicy;

    @Option(names = "--max-recipients", paramLabel = "N", description = "Accept files with more than 256 recipients.")
    int maxRecipients = Header.DEFAULT_MAX_RECIPIENTS;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT", description = "Write the plaintext to OUT (mode 0600, only on success).")
    String output;

    @Option(names = "--output-dir", paramLabel = "DIR",
            description = "Decrypt each IN (NAME.kw) to DIR/NAME (DIR is made if missing). A failure on one file is reported and "
                    + "the others go on; the exit status is 0 only when every file was decrypted. Needed for several files.")
    Path outputDir;

    @Option(names = "--recursive", description = "With --output-dir: take the files under directory arguments, mirroring their tree in DIR.")
    boolean recursive;

    @Parameters(arity = "0..*", paramLabel = "IN", description = "The encrypted file(s), binary or armored ('-' or nothing: standard input).")
    List<String> inputs = new ArrayList<>();

    /** What every file of this run is decrypted with, read once. */
    private Recipient expected;
    private Duration age;
    private Recipient escrowAuthority;
    private List<Identity> ids = List.of();
    private byte[] passphrase;
    private final Set<String> batchSigners = ConcurrentHashMap.newKeySet();

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        boolean batch = Batch.requested(outputDir, output, inputs, recursive, "decrypt", "each NAME.kw becomes DIR/NAME");
        if (batch && (sessionKeyHex != null || showSessionKey)) {
            throw KeywayException.usage("a session key belongs to one message", "decrypt that file alone for --session-key or --show-session-key");
        }
        expected = expectSigner == null ? null : KeyInputs.recipient(expectSigner);
        age = maxAge != null ? Durations.parse(maxAge, "--max-age") : replayDb != null ? ReplayGuard.DEFAULT_MAX_AGE : null;
        if (sessionKeyHex != null && !identities.isEmpty()) {
            throw KeywayException.usage("give either --session-key or -i, not both", "see 'keyway decrypt --help'");
        }
        if (noPolicy && policyFile != null) {
            throw KeywayException.usage("give --policy or --no-policy, not both", "see 'keyway decrypt --help'");
        }
        escrowAuthority = requireEscrow != null ? Recipient.parse(requireEscrow)
                : noPolicy ? null : EscrowPolicy.find(policyFile, System.getenv()).map(EscrowPolicy::authority).orElse(null);
        if (!batch) {
            String input = inputs.isEmpty() ? null : inputs.get(0);
            try (InputStream in = Sink.input(input, err, "decrypting")) {
                decryptOne(in, () -> Sink.open(output, true), null, true);
            } catch (IOException e) {
                throw CliIo.ioFailure(e);
            }
            return 0;
        }
        // A batch opens the replay database once, before the first file.
        try (ReplayGuard guard = replayDb == null ? null : ReplayGuard.open(replayDb)) {
            if (!identities.isEmpty()) {
                ids = CliIo.readIdentities(identities, identityPassphraseFile);
            }
            if (passphraseFile != null) {
                passphrase = CliIo.readSecret(passphraseFile, "passphrase file");
            }
            Batch.Plan plan = Batch.plan(inputs, recursive, outputDir, DecryptCommand::plainName);
            int status = Batch.run(plan, (in, out) -> {
                try (InputStream is = new FileInputStream(in.toFile())) {
                    decryptOne(is, () -> Sink.newFile(out, true), guard, false);
                }
            }, Runtime.getRuntime().availableProcessors(), err, "decrypting", "decrypted", outputDir);
            if (!batchSigners.isEmpty() && expected == null) {
                err.println("keyway: signed files had good signatures from " + batchSigners.size()
                        + (batchSigners.size() == 1 ? " sender (" : " senders (") + String.join(", ", new TreeSet<>(batchSigners))
                        + "); give --expect-signer RECIPIENT to require a particular sender");
                err.flush();
            }
            return status;
        } finally {
            ids.forEach(Identity::destroy);
            if (passphrase != null) {
                Arrays.fill(passphrase, (byte) 0);
            }
        }
    }

    /** The output name of an encrypted file's name: without its {@code .kw}. */
    static String plainName(String name) {
        if (!name.endsWith(".kw") || name.length() == 3) {
            throw KeywayException.usage("its name does not end in .kw, so its output cannot be named", "rename it, or decrypt it alone with -o");
        }
        String plain = name.substring(0, name.length() - 3);
        if (plain.equals(".") || plain.equals("..")) {
            throw KeywayException.usage("without its .kw it would be named '" + plain + "', which is a directory, not a file name",
                    "rename it, or decrypt it alone with -o");
        }
        return plain;
    }

    /** Where one file's plaintext goes, opened only once the file has passed every check that needs no decryption. */
    private interface SinkOpener {
        Sink open();
    }

    /**
     * Decrypts one input: every check, then the output, which appears only when the whole file authenticated
     * (and, with a replay guard, inside its transaction).
     */
    private void decryptOne(InputStream in, SinkOpener opener, ReplayGuard shared, boolean single) throws IOException {
        Instant now = Instant.now();
        EnvelopeReader reader = EnvelopeReader.open(in, maxRecipients);
        Header h = reader.header();
        try (SessionKey fileKey = fileKey(reader)) {
            reader.authenticate(fileKey);
            if (escrowAuthority != null) {
                reader.checkEscrow(fileKey, escrowAuthority);
            }
            checkSigner(h, expected);
            ReplayGuard.checkExpiry(h, now);
            if (age != null) {
                ReplayGuard.checkTimes(h, now, age);
            }
            // One file alone opens the replay database only now, once the file has passed the checks above.
            try (ReplayGuard own = single && replayDb != null ? ReplayGuard.open(replayDb) : null) {
                decrypt(reader, fileKey, opener, own != null ? own : shared, single);
            }
        }
    }

    private void decrypt(EnvelopeReader reader, SessionKey fileKey, SinkOpener opener, ReplayGuard guard, boolean single) throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        Header h = reader.header();
        if (guard != null) {
            // One database connection for the run: its transactions go one at a time.
            synchronized (guard) {
                guard.check(h, Instant.now(), age);
            }
        }
        if (showSessionKey) {
            byte[] k = fileKey.bytes();
            err.println(Hex.encode(k));
            err.flush();
            Arrays.fill(k, (byte) 0);
        }
        try (Sink sink = opener.open()) {
            EnvelopeReader.Result result = reader.decrypt(fileKey, sink.stream());
            sink.sync();
            if (guard != null) {
                // The output appears inside the guard's transaction: if it cannot, the id is not used up.
                synchronized (guard) {
                    guard.accept(h, result.signer(), Instant.now(), sink::commit);
                }
            } else {
                sink.commit();
            }
            if (result.signer() != null && expected == null) {
                if (single) {
                    err.println("keyway: good signature from sender " + result.signer().idHex()
                            + " (give --expect-signer RECIPIENT to require a particular sender)");
                    err.flush();
                } else {
                    batchSigners.add(result.signer().idHex());
                }
            }
        }
    }

    private SessionKey fileKey(EnvelopeReader reader) {
        Header h = reader.header();
        if (sessionKeyHex != null) {
            byte[] k = Hex.decode(sessionKeyHex.strip(), "--session-key");
            try {
                return SessionKey.of(h.aead().algorithm(), k);
            } catch (KeywayException e) {
                throw new KeywayException(ErrorCode.AUTH_FAILED, "--session-key is not this file's key (" + k.length + " bytes)",
                        "give the 64 hex digits printed by --show-session-key");
            } finally {
                Arrays.fill(k, (byte) 0);
            }
        }
        if (reader.isPassphraseFile()) {
            if (!identities.isEmpty()) {
                throw KeywayException.usage("this file is encrypted with a passphrase, not to an identity", "give --passphrase-file FILE");
            }
            byte[] pass = batchPassphrase();
            if (pass != null) {
                return reader.unwrapWithPassphrase(pass);
            }
            pass = passphraseFile != null ? CliIo.readSecret(passphraseFile, "passphrase file")
                    : CliIo.promptPassphrase("Passphrase", "--passphrase-file", false);
            try {
                return reader.unwrapWithPassphrase(pass);
            } finally {
                Arrays.fill(pass, (byte) 0);
            }
        }
        if (identities.isEmpty()) {
            throw KeywayException.usage("no identity given", "give -i IDENTITY (or --session-key HEX)");
        }
        if (!ids.isEmpty()) {
            return reader.unwrap(ids); // a batch: read once for every file
        }
        List<Identity> read = new ArrayList<>();
        try {
            read.addAll(CliIo.readIdentities(identities, identityPassphraseFile));
            return reader.unwrap(read);
        } finally {
            read.forEach(Identity::destroy);
        }
    }

    /**
     * In a batch, the passphrase for passphrase-encrypted files: from --passphrase-file (read at the start), or asked
     * once on the terminal when the first such file comes; null outside a batch.
     */
    private synchronized byte[] batchPassphrase() {
        if (outputDir == null && inputs.size() <= 1) {
            return null;
        }
        if (passphrase == null) {
            passphrase = CliIo.promptPassphrase("Passphrase", "--passphrase-file", false);
        }
        return passphrase;
    }

    private static void checkSigner(Header h, Recipient expected) {
        if (expected == null) {
            return;
        }
        if (!h.signed()) {
            throw KeywayException.authFailed("the file is not signed, but --expect-signer was given",
                    "ask the sender to encrypt with --sign-with");
        }
        if (!h.sender().equals(expected)) {
            throw KeywayException.authFailed("the file is signed by " + h.sender().idHex() + ", not by the expected signer "
                    + expected.idHex(), "do not trust this file");
        }
    }
}
