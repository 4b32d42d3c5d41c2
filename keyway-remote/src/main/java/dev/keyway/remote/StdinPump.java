package dev.keyway.remote;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * The client's side of the host's credit window (docs/REMOTE.md, "Wire protocol"): a RUN's stdin pumped from a
 * thread as credit allows, or, with no stream, the window a file copy waits on ({@link FileTransfer}).
 */
final class StdinPump {
    private final RemoteSession.Link link;
    private int credit = ForegroundRun.WINDOW;
    private volatile boolean stopped;
    private boolean ended;
    private final Thread thread;

    StdinPump(RemoteSession.Link link, InputStream in) {
        this.link = link;
        if (in == null) {
            thread = null;
            return;
        }
        thread = new Thread(() -> pump(in), "keyway-remote-stdin");
        thread.setDaemon(true);
        thread.start();
    }

    private void pump(InputStream in) {
        byte[] buf = new byte[Frame.CHUNK];
        try {
            while (!stopped) {
                int want;
                synchronized (this) {
                    while (credit == 0 && !stopped) {
                        wait();
                    }
                    want = Math.min(buf.length, credit);
                }
                if (stopped) {
                    break;
                }
                int n = in.read(buf, 0, want);
                if (n < 0 || stopped) {
                    break;
                }
                synchronized (this) {
                    if (ended) {
                        break;
                    }
                    credit -= n;
                    link.send(Frame.STDIN, Arrays.copyOf(buf, n));
                }
            }
        } catch (IOException | RuntimeException e) {
            // stdin could not be read, or the connection broke: end the command's stdin
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            end();
        }
    }

    /** Sends the one STDIN_END of this RUN (once). */
    private void end() {
        synchronized (this) {
            if (ended) {
                return;
            }
            ended = true;
        }
        try {
            link.send(Frame.STDIN_END, new byte[0]);
        } catch (RuntimeException ignored) {
            // the connection is gone
        }
    }

    synchronized void credit(int n) {
        credit += n;
        notifyAll();
    }

    synchronized boolean take(int n) {
        if (credit < n) {
            return false;
        }
        credit -= n;
        return true;
    }

    /**
     * The command has ended: stop reading stdin and end it now. A pump blocked reading a terminal is left to the
     * process's end (it is a daemon thread); the STDIN_END goes out from here so the next RUN can follow.
     */
    void stop() {
        stopped = true;
        synchronized (this) {
            notifyAll();
        }
        if (thread != null) {
            end();
        }
    }
}
