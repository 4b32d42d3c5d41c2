package dev.keyway.core.io;

import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link AtomicFile}: a new file appears whole under its name, or not at all, and nothing is ever replaced. */
class AtomicFileTest {
    @TempDir
    Path dir;

    private String[] names() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toArray(String[]::new);
        }
    }

    @Test
    void aCommittedFileIsTheOnlyNameLeft() throws Exception {
        Path target = dir.resolve("out.bin");
        try (AtomicFile.Output o = AtomicFile.create(target, true)) {
            o.stream().write("whole".getBytes(StandardCharsets.US_ASCII));
            assertThat(target).doesNotExist();
            o.commit();
        }
        assertThat(Files.readString(target)).isEqualTo("whole");
        assertThat(names()).containsExactly("out.bin");
        assertThat(Files.getAttribute(target, "unix:nlink")).isEqualTo(1);
        assertThat(Files.getPosixFilePermissions(target)).isEqualTo(AtomicFile.PRIVATE);
    }

    @Test
    void aTargetMadeWhileWritingIsNeitherReplacedNorJoined() throws Exception {
        Path target = dir.resolve("out.bin");
        try (AtomicFile.Output o = AtomicFile.create(target, false)) {
            o.stream().write("ours".getBytes(StandardCharsets.US_ASCII));
            Files.writeString(target, "theirs"); // another process got there first
            assertThatThrownBy(o::commit).isInstanceOf(KeywayException.class).hasMessageContaining("already exists");
        }
        assertThat(Files.readString(target)).isEqualTo("theirs");
        assertThat(names()).containsExactly("out.bin");
    }

    @Test
    void aDanglingLinkAtTheTargetCountsAsExisting() throws Exception {
        Path target = dir.resolve("out.bin");
        Files.createSymbolicLink(target, dir.resolve("nowhere"));
        assertThatThrownBy(() -> AtomicFile.create(target, false)).isInstanceOf(KeywayException.class)
                .hasMessageContaining("already exists");
        try (AtomicFile.Output o = AtomicFile.create(dir.resolve("other.bin"), false)) {
            Files.createSymbolicLink(dir.resolve("other.bin"), dir.resolve("nowhere2"));
            assertThatThrownBy(o::commit).isInstanceOf(KeywayException.class);
        }
        assertThat(dir.resolve("nowhere")).doesNotExist();
        assertThat(dir.resolve("nowhere2")).doesNotExist();
        assertThat(names()).containsExactly("other.bin", "out.bin");
    }
}
