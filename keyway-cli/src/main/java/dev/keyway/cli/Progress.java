package dev.keyway.cli;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;

/**
 * Counts bytes read and, on a terminal and for inputs over 64 MiB, shows a one-line progress bar on
 * standard error. Quiet in pipes and for small inputs. Closing clears the line.
 */
final class Progress extends FilterInputStream {
    static final long THRESHOLD = 64L << 20;
    private static final long INTERVAL_NANOS = 200_000_000L;

    private final PrintWriter err;
    private final String verb;
    private final long total;
    private final boolean shown;
    private long done;
    private long lastDraw;
    private boolean drawn;
    private Thread onExit;

    Progress(InputStream in, PrintWriter err, String verb, long total) {
        super(in);
        this.err = err;
        this.verb = verb;
        this.total = total;
        this.shown = total > THRESHOLD && StdStreams.errTerminal;
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            advance(1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
            advance(n);
        }
        return n;
    }

    private synchronized void advance(long n) {
        done += n;
        if (!shown) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastDraw < INTERVAL_NANOS && done < total) {
            return;
        }
        lastDraw = now;
        int pct = (int) Math.min(100, done * 100 / total);
        int bars = pct / 4;
        if (!drawn) {
            // Ctrl-C (or any exit) while the bar is drawn: end its line, so the shell's prompt starts on a new one.
            onExit = new Thread(this::interrupted, "keyway-progress-newline");
            Runtime.getRuntime().addShutdownHook(onExit);
        }
        err.print("\rkeyway: " + verb + " [" + "#".repeat(bars) + " ".repeat(25 - bars) + "] " + pct + "% "
                + mib(done) + " of " + mib(total) + " MiB");
        err.flush();
        drawn = true;
    }

    private static long mib(long bytes) {
        return bytes >> 20;
    }

    /** The process is ending with the bar still drawn: finish its line. */
    synchronized void interrupted() {
        if (drawn) {
            err.println();
            err.flush();
            drawn = false;
        }
    }

    @Override
    public void close() throws IOException {
        synchronized (this) {
            if (drawn) {
                err.print("\r" + " ".repeat(78) + "\r");
                err.flush();
                drawn = false;
            }
        }
        if (onExit != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(onExit);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs (or ran) and finds the line already cleared
            }
            onExit = null;
        }
        super.close();
    }
}
