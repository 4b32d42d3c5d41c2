package dev.keyway.envelope;

import java.io.InterruptedIOException;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The SHA-256 a signed file's signature covers (header, then every sealed chunk), computed beside the AEAD: after
 * the first {@link #INLINE_BYTES} the chunks are copied into a few buffers that a second thread hashes while the
 * caller seals or opens the next chunk, so on two cores a signed file costs about max(AEAD, SHA-256) per byte instead
 * of their sum. The digest is the same as hashing the same bytes in order on one thread: the chunks are hashed in the
 * order given, by one thread at a time.
 *
 * <p>Use from one thread. {@link #digest()} waits for every chunk given; {@link #close()} stops the second thread
 * if the caller gives up part-way (a failed chunk), so no thread outlives the file.
 */
final class ChunkHasher implements AutoCloseable {
    /** Small files are hashed on the caller's thread: a thread costs more than hashing this much. */
    static final int INLINE_BYTES = 2 * Stream.SEALED_CHUNK;
    private static final int BUFFERS = 4;
    private static final byte[] END = new byte[0];

    private final MessageDigest md;
    private long inline;
    private BlockingQueue<byte[]> free;
    private BlockingQueue<byte[]> full;
    private BlockingQueue<Integer> lengths;
    private Thread thread;
    private boolean finished;

    ChunkHasher(MessageDigest md) {
        this.md = md;
    }

    /** Adds {@code b[off, off + len)} to the hash (copied: the caller may reuse {@code b} at once). */
    void update(byte[] b, int off, int len) throws InterruptedIOException {
        if (finished) {
            throw new IllegalStateException("the digest was taken");
        }
        if (thread == null && inline + len <= INLINE_BYTES) {
            md.update(b, off, len);
            inline += len;
            return;
        }
        if (thread == null) {
            start();
        }
        try {
            int done = 0;
            while (done < len) {
                byte[] buf = free.take();
                int n = Math.min(buf.length, len - done);
                System.arraycopy(b, off + done, buf, 0, n);
                lengths.put(n);
                full.put(buf);
                done += n;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while hashing");
        }
    }

    private void start() {
        free = new ArrayBlockingQueue<>(BUFFERS);
        full = new ArrayBlockingQueue<>(BUFFERS + 1);
        lengths = new ArrayBlockingQueue<>(BUFFERS + 1);
        for (int i = 0; i < BUFFERS; i++) {
            free.add(new byte[Stream.SEALED_CHUNK]);
        }
        thread = new Thread(this::hashLoop, "keyway-sha256");
        thread.setDaemon(true);
        thread.start();
    }

    private void hashLoop() {
        try {
            while (true) {
                byte[] buf = full.take();
                if (buf == END) {
                    return;
                }
                md.update(buf, 0, lengths.take());
                free.put(buf);
            }
        } catch (InterruptedException e) {
            // close(): the caller gave up on this file
        }
    }

    /** The SHA-256 of everything given, once the second thread (if any) has hashed it all. */
    byte[] digest() throws InterruptedIOException {
        if (finished) {
            throw new IllegalStateException("the digest was taken");
        }
        finished = true;
        if (thread != null) {
            try {
                full.put(END);
                thread.join(); // also makes the thread's updates to md visible here
            } catch (InterruptedException e) {
                thread.interrupt();
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while hashing");
            }
        }
        return md.digest();
    }

    @Override
    public void close() {
        finished = true;
        if (thread != null && thread.isAlive()) {
            thread.interrupt();
        }
    }
}
