package dev.keyway.core.keys;

import dev.keyway.core.KeywayException;

import javax.crypto.spec.SecretKeySpec;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * A session key: key bytes bound to the algorithm they are for. Immutable until destroyed; never printed
 * by {@link #toString()}. Call {@link #destroy()} (or use try-with-resources) when done so the bytes are
 * zeroed.
 */
public final class SessionKey extends Secret implements AutoCloseable {
    private final Algorithm algorithm;
    private final byte[] key;

    private SessionKey(Algorithm algorithm, byte[] key) {
        super(key);
        this.algorithm = algorithm;
        this.key = key;
    }

    /**
     * Wraps existing key bytes, checking them against the algorithm's key-length policy. The bytes are
     * copied. DES parity bits are not checked: DES ignores them, and old software often left them wrong.
     */
    public static SessionKey of(Algorithm algorithm, byte[] key) {
        Objects.requireNonNull(algorithm, "algorithm");
        int bits = algorithm.bitsForBytes(key.length);
        if (bits < 0) {
            throw KeywayException.policy("a " + key.length + "-byte key does not fit " + algorithm.name(),
                    "use " + algorithm.allowedRange() + " (" + algorithm.keyBytes(algorithm.defaultBits()) + " bytes by default)");
        }
        algorithm.checkBits(bits);
        return new SessionKey(algorithm, key.clone());
    }

    /** Takes ownership of {@code key} without copying; for generators inside this package. */
    static SessionKey adopt(Algorithm algorithm, byte[] key) {
        return new SessionKey(algorithm, key);
    }

    public Algorithm algorithm() {
        return algorithm;
    }

    /** Effective key length in bits. */
    public int bits() {
        return algorithm.bitsForBytes(key.length);
    }

    public int length() {
        return key.length;
    }

    /** A copy of the key bytes; the caller should zero it when done. */
    public byte[] bytes() {
        return copy(key);
    }

    /** The key as a JCA key for {@code jcaAlgorithm} (e.g. "AES"). */
    public SecretKeySpec toSecretKeySpec(String jcaAlgorithm) {
        checkAlive();
        return new SecretKeySpec(key, jcaAlgorithm);
    }

    /** Constant-time comparison of algorithm and bytes. */
    public boolean sameKeyAs(SessionKey other) {
        checkAlive();
        return algorithm.equals(other.algorithm) && MessageDigest.isEqual(key, other.key);
    }

    @Override
    public void close() {
        destroy();
    }

    @Override
    protected String describe() {
        return algorithm.name() + ", " + bits() + " bits";
    }
}
