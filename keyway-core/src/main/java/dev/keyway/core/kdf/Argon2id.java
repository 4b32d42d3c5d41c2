package dev.keyway.core.kdf;

import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

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
 * <p>Structure, by RFC 9106 section:
 * <ul>
 *   <li>3.1 parameter limits, checked up front ({@link IllegalArgumentException} otherwise);</li>
 *   <li>3.2 H0, the first two blocks of every lane, the passes and the final XOR / tag;</li>
 *   <li>3.3 the variable-length hash H' (BLAKE2b from Bouncy Castle is H);</li>
 *   <li>3.4 indexing: data-independent addresses for the first two slices of pass 0 (the "i" half
 *       of Argon2id), data-dependent afterwards;</li>
 *   <li>3.5 / 3.6 the compression function G and its BlaMka-based permutation P.</li>
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
    private static final int TYPE_ARGON2ID = 2;
    private static final int SYNC_POINTS = 4;
    private static final int BLOCK_BYTES = 1024;
    private static final int BLOCK_WORDS = 128;
    private static final int MAX_LANES = (1 << 24) - 1;
    private static final int MIN_SALT_BYTES = 8;
    private static final int MIN_TAG_BYTES = 4;
    /** Largest block count whose word count still fits a Java array index. */
    private static final int MAX_BLOCKS = (Integer.MAX_VALUE - 8) / BLOCK_WORDS;
    private static final long LOW32 = 0xFFFFFFFFL;
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

        Instance inst = new Instance(parallelism, laneLength, iterations);
        byte[] h0 = initialHash(password, salt, k, x, memoryKiB, iterations, parallelism, tagLength);
        try {
            fillFirstBlocks(inst, h0);
            fillMemory(inst);
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

    private static final class Instance {
        final int lanes;
        final int laneLength;
        final int segmentLength;
        final int passes;
        final int blockCount;
        final long[] memory;

        Instance(int lanes, int laneLength, int passes) {
            this.lanes = lanes;
            this.laneLength = laneLength;
            this.segmentLength = laneLength / SYNC_POINTS;
            this.passes = passes;
            this.blockCount = laneLength * lanes;
            this.memory = new long[blockCount * BLOCK_WORDS];
        }
    }

    /** One filler's working blocks, so G never allocates; wiped before derive returns. */
    private static final class Scratch {
        final long[] r = new long[BLOCK_WORDS];
        final long[] z = new long[BLOCK_WORDS];
        final long[] input = new long[BLOCK_WORDS];
        final long[] address = new long[BLOCK_WORDS];

        void wipe() {
            Arrays.fill(r, 0L);
            Arrays.fill(z, 0L);
            Arrays.fill(input, 0L);
            Arrays.fill(address, 0L);
        }
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

    private static void fillFirstBlocks(Instance inst, byte[] h0) {
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

    private static byte[] finish(Instance inst, int tagLength) {
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

    // ---------------------------------------------------------------- RFC 9106 section 3.2 steps 4-5, 3.4

    private static void fillMemory(Instance inst) {
        int workers = Math.min(inst.lanes, Runtime.getRuntime().availableProcessors());
        Scratch[] scratch = new Scratch[Math.max(1, workers)];
        for (int i = 0; i < scratch.length; i++) {
            scratch[i] = new Scratch();
        }
        try {
            for (int pass = 0; pass < inst.passes; pass++) {
                for (int slice = 0; slice < SYNC_POINTS; slice++) {
                    if (scratch.length == 1) {
                        for (int lane = 0; lane < inst.lanes; lane++) {
                            fillSegment(inst, scratch[0], pass, lane, slice);
                        }
                    } else {
                        fillSliceInParallel(inst, scratch, pass, slice);
                    }
                }
            }
        } finally {
            for (Scratch s : scratch) {
                s.wipe();
            }
        }
    }

    /**
     * Fills every lane's segment of one slice, then returns only once all are done: the next slice
     * may reference any block of this one (RFC 9106 section 3.4, the synchronisation points).
     */
    private static void fillSliceInParallel(Instance inst, Scratch[] scratch, int pass, int slice) {
        SliceJob job = new SliceJob(inst, pass, slice);
        for (int w = 1; w < scratch.length; w++) {
            Scratch s = scratch[w];
            try {
                Workers.POOL.execute(() -> job.work(s));
            } catch (RejectedExecutionException e) {
                break; // the calling thread below fills whatever lanes nobody claims
            }
        }
        job.work(scratch[0]);
        job.awaitAll();
    }

    /**
     * Lanes are claimed from a counter rather than assigned, so a helper that starts late (or never,
     * when the pool is busy with other calls) just leaves its lanes to whoever is already running.
     * The counter is per slice, so a straggler from one slice can never claim lanes of the next.
     */
    private static final class SliceJob {
        private final Instance inst;
        private final int pass;
        private final int slice;
        private final AtomicInteger nextLane = new AtomicInteger();
        private final CountDownLatch done;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        SliceJob(Instance inst, int pass, int slice) {
            this.inst = inst;
            this.pass = pass;
            this.slice = slice;
            this.done = new CountDownLatch(inst.lanes);
        }

        void work(Scratch s) {
            int lane;
            while ((lane = nextLane.getAndIncrement()) < inst.lanes) {
                try {
                    if (failure.get() == null) {
                        fillSegment(inst, s, pass, lane, slice);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    // Counted down after the last touch of s and memory, so the caller may reuse or wipe them.
                    done.countDown();
                }
            }
        }

        /** Not interruptible: returning early would let the caller wipe memory that helpers still write. */
        void awaitAll() {
            boolean interrupted = false;
            while (true) {
                try {
                    done.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            Throwable t = failure.get();
            if (t instanceof RuntimeException) {
                throw (RuntimeException) t;
            }
            if (t instanceof Error) {
                throw (Error) t;
            }
            if (t != null) {
                throw new IllegalStateException("Argon2id lane filling failed", t);
            }
        }
    }

    private static void fillSegment(Instance inst, Scratch s, int pass, int lane, int slice) {
        final long[] mem = inst.memory;
        final int laneLength = inst.laneLength;
        final int segmentLength = inst.segmentLength;
        final int laneStart = lane * laneLength;
        final boolean dataIndependent = pass == 0 && slice < 2;
        // Columns 0 and 1 of every lane came from H' in fillFirstBlocks.
        final int startIndex = pass == 0 && slice == 0 ? 2 : 0;
        // Pass 0 may only look back at finished slices; later passes see the last three segments of
        // every lane, which begin right after this slice (wrapping to column 0 after the last slice).
        final int windowStart = pass == 0 || slice == SYNC_POINTS - 1 ? 0 : (slice + 1) * segmentLength;
        final int finishedBefore = pass == 0 ? slice * segmentLength : laneLength - segmentLength;
        final long[] address = s.address;

        if (dataIndependent) {
            long[] in = s.input;
            Arrays.fill(in, 0L);
            in[0] = pass;
            in[1] = lane;
            in[2] = slice;
            in[3] = inst.blockCount;
            in[4] = inst.passes;
            in[5] = TYPE_ARGON2ID;
        }

        int column = slice * segmentLength + startIndex;
        int prevColumn = column == 0 ? laneLength - 1 : column - 1;
        for (int index = startIndex; index < segmentLength; index++, column++) {
            long pseudoRandom;
            if (dataIndependent) {
                if (index == startIndex || (index & (BLOCK_WORDS - 1)) == 0) {
                    nextAddresses(s);
                }
                pseudoRandom = address[index & (BLOCK_WORDS - 1)];
            } else {
                pseudoRandom = mem[(laneStart + prevColumn) * BLOCK_WORDS];
            }

            int refLane = pass == 0 && slice == 0 ? lane : (int) ((pseudoRandom >>> 32) % inst.lanes);
            int areaSize;
            if (refLane == lane) {
                // Everything this lane has written so far, except the block being built on.
                areaSize = finishedBefore + index - 1;
            } else {
                // Another lane's finished segments; at a segment's first block, its newest block is
                // excluded because the lane that owns it may be overwriting it right now.
                areaSize = index == 0 ? finishedBefore - 1 : finishedBefore;
            }
            long j1 = pseudoRandom & LOW32;
            long x = (j1 * j1) >>> 32;
            long y = (areaSize * x) >>> 32;
            long relative = areaSize - 1 - y;
            int refColumn = (int) ((windowStart + relative) % laneLength);

            compress(mem,
                    (laneStart + prevColumn) * BLOCK_WORDS,
                    (refLane * laneLength + refColumn) * BLOCK_WORDS,
                    (laneStart + column) * BLOCK_WORDS,
                    pass > 0, s.r, s.z);
            prevColumn = column;
        }
    }

    /** Next 128 J1||J2 pairs: G(0, G(0, Z || LE64(counter) || 0...)) with the counter starting at 1. */
    private static void nextAddresses(Scratch s) {
        long[] in = s.input;
        long[] address = s.address;
        long[] r = s.r;
        in[6]++;
        System.arraycopy(in, 0, r, 0, BLOCK_WORDS);
        permuteBlock(r);
        for (int w = 0; w < BLOCK_WORDS; w++) {
            address[w] = r[w] ^ in[w];
        }
        System.arraycopy(address, 0, r, 0, BLOCK_WORDS);
        permuteBlock(r);
        for (int w = 0; w < BLOCK_WORDS; w++) {
            address[w] ^= r[w];
        }
    }

    // ---------------------------------------------------------------- RFC 9106 sections 3.5 and 3.6

    /**
     * dst = G(prev, ref), or G(prev, ref) XOR dst on passes after the first (version 0x13).
     * r becomes P applied to prev XOR ref; z keeps the value the result is XORed with, so the old
     * dst block can be folded in before dst is overwritten.
     */
    private static void compress(long[] mem, int prevOff, int refOff, int dstOff, boolean xorOld,
                                 long[] r, long[] z) {
        if (xorOld) {
            for (int w = 0; w < BLOCK_WORDS; w++) {
                long v = mem[prevOff + w] ^ mem[refOff + w];
                r[w] = v;
                z[w] = v ^ mem[dstOff + w];
            }
        } else {
            for (int w = 0; w < BLOCK_WORDS; w++) {
                long v = mem[prevOff + w] ^ mem[refOff + w];
                r[w] = v;
                z[w] = v;
            }
        }
        permuteBlock(r);
        for (int w = 0; w < BLOCK_WORDS; w++) {
            mem[dstOff + w] = r[w] ^ z[w];
        }
    }

    /**
     * The block as an 8x8 matrix of 16-byte registers: P on each row, then on each column. Register
     * k holds words 2k and 2k+1, so a row is 16 consecutive words and a column is word pairs 16
     * words apart.
     */
    private static void permuteBlock(long[] r) {
        for (int row = 0; row < 128; row += 16) {
            permuteRow(r, row);
        }
        for (int col = 0; col < 16; col += 2) {
            permuteColumn(r, col);
        }
    }

    /*
     * P (RFC 9106 section 3.6) on the 16 words v0..v15 of one row or column: GB down the four
     * columns of the 4x4 word matrix, then along its four diagonals. Rows and columns get separate
     * copies so every index is base + constant, which lets C2 merge the bounds checks; GB works on
     * array slots because 16 live longs plus temporaries spill registers anyway. In a
     * microbenchmark this was about 1.8x faster than one stride-parameterised P over locals.
     */

    private static void permuteRow(long[] v, int b) {
        gb(v, b, b + 4, b + 8, b + 12);
        gb(v, b + 1, b + 5, b + 9, b + 13);
        gb(v, b + 2, b + 6, b + 10, b + 14);
        gb(v, b + 3, b + 7, b + 11, b + 15);
        gb(v, b, b + 5, b + 10, b + 15);
        gb(v, b + 1, b + 6, b + 11, b + 12);
        gb(v, b + 2, b + 7, b + 8, b + 13);
        gb(v, b + 3, b + 4, b + 9, b + 14);
    }

    /** Word k of the column sits at b + 16 * (k / 2) + k % 2. */
    private static void permuteColumn(long[] v, int b) {
        gb(v, b, b + 32, b + 64, b + 96);
        gb(v, b + 1, b + 33, b + 65, b + 97);
        gb(v, b + 16, b + 48, b + 80, b + 112);
        gb(v, b + 17, b + 49, b + 81, b + 113);
        gb(v, b, b + 33, b + 80, b + 113);
        gb(v, b + 1, b + 48, b + 81, b + 96);
        gb(v, b + 16, b + 49, b + 64, b + 97);
        gb(v, b + 17, b + 32, b + 65, b + 112);
    }

    /** GB(a, b, c, d) of RFC 9106 section 3.6, in place. */
    private static void gb(long[] v, int ia, int ib, int ic, int id) {
        long a = v[ia];
        long b = v[ib];
        long c = v[ic];
        long d = v[id];
        a = fBlaMka(a, b);
        d = Long.rotateRight(d ^ a, 32);
        c = fBlaMka(c, d);
        b = Long.rotateRight(b ^ c, 24);
        a = fBlaMka(a, b);
        d = Long.rotateRight(d ^ a, 16);
        c = fBlaMka(c, d);
        b = Long.rotateRight(b ^ c, 63);
        v[ia] = a;
        v[ib] = b;
        v[ic] = c;
        v[id] = d;
    }

    /** a + b + 2 * trunc(a) * trunc(b) mod 2^64: BlaMka's multiplication makes GB costlier to shortcut in hardware. */
    private static long fBlaMka(long a, long b) {
        return a + b + 2 * ((a & LOW32) * (b & LOW32));
    }

    // ---------------------------------------------------------------- helpers

    private static void updateLe32(Blake2bDigest h, byte[] scratch, int value) {
        putLe32(scratch, 0, value);
        h.update(scratch, 0, 4);
    }

    private static void putLe32(byte[] b, int off, int value) {
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

    /**
     * Shared helpers for every call, created on first parallel use. Daemon threads so a library
     * never keeps a JVM alive; idle threads time out so an idle application holds none.
     */
    private static final class Workers {
        static final ExecutorService POOL = newPool();

        private static ExecutorService newPool() {
            // The calling thread is always one of the fillers, so the pool needs one thread fewer
            // than the processors it can use.
            int threads = Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
            AtomicInteger counter = new AtomicInteger();
            ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), task -> {
                        Thread t = new Thread(task, "keyway-argon2-" + counter.incrementAndGet());
                        t.setDaemon(true);
                        return t;
                    });
            pool.allowCoreThreadTimeOut(true);
            return pool;
        }
    }
}
