package dev.keyway.tls.params;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;

/**
 * A TLS failure with the alert that goes with it: one we sent (the peer did something wrong, or our
 * checks failed) or one the peer sent us.
 */
public final class TlsException extends KeywayException {
    private final Alert alert;
    private final boolean received;

    private TlsException(Alert alert, boolean received, String message, String hint) {
        this(alert, received, ErrorCode.PEER, message, hint);
    }

    private TlsException(Alert alert, boolean received, ErrorCode code, String message, String hint) {
        super(code, message, hint);
        this.alert = alert;
        this.received = received;
    }

    /** We detected a problem and (will) send {@code alert}. */
    public static TlsException fatal(Alert alert, String message) {
        return new TlsException(alert, false, "TLS " + alert.rfcName() + ": " + message, hintFor(alert));
    }

    /**
     * Our policy refuses what the peer offers (exit status 4, refused by policy): we send {@code alert} and the
     * user reads {@code hint}, which names the setting that would allow it.
     */
    public static TlsException refused(Alert alert, String message, String hint) {
        return new TlsException(alert, false, ErrorCode.POLICY, "TLS " + alert.rfcName() + ": " + message, hint);
    }

    /** The peer sent {@code alert}. */
    public static TlsException received(Alert alert, int code) {
        String name = alert == null ? "alert " + code : alert.rfcName();
        return new TlsException(alert, true, "the peer sent a TLS " + name + " alert", "see the peer's logs for why");
    }

    public Alert alert() {
        return alert;
    }

    public boolean received() {
        return received;
    }

    private static String hintFor(Alert a) {
        return switch (a) {
            case UNKNOWN_CA -> "trust the CA that issued the peer's certificate";
            case CERTIFICATE_EXPIRED -> "the peer's certificate is outside its validity period";
            case BAD_CERTIFICATE, CERTIFICATE_UNKNOWN -> "check the peer's certificate and the server name you connect to";
            case HANDSHAKE_FAILURE -> "the two sides share no suite, group or signature scheme; compare their settings";
            case PROTOCOL_VERSION -> "the peer does not speak TLS 1.3";
            default -> "check both sides' settings; a key log helps to look at the traffic";
        };
    }
}
