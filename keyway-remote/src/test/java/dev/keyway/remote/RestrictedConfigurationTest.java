package dev.keyway.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A restricted configuration: no shell, each command an argv checked against the allowed programs (exact absolute
 * paths) and their argument patterns; the host keeps the working directory and the allowed variables. Everything
 * else is refused with exit 4 and audited, and nothing of it runs.
 */
@Timeout(60)
class RestrictedConfigurationTest {
    @TempDir
    Path tmp;
    HostFixture f;
    RemoteSession s;

    @BeforeEach
    void start() throws Exception {
        f = HostFixture.start(tmp);
        ObjectNode ro = HostFixture.shellConfig(f.work);
        ro.put("kind", "restricted");
        ArrayNode programs = ro.putArray("programs");
        programs.addObject().put("path", "/usr/bin/wc").put("args", "-[clw]");
        programs.addObject().put("path", "/bin/echo").put("args", "[A-Za-z0-9 ]*");
        programs.addObject().put("path", "/usr/bin/env").put("args", "");
        f.writeConfig("ro", ro); // environment: GREETING only
        f.dir.allow("alice", f.alice.recipient(), "ro");
        s = f.client.open(f.addr(), "ro", "ro");
        assertThat(s.info().kind()).isEqualTo("restricted");
    }

    @AfterEach
    void stop() {
        s.close();
        f.close();
    }

