package dev.keyway.remote;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyway.core.identity.Identity;
import dev.keyway.tls.cert.Certificates;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.params.TlsException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * An outsider's attacks on the remote-session host, through a raw protocol client ({@link RawClient}): who gets
 * past the handshake and the HELLO, whether one identity can reach another's sessions or jobs, and what malformed
 * or out-of-order frames do. Each test is one attack and asserts the safe outcome: the exit code the host answers
 * with (2 malformed, 3 authentication failed, 4 refused by policy), the connection closed where the protocol says
 * so, the audit entry, and the victim's session untouched.
 */
@Timeout(60)
class RemoteHostAttackTest {
    private static final Duration SOON = Duration.ofSeconds(5);

    @TempDir
    Path tmp;
    AttackHost h;

    @BeforeEach
    void start() throws IOException {
        h = AttackHost.start(tmp);
    }

    @AfterEach
    void stop() {
        h.close();
    }

    /** The alert that ends the connection of {@code connect} (after a HELLO as {@code helloAs} when not null). */
    private static Alert refusal(Callable<RawClient> connect, Identity helloAs) throws Exception {
        try (RawClient c = connect.call()) {
            if (helloAs != null) {
                try {
                    c.hello(helloAs);
                } catch (IOException | RuntimeException e) {
                    // the host may have closed already: the alert is read below
                }
            }
            Frame f = c.next();
            fail("the host let the connection through: " + (f == null ? "closed without an alert" : RawClient.describe(f)));
            return null;
        } catch (TlsException e) {
            return e.alert();
        }
    }

    // ---------------------------------------------------------------- identity

    @Test
    void anIdentityThatIsNotAllowedIsRefusedInTheHandshake() throws Exception {
        Alert a = refusal(() -> RawClient.tls(h.port(), h.cert, h.mallory, null), h.mallory);
        assertThat(a).isEqualTo(Alert.ACCESS_DENIED);
        assertThat(h.host.sessionIds()).isEmpty();
    }

    @Test
    void anotherAllowedIdentitysCertificateWithoutItsPrivateKeyFailsTheHandshake() throws Exception {
        // alice's certificate is public (she shows it to every host); mallory, and bob too, have only their own keys
        KeyPair aliceKeys = RemoteKeys.signingKeyPair(h.alice);
        var aliceCert = RemoteKeys.clientCertificate(h.alice, aliceKeys);
        for (Identity thief : List.of(h.mallory, h.bob)) {
            KeyPair own = RemoteKeys.signingKeyPair(thief);
            Alert a = refusal(() -> RawClient.tls(h.port(), h.cert, List.of(aliceCert), own.getPrivate(), null), h.alice);
            assertThat(a).as("CertificateVerify made with the wrong key").isEqualTo(Alert.DECRYPT_ERROR);
        }
        assertThat(h.host.sessionIds()).isEmpty();
    }

