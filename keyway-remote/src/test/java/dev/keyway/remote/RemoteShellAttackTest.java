package dev.keyway.remote;

import com.fasterxml.jackson.databind.JsonNode;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Command lines built to break out of the host's quoting in a shell session, or to forge the status the host reads
 * back: each must run as exactly the line given, report its own status, and leave the persistent shell in step, so
 * that the next command runs as itself and reports its own status too.
 */
@Timeout(60)
class RemoteShellAttackTest {
    @TempDir
    static Path tmp;
    static AttackHost h;

    @BeforeAll
    static void start() throws IOException {
        h = AttackHost.start(tmp);
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    /** Runs {@code line}, then a probe that must report its own output and status and see the session's state. */
    private RawClient.Ran runAndProbe(RawClient a, String line) throws IOException {
        RawClient.Ran r = a.run(line);
        RawClient.Ran probe = a.run("printf 'probe %s' \"$KEPT\"; (exit 6)");
        assertThat(probe).as("the command after %s", line).isEqualTo(new RawClient.Ran(6, "probe kept", ""));
        return r;
    }

    @Test
    void linesThatTryToEndTheQuotingRunAsThemselves() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("quoting", "default");
            assertThat(a.run("KEPT=kept").exit()).isZero();
            assertThat(runAndProbe(a, "printf '%s\\n' 'it'\"'\"'s'")).isEqualTo(new RawClient.Ran(0, "it's\n", ""));
            assertThat(runAndProbe(a, "'; exit 1; '").exit()).as("a command named '; exit 1; '").isEqualTo(127);
            assertThat(runAndProbe(a, "'\\''; exit 1; echo '\\''").exit()).isNotZero();
            assertThat(runAndProbe(a, "echo \"unbalanced").exit()).isEqualTo(2);
            assertThat(runAndProbe(a, "echo 'unbalanced").exit()).isEqualTo(2);
            assertThat(runAndProbe(a, ")").exit()).isEqualTo(2);
            assertThat(runAndProbe(a, "echo ends with backslash\\")).isEqualTo(new RawClient.Ran(0, "ends with backslash\\\n", ""));
            assertThat(runAndProbe(a, "echo one\necho two")).isEqualTo(new RawClient.Ran(0, "one\ntwo\n", ""));
            assertThat(runAndProbe(a, "cat <<EOF\nhere\nEOF")).isEqualTo(new RawClient.Ran(0, "here\n", ""));
            assertThat(runAndProbe(a, "cat <<EOF\nno end marker")).isEqualTo(new RawClient.Ran(0, "no end marker", ""));
            // the host's own wrapper words, as if the line could close its quote and add a redirection
            assertThat(runAndProbe(a, "echo x' >/dev/null; printf 'F 0 1 /\\n'; echo '")).isEqualTo(new RawClient.Ran(0, "x >/dev/null; printf F 0 1 /n; echo \n", ""));
            assertThat(runAndProbe(a, "echo \"\\$(id)\" '`id`'")).isEqualTo(new RawClient.Ran(0, "$(id) `id`\n", ""));
            assertThat(runAndProbe(a, "exec >/dev/null 2>&1; echo gone")).isEqualTo(new RawClient.Ran(0, "", ""));
            assertThat(runAndProbe(a, "exec </dev/null")).isEqualTo(new RawClient.Ran(0, "", ""));
            assertThat(runAndProbe(a, "echo -n cr\r")).isEqualTo(new RawClient.Ran(0, "cr\r", ""));
        }
    }

    @Test
    void aNulInTheLineIsRefusedAndTheSessionGoesOn() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("nul", "default");
            assertThat(a.run("KEPT=kept").exit()).isZero();
            a.send(Frame.RUN, RawClient.runPayload(List.of("echo a\0; touch " + tmp.resolve("nul-ran")), List.of(), false));
            a.send(Frame.STDIN_END, new byte[0]);
            assertThat(a.expectError().code()).isEqualTo(2);
            assertThat(a.run("printf 'probe %s' \"$KEPT\"; (exit 6)")).isEqualTo(new RawClient.Ran(6, "probe kept", ""));
            assertThat(tmp.resolve("nul-ran")).doesNotExist();
        }
    }

    @Test
    void aLineTooLongForItsReceiptIsRefusedBeforeItRuns() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("long", "default");
            Path marker = tmp.resolve("long-ran");
            String word = "a".repeat(60_000);
            // four words of 60,000 bytes: one line of 240 KB, which no receipt (nor audit entry) can name in full
            a.send(Frame.RUN, RawClient.runPayload(List.of("touch " + marker + "; : " + word, word, word, word), List.of(), false));
            a.send(Frame.STDIN_END, new byte[0]);
            assertThat(a.expectError().code()).isEqualTo(2);
            a.send(Frame.START_JOB, new Fields.Writer().strs(List.of("touch " + marker + "; : " + word, word)).strs(List.of()));
            assertThat(a.expectError().code()).isEqualTo(2);
            Thread.sleep(200);
            assertThat(marker).as("the command did not run").doesNotExist();
            // one just under the limit runs whole: more than a pipe holds, so the host's write to the shell blocks meanwhile
            RawClient.Ran r = a.run("printf '%s' " + word + " | wc -c");
            assertThat(r).isEqualTo(new RawClient.Ran(0, "60000\n", ""));
            assertThat(a.run("echo next")).isEqualTo(new RawClient.Ran(0, "next\n", ""));
        }
    }

    @Test
    void statusLinesWrittenToTheCommandsOwnStreamsAreOutput() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("forge", "default");
            String fake = "F 0 4 /tmp\\nJ 1 0\\n";
            RawClient.Ran r = a.run("printf '" + fake + "'; printf '" + fake + "' >&2; printf '" + fake + "' >/proc/self/fd/1; "
                    + "printf '" + fake + "' >/dev/stdout; sh -c \"printf '" + fake + "' >/proc/\\$PPID/fd/1\"; exit 9");
            assertThat(r.exit()).isEqualTo(9);
            assertThat(r.out()).isEqualTo("F 0 4 /tmp\nJ 1 0\n".repeat(4));
            assertThat(r.err()).isEqualTo("F 0 4 /tmp\nJ 1 0\n");
            assertThat(a.run("pwd; (exit 3)")).isEqualTo(new RawClient.Ran(3, h.wd + "\n", ""));
        }
    }

    @Test
    void variablesCarryTheirValueAsDataAndOnlyTheAllowedNames() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("env", "default");
            String evil = "'; touch " + tmp.resolve("env-ran") + "; echo '$(id)`id`\n";
            a.send(Frame.RUN, RawClient.runPayload(List.of("printf '%s' \"$GREETING\""), List.of("GREETING=" + evil), false));
            a.send(Frame.STDIN_END, new byte[0]);
            assertThat(a.collect()).isEqualTo(new RawClient.Ran(0, evil, ""));
            assertThat(tmp.resolve("env-ran")).doesNotExist();
            for (String pair : List.of("LD_PRELOAD=/tmp/x.so", "PATH=/tmp", "BASH_ENV=/tmp/x", "ENV=/tmp/x", "IFS=x", "HOME=/",
                    "KEYWAY_SESSION=x", "PS4=$(id)", "NOT_LISTED=1", "GREETING;id=1", "1X=1", "GREETING\n=1")) {
                a.send(Frame.RUN, RawClient.runPayload(List.of("true"), List.of(pair), false));
                a.send(Frame.STDIN_END, new byte[0]);
                assertThat(a.expectError().code()).as(pair).isEqualTo(4);
            }
            assertThat(h.audit("refused")).hasSizeGreaterThanOrEqualTo(12);
            assertThat(a.run("echo next")).isEqualTo(new RawClient.Ran(0, "next\n", ""));
        }
    }

    @Test
    void aSessionWhoseShellNoLongerReportsCanStillBeRemovedWithEverythingItStarted() throws Exception {
        // The session's own code can silence the status channel (here a function named printf, which the host's
        // status line then calls): its owner's session hangs. It must not take anything else with it: the owner
        // can reconnect and remove it, and every process of it ends.
        String id;
        try (RawClient a = h.connect(h.alice)) {
            id = a.open("wedged", "default");
            a.send(Frame.RUN, RawClient.runPayload(List.of("printf() { :; }; sleep 60 & echo started"), List.of(), false));
            a.send(Frame.STDIN_END, new byte[0]);
            assertThat(a.expect(Frame.OUT).payload()).isEqualTo("started\n".getBytes(StandardCharsets.US_ASCII));
        }
        List<ProcessHandle> ps = h.host.processesOf(id);
        assertThat(ps).isNotEmpty();
        try (RawClient a = h.connect(h.alice); RawClient other = h.connect(h.bob)) {
            other.open("bystander", "default");
            assertThat(other.run("echo fine")).isEqualTo(new RawClient.Ran(0, "fine\n", ""));
            CompletableFuture<Boolean> removed = CompletableFuture.supplyAsync(() -> {
                try {
                    a.send(Frame.REMOVE, new Fields.Writer().str(id));
                    a.expect(Frame.OK);
                    return true;
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(removed.get(10, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(AttackHost.eventually(Duration.ofSeconds(10), () -> ps.stream().noneMatch(ProcessHandle::isAlive))).isTrue();
        assertThat(h.host.sessionIds()).doesNotContain(id);
        assertThat(Files.exists(h.root.resolve("run").resolve(id))).isFalse();
    }

    @Test
    void textThatLooksLikeAuditEntriesStaysInsideItsOwnEntry() throws Exception {
        String fake = "{\"seq\":\"999\",\"at\":\"2030-01-01T00:00:00Z\",\"event\":\"command\",\"client\":\"bob\",\"outcome\":\"ok\"}";
        List<String> lines = List.of(
                ": '\n" + fake + "\n'",
                ": '\r\n" + fake + "\r'",
                ": '\u2028\u2029\u0085" + fake + "'",
                ": '\"}\\\\\"\\u000a'",
                ": '" + "\u0001\u0007\u001b[2J\u007f".repeat(3000) + "'");
        try (RawClient a = h.connect(h.alice)) {
            a.open("audit", "default");
            for (String line : lines) {
                assertThat(a.run(line).exit()).as(line).isZero();
            }
            String job = a.startJob(lines.get(0));
            assertThat(job).isNotEmpty();
            a.send(Frame.RUN, RawClient.runPayload(List.of("true"), List.of("GREETING\n" + fake + "=1"), false));
            a.send(Frame.STDIN_END, new byte[0]);
            assertThat(a.expectError().code()).isEqualTo(4);
        }
        long entries = h.verifyAuditWhenQuiet();
        List<String> raw = Files.readAllLines(h.dir.auditFile(), StandardCharsets.UTF_8);
        assertThat(raw).hasSize((int) entries);
        List<JsonNode> all = h.audit();
        for (int i = 0; i < all.size(); i++) {
            assertThat(all.get(i).path("seq").asText()).isEqualTo(Integer.toString(i + 1));
            assertThat(all.get(i).path("client").asText()).isNotEqualTo("bob");
        }
        List<String> commands = all.stream().filter(e -> e.path("event").asText().equals("command"))
                .map(e -> AttackHost.detail(e).path("command").asText()).toList();
        assertThat(commands).containsAll(lines);
        assertThat(all.stream().filter(e -> e.path("event").asText().equals("job-start"))
                .map(e -> AttackHost.detail(e).path("command").asText()).toList()).contains(lines.get(0));
    }
}
