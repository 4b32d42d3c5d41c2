package dev.keyway.remote;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One foreground command on a connection: its stdout and stderr go to the client as OUT and ERR frames as they
 * come (each stream's bytes exact and in order; the two are separate streams, as in ssh); the client's stdin comes
 * in STDIN frames under a credit window ({@link #WINDOW}): the client may have that many bytes unacknowledged, and
 * the host returns CREDIT as the command takes them, so a command that does not read its stdin holds the client,
 * not the host's memory. The command's end (its status from the status channel) and the end of both output streams
 * make the EXIT frame. If the client goes away, the command runs on; its output is read and dropped.
 */
final class ForegroundRun {
    static final int WINDOW = 256 * 1024;
    /** After the status: how long output may still come (a background process holding the pipe is cut off then). */
    private static final long GRACE_MS = 2000;

    private final HostConnection hc;
    private final HostSession.Started st;
    private final StdinBuffer stdinBuffer;
    private final Reader out;
    private final Reader err;
    private final Thread inPump;
    final Instant startedAt;

    /** @param stdin the client's stdin, or null when it sends none (the command reads an immediate end) */
    ForegroundRun(HostConnection hc, HostSession.Started st, StdinBuffer stdin, Instant now) {
        this.hc = hc;
        this.st = st;
        this.stdinBuffer = stdin;
        this.startedAt = now;
        this.out = new Reader(true);
        this.err = new Reader(false);
        this.inPump = new Thread(this::pumpStdin, "keyway-remote-stdin");
        inPump.setDaemon(true);
    }

    void start() {
        out.thread.start();
        err.thread.start();
        inPump.start();
    }

    private void pumpStdin() {
        WritableByteChannel ch = null;
        try {
            ch = st.openIn();
            if (stdinBuffer == null) {
                return;
            }
            boolean broken = false;
            byte[] b;
            while ((b = stdinBuffer.take()) != null) {
                if (!broken) {
                    try {
                        ByteBuffer bb = ByteBuffer.wrap(b);
                        while (bb.hasRemaining()) {
                            ch.write(bb);
                        }
                    } catch (IOException e) {
                        broken = true; // the command closed its stdin or ended: the rest is dropped
                    }
                }
                if (!hc.gone()) {
                    try {
                        hc.send(new Frame(Frame.CREDIT, new Fields.Writer().u32(b.length)));
                    } catch (IllegalStateException gone) {
                        return;
                    }
                }
            }
        } catch (IOException ignored) {
            // the pipe could not be opened: the command ended without reading it
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // closing a pipe
                }
            }
        }
    }

    /**
     * Waits for the command's end, sending the client a PING every {@code every} meanwhile: a command that prints
     * nothing for longer than the server's idle timeout must not look like an idle connection (and be cut).
     */
    int awaitStatus(Duration every) throws InterruptedException {
        boolean pinging = true;
        while (true) {
            try {
                return st.status().get(every.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                return -1;
            } catch (TimeoutException e) {
                if (pinging && !hc.gone()) {
                    try {
                        hc.send(new Frame(Frame.PING, new byte[0]));
                    } catch (IllegalStateException gone) {
                        pinging = false; // the connection went away: an interrupt follows
                    }
                }
            }
        }
    }

    /**
     * After the status: the rest of the output, then everything released. A stream still open {@link #GRACE_MS} after
     * its last byte (a background process the command left holds the pipe) is cut off; one that is still moving, or
     * waiting for a slow client to read, is not.
     */
    void finish() throws InterruptedException {
        for (Reader r : new Reader[] {out, err}) {
            while (r.thread.isAlive()) {
                r.thread.join(100);
                if (!r.sending && System.nanoTime() - r.lastProgress > TimeUnit.MILLISECONDS.toNanos(GRACE_MS)) {
                    r.thread.interrupt();
                    r.thread.join(1000);
                    break;
                }
            }
        }
        inPump.interrupt();
        st.release();
        if (stdinBuffer != null) {
            stdinBuffer.abandon();
        }
    }

    Reader out() {
        return out;
    }

    Reader err() {
        return err;
    }

    String cwd() {
        return st.cwd();
    }

    String cwdAfter() {
        return st.cwdAfter();
    }

    /** Reads one output stream to its end, sending what it reads while the client is there. */
    final class Reader {
        final Thread thread;
        private final boolean stdout;
        private final MessageDigest digest;
        private long count;
        /** When a byte last came (or the stream was opened). */
        volatile long lastProgress = System.nanoTime();
        /** Whether it is handing bytes to the client (possibly waiting for it to read). */
        volatile boolean sending;

        Reader(boolean stdout) {
            this.stdout = stdout;
            try {
                this.digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every JDK has SHA-256", e);
            }
            this.thread = new Thread(this::run, "keyway-remote-" + (stdout ? "stdout" : "stderr"));
            thread.setDaemon(true);
        }

        private void run() {
            boolean toClient = true;
            try (ReadableByteChannel ch = stdout ? st.openOut() : st.openErr()) {
                ByteBuffer buf = ByteBuffer.allocate(Frame.CHUNK);
                lastProgress = System.nanoTime();
                while (ch.read(buf) >= 0) {
                    lastProgress = System.nanoTime();
                    buf.flip();
                    int n = buf.remaining();
                    digest.update(buf.array(), 0, n);
                    count += n;
                    if (toClient && !hc.gone()) {
                        sending = true;
                        try {
                            hc.send(new Frame(stdout ? Frame.OUT : Frame.ERR, Arrays.copyOf(buf.array(), n)));
                        } catch (IllegalStateException gone) {
                            toClient = false;
                        } finally {
                            sending = false;
                            lastProgress = System.nanoTime();
                        }
                    }
                    buf.clear();
                }
            } catch (IOException ignored) {
                // the pipe broke or was cut off after the grace period
            }
        }

        long count() {
            return count;
        }

        String sha256() {
            return Receipt.hex(digest.digest());
        }
    }
}
