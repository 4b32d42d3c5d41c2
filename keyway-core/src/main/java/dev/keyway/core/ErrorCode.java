package dev.keyway.core;

/**
 * Stable error codes. The CLI maps each to an exit code (see DESIGN.md, "Errors and exit codes");
 * the names are part of the JSON error output and must not be renamed.
 */
public enum ErrorCode {
    /** I/O failure reading or writing a file or stream. */
    IO(1),
    /** A bug or an environment problem Keyway cannot explain better. */
    INTERNAL(1),
    /** Bad flag, missing argument, conflicting options. */
    USAGE(2),
    /** Input that is not in the expected format: bad hex, bad armor, unknown type, absurd length. */
    MALFORMED(2),
    /** A version or critical field this build of Keyway does not know. */
    UNSUPPORTED(2),
    /** Wrong key or identity, tampered or truncated data, bad MAC or signature. */
    AUTH_FAILED(3),
    /** Refused by policy: key too short or too long, parameters outside the allowed range. */
    POLICY(4),
    /** A peer or the network failed. */
    PEER(5);

    private final int exitCode;

    ErrorCode(int exitCode) {
        this.exitCode = exitCode;
    }

    /** The process exit code the CLI uses for this error. */
    public int exitCode() {
        return exitCode;
    }
}
