package dev.keyway.remote;

import dev.keyway.core.KeywayException;

import java.util.ArrayDeque;

/**
 * The stdin of one RUN as it arrives: every RUN is followed by its STDIN frames (none when the client has no stdin)
 * and exactly one STDIN_END, so frames are matched to their command without ids, even when the command has ended
 * before its stdin did. At most {@link ForegroundRun#WINDOW} bytes wait here: a client that sends more than its
 * credit allows is violating the protocol.
 */
final class StdinBuffer {
    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private long waiting;
    private boolean ended;
    private boolean abandoned;

    /** On the loop: a STDIN (data) or STDIN_END (null) frame. */
    synchronized void offer(byte[] data) {
        if (ended) {
            throw KeywayException.malformed("stdin after its end", "send one STDIN_END per RUN");
        }
        if (data == null) {
            ended = true;
        } else if (!abandoned) {
            waiting += data.length;
            if (waiting > ForegroundRun.WINDOW) {
                throw KeywayException.malformed("stdin beyond the credit window", "wait for CREDIT");
            }
            chunks.add(data);
        }
        notifyAll();
    }

    synchronized boolean ended() {
        return ended;
    }

    /** The next chunk; null at the end (or when abandoned). */
    synchronized byte[] take() throws InterruptedException {
        while (chunks.isEmpty() && !ended && !abandoned) {
            wait();
        }
        byte[] b = chunks.poll();
        if (b != null) {
            waiting -= b.length;
        }
        return b;
    }

    /** The command no longer reads: what comes is dropped. */
    synchronized void abandon() {
        abandoned = true;
        chunks.clear();
        waiting = 0;
        notifyAll();
    }
}
