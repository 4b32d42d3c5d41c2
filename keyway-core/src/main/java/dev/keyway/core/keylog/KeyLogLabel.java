package dev.keyway.core.keylog;

/**
 * The labels of RFC 9850 with the secret lengths they allow. TLS 1.3 secrets are as long as the suite's
 * hash (32 or 48 bytes); CLIENT_RANDOM carries the 48-byte TLS 1.2 master secret; the ECH labels carry
 * values of other lengths.
 */
public enum KeyLogLabel {
    CLIENT_RANDOM(48, 48),
    CLIENT_EARLY_TRAFFIC_SECRET(32, 64),
    EARLY_EXPORTER_SECRET(32, 64),
    CLIENT_HANDSHAKE_TRAFFIC_SECRET(32, 64),
    SERVER_HANDSHAKE_TRAFFIC_SECRET(32, 64),
    CLIENT_TRAFFIC_SECRET_0(32, 64),
    SERVER_TRAFFIC_SECRET_0(32, 64),
    EXPORTER_SECRET(32, 64),
    ECH_SECRET(16, 64),
    ECH_CONFIG(1, 65535);

    private final int minLength;
    private final int maxLength;

    KeyLogLabel(int minLength, int maxLength) {
        this.minLength = minLength;
        this.maxLength = maxLength;
    }

    /** Whether a secret of {@code length} bytes fits this label. Hash-length secrets are 32, 48 or 64. */
    public boolean allowsLength(int length) {
        if (this == ECH_SECRET || this == ECH_CONFIG || this == CLIENT_RANDOM) {
            return length >= minLength && length <= maxLength;
        }
        return length == 32 || length == 48 || length == 64;
    }

    /** A description of the allowed lengths for error messages. */
    public String lengths() {
        if (this == CLIENT_RANDOM) {
            return "48 bytes";
        }
        if (this == ECH_SECRET || this == ECH_CONFIG) {
            return minLength + " to " + maxLength + " bytes";
        }
        return "32, 48 or 64 bytes (the suite's hash length)";
    }

    /** The label for this text, or null when RFC 9850 does not define it. */
    public static KeyLogLabel of(String text) {
        for (KeyLogLabel l : values()) {
            if (l.name().equals(text)) {
                return l;
            }
        }
        return null;
    }
}
