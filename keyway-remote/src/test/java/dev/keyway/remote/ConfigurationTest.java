package dev.keyway.remote;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Session configuration files: strict fields, safe variables, restricted programs as plain absolute paths. */
class ConfigurationTest {
    private static JsonNode json(String text) throws Exception {
        return Json.MAPPER.readTree(text);
    }

    private static void refused(String text, String why) {
        assertThatThrownBy(() -> Configuration.parse("c", json(text)))
                .isInstanceOfSatisfying(KeywayException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED);
                    assertThat(e.getMessage()).contains(why);
                });
    }

    @Test
    void theDefaultParsesToWhatInitPromises() {
        Configuration c = Configuration.parse("default", Configuration.defaultJson(Path.of("/home/u")));
        assertThat(c.kind()).isEqualTo(Configuration.Kind.SHELL);
        assertThat(c.workingDirectory()).isEqualTo(Path.of("/home/u"));
        assertThat(c.idleTimeout()).isEqualTo(Duration.ofHours(2));
        assertThat(c.maxLifetime()).isEqualTo(Duration.ofDays(7));
        assertThat(c.sessionsPerClient()).isEqualTo(16);
        assertThat(c.outputBuffer()).isEqualTo(16 << 20);
        assertThat(c.whenOutputFull()).isEqualTo(Configuration.WhenFull.PAUSE);
        assertThat(c.fileTransfer()).isTrue();
        assertThat(c.allows("alice")).isFalse();
    }

    @Test
    void aMisspeltFieldIsRefusedNotIgnored() {
        refused("{\"kind\":\"shell\",\"idleTimout\":\"1m\"}", "unknown field 'idleTimout'");
    }

    @Test
    void variablesThatChangeWhatRunsCannotBeAllowed() {
        for (String v : List.of("LD_PRELOAD", "PATH", "IFS", "BASH_ENV", "ENV", "HOME", "SHELL")) {
            refused("{\"environment\":[\"" + v + "\"],\"workingDirectory\":\"/tmp\"}", "lets clients set '" + v + "'");
        }
        refused("{\"environment\":[\"A-B\"],\"workingDirectory\":\"/tmp\"}", "lets clients set 'A-B'");
    }

    @Test
    void restrictedProgramsArePlainAbsolutePaths() {
        refused("{\"kind\":\"restricted\",\"workingDirectory\":\"/tmp\"}", "allows no programs");
        refused("{\"kind\":\"restricted\",\"workingDirectory\":\"/tmp\",\"programs\":[{\"path\":\"wc\"}]}", "not a plain absolute path");
        refused("{\"kind\":\"restricted\",\"workingDirectory\":\"/tmp\",\"programs\":[{\"path\":\"/usr/bin/../bin/sh\"}]}", "not a plain absolute path");
        refused("{\"kind\":\"restricted\",\"workingDirectory\":\"/tmp\",\"programs\":[{\"path\":\"/usr/bin/wc\",\"args\":\"(\"}]}", "bad args pattern");
        refused("{\"kind\":\"shell\",\"workingDirectory\":\"/tmp\",\"programs\":[{\"path\":\"/usr/bin/wc\"}]}", "shell configuration with programs");
        refused("{\"kind\":\"restricted\",\"workingDirectory\":\"tmp\",\"programs\":[{\"path\":\"/usr/bin/wc\"}]}", "relative workingDirectory");
    }

    @Test
    void limitsAreBounded() {
        refused("{\"workingDirectory\":\"/tmp\",\"sessionsPerClient\":0}", "sessionsPerClient outside");
        refused("{\"workingDirectory\":\"/tmp\",\"outputBuffer\":\"lots\"}", "outputBuffer outside");
        refused("{\"workingDirectory\":\"/tmp\",\"whenOutputFull\":\"explode\"}", "whenOutputFull");
        assertThatThrownBy(() -> Configuration.parse("c", json("{\"workingDirectory\":\"/tmp\",\"idleTimeout\":\"soon\"}")))
                .isInstanceOf(KeywayException.class).hasMessageContaining("idleTimeout");
    }

    @Test
    void restrictedChecksMatchArgumentsWhole() throws Exception {
        Configuration c = Configuration.parse("r", json("{\"kind\":\"restricted\",\"workingDirectory\":\"/tmp\","
                + "\"programs\":[{\"path\":\"/usr/bin/wc\",\"args\":\"-[clw]\"}]}"));
        assertThat(Restricted.check(c, List.of("/usr/bin/wc", "-c"))).containsExactly("/usr/bin/wc", "-c");
        for (List<String> bad : List.of(List.of("/usr/bin/wc", "-c;id"), List.of("wc", "-c"), List.of("/usr/bin/./wc"),
                List.of("/bin/sh"), List.of("/usr/bin/wc;", "id"), List.of("/usr/bin/wc", "-c\nid"))) {
            assertThatThrownBy(() -> Restricted.check(c, bad)).as(bad.toString())
                    .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.POLICY));
        }
        assertThat(Restricted.display(List.of("/usr/bin/wc", "it's"))).isEqualTo("/usr/bin/wc 'it'\\''s'");
    }
}
