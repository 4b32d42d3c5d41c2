package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.keyway.cli.Cli.p;
import static dev.keyway.cli.EnvelopeFixtures.SEALED_CHUNK;
import static dev.keyway.cli.EnvelopeFixtures.inspectJson;
import static dev.keyway.cli.EnvelopeFixtures.keygen;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * 1 GiB through {@code keyway encrypt} and {@code keyway decrypt} in a separate JVM limited to a 64 MiB
 * heap: both stream, neither buffers the file. Enabled by default (CI runs it); must finish within a minute.
 */
@Tag("slow")
class BigFileTest {
    private static final long SIZE = 1L << 30;
    private static final long NEEDED_DISK = 3L << 30;
    private static final long BUDGET_MILLIS = 60_000;
    private static final int BLOCK = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void oneGibibyteStreamsThroughA64MiBHeap() throws Exception {
        long usable = Files.getFileStore(dir).getUsableSpace();
        if (usable < NEEDED_DISK) {
            String reason = "BigFileTest skipped: " + (usable >> 20) + " MiB free in " + dir + ", needs " + (NEEDED_DISK >> 20) + " MiB";
            System.out.println(reason);
            Assumptions.abort(reason);
        }
        long start = System.nanoTime();
        String recipient = keygen(dir, "id.key");
        Path key = dir.resolve("id.key");
        Path enc = dir.resolve("big.kw");
        Path encErr = dir.resolve("encrypt.err");
        Path decErr = dir.resolve("decrypt.err");

        List<Process> processes = new ArrayList<>();
        AtomicBoolean timedOut = new AtomicBoolean();
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();
        // Blocking pipe reads and writes cannot be interrupted: at the deadline, kill the children, which
        // closes the pipes and ends the test.
        watchdog.schedule(() -> {
            timedOut.set(true);
            synchronized (processes) {
                processes.forEach(Process::destroyForcibly);
            }
        }, BUDGET_MILLIS, TimeUnit.MILLISECONDS);
        try {
            // Encrypt: 1 GiB of pseudo-random bytes fed through the child's standard input.
            Process e = start(processes, encErr, "encrypt", "-r", recipient, "-o", p(enc));
            MessageDigest inHash = MessageDigest.getInstance("SHA-256");
            try (OutputStream toChild = e.getOutputStream()) {
                byte[] buf = new byte[BLOCK];
                ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
                long state = 0x9E3779B97F4A7C15L;
                for (long done = 0; done < SIZE; done += BLOCK) {
                    for (int i = 0; i < BLOCK; i += 8) {
                        state += 0x9E3779B97F4A7C15L; // splitmix64
                        long z = state;
                        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
                        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
                        bb.putLong(i, z ^ (z >>> 31));
                    }
                    inHash.update(buf);
                    toChild.write(buf);
                }
            } catch (IOException ex) {
                // The child died early; its exit code and standard error say why.
            }
            int encExit = waitFor(e);
            assertThat(timedOut).as("encrypt took longer than %d ms", BUDGET_MILLIS).isFalse();
            assertThat(encExit).as("encrypt exit; stderr: %s", Files.readString(encErr)).isZero();
            long encMillis = (System.nanoTime() - start) / 1_000_000;

            JsonNode j = inspectJson(enc);
            assertThat(j.get("chunks").asLong()).isEqualTo(SIZE / 65536);
            assertThat(j.get("plaintext_bytes").asLong()).isEqualTo(SIZE);
            assertThat(Files.size(enc)).isEqualTo(j.get("header_bytes").asLong() + (SIZE / 65536) * SEALED_CHUNK);

            // Decrypt to standard output, hashed here as it arrives.
            Process d = start(processes, decErr, "decrypt", "-i", p(key), p(enc));
            d.getOutputStream().close();
            MessageDigest outHash = MessageDigest.getInstance("SHA-256");
            long received = 0;
            try (InputStream fromChild = d.getInputStream()) {
                byte[] buf = new byte[BLOCK];
                int n;
                while ((n = fromChild.read(buf)) > 0) {
                    outHash.update(buf, 0, n);
                    received += n;
                }
            }
            int decExit = waitFor(d);
            assertThat(timedOut).as("encrypt and decrypt took longer than %d ms", BUDGET_MILLIS).isFalse();
            assertThat(decExit).as("decrypt exit; stderr: %s", Files.readString(decErr)).isZero();
            assertThat(received).isEqualTo(SIZE);
            assertThat(HexFormat.of().formatHex(outHash.digest())).isEqualTo(HexFormat.of().formatHex(inHash.digest()));

            long totalMillis = (System.nanoTime() - start) / 1_000_000;
            System.out.printf("BigFileTest: 1 GiB encrypt %d ms, encrypt + decrypt %d ms%n", encMillis, totalMillis);
            assertThat(totalMillis).isLessThan(BUDGET_MILLIS);
        } finally {
            watchdog.shutdownNow();
            synchronized (processes) {
                processes.forEach(Process::destroyForcibly);
            }
            Files.deleteIfExists(enc);
        }
    }

    /** Starts {@code java -Xmx64m -cp <the test class path> dev.keyway.cli.Main ARGS}, standard error to a file. */
    private static Process start(List<Process> processes, Path errFile, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-cp", System.getProperty("java.class.path"), "dev.keyway.cli.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(errFile.toFile());
        if (args[0].equals("encrypt")) {
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD); // it writes to -o; nothing to read here
        }
        synchronized (processes) {
            Process p = pb.start();
            processes.add(p);
            return p;
        }
    }

    private static int waitFor(Process p) throws InterruptedException {
        if (!p.waitFor(BUDGET_MILLIS, TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
