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

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

@Command(name = "decrypt", mixinStandardHelpOptions = true,
        header = "Decrypt a file made by 'keyway encrypt'.",
        description = {"Decrypt with an identity the file was encrypted to, a passphrase, or a revealed session key. Every chunk is authenticated; a signed file's signature is checked at the end. With -o the plaintext appears under its name only after every check passed (otherwise no file exists and the exit code is 3 or 4). To standard output it is streamed: a failure may leave partial output, so discard it unless the exit code is 0.",
                "",
                "Replay guard (--replay-db): refuses a message id seen before, a message older than --max-age (default 5m) or from the future, and a serial not above the signer's last one (exit 4). A message past its expiry time is refused with or without the guard.",
                "",
                "Escrow check (--require-escrow, or an escrow policy: docs/ENVELOPE.md): refuses, before any output, a file whose escrow stanza is missing, made for another authority, or does not recompute from the file key (exit 4): the authority could not give its key back to its owner."})
final class DecryptCommand implements Runnable {
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

    @Parameters(index = "0", arity = "0..1", paramLabel = "IN", description = "The encrypted file, binary or armored ('-' or nothing: standard input).")
    String input;

    @Override
    public void run() {
        PrintWriter err = spec.commandLine().getErr();
        Recipient expected = expectSigner == null ? null : Recipient.parse(expectSigner);
        Duration age = maxAge != null ? Durations.parse(maxAge, "--max-age") : replayDb != null ? ReplayGuard.DEFAULT_MAX_AGE : null;
        if (sessionKeyHex != null && !identities.isEmpty()) {
            throw KeywayException.usage("give either --session-key or -i, not both", "see 'keyway decrypt --help'");
        }
        if (noPolicy && policyFile != null) {
            throw KeywayException.usage("give --policy or --no-policy, not both", "see 'keyway decrypt --help'");
        }
        Recipient escrowAuthority = requireEscrow != null ? Recipient.parse(requireEscrow)
                : noPolicy ? null : EscrowPolicy.find(policyFile, System.getenv()).map(EscrowPolicy::authority).orElse(null);
        Instant now = Instant.now();
        try (InputStream in = Sink.input(input, err, "decrypting")) {
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
                try (ReplayGuard guard = replayDb == null ? null : ReplayGuard.open(replayDb)) {
                    if (guard != null) {
                        guard.check(h, now, age);
                    }
                    if (showSessionKey) {
                        byte[] k = fileKey.bytes();
                        err.println(Hex.encode(k));
                        err.flush();
                        Arrays.fill(k, (byte) 0);
                    }
                    try (Sink sink = Sink.open(output, true)) {
                        EnvelopeReader.Result result = reader.decrypt(fileKey, sink.stream());
                        sink.sync();
                        if (guard != null) {
                            // The output appears inside the guard's transaction: if it cannot, the id is not used up.
                            guard.accept(h, result.signer(), Instant.now(), sink::commit);
                        } else {
                            sink.commit();
                        }
                        if (result.signer() != null && expected == null) {
                            err.println("keyway: good signature from sender " + result.signer().idHex()
                                    + " (give --expect-signer RECIPIENT to require a particular sender)");
                            err.flush();
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw CliIo.ioFailure(e);
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
            byte[] pass = passphraseFile != null ? CliIo.readSecret(passphraseFile, "passphrase file")
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
        List<Identity> ids = new ArrayList<>();
        try {
            ids.addAll(CliIo.readIdentities(identities, identityPassphraseFile));
            return reader.unwrap(ids);
        } finally {
            ids.forEach(Identity::destroy);
        }
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
