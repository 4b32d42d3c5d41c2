package dev.keyway.core.blob;

import dev.keyway.core.identity.KeyType;

/** How a key blob protects its session key. Codes are stable: they are written into blobs. */
public enum BlobScheme {
    HPKE_X25519(1, "hpke-x25519", KeyType.X25519),
    HPKE_XWING(2, "hpke-xwing", KeyType.XWING),
    HPKE_P256(3, "hpke-p256", KeyType.P256),
    RSA_OAEP_SHA256(4, "rsa-oaep-sha256", KeyType.RSA3072),
    AES_KWP(5, "aes-kwp", null);

    private final int code;
    private final String label;
    private final KeyType keyType;

    BlobScheme(int code, String label, KeyType keyType) {
        this.code = code;
        this.label = label;
        this.keyType = keyType;
    }

    public int code() {
        return code;
    }

    /** Name used in JSON output and docs. */
    public String label() {
        return label;
    }

    /** The identity type that can unwrap it, or null for a key-encryption key. */
    public KeyType keyType() {
        return keyType;
    }

    static BlobScheme byCode(int code) {
        for (BlobScheme s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return null;
    }

    static BlobScheme forKeyType(KeyType type) {
        for (BlobScheme s : values()) {
            if (s.keyType == type) {
                return s;
            }
        }
        throw new IllegalArgumentException(type.id());
    }
}
