package dev.keyway.remote;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.tls.params.Ticket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Java API against a host in this JVM: shared state, streams, stdin, ownership, reattach, revocation. */
@Timeout(60)
class RemoteSessionTest {
    @TempDir
    Path tmp;
    HostFixture f;

    @BeforeEach
    void start() throws Exception {
        f = HostFixture.start(tmp);
    }

    @AfterEach
    void stop() {
        f.close();
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    /**
     * A shell line that writes {@code out} (a file of 1 MiB) to stdout and {@code err} to stderr in alternating 16 KiB
     * pieces, then exits 7: both streams' bytes must come back exactly, neither mixed into the other.
     */
    static String interleaved(String out, String err) {
        return "i=0; while [ $i -lt 64 ]; do dd if=" + out + " bs=16384 skip=$i count=1 2>/dev/null; "
                + "dd if=" + err + " bs=16384 skip=$i count=1 >&2 2>/dev/null; i=$((i+1)); done; exit 7";
    }

    @Test
    void stateIsSharedBetweenRuns() {
        try (RemoteSession s = f.client.open(f.addr(), "t1", "default")) {
            RemoteSession.RunResult a = s.run("cd /tmp; X=1; f() { echo \"fn $1\"; }");
            assertThat(a.exit()).isZero();
            RemoteSession.RunResult b = s.run("pwd; echo $X; f arg");
            assertThat(b.out()).isEqualTo("/tmp\n1\nfn arg\n");
            assertThat(b.err()).isEmpty();
            assertThat(b.receipt().cwd()).isEqualTo("/tmp");
            RemoteSession.RunResult c = s.run("echo err >&2; false");
            assertThat(c.exit()).isEqualTo(1);
            assertThat(c.out()).isEmpty();
            assertThat(c.err()).isEqualTo("err\n");
        }
        // each command is audited with its argv, status and output digests (never stdin)
        List<JsonNode> commands = f.audit("command");
        assertThat(commands).hasSize(3);
        JsonNode d = HostFixture.detail(commands.get(1));
        assertThat(d.path("command").asText()).isEqualTo("pwd; echo $X; f arg");
        assertThat(d.path("cwd").asText()).isEqualTo("/tmp");
        assertThat(d.path("stdoutBytes").asText()).isEqualTo("14");
        assertThat(commands.get(2).path("outcome").asText()).isEqualTo("exit 1");
    }

    @Test
    void stdoutAndStderrAreSeparateAndByteExactAndTheStatusComesBack() throws Exception {
        byte[] a = random(1 << 20);
        byte[] b = random(1 << 20);
        Files.write(f.work.resolve("a.bin"), a);
        Files.write(f.work.resolve("b.bin"), b);
        try (RemoteSession s = f.client.open(f.addr(), "streams", "default")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            RemoteSession.RunResult r = s.run(List.of(interleaved("a.bin", "b.bin")), Map.of(), null, out, err);
            assertThat(r.exit()).isEqualTo(7);
            assertThat(out.size()).isEqualTo(1 << 20);
            assertThat(err.size()).isEqualTo(1 << 20);
            assertThat(sha256(out.toByteArray())).isEqualTo(sha256(a));
            assertThat(sha256(err.toByteArray())).isEqualTo(sha256(b));
            // the host signed what it sent, and the client checked it: the receipt names the same digests
            assertThat(r.receipt().exit()).isEqualTo(7);
            assertThat(r.receipt().stdoutSha256()).isEqualTo(sha256(a));
            assertThat(r.receipt().stderrSha256()).isEqualTo(sha256(b));
            assertThat(r.receipt().verify(r.signature())).isTrue();
            // exit ended that shell; the session goes on with a new one
            assertThat(s.run("echo again").out()).isEqualTo("again\n");
        }
    }

    @Test
    void stdinIsPassedThroughToItsEnd() {
        try (RemoteSession s = f.client.open(f.addr(), "t2", "default")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            RemoteSession.RunResult r = s.run(List.of("wc -c"), Map.of(), new ByteArrayInputStream("abc".getBytes(StandardCharsets.US_ASCII)),
                    out, new ByteArrayOutputStream());
            assertThat(r.exit()).isZero();
            assertThat(out.toString().strip()).isEqualTo("3");
            // no stdin at all: the command reads an immediate end
            assertThat(s.run("wc -c").out().strip()).isEqualTo("0");
        }
    }

    @Test
    void aLargeStdinArrivesIntactUnderTheCreditWindow() throws Exception {
        byte[] data = random(3 << 20); // twelve times the host's credit window
        try (RemoteSession s = f.client.open(f.addr(), "big", "default")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            RemoteSession.RunResult r = s.run(List.of("sha256sum"), Map.of(), new ByteArrayInputStream(data), out, new ByteArrayOutputStream());
            assertThat(r.exit()).isZero();
            assertThat(out.toString(StandardCharsets.US_ASCII)).isEqualTo(sha256(data) + "  -\n");
            // a command that never reads its stdin ends without waiting for it, and the next command runs
            RemoteSession.RunResult t = s.run(List.of("true"), Map.of(), new ByteArrayInputStream(data), new ByteArrayOutputStream(), new ByteArrayOutputStream());
            assertThat(t.exit()).isZero();
            assertThat(s.run("echo next").out()).isEqualTo("next\n");
        }
    }

    @Test
    void anotherIdentityCannotAttachToOrRemoveASessionItDoesNotOwn() {
        Identity bob = f.allowNew("bob", "default");
        String id;
        try (RemoteSession s = f.client.open(f.addr(), "mine", "default")) {
            id = s.info().id();
            s.run("X=secret");
        }
        RemoteClient bobs = f.clientOf(bob);
        assertThatThrownBy(() -> bobs.attach(f.addr(), id, null, false))
                .isInstanceOfSatisfying(KeywayException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.POLICY);
                    assertThat(e.code().exitCode()).isEqualTo(4);
                    assertThat(e.getMessage()).contains("belongs to another identity");
                });
        try (RemoteSession.Link link = bobs.link(f.addr(), null)) {
            assertThat(link.list()).isEmpty(); // bob does not even see it
            assertThatThrownBy(() -> link.remove(id)).isInstanceOfSatisfying(KeywayException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.POLICY));
        }
        List<JsonNode> refused = f.audit("refused");
        assertThat(refused).hasSize(2);
        assertThat(refused).allSatisfy(e -> {
            assertThat(e.path("client").asText()).isEqualTo("bob");
            assertThat(e.path("outcome").asText()).isEqualTo("denied");
            assertThat(HostFixture.detail(e).path("reason").asText()).contains(id);
        });
        // the session is untouched: alice still finds her variable
        try (RemoteSession s = f.client.attach(f.addr(), id, null, false)) {
            assertThat(s.run("echo $X").out()).isEqualTo("secret\n");
        }
    }

    /** A stream that takes {@code limit} bytes, then fails the way a client dying mid-write would. */
    static final class DyingStream extends OutputStream {
        final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        final int limit;

        DyingStream(int limit) {
            this.limit = limit;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (kept.size() + len > limit) {
                throw new IOException("the client died");
            }
            kept.write(b, off, len);
        }
    }

    @Test
    void aDetachedJobsOutputArrivesExactlyOnceAcrossAClientThatDiedMidReceive() throws Exception {
        int n = 20000;
        String expected = IntStream.rangeClosed(1, n).mapToObj(i -> "line " + i + "\n").collect(Collectors.joining());
        RemoteSession s = f.client.open(f.addr(), "job", "default");
        String id = s.info().id();
        String job = s.startJob(List.of("awk 'BEGIN { for (i = 1; i <= 10000; i++) print \"line \" i }'; touch half; sleep 1; "
                + "awk 'BEGIN { for (i = 10001; i <= 20000; i++) print \"line \" i }'; exit 5"), Map.of());
        Ticket ticket = s.ticket();
        assertThat(ticket).isNotNull();
        // once the first half (108,894 bytes) is written, at most a pipe's 64 KiB of it is not yet on the host:
        // more than 40,000 bytes wait there, and the receive below dies at its second 32 KiB piece
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!Files.exists(f.work.resolve("half")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(f.work.resolve("half")).exists();
        DyingStream dying = new DyingStream(40_000);
        assertThatThrownBy(() -> s.receive(job, dying, new ByteArrayOutputStream()))
                .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.IO));
        assertThat(dying.kept.size()).isBetween(1, 40_000);
        all.write(dying.kept.toByteArray());
        s.close(); // the connection is in the middle of a receive: it just ends
        // a new connection with the same identity resumes with the ticket and receives the rest
        RemoteSession.JobState last = null;
        deadline = System.nanoTime() + 30_000_000_000L;
        while ((last == null || !last.done()) && System.nanoTime() < deadline) {
            try (RemoteSession again = f.client.attach(f.addr(), id, ticket, false)) {
                assertThat(again.resumed()).as("resumed with the saved ticket").isTrue();
                List<RemoteSession.JobState> st = again.receive(job, all, new ByteArrayOutputStream());
                assertThat(st).hasSize(1);
                last = st.get(0);
                if (again.ticket() != null) {
                    ticket = again.ticket();
                }
            }
            Thread.sleep(200);
        }
        assertThat(last).isNotNull();
        assertThat(last.done()).isTrue();
        assertThat(last.exit()).isEqualTo(5);
        assertThat(all.toString(StandardCharsets.US_ASCII)).isEqualTo(expected);
        // once its end was received the host forgets the job
        try (RemoteSession again = f.client.attach(f.addr(), id, ticket, false)) {
            assertThat(again.receive("", new ByteArrayOutputStream(), new ByteArrayOutputStream())).isEmpty();
        }
        assertThat(f.audit("job-received")).hasSize(1);
    }

    @Test
    void aCopiedTicketWithAnotherAllowedIdentityFailsTheHelloProof() {
        Identity bob = f.allowNew("bob", "default");
        String id;
        Ticket ticket;
        try (RemoteSession s = f.client.open(f.addr(), "t", "default")) {
            id = s.info().id();
            ticket = s.ticket();
        }
        assertThat(ticket).isNotNull();
        // bob presents alice's ticket: the TLS session resumes (the ticket is valid, and names alice), but bob cannot
        // sign alice's proof for this connection
        assertThatThrownBy(() -> f.clientOf(bob).attach(f.addr(), id, ticket, false))
                .isInstanceOfSatisfying(KeywayException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.AUTH_FAILED);
                    assertThat(e.code().exitCode()).isEqualTo(3);
                    assertThat(e.getMessage()).contains("ticket belongs to another identity");
                });
        JsonNode refused = f.audit("refused").get(0);
        assertThat(refused.path("outcome").asText()).isEqualTo("auth-failed");
        assertThat(refused.path("client").asText()).isEqualTo("alice"); // whom the ticket named
        assertThat(HostFixture.detail(refused).path("reason").asText()).contains("resumed with a ticket of alice");
        assertThat(f.audit("attach")).isEmpty();
        // the same ticket with alice's own identity resumes and attaches
        try (RemoteSession s = f.client.attach(f.addr(), id, ticket, false)) {
            assertThat(s.resumed()).isTrue();
            assertThat(s.run("echo ok").out()).isEqualTo("ok\n");
        }
        assertThat(HostFixture.detail(f.audit("attach").get(0)).path("resumed").asText()).isEqualTo("true");
    }

    @Test
    void aRevokedIdentityIsRefusedAtItsNextAttachEvenWithATicket() {
        String id;
        Ticket ticket;
        try (RemoteSession s = f.client.open(f.addr(), "t", "default")) {
            id = s.info().id();
            ticket = s.ticket();
        }
        assertThat(f.dir.revoke("alice")).isTrue();
        assertThatThrownBy(() -> f.client.attach(f.addr(), id, ticket, false))
                .isInstanceOfSatisfying(KeywayException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.POLICY);
                    assertThat(e.getMessage()).contains("does not allow this identity");
                });
        assertThatThrownBy(() -> f.client.open(f.addr(), "t2", "default"))
                .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.POLICY));
        // the session itself runs on until it is removed or reaped
        assertThat(f.host.sessionIds()).containsExactly(id);
    }

    @Test
    void aRevocationReachesAConnectionThatIsAlreadyOpen() {
        try (RemoteSession s = f.client.open(f.addr(), "live", "default")) {
            assertThat(s.run("echo before").out()).isEqualTo("before\n");
            assertThat(f.dir.revoke("alice")).isTrue();
            assertThatThrownBy(() -> s.run("echo after"))
                    .isInstanceOfSatisfying(KeywayException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.POLICY);
                        assertThat(e.getMessage()).contains("revoked");
                    });
            assertThatThrownBy(() -> s.startJob(List.of("true"), Map.of()))
                    .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.POLICY));
        }
        assertThat(f.audit("refused")).anySatisfy(e -> assertThat(HostFixture.detail(e).path("reason").asText()).contains("revoked"));
    }
}
