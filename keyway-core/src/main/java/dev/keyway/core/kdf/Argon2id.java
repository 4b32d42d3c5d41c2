package dev.keyway.core.kdf;

import java.util.Arrays;

import org.bouncycastle.crypto.digests.Blake2bDigest;

/**
 * Argon2id (RFC 9106, version 0x13) with the lanes of each slice filled in parallel.
 *
 * <p>Why this exists: Bouncy Castle's {@code Argon2BytesGenerator} fills the {@code p} lanes one
 * after another on the calling thread, so on a multi-core machine {@code p > 1} buys no speed,
 * while the reference implementation (and so any attacker) fills lanes in threads. RFC 9106
 * section 3.4 only makes lanes wait for each other at the four slice boundaries of each pass, so
 * this class fills the segments of one slice concurrently and synchronises between slices. The
 * output is byte-identical to RFC 9106 (and to Bouncy Castle and the reference {@code argon2}
 * tool).
 *
 * <p>Structure, by RFC 9106 section, in three classes:
 * <ul>
 *   <li>here: 3.1 parameter limits, checked up front ({@link IllegalArgumentException} otherwise);
 *       3.2 H0, the first two blocks of every lane and the final XOR / tag; 3.3 the variable-length
 *       hash H' (BLAKE2b from Bouncy Castle is H), and the little-endian encodings they use;</li>
 *   <li>{@link Argon2Memory}: 3.2 the passes and 3.4 indexing (data-independent addresses for the
 *       first two slices of pass 0, the "i" half of Argon2id, data-dependent afterwards), lanes
 *       filled in parallel;</li>
 *   <li>{@link Argon2Compression}: 3.5 / 3.6 the compression function G and its BlaMka-based
 *       permutation P.</li>
 * </ul>
 *
 * <p>Memory is one flat {@code long[]} (128 words per 1 KiB block), so block {@code j} of lane
 * {@code i} starts at word {@code (i * q + j) * 128}. This caps m' at 2^24 - 1 blocks (just under
 * 16 GiB), the most one Java array can hold; larger m is rejected rather than silently reduced.
 *
 * <p>Thread safety: stateless; concurrent calls are independent. Helper threads come from one
 * shared pool of daemon threads named {@code keyway-argon2-N}; the calling thread always fills
 * lanes itself too, so a busy pool only costs speed, never progress.
 */
public final class Argon2id {
    private static final int VERSION = 0x13;
    /** y in RFC 9106 section 3.2: 0 = Argon2d, 1 = Argon2i, 2 = Argon2id. */
    static final int TYPE_ARGON2ID = 2;
    static final int SYNC_POINTS = 4;
    private static final int BLOCK_BYTES = 1024;
    static final int BLOCK_WORDS = 128;
    private static final int MAX_LANES = (1 << 24) - 1;
    private static final int MIN_SALT_BYTES = 8;
    private static final int MIN_TAG_BYTES = 4;
    /** Largest block count whose word count still fits a Java array index. */
    private static final int MAX_BLOCKS = (Integer.MAX_VALUE - 8) / BLOCK_WORDS;
    static final long LOW32 = 0xFFFFFFFFL;
    private static final byte[] EMPTY = new byte[0];

    private Argon2id() {}

