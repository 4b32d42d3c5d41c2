package dev.keyway.envelope;

import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The body's STREAM construction (docs/FORMAT.md, "Body: STREAM"): chunk {@code i} is sealed under the
 * payload key with nonce {@code i || last}. Chunks are independent, so large bodies are sealed and opened
 * on worker threads while the calling thread reads, writes and hashes in order; results are always
 * consumed in chunk order, so nothing after a failed chunk is ever released.
 */
final class Stream implements AutoCloseable {
    static final int CHUNK = 1 << Header.CHUNK_SHIFT;
    static final int SEALED_CHUNK = CHUNK + PayloadAead.TAG;
    static final int SIGNATURE = 64;
    private static final byte[] SIGNATURE_CONTEXT = "keyway envelope signature v1\0".getBytes(StandardCharsets.US_ASCII);
    /** Chunks in flight per worker: enough to keep workers busy while the caller does I/O. */
    private static final int DEPTH_PER_WORKER = 3;
    private static final int MAX_WORKERS = 4;

    /** One chunk's buffers and outcome. {@code in} has room for a lookahead beyond a sealed chunk. */
    static final class Slot {
        final byte[] in;
        final byte[] out = new byte[SEALED_CHUNK];
        int inLength;
        int outLength;
        long index;
        boolean last;
        GeneralSecurityException error;

        Slot(int inCapacity) {
            in = new byte[inCapacity];
        }
    }

    private final PayloadAead aead;
    private final SecretKeySpec key;
    private final boolean seal;
    private final ThreadLocal<Cipher> ciphers;
    private final int workerCount;
    private ExecutorService workers;
    private final ArrayDeque<Future<Slot>> pending = new ArrayDeque<>();
    private final ArrayDeque<Slot> free = new ArrayDeque<>();
    private final int inCapacity;
    private int created;

    /**
     * @param seal       true to seal (encrypt), false to open
     * @param inCapacity size of each slot's input buffer
     * @param parallel   use worker threads (for bodies that are not known to be small)
     */
    Stream(PayloadAead aead, byte[] payloadKey, boolean seal, int inCapacity, boolean parallel) {
        this.aead = aead;
        this.key = aead.keySpec(payloadKey);
        Arrays.fill(payloadKey, (byte) 0);
        this.seal = seal;
        this.ciphers = ThreadLocal.withInitial(aead::newCipher);
        this.inCapacity = inCapacity;
        this.workerCount = parallel ? Math.min(MAX_WORKERS, Runtime.getRuntime().availableProcessors()) : 0;
    }

    /** Receives finished chunks in order. */
    interface Sink {
        void accept(Slot slot) throws IOException;
    }

    /**
     * A slot to fill. When every slot is in flight, the oldest chunk is finished first and handed to
     * {@code sink} (and an open failure is thrown as a GeneralSecurityException naming its chunk).
     */
    Slot next(Sink sink) throws IOException, GeneralSecurityException {
        int slots = workers == null ? 1 : workerCount * DEPTH_PER_WORKER;
        if (free.isEmpty() && created < slots) {
            created++;
            return new Slot(inCapacity);
        }
        if (free.isEmpty()) {
            finishOldest(sink);
        }
        return free.poll();
    }

    /** Seals or opens {@code slot} (its in, inLength, index and last are set), now or on a worker. */
    void submit(Slot slot, Sink sink) throws IOException, GeneralSecurityException {
        if (workers == null && workerCount > 1 && slot.index == 2 && !slot.last) {
            // A body of three chunks or more: worth starting the workers (small messages stay on one thread).
            workers = Executors.newFixedThreadPool(workerCount, r -> {
                Thread t = new Thread(r, "keyway-chunks");
                t.setDaemon(true);
                return t;
            });
        }
        if (workers == null) {
            process(slot);
            deliver(slot, sink);
            return;
        }
        pending.add(workers.submit(() -> {
            process(slot);
            return slot;
        }));
    }

    /** Finishes every chunk in flight, in order. */
    void drain(Sink sink) throws IOException, GeneralSecurityException {
        while (!pending.isEmpty()) {
            finishOldest(sink);
        }
    }

    private void finishOldest(Sink sink) throws IOException, GeneralSecurityException {
        Slot slot;
        try {
            slot = pending.poll().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("chunk worker failed", e.getCause());
        }
        deliver(slot, sink);
    }

    private void deliver(Slot slot, Sink sink) throws IOException, GeneralSecurityException {
        if (slot.error != null) {
            GeneralSecurityException e = slot.error;
            slot.error = null;
            throw new ChunkFailure(slot.index, e);
        }
        sink.accept(slot);
        free.add(slot);
    }

    private void process(Slot slot) {
        Cipher cipher = ciphers.get();
        try {
            aead.init(cipher, seal ? Cipher.ENCRYPT_MODE : Cipher.DECRYPT_MODE, key, nonce(slot.index, slot.last));
            slot.outLength = cipher.doFinal(slot.in, 0, slot.inLength, slot.out, 0);
        } catch (GeneralSecurityException e) {
            slot.error = e;
        }
    }

    /** A chunk that did not authenticate. */
    static final class ChunkFailure extends GeneralSecurityException {
        final long index;

        ChunkFailure(long index, GeneralSecurityException cause) {
            super("chunk " + index, cause);
            this.index = index;
        }
    }

    static byte[] nonce(long index, boolean last) {
        byte[] nonce = new byte[PayloadAead.NONCE];
        // An 11-byte big-endian counter: the top three bytes stay zero below 2^64 chunks.
        for (int i = 0; i < 8; i++) {
            nonce[3 + i] = (byte) (index >>> (56 - 8 * i));
        }
        nonce[11] = (byte) (last ? 1 : 0);
        return nonce;
    }

    @Override
    public void close() {
        if (workers != null) {
            workers.shutdownNow();
        }
        for (Slot s : free) {
            Arrays.fill(seal ? s.in : s.out, (byte) 0);
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the sender signs, given the SHA-256 of every byte before the signature. */
    static byte[] signedMessage(byte[] digest) {
        byte[] m = Arrays.copyOf(SIGNATURE_CONTEXT, SIGNATURE_CONTEXT.length + digest.length);
        System.arraycopy(digest, 0, m, SIGNATURE_CONTEXT.length, digest.length);
        return m;
    }

    /** Reads until {@code len} bytes or the end of input; the count read. */
    static int readFully(java.io.InputStream in, byte[] b, int off, int len) throws IOException {
        int total = 0;
        while (total < len) {
            int n = in.read(b, off + total, len - total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }
}
