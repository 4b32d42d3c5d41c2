package dev.keyway.cli;

import dev.keyway.core.identity.Identity;
import picocli.CommandLine.Option;

/** The identity a command signs its requests to the authority with: {@code -i} and its passphrase file. */
final class ClientIdentity {
    @Option(names = {"-i", "--identity"}, paramLabel = "IDENTITY", required = true,
            description = "Your identity file: the key the authority knows you by (enrolled, or to enroll).")
    String file;

    @Option(names = "--identity-passphrase-file", paramLabel = "FILE", description = "Passphrase of an encrypted identity.")
    String passphraseFile;

    /** Reads it; the caller closes (destroys) it. */
    Identity read() {
        return CliIo.readIdentity(file, passphraseFile);
    }
}
