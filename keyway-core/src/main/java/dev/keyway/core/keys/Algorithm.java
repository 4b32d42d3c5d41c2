package dev.keyway.core.keys;

import dev.keyway.core.KeywayException;

import java.util.List;

/**
 * A symmetric algorithm a session key is made for, with its key-length policy: the smallest, default and
 * largest key length Keyway accepts, in steps of {@code stepBits}. Lengths are effective key bits, as
 * Windows CryptoAPI reports them (DES is 56 bits though its key is 8 bytes with parity).
 *
 * @param id     stable one-byte identifier used in key blobs; never reused
 * @param status {@link Status#LEGACY} algorithms exist only to read old data
 */
public record Algorithm(String name, int id, Family family, int minBits, int defaultBits, int maxBits, int stepBits,
                        Status status, List<String> aliases, String use) {

    public enum Status { MODERN, LEGACY }

    /** How bits map to key bytes. */
    public enum Family {
        /** bytes = bits / 8 */
        PLAIN,
        /** DES family: 7 key bits in each byte, the eighth is odd parity; bits 56, 112, 168 give 8, 16, 24 bytes */
        DES_PARITY
    }

    public Algorithm {
        aliases = List.copyOf(aliases);
    }

    public boolean isLegacy() {
        return status == Status.LEGACY;
    }

    /** Whether a key of this many bits is allowed. */
    public boolean allows(int bits) {
        return bits >= minBits && bits <= maxBits && (bits - minBits) % stepBits == 0;
    }

    /** Throws {@link dev.keyway.core.ErrorCode#POLICY} when the length is outside the policy. */
    public void checkBits(int bits) {
        if (!allows(bits)) {
            throw KeywayException.policy(name + " does not take a " + bits + "-bit key",
                    "use " + allowedRange() + " (default " + defaultBits + ")");
        }
    }

    /** The allowed lengths in words, e.g. "128 bits" or "40 to 128 bits in steps of 8". */
    public String allowedRange() {
        if (minBits == maxBits) {
            return minBits + " bits";
        }
        return minBits + " to " + maxBits + " bits in steps of " + stepBits;
    }

    /** Key size in bytes for a key of {@code bits} effective bits. */
    public int keyBytes(int bits) {
        return family == Family.DES_PARITY ? bits / 7 : bits / 8;
    }

    /** Effective bits of a key of {@code bytes} bytes, or -1 when no length in the policy has that size. */
    public int bitsForBytes(int bytes) {
        int bits = family == Family.DES_PARITY ? bytes * 7 : bytes * 8;
        return keyBytes(bits) == bytes ? bits : -1;
    }
}
