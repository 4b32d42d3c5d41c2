package dev.keyway.remote;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Copying files into and out of a session ({@code keyway remote cp}): paths outside the configuration's working
 * directory, symbolic links at the target or on the way, special files, and transfers that lie about their size or
 * digest. Nothing may be read or written outside the working directory, and a failed copy leaves no file behind.
 */
@Timeout(60)
class RemoteFilesAttackTest {
    @TempDir
    static Path tmp;
    static AttackHost h;
    static Path outside;

    @BeforeAll
    static void start() throws Exception {
        h = AttackHost.prepare(tmp);
        h.config("nofiles", c -> c.put("fileTransfer", false));
        outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("victim"), "victim");
        Files.createDirectories(h.wd.resolve("sub"));
        Files.writeString(h.wd.resolve("inside.txt"), "inside");
        Files.createSymbolicLink(h.wd.resolve("link"), outside.resolve("victim"));
        Files.createSymbolicLink(h.wd.resolve("inlink"), h.wd.resolve("inside.txt"));
        Files.createSymbolicLink(h.wd.resolve("dangling"), outside.resolve("created"));
        Files.createSymbolicLink(h.wd.resolve("outdir"), outside);
        Files.createSymbolicLink(h.wd.resolve("zero"), Path.of("/dev/zero"));
        new ProcessBuilder("mkfifo", h.wd.resolve("fifo").toString()).start().waitFor();
        h.start(Duration.ofMinutes(1));
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    /** A PUT as the real client makes it, with what it announces and what it sends chosen apart; 0 or the error code. */
    static int put(RawClient a, String path, long announced, byte[] data, byte[] digest) throws IOException {
        a.send(Frame.PUT, new Fields.Writer().str(path).i64(announced));
        Frame f = a.expectAny(Frame.OK, Frame.ERROR);
        if (f.type() == Frame.ERROR) {
            return f.reader().u8();
        }
        long credit = ForegroundRun.WINDOW;
        for (int at = 0; at < data.length; at += Frame.CHUNK) {
            byte[] chunk = Arrays.copyOfRange(data, at, Math.min(data.length, at + Frame.CHUNK));
            while (credit < chunk.length) {
                Frame c = a.expectAny(Frame.CREDIT, Frame.ERROR);
                if (c.type() == Frame.ERROR) {
                    return c.reader().u8();
                }
                credit += c.reader().u32();
            }
            a.send(Frame.FILE_DATA, chunk);
            credit -= chunk.length;
        }
        a.send(Frame.FILE_END, digest);
        while (true) {
            Frame end = a.expectAny(Frame.CREDIT, Frame.OK, Frame.ERROR);
            if (end.type() == Frame.OK) {
                return 0;
            }
            if (end.type() == Frame.ERROR) {
                return end.reader().u8();
            }
        }
    }

    static int put(RawClient a, String path, byte[] data) throws IOException {
        return put(a, path, data.length, data, sha256(data));
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** A GET: the file's bytes, or null with the error code in {@code code[0]}. */
    static byte[] get(RawClient a, String path, int[] code) throws IOException {
        a.send(Frame.GET, new Fields.Writer().str(path));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            Frame f = a.expectAny(Frame.FILE_DATA, Frame.FILE_END, Frame.ERROR);
            if (f.type() == Frame.ERROR) {
                code[0] = f.reader().u8();
                return null;
            }
            if (f.type() == Frame.FILE_END) {
                assertThat(f.payload()).isEqualTo(sha256(out.toByteArray()));
                return out.toByteArray();
            }
            out.writeBytes(f.payload());
        }
    }

