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

import static dev.keyway.core.kdf.Argon2id.BLOCK_WORDS;
import static dev.keyway.core.kdf.Argon2id.LOW32;
import static dev.keyway.core.kdf.Argon2id.SYNC_POINTS;
import static dev.keyway.core.kdf.Argon2id.TYPE_ARGON2ID;

/**
 * The memory of one {@link Argon2id} derivation and its filling (RFC 9106 sections 3.2 steps 4-5 and 3.4):
 * one flat {@code long[]}, block {@code j} of lane {@code i} at word {@code (i * q + j) * 128}. The
 * segments of one slice are filled concurrently, lanes waiting for each other only at the slice
 * boundaries (the synchronisation points).
 */
final class Argon2Memory {
    final int lanes;
    final int laneLength;
    final int segmentLength;
    final int passes;
    final int blockCount;
    final long[] memory;

    Argon2Memory(int lanes, int laneLength, int passes) {
        this.lanes = lanes;
        this.laneLength = laneLength;
        this.segmentLength = laneLength / SYNC_POINTS;
        this.passes = passes;
        this.blockCount = laneLength * lanes;
        this.memory = new long[blockCount * BLOCK_WORDS];
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

    /** Runs the t passes over every lane (RFC 9106 section 3.2 steps 4-5). */
    void fill() {
        int workers = Math.min(lanes, Runtime.getRuntime().availableProcessors());
        Scratch[] scratch = new Scratch[Math.max(1, workers)];
        for (int i = 0; i < scratch.length; i++) {
            scratch[i] = new Scratch();
        }
        try {
            for (int pass = 0; pass < passes; pass++) {
                for (int slice = 0; slice < SYNC_POINTS; slice++) {
                    if (scratch.length == 1) {
                        for (int lane = 0; lane < lanes; lane++) {
                            fillSegment(this, scratch[0], pass, lane, slice);
                        }
                    } else {
                        fillSliceInParallel(this, scratch, pass, slice);
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
    private static void fillSliceInParallel(Argon2Memory inst, Scratch[] scratch, int pass, int slice) {
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
        private final Argon2Memory inst;
        private final int pass;
        private final int slice;
        private final AtomicInteger nextLane = new AtomicInteger();
        private final CountDownLatch done;
        private final AtomicReference<Throwable> failure = new AtomicReference<>();

        SliceJob(Argon2Memory inst, int pass, int slice) {
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

    private static void fillSegment(Argon2Memory inst, Scratch s, int pass, int lane, int slice) {
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

            Argon2Compression.compress(mem,
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
        Argon2Compression.permuteBlock(r);
        for (int w = 0; w < BLOCK_WORDS; w++) {
            address[w] = r[w] ^ in[w];
        }
        System.arraycopy(address, 0, r, 0, BLOCK_WORDS);
        Argon2Compression.permuteBlock(r);
        for (int w = 0; w < BLOCK_WORDS; w++) {
            address[w] ^= r[w];
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
