package dev.keyway.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A JVM that exits part-way (SIGINT) while several threads write files through {@link AtomicFile} leaves no
 * temporary file behind: the threads keep running while the shutdown hook deletes, so a file made at that moment
 * must either be seen by the hook or not be made at all (a leftover was seen in the batch mode's Ctrl-C test).
 */
class AtomicFileExitTest {
    @TempDir
    Path dir;

    /** The child: 4 threads writing 64 KiB files as fast as they can, until it is killed. */
    public static void main(String[] args) {
        Path out = Path.of(args[0]);
        byte[] data = new byte[64 << 10];
        for (int t = 0; t < 4; t++) {
            int id = t;
            Thread w = new Thread(() -> {
                for (int i = 0; ; i++) {
                    try (AtomicFile.Output o = AtomicFile.create(out.resolve("t" + id + "-" + i), false)) {
                        o.stream().write(data);
                        o.commit();
                    } catch (IOException | RuntimeException e) {
                        // the JVM is exiting: go on trying, as a batch's other workers would, without spinning hot
                        try {
                            Thread.sleep(1);
                        } catch (InterruptedException ie) {
                            return;
                        }
                    }
                }
            });
            w.setDaemon(true);
            w.start();
        }
        try {
            Thread.sleep(60_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void anInterruptedWriterLeavesOnlyWholeFiles() throws Exception {
        for (int round = 0; round < 5; round++) {
            Path out = Files.createDirectories(dir.resolve("r" + round));
            Process p = new ProcessBuilder(withSigintDefault(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    AtomicFileExitTest.class.getName(), out.toString())))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (names(out).size() < 40 + round * 20 && System.nanoTime() < deadline) {
                    Thread.sleep(2);
                }
                new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor();
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            } finally {
                p.destroyForcibly();
            }
            List<String> left = names(out);
            assertThat(left).as("round %d", round).isNotEmpty().noneMatch(n -> n.startsWith("."));
            for (String n : left) {
                assertThat(Files.size(out.resolve(n))).as(n).isEqualTo(64 << 10);
            }
        }
    }

    private static List<String> names(Path d) {
        for (int attempt = 0; ; attempt++) {
            try (Stream<Path> s = Files.list(d)) {
                return s.map(f -> f.getFileName().toString()).sorted().toList();
            } catch (IOException | UncheckedIOException e) {
                Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
                if (!(cause instanceof NoSuchFileException) || attempt == 20) {
                    throw new AssertionError(e);
                }
            }
        }
    }

    /**
     * {@code cmd} started with SIGINT at its default action: a process started in the background by a
     * non-interactive shell (a CI job, {@code nohup ... &}) inherits SIGINT ignored, and the JVM then keeps ignoring
     * it, so Ctrl-C could not be tested there. coreutils' {@code env --default-signal} undoes that (exec, same pid).
     */
    static List<String> withSigintDefault(List<String> cmd) {
        List<String> out = new ArrayList<>();
        try {
            Process probe = new ProcessBuilder("env", "--default-signal=INT", "true").redirectErrorStream(true).start();
            probe.getInputStream().readAllBytes();
            if (probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0) {
                out.addAll(List.of("env", "--default-signal=INT"));
            }
        } catch (IOException e) {
            // no such env: run as it is
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.addAll(cmd);
        return out;
    }
}
