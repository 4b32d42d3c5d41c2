package dev.keyway.core.keys;

import java.security.SecureRandom;

/** Makes random session keys. */
public final class SessionKeys {
    private static final SecureRandom RANDOM = new SecureRandom();

    private SessionKeys() {
    }

    /** A fresh key of the algorithm's default length. */
    public static SessionKey generate(Algorithm algorithm) {
        return generate(algorithm, algorithm.defaultBits());
    }

    /**
     * A fresh key drawn from {@link SecureRandom}.
     *
     * @throws dev.keyway.core.KeywayException with code POLICY when {@code bits} is outside the policy
     */
    public static SessionKey generate(Algorithm algorithm, int bits) {
        algorithm.checkBits(bits);
        byte[] key = new byte[algorithm.keyBytes(bits)];
        RANDOM.nextBytes(key);
        if (algorithm.family() == Algorithm.Family.DES_PARITY) {
            setOddParity(key);
        }
        return SessionKey.adopt(algorithm, key);
    }

    /** DES keys carry odd parity in the low bit of each byte (FIPS 46-3). */
    static void setOddParity(byte[] key) {
        for (int i = 0; i < key.length; i++) {
            int b = key[i] & 0xfe;
            key[i] = (byte) (b | ((Integer.bitCount(b) & 1) == 0 ? 1 : 0));
        }
    }
}
