package dev.keyway.remote;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * One stream (stdout or stderr) of a detached job, kept on the host until a client has received it. Bytes are
 * numbered from 0; the host keeps those from the first one not yet acknowledged ({@link #base}) to the last
 * produced, and sends from {@code base} on every receive: a client that dies before acknowledging gets the
 * unacknowledged bytes again, and a byte acknowledged is never sent again. At most {@code capacity} bytes wait:
 * beyond that the job's writer waits ({@link Configuration.WhenFull#PAUSE}) or the bytes are dropped and counted
 * ({@link Configuration.WhenFull#DROP}).
 */
final class JobOutput {
    private final int capacity;
    private final Configuration.WhenFull whenFull;
    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private final MessageDigest digest;
    /** Offset of the first byte of the first chunk. */
    private long base;
    private long produced;
    private long dropped;
    private boolean ended;
    private boolean abandoned;

    JobOutput(int capacity, Configuration.WhenFull whenFull) {
        this.capacity = capacity;
        this.whenFull = whenFull;
        try {
            this.digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Adds bytes the job wrote; may wait for room. Returns false when the job's output is no longer wanted. */
    synchronized boolean append(byte[] b, int off, int len) throws InterruptedException {
        digest.update(b, off, len);
        while (len > 0) {
            while (whenFull == Configuration.WhenFull.PAUSE && produced - base >= capacity && !abandoned) {
                wait();
            }
            if (abandoned) {
                return false;
            }
            long room = capacity - (produced - base);
            int take = (int) Math.min(len, Math.max(room, 0));
            if (take == 0) {
                dropped += len;
                return true;
            }
            chunks.add(Arrays.copyOfRange(b, off, off + take));
            produced += take;
            off += take;
            len -= take;
            notifyAll();
        }
        return true;
    }

    synchronized void end() {
        ended = true;
        notifyAll();
    }

    /** The job is being removed: a writer waiting for room gives up. */
    synchronized void abandon() {
        abandoned = true;
        chunks.clear();
        notifyAll();
    }

    /** Up to {@code max} bytes from offset {@code from} (at least {@link #base}), or an empty array if none are there yet. */
    synchronized byte[] read(long from, int max) {
        long at = Math.max(from, base);
        long pos = base;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] c : chunks) {
            long end = pos + c.length;
            if (end > at) {
                int start = (int) (at - pos);
                int n = (int) Math.min(c.length - start, max - out.size());
                out.write(c, start, n);
                at += n;
                if (out.size() >= max) {
                    break;
                }
            }
            pos = end;
        }
        return out.toByteArray();
    }

    /** Forgets bytes before {@code upTo}: the client has them. */
    synchronized void ack(long upTo) {
        long to = Math.min(upTo, produced);
        while (!chunks.isEmpty() && base + chunks.peek().length <= to) {
            base += chunks.poll().length;
        }
        if (!chunks.isEmpty() && to > base) {
            byte[] first = chunks.poll();
            int cut = (int) (to - base);
            chunks.addFirst(Arrays.copyOfRange(first, cut, first.length));
            base = to;
        }
        notifyAll();
    }

    synchronized long base() {
        return base;
    }

    synchronized long produced() {
        return produced;
    }

    synchronized long dropped() {
        return dropped;
    }

    synchronized boolean ended() {
        return ended;
    }

    /** Everything produced has been acknowledged and nothing more will come. */
    synchronized boolean drained() {
        return ended && base == produced;
    }

    /** SHA-256 of every byte the job wrote (dropped ones too); only meaningful once {@link #ended}. */
    synchronized byte[] sha256() {
        try {
            return ((MessageDigest) digest.clone()).digest();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 digests clone", e);
        }
    }
}
