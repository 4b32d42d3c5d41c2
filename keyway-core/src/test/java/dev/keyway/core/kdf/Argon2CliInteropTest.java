package dev.keyway.core.kdf;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Byte-for-byte agreement with the reference implementation's {@code argon2} command-line tool
 * (Debian/Ubuntu package {@code argon2}), run as a separate process.
 */
@Tag("interop")
class Argon2CliInteropTest {
    private static final long TIMEOUT_SECONDS = 60;
    /** The CLI refuses passwords of 128 bytes or more (it reads stdin into a fixed buffer). */
    private static final int CLI_MAX_PASSWORD = 127;
    private static final String SALT_ALPHABET =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%&()*+,./:;<=>?@[]^_{|}~";

    static Stream<Arguments> parameterSets() {
        SecureRandom rnd = new SecureRandom();
        List<Arguments> sets = new ArrayList<>();
        // Keyway's production parameters, memory given to the CLI as a power of two (-m 16).
        sets.add(Arguments.of(65536, 3, 4, 32, "correct horse battery staple", randomSalt(rnd)));
        sets.add(Arguments.of(8, 1, 1, 4, "p", randomSalt(rnd)));
        sets.add(Arguments.of(64, 2, 2, 16, "short", "saltsalt"));
        // Not a multiple of 4p: the block count rounds down but H0 still carries the original m.
        sets.add(Arguments.of(1000, 3, 3, 64, "päßwörd ✓", randomSalt(rnd)));
        sets.add(Arguments.of(4099, 1, 8, 65, "tag just past one BLAKE2b output", randomSalt(rnd)));
        sets.add(Arguments.of(2048, 4, 1, 100, "x".repeat(CLI_MAX_PASSWORD), randomSalt(rnd)));
        sets.add(Arguments.of(1536, 2, 5, 33, "odd lanes", randomSalt(rnd)));
        return sets.stream();
    }

    @ParameterizedTest(name = "m={0} KiB t={1} p={2} T={3} salt={5}")
    @MethodSource("parameterSets")
    void matchesReferenceCli(int memoryKiB, int iterations, int parallelism, int tagLength,
                             String password, String salt) throws Exception {
        Path cli = findCli();
        if (cli == null) {
            // Surefire does not print assumption messages; say why on the console too.
            System.err.println("SKIPPED Argon2CliInteropTest: argon2 CLI not installed (apt-get install argon2)");
        }
        Assumptions.assumeTrue(cli != null, "argon2 CLI not installed: apt-get install argon2");

        byte[] passwordBytes = password.getBytes(StandardCharsets.UTF_8);
        byte[] saltBytes = salt.getBytes(StandardCharsets.US_ASCII);
        String expected = runCli(cli, passwordBytes, salt, memoryKiB, iterations, parallelism, tagLength);

        byte[] actual = Argon2id.derive(passwordBytes, saltBytes, memoryKiB, iterations, parallelism, tagLength);
        assertThat(HexFormat.of().formatHex(actual)).isEqualTo(expected);
    }

    private static String runCli(Path cli, byte[] password, String salt, int memoryKiB, int iterations,
                                 int parallelism, int tagLength) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(cli.toString(), salt, "-id"));
        // -m takes log2 KiB and -k plain KiB; use -m where it applies so both paths are exercised.
        if (Integer.bitCount(memoryKiB) == 1) {
            command.addAll(List.of("-m", Integer.toString(Integer.numberOfTrailingZeros(memoryKiB))));
        } else {
            command.addAll(List.of("-k", Integer.toString(memoryKiB)));
        }
        command.addAll(List.of("-t", Integer.toString(iterations), "-p", Integer.toString(parallelism),
                "-l", Integer.toString(tagLength), "-r"));

        Path stderr = Files.createTempFile("argon2-cli", ".err");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectError(stderr.toFile())
                    .start();
            try {
                // No trailing newline: the CLI hashes exactly the bytes it reads.
                try (OutputStream in = process.getOutputStream()) {
                    in.write(password);
                }
                // The raw hex line is tiny, so reading before waiting cannot fill the pipe.
                String out;
                try (InputStream stdout = process.getInputStream()) {
                    out = new String(stdout.readAllBytes(), StandardCharsets.US_ASCII).trim();
                }
                if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    throw new AssertionError("argon2 CLI did not finish within " + TIMEOUT_SECONDS + " s: " + command);
                }
                assertThat(process.exitValue())
                        .as("argon2 CLI exit status for %s; stderr: %s", command, Files.readString(stderr))
                        .isZero();
                assertThat(out).as("argon2 CLI output for %s", command).matches("[0-9a-f]{" + 2 * tagLength + "}");
                return out;
            } finally {
                process.destroyForcibly();
            }
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    private static Path findCli() {
        Path usual = Path.of("/usr/bin/argon2");
        if (Files.isExecutable(usual)) {
            return usual;
        }
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty()) {
                Path candidate = Path.of(dir, "argon2");
                if (Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        return null;
    }

    /** 16 printable ASCII bytes; never starting with '-', which the CLI would read as an option. */
    private static String randomSalt(SecureRandom rnd) {
        StringBuilder sb = new StringBuilder(16);
        for (int i = 0; i < 16; i++) {
            sb.append(SALT_ALPHABET.charAt(rnd.nextInt(SALT_ALPHABET.length())));
        }
        return sb.toString();
    }
}
