package dev.keyway.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static dev.keyway.cli.Cli.args;
import static dev.keyway.cli.Cli.p;
import static dev.keyway.cli.EnvelopeFixtures.SEALED_CHUNK;
import static dev.keyway.cli.EnvelopeFixtures.keygen;
import static dev.keyway.cli.EnvelopeFixtures.ok;
import static dev.keyway.cli.EnvelopeFixtures.randomBytes;
import static dev.keyway.cli.EnvelopeFixtures.read;
import static dev.keyway.cli.EnvelopeFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Batch mode ({@code encrypt|decrypt --output-dir DIR FILE... [--recursive]}) as an attacker sees it: names that try
 * to leave DIR or fool the terminal, links planted in the input tree and in DIR, outputs in the way, replays, bad and
 * hostile ciphertexts in the middle of a run. Every test checks the safe outcome: the exit status, one escaped line per
 * failure, nothing written where it must not be, and no hidden temporary file left anywhere under the test directory.
 */
class BatchAttackTest {
    @TempDir
    Path dir;

    private String alice;
    private Path aliceKey;
    private String mallory;
    private Path malloryKey;

    @BeforeEach
    void setUp() {
        alice = keygen(dir, "alice.key");
        aliceKey = dir.resolve("alice.key");
        mallory = keygen(dir, "mallory.key");
        malloryKey = dir.resolve("mallory.key");
    }

    /** Whatever a test did, no hidden temporary file ({@code .NAME.*.tmp}) is left anywhere under the test directory. */
    @AfterEach
    void noTemporaryFilesLeft() {
        assertThat(temporaries(dir)).as("hidden temporary files left").isEmpty();
    }

    // ---------------------------------------------------------------- helpers

