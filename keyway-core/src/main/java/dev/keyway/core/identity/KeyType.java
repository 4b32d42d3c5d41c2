package dev.keyway.core.identity;

import dev.keyway.core.KeywayException;
import org.bouncycastle.crypto.hpke.HPKE;

import java.util.Locale;

/**
 * The key-exchange key types an identity can have. Each identity also carries an Ed25519 signing key,
 * whatever its type.
 */
public enum KeyType {
    /** X25519, wrapped with HPKE DHKEM(X25519, HKDF-SHA256). */
    X25519("x25519", 1, 32, 32),
    /** X-Wing: ML-KEM-768 + X25519 hybrid (draft-connolly-cfrg-xwing-kem), via HPKE. The default. */
    XWING("xwing", 2, 32, 1216),
    /** NIST P-256, wrapped with HPKE DHKEM(P-256, HKDF-SHA256). Public key uncompressed (65 bytes). */
    P256("p256", 3, 32, 65),
    /** RSA 3072 with OAEP (SHA-256, MGF1-SHA-256). Keys as PKCS#8 / X.509 DER. */
    RSA3072("rsa3072", 4, -1, -1);

    public static final KeyType DEFAULT = XWING;

    private final String id;
    private final int code;
    private final int privateLength;
    private final int publicLength;

    KeyType(String id, int code, int privateLength, int publicLength) {
        this.id = id;
        this.code = code;
        this.privateLength = privateLength;
        this.publicLength = publicLength;
    }

    /** The name the CLI uses: x25519, xwing, p256, rsa3072. */
    public String id() {
        return id;
    }

    /** Stable one-byte code used in binary formats. */
    public int code() {
        return code;
    }

    /** Private key length in bytes, or -1 for variable-length DER. */
    int privateLength() {
        return privateLength;
    }

    /** Public key length in bytes, or -1 for variable-length DER. */
    int publicLength() {
        return publicLength;
    }

    /**
     * The HPKE suite Keyway wraps keys with for this type: base mode, this type's KEM, HKDF-SHA256,
     * ChaCha20Poly1305. RSA is not an HPKE KEM.
     */
    public HPKE hpke() {
        short kem = switch (this) {
            case X25519 -> HPKE.kem_X25519_SHA256;
            case XWING -> HPKE.kem_X_WING;
            case P256 -> HPKE.kem_P256_SHA256;
            case RSA3072 -> throw new IllegalArgumentException("RSA is not an HPKE KEM");
        };
        return new HPKE(HPKE.mode_base, kem, HPKE.kdf_HKDF_SHA256, HPKE.aead_CHACHA20_POLY1305);
    }

    /** Bech32 prefix of recipient strings. */
    public String recipientPrefix() {
        return "kw" + id;
    }

    /** Bech32 prefix of secret key strings (upper case). */
    public String secretPrefix() {
        return "KEYWAY-SECRET-KEY-" + id.toUpperCase(Locale.ROOT) + "-";
    }

    public static KeyType byId(String id) {
        for (KeyType t : values()) {
            if (t.id.equalsIgnoreCase(id.trim())) {
                return t;
            }
        }
        throw KeywayException.usage("unknown key type '" + id + "'", "use x25519, xwing, p256 or rsa3072");
    }

    static KeyType byRecipientPrefix(String hrp) {
        for (KeyType t : values()) {
            if (t.recipientPrefix().equals(hrp)) {
                return t;
            }
        }
        return null;
    }

    static KeyType bySecretPrefix(String hrp) {
        for (KeyType t : values()) {
            if (t.secretPrefix().equalsIgnoreCase(hrp)) {
                return t;
            }
        }
        return null;
    }
}