    RemoteSession.RunResult run(List<String> argv, Map<String, String> env, String stdin) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        RemoteSession.RunResult r = s.run(argv, env, stdin == null ? null : new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), out, err);
        return new RemoteSession.RunResult(r.exit(), r.receipt(), r.signature(), r.elapsed(), out.toByteArray(), err.toByteArray());
    }

    RemoteSession.RunResult run(String... argv) {
        return run(List.of(argv), Map.of(), null);
    }

    /** The command is refused with exit 4, one more refusal is audited for this configuration, and the session goes on. */
    void refused(List<String> argv, Map<String, String> env) {
        int before = f.audit("refused").size();
        int commands = f.audit("command").size();
        assertThatThrownBy(() -> run(argv, env, null)).as("%s %s", argv, env)
                .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code().exitCode()).isEqualTo(4));
        List<JsonNode> refused = f.audit("refused");
        assertThat(refused).hasSize(before + 1);
        JsonNode last = refused.get(refused.size() - 1);
        assertThat(last.path("client").asText()).isEqualTo("alice");
        assertThat(last.path("config").asText()).isEqualTo("ro");
        assertThat(last.path("session").asText()).isEqualTo(s.info().id());
        assertThat(last.path("outcome").asText()).isEqualTo("denied");
        assertThat(f.audit("command")).hasSize(commands);
        assertThat(run("/bin/echo", "still here").out()).isEqualTo("still here\n");
    }

    void refused(String... argv) {
        refused(List.of(argv), Map.of());
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theLineFormOfRunIsTheWordsBetweenSpaces() {
        assertThat(s.words("  /usr/bin/wc   -c ")).containsExactly("/usr/bin/wc", "-c");
        assertThat(s.run("/bin/echo hello  there").out()).isEqualTo("hello there\n");
        assertThat(s.run("GREETING=hi").exit()).isZero();
        assertThat(s.run("/usr/bin/env").out().lines()).contains("GREETING=hi");
        // still no shell: the words are checked one by one
        assertThatThrownBy(() -> s.run("/bin/echo hi;id")).isInstanceOfSatisfying(KeywayException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.POLICY));
    }

    @Test
    void allowedProgramsRunWithAllowedArguments() {
        RemoteSession.RunResult r = run("/bin/echo", "hello world");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).isEqualTo("hello world\n");
        assertThat(run(List.of("/usr/bin/wc", "-c"), Map.of(), "hello").out().strip()).isEqualTo("5");
        assertThat(run(List.of("/usr/bin/wc", "-l", "-w"), Map.of(), "a b\nc\n").out().strip()).matches("2\\s+3");
        assertThat(f.audit("command")).hasSize(3);
        assertThat(HostFixture.detail(f.audit("command").get(0)).path("command").asText()).isEqualTo("/bin/echo 'hello world'");
    }

    @Test
    void shellSyntaxOtherProgramsDotDotPathsAndLoaderVariablesAreRefusedAndAudited() throws Exception {
        Path marker = f.work.resolve("pwned");
        refused("/usr/bin/wc -c; touch " + marker);             // a shell line as one word is not a program
        refused("/bin/echo", "hi; touch " + marker);             // nor does ';' pass the argument pattern
        refused("/usr/bin/wc", "-c", ";", "touch", marker.toString());
        refused("/bin/echo", "$(id)");
        refused("/bin/sh");
        refused("/bin/sh", "-c", "id");
        refused("/usr/bin/../bin/sh");                           // a path with '..'
        refused("/usr/bin/../bin/wc", "-c");                     // even to an allowed program
        refused("/usr/bin/./wc", "-c");
        refused("wc", "-c");                                     // no PATH search
        refused("/usr/bin/wc", "--files0-from=/etc/passwd");     // argument outside the pattern
        refused(List.of("/usr/bin/env"), Map.of("LD_PRELOAD", "/x"));       // as a variable (-e)
        refused("LD_PRELOAD=/x");                                // as a word
        refused("LD_PRELOAD=/x", "/usr/bin/env");
        refused(List.of("/usr/bin/env"), Map.of("PATH", "/tmp"));
        refused(List.of("/usr/bin/env"), Map.of("OTHER", "x"));  // not in the configuration's environment
        assertThat(marker).doesNotExist();
        assertThat(run("/usr/bin/env").out()).doesNotContain("LD_PRELOAD").doesNotContain("OTHER=");
    }

    @Test
    void theHostKeepsAllowedVariables() {
        assertThat(run("GREETING=hi").exit()).isZero();
        assertThat(run("/usr/bin/env").out().lines()).contains("GREETING=hi");
        // a variable given with the command (-e) applies to that command
        assertThat(run(List.of("/usr/bin/env"), Map.of("GREETING", "there"), null).out().lines()).contains("GREETING=there");
        assertThat(run("/usr/bin/env").out().lines()).contains("GREETING=hi");
        assertThat(HostFixture.detail(f.audit("command").get(2)).path("variables").asText()).isEqualTo("GREETING");
    }

    @Test
    void cdStaysUnderTheWorkingDirectory() throws Exception {
        Path root = f.work.toRealPath();
        Files.createDirectories(root.resolve("sub/deeper"));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.createSymbolicLink(root.resolve("sub/out"), outside);
        assertThat(run("cd", "sub").exit()).isZero();
        assertThat(run("/bin/echo", "x").receipt().cwd()).isEqualTo(root.resolve("sub").toString());
        assertThat(run("cd", "deeper").exit()).isZero();
        assertThat(run("cd", "..").exit()).isZero();
        assertThat(run("/bin/echo", "x").receipt().cwd()).isEqualTo(root.resolve("sub").toString());
        refused("cd", "../..");
        refused("cd", "/");
        refused("cd", "/tmp");
        refused("cd", "out");                                    // a symlink out of it
        refused("cd", "missing");
        assertThat(run("/bin/echo", "x").receipt().cwd()).isEqualTo(root.resolve("sub").toString());
        assertThat(run("cd").exit()).isZero();
        assertThat(run("/bin/echo", "x").receipt().cwd()).isEqualTo(root.toString());
    }

    @Test
    void jobsRunAllowedProgramsOnly() {
        String job = s.startJob(List.of("/bin/echo", "from a job"), Map.of());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<RemoteSession.JobState> st = List.of();
        for (int i = 0; i < 100 && (st.isEmpty() || !st.get(0).done()); i++) {
            st = s.receive(job, out, new ByteArrayOutputStream());
            if (!st.get(0).done()) {
                sleep(50);
            }
        }
        assertThat(st.get(0).done()).isTrue();
        assertThat(st.get(0).exit()).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("from a job\n");
        int before = f.audit("refused").size();
        assertThatThrownBy(() -> s.startJob(List.of("/bin/sh", "-c", "id"), Map.of()))
                .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.POLICY));
        assertThat(f.audit("refused")).hasSize(before + 1);
    }
}
