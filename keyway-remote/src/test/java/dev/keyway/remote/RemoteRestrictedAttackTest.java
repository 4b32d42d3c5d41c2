package dev.keyway.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every way a client of a restricted configuration might run something the configuration does not allow: other
 * spellings of an allowed program's path, links to it, arguments that match only in part, variables that change
 * what the loader or a shell does, and {@code cd} out of the working directory. Each is refused with exit 4 and
 * audited, and the session goes on.
 */
@Timeout(60)
class RemoteRestrictedAttackTest {
    @TempDir
    static Path tmp;
    static AttackHost h;

    @BeforeAll
    static void start() throws IOException {
        h = AttackHost.prepare(tmp);
        h.config("locked", c -> {
            c.put("kind", "restricted");
            ArrayNode ps = c.putArray("programs");
            ps.addObject().put("path", "/usr/bin/wc").put("args", "-[cl]|[a-z]+\\.txt");
            ps.addObject().put("path", "/usr/bin/printenv").put("args", "[A-Z_]+");
        });
        Files.createDirectories(h.wd.resolve("sub"));
        Files.writeString(h.wd.resolve("sub").resolve("a.txt"), "12345");
        Files.createSymbolicLink(h.wd.resolve("wc"), Path.of("/usr/bin/wc"));
        Files.createSymbolicLink(h.wd.resolve("out"), tmp);
        h.start(Duration.ofMinutes(1));
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    private static RawClient.HostError refused(RawClient a, List<String> words, List<String> env) throws IOException {
        a.send(Frame.RUN, RawClient.runPayload(words, env, false));
        a.send(Frame.STDIN_END, new byte[0]);
        return a.expectError();
    }

    private static RawClient.Ran run(RawClient a, List<String> words, List<String> env, String stdin) throws IOException {
        a.send(Frame.RUN, RawClient.runPayload(words, env, stdin != null));
        if (stdin != null) {
            a.send(Frame.STDIN, stdin.getBytes(StandardCharsets.UTF_8));
        }
        a.send(Frame.STDIN_END, new byte[0]);
        return a.collect();
    }

    private static long denials() throws IOException {
        return h.audit("refused").stream().filter(e -> e.path("outcome").asText().equals("denied")).count();
    }

    @Test
    void onlyTheProgramAsWrittenWithWhollyMatchingArgumentsRuns() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("programs", "locked");
            assertThat(run(a, List.of("/usr/bin/wc", "-c"), List.of(), "abc")).isEqualTo(new RawClient.Ran(0, "3\n", ""));
            List<List<String>> attacks = List.of(
                    List.of("wc", "-c"),
                    List.of("//usr/bin/wc", "-c"),
                    List.of("/usr/bin/./wc", "-c"),
                    List.of("/usr/bin/../bin/wc", "-c"),
                    List.of("/usr//bin/wc", "-c"),
                    List.of("/usr/bin/wc/", "-c"),
                    List.of(" /usr/bin/wc", "-c"),
                    List.of("/usr/bin/wc\n", "-c"),
                    List.of("/usr/bin/wc -c"),
                    List.of(h.wd.resolve("wc").toString(), "-c"),
                    List.of("/bin/sh", "-c", "id"),
                    List.of("/usr/bin/env", "/usr/bin/wc"),
                    List.of("setsid", "/usr/bin/wc"),
                    List.of("/usr/bin/wc", "-c; id"),
                    List.of("/usr/bin/wc", "-c", ";", "id"),
                    List.of("/usr/bin/wc", "-cx"),
                    List.of("/usr/bin/wc", "-c\n"),
                    List.of("/usr/bin/wc", "a.txt\n/etc/passwd"),
                    List.of("/usr/bin/wc", "../a.txt"),
                    List.of("/usr/bin/wc", "--files0-from=/etc/passwd"),
                    List.of("=x"),
                    List.of("cd", "sub", "sub"));
            long before = denials();
            for (List<String> words : attacks) {
                assertThat(refused(a, words, List.of()).code()).as("%s", words).isEqualTo(4);
            }
            assertThat(denials() - before).isEqualTo(attacks.size());
            // jobs are checked the same way
            a.send(Frame.START_JOB, new Fields.Writer().strs(List.of("/bin/sh", "-c", "id")).strs(List.of()));
            assertThat(a.expectError().code()).isEqualTo(4);
            assertThat(run(a, List.of("/usr/bin/wc", "-l"), List.of(), "x\ny\n")).isEqualTo(new RawClient.Ran(0, "2\n", ""));
        }
    }

    @Test
    void variablesThatChangeWhatRunsAreRefusedAsFlagsAndAsWords() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("variables", "locked");
            for (String v : List.of("LD_PRELOAD=/tmp/x.so", "LD_LIBRARY_PATH=/tmp", "PATH=/tmp", "BASH_ENV=/tmp/x", "ENV=/tmp/x",
                    "LD_AUDIT=/tmp/x.so", "HOME=/", "NOT_LISTED=1")) {
                assertThat(refused(a, List.of("/usr/bin/printenv", "GREETING"), List.of(v)).code()).as("-e %s", v).isEqualTo(4);
                assertThat(refused(a, List.of(v), List.of()).code()).as("the word %s", v).isEqualTo(4);
            }
            assertThat(refused(a, List.of("GREETING=hi", "/usr/bin/printenv", "GREETING"), List.of()).code()).isEqualTo(4);
            a.send(Frame.START_JOB, new Fields.Writer().strs(List.of("GREETING=hi")).strs(List.of()));
            assertThat(a.expectError().code()).isEqualTo(2);
            // the allowed one, kept by the host for the session; nothing else reaches the program
            assertThat(run(a, List.of("GREETING=hi"), List.of(), null).exit()).isZero();
            assertThat(run(a, List.of("/usr/bin/printenv", "GREETING"), List.of(), null)).isEqualTo(new RawClient.Ran(0, "hi\n", ""));
            assertThat(run(a, List.of("/usr/bin/printenv", "GREETING"), List.of("GREETING=$(id)"), null).out()).isEqualTo("$(id)\n");
            assertThat(run(a, List.of("/usr/bin/printenv", "LD_PRELOAD"), List.of(), null)).isEqualTo(new RawClient.Ran(1, "", ""));
            assertThat(run(a, List.of("/usr/bin/printenv", "PATH"), List.of(), null).out()).isEqualTo("/usr/local/bin:/usr/bin:/bin\n");
        }
    }

    @Test
    void cdStaysInsideTheWorkingDirectory() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("cd", "locked");
            for (String dir : List.of("/", "..", "out", "out/", "sub/../..", "/proc/self/cwd", "missing", "sub\n..", h.wd.getParent().toString())) {
                assertThat(refused(a, List.of("cd", dir), List.of()).code()).as("cd %s", dir).isEqualTo(4);
            }
            assertThat(run(a, List.of("cd", "sub"), List.of(), null).exit()).isZero();
            assertThat(run(a, List.of("/usr/bin/wc", "-c", "a.txt"), List.of(), null).out()).isEqualTo("5 a.txt\n");
            assertThat(refused(a, List.of("cd", "../.."), List.of()).code()).isEqualTo(4);
            assertThat(run(a, List.of("cd", ".."), List.of(), null).exit()).isZero();
            assertThat(refused(a, List.of("cd", ".."), List.of()).code()).isEqualTo(4);
            assertThat(run(a, List.of("cd"), List.of(), null).exit()).isZero();
        }
    }

    @Test
    void aRefusalNamingAHugeArgumentIsAnsweredAndTheConnectionGoesOn() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("huge", "locked");
            // the refusal names the argument, escaped: 60,000 control characters become 240,000 characters of text
            RawClient.HostError e = refused(a, List.of("/usr/bin/wc", "\u0001".repeat(60_000)), List.of());
            assertThat(e.code()).isEqualTo(4);
            assertThat(e.message()).doesNotContain("\u0001");
            e = refused(a, List.of("/usr/bin/printenv", "GREETING"), List.of("\u0001".repeat(60_000) + "=x"));
            assertThat(e.code()).isEqualTo(4);
            assertThat(run(a, List.of("/usr/bin/wc", "-c"), List.of(), "ab")).isEqualTo(new RawClient.Ran(0, "2\n", ""));
        }
        JsonNode last = h.audit("refused").get(h.audit("refused").size() - 1);
        assertThat(last.path("outcome").asText()).isEqualTo("denied");
        assertThat(h.verifyAuditWhenQuiet()).isPositive();
    }
}