    /**
     * Derives an Argon2id tag (RFC 9106 section 3.2, type y = 2, version 0x13).
     *
     * @param password       P; may be empty, must not be null
     * @param salt           S; at least 8 bytes (RFC 9106 section 3.1)
     * @param secret         K, the optional secret value; null means none
     * @param associatedData X, the optional associated data; null means none
     * @param memoryKiB      m, in KiB; the block count is rounded down to a multiple of 4p as RFC 9106 says.
     * @param iterations     t, the number of passes, at least 1
     * @param parallelism    p, the number of lanes, 1 to 2^24 - 1
     * @param tagLength      T, the tag length in bytes, at least 4
     * @return a new array of {@code tagLength} bytes
     * @throws IllegalArgumentException if a parameter is outside RFC 9106 section 3.1 limits, or m
     *                                  exceeds what one Java array can hold (2^24 - 1 KiB after rounding)
     */
    public static byte[] derive(byte[] password, byte[] salt, byte[] secret, byte[] associatedData,
                                int memoryKiB, int iterations, int parallelism, int tagLength) {
        if (password == null) {
            throw new IllegalArgumentException("Argon2id password must not be null (use an empty array)");
        }
        if (salt == null || salt.length < MIN_SALT_BYTES) {
            throw new IllegalArgumentException("Argon2id salt must be at least " + MIN_SALT_BYTES
                    + " bytes (RFC 9106 section 3.1), got " + (salt == null ? "null" : salt.length));
        }
        if (parallelism < 1 || parallelism > MAX_LANES) {
            throw new IllegalArgumentException("Argon2id parallelism must be 1 to " + MAX_LANES
                    + " (RFC 9106 section 3.1), got " + parallelism);
        }
        if ((long) memoryKiB < 8L * parallelism) {
            throw new IllegalArgumentException("Argon2id memory must be at least 8 * parallelism = "
                    + 8L * parallelism + " KiB (RFC 9106 section 3.1), got " + memoryKiB);
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("Argon2id iterations must be at least 1, got " + iterations);
        }
        if (tagLength < MIN_TAG_BYTES) {
            throw new IllegalArgumentException("Argon2id tag length must be at least " + MIN_TAG_BYTES
                    + " bytes (RFC 9106 section 3.1), got " + tagLength);
        }
        int laneLength = memoryKiB / (SYNC_POINTS * parallelism) * SYNC_POINTS;
        long blocks = (long) laneLength * parallelism;
        if (blocks > MAX_BLOCKS) {
            throw new IllegalArgumentException("Argon2id memory of " + memoryKiB
                    + " KiB is too large for this implementation (at most " + MAX_BLOCKS + " KiB)");
        }
        byte[] k = secret == null ? EMPTY : secret;
        byte[] x = associatedData == null ? EMPTY : associatedData;

        Argon2Memory inst = new Argon2Memory(parallelism, laneLength, iterations);
        byte[] h0 = initialHash(password, salt, k, x, memoryKiB, iterations, parallelism, tagLength);
        try {
            fillFirstBlocks(inst, h0);
            inst.fill();
            return finish(inst, tagLength);
        } finally {
            Arrays.fill(h0, (byte) 0);
            Arrays.fill(inst.memory, 0L);
        }
    }

    /** {@link #derive(byte[], byte[], byte[], byte[], int, int, int, int)} without secret or associated data. */
    public static byte[] derive(byte[] password, byte[] salt, int memoryKiB, int iterations, int parallelism,
                                int tagLength) {
        return derive(password, salt, null, null, memoryKiB, iterations, parallelism, tagLength);
    }

    // ---------------------------------------------------------------- RFC 9106 section 3.2, steps 1-3

    private static byte[] initialHash(byte[] p, byte[] s, byte[] k, byte[] x, int m, int t, int lanes, int tagLength) {
        Blake2bDigest h = new Blake2bDigest(512);
        byte[] le = new byte[4];
        updateLe32(h, le, lanes);
        updateLe32(h, le, tagLength);
        updateLe32(h, le, m);
        updateLe32(h, le, t);
        updateLe32(h, le, VERSION);
        updateLe32(h, le, TYPE_ARGON2ID);
        updateLe32(h, le, p.length);
        h.update(p, 0, p.length);
        updateLe32(h, le, s.length);
        h.update(s, 0, s.length);
        updateLe32(h, le, k.length);
        h.update(k, 0, k.length);
        updateLe32(h, le, x.length);
        h.update(x, 0, x.length);
        byte[] out = new byte[64];
        h.doFinal(out, 0);
        return out;
    }