    /** Files under {@code dir} whose names contain {@code part}; files that vanish meanwhile (the host's) are skipped. */
    static List<Path> named(Path dir, String part) throws IOException {
        List<Path> found = new ArrayList<>();
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (file.getFileName().toString().contains(part)) {
                    found.add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE;
            }
        });
        return found;
    }

    private static void assertNoLeftovers() throws IOException {
        assertThat(named(h.wd, ".part")).isEmpty();
        assertThat(named(outside, ".part")).isEmpty();
        assertThat(Files.readString(outside.resolve("victim"))).isEqualTo("victim");
        try (var list = Files.list(outside)) {
            assertThat(list.map(p -> p.getFileName().toString()).toList()).containsExactly("victim");
        }
    }

    @Test
    void writesOutsideTheWorkingDirectoryOrThroughLinksAreRefused() throws Exception {
        byte[] data = "planted".getBytes(StandardCharsets.US_ASCII);
        try (RawClient a = h.connect(h.alice)) {
            a.open("put", "default");
            for (String path : List.of("../outside/escape", outside.resolve("escape").toString(), "sub/../../outside/escape",
                    "outdir/escape", "link", "dangling", "inlink", "/", ".", "..", "sub/..", "/etc/keyway-remote-attack")) {
                assertThat(put(a, path, data)).as("PUT %s", path).isIn(2, 4);
            }
            assertThat(put(a, "", data)).isEqualTo(2);
            assertThat(put(a, "a\0b", data)).isEqualTo(2);
            assertThat(Files.readString(h.wd.resolve("inside.txt"))).isEqualTo("inside");
            assertThat(Files.isSymbolicLink(h.wd.resolve("inlink"))).isTrue();
            // in the working directory, through a link to a directory inside it too: fine
            assertThat(put(a, "sub/ok.txt", data)).isZero();
            assertThat(Files.readString(h.wd.resolve("sub/ok.txt"))).isEqualTo("planted");
        }
        assertThat(Path.of("/etc/keyway-remote-attack")).doesNotExist();
        assertNoLeftovers();
    }

    @Test
    void readsOutsideTheWorkingDirectoryOrOfSpecialFilesAreRefusedAtOnce() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("get", "default");
            int[] code = new int[1];
            for (String path : List.of("../outside/victim", outside.resolve("victim").toString(), "link", "outdir/victim",
                    "sub/../../outside/victim", "/dev/zero", "zero", "/proc/self/environ", "/etc/hostname", "fifo", "sub", ".", "dangling", "")) {
                code[0] = 0;
                assertThat(get(a, path, code)).as("GET %s", path).isNull();
                assertThat(code[0]).as("GET %s", path).isIn(2, 4);
            }
            assertThat(get(a, "inlink", code)).isEqualTo("inside".getBytes(StandardCharsets.US_ASCII));
        }
    }

    @Test
    void aTransferThatLiesAboutItsSizeOrDigestLeavesNothing() throws Exception {
        Files.writeString(h.wd.resolve("keep.txt"), "original");
        byte[] data = "new content".getBytes(StandardCharsets.US_ASCII);
        try (RawClient a = h.connect(h.alice)) {
            a.open("lies", "default");
            assertThat(put(a, "keep.txt", data.length + 5, data, sha256(data))).as("shorter than announced").isEqualTo(2);
            assertThat(put(a, "keep.txt", 3, data, sha256(data))).as("longer than announced").isEqualTo(2);
            assertThat(put(a, "keep.txt", data.length, data, sha256("other".getBytes(StandardCharsets.US_ASCII)))).as("another digest").isEqualTo(2);
            assertThat(put(a, "keep.txt", data.length, data, new byte[0])).as("no digest").isEqualTo(2);
            assertThat(put(a, "keep.txt", -1, data, sha256(data))).as("negative size").isEqualTo(4);
            assertThat(put(a, "keep.txt", Long.MIN_VALUE, data, sha256(data))).isEqualTo(4);
            assertThat(put(a, "keep.txt", Long.MAX_VALUE, data, sha256(data))).isEqualTo(4);
            assertThat(put(a, "fresh.txt", data.length + 1, data, sha256(data))).isEqualTo(2);
            assertThat(Files.readString(h.wd.resolve("keep.txt"))).isEqualTo("original");
            assertThat(h.wd.resolve("fresh.txt")).doesNotExist();
            assertThat(a.run("echo session fine").out()).isEqualTo("session fine\n");
            // bytes sent without waiting for credit (the host holds at most a window of them), then the client is gone
            a.send(Frame.PUT, new Fields.Writer().str("flood.txt").i64(8L << 20));
            a.expect(Frame.OK);
            ByteArrayOutputStream flood = new ByteArrayOutputStream();
            for (int i = 0; i < 3 * ForegroundRun.WINDOW / Frame.CHUNK; i++) {
                flood.writeBytes(new Frame(Frame.FILE_DATA, new byte[Frame.CHUNK]).encode());
            }
            a.raw(flood.toByteArray());
        }
        assertThat(AttackHost.eventually(Duration.ofSeconds(5), () -> {
            try {
                return named(h.wd, "flood").isEmpty();
            } catch (IOException e) {
                return false;
            }
        })).as("the half-sent file's temporary copy is gone").isTrue();
        assertNoLeftovers();
        try (var list = Files.list(h.wd)) {
            assertThat(list.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).toList()).isEmpty();
        }
    }

    @Test
    void aConfigurationWithoutFileTransferRefusesBoth() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("nofiles", "nofiles");
            assertThat(put(a, "x.txt", new byte[1])).isEqualTo(4);
            int[] code = new int[1];
            assertThat(get(a, "inside.txt", code)).isNull();
            assertThat(code[0]).isEqualTo(4);
        }
        assertThat(h.wd.resolve("x.txt")).doesNotExist();
    }

    @Test
    void aLargeFileWithinTheLimitsTravelsByteExact() throws Exception {
        byte[] data = new byte[3 << 20];
        new Random(16).nextBytes(data);
        try (RawClient a = h.connect(h.alice)) {
            a.open("large", "default");
            assertThat(put(a, "sub/large.bin", data)).isZero();
            assertThat(get(a, "sub/large.bin", new int[1])).isEqualTo(data);
        }
    }
}
