package dev.keyway.core.kdf;

/** The TLS versions whose key derivations Keyway knows, with their wire codes. */
public enum TlsVersion {
    TLS10(0x0301, "TLS 1.0"),
    TLS11(0x0302, "TLS 1.1"),
    TLS12(0x0303, "TLS 1.2"),
    TLS13(0x0304, "TLS 1.3");

    private final int code;
    private final String label;

    TlsVersion(int code, String label) {
        this.code = code;
        this.label = label;
    }

    /** The two-byte value on the wire (ProtocolVersion). */
    public int code() {
        return code;
    }

    /** The version for a wire code, or null when it is not one of these. */
    public static TlsVersion ofCode(int code) {
        for (TlsVersion v : values()) {
            if (v.code == code) {
                return v;
            }
        }
        return null;
    }

    /** "1.0", "1.1", "1.2" or "1.3" as a user would type it. */
    public static TlsVersion parse(String text) {
        for (TlsVersion v : values()) {
            if (v.label.equals("TLS " + text) || v.label.equalsIgnoreCase(text) || v.name().equalsIgnoreCase(text)) {
                return v;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return label;
    }
}
