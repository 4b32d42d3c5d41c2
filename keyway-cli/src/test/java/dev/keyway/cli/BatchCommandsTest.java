package dev.keyway.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.keyway.cli.Cli.args;
import static dev.keyway.cli.Cli.p;
import static dev.keyway.cli.Cli.run;
import static dev.keyway.cli.EnvelopeFixtures.keygen;
import static dev.keyway.cli.EnvelopeFixtures.ok;
import static dev.keyway.cli.EnvelopeFixtures.randomBytes;
import static dev.keyway.cli.EnvelopeFixtures.read;
import static dev.keyway.cli.EnvelopeFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Many files in one process ({@code encrypt|decrypt --output-dir DIR FILE...}, {@code --recursive}): every good file
 * makes it, every bad one is reported on its own line and leaves nothing behind, and the exit status tells which.
 */
class BatchCommandsTest {
    @TempDir
    Path dir;

    private String alice;
    private Path aliceKey;
    private String mallory;

    @BeforeEach
    void setUp() {
        alice = keygen(dir, "alice.key");
        aliceKey = dir.resolve("alice.key");
        mallory = keygen(dir, "mallory.key");
    }

    /** {@code n} files in {@code in/}: empty, small, and one over a chunk (64 KiB), each different. */
    private List<Path> files(Path in, int n) throws IOException {
        Files.createDirectories(in);
        List<Path> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int size = i == 0 ? 0 : i == 1 ? 70_000 : 100 + i;
            out.add(write(in.resolve("f" + i + ".bin"), randomBytes(size, i)));
        }
        return out;
    }

    private static Cli.Result run(List<String> args) {
        return Cli.run(args.toArray(String[]::new));
    }

    /**
     * Every file under {@code root}, relative, with hidden temporary files too. A running batch renames or deletes its
     * temporary files while the walk reads the directory; a walk that meets one vanishing is taken again.
     */
    private static List<String> tree(Path root) {
        for (int attempt = 0; ; attempt++) {
            if (!Files.exists(root)) {
                return List.of();
            }
            try (Stream<Path> s = Files.walk(root)) {
                return s.filter(Files::isRegularFile).map(f -> root.relativize(f).toString()).sorted().toList();
            } catch (IOException | UncheckedIOException e) {
                Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
                if (!(cause instanceof NoSuchFileException) || attempt == 20) {
                    throw e instanceof UncheckedIOException u ? u : new UncheckedIOException((IOException) e);
                }
            }
        }
    }

    @Test
    void manyFilesRoundTripAndTheirTreeIsMirrored() throws Exception {
        List<Path> in = files(dir.resolve("in"), 12);
        Files.createDirectories(dir.resolve("in/sub/deeper"));
        write(dir.resolve("in/sub/deeper/note.txt"), "deep".getBytes(StandardCharsets.UTF_8));
        Path enc = dir.resolve("enc");
        var e = run(args("encrypt", "-r", alice, "--output-dir", enc, "--recursive", dir.resolve("in")));
        assertThat(e.exit()).as(e.err()).isZero();
        assertThat(e.err()).isEqualTo("keyway: encrypted 13 files into " + enc + "\n");
        assertThat(tree(enc)).hasSize(13).allMatch(n -> n.startsWith("in/") && n.endsWith(".kw")).contains("in/sub/deeper/note.txt.kw");

        Path plain = dir.resolve("plain");
        var d = run(args("decrypt", "-i", aliceKey, "--output-dir", plain, "--recursive", enc.resolve("in")));
        assertThat(d.exit()).as(d.err()).isZero();
        assertThat(d.err()).isEqualTo("keyway: decrypted 13 files into " + plain + "\n");
        for (Path f : in) {
            Path back = plain.resolve("in").resolve(f.getFileName());
            assertThat(read(back)).as("%s", back).isEqualTo(read(f));
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(back))).isEqualTo("rw-------");
        }
        assertThat(read(plain.resolve("in/sub/deeper/note.txt"))).isEqualTo("deep".getBytes(StandardCharsets.UTF_8));
        // each file has its own file key and message id
        assertThat(EnvelopeFixtures.inspectJson(enc.resolve("in/f2.bin.kw")).get("message_id"))
                .isNotEqualTo(EnvelopeFixtures.inspectJson(enc.resolve("in/f3.bin.kw")).get("message_id"));
    }

    @Test
    void badFilesInTheMiddleAreReportedAndTheRestDecrypted() throws Exception {
        List<Path> in = files(dir.resolve("in"), 8);
        Path enc = dir.resolve("enc");
        ok(args("encrypt", "-r", alice, "--output-dir", enc, in).toArray(String[]::new));
        // f3: one bit flipped in its last chunk; f5: for someone else; f6: renamed so its output has no name
        byte[] f3 = read(enc.resolve("f3.bin.kw"));
        f3[f3.length - 20] ^= 1;
        write(enc.resolve("f3.bin.kw"), f3);
        Files.delete(enc.resolve("f5.bin.kw"));
        ok("encrypt", "-r", mallory, "-o", p(enc.resolve("f5.bin.kw")), p(in.get(5)));
        Files.move(enc.resolve("f6.bin.kw"), enc.resolve("f6.bin.enc"));

        Path plain = dir.resolve("plain");
        List<Path> encrypted;
        try (Stream<Path> s = Files.list(enc)) {
            encrypted = s.sorted().toList();
        }
        var d = run(args("decrypt", "-i", aliceKey, "--output-dir", plain, encrypted));
        assertThat(d.exit()).as("auth failures and a usage error: exit 1").isEqualTo(1);
        List<String> lines = d.err().lines().toList();
        assertThat(lines).hasSize(4).allMatch(l -> l.startsWith("keyway: ") && !l.contains("\tat "));
        assertThat(lines).anyMatch(l -> l.startsWith("keyway: " + enc.resolve("f3.bin.kw") + ": "))
                .anyMatch(l -> l.startsWith("keyway: " + enc.resolve("f5.bin.kw") + ": "))
                .anyMatch(l -> l.startsWith("keyway: " + enc.resolve("f6.bin.enc") + ": ") && l.contains("does not end in .kw"));
        assertThat(lines.get(3)).isEqualTo("keyway: decrypted 5 of 8 files into " + plain + "; 3 failed (listed above)");
        assertThat(tree(plain)).containsExactly("f0.bin", "f1.bin", "f2.bin", "f4.bin", "f7.bin");
        for (String n : tree(plain)) {
            assertThat(read(plain.resolve(n))).isEqualTo(read(dir.resolve("in").resolve(n)));
        }
    }

    @Test
    void theExitStatusIsTheFailuresOwnWhenTheyAgree() throws Exception {
        List<Path> in = files(dir.resolve("in"), 3);
        Path enc = dir.resolve("enc");
        ok(args("encrypt", "-r", mallory, "--output-dir", enc, in).toArray(String[]::new));
        var d = run(args("decrypt", "-i", aliceKey, "--output-dir", dir.resolve("plain"), enc.resolve("f1.bin.kw"), enc.resolve("f2.bin.kw")));
        assertThat(d.exit()).as(d.err()).isEqualTo(3);
        assertThat(tree(dir.resolve("plain"))).isEmpty();
    }

    @Test
    void anExistingOutputIsKeptAndOnlyThatFileFails() throws Exception {
        List<Path> in = files(dir.resolve("in"), 4);
        Path enc = dir.resolve("enc");
        Files.createDirectories(enc);
        write(enc.resolve("f2.bin.kw"), "keep me".getBytes(StandardCharsets.UTF_8));
        var e = run(args("encrypt", "-r", alice, "--output-dir", enc, in));
        assertThat(e.exit()).isEqualTo(2);
        assertThat(e.err()).contains("keyway: " + in.get(2) + ": " + enc.resolve("f2.bin.kw") + " already exists")
                .contains("encrypted 3 of 4 files");
        assertThat(read(enc.resolve("f2.bin.kw"))).isEqualTo("keep me".getBytes(StandardCharsets.UTF_8));
        assertThat(tree(enc)).containsExactly("f0.bin.kw", "f1.bin.kw", "f2.bin.kw", "f3.bin.kw");
    }

    @Test
    void twoInputsWithOneOutputNameDoNotOverwriteEachOther() throws Exception {
        Path a = write(Files.createDirectories(dir.resolve("a")).resolve("x.txt"), "from a".getBytes(StandardCharsets.UTF_8));
        Path b = write(Files.createDirectories(dir.resolve("b")).resolve("x.txt"), "from b".getBytes(StandardCharsets.UTF_8));
        Path enc = dir.resolve("enc");
        var e = run(args("encrypt", "-r", alice, "--output-dir", enc, a, b));
        assertThat(e.exit()).isEqualTo(2);
        assertThat(e.err()).contains("keyway: " + b + ": would write " + enc.toAbsolutePath().resolve("x.txt.kw") + ", as " + a + " does");
        ok("decrypt", "-i", p(aliceKey), "-o", p(dir.resolve("back.txt")), p(enc.resolve("x.txt.kw")));
        assertThat(read(dir.resolve("back.txt"))).isEqualTo("from a".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aTerminalShowsAProgressLineThatIsClearedBeforeTheSummary() throws Exception {
        List<Path> in = files(dir.resolve("in"), 3);
        boolean saved = StdStreams.errTerminal;
        StdStreams.errTerminal = true;
        try {
            var e = run(args("encrypt", "-r", alice, "--output-dir", dir.resolve("enc"), in, dir.resolve("missing")));
            assertThat(e.exit()).isEqualTo(2); // issue 19: a missing input is exit 2 (it was 1)
            // a failure is printed on a clean line, the bar is drawn again after it, and cleared before the summary
            assertThat(e.err()).contains("\rkeyway: encrypting [").contains(" of 4 files")
                    .contains("keyway: " + dir.resolve("missing") + ": no such file")
                    .endsWith("\r" + " ".repeat(78) + "\rkeyway: encrypted 3 of 4 files into " + dir.resolve("enc") + "; 1 failed (listed above)\n");
        } finally {
            StdStreams.errTerminal = saved;
        }
        // in a pipe: no bar at all
        var quiet = run(args("encrypt", "-r", alice, "--output-dir", dir.resolve("enc2"), in));
        assertThat(quiet.err()).doesNotContain("\r");
    }

    @Test
    void usageMistakesAreOneLineErrorsBeforeAnythingIsWritten() throws Exception {
        List<Path> in = files(dir.resolve("in"), 2);
        String one = p(in.get(0));
        String two = p(in.get(1));
        String out = p(dir.resolve("out"));
        EnvelopeFixtures.fails(2, "2 inputs and no --output-dir", "encrypt", "-r", alice, one, two);
        EnvelopeFixtures.fails(2, "not both", "encrypt", "-r", alice, "-o", p(dir.resolve("x.kw")), "--output-dir", out, one);
        EnvelopeFixtures.fails(2, "--recursive goes with --output-dir", "encrypt", "-r", alice, "--recursive", one);
        EnvelopeFixtures.fails(2, "--output-dir without an input", "decrypt", "-i", p(aliceKey), "--output-dir", out);
        EnvelopeFixtures.fails(2, "a session key belongs to one message", "decrypt", "--session-key", "00".repeat(32), "--output-dir", out, one);
        EnvelopeFixtures.fails(2, "a session key belongs to one message", "decrypt", "-i", p(aliceKey), "--show-session-key", "--output-dir", out, one);
        EnvelopeFixtures.fails(2, "no recipient given", "encrypt", "--output-dir", out, one);
        assertThat(dir.resolve("out")).doesNotExist();
        var stdin = run(args("encrypt", "-r", alice, "--output-dir", out, "-", one));
        assertThat(stdin.exit()).isEqualTo(2);
        assertThat(stdin.err()).contains("keyway: -: standard input cannot be one of several inputs");
    }

    @Test
    void controlCharactersInFileNamesAreEscapedInReports() throws Exception {
        Path evil = write(dir.resolve("evil\u001b]0;owned\u0007.bin"), new byte[] {1});
        var d = run(args("decrypt", "-i", aliceKey, "--output-dir", dir.resolve("plain"), evil));
        assertThat(d.exit()).isEqualTo(2);
        assertThat(d.err()).doesNotContain("\u001b").doesNotContain("\u0007").contains("does not end in .kw");
    }

    @Test
    void aCopiedMessageInOneBatchIsDecryptedOnceWithAReplayGuard() throws Exception {
        Path in = write(dir.resolve("msg.txt"), "pay 10".getBytes(StandardCharsets.UTF_8));
        Path enc = Files.createDirectories(dir.resolve("enc"));
        ok("encrypt", "-r", alice, "--sign-with", p(dir.resolve("mallory.key")), "-o", p(enc.resolve("a.kw")), p(in));
        Files.copy(enc.resolve("a.kw"), enc.resolve("b.kw"));
        Path db = dir.resolve("replay.db");
        var d = run(args("decrypt", "-i", aliceKey, "--replay-db", db, "--output-dir", dir.resolve("plain"), enc.resolve("a.kw"), enc.resolve("b.kw")));
        assertThat(d.exit()).as(d.err()).isEqualTo(4);
        assertThat(tree(dir.resolve("plain"))).hasSize(1);
        assertThat(d.err()).contains("decrypted 1 of 2 files").contains("good signatures from 1 sender");
        // and the one that made it cannot come back in a later batch
        var again = run(args("decrypt", "-i", aliceKey, "--replay-db", db, "--output-dir", dir.resolve("plain2"), enc.resolve("a.kw")));
        assertThat(again.exit()).isEqualTo(4);
        assertThat(tree(dir.resolve("plain2"))).isEmpty();
    }

    @Test
    void passphraseFilesShareOnePassphraseInABatch() throws Exception {
        List<Path> in = files(dir.resolve("in"), 3);
        Path pass = write(dir.resolve("pass.txt"), "correct horse battery staple\n".getBytes(StandardCharsets.UTF_8));
        Path enc = dir.resolve("enc");
        ok(args("encrypt", "--passphrase-file", pass, "--output-dir", enc, in).toArray(String[]::new));
        Path plain = dir.resolve("plain");
        ok(args("decrypt", "--passphrase-file", pass, "--output-dir", plain, enc.resolve("f0.bin.kw"), enc.resolve("f1.bin.kw"),
                enc.resolve("f2.bin.kw")).toArray(String[]::new));
        for (Path f : in) {
            assertThat(read(plain.resolve(f.getFileName()))).isEqualTo(read(f));
        }
    }

    /**
     * Ctrl-C part-way (a separate JVM, SIGINT): the files written so far are whole, the ones under way leave nothing,
     * and the run says how far it got.
     */
    @Test
    void ctrlCLeavesOnlyWholeFiles() throws Exception {
        Path in = Files.createDirectories(dir.resolve("in"));
        for (int i = 0; i < 400; i++) {
            write(in.resolve(String.format("f%03d.bin", i)), randomBytes(256 << 10, i));
        }
        Path enc = dir.resolve("enc");
        Process proc = new ProcessBuilder(ServeProcess.withSigintDefault(ServeProcess.keyway(ServeProcess.QUICK_JVM,
                List.of("encrypt", "-r", alice, "--output-dir", p(enc), "--recursive", p(in)))))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (tree(enc).stream().noneMatch(n -> n.endsWith(".kw") && !n.contains("/.")) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            new ProcessBuilder("kill", "-INT", Long.toString(proc.pid())).start().waitFor();
            assertThat(proc.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String err = new String(proc.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(proc.exitValue()).as(err).isEqualTo(130);
            assertThat(err).contains("keyway: interrupted: ");
        } finally {
            proc.destroyForcibly();
        }
        List<String> written = tree(enc);
        assertThat(written).noneMatch(n -> n.substring(n.lastIndexOf('/') + 1).startsWith("."));
        assertThat(written).isNotEmpty().hasSizeLessThan(400);
        // every file there is whole: it decrypts
        var d = run(args("decrypt", "-i", aliceKey, "--output-dir", dir.resolve("plain"), "--recursive", enc.resolve("in")));
        assertThat(d.exit()).as(d.err()).isZero();
        assertThat(tree(dir.resolve("plain"))).hasSize(written.size());
    }
}
