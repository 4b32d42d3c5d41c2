package dev.keyway.remote;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Named pipes for one session's commands: each command gets three new ones (stdin, stdout, stderr) that only it
 * opens, so a background process left over from an earlier command cannot write into a later command's output.
 * The JDK cannot make a FIFO, so {@code mkfifo(1)} makes them, several sets per call and ahead of need (one process
 * start per {@value #BATCH} commands, off the command's path). A process start from the host's JVM is the dearest
 * step of a command: about 17 ms of CPU on the 2-vCPU machine of docs/BENCHMARKS.md ("Remote sessions against
 * OpenSSH"), where a whole {@code true} costs about 5 ms of host CPU with batches of 8; with 32 the start is
 * shared by four times as many commands. Unused sets are deleted when the session ends.
 */
final class Fifos {
    static final int BATCH = 32;
    private final Path dir;
    private final AtomicLong counter = new AtomicLong();
    private final ArrayDeque<Set> ready = new ArrayDeque<>();
    private boolean refilling;
    private boolean closed;

    /** One command's pipes. */
    record Set(Path in, Path out, Path err) {
        void delete() {
            for (Path p : List.of(in, out, err)) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // the run directory is emptied when the service starts again
                }
            }
        }
    }

    Fifos(Path dir) {
        this.dir = dir;
    }

    /** A fresh set; made now when none is ready. */
    Set take() throws IOException {
        Set s;
        synchronized (this) {
            s = ready.poll();
            if (ready.size() < BATCH / 2 && !refilling && !closed) {
                refilling = true;
                Thread t = new Thread(this::refill, "keyway-remote-mkfifo");
                t.setDaemon(true);
                t.start();
            }
        }
        if (s == null) {
            List<Set> made = make(1);
            s = made.get(0);
        }
        return s;
    }

    private void refill() {
        try {
            List<Set> made = make(BATCH);
            synchronized (this) {
                if (closed) {
                    made.forEach(Set::delete);
                } else {
                    ready.addAll(made);
                }
            }
        } catch (IOException ignored) {
            // take() makes its own when none is ready, and reports the failure there
        } finally {
            synchronized (this) {
                refilling = false;
                notifyAll();
            }
        }
    }

    private List<Set> make(int n) throws IOException {
        List<Set> sets = new ArrayList<>();
        List<String> cmd = new ArrayList<>(List.of("mkfifo", "-m", "600", "--"));
        for (int i = 0; i < n; i++) {
            long k = counter.incrementAndGet();
            Set s = new Set(dir.resolve(k + ".in"), dir.resolve(k + ".out"), dir.resolve(k + ".err"));
            sets.add(s);
            cmd.add(s.in().toString());
            cmd.add(s.out().toString());
            cmd.add(s.err().toString());
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] msg = p.getInputStream().readNBytes(4096);
        try {
            if (p.waitFor() != 0) {
                throw new IOException("mkfifo failed: " + new String(msg, StandardCharsets.UTF_8).strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while making pipes");
        }
        return sets;
    }

    /** Deletes the ready pipes, after waiting (at most 5 s) for a refill under way, so none appears after the caller empties the directory. */
    synchronized void close() {
        closed = true;
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (refilling && System.nanoTime() < deadline) {
            try {
                wait(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        ready.forEach(Set::delete);
        ready.clear();
    }

    /** Opens a FIFO for reading; blocks until the other side opens it (or {@link #unblock} is called). */
    static FileChannel openRead(Path fifo) throws IOException {
        return FileChannel.open(fifo, StandardOpenOption.READ);
    }

    static FileChannel openWrite(Path fifo) throws IOException {
        return FileChannel.open(fifo, StandardOpenOption.WRITE);
    }

    /**
     * Releases a thread blocked opening {@code fifo} (whichever way): opening a FIFO for reading and writing at
     * once never blocks on Linux and counts as the missing side; closed at once, so the released reader sees the
     * end, and a released writer a broken pipe.
     */
    static void unblock(Path fifo) {
        try (RandomAccessFile raf = new RandomAccessFile(fifo.toFile(), "rw")) {
            raf.getFD(); // opened: that is all it takes
        } catch (IOException ignored) {
            // gone already: nobody can be blocked on it
        }
    }
}