    @Test
    void aClientCertificateWhoseKeyIsNotEd25519IsRefused() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        KeyPair ec = g.generateKeyPair();
        var cert = Certificates.selfSigned(ec, "keyway-remote-client ec", List.of(), Duration.ofDays(1));
        assertThat(refusal(() -> RawClient.tls(h.port(), h.cert, List.of(cert), ec.getPrivate(), null), null)).isEqualTo(Alert.ACCESS_DENIED);
    }

    @Test
    void aClientWithoutACertificateIsRefused() throws Exception {
        Alert a = refusal(() -> RawClient.tls(h.port(), h.cert, null, null, null), null);
        assertThat(a).isIn(Alert.CERTIFICATE_REQUIRED, Alert.ACCESS_DENIED);
    }

    @Test
    void aTicketOfAliceUsedByBobFailsTheHelloProofAndNothingAfterItIsRead() throws Exception {
        Ticket ticket;
        try (RawClient a = h.connect(h.alice)) {
            a.open("mine", "default");
            ticket = a.tls.tickets().get(a.tls.tickets().size() - 1);
        }
        for (Identity thief : List.of(h.bob, h.mallory)) {
            try (RawClient b = RawClient.tls(h.port(), h.cert, thief, ticket)) {
                assertThat(b.tls.resumed()).as("the ticket resumes: TLS alone cannot tell who holds it").isTrue();
                // the HELLO and, in the same write, a LIST that would show alice's sessions
                ByteArrayOutputStream both = new ByteArrayOutputStream();
                both.writeBytes(new Frame(Frame.HELLO, new Fields.Writer().bytes(b.proof(thief))).encode());
                both.writeBytes(new Frame(Frame.LIST, new byte[0]).encode());
                b.raw(both.toByteArray());
                assertThat(b.expectError().code()).isEqualTo(3);
                assertThat(b.closesWithin(SOON)).as("nothing after the failed proof is answered").isTrue();
            }
        }
        List<JsonNode> refused = h.audit("refused");
        assertThat(refused).hasSize(2).allSatisfy(e -> {
            assertThat(e.path("outcome").asText()).isEqualTo("auth-failed");
            assertThat(AttackHost.detail(e).path("reason").asText()).contains("ticket of alice");
        });
        assertThat(h.audit("attach")).isEmpty();
    }

    @Test
    void aRevokedIdentitysTicketNoLongerResumes() throws Exception {
        Ticket ticket;
        String id;
        try (RawClient a = h.connect(h.alice)) {
            id = a.open("mine", "default");
            ticket = a.tls.tickets().get(a.tls.tickets().size() - 1);
        }
        assertThat(h.dir.revoke("alice")).isTrue();
        // the ticket carries alice's chain, checked again at resumption: a full handshake follows, and is refused
        Alert a = refusal(() -> RawClient.tls(h.port(), h.cert, h.alice, ticket), h.alice);
        assertThat(a).isEqualTo(Alert.ACCESS_DENIED);
        assertThat(h.audit("attach")).isEmpty();
        assertThat(h.host.sessionIds()).containsExactly(id);
    }

    @Test
    void aHelloSignatureFromAnotherConnectionDoesNotVerify() throws Exception {
        byte[] recorded;
        Ticket ticket;
        try (RawClient a = h.connect(h.alice)) {
            recorded = a.proof(h.alice);
            ticket = a.tls.tickets().get(0);
        }
        // a valid signature by alice's key, but bound to the other connection's exporter value
        try (RawClient m = RawClient.tls(h.port(), h.cert, h.mallory, ticket)) {
            m.send(Frame.HELLO, new Fields.Writer().bytes(recorded));
            assertThat(m.expectError().code()).isEqualTo(3);
            assertThat(m.closesWithin(SOON)).isTrue();
        }
    }

    @Test
    void aHelloWithAWrongLengthSignatureFailsAuthentication() throws Exception {
        for (int len : new int[] {0, 63, 65, 128}) {
            try (RawClient c = RawClient.tls(h.port(), h.cert, h.alice, null)) {
                byte[] sig = Arrays.copyOf(c.proof(h.alice), len);
                c.send(Frame.HELLO, new Fields.Writer().bytes(sig));
                assertThat(c.expectError().code()).as("signature of %d bytes", len).isEqualTo(3);
                assertThat(c.closesWithin(SOON)).isTrue();
            }
        }
    }

    @Test
    void aMalformedHelloIsRefusedAsMalformed() throws Exception {
        byte[][] payloads = {
                new byte[0], // no field
                {0, 0, 0, 64}, // a length with nothing after it
                new Fields.Writer().bytes(new byte[64]).u8(0).toByteArray(), // a byte after the signature
        };
        for (byte[] p : payloads) {
            try (RawClient c = RawClient.tls(h.port(), h.cert, h.alice, null)) {
                c.send(Frame.HELLO, p);
                assertThat(c.expectError().code()).isEqualTo(2);
                assertThat(c.closesWithin(SOON)).isTrue();
            }
        }
    }

    @Test
    void aSecondHelloDoesNotSwitchTheIdentity() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            String id = a.open("mine", "default");
            // a proof by bob's key for this very connection: as if bob and alice shared it
            a.send(Frame.HELLO, new Fields.Writer().bytes(a.proof(h.bob)));
            assertThat(a.expectError().code()).isEqualTo(2);
            assertThat(a.list()).containsExactly(id);
        }
        try (RawClient b = h.connect(h.bob)) {
            assertThat(b.list()).isEmpty();
        }
    }

    @Test
    void requestsBeforeTheHelloAreNotRead() throws Exception {
        for (int type : new int[] {Frame.OPEN, Frame.LIST, Frame.RUN, Frame.WELCOME}) {
            try (RawClient c = RawClient.tls(h.port(), h.cert, h.alice, null)) {
                byte[] payload = type == Frame.OPEN ? new Fields.Writer().str("early").str("default").toByteArray() : new byte[0];
                c.send(type, payload);
                c.hello(h.alice);
                assertThat(c.expectError().code()).isEqualTo(2);
                assertThat(c.closesWithin(SOON)).isTrue();
            }
        }
        assertThat(h.host.sessionIds()).isEmpty();
        assertThat(h.audit("open")).isEmpty();
    }

    @Test
    void aFrameLengthOf4GiBClosesTheConnectionBeforeAndAfterTheHello() throws Exception {
        try (RawClient c = RawClient.tls(h.port(), h.cert, h.alice, null)) {
            c.raw(RawClient.header(Frame.HELLO, 0xFFFFFFFFL));
            assertThat(c.expectError().code()).isEqualTo(2);
            assertThat(c.closesWithin(SOON)).isTrue();
        }
        try (RawClient c = h.connect(h.alice)) {
            c.raw(RawClient.header(Frame.LIST, 0xFFFFFFFFL));
            assertThat(c.expectError().code()).isEqualTo(2);
            assertThat(c.closesWithin(SOON)).isTrue();
        }
    }

    @Test
    void aHelloOver256BytesIsRefused() throws Exception {
        try (RawClient c = RawClient.tls(h.port(), h.cert, h.alice, null)) {
            // a valid proof followed by padding: 300 bytes in all
            byte[] padded = Arrays.copyOf(new Fields.Writer().bytes(c.proof(h.alice)).toByteArray(), 300);
            c.send(Frame.HELLO, padded);
            assertThat(c.expectError().code()).isEqualTo(2);
            assertThat(c.closesWithin(SOON)).isTrue();
        }
    }

    @Test
    void aFirstFrameAnnouncingMoreThanAHelloIsRefusedAtItsHeader() throws Exception {
        // Before the HELLO the peer has proven nothing (a copied ticket gets this far): a header announcing a
        // megabyte must not make the host wait for, and hold a buffer for, a megabyte.
        try (RawClient c = RawClient.tls(h.port(), h.cert, h.alice, null)) {
            c.raw(RawClient.header(Frame.HELLO, Frame.MAX_PAYLOAD));
            assertThat(c.expectError().code()).isEqualTo(2);
            assertThat(c.closesWithin(SOON)).isTrue();
        }
    }

    // ---------------------------------------------------------------- one identity against another's sessions

    @Test
    void bobCannotAttachConnectOrRemoveAlicesSession() throws Exception {
        try (RawClient a = h.connect(h.alice); RawClient b = h.connect(h.bob)) {
            String id = a.open("work", "default");
            assertThat(a.run("X=41").exit()).isZero();
            b.send(Frame.ATTACH, new Fields.Writer().str(id).u8(0));
            assertThat(b.expectError().code()).isEqualTo(4);
            b.send(Frame.ATTACH, new Fields.Writer().str(id).u8(1));
            assertThat(b.expectError().code()).isEqualTo(4);
            b.send(Frame.REMOVE, new Fields.Writer().str(id));
            assertThat(b.expectError().code()).isEqualTo(4);
            assertThat(b.list()).doesNotContain(id);
            // bob's connection is still his: refusals are not the end of it
            String bobs = b.open("work", "default");
            assertThat(b.list()).containsExactly(bobs);

            // alice's session is untouched: still attached to her connection, its state intact
            RawClient.Ran r = a.run("echo $((X+1))");
            assertThat(r.out()).isEqualTo("42\n");
            assertThat(h.host.processesOf(id)).isNotEmpty();
            assertThat(h.session(id).attached).isNotNull();

            List<JsonNode> refused = h.audit("refused");
            assertThat(refused).hasSize(3).allSatisfy(e -> {
                assertThat(e.path("client").asText()).isEqualTo("bob");
                assertThat(e.path("outcome").asText()).isEqualTo("denied");
                assertThat(AttackHost.detail(e).path("reason").asText()).contains(id);
            });
        }
        assertThat(h.verifyAuditWhenQuiet()).isPositive();
    }

    @Test
    void bobCannotReceiveOrAcknowledgeAlicesJobs() throws Exception {
        try (RawClient a = h.connect(h.alice); RawClient b = h.connect(h.bob)) {
            a.open("work", "default");
            String job = a.startJob("printf alice-secret");
            b.open("work", "default");
            // job ids are small numbers, so bob names alice's job by guessing: his own session has no such job
            b.send(Frame.RECEIVE, new Fields.Writer().str(job));
            assertThat(b.expectError().code()).isEqualTo(2);
            b.send(Frame.ACK, new Fields.Writer().str(job).i64(Long.MAX_VALUE).i64(Long.MAX_VALUE).u8(1));
            b.send(Frame.RECEIVE, new Fields.Writer().str(""));
            assertThat(b.expectAny(Frame.OK).type()).isEqualTo(Frame.OK); // nothing of alice's
            // alice still gets every byte of her job
            Thread.sleep(200);
            assertThat(receiveAll(a, job)).isEqualTo("alice-secret");
        }
    }

    @Test
    void requestsWithoutAnAttachedSessionAreRefused() throws Exception {
        try (RawClient b = h.connect(h.bob)) {
            b.send(Frame.RUN, RawClient.runPayload(List.of("id"), List.of(), false));
            b.send(Frame.STDIN_END, new byte[0]);
            assertThat(b.expectError().code()).isEqualTo(2);
            b.send(Frame.START_JOB, new Fields.Writer().strs(List.of("id")).strs(List.of()));
            assertThat(b.expectError().code()).isEqualTo(2);
            b.send(Frame.RECEIVE, new Fields.Writer().str(""));
            assertThat(b.expectError().code()).isEqualTo(2);
            b.send(Frame.GET, new Fields.Writer().str("x"));
            assertThat(b.expectError().code()).isEqualTo(2);
            b.send(Frame.PUT, new Fields.Writer().str("x").i64(1));
            assertThat(b.expectError().code()).isEqualTo(2);
            // an ACK without a session is ignored, not a crash
            b.send(Frame.ACK, new Fields.Writer().str("1").i64(5).i64(5).u8(1));
            assertThat(b.list()).isEmpty();
        }
    }

    /** RECEIVE of one job until its JOB_STATE says done; returns its stdout. Acknowledges as the real client does. */
    static String receiveAll(RawClient c, String job) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int round = 0; round < 100; round++) {
            c.send(Frame.RECEIVE, new Fields.Writer().str(job));
            boolean done = false;
            while (true) {
                Frame f = c.expectAny(Frame.JOB_DATA, Frame.JOB_STATE, Frame.OK);
                if (f.type() == Frame.OK) {
                    break;
                }
                Fields.Reader r = f.reader();
                String id = r.str();
                if (f.type() == Frame.JOB_DATA) {
                    int stream = r.u8();
                    long at = r.i64();
                    byte[] data = r.bytes();
                    if (stream == 1) {
                        assertThat(at).isEqualTo(out.size());
                        out.writeBytes(data);
                        c.send(Frame.ACK, new Fields.Writer().str(id).i64(out.size()).i64(0).u8(0));
                    }
                } else {
                    r.str();
                    done = r.u8() == 1;
                    if (done) {
                        c.send(Frame.ACK, new Fields.Writer().str(id).i64(out.size()).i64(Long.MAX_VALUE).u8(1));
                    }
                }
            }
            if (done) {
                return out.toString(StandardCharsets.UTF_8);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("job " + job + " did not end");
    }

    @Test
    void acknowledgementsWithBogusJobsOrOffsetsChangeNothing() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("work", "default");
            String job = a.startJob("printf abcdef");
            Thread.sleep(300);
            for (long bogus : new long[] {-1, Long.MIN_VALUE, -4096}) {
                a.send(Frame.ACK, new Fields.Writer().str(job).i64(bogus).i64(bogus).u8(1));
            }
            a.send(Frame.ACK, new Fields.Writer().str("999").i64(Long.MAX_VALUE).i64(Long.MAX_VALUE).u8(1));
            a.send(Frame.ACK, new Fields.Writer().str("\u001b[2J").i64(1).i64(1).u8(0));
            assertThat(receiveAll(a, job)).isEqualTo("abcdef");
            // a malformed ACK is a protocol violation: the connection ends, the session stays
            a.send(Frame.ACK, new Fields.Writer().str(job).i64(1));
            assertThat(a.expectError().code()).isEqualTo(2);
            assertThat(a.closesWithin(SOON)).isTrue();
        }
        assertThat(h.host.sessionIds()).hasSize(1);
    }

    // ---------------------------------------------------------------- protocol abuse

    @Test
    void moreThanSixteenWaitingRequestsEndTheConnectionNotTheSession() throws Exception {
        String id;
        try (RawClient a = h.connect(h.alice)) {
            id = a.open("work", "default");
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            burst.writeBytes(new Frame(Frame.RUN, RawClient.runPayload(List.of("sleep 1"), List.of(), false)).encode());
            burst.writeBytes(new Frame(Frame.STDIN_END, new byte[0]).encode());
            for (int i = 0; i < 40; i++) {
                burst.writeBytes(new Frame(Frame.LIST, new byte[0]).encode());
            }
            a.raw(burst.toByteArray());
            RawClient.HostError e = a.expectError();
            assertThat(e.code()).isEqualTo(2);
            assertThat(e.message()).contains("requests waiting");
            assertThat(a.closesWithin(SOON)).isTrue();
        }
        assertThat(AttackHost.eventually(SOON, () -> !h.session(id).busy)).isTrue();
        try (RawClient a = h.connect(h.alice)) {
            a.attach(id, false);
            assertThat(a.run("echo still here").out()).isEqualTo("still here\n");
        }
    }

    @Test
    void stdinWithoutARunEndsTheConnection() throws Exception {
        for (int type : new int[] {Frame.STDIN, Frame.STDIN_END}) {
            try (RawClient a = h.connect(h.alice)) {
                a.open("s" + type, "default");
                a.send(type, "x".getBytes(StandardCharsets.US_ASCII));
                assertThat(a.expectError().code()).isEqualTo(2);
                assertThat(a.closesWithin(SOON)).isTrue();
            }
        }
    }

    @Test
    void stdinBeyondTheCreditWindowEndsTheConnection() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("work", "default");
            a.send(Frame.RUN, RawClient.runPayload(List.of("sleep 3"), List.of(), true));
            byte[] chunk = new byte[Frame.CHUNK];
            ByteArrayOutputStream flood = new ByteArrayOutputStream();
            for (int i = 0; i < 3 * ForegroundRun.WINDOW / Frame.CHUNK; i++) {
                flood.writeBytes(new Frame(Frame.STDIN, chunk).encode());
            }
            a.raw(flood.toByteArray());
            Frame f;
            while ((f = a.nextNonPing()) != null && f.type() == Frame.CREDIT) {
                // credit for what the pipe took
            }
            assertThat(f).isNotNull();
            assertThat(RawClient.describe(f)).startsWith("ERROR 2").contains("credit window");
            assertThat(a.closesWithin(SOON)).isTrue();
        }
    }

    @Test
    void aSecondStdinEndOrARunBeforeTheLastOnesStdinEndedEndTheConnection() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("one", "default");
            a.send(Frame.RUN, RawClient.runPayload(List.of("true"), List.of(), false));
            a.send(Frame.STDIN_END, new byte[0]);
            a.send(Frame.STDIN_END, new byte[0]);
            assertThat(a.nextNonPing()).isNotNull(); // the EXIT or the ERROR, whichever the host sent first
            assertThat(a.closesWithin(SOON)).isTrue();
        }
        try (RawClient a = h.connect(h.alice)) {
            a.open("two", "default");
            a.send(Frame.RUN, RawClient.runPayload(List.of("cat"), List.of(), true));
            a.send(Frame.RUN, RawClient.runPayload(List.of("true"), List.of(), false));
            Frame f;
            while ((f = a.nextNonPing()) != null && f.type() != Frame.ERROR) {
                // nothing of cat's: it waits for stdin
            }
            assertThat(f).isNotNull();
            assertThat(RawClient.describe(f)).startsWith("ERROR 2");
            assertThat(a.closesWithin(SOON)).isTrue();
        }
    }

    @Test
    void runsSentBackToBackRunOneAfterTheOtherWithTheirOwnStatus() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("work", "default");
            ByteArrayOutputStream burst = new ByteArrayOutputStream();
            for (String line : List.of("sleep 0.3; echo first; exit 3", "echo second; exit 4")) {
                burst.writeBytes(new Frame(Frame.RUN, RawClient.runPayload(List.of(line), List.of(), false)).encode());
                burst.writeBytes(new Frame(Frame.STDIN_END, new byte[0]).encode());
            }
            a.raw(burst.toByteArray());
            RawClient.Ran one = a.collect();
            RawClient.Ran two = a.collect();
            assertThat(one).isEqualTo(new RawClient.Ran(3, "first\n", ""));
            assertThat(two).isEqualTo(new RawClient.Ran(4, "second\n", ""));
        }
    }

    @Test
    void fileBytesWithoutAPutAreDropped() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            a.open("work", "default");
            a.send(Frame.FILE_DATA, "planted".getBytes(StandardCharsets.US_ASCII));
            a.send(Frame.FILE_END, new byte[32]);
            assertThat(a.list()).hasSize(1);
            assertThat(a.run("echo ok").out()).isEqualTo("ok\n");
        }
        try (var files = Files.list(h.wd)) {
            assertThat(files.toList()).isEmpty();
        }
    }

    @Test
    void malformedRequestsAreRefusedAndChangeNothing() throws Exception {
        try (RawClient a = h.connect(h.alice)) {
            byte[] notUtf8 = {0, 3, (byte) 0xC3, (byte) 0x28, 'x', 0, 7, 'd', 'e', 'f', 'a', 'u', 'l', 't'};
            byte[][] opens = {
                    notUtf8,
                    {0, 2, 'a', (byte) 0xED, 0, 7}, // a name running past its frame
                    new Fields.Writer().str("a").str("default").u8(0).toByteArray(), // a byte after the last field
                    new Fields.Writer().str("a").toByteArray(), // a field missing
                    new Fields.Writer().str("a").str("../clients").toByteArray(), // a configuration outside configurations/
                    new Fields.Writer().str("a").str("../../../../etc/passwd").toByteArray(),
                    new Fields.Writer().str("\u001b]0;owned\u0007").str("default").toByteArray(), // a name with control characters
                    new Fields.Writer().str("a\ud83d\ude00").str("default").toByteArray(),
            };
            for (byte[] p : opens) {
                a.send(Frame.OPEN, p);
                RawClient.HostError e = a.expectError();
                assertThat(e.code()).isEqualTo(2);
                assertThat(e.message() + e.hint()).doesNotContain("\u001b", "\u0007");
            }
            a.send(Frame.LIST, new byte[] {0});
            assertThat(a.expectError().code()).isEqualTo(2);
            for (int type : new int[] {0x00, 0x7F, 0xFF, Frame.WELCOME, Frame.EXIT, Frame.ERROR}) {
                a.send(type, new byte[0]);
                assertThat(a.expectError().code()).as("type %d", type).isEqualTo(2);
            }
            a.open("work", "default");
            // a list that claims 65535 words and holds none; a variable without '='
            a.send(Frame.RUN, new byte[] {(byte) 0xFF, (byte) 0xFF, 0, 0, 0});
            a.send(Frame.STDIN_END, new byte[0]);
            assertThat(a.expectError().code()).isEqualTo(2);
            a.send(Frame.RUN, RawClient.runPayload(List.of("true"), List.of("NOEQUALS"), false));
            a.send(Frame.STDIN_END, new byte[0]);
            assertThat(a.expectError().code()).isEqualTo(2);
            assertThat(a.list()).hasSize(1);
            assertThat(a.run("echo fine").out()).isEqualTo("fine\n");
        }
        assertThat(h.host.sessionIds()).hasSize(1);
    }

    @Test
    void clientsLeavingWhileTheirErrorIsOnTheWayLeaveNoUncaughtException() throws Exception {
        // each uncaught exception is a stack trace on the service's stderr: a client could fill its log at will
        List<Throwable> uncaught = Collections.synchronizedList(new ArrayList<>());
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> uncaught.add(e));
        try {
            for (int i = 0; i < 20; i++) {
                try (RawClient c = h.connect(h.bob)) {
                    ByteArrayOutputStream burst = new ByteArrayOutputStream();
                    for (int j = 0; j < 8; j++) {
                        burst.writeBytes(new Frame(Frame.GET, new Fields.Writer().str("x")).encode()); // no session: an error each
                    }
                    c.raw(burst.toByteArray());
                }
            }
            Thread.sleep(500);
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
        assertThat(uncaught).isEmpty();
    }
}
