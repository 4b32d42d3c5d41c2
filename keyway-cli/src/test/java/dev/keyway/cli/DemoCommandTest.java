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
        // Issue 19: long lines are shortened a word at a time; a path is never cut in the middle.
        java.util.regex.Matcher cut = java.util.regex.Pattern.compile("(\\S*)\\.\\.\\.\\(\\d+ characters\\)").matcher(r.out());
        int abbreviated = 0;
        while (cut.find()) {
            abbreviated++;
            assertThat(cut.group(1)).as("an abbreviated word").doesNotContain("/");
        }
        assertThat(abbreviated).as("recipient strings are abbreviated").isPositive();
        assertThat(r.out()).contains("TLS certificate:  authority.d/tls-cert.pem", "server.pem");
    }
}