    private static void fillFirstBlocks(Argon2Memory inst, byte[] h0) {
        // H0 || LE32(column) || LE32(lane), the input of H'^(1024) for columns 0 and 1.
        byte[] seed = new byte[h0.length + 8];
        byte[] block = new byte[BLOCK_BYTES];
        System.arraycopy(h0, 0, seed, 0, h0.length);
        try {
            for (int lane = 0; lane < inst.lanes; lane++) {
                for (int column = 0; column < 2; column++) {
                    putLe32(seed, h0.length, column);
                    putLe32(seed, h0.length + 4, lane);
                    variableHash(seed, block, BLOCK_BYTES);
                    bytesToWords(block, inst.memory, (lane * inst.laneLength + column) * BLOCK_WORDS);
                }
            }
        } finally {
            Arrays.fill(seed, (byte) 0);
            Arrays.fill(block, (byte) 0);
        }
    }

    // ---------------------------------------------------------------- RFC 9106 section 3.2, steps 6-7

    private static byte[] finish(Argon2Memory inst, int tagLength) {
        long[] c = new long[BLOCK_WORDS];
        byte[] cBytes = new byte[BLOCK_BYTES];
        try {
            long[] mem = inst.memory;
            for (int lane = 0; lane < inst.lanes; lane++) {
                int off = (lane * inst.laneLength + inst.laneLength - 1) * BLOCK_WORDS;
                for (int w = 0; w < BLOCK_WORDS; w++) {
                    c[w] ^= mem[off + w];
                }
            }
            wordsToBytes(c, cBytes);
            byte[] tag = new byte[tagLength];
            variableHash(cBytes, tag, tagLength);
            return tag;
        } finally {
            Arrays.fill(c, 0L);
            Arrays.fill(cBytes, (byte) 0);
        }
    }

    // ---------------------------------------------------------------- RFC 9106 section 3.3

    /** H'^(T)(A): BLAKE2b directly up to 64 bytes, otherwise a chain keeping 32 bytes per link. */
    private static void variableHash(byte[] a, byte[] out, int outLength) {
        byte[] le = new byte[4];
        if (outLength <= 64) {
            Blake2bDigest h = new Blake2bDigest(outLength * 8);
            updateLe32(h, le, outLength);
            h.update(a, 0, a.length);
            h.doFinal(out, 0);
            return;
        }
        int r = (outLength + 31) / 32 - 2;
        byte[] v = new byte[64];
        try {
            Blake2bDigest h = new Blake2bDigest(512);
            updateLe32(h, le, outLength);
            h.update(a, 0, a.length);
            h.doFinal(v, 0);
            System.arraycopy(v, 0, out, 0, 32);
            for (int i = 2; i <= r; i++) {
                h.update(v, 0, 64);
                h.doFinal(v, 0);
                System.arraycopy(v, 0, out, (i - 1) * 32, 32);
            }
            int lastLength = outLength - 32 * r;
            Blake2bDigest last = new Blake2bDigest(lastLength * 8);
            last.update(v, 0, 64);
            last.doFinal(out, 32 * r);
        } finally {
            Arrays.fill(v, (byte) 0);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void updateLe32(Blake2bDigest h, byte[] scratch, int value) {
        putLe32(scratch, 0, value);
        h.update(scratch, 0, 4);
    }

    static void putLe32(byte[] b, int off, int value) {
        b[off] = (byte) value;
        b[off + 1] = (byte) (value >>> 8);
        b[off + 2] = (byte) (value >>> 16);
        b[off + 3] = (byte) (value >>> 24);
    }

    private static void bytesToWords(byte[] src, long[] dst, int dstOff) {
        for (int w = 0; w < BLOCK_WORDS; w++) {
            int o = w * 8;
            dst[dstOff + w] = (src[o] & 0xFFL)
                    | (src[o + 1] & 0xFFL) << 8
                    | (src[o + 2] & 0xFFL) << 16
                    | (src[o + 3] & 0xFFL) << 24
                    | (src[o + 4] & 0xFFL) << 32
                    | (src[o + 5] & 0xFFL) << 40
                    | (src[o + 6] & 0xFFL) << 48
                    | (src[o + 7] & 0xFFL) << 56;
        }
    }

    private static void wordsToBytes(long[] src, byte[] dst) {
        for (int w = 0; w < BLOCK_WORDS; w++) {
            long v = src[w];
            for (int b = 0; b < 8; b++) {
                dst[w * 8 + b] = (byte) (v >>> (8 * b));
            }
        }
    }

}
