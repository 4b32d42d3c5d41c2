package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static dev.keyway.cli.Cli.p;
import static dev.keyway.cli.Cli.run;
import static org.assertj.core.api.Assertions.assertThat;

/** Shared helpers for the envelope command tests (encrypt, decrypt, inspect, rekey). */
final class EnvelopeFixtures {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Sealed chunk size on disk: 64 KiB of plaintext plus a 16-byte tag. */
    static final int SEALED_CHUNK = 65536 + 16;
    static final int CHUNK = 65536;
    static final int SIGNATURE = 64;

    private EnvelopeFixtures() {
    }

    /** Makes an x25519 identity file {@code dir/name} and returns its recipient string (via {@code keyway pubkey}). */
    static String keygen(Path dir, String name) {
        Path file = dir.resolve(name);
        var gen = run("keygen", "--type", "x25519", "-o", p(file));
        assertThat(gen.exit()).as(gen.err()).isZero();
        var pub = run("pubkey", "-i", p(file));
        assertThat(pub.exit()).as(pub.err()).isZero();
        String recipient = pub.out().strip();
        assertThat(recipient).startsWith("kwx255191").isEqualTo(gen.out().strip());
        return recipient;
    }

    /** Runs a command and asserts it succeeded. */
    static Cli.Result ok(String... args) {
        var r = run(args);
        assertThat(r.exit()).as("keyway %s\nstderr: %s", String.join(" ", args), r.err()).isZero();
        return r;
    }

    /** Runs a command and asserts it failed with {@code exit} and a one-line message containing {@code fragment}. */
    static Cli.Result fails(int exit, String fragment, String... args) {
        var r = run(args);
        assertThat(r.exit()).as("keyway %s\nstderr: %s", String.join(" ", args), r.err()).isEqualTo(exit);
        assertThat(r.oneLineError()).as("one-line error: %s", r.err()).isTrue();
        assertThat(r.err()).contains(fragment);
        return r;
    }

    static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    static Path write(Path file, byte[] content) {
        try {
            return Files.write(file, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The temporary files AtomicFile leaves beside {@code target} if it fails to clean up: {@code .NAME.*.tmp}. */
    static List<String> leftovers(Path target) {
        String prefix = "." + target.getFileName() + ".";
        try (Stream<Path> s = Files.list(target.toAbsolutePath().getParent())) {
            return s.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(prefix) && n.endsWith(".tmp")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every hidden temporary file ({@code .*.tmp}) in {@code dir}. */
    static List<String> allLeftovers(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(".") && n.endsWith(".tmp")).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Asserts a failed decrypt left neither {@code out} nor a temporary file for it. */
    static void assertNoOutput(Path out) {
        assertThat(out).doesNotExist();
        assertThat(leftovers(out)).as("temporary files left beside %s", out).isEmpty();
    }

    static JsonNode inspectJson(Path file) {
        var r = ok("inspect", "--json", p(file));
        try {
            return JSON.readTree(r.out());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
