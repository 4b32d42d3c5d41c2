package dev.keyway.envelope;

import dev.keyway.core.keys.Algorithm;
import dev.keyway.core.keys.Algorithms;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.Locale;

/** The AEAD that seals the body's chunks; the JDK's implementations (AES and GHASH intrinsics). */
public enum PayloadAead {
    AES_256_GCM(1, "aes-256-gcm", Algorithms.AES_256_GCM, "AES/GCM/NoPadding", "AES"),
    CHACHA20_POLY1305(2, "chacha20-poly1305", Algorithms.CHACHA20_POLY1305, "ChaCha20-Poly1305", "ChaCha20");

    public static final PayloadAead DEFAULT = AES_256_GCM;
    static final int TAG = 16;
    static final int NONCE = 12;

    private final int code;
    private final String id;
    private final Algorithm algorithm;
    private final String transformation;
    private final String keyAlgorithm;

    PayloadAead(int code, String id, Algorithm algorithm, String transformation, String keyAlgorithm) {
        this.code = code;
        this.id = id;
        this.algorithm = algorithm;
        this.transformation = transformation;
        this.keyAlgorithm = keyAlgorithm;
    }

    public int code() {
        return code;
    }

    /** The name used on the command line and in {@code inspect}. */
    public String id() {
        return id;
    }

    /** The algorithm the file key is tagged with in its key blobs. */
    public Algorithm algorithm() {
        return algorithm;
    }

    static PayloadAead byCode(int code) {
        for (PayloadAead a : values()) {
            if (a.code == code) {
                return a;
            }
        }
        return null;
    }

    /** Parses a command-line name; null if unknown. */
    public static PayloadAead byId(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (PayloadAead a : values()) {
            if (a.id.equals(n)) {
                return a;
            }
        }
        return null;
    }

    Cipher newCipher() {
        try {
            return Cipher.getInstance(transformation);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(transformation + " is not available in this JDK", e);
        }
    }

    void init(Cipher cipher, int mode, SecretKeySpec key, byte[] nonce) throws GeneralSecurityException {
        if (this == AES_256_GCM) {
            cipher.init(mode, key, new GCMParameterSpec(TAG * 8, nonce));
        } else {
            cipher.init(mode, key, new IvParameterSpec(nonce));
        }
    }

    SecretKeySpec keySpec(byte[] key) {
        return new SecretKeySpec(key, keyAlgorithm);
    }
}
