package dev.keyway.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class DemoCommandTest {
    @Test
    void demoWalksThroughKeygenWrapUnwrapAndDerive(@TempDir Path dir) {
        var r = Cli.run("demo", "--dir", dir.toString());
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("$ keyway keygen", "$ keyway key new", "$ keyway key wrap", "$ keyway key unwrap",
                "$ keyway key derive", "(exit 3)", "(exit 4)", "ok: the unwrapped key equals session.key",
                "ok: re-derived key is identical").doesNotContain("UNEXPECTED");
        assertThat(Files.exists(dir.resolve("alice.key"))).isTrue();
        assertThat(Files.exists(dir.resolve("session.blob"))).isTrue();
    }
}
