package dev.keyway.remote;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/** A detached job: its command, its two kept output streams, its exit status once it has ended. */
final class HostJob {
    private final String id;
    private final String command;
    private final HostSession.Started started;
    private final JobOutput out;
    private final JobOutput err;
    private final Instant startedAt;
    /** Both output streams read to their end. */
    private final AtomicInteger streamsOpen = new AtomicInteger(2);
    private final CompletableFuture<Void> streamsDone = new CompletableFuture<>();
    private volatile Instant endedAt;
    private volatile Integer exit;
    private final CompletableFuture<HostJob> finished = new CompletableFuture<>();

    HostJob(String id, String command, HostSession.Started started, Configuration config, Instant now) {
        this.id = id;
        this.command = command;
        this.started = started;
        this.out = new JobOutput(config.outputBuffer(), config.whenOutputFull());
        this.err = new JobOutput(config.outputBuffer(), config.whenOutputFull());
        this.startedAt = now;
        pump(true);
        pump(false);
        // Whichever comes last, the status or the end of the output, ends the job, on the thread that brought it.
        // Nothing here waits: the status comes on the session shell's status reader, which must go on reading (a
        // job that left a background process holding its output would otherwise hold every later command's status).
        started.status().thenCombine(streamsDone, (s, ignored) -> s).thenAccept(s -> {
            endedAt = Instant.now();
            exit = s;
            started.release();
            finished.complete(this);
        });
    }

    private void pump(boolean stdout) {
        JobOutput sink = stdout ? out : err;
        Thread t = new Thread(() -> {
            try (ReadableByteChannel ch = stdout ? started.openOut() : started.openErr()) {
                ByteBuffer buf = ByteBuffer.allocate(Frame.CHUNK);
                while (ch.read(buf) >= 0) {
                    buf.flip();
                    if (!sink.append(buf.array(), 0, buf.remaining())) {
                        break;
                    }
                    buf.clear();
                }
            } catch (IOException ignored) {
                // the pipe broke: the job's output ends here
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                sink.end();
                if (streamsOpen.decrementAndGet() == 0) {
                    streamsDone.complete(null);
                }
            }
        }, "keyway-remote-job-" + id + (stdout ? "-out" : "-err"));
        t.setDaemon(true);
        t.start();
    }

    /** Completes once the job has ended and its output has been read to the end. */
    CompletableFuture<HostJob> finished() {
        return finished;
    }

    String id() {
        return id;
    }

    String command() {
        return command;
    }

    Instant startedAt() {
        return startedAt;
    }

    JobOutput output() {
        return out;
    }

    JobOutput errors() {
        return err;
    }

    /** The exit status once the job ended and both streams were read to their end; null before. */
    Integer exit() {
        return exit;
    }

    Instant endedAt() {
        return endedAt;
    }

    boolean done() {
        return exit != null;
    }

    /** Everything, status included, has been received. */
    boolean drained() {
        return exit != null && out.drained() && err.drained();
    }

    void abandon() {
        out.abandon();
        err.abandon();
        started.release();
    }
}
