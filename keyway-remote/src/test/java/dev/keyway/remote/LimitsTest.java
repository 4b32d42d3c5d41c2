package dev.keyway.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A configuration's limits, with the host's clock in the test's hand: the idle timeout and the lifetime reap
 * sessions (and every process they started), sessions per client and jobs per session refuse with exit 4.
 */
@Timeout(60)
class LimitsTest {
    @TempDir
    Path tmp;
    HostFixture f;

    @BeforeEach
    void start() throws Exception {
        f = HostFixture.start(tmp);
        ObjectNode lim = HostFixture.shellConfig(f.work);
        lim.put("idleTimeout", "10m");
        lim.put("maxLifetime", "1h");
        lim.put("sessionsPerClient", 2);
        lim.put("jobsPerSession", 2);
        f.writeConfig("lim", lim);
        f.dir.allow("alice", f.alice.recipient(), "lim");
    }

    @AfterEach
    void stop() {
        f.close();
    }

    /**
     * Waits (at most 10 s) until none of the processes runs any more. A killed process whose parent was the session's
     * shell is re-parented to init, which reaps it when it gets to it: until then it is a zombie (which Java still
     * calls alive) that runs nothing.
     */
    static void assertAllEnd(List<ProcessHandle> ps) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (ps.stream().anyMatch(LimitsTest::running) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(ps).as("processes of the session").noneMatch(LimitsTest::running);
    }

    static boolean running(ProcessHandle p) {
        if (!p.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false; // gone between the two looks
        }
    }

    @Test
    void anIdleSessionIsReapedAfterItsIdleTimeoutAndNothingItStartedSurvives() throws Exception {
        String id;
        long sleeper;
        try (RemoteSession s = f.client.open(f.addr(), "idle", "lim")) {
            id = s.info().id();
            RemoteSession.RunResult r = s.run("sleep 300 >/dev/null 2>&1 </dev/null & echo $!");
            sleeper = Long.parseLong(r.out().strip());
        }
        List<ProcessHandle> before = f.host.processesOf(id);
        assertThat(before.stream().map(ProcessHandle::pid)).contains(sleeper);
        assertThat(before).hasSizeGreaterThanOrEqualTo(2); // the session's shell and the sleep
        ProcessHandle sleep = ProcessHandle.of(sleeper).orElseThrow();

        f.clock.advance(Duration.ofMinutes(9));
        f.host.reap();
        assertThat(f.host.sessionIds()).containsExactly(id);
        assertThat(sleep.isAlive()).isTrue();

        f.clock.advance(Duration.ofMinutes(2));
        f.host.reap();
        assertThat(f.host.sessionIds()).isEmpty();
        assertThat(f.host.processesOf(id)).isEmpty();
        assertAllEnd(before);
        List<JsonNode> reaps = f.audit("reap");
        assertThat(reaps).hasSize(1);
        assertThat(reaps.get(0).path("session").asText()).isEqualTo(id);
        assertThat(HostFixture.detail(reaps.get(0)).path("reason").asText()).contains("idle");
        assertThatThrownBy(() -> f.client.attach(f.addr(), id, null, false))
                .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.getMessage()).contains("no session"));
    }

    @Test
    void activityKeepsASessionAndARunningJobIsNotIdleButTheLifetimeEndsBoth() throws Exception {
        RemoteSession s = f.client.open(f.addr(), "busy", "lim");
        String id = s.info().id();
        s.startJob(List.of("sleep 300"), Map.of());
        // commands every 8 minutes keep it from being idle
        for (int i = 0; i < 3; i++) {
            f.clock.advance(Duration.ofMinutes(8));
            f.host.reap();
            assertThat(s.run("true").exit()).isZero();
        }
        List<ProcessHandle> before = new ArrayList<>(f.host.processesOf(id));
        assertThat(before).hasSizeGreaterThanOrEqualTo(2);
        // 24 minutes in: idle for 20 more, but its job runs, so only the lifetime (1 h) can end it
        f.clock.advance(Duration.ofMinutes(20));
        f.host.reap();
        assertThat(f.host.sessionIds()).containsExactly(id);
        f.clock.advance(Duration.ofMinutes(17));
        f.host.reap();
        assertThat(f.host.sessionIds()).isEmpty();
        assertAllEnd(before);
        assertThat(HostFixture.detail(f.audit("reap").get(0)).path("reason").asText()).contains("lifetime");
        // the client still attached finds its connection closed
        assertThatThrownBy(() -> s.run("true")).isInstanceOfSatisfying(KeywayException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.PEER));
        s.close();
    }

    @Test
    void sessionsPerClientIsALimit() {
        try (RemoteSession a = f.client.open(f.addr(), "a", "lim"); RemoteSession b = f.client.open(f.addr(), "b", "lim")) {
            assertThatThrownBy(() -> f.client.open(f.addr(), "c", "lim")).isInstanceOfSatisfying(KeywayException.class, e -> {
                assertThat(e.code().exitCode()).isEqualTo(4);
                assertThat(e.getMessage()).contains("2 sessions");
            });
            assertThat(f.audit("refused")).hasSize(1);
            // the limit is per configuration: the default one still opens
            f.client.open(f.addr(), "d", "default").close();
            b.remove();
            f.client.open(f.addr(), "c", "lim").close();
        }
        assertThat(f.host.sessionIds()).hasSize(3);
    }

    @Test
    void jobsPerSessionCountsJobsNotYetReceived() throws Exception {
        try (RemoteSession s = f.client.open(f.addr(), "jobs", "lim")) {
            String quick = s.startJob(List.of("echo done"), Map.of());
            s.startJob(List.of("sleep 300"), Map.of());
            assertThatThrownBy(() -> s.startJob(List.of("true"), Map.of())).isInstanceOfSatisfying(KeywayException.class, e -> {
                assertThat(e.code().exitCode()).isEqualTo(4);
                assertThat(e.getMessage()).contains("jobs not yet received");
            });
            assertThat(f.audit("refused")).hasSize(1);
            // once the quick job's end is received, it no longer counts
            Optional<RemoteSession.JobState> st = Optional.empty();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int i = 0; i < 200 && st.map(j -> !j.done()).orElse(true); i++) {
                st = s.receive(quick, out, new ByteArrayOutputStream()).stream().findFirst();
                if (!st.orElseThrow().done()) {
                    Thread.sleep(25);
                }
            }
            assertThat(st.orElseThrow().done()).isTrue();
            assertThat(out.toString()).isEqualTo("done\n");
            assertThat(s.startJob(List.of("true"), Map.of())).isEqualTo("3");
        }
    }
}
