package dev.keyway.core.keys;

import dev.keyway.core.KeywayException;

import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.Destroyable;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;

/**
 * A session key: key bytes bound to the algorithm they are for. Immutable until destroyed; never printed
 * by {@link #toString()}. Call {@link #destroy()} (or use try-with-resources) when done so the bytes are
 * zeroed.
 */
public final class SessionKey implements Destroyable, AutoCloseable {
    private final Algorithm algorithm;
    private final byte[] key;
    private volatile boolean destroyed;

    private SessionKey(Algorithm algorithm, byte[] key) {
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
        checkAlive();
        return key.clone();
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
    public void destroy() {
        Arrays.fill(key, (byte) 0);
        destroyed = true;
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public void close() {
        destroy();
    }

    private void checkAlive() {
        if (destroyed) {
            throw new IllegalStateException("session key was destroyed");
        }
    }

    @Override
    public String toString() {
        return "SessionKey[" + algorithm.name() + ", " + bits() + " bits]";
    }
}
