package dev.keyway.core;

import java.util.Objects;

/**
 * The one exception Keyway throws for anything a user can cause. The message says what is wrong;
 * {@link #hint()} says what to do, in the library's terms (a library does not know the flags of the program
 * using it). Where the hint asks the caller to change a setting, {@link #hintId()} names that hint, so a front
 * end can say it in its own terms: the CLI names its flags. Neither message nor hint ever contains key material.
 */
public class KeywayException extends RuntimeException {
    private final ErrorCode code;
    private final String hint;
    private String hintId;

    public KeywayException(ErrorCode code, String message, String hint) {
        this(code, message, hint, null);
    }

    public KeywayException(ErrorCode code, String message, String hint, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.code = Objects.requireNonNull(code, "code");
        this.hint = hint;
    }

    public ErrorCode code() {
        return code;
    }

    /** What the user can do about it, or null when there is nothing useful to say. */
    public String hint() {
        return hint;
    }

    /**
     * A stable name for this exception's hint (e.g. {@code "envelope.no-recipient"}), declared as a constant
     * beside the code that throws it; null for a hint that needs no translation.
     */
    public String hintId() {
        return hintId;
    }

    /** Names the hint (see {@link #hintId()}); set once, when the exception is made. Returns this exception. */
    public KeywayException hintId(String id) {
        if (hintId != null) {
            throw new IllegalStateException("the hint id is already " + hintId);
        }
        this.hintId = id;
        return this;
    }

    /** One line: {@code <what is wrong>: <what to do>}. */
    public String oneLine() {
        return hint == null || hint.isEmpty() ? getMessage() : getMessage() + ": " + hint;
    }

    public static KeywayException malformed(String message, String hint) {
        return new KeywayException(ErrorCode.MALFORMED, message, hint);
    }

    public static KeywayException usage(String message, String hint) {
        return new KeywayException(ErrorCode.USAGE, message, hint);
    }

    public static KeywayException policy(String message, String hint) {
        return new KeywayException(ErrorCode.POLICY, message, hint);
    }

    public static KeywayException authFailed(String message, String hint) {
        return new KeywayException(ErrorCode.AUTH_FAILED, message, hint);
    }
}
