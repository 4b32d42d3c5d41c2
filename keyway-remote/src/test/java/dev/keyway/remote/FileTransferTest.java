package dev.keyway.remote;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Copying files into and out of a session: exact bytes, confined to the working directory, no symlink escapes. */
@Timeout(60)
class FileTransferTest {
    @TempDir
    Path tmp;
    HostFixture f;
    Path outside;
    Path secret;

    @BeforeEach
    void start() throws Exception {
        f = HostFixture.start(tmp);
        outside = Files.createDirectories(tmp.resolve("outside"));
        secret = Files.writeString(outside.resolve("secret.txt"), "outside the working directory\n");
    }

    @AfterEach
    void stop() {
        f.close();
    }

    void refused(Executable e) {
        int before = f.audit("refused").size();
        assertThatThrownBy(e::execute).isInstanceOfSatisfying(KeywayException.class, x -> {
            assertThat(x.code()).isEqualTo(ErrorCode.POLICY);
            assertThat(x.code().exitCode()).isEqualTo(4);
        });
        assertThat(f.audit("refused")).hasSize(before + 1);
    }

    @Test
    void aFileGoesInAndComesBackExact() throws Exception {
        byte[] data = RemoteSessionTest.random((1 << 20) + 12345);
        Path local = Files.write(tmp.resolve("local.bin"), data);
        try (RemoteSession s = f.client.open(f.addr(), "cp", "default")) {
            s.put(local, "data.bin");
            assertThat(RemoteSessionTest.sha256(Files.readAllBytes(f.work.resolve("data.bin")))).isEqualTo(RemoteSessionTest.sha256(data));
            assertThat(s.run("sha256sum data.bin").out()).isEqualTo(RemoteSessionTest.sha256(data) + "  data.bin\n");
            // relative paths follow the session's shell
            s.run("mkdir -p sub && cd sub");
            s.put(local, "again.bin");
            assertThat(f.work.resolve("sub/again.bin")).hasSameBinaryContentAs(local);
            ByteArrayOutputStream back = new ByteArrayOutputStream();
            assertThat(s.get("again.bin", back)).isEqualTo(data.length);
            assertThat(RemoteSessionTest.sha256(back.toByteArray())).isEqualTo(RemoteSessionTest.sha256(data));
            // an empty file too
            s.put(Files.write(tmp.resolve("empty"), new byte[0]), "empty");
            assertThat(s.get("empty", new ByteArrayOutputStream())).isZero();
        }
        assertThat(f.audit("put")).hasSize(3);
        assertThat(f.audit("get")).hasSize(2);
    }

    @Test
    void pathsOutsideTheWorkingDirectoryAndSymlinksOutOfItAreRefused() throws Exception {
        Path local = Files.writeString(tmp.resolve("local.txt"), "payload\n");
        Files.createDirectories(f.work.resolve("a/b"));
        Files.createSymbolicLink(f.work.resolve("link"), secret);
        Files.createSymbolicLink(f.work.resolve("dirlink"), outside);
        try (RemoteSession s = f.client.open(f.addr(), "cp", "default")) {
            refused(() -> s.get("../../etc/passwd", new ByteArrayOutputStream()));
            refused(() -> s.get("a/b/../../../outside/secret.txt", new ByteArrayOutputStream()));
            refused(() -> s.get("/etc/passwd", new ByteArrayOutputStream()));
            refused(() -> s.get("link", new ByteArrayOutputStream()));
            refused(() -> s.get("dirlink/secret.txt", new ByteArrayOutputStream()));
            refused(() -> s.put(local, "../escaped.txt"));
            refused(() -> s.put(local, "/tmp/escaped.txt"));
            refused(() -> s.put(local, "link"));                  // writing through a link to a file outside
            refused(() -> s.put(local, "dirlink/new.txt"));       // or into a directory outside
            // a shell session may cd anywhere, but copies stay under the configuration's directory
            s.run("cd " + outside);
            refused(() -> s.put(local, "fromhere.txt"));
            refused(() -> s.get("secret.txt", new ByteArrayOutputStream()));
            s.run("cd " + f.work);
            s.put(local, "a/b/inside.txt");                       // '..' that stays inside is fine
            assertThat(f.work.resolve("a/b/inside.txt")).hasContent("payload");
        }
        assertThat(secret).hasContent("outside the working directory");
        assertThat(tmp.resolve("escaped.txt")).doesNotExist();
        assertThat(outside.resolve("new.txt")).doesNotExist();
        assertThat(outside.resolve("fromhere.txt")).doesNotExist();
        try (var files = Files.list(outside)) {
            assertThat(files).containsExactly(secret); // no temporary file was left there either
        }
    }

    @Test
    void aConfigurationWithoutFileTransferRefusesCopies() throws Exception {
        ObjectNode nocp = HostFixture.shellConfig(f.work);
        nocp.put("fileTransfer", false);
        f.writeConfig("nocp", nocp);
        f.dir.allow("alice", f.alice.recipient(), "nocp");
        Files.writeString(f.work.resolve("there.txt"), "x");
        Path local = Files.writeString(tmp.resolve("local.txt"), "payload\n");
        try (RemoteSession s = f.client.open(f.addr(), "nocp", "nocp")) {
            refused(() -> s.put(local, "new.txt"));
            refused(() -> s.get("there.txt", new ByteArrayOutputStream()));
            assertThat(s.run("echo still usable").out()).isEqualTo("still usable\n");
        }
        assertThat(f.work.resolve("new.txt")).doesNotExist();
    }
}