    private static Cli.Result run(Object... parts) {
        return Cli.run(args(parts).toArray(String[]::new));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Every entry under {@code root} (files, links and directories, links not followed), relative, sorted. */
    private static List<String> tree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(f -> !f.equals(root)).map(f -> root.relativize(f).toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Regular files only under {@code root}, relative, sorted. */
    private static List<String> files(Path root) {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).map(f -> root.relativize(f).toString()).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> temporaries(Path root) {
        for (int attempt = 0; ; attempt++) {
            try (Stream<Path> s = Files.walk(root)) {
                return s.map(f -> f.getFileName().toString()).filter(n -> n.startsWith(".") && n.endsWith(".tmp")).toList();
            } catch (IOException | UncheckedIOException e) {
                Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
                if (cause instanceof java.nio.file.AccessDeniedException) {
                    return List.of(); // a test that locked a directory restores it in its own finally
                }
                if (!(cause instanceof NoSuchFileException) || attempt == 20) {
                    throw e instanceof UncheckedIOException u ? u : new UncheckedIOException((IOException) e);
                }
            }
        }
    }

    /**
     * Standard error of a batch: exactly {@code failures} failure lines, then the summary; every line Keyway's own
     * ("keyway: "), no stack trace, no raw control character. Returns the failure lines.
     */
    private static List<String> report(Cli.Result r, int failures) {
        assertThat(r.err()).as("raw control characters in: %s", r.err())
                .doesNotContain("\u001b").doesNotContain("\u0007").doesNotContain("\r").doesNotContain("\u0000");
        List<String> lines = r.err().lines().toList();
        assertThat(lines).as(r.err()).allMatch(l -> l.startsWith("keyway: ") && !l.contains("\tat ") && !l.contains("Exception"));
        List<String> failed = lines.stream().filter(l -> !l.matches("keyway: (en|de)crypted .*") && !l.startsWith("keyway: signed files had")).toList();
        assertThat(failed).as(r.err()).hasSize(failures);
        assertThat(lines).as(r.err()).anyMatch(l -> l.matches("keyway: (en|de)crypted .*"));
        return failed;
    }

    /** A file with {@code text} in {@code where}, encrypted for {@code recipient} to {@code out} (one-file command). */
    private Path encrypted(String recipient, String text, Path out, String... extra) {
        Path plain = write(dir.resolve("plain-" + Long.toHexString(System.nanoTime())), bytes(text));
        List<String> a = new ArrayList<>(List.of("encrypt", "-r", recipient));
        a.addAll(Arrays.asList(extra));
        a.addAll(List.of("-o", p(out), p(plain)));
        ok(a.toArray(String[]::new));
        return out;
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    // ---------------------------------------------------------------- names that leave DIR

    /**
     * {@code ..kw} loses its {@code .kw} and becomes {@code .}: DIR itself. With DIR not yet made, the plaintext must
     * not be written as a file named DIR (nor its temporary file beside DIR, outside it).
     */
    @Test
    void decryptingDotDotKwNeverWritesTheOutputDirAsAFile() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Path evil = encrypted(alice, "plaintext for DIR itself", src.resolve("..kw"));
        Path out = dir.resolve("out");
        var d = run("decrypt", "-i", aliceKey, "--output-dir", out, evil);
        assertThat(d.exit()).as(d.err()).isEqualTo(2);
        assertThat(Files.isRegularFile(out, LinkOption.NOFOLLOW_LINKS)).as("DIR written as a file").isFalse();
        assertThat(files(out)).isEmpty();
        assertThat(report(d, 1).get(0)).startsWith("keyway: " + evil + ": ");
    }

    /** {@code ...kw} would be {@code ..}, DIR's parent; {@code .kw} would be empty. Both fail alone, the good one goes on. */
    @Test
    void decryptNamesThatStripToDotsFailAloneAndTheRestIsDecrypted() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Path dotdotdot = encrypted(alice, "for the parent", src.resolve("...kw"));
        Path dotdot = encrypted(alice, "for DIR", src.resolve("..kw"));
        Path dot = encrypted(alice, "for nothing", src.resolve(".kw"));
        Path good = encrypted(alice, "good", src.resolve("good.txt.kw"));
        Path out = Files.createDirectories(dir.resolve("out"));
        List<String> before = tree(dir);
        var d = run("decrypt", "-i", aliceKey, "--output-dir", out, dotdotdot, dotdot, dot, good);
        assertThat(d.exit()).as(d.err()).isEqualTo(2);
        List<String> failed = report(d, 3);
        assertThat(failed).anyMatch(l -> l.startsWith("keyway: " + dotdotdot + ": "))
                .anyMatch(l -> l.startsWith("keyway: " + dotdot + ": "))
                .anyMatch(l -> l.startsWith("keyway: " + dot + ": "));
        assertThat(files(out)).containsExactly("good.txt");
        assertThat(read(out.resolve("good.txt"))).isEqualTo(bytes("good"));
        // nothing new outside DIR
        List<String> after = new ArrayList<>(tree(dir));
        after.removeIf(n -> n.startsWith("out/"));
        assertThat(after).containsExactlyInAnyOrderElementsOf(before);
    }

    /** In a --recursive tree, {@code sub/..kw} would become the directory {@code DIR/tree/sub} itself, as a file. */
    @Test
    void decryptingDotDotKwInATreeNeverWritesItsDirectoryAsAFile() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("tree/sub"));
        encrypted(alice, "sub as a file", sub.resolve("..kw"));
        encrypted(alice, "fine", dir.resolve("tree/fine.txt.kw"));
        Path out = dir.resolve("out");
        var d = run("decrypt", "-i", aliceKey, "--output-dir", out, "--recursive", dir.resolve("tree"));
        assertThat(d.exit()).as(d.err()).isEqualTo(2);
        report(d, 1);
        assertThat(files(out)).containsExactly("tree/fine.txt");
        assertThat(Files.isRegularFile(out.resolve("tree/sub"), LinkOption.NOFOLLOW_LINKS)).isFalse();
    }

    // ---------------------------------------------------------------- names that fool the terminal

    @Test
    void controlCharactersInNamesAndInDirAreEscapedEverywhere() throws Exception {
        Path in = Files.createDirectories(dir.resolve("in"));
        List<String> names = List.of("new\nline.txt", "esc\u001b[31mred.txt", "bell\u0007.txt", "cr\rkeyway: all good.txt",
                "nul-ish\u0001\u007f.txt");
        List<Path> inputs = new ArrayList<>();
        for (String n : names) {
            inputs.add(write(in.resolve(n), bytes(n)));
        }
        Path out = Files.createDirectories(dir.resolve("out\u001b[2J"));
        // each output is in the way already, so every file fails with a message that names its output path
        for (String n : names) {
            write(out.resolve(n + ".kw"), bytes("keep"));
        }
        var e = run("encrypt", "-r", alice, "--output-dir", out, inputs);
        assertThat(e.exit()).as(e.err()).isEqualTo(2);
        List<String> failed = report(e, names.size());
        assertThat(failed).allMatch(l -> l.contains("already exists"));
        assertThat(e.err()).contains("new\\nline.txt").contains("esc\\x1b[31mred.txt").contains("bell\\x07.txt")
                .contains("cr\\rkeyway: all good.txt").contains("out\\x1b[2J");
        for (String n : names) {
            assertThat(read(out.resolve(n + ".kw"))).isEqualTo(bytes("keep"));
        }
        // and when they succeed, the outputs keep their real names
        Path out2 = dir.resolve("out2");
        var ok = run("encrypt", "-r", alice, "--output-dir", out2, inputs);
        assertThat(ok.exit()).as(ok.err()).isZero();
        report(ok, 0);
        assertThat(files(out2)).hasSize(names.size()).contains("new\nline.txt.kw");
    }

    /** A name as long as a file system allows (255 bytes): its output or temporary name must not make it fail. */
    @Test
    void longestNamesRoundTrip() throws Exception {
        Path in = Files.createDirectories(dir.resolve("in"));
        Path longest = write(in.resolve("a".repeat(252)), bytes("long name")); // 252 + ".kw" = 255
        Path enc = dir.resolve("enc");
        var e = run("encrypt", "-r", alice, "--output-dir", enc, longest);
        assertThat(e.exit()).as(e.err()).isZero();
        assertThat(files(enc)).containsExactly("a".repeat(252) + ".kw");
        Path plain = dir.resolve("plain");
        var d = run("decrypt", "-i", aliceKey, "--output-dir", plain, enc.resolve("a".repeat(252) + ".kw"));
        assertThat(d.exit()).as(d.err()).isZero();
        assertThat(read(plain.resolve("a".repeat(252)))).isEqualTo(bytes("long name"));
    }

    /** A name whose output would be too long (255 + .kw): that file fails on one line, the others go on. */
    @Test
    void aNameWhoseOutputIsTooLongFailsAlone() throws Exception {
        Path in = Files.createDirectories(dir.resolve("in"));
        Path tooLong = write(in.resolve("b".repeat(255)), bytes("x"));
        Path fine = write(in.resolve("fine.txt"), bytes("fine"));
        Path enc = dir.resolve("enc");
        var e = run("encrypt", "-r", alice, "--output-dir", enc, tooLong, fine);
        assertThat(e.exit()).as(e.err()).isEqualTo(1);
        assertThat(report(e, 1).get(0)).startsWith("keyway: " + tooLong + ": ");
        assertThat(files(enc)).containsExactly("fine.txt.kw");
    }

    // ---------------------------------------------------------------- links in the input

    /** A file argument that is a link: read as the one-file command would, written under the link's own name in DIR. */
    @Test
    void aLinkArgumentIsWrittenUnderItsOwnNameInsideDir() throws Exception {
        Path secret = write(Files.createDirectories(dir.resolve("elsewhere")).resolve("target.txt"), bytes("target"));
        Path link = Files.createSymbolicLink(Files.createDirectories(dir.resolve("in")).resolve("link.txt"), secret);
        Path enc = dir.resolve("enc");
        var e = run("encrypt", "-r", alice, "--output-dir", enc, link);
        assertThat(e.exit()).as(e.err()).isZero();
        assertThat(tree(enc)).containsExactly("link.txt.kw");
        assertThat(tree(dir.resolve("elsewhere"))).containsExactly("target.txt");
        var d = run("decrypt", "-i", aliceKey, "--output-dir", dir.resolve("plain"), enc.resolve("link.txt.kw"));
        assertThat(d.exit()).as(d.err()).isZero();
        assertThat(read(dir.resolve("plain/link.txt"))).isEqualTo(bytes("target"));
    }

    /** Links to directories (outside, up the tree, in a loop, dangling) are not followed; the walk ends; each is one line. */
    @Test
    @Timeout(60)
    void linksToDirectoriesAndLoopsInATreeAreNotFollowed() throws Exception {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        write(outside.resolve("secret.txt"), bytes("do not take me"));
        Path in = Files.createDirectories(dir.resolve("in"));
        write(in.resolve("a.txt"), bytes("a"));
        Files.createSymbolicLink(in.resolve("to-outside"), outside);
        Files.createSymbolicLink(in.resolve("up"), dir);
        Files.createSymbolicLink(in.resolve("self"), in);
        Files.createSymbolicLink(in.resolve("loop1"), in.resolve("loop2"));
        Files.createSymbolicLink(in.resolve("loop2"), in.resolve("loop1"));
        Files.createSymbolicLink(in.resolve("dangling"), dir.resolve("nothing-here"));
        Path enc = dir.resolve("enc");
        var e = run("encrypt", "-r", alice, "--output-dir", enc, "--recursive", in);
        assertThat(e.exit()).as(e.err()).isEqualTo(2);
        assertThat(report(e, 6)).allMatch(l -> l.contains("is not a regular file"));
        assertThat(files(enc)).containsExactly("in/a.txt.kw");
        assertThat(tree(outside)).containsExactly("secret.txt");
    }

    /** A FIFO in a tree is left alone, not opened (opening one would wait for a writer forever). */
    @Test
    @Timeout(60)
    void aFifoInATreeIsNotOpened() throws Exception {
        Path in = Files.createDirectories(dir.resolve("in"));
        write(in.resolve("a.txt"), bytes("a"));
        Process mkfifo;
        try {
            mkfifo = new ProcessBuilder("mkfifo", p(in.resolve("pipe"))).redirectErrorStream(true).start();
        } catch (IOException noMkfifo) {
            Assumptions.abort("no mkfifo here");
            return;
        }
        Assumptions.assumeTrue(mkfifo.waitFor() == 0, "mkfifo failed");
        Path enc = dir.resolve("enc");
        var e = run("encrypt", "-r", alice, "--output-dir", enc, "--recursive", in);
        assertThat(e.exit()).as(e.err()).isEqualTo(2);
        assertThat(report(e, 1).get(0)).startsWith("keyway: " + in.resolve("pipe") + ": ").contains("is not a regular file");
        assertThat(files(enc)).containsExactly("in/a.txt.kw");
    }

    /** A link to a directory given as the --recursive argument itself is not followed either. */
    @Test
    void aDirectoryLinkAsTheTreeArgumentIsNotFollowed() throws Exception {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        write(outside.resolve("secret.txt"), bytes("do not take me"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), outside);
        Path enc = dir.resolve("enc");
        var e = run("encrypt", "-r", alice, "--output-dir", enc, "--recursive", link);
        assertThat(e.exit()).as(e.err()).isEqualTo(2);
        assertThat(report(e, 1).get(0)).startsWith("keyway: " + link + ": ");
        assertThat(files(enc)).isEmpty();
    }

    /**
     * A tree where {@code x.kw} decrypts to {@code x} and {@code x/y.kw} needs a directory {@code x}: whichever comes
     * first wins, the other fails alone, and neither is overwritten or half written.
     */
    @Test
    void aFileAndADirectoryWantingOneNameDoNotClobberEachOther() throws Exception {
        Path t = Files.createDirectories(dir.resolve("t/x"));
        encrypted(alice, "x as a file", dir.resolve("t/x.kw"));
        encrypted(alice, "y inside x", t.resolve("y.kw"));
        Path out = dir.resolve("out");
        var d = run("decrypt", "-i", aliceKey, "--output-dir", out, "--recursive", dir.resolve("t"));
        // 2 (in the way / already exists); 1 when the rename of x meets the directory x made between its check and rename
        assertThat(d.exit()).as(d.err()).isIn(1, 2);
        report(d, 1);
        List<String> made = files(out);
        assertThat(made).hasSize(1).isSubsetOf("t/x", "t/x/y");
        assertThat(read(out.resolve(made.get(0)))).isEqualTo(bytes(made.get(0).equals("t/x") ? "x as a file" : "y inside x"));
    }

    /** DIR inside the tree being encrypted: the outputs of an earlier run there are not encrypted again. */
    @Test
    void dirInsideTheInputTreeIsNotTakenAgain() throws Exception {
        Path in = Files.createDirectories(dir.resolve("in"));
        write(in.resolve("a.txt"), bytes("a"));
        Path enc = in.resolve("enc");
        var first = run("encrypt", "-r", alice, "--output-dir", enc, "--recursive", in);
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(files(enc)).containsExactly("in/a.txt.kw");
        write(in.resolve("b.txt"), bytes("b"));
        var second = run("encrypt", "-r", alice, "--output-dir", enc, "--recursive", in);
        assertThat(second.exit()).as(second.err()).isEqualTo(2); // a.txt.kw exists already
        assertThat(report(second, 1).get(0)).contains("already exists");
        assertThat(files(enc)).containsExactly("in/a.txt.kw", "in/b.txt.kw");
    }

    /** The same, with DIR named through a link: its real place is inside the tree, and what is there is still not taken. */
    @Test
    void dirReachedThroughALinkIntoTheInputTreeIsNotTaken() throws Exception {
        Path in = Files.createDirectories(dir.resolve("in"));
        write(in.resolve("a.txt"), bytes("a"));
        Path realEnc = Files.createDirectories(in.resolve("enc"));
        write(realEnc.resolve("earlier.kw"), bytes("an earlier output"));
        Path alias = Files.createSymbolicLink(dir.resolve("alias"), realEnc);
        var e = run("encrypt", "-r", alice, "--output-dir", alias, "--recursive", in);
        assertThat(e.exit()).as(e.err()).isZero();
        report(e, 0);
        assertThat(files(realEnc)).containsExactly("earlier.kw", "in/a.txt.kw");
    }

    /** DIR itself a link to a directory: the outputs go into that directory, and nowhere else. */
    @Test
    void dirThatIsALinkIsWrittenThrough() throws Exception {
        Path in = write(dir.resolve("x.txt"), bytes("x"));
        Path real = Files.createDirectories(dir.resolve("real"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), real);
        var e = run("encrypt", "-r", alice, "--output-dir", link, in);
        assertThat(e.exit()).as(e.err()).isZero();
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(tree(real)).containsExactly("x.txt.kw");
    }

    // ---------------------------------------------------------------- things planted in DIR

    /**
     * A link planted in DIR at an output's name, to an existing file, to a file that does not exist yet, to a device:
     * never written through, never replaced; each such file fails alone.
     */
    @Test
    void linksPlantedAtOutputNamesAreNeitherFollowedNorReplaced() throws Exception {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Path existing = write(outside.resolve("existing.txt"), bytes("keep"));
        Path notYet = outside.resolve("not-yet.txt");
        Path src = Files.createDirectories(dir.resolve("src"));
        Path a = encrypted(alice, "a", src.resolve("a.txt.kw"));
        Path b = encrypted(alice, "b", src.resolve("b.txt.kw"));
        Path c = encrypted(alice, "c", src.resolve("c.txt.kw"));
        Path good = encrypted(alice, "good", src.resolve("good.txt.kw"));
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.createSymbolicLink(out.resolve("a.txt"), existing);
        Files.createSymbolicLink(out.resolve("b.txt"), notYet);
        Files.createSymbolicLink(out.resolve("c.txt"), Path.of("/dev/null"));
        var d = run("decrypt", "-i", aliceKey, "--output-dir", out, a, b, c, good);
        assertThat(d.exit()).as(d.err()).isEqualTo(2);
        assertThat(report(d, 3)).allMatch(l -> l.contains("already exists"));
        assertThat(read(existing)).isEqualTo(bytes("keep"));
        assertThat(notYet).doesNotExist();
        for (String n : List.of("a.txt", "b.txt", "c.txt")) {
            assertThat(Files.isSymbolicLink(out.resolve(n))).as("%s still the planted link", n).isTrue();
        }
        assertThat(read(out.resolve("good.txt"))).isEqualTo(bytes("good"));
        assertThat(tree(outside)).containsExactly("existing.txt");
    }

    /** A link planted in DIR where a mirrored directory goes: the outputs must not be written through it, outside DIR. */
    @Test
    void aLinkPlantedAtAMirroredDirectoryIsNotWrittenThrough() throws Exception {
        Path in = Files.createDirectories(dir.resolve("in/sub"));
        write(in.resolve("x.txt"), bytes("x"));
        write(dir.resolve("in/top.txt"), bytes("top"));
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Path out = Files.createDirectories(dir.resolve("out/in"));
        Files.createSymbolicLink(out.resolve("sub"), outside);
        var e = run("encrypt", "-r", alice, "--output-dir", dir.resolve("out"), "--recursive", dir.resolve("in"));
        assertThat(e.exit()).as(e.err()).isEqualTo(2);
        assertThat(report(e, 1).get(0)).startsWith("keyway: " + in.resolve("x.txt") + ": ");
        assertThat(tree(outside)).isEmpty();
        assertThat(files(dir.resolve("out"))).containsExactly("in/top.txt.kw");
    }

    /** An output that exists already (a regular file) is never replaced, for decrypt too. */
    @Test
    void anExistingPlaintextIsNeverReplaced() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Path a = encrypted(alice, "new content", src.resolve("report.txt.kw"));
        Path out = Files.createDirectories(dir.resolve("out"));
        write(out.resolve("report.txt"), bytes("the user's own file"));
        var d = run("decrypt", "-i", aliceKey, "--output-dir", out, a);
        assertThat(d.exit()).as(d.err()).isEqualTo(2);
        assertThat(report(d, 1).get(0)).contains("already exists");
        assertThat(read(out.resolve("report.txt"))).isEqualTo(bytes("the user's own file"));
    }

    /** DIR is a regular file: every file fails with one line, the file is untouched, exit 1. */
    @Test
    void dirThatIsAFileIsLeftAlone() throws Exception {
        Path f1 = write(dir.resolve("f1.txt"), bytes("1"));
        Path f2 = write(dir.resolve("f2.txt"), bytes("2"));
        Path notADir = write(dir.resolve("not-a-dir"), bytes("mine"));
        var e = run("encrypt", "-r", alice, "--output-dir", notADir, f1, f2);
        assertThat(e.exit()).as(e.err()).isEqualTo(1);
        report(e, 2);
        assertThat(read(notADir)).isEqualTo(bytes("mine"));
    }

    // ---------------------------------------------------------------- duplicates and standard input

    @Test
    void theSameFileGivenSeveralWaysIsWrittenOnce() throws Exception {
        Path sub = Files.createDirectories(dir.resolve("sub"));
        Path a = write(dir.resolve("a.txt"), bytes("a"));
        Path out = dir.resolve("out");
        var e = run("encrypt", "-r", alice, "--output-dir", out, a, a, sub.resolve("../a.txt"));
        assertThat(e.exit()).as(e.err()).isEqualTo(2);
        assertThat(report(e, 2)).allMatch(l -> l.contains("would write"));
        assertThat(files(out)).containsExactly("a.txt.kw");
    }

    @Test
    void twoTreesMirroringToTheSamePlaceDoNotOverwriteEachOther() throws Exception {
        Path x = Files.createDirectories(dir.resolve("x/in"));
        Path y = Files.createDirectories(dir.resolve("y/in"));
        write(x.resolve("f.txt"), bytes("from x"));
        write(y.resolve("f.txt"), bytes("from y"));
        write(y.resolve("only-y.txt"), bytes("only y"));
        Path out = dir.resolve("out");
        var e = run("encrypt", "-r", alice, "--output-dir", out, "--recursive", x, y);
        assertThat(e.exit()).as(e.err()).isEqualTo(2);
        assertThat(report(e, 1).get(0)).startsWith("keyway: " + y.resolve("f.txt") + ": would write");
        assertThat(files(out)).containsExactly("in/f.txt.kw", "in/only-y.txt.kw");
        ok("decrypt", "-i", p(aliceKey), "-o", p(dir.resolve("back")), p(out.resolve("in/f.txt.kw")));
        assertThat(read(dir.resolve("back"))).isEqualTo(bytes("from x"));
    }

    @Test
    void standardInputAmongSeveralInputsFailsAlone() throws Exception {
        Path good = encrypted(alice, "good", Files.createDirectories(dir.resolve("src")).resolve("good.txt.kw"));
        Path out = dir.resolve("out");
        var d = run("decrypt", "-i", aliceKey, "--output-dir", out, "-", good);
        assertThat(d.exit()).as(d.err()).isEqualTo(2);
        assertThat(report(d, 1).get(0)).startsWith("keyway: -: standard input cannot be one of several inputs");
        assertThat(files(out)).containsExactly("good.txt");
    }

    // ---------------------------------------------------------------- hostile ciphertexts in the middle

    /** Not for us, truncated at a chunk boundary, cut in the header, bit-flipped, a huge header length: each exit 3, alone. */
    @Test
    void badCiphertextsInTheMiddleFailAloneWithAuthenticationFailed() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        byte[] big = randomBytes(2 * 65536 + 10, 7);
        Path bigPlain = write(dir.resolve("big.bin"), big);
        ok("encrypt", "-r", alice, "-o", p(src.resolve("truncated.kw")), p(bigPlain));
        byte[] whole = read(src.resolve("truncated.kw"));
        int body = 2 * SEALED_CHUNK + 10 + 16;
        int header = whole.length - body;
        write(src.resolve("truncated.kw"), Arrays.copyOf(whole, header + 2 * SEALED_CHUNK)); // the last chunk dropped
        write(src.resolve("cut-header.kw"), Arrays.copyOf(whole, header / 2));
        byte[] flipped = whole.clone();
        flipped[header + SEALED_CHUNK + 100] ^= 0x40;
        write(src.resolve("flipped.kw"), flipped);
        encrypted(mallory, "for mallory", src.resolve("not-ours.kw"));
        byte[] huge = new byte[64];
        System.arraycopy(new byte[] {'K', 'W', 'E', 'N', 1, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}, 0, huge, 0, 9);
        write(src.resolve("huge.kw"), huge);
        encrypted(alice, "first", src.resolve("a-first.kw"));
        encrypted(alice, "last", src.resolve("z-last.kw"));
        Path out = dir.resolve("out");
        var d = run("decrypt", "-i", aliceKey, "--output-dir", out, "--recursive", src);
        assertThat(d.exit()).as(d.err()).isEqualTo(3);
        List<String> failed = report(d, 5);
        for (String n : List.of("truncated.kw", "cut-header.kw", "flipped.kw", "not-ours.kw", "huge.kw")) {
            assertThat(failed).anyMatch(l -> l.startsWith("keyway: " + src.resolve(n) + ": "));
        }
        assertThat(d.err()).contains("decrypted 2 of 7 files");
        assertThat(files(out)).containsExactly("src/a-first", "src/z-last");
        assertThat(read(out.resolve("src/z-last"))).isEqualTo(bytes("last"));
    }

    /** A signed message copied three times and an unsigned one copied twice: each decrypted once, now and in a later batch. */
    @Test
    void replayedCopiesAreDecryptedOnceWithinAndAcrossBatches() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Path signed = encrypted(alice, "pay 10", src.resolve("s1.kw"), "--sign-with", p(malloryKey));
        Files.copy(signed, src.resolve("s2.kw"));
        Files.copy(signed, src.resolve("s3.kw"));
        Path unsigned = encrypted(alice, "note", src.resolve("u1.kw"));
        Files.copy(unsigned, src.resolve("u2.kw"));
        encrypted(alice, "other", src.resolve("other.kw"));
        Path db = dir.resolve("replay.db");
        Path out = dir.resolve("out");
        var d = run("decrypt", "-i", aliceKey, "--replay-db", db, "--output-dir", out, "--recursive", src);
        assertThat(d.exit()).as(d.err()).isEqualTo(4);
        assertThat(report(d, 3)).allMatch(l -> l.contains("src/s") || l.contains("src/u"));
        List<String> made = files(out);
        assertThat(made).hasSize(3).contains("src/other");
        assertThat(made.stream().filter(n -> n.startsWith("src/s"))).hasSize(1);
        assertThat(made.stream().filter(n -> n.startsWith("src/u"))).hasSize(1);
        // a later batch, every copy again: all refused, nothing written
        Path out2 = dir.resolve("out2");
        var again = run("decrypt", "-i", aliceKey, "--replay-db", db, "--output-dir", out2, "--recursive", src);
        assertThat(again.exit()).as(again.err()).isEqualTo(4);
        report(again, 6);
        assertThat(files(out2)).isEmpty();
    }

    @Test
    void onlyTheExpectedSignersFilesAreDecrypted() throws Exception {
        String bob = keygen(dir, "bob.key");
        Path src = Files.createDirectories(dir.resolve("src"));
        encrypted(alice, "from mallory", src.resolve("m.kw"), "--sign-with", p(malloryKey));
        encrypted(alice, "from bob", src.resolve("b.kw"), "--sign-with", p(dir.resolve("bob.key")));
        encrypted(alice, "from nobody", src.resolve("n.kw"));
        Path out = dir.resolve("out");
        var d = run("decrypt", "-i", aliceKey, "--expect-signer", mallory, "--output-dir", out, src.resolve("b.kw"),
                src.resolve("m.kw"), src.resolve("n.kw"));
        assertThat(d.exit()).as(d.err()).isEqualTo(3);
        List<String> failed = report(d, 2);
        assertThat(failed).anyMatch(l -> l.startsWith("keyway: " + src.resolve("b.kw") + ": ") && l.contains("not by the expected signer"))
                .anyMatch(l -> l.startsWith("keyway: " + src.resolve("n.kw") + ": ") && l.contains("not signed"));
        assertThat(files(out)).containsExactly("m");
        assertThat(d.err()).doesNotContain("good signatures from");
        assertThat(bob).isNotEqualTo(mallory);
    }

    /** The exit status: the failures' shared code, 1 when they differ (3 and 4 here; 1 and 2 for encrypt). */
    @Test
    void mixedFailureCodesGiveOne() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Path signed = encrypted(alice, "pay", src.resolve("a.kw"), "--sign-with", p(malloryKey));
        Files.copy(signed, src.resolve("b.kw"));
        encrypted(mallory, "not ours", src.resolve("c.kw"));
        encrypted(alice, "ok", src.resolve("d.kw"));
        var d = run("decrypt", "-i", aliceKey, "--replay-db", dir.resolve("replay.db"), "--output-dir", dir.resolve("out"),
                "--recursive", src);
        assertThat(d.exit()).as("a replay (4) and a wrong key (3): %s", d.err()).isEqualTo(1);
        report(d, 2);
        assertThat(files(dir.resolve("out"))).hasSize(2).contains("src/d");

        Path x = write(dir.resolve("x.txt"), bytes("x"));
        var e = run("encrypt", "-r", alice, "--output-dir", dir.resolve("enc"), x, dir.resolve("missing.txt"), "-");
        assertThat(e.exit()).as("a missing file (2, issue 19) and standard input (2) share 2: %s", e.err()).isEqualTo(2);
        report(e, 2);
        assertThat(files(dir.resolve("enc"))).containsExactly("x.txt.kw");
    }

    // ---------------------------------------------------------------- permissions

    /** An unreadable directory and file in a tree: reported, nothing of them written, no hang, no partial output. */
    @Test
    void unreadableEntriesInATreeAreReported() throws Exception {
        Assumptions.assumeFalse(isRoot(), "running as root: permissions do not bite");
        Path in = Files.createDirectories(dir.resolve("in/locked"));
        write(in.resolve("x.txt"), bytes("x"));
        Path closed = write(dir.resolve("in/closed.txt"), bytes("closed"));
        write(dir.resolve("in/open.txt"), bytes("open"));
        Files.setPosixFilePermissions(in, PosixFilePermissions.fromString("---------"));
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("---------"));
        try {
            var e = run("encrypt", "-r", alice, "--output-dir", dir.resolve("enc"), "--recursive", dir.resolve("in"));
            assertThat(e.exit()).as(e.err()).isEqualTo(1);
            assertThat(e.err()).contains("permission denied");
            assertThat(files(dir.resolve("enc"))).doesNotContain("in/locked/x.txt.kw", "in/closed.txt.kw");
        } finally {
            Files.setPosixFilePermissions(in, PosixFilePermissions.fromString("rwx------"));
            Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rw-------"));
        }
    }
}
