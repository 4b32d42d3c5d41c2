package dev.keyway.remote;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Attacks on the host's resources: clients that do not read, connections that say nothing, more sessions than a
 * configuration allows, jobs that print for ever. The safe outcome is bounded memory and a host that keeps serving
 * everyone else.
 */
@Timeout(60)
class RemoteResourcesAttackTest {
    /** Generous: what should take milliseconds gets seconds; what hangs takes for ever. */
    private static final Duration BOUND = Duration.ofSeconds(10);

    @TempDir
    Path tmp;
    AttackHost h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    /** Starts a RUN printing {@code bytes} zeros and does not read: returns once the host's output for it is stuck. */
    private String stallOutput(RawClient a, long bytes) throws Exception {
        String id = a.open("work", "default");
        a.send(Frame.RUN, RawClient.runPayload(List.of("head -c " + bytes + " /dev/zero"), List.of(), false));
        a.send(Frame.STDIN_END, new byte[0]);
        HostConnection hc = h.session(id).attached;
        // stuck: over the high-water mark, and the socket takes no more (the kernel's buffers are full)
        int[] last = {-1};
        assertThat(AttackHost.eventually(BOUND, () -> {
            int now = hc.c.engine().outputLength();
            boolean still = now == last[0];
            last[0] = now;
            if (!still) {
                try {
                    Thread.sleep(250);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return still && now > 512 * 1024;
        })).as("the host's output for the client piles up to the high-water mark and stays there").isTrue();
        return id;
    }

    @Test
    void aClientThatStopsReadingIsBackpressuredNotBuffered() throws Exception {
        h = AttackHost.start(tmp);
        long total = 16L << 20;
        try (RawClient a = h.connect(h.alice)) {
            String id = stallOutput(a, total);
            HostConnection hc = h.session(id).attached;
            int most = 0;
            for (int i = 0; i < 20; i++) {
                most = Math.max(most, hc.c.engine().outputLength());
                Thread.sleep(25);
            }
            assertThat(most).as("output waiting in the engine").isLessThan(1 << 20);
            // then the client reads: every byte arrives, and the status
            RawClient.Ran r = a.collect();
            assertThat(r.exit()).isZero();
            assertThat(r.out().length()).isEqualTo(total);
        }
    }

    @Test
    void aProtocolViolationFromAClientWhoseOutputIsStuckDoesNotFreezeTheHost() throws Exception {
        h = AttackHost.start(tmp);
        try (RawClient a = h.connect(h.alice)) {
            stallOutput(a, 1L << 30);
            // the host answers a violation with an ERROR frame and a close; its output for alice is stuck
            a.raw(RawClient.header(Frame.LIST, 0xFFFFFFFFL));
            Thread.sleep(200);
            // every loop of the server must still serve: bob connects as many times as there can be loops
            ExecutorService ex = Executors.newSingleThreadExecutor();
            try {
                for (int i = 0; i < 2 * Runtime.getRuntime().availableProcessors(); i++) {
                    Future<List<String>> f = ex.submit(() -> {
                        try (RawClient b = h.connect(h.bob)) {
                            return b.list();
                        }
                    });
                    assertThat(f.get(BOUND.toSeconds(), TimeUnit.SECONDS)).as("bob's connection %d", i).isEmpty();
                }
            } finally {
                ex.shutdownNow();
            }
        }
    }

    @Test
    void attachingFromAnotherConnectionTakesOverEvenWhenTheOldOneDoesNotRead() throws Exception {
        h = AttackHost.start(tmp);
        try (RawClient stuck = h.connect(h.alice)) {
            String id = stallOutput(stuck, 1L << 30);
            // the client process froze (or its network went half-open); the user reattaches from elsewhere
            CompletableFuture<String> attached = CompletableFuture.supplyAsync(() -> {
                try (RawClient again = h.connect(h.alice)) {
                    return again.attach(id, false);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(attached.get(BOUND.toSeconds(), TimeUnit.SECONDS)).isEqualTo(id);
        }
    }

    @Test
    void aSilentConnectionIsClosedAndHalfOpenSocketsDoNotBlockOthers() throws Exception {
        h = AttackHost.start(tmp, Duration.ofSeconds(1));
        List<Socket> halfOpen = new ArrayList<>();
        try {
            for (int i = 0; i < 50; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", h.port()), 5000);
                halfOpen.add(s);
            }
            try (RawClient silent = RawClient.tls(h.port(), h.cert, h.alice, null); RawClient a = h.connect(h.alice)) {
                // a handshake and then not a byte: no HELLO, so nothing is allotted, and the idle timeout ends it
                a.open("work", "default");
                assertThat(a.run("echo served").out()).isEqualTo("served\n");
                assertThat(silent.closesWithin(BOUND)).isTrue();
            }
        } finally {
            for (Socket s : halfOpen) {
                s.close();
            }
        }
    }

    @Test
    void aJobPrintingForEverWithNobodyReceivingHoldsAtMostItsBuffer() throws Exception {
        h = AttackHost.prepare(tmp);
        h.config("default", c -> c.put("outputBuffer", 65536).put("whenOutputFull", "pause"));
        h.config("dropping", c -> c.put("outputBuffer", 65536).put("whenOutputFull", "drop"));
        h.start(Duration.ofMinutes(1));
        try (RawClient a = h.connect(h.alice); RawClient b = h.connect(h.alice)) {
            String paused = a.open("paused", "default");
            a.startJob("yes; echo never >&2");
            String dropping = b.open("dropping", "dropping");
            b.startJob("yes");
            HostJob p = h.session(paused).jobs.get("1");
            HostJob d = h.session(dropping).jobs.get("1");
            assertThat(AttackHost.eventually(BOUND, () -> p.output().produced() >= 65536 && d.output().dropped() > 0)).isTrue();
            long before = p.output().produced();
            long droppedBefore = d.output().dropped();
            Thread.sleep(300);
            assertThat(p.output().produced()).as("a paused job writes no more").isEqualTo(before);
            assertThat(p.output().produced() - p.output().base()).isLessThanOrEqualTo(65536);
            assertThat(d.output().produced() - d.output().base()).isLessThanOrEqualTo(65536);
            assertThat(d.output().dropped()).as("a dropping job runs on, its bytes counted").isGreaterThan(droppedBefore);
            assertThat(h.host.processesOf(paused)).isNotEmpty();
        }
        try (RawClient a = h.connect(h.alice)) {
            for (String id : a.list()) {
                List<ProcessHandle> ps = h.host.processesOf(id);
                a.send(Frame.REMOVE, new Fields.Writer().str(id));
                a.expect(Frame.OK);
                assertThat(AttackHost.eventually(BOUND, () -> ps.stream().noneMatch(ProcessHandle::isAlive))).isTrue();
            }
        }
    }

    @Test
    void sessionsBeyondTheLimitAreRefusedEvenWhenOpenedAllAtOnce() throws Exception {
        h = AttackHost.prepare(tmp);
        h.config("default", c -> c.put("sessionsPerClient", 3));
        h.start(Duration.ofMinutes(1));
        int tries = 16;
        ExecutorService ex = Executors.newFixedThreadPool(tries);
        try {
            List<RawClient> clients = new ArrayList<>();
            for (int i = 0; i < tries; i++) {
                clients.add(h.connect(h.alice));
            }
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> answers = new ArrayList<>();
            for (int i = 0; i < tries; i++) {
                RawClient c = clients.get(i);
                String name = "s" + i;
                answers.add(ex.submit(() -> {
                    go.await();
                    c.send(Frame.OPEN, new Fields.Writer().str(name).str("default"));
                    Frame f = c.expectAny(Frame.SESSION, Frame.ERROR);
                    return f.type() == Frame.SESSION ? 0 : f.reader().u8();
                }));
            }
            go.countDown();
            int opened = 0;
            for (Future<Integer> f : answers) {
                int code = f.get(BOUND.toSeconds(), TimeUnit.SECONDS);
                assertThat(code).isIn(0, 4);
                opened += code == 0 ? 1 : 0;
            }
            assertThat(opened).isEqualTo(3);
            assertThat(h.host.sessionIds()).hasSize(3);
            clients.forEach(RawClient::close);
        } finally {
            ex.shutdownNow();
        }
        // the same name twice at once is refused too
        try (RawClient a = h.connect(h.alice)) {
            for (String id : a.list()) {
                a.send(Frame.REMOVE, new Fields.Writer().str(id));
                a.expect(Frame.OK);
            }
        }
        List<RawClient> twins = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            twins.add(h.connect(h.alice));
        }
        ex = Executors.newFixedThreadPool(twins.size());
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Boolean>> answers = new ArrayList<>();
            for (RawClient c : twins) {
                answers.add(ex.submit(() -> {
                    go.await();
                    c.send(Frame.OPEN, new Fields.Writer().str("twin").str("default"));
                    return c.expectAny(Frame.SESSION, Frame.ERROR).type() == Frame.SESSION;
                }));
            }
            go.countDown();
            int opened = 0;
            for (Future<Boolean> f : answers) {
                opened += f.get(BOUND.toSeconds(), TimeUnit.SECONDS) ? 1 : 0;
            }
            assertThat(opened).as("sessions named twin").isEqualTo(1);
        } finally {
            ex.shutdownNow();
            twins.forEach(RawClient::close);
        }
    }

    @Test
    void aJobThatLeavesABackgroundProcessHoldingItsOutputDoesNotStallTheSession() throws Exception {
        h = AttackHost.start(tmp);
        try (RawClient a = h.connect(h.alice)) {
            String id = a.open("work", "default");
            // the job's shell ends at once, its status is reported; the sleep keeps the job's output pipes open
            a.startJob("sleep 40 & echo started");
            Thread.sleep(300);
            CompletableFuture<RawClient.Ran> next = CompletableFuture.supplyAsync(() -> {
                try {
                    return a.run("echo next");
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(next.get(BOUND.toSeconds(), TimeUnit.SECONDS)).isEqualTo(new RawClient.Ran(0, "next\n", ""));
            List<ProcessHandle> ps = h.host.processesOf(id);
            a.send(Frame.REMOVE, new Fields.Writer().str(id));
            a.expect(Frame.OK);
            assertThat(AttackHost.eventually(BOUND, () -> ps.stream().noneMatch(ProcessHandle::isAlive))).isTrue();
        }
    }

    @Test
    void aQuietCommandOutlivesTheConnectionIdleTimeout() throws Exception {
        // a command that prints nothing for longer than the idle timeout is not an idle connection
        h = AttackHost.start(tmp, Duration.ofSeconds(1));
        try (RawClient a = h.connect(h.alice)) {
            a.open("work", "default");
            RawClient.Ran r = a.run("sleep 2.5; echo woke");
            assertThat(r).isEqualTo(new RawClient.Ran(0, "woke\n", ""));
        }
    }

    @Test
    void receivingAJobThatPrintsForEverReturns() throws Exception {
        h = AttackHost.prepare(tmp);
        h.config("default", c -> c.put("outputBuffer", 16 << 20).put("whenOutputFull", "pause")); // the default
        h.start(Duration.ofMinutes(1));
        try (RawClient a = h.connect(h.alice)) {
            a.open("work", "default");
            String job = a.startJob("yes");
            Thread.sleep(200);
            // what the real client does: each piece acknowledged as it is written, which makes room for more; this
            // client writes more slowly than the job prints (a terminal, a slow link)
            CompletableFuture<Long> received = CompletableFuture.supplyAsync(() -> {
                try {
                    a.send(Frame.RECEIVE, new Fields.Writer().str(job));
                    long n = 0;
                    while (true) {
                        Frame f = a.expectAny(Frame.JOB_DATA, Frame.JOB_STATE, Frame.OK);
                        if (f.type() == Frame.OK) {
                            return n;
                        }
                        if (f.type() == Frame.JOB_DATA) {
                            Fields.Reader r = f.reader();
                            r.str();
                            r.u8();
                            long at = r.i64();
                            byte[] data = r.bytes();
                            n += data.length;
                            Thread.sleep(2);
                            a.send(Frame.ACK, new Fields.Writer().str(job).i64(at + data.length).i64(0).u8(0));
                        }
                    }
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            long n = received.get(BOUND.toSeconds(), TimeUnit.SECONDS);
            assertThat(n).as("what the job had printed when the receive began, more or less").isPositive();
        }
    }

    @Test
    void jobsComingAndGoingDoNotBreakTheReaper() throws Exception {
        // The reaper runs on a schedule that one exception ends for good: idle timeouts and lifetimes would no longer
        // apply to anyone. A client makes jobs come and go as fast as it can while the reaper looks at them.
        h = AttackHost.prepare(tmp);
        h.config("default", c -> c.put("jobsPerSession", 1000));
        h.start(Duration.ofMinutes(1));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread reaper = new Thread(() -> {
            while (!stop.get()) {
                try {
                    h.host.reap();
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
                LockSupport.parkNanos(20_000); // often, but leaving the session's own work room
            }
        });
        reaper.start();
        try (RawClient a = h.connect(h.alice)) {
            a.open("churn", "default");
            for (int round = 0; round < 1; round++) {
                for (int i = 0; i < 60; i++) {
                    a.startJob("true");
                }
                Thread.sleep(200);
                a.send(Frame.RECEIVE, new Fields.Writer().str(""));
                while (true) {
                    Frame f = a.expectAny(Frame.JOB_DATA, Frame.JOB_STATE, Frame.OK);
                    if (f.type() == Frame.OK) {
                        break;
                    }
                    if (f.type() == Frame.JOB_STATE) {
                        Fields.Reader r = f.reader();
                        String id = r.str();
                        r.str();
                        if (r.u8() == 1) {
                            a.send(Frame.ACK, new Fields.Writer().str(id).i64(Long.MAX_VALUE).i64(Long.MAX_VALUE).u8(1));
                        }
                    }
                }
            }
        } finally {
            stop.set(true);
            reaper.join();
        }
        assertThat(failure.get()).isNull();
    }

    @Test
    void aSessionWhoseShellIsBusyWithALeftOverCommandCanStillBeRemoved() throws Exception {
        h = AttackHost.start(tmp);
        String id;
        try (RawClient a = h.connect(h.alice)) {
            id = a.open("busy", "default");
            a.send(Frame.RUN, RawClient.runPayload(List.of("sleep 60"), List.of(), false));
            a.send(Frame.STDIN_END, new byte[0]);
            Thread.sleep(300);
        } // the client goes away: the command runs on, the shell busy with it
        try (RawClient b = h.connect(h.alice); RawClient c = h.connect(h.alice)) {
            b.attach(id, false);
            List<ProcessHandle> ps = h.host.processesOf(id);
            // a job whose script (a variable and the line, 120 KB) is more than the shell's pipe holds: the host's
            // write waits for the busy shell, holding the session
            b.send(Frame.START_JOB, new Fields.Writer().strs(List.of(": " + "a".repeat(60_000))).strs(List.of("GREETING=" + "b".repeat(60_000))));
            Thread.sleep(300);
            CompletableFuture<Integer> removed = CompletableFuture.supplyAsync(() -> {
                try {
                    c.send(Frame.REMOVE, new Fields.Writer().str(id));
                    return c.expectAny(Frame.OK, Frame.ERROR).type();
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(removed.get(BOUND.toSeconds(), TimeUnit.SECONDS)).isEqualTo(Frame.OK);
            assertThat(AttackHost.eventually(BOUND, () -> ps.stream().noneMatch(ProcessHandle::isAlive))).isTrue();
        }
        assertThat(h.host.sessionIds()).isEmpty();
    }

    @Test
    void stoppingTheServiceWhileCommandsAndJobsRunLeavesAnAuditLogThatVerifiesAndAServiceThatStartsAgain() throws Exception {
        // Commands whose clients are gone, and jobs, end when the service stops; their ends are audited on their own
        // threads. An entry written once the host's key is gone would be covered by no signed head: the log would
        // look tampered with, and the service, which verifies it at start, would not start again.
        h = AttackHost.start(tmp);
        List<RawClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                RawClient c = h.connect(h.alice);
                clients.add(c);
                c.open("s" + i, "default");
                c.startJob("sleep 30");
                // a process of its own session (setsid) keeps the command's output open: its end comes after the grace
                c.send(Frame.RUN, RawClient.runPayload(List.of("setsid sleep 4 & sleep 30"), List.of(), false));
                c.send(Frame.STDIN_END, new byte[0]);
            }
            Thread.sleep(300);
            h.host.close();
        } finally {
            clients.forEach(RawClient::close);
        }
        Thread.sleep(3000); // what still ends after the stop has ended (the grace for output is 2 s)
        long entries = h.dir.verifyAudit();
        assertThat(h.audit("service-stop")).hasSize(1);
        assertThat(h.audit().get((int) entries - 1).path("event").asText()).isEqualTo("service-stop");
        h.host = null;
        h.start(Duration.ofMinutes(1));
        assertThat(h.host.sessionIds()).isEmpty();
    }
}
