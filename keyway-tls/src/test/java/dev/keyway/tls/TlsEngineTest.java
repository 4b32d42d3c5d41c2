package dev.keyway.tls;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.tls.config.ClientHelloInfo;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.params.TlsException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntUnaryOperator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link TlsEngine} with no sockets: a client engine and a server engine joined by hand, the bytes one takes
 * out handed to the other's receive in every split (whole flights, one byte at a time, random cuts).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TlsEngineTest {
    private static final byte[] HRR_RANDOM = HexFormat.of().parseHex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c");
    private static final byte[] EOF_MARK = new byte[0];
    private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "engine-test");
        t.setDaemon(true);
        return t;
    });

    @TempDir
    static Path dir;
    static List<X509Certificate> ca;
    static List<X509Certificate> strangerCa;
    static List<X509Certificate> serverChain;
    static PrivateKey serverKey;
    static List<X509Certificate> clientChain;
    static PrivateKey clientKey;
    /** One server config for all: its ticket keys let a later engine resume an earlier one's session. */
    static TlsConfig serverConfig;

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl makes the test certificates");
        TestCerts.make(dir, "server", "ec", 5);
        TestCerts.make(dir, "client", "ed25519", 5);
        Path other = Files.createDirectories(dir.resolve("other"));
        TestCerts.make(other, "stranger", "ec", 5);
        ca = TestCerts.certs(dir.resolve("ca.pem"));
        strangerCa = TestCerts.certs(other.resolve("ca.pem"));
        serverChain = TestCerts.certs(dir.resolve("server.pem"));
        serverKey = TestCerts.key(dir.resolve("server.key"), "ec");
        clientChain = TestCerts.certs(dir.resolve("client.pem"));
        clientKey = TestCerts.key(dir.resolve("client.key"), "ed25519");
        serverConfig = server().build();
    }

    @AfterAll
    static void stopPool() {
        POOL.shutdownNow();
    }

    static TlsConfig.Builder server() {
        return TlsConfig.builder().certificate(serverChain, serverKey).exposeTrafficSecrets(true);
    }

    static TlsConfig.Builder client() {
        return TlsConfig.builder().trustAnchors(ca).serverName("localhost").exposeTrafficSecrets(true);
    }

    // ---- moving bytes by hand ----

    /** Chunk sizes for a run of bytes: given how many are left, how many go into the next receive call. */
    static final IntUnaryOperator WHOLE = left -> left;
    static final IntUnaryOperator ONE_BYTE = left -> 1;

    static IntUnaryOperator randomSplit(long seed) {
        Random rnd = new Random(seed);
        return left -> switch (rnd.nextInt(4)) {
            case 0 -> 1 + rnd.nextInt(Math.min(left, 6)); // cuts inside record headers
            case 1 -> left; // the rest at once
            default -> 1 + rnd.nextInt(Math.min(left, 3000));
        };
    }

    /** Everything {@code e} has queued for the network. */
    static byte[] takeAll(TlsEngine e) {
        byte[] b = new byte[e.outputLength()];
        assertThat(e.takeOutput(b, 0, b.length)).isEqualTo(b.length);
        assertThat(e.outputLength()).isZero();
        return b;
    }

    static void deliver(byte[] bytes, TlsEngine to, IntUnaryOperator split) {
        for (int at = 0; at < bytes.length; ) {
            int n = split.applyAsInt(bytes.length - at);
            assertThat(n).isBetween(1, bytes.length - at);
            to.receive(bytes, at, n);
            at += n;
        }
    }

    static int move(TlsEngine from, TlsEngine to, IntUnaryOperator split) {
        byte[] b = takeAll(from);
        deliver(b, to, split);
        return b.length;
    }

    /** Moves bytes both ways until neither engine has anything to send. */
    static void pump(TlsEngine client, TlsEngine server, IntUnaryOperator split) {
        for (int round = 0; round < 50; round++) {
            if (move(client, server, split) + move(server, client, split) == 0) {
                return;
            }
        }
        throw new AssertionError("the engines never went quiet");
    }

    record Pair(TlsEngine client, TlsEngine server) {
    }

    static Pair connect(TlsConfig clientConfig, TlsConfig serverConfig, IntUnaryOperator split) {
        TlsEngine c = TlsEngine.client(clientConfig);
        TlsEngine s = TlsEngine.server(serverConfig);
        pump(c, s, split);
        assertThat(c.isHandshakeComplete()).isTrue();
        assertThat(s.isHandshakeComplete()).isTrue();
        return new Pair(c, s);
    }

    /** The application bytes {@code e} can give now (stops at 0 or -1). */
    static byte[] readAvailable(TlsEngine e) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[7001];
        int n;
        while ((n = e.read(buf, 0, buf.length)) > 0) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] randomBytes(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** The records of a byte stream, each with its header. */
    static List<byte[]> records(byte[] stream) {
        List<byte[]> out = new ArrayList<>();
        int at = 0;
        while (at < stream.length) {
            assertThat(stream.length - at).as("a whole record header").isGreaterThanOrEqualTo(5);
            int len = ((stream[at + 3] & 0xff) << 8) | (stream[at + 4] & 0xff);
            assertThat(stream.length - at).as("a whole record").isGreaterThanOrEqualTo(5 + len);
            out.add(Arrays.copyOfRange(stream, at, at + 5 + len));
            at += 5 + len;
        }
        return out;
    }

    static void write(TlsEngine e, byte[] data) {
        e.write(data, 0, data.length);
    }

    /** Data both ways, then close_notify both ways, with everything the API promises around it. */
    static void exchangeAndClose(Pair p, IntUnaryOperator split, long seed) throws Exception {
        TlsEngine client = p.client();
        TlsEngine server = p.server();
        byte[] request = randomBytes(seed, 40_000);
        client.write(request, 0, 5);
        client.write(request, 5, request.length - 5);
        pump(client, server, split);
        assertThat(readAvailable(server)).isEqualTo(request);
        byte[] response = randomBytes(seed + 1, 30_000);
        write(server, response);
        pump(client, server, split);
        assertThat(readAvailable(client)).isEqualTo(response);

        client.closeOutbound();
        assertThat(client.isOutboundDone()).isTrue();
        assertThatThrownBy(() -> write(client, ascii("late"))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> client.keyUpdate(false)).isInstanceOf(IllegalStateException.class);
        pump(client, server, split);
        assertThat(server.read(new byte[10], 0, 10)).isEqualTo(-1);
        assertThat(server.isInboundDone()).isTrue();
        assertThat(client.isInboundDone()).isFalse();
        // A half-closed connection: the server still writes until its own close_notify.
        write(server, ascii("bye"));
        server.closeOutbound();
        pump(client, server, split);
        assertThat(readAvailable(client)).isEqualTo(ascii("bye"));
        assertThat(client.read(new byte[10], 0, 10)).isEqualTo(-1);
        assertThat(client.read(new byte[10], 0, 10)).as("-1 stays").isEqualTo(-1);
        assertThat(client.isInboundDone()).isTrue();
        assertThatThrownBy(() -> write(server, ascii("late"))).isInstanceOf(IllegalStateException.class);
        // The transports may end now: that is no truncation.
        assertThatCode(client::receiveEnd).doesNotThrowAnyException();
        assertThatCode(server::receiveEnd).doesNotThrowAnyException();
        // close_notify goes out once.
        client.closeOutbound();
        server.closeOutbound();
        assertThat(client.outputLength()).isZero();
        assertThat(server.outputLength()).isZero();
    }

    // ---- the handshake and the session ----

    @Test
    void fullHandshakeDataBothWaysAndCloseNotifyBothWays() throws Exception {
        TlsConfig clientConfig = client().alpn(List.of("h2", "http/1.1")).build();
        TlsConfig serverConfig = server().alpn(List.of("http/1.1")).build();
        Pair p = connect(clientConfig, serverConfig, WHOLE);
        TlsEngine c = p.client();
        TlsEngine s = p.server();
        assertThat(c.isClient()).isTrue();
        assertThat(s.isClient()).isFalse();
        assertThat(c.summary()).isEqualTo(s.summary()).isEqualTo("TLSv1.3, TLS_AES_128_GCM_SHA256, x25519, full handshake, ALPN http/1.1");
        assertThat(c.suite()).isEqualTo(CipherSuites.byCode(0x1301));
        assertThat(c.group()).isEqualTo(NamedGroup.X25519);
        assertThat(s.group()).isEqualTo(NamedGroup.X25519);
        assertThat(c.resumed()).isFalse();
        assertThat(s.resumed()).isFalse();
        assertThat(c.alpn()).isEqualTo("http/1.1");
        assertThat(c.peerCertificates()).containsExactlyElementsOf(serverChain);
        assertThat(s.peerCertificates()).isEmpty();
        assertThat(c.trafficSecrets().client()).isEqualTo(s.trafficSecrets().client()).hasSize(32);
        assertThat(c.trafficSecrets().server()).isEqualTo(s.trafficSecrets().server()).isNotEqualTo(c.trafficSecrets().client());
        assertThat(c.trafficSecrets().clientRandom()).isEqualTo(s.trafficSecrets().clientRandom());
        byte[] ekm = c.exportKeyingMaterial("EXPORTER-test", ascii("ctx"), 40);
        assertThat(ekm).hasSize(40).isEqualTo(s.exportKeyingMaterial("EXPORTER-test", ascii("ctx"), 40));
        assertThat(c.exportKeyingMaterial("EXPORTER-other", ascii("ctx"), 40)).isNotEqualTo(ekm);
        assertThat(c.tickets()).as("the server's NewSessionTicket was pumped to the client").hasSize(1);
        assertThat(s.tickets()).isEmpty();
        assertThat(c.readable()).isZero();
        assertThat(c.read(new byte[4], 0, 4)).isZero();
        exchangeAndClose(p, WHOLE, 1);
    }

    @Test
    void oneByteAtATime() throws Exception {
        exchangeAndClose(connect(client().build(), serverConfig, ONE_BYTE), ONE_BYTE, 2);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 42, 20240601})
    void randomSplits(long seed) throws Exception {
        IntUnaryOperator split = randomSplit(seed);
        Pair p = connect(client().build(), serverConfig, split);
        assertThat(p.client().summary()).isEqualTo(p.server().summary());
        exchangeAndClose(p, split, seed);
    }

    @Test
    void clientFinishedDataAndCloseNotifyInOneReceive() {
        TlsEngine c = TlsEngine.client(client().build());
        TlsEngine s = TlsEngine.server(serverConfig);
        move(c, s, WHOLE);
        move(s, c, WHOLE);
        assertThat(c.isHandshakeComplete()).isTrue();
        assertThat(s.isHandshakeComplete()).isFalse();
        byte[] data = randomBytes(3, 50_000);
        write(c, data);
        c.closeOutbound();
        byte[] flight = takeAll(c);
        // [ChangeCipherSpec] Finished, four data records, close_notify
        assertThat(records(flight)).hasSizeGreaterThanOrEqualTo(6);
        s.receive(flight, 0, flight.length);
        assertThat(s.isHandshakeComplete()).isTrue();
        assertThat(s.outputLength()).as("the NewSessionTicket").isPositive();
        assertThat(readAvailable(s)).isEqualTo(data);
        assertThat(s.read(new byte[1], 0, 1)).isEqualTo(-1);
        assertThat(s.isInboundDone()).isTrue();
    }

    /**
     * The record that completes the handshake ends receive's work; the data and close_notify behind it wait for
     * read. A transport end at that point is not a truncation: the peer's close_notify is already here.
     */
    @Test
    void transportEndRightAfterTheHandshakeCompletingReceiveWithCloseNotifyBehindIt() throws Exception {
        TlsEngine c = TlsEngine.client(client().build());
        TlsEngine s = TlsEngine.server(serverConfig);
        move(c, s, WHOLE);
        move(s, c, WHOLE);
        write(c, ascii("last words"));
        c.closeOutbound();
        byte[] flight = takeAll(c);
        s.receive(ByteBuffer.wrap(flight));
        assertThat(s.isHandshakeComplete()).isTrue();
        assertThatCode(s::receiveEnd).doesNotThrowAnyException();
        assertThat(readAvailable(s)).isEqualTo(ascii("last words"));
        assertThat(s.read(new byte[1], 0, 1)).isEqualTo(-1);
        assertThat(s.isInboundDone()).isTrue();
    }

    @Test
    void recordsBehindTheHandshakeIncludingAKeyUpdateAreHandledByRead() {
        TlsEngine c = TlsEngine.client(client().build());
        TlsEngine s = TlsEngine.server(server().ticketCount(0).build());
        move(c, s, WHOLE);
        move(s, c, WHOLE);
        write(c, ascii("one"));
        c.keyUpdate(true);
        write(c, ascii("two"));
        byte[] flight = takeAll(c);
        s.receive(flight, 0, flight.length);
        assertThat(s.isHandshakeComplete()).isTrue();
        assertThat(s.outputLength()).as("nothing yet: the KeyUpdate still waits in the buffer").isZero();
        assertThat(readAvailable(s)).isEqualTo(ascii("onetwo"));
        assertThat(s.outputLength()).as("read handled the KeyUpdate and queued the answer it asked for").isPositive();
        write(s, ascii("three"));
        pump(c, s, WHOLE);
        assertThat(readAvailable(c)).isEqualTo(ascii("three"));
    }

    static Stream<Arguments> suitesAndGroups() {
        List<Arguments> out = new ArrayList<>();
        for (String suite : List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")) {
            for (NamedGroup g : List.of(NamedGroup.X25519, NamedGroup.SECP256R1, NamedGroup.X25519MLKEM768)) {
                out.add(Arguments.of(suite, g));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("suitesAndGroups")
    void everySuiteAndGroup(String suiteName, NamedGroup group) throws Exception {
        CipherSuite suite = CipherSuites.parse(suiteName);
        TlsConfig clientConfig = client().suites(List.of(suite)).groups(List.of(group)).build();
        TlsConfig serverConfig = server().groups(List.of(NamedGroup.X25519MLKEM768, NamedGroup.SECP256R1, NamedGroup.X25519)).build();
        Pair p = connect(clientConfig, serverConfig, randomSplit(group.code() + suite.code()));
        for (TlsEngine e : List.of(p.client(), p.server())) {
            assertThat(e.suite()).isEqualTo(suite);
            assertThat(e.group()).isEqualTo(group);
            assertThat(e.summary()).isEqualTo("TLSv1.3, " + suiteName + ", " + group.label() + ", full handshake");
        }
        int hashLength = suite.name().endsWith("SHA384") ? 48 : 32;
        assertThat(p.client().trafficSecrets().server()).hasSize(hashLength).isEqualTo(p.server().trafficSecrets().server());
        // The records really are sealed with this suite's keys: a test-side opener reads the first one.
        write(p.client(), ascii("sealed"));
        byte[] record = takeAll(p.client());
        byte[] inner = RecordCrypto.of(suite, p.client().trafficSecrets().client()).open(record);
        assertThat(inner).isEqualTo(RecordCrypto.inner(ascii("sealed"), 23, 0));
        p.server().receive(record, 0, record.length);
        assertThat(readAvailable(p.server())).isEqualTo(ascii("sealed"));
        exchangeAndClose(p, WHOLE, suite.code());
    }

    @ParameterizedTest(name = "split {0}")
    @ValueSource(strings = {"whole", "one-byte", "random"})
    void helloRetryRequest(String how) throws Exception {
        IntUnaryOperator split = switch (how) {
            case "whole" -> WHOLE;
            case "one-byte" -> ONE_BYTE;
            default -> randomSplit(99);
        };
        TlsEngine c = TlsEngine.client(client().groups(List.of(NamedGroup.X25519, NamedGroup.SECP256R1)).build());
        TlsEngine s = TlsEngine.server(server().groups(List.of(NamedGroup.SECP256R1)).build());
        move(c, s, split);
        byte[] hrr = takeAll(s);
        assertThat(hrr[0]).as("a handshake record").isEqualTo((byte) 22);
        assertThat(hrr[5]).as("a ServerHello").isEqualTo((byte) 2);
        assertThat(Arrays.copyOfRange(hrr, 11, 43)).as("with the HelloRetryRequest random").isEqualTo(HRR_RANDOM);
        deliver(hrr, c, split);
        assertThat(c.isHandshakeComplete()).isFalse();
        assertThat(c.outputLength()).as("the second ClientHello").isPositive();
        pump(c, s, split);
        assertThat(c.isHandshakeComplete()).isTrue();
        assertThat(s.isHandshakeComplete()).isTrue();
        assertThat(c.group()).isEqualTo(NamedGroup.SECP256R1);
        assertThat(s.group()).isEqualTo(NamedGroup.SECP256R1);
        assertThat(c.summary()).isEqualTo(s.summary());
        exchangeAndClose(new Pair(c, s), split, 5);
    }

    @Test
    void resumptionWithATicketFromTheFirstEngine() throws Exception {
        TlsEngine c = TlsEngine.client(client().build());
        TlsEngine s = TlsEngine.server(serverConfig);
        move(c, s, WHOLE);
        move(s, c, WHOLE);
        move(c, s, WHOLE);
        assertThat(c.isHandshakeComplete()).isTrue();
        assertThat(s.isHandshakeComplete()).isTrue();
        assertThat(c.tickets()).as("the ticket comes after the handshake").isEmpty();
        byte[] nst = takeAll(s);
        assertThat(nst).isNotEmpty();
        deliver(nst, c, ONE_BYTE);
        assertThat(c.tickets()).as("handled by receive, no read needed").hasSize(1);
        Ticket ticket = c.tickets().get(0);
        assertThat(ticket.serverName()).isEqualTo("localhost");
        assertThat(ticket.suite()).isEqualTo(c.suite());
        byte[] firstExport = c.exportKeyingMaterial("EXPORTER-test", null, 32);
        exchangeAndClose(new Pair(c, s), WHOLE, 6);

        Pair second = connect(client().resumeWith(ticket).build(), serverConfig, randomSplit(6));
        assertThat(second.client().resumed()).isTrue();
        assertThat(second.server().resumed()).isTrue();
        assertThat(second.client().group()).as("PSK with (EC)DHE").isEqualTo(NamedGroup.X25519);
        assertThat(second.client().summary()).isEqualTo(second.server().summary()).endsWith("x25519, resumed");
        byte[] export = second.client().exportKeyingMaterial("EXPORTER-test", null, 32);
        assertThat(export).isEqualTo(second.server().exportKeyingMaterial("EXPORTER-test", null, 32)).isNotEqualTo(firstExport);
        assertThat(second.client().tickets()).as("a resumed session gets a new ticket too").hasSize(1);
        exchangeAndClose(second, WHOLE, 7);

        // Another server's engine (other ticket keys) declines the ticket: a full handshake.
        Pair third = connect(client().resumeWith(ticket).build(), server().build(), WHOLE);
        assertThat(third.client().resumed()).isFalse();
        assertThat(third.server().resumed()).isFalse();
    }

    @Test
    void keyUpdateWithAndWithoutUpdateRequested() throws Exception {
        Pair p = connect(client().build(), server().ticketCount(0).build(), WHOLE);
        TlsEngine c = p.client();
        TlsEngine s = p.server();
        CipherSuite suite = c.suite();
        KeySchedule13 ks = KeySchedule13.of(suite);
        byte[] client0 = c.trafficSecrets().client();
        byte[] client1 = ks.nextApplicationTrafficSecret(client0);

        // Without update_requested: our next record is under the next secret, the peer does not answer.
        c.keyUpdate(false);
        write(c, ascii("after update"));
        List<byte[]> recs = records(takeAll(c));
        assertThat(recs).hasSize(2);
        assertThat(RecordCrypto.of(suite, client0).open(recs.get(0))).as("KeyUpdate(update_not_requested) under the old key")
                .isEqualTo(new byte[] {24, 0, 0, 1, 0, 22});
        assertThat(RecordCrypto.of(suite, client0).open(recs.get(1))).as("not under the old key").isNull();
        RecordCrypto underClient1 = RecordCrypto.of(suite, client1);
        assertThat(underClient1.open(recs.get(1))).isEqualTo(RecordCrypto.inner(ascii("after update"), 23, 0));
        for (byte[] r : recs) {
            s.receive(r, 0, r.length);
        }
        assertThat(readAvailable(s)).isEqualTo(ascii("after update"));
        assertThat(s.outputLength()).as("no answer owed").isZero();
        write(s, ascii("server still on secret 0"));
        pump(c, s, WHOLE);
        assertThat(readAvailable(c)).isEqualTo(ascii("server still on secret 0"));

        // With update_requested from the server: the client answers by itself, under its current key.
        s.keyUpdate(true);
        write(s, ascii("s2"));
        move(s, c, WHOLE);
        assertThat(readAvailable(c)).isEqualTo(ascii("s2"));
        byte[] answer = takeAll(c);
        assertThat(underClient1.open(answer)).as("the answer: KeyUpdate(update_not_requested), the second record under secret 1")
                .isEqualTo(new byte[] {24, 0, 0, 1, 0, 22});
        s.receive(answer, 0, answer.length);
        assertThat(s.outputLength()).as("an answer is not answered").isZero();
        write(c, ascii("c2"));
        byte[] c2 = takeAll(c);
        assertThat(RecordCrypto.of(suite, ks.nextApplicationTrafficSecret(client1)).open(c2))
                .isEqualTo(RecordCrypto.inner(ascii("c2"), 23, 0));
        s.receive(c2, 0, c2.length);
        assertThat(readAvailable(s)).isEqualTo(ascii("c2"));

        // Many in a row, both ways, requested or not, data in between.
        Random rnd = new Random(8);
        for (int i = 0; i < 30; i++) {
            (rnd.nextBoolean() ? c : s).keyUpdate(rnd.nextBoolean());
            byte[] a = randomBytes(i, 1 + rnd.nextInt(3000));
            byte[] b = randomBytes(-i, 1 + rnd.nextInt(3000));
            write(c, a);
            write(s, b);
            pump(c, s, randomSplit(i));
            assertThat(readAvailable(s)).isEqualTo(a);
            assertThat(readAvailable(c)).isEqualTo(b);
        }
        exchangeAndClose(p, WHOLE, 9);
    }

    @Test
    void clientAuthentication() throws Exception {
        TlsConfig requiring = server().trustAnchors(ca).requireClientCertificate(true).build();
        Pair p = connect(client().certificate(clientChain, clientKey).build(), requiring, randomSplit(10));
        assertThat(p.server().peerCertificates()).containsExactlyElementsOf(clientChain);
        assertThat(p.client().peerCertificates()).containsExactlyElementsOf(serverChain);
        exchangeAndClose(p, WHOLE, 10);

        // Without a certificate: certificate_required. The client's handshake was already complete when it came.
        TlsEngine c = TlsEngine.client(client().build());
        TlsEngine s = TlsEngine.server(requiring);
        move(c, s, WHOLE);
        move(s, c, WHOLE);
        assertThat(c.isHandshakeComplete()).isTrue();
        byte[] flight = takeAll(c);
        assertThatThrownBy(() -> s.receive(flight, 0, flight.length)).isInstanceOfSatisfying(TlsException.class, e -> {
            assertThat(e.alert()).isEqualTo(Alert.CERTIFICATE_REQUIRED);
            assertThat(e.received()).isFalse();
        });
        assertThat(s.isHandshakeComplete()).isFalse();
        byte[] alert = takeAll(s);
        assertThat(records(alert)).hasSize(1);
        assertThatThrownBy(() -> c.receive(alert, 0, alert.length)).isInstanceOfSatisfying(TlsException.class, e -> {
            assertThat(e.alert()).isEqualTo(Alert.CERTIFICATE_REQUIRED);
            assertThat(e.received()).isTrue();
        });
        assertThat(c.outputLength()).as("no alert answers an alert").isZero();
        assertThatThrownBy(() -> write(c, ascii("x"))).isInstanceOf(TlsException.class);
    }

    @Test
    void aClientCertificateCheckAdmitsByKeyAndIsAskedAgainOnResumption() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean allowed = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.security.PublicKey known = clientChain.get(0).getPublicKey();
        // No trust anchors at all: the check, not a CA, decides.
        TlsConfig byKey = TlsConfig.builder().certificate(serverChain, serverKey)
                .requireClientCertificate(chain -> allowed.get() && chain.get(0).getPublicKey().equals(known)).build();
        Pair p = connect(client().certificate(clientChain, clientKey).build(), byKey, randomSplit(12));
        assertThat(p.server().peerCertificates()).containsExactlyElementsOf(clientChain);
        Ticket ticket = p.client().tickets().get(0);
        exchangeAndClose(p, WHOLE, 12);

        // Another key (self-signed, as a stranger would make one): access_denied before any application data.
        java.security.KeyPair strangerKeys = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        X509Certificate stranger = dev.keyway.tls.cert.Certificates.selfSigned(strangerKeys, "stranger", List.of(), java.time.Duration.ofDays(1));
        assertDenied(client().certificate(List.of(stranger), strangerKeys.getPrivate()).build(), byKey);

        // Resumed while allowed: the sealed chain is checked again and kept.
        Pair resumed = connect(client().certificate(clientChain, clientKey).resumeWith(ticket).build(), byKey, WHOLE);
        assertThat(resumed.server().resumed()).isTrue();
        assertThat(resumed.server().peerCertificates()).containsExactlyElementsOf(clientChain);
        exchangeAndClose(resumed, WHOLE, 13);

        // Refused since the ticket was issued: the ticket is declined, and the full handshake is refused.
        allowed.set(false);
        assertDenied(client().certificate(clientChain, clientKey).resumeWith(ticket).build(), byKey);
    }

    @Test
    void aServerCertificateCheckReplacesPathValidationOnBothVersions() throws Exception {
        TlsConfig serverConfig = server().versions(List.of(dev.keyway.core.kdf.TlsVersion.TLS13, dev.keyway.core.kdf.TlsVersion.TLS12)).build();
        for (dev.keyway.core.kdf.TlsVersion v : List.of(dev.keyway.core.kdf.TlsVersion.TLS13, dev.keyway.core.kdf.TlsVersion.TLS12)) {
            List<String> seen = new java.util.ArrayList<>();
            // No trust anchors and a name the certificate does not carry: the check alone decides.
            TlsConfig accepting = TlsConfig.builder().versions(List.of(v)).serverName("not-in-the-certificate.example")
                    .serverCertificateCheck((chain, version, suite) -> seen.add(version + " " + suite.name() + " " + chain.size()))
                    .build();
            Pair p = connect(accepting, serverConfig, randomSplit(21));
            assertThat(seen).singleElement().satisfies(x -> assertThat(x).startsWith(v + " " + p.client().suite().name() + " "));
            assertThat(p.client().peerCertificates()).containsExactlyElementsOf(serverChain);
            exchangeAndClose(p, WHOLE, 21);

            // A refusal ends the handshake with bad_certificate and the check's words, escaped, before any data.
            TlsConfig refusing = TlsConfig.builder().versions(List.of(v)).trustAnchors(ca).serverName("localhost")
                    .serverCertificateCheck((chain, version, suite) -> {
                        throw new java.security.cert.CertificateException("pinned key differs\u001b[31m");
                    }).build();
            TlsEngine c = TlsEngine.client(refusing);
            TlsEngine s = TlsEngine.server(serverConfig);
            move(c, s, WHOLE);
            byte[] flight = takeAll(s);
            assertThatThrownBy(() -> c.receive(flight, 0, flight.length)).isInstanceOfSatisfying(TlsException.class, e -> {
                assertThat(e.alert()).isEqualTo(Alert.BAD_CERTIFICATE);
                assertThat(e.getMessage()).contains("pinned key differs").doesNotContain("\u001b");
            });
            assertThat(c.isHandshakeComplete()).isFalse();
            assertThat(c.readable()).isZero();
        }
    }

    @Test
    void anAlpnSelectorPicksFromTheClientsOfferOrRefuses() throws Exception {
        List<List<String>> asked = new java.util.ArrayList<>();
        java.util.function.Function<String, TlsConfig> server = answer -> server().alpnSelector(offer -> {
            asked.add(offer);
            return answer.equals("<null>") ? null : answer;
        }).build();
        TlsConfig offering = client().alpn(List.of("http/1.1", "h2")).build();

        Pair p = connect(offering, server.apply("h2"), WHOLE);
        assertThat(p.client().alpn()).isEqualTo("h2");
        assertThat(p.server().alpn()).isEqualTo("h2");
        assertThat(asked).containsExactly(List.of("http/1.1", "h2"));

        Pair none = connect(offering, server.apply(""), WHOLE);
        assertThat(none.client().alpn()).isNull();

        // the client offers nothing: the selector is not asked
        asked.clear();
        Pair silent = connect(client().build(), server.apply("h2"), WHOLE);
        assertThat(silent.server().alpn()).isNull();
        assertThat(asked).isEmpty();

        for (String bad : List.of("<null>", "spdy/3")) {
            TlsEngine c = TlsEngine.client(offering);
            TlsEngine s = TlsEngine.server(server.apply(bad));
            byte[] hello = takeAll(c);
            assertThatThrownBy(() -> s.receive(hello, 0, hello.length)).isInstanceOfSatisfying(TlsException.class,
                    e -> assertThat(e.alert()).isEqualTo(Alert.NO_APPLICATION_PROTOCOL));
        }
    }

    @Test
    void configForClientPicksTheCertificateByServerNameOnBothVersions() throws Exception {
        java.security.KeyPairGenerator ec = java.security.KeyPairGenerator.getInstance("EC");
        ec.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        java.security.KeyPair otherKeys = ec.generateKeyPair();
        X509Certificate other = dev.keyway.tls.cert.Certificates.selfSigned(otherKeys, "other.example", List.of("DNS:other.example"),
                java.time.Duration.ofDays(1));
        List<ClientHelloInfo> seen = new ArrayList<>();
        List<dev.keyway.core.kdf.TlsVersion> both = List.of(dev.keyway.core.kdf.TlsVersion.TLS13, dev.keyway.core.kdf.TlsVersion.TLS12);
        TlsConfig byName = TlsConfig.builder().versions(both).configForClient(info -> {
            seen.add(info);
            if ("other.example".equals(info.serverName())) {
                return TlsConfig.builder().versions(both).certificate(List.of(other), otherKeys.getPrivate()).build();
            }
            if ("localhost".equals(info.serverName())) {
                return server().versions(both).build();
            }
            throw TlsException.fatal(Alert.UNRECOGNIZED_NAME, "no certificate for that name");
        }).build();
        for (dev.keyway.core.kdf.TlsVersion v : both) {
            seen.clear();
            Pair p = connect(TlsConfig.builder().versions(List.of(v)).trustAnchors(List.of(other)).serverName("other.example").build(), byName, WHOLE);
            assertThat(p.client().peerCertificates()).containsExactly(other);
            assertThat(seen).singleElement().satisfies(i -> {
                assertThat(i.serverName()).isEqualTo("other.example");
                assertThat(i.versions()).contains(v.code());
            });
            Pair local = connect(client().versions(List.of(v)).build(), byName, WHOLE);
            assertThat(local.client().peerCertificates()).containsExactlyElementsOf(serverChain);

            TlsEngine c = TlsEngine.client(TlsConfig.builder().versions(List.of(v)).trustAnchors(List.of(other)).serverName("nobody.example").build());
            TlsEngine s = TlsEngine.server(byName);
            byte[] hello = takeAll(c);
            assertThatThrownBy(() -> s.receive(hello, 0, hello.length)).isInstanceOfSatisfying(TlsException.class,
                    e -> assertThat(e.alert()).isEqualTo(Alert.UNRECOGNIZED_NAME));
        }
    }

    @Test
    void theHybridGoesWithAnX25519ShareSoAServerWithoutItAnswersAtOnce() throws Exception {
        List<NamedGroup> hybridFirst = List.of(NamedGroup.X25519MLKEM768,
                NamedGroup.X25519);
        for (var serverGroups : List.of(List.of(NamedGroup.X25519), List.of(NamedGroup.X25519MLKEM768))) {
            TlsEngine c = TlsEngine.client(client().groups(hybridFirst).build());
            TlsEngine s = TlsEngine.server(server().groups(serverGroups).build());
            move(c, s, WHOLE);
            byte[] flight = takeAll(s);
            // a ServerHello (type 2) whose random is not the HelloRetryRequest's
            assertThat(flight[5]).isEqualTo((byte) 2);
            assertThat(Arrays.copyOfRange(flight, 11, 43)).isNotEqualTo(HRR_RANDOM);
            deliver(flight, c, WHOLE);
            pump(c, s, WHOLE);
            assertThat(c.isHandshakeComplete() && s.isHandshakeComplete()).isTrue();
            assertThat(c.group()).isEqualTo(serverGroups.get(0));
            assertThat(s.group()).isEqualTo(serverGroups.get(0));
        }
        // a server that wants neither (P-256 only) still gets its HelloRetryRequest, and a second ClientHello with one share
        Pair p = connect(client().groups(List.of(NamedGroup.X25519MLKEM768, NamedGroup.X25519,
                NamedGroup.SECP256R1)).build(), server().groups(List.of(NamedGroup.SECP256R1)).build(), WHOLE);
        assertThat(p.client().group()).isEqualTo(NamedGroup.SECP256R1);
    }

    @Test
    void anOptionalClientCertificateMayBeLeftOutButIsCheckedWhenGiven() throws Exception {
        java.security.PublicKey known = clientChain.get(0).getPublicKey();
        List<dev.keyway.core.kdf.TlsVersion> both = List.of(dev.keyway.core.kdf.TlsVersion.TLS13, dev.keyway.core.kdf.TlsVersion.TLS12);
        TlsConfig asking = server().versions(both).requestClientCertificate(chain -> chain.get(0).getPublicKey().equals(known)).build();
        java.security.KeyPairGenerator ec = java.security.KeyPairGenerator.getInstance("EC");
        ec.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        java.security.KeyPair ecKeys = ec.generateKeyPair();
        X509Certificate ecClient = dev.keyway.tls.cert.Certificates.selfSigned(ecKeys, "bob", List.of(), java.time.Duration.ofDays(1));
        for (dev.keyway.core.kdf.TlsVersion v : both) {
            Pair anonymous = connect(client().versions(List.of(v)).build(), asking, WHOLE);
            assertThat(anonymous.server().peerCertificates()).isEmpty();
            exchangeAndClose(anonymous, WHOLE, 31);

            if (v == dev.keyway.core.kdf.TlsVersion.TLS13) { // Keyway's TLS 1.2 client certificates are EC or RSA
                Pair known13 = connect(client().versions(List.of(v)).certificate(clientChain, clientKey).build(), asking, WHOLE);
                assertThat(known13.server().peerCertificates()).containsExactlyElementsOf(clientChain);
            }
            // a certificate the check refuses is not passed over: the handshake ends
            TlsEngine c = TlsEngine.client(client().versions(List.of(v)).certificate(List.of(ecClient), ecKeys.getPrivate()).build());
            TlsEngine s = TlsEngine.server(asking);
            assertThatThrownBy(() -> pump(c, s, WHOLE)).isInstanceOf(TlsException.class);
            assertThat(s.isHandshakeComplete()).isFalse();
        }
    }

    private static void assertDenied(TlsConfig clientConfig, TlsConfig serverConfig) {
        TlsEngine c = TlsEngine.client(clientConfig);
        TlsEngine s = TlsEngine.server(serverConfig);
        move(c, s, WHOLE);
        move(s, c, WHOLE);
        assertThat(c.isHandshakeComplete()).isTrue();
        assertThat(c.resumed()).as("a declined ticket means a full handshake").isFalse();
        byte[] flight = takeAll(c);
        assertThatThrownBy(() -> s.receive(flight, 0, flight.length)).isInstanceOfSatisfying(TlsException.class,
                e -> assertThat(e.alert()).isEqualTo(Alert.ACCESS_DENIED));
        assertThat(s.isHandshakeComplete()).isFalse();
    }

    @Test
    void beforeTheHandshakeCompletes() {
        TlsEngine c = TlsEngine.client(client().build());
        TlsEngine s = TlsEngine.server(serverConfig);
        assertThat(c.outputLength()).as("the ClientHello is queued at once").isPositive();
        assertThat(s.outputLength()).as("a server waits").isZero();
        for (TlsEngine e : List.of(c, s)) {
            assertThat(e.isHandshakeComplete()).isFalse();
            assertThatThrownBy(() -> write(e, ascii("early"))).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> e.write(ByteBuffer.wrap(ascii("early")))).isInstanceOf(IllegalStateException.class);
            assertThat(e.read(new byte[10], 0, 10)).isZero();
            assertThat(e.read(ByteBuffer.allocate(10))).isZero();
            assertThat(e.readable()).isZero();
            assertThat(e.isInboundDone()).isFalse();
            assertThat(e.isOutboundDone()).isFalse();
            assertThatThrownBy(() -> e.keyUpdate(false)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(e::suite).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(e::group).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(e::resumed).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(e::alpn).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(e::peerCertificates).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(e::tickets).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(e::trafficSecrets).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> e.exportKeyingMaterial("EXPORTER-x", null, 16)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(e::summary).isInstanceOf(IllegalStateException.class);
        }
        // Mid-handshake: the server has sent its flight and waits for the client's Finished.
        move(c, s, WHOLE);
        assertThat(s.outputLength()).isPositive();
        assertThat(s.isHandshakeComplete()).isFalse();
        assertThatThrownBy(() -> write(s, ascii("0.5-RTT"))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(s::summary).isInstanceOf(IllegalStateException.class);
        assertThat(s.read(new byte[10], 0, 10)).isZero();
        pump(c, s, WHOLE);
        assertThat(c.summary()).isEqualTo(s.summary());

        assertThatThrownBy(() -> TlsEngine.server(client().build())).as("a server needs a certificate")
                .isInstanceOf(IllegalArgumentException.class);
        TlsEngine hidden = connect(TlsConfig.builder().trustAnchors(ca).serverName("localhost").build(), serverConfig, WHOLE).client();
        assertThatThrownBy(hidden::trafficSecrets).as("not exposed by this config").isInstanceOf(IllegalStateException.class);
    }

    // ---- failures ----

    @Test
    void flippedBitAfterTheHandshakeIsBadRecordMacWithOneProtectedAlert() throws Exception {
        Pair p = connect(client().build(), server().ticketCount(0).build(), WHOLE);
        TlsEngine c = p.client();
        TlsEngine s = p.server();
        write(c, ascii("tamper with me"));
        byte[] record = takeAll(c);
        record[record.length - 3] ^= 0x10;
        assertThatThrownBy(() -> s.receive(record, 0, record.length)).isInstanceOfSatisfying(TlsException.class, e -> {
            assertThat(e.alert()).isEqualTo(Alert.BAD_RECORD_MAC);
            assertThat(e.received()).isFalse();
        });
        byte[] alert = takeAll(s);
        assertThat(records(alert)).hasSize(1);
        assertThat(alert[0]).as("protected: an application_data record").isEqualTo((byte) 23);
        assertThat(RecordCrypto.of(s.suite(), s.trafficSecrets().server()).open(alert)).as("fatal bad_record_mac, inside")
                .isEqualTo(new byte[] {2, 20, 21});
        assertThat(s.isOutboundDone()).isTrue();

        // Everything after a failure fails the same way, and nothing more goes out.
        assertThatThrownBy(() -> s.receive(new byte[] {23, 3, 3}, 0, 3)).isInstanceOfSatisfying(TlsException.class,
                e -> assertThat(e.alert()).isEqualTo(Alert.BAD_RECORD_MAC));
        assertThatThrownBy(() -> s.receive(ByteBuffer.allocateDirect(4))).isInstanceOf(TlsException.class);
        assertThatThrownBy(() -> write(s, ascii("x"))).isInstanceOfSatisfying(TlsException.class,
                e -> assertThat(e.alert()).isEqualTo(Alert.BAD_RECORD_MAC));
        assertThatThrownBy(() -> s.keyUpdate(false)).isInstanceOf(TlsException.class);
        assertThatThrownBy(() -> s.read(new byte[1], 0, 1)).isInstanceOf(TlsException.class);
        s.closeOutbound();
        assertThat(s.outputLength()).as("no close_notify after the fatal alert").isZero();

        // The peer reads the alert.
        assertThatThrownBy(() -> c.receive(alert, 0, alert.length)).isInstanceOfSatisfying(TlsException.class, e -> {
            assertThat(e.alert()).isEqualTo(Alert.BAD_RECORD_MAC);
            assertThat(e.received()).isTrue();
        });
        assertThat(c.outputLength()).isZero();
        assertThatThrownBy(() -> write(c, ascii("x"))).isInstanceOf(TlsException.class);
        assertThatThrownBy(() -> c.receive(new byte[1], 0, 1)).isInstanceOf(TlsException.class);
    }

    @Test
    void flippedBitInTheServerFlightIsBadRecordMacWithOnePlaintextAlert() {
        TlsEngine c = TlsEngine.client(client().build());
        TlsEngine s = TlsEngine.server(serverConfig);
        move(c, s, WHOLE);
        byte[] flight = takeAll(s);
        flight[flight.length - 1] ^= 1; // the Finished record's tag
        assertThatThrownBy(() -> c.receive(flight, 0, flight.length)).isInstanceOfSatisfying(TlsException.class, e -> {
            assertThat(e.alert()).isEqualTo(Alert.BAD_RECORD_MAC);
            assertThat(e.received()).isFalse();
        });
        assertThat(c.isHandshakeComplete()).isFalse();
        byte[] alert = takeAll(c);
        assertThat(alert).as("the client has no keys of its own yet: a plaintext fatal alert")
                .isEqualTo(new byte[] {21, 3, 3, 0, 2, 2, 20});
        assertThatThrownBy(() -> c.receive(flight, 0, 1)).isInstanceOf(TlsException.class);
        assertThatThrownBy(() -> s.receive(alert, 0, alert.length)).isInstanceOfSatisfying(TlsException.class, e -> {
            assertThat(e.alert()).isEqualTo(Alert.BAD_RECORD_MAC);
            assertThat(e.received()).isTrue();
        });
        assertThat(s.outputLength()).isZero();
    }

    @Test
    void unknownCaIsRefusedWithUnknownCa() {
        TlsEngine c = TlsEngine.client(TlsConfig.builder().trustAnchors(strangerCa).serverName("localhost").build());
        TlsEngine s = TlsEngine.server(serverConfig);
        move(c, s, WHOLE);
        byte[] flight = takeAll(s);
        assertThatThrownBy(() -> deliver(flight, c, randomSplit(12))).isInstanceOfSatisfying(TlsException.class, e -> {
            assertThat(e.alert()).isEqualTo(Alert.UNKNOWN_CA);
            assertThat(e.received()).isFalse();
        });
        byte[] alert = takeAll(c);
        assertThat(alert).isEqualTo(new byte[] {21, 3, 3, 0, 2, 2, 48});
        assertThatThrownBy(() -> s.receive(alert, 0, alert.length)).isInstanceOfSatisfying(TlsException.class, e -> {
            assertThat(e.alert()).isEqualTo(Alert.UNKNOWN_CA);
            assertThat(e.received()).isTrue();
        });
        assertThat(s.isHandshakeComplete()).isFalse();
        assertThatThrownBy(() -> c.receive(new byte[1], 0, 1)).isInstanceOfSatisfying(TlsException.class,
                e -> assertThat(e.alert()).isEqualTo(Alert.UNKNOWN_CA));
        assertThatThrownBy(() -> s.receive(new byte[1], 0, 1)).isInstanceOf(TlsException.class);
    }

    @Test
    void transportEndDuringTheHandshakeIsEof() {
        TlsEngine c = TlsEngine.client(client().build());
        TlsEngine s = TlsEngine.server(serverConfig);
        byte[] hello = takeAll(c);
        // Between records: EOFException
        s.receive(hello, 0, hello.length);
        assertThatThrownBy(s::receiveEnd).isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> s.receive(new byte[1], 0, 1)).as("a cut connection takes no more bytes")
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(c::receiveEnd).isInstanceOf(EOFException.class);
        assertThat(c.outputLength()).as("no alert for a cut").isZero();

        // Inside the ClientHello's record body
        TlsEngine s2 = TlsEngine.server(serverConfig);
        s2.receive(hello, 0, hello.length - 1);
        assertThatThrownBy(s2::receiveEnd).isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> s2.receive(hello, hello.length - 1, 1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void transportEndAfterTheHandshake() throws Exception {
        // After close_notify: fine.
        Pair closed = connect(client().build(), serverConfig, WHOLE);
        closed.client().closeOutbound();
        pump(closed.client(), closed.server(), WHOLE);
        assertThatCode(closed.server()::receiveEnd).doesNotThrowAnyException();
        assertThat(closed.server().read(new byte[1], 0, 1)).isEqualTo(-1);

        // Between records with no close_notify: a truncation.
        Pair truncated = connect(client().build(), serverConfig, WHOLE);
        write(truncated.client(), ascii("data"));
        pump(truncated.client(), truncated.server(), WHOLE);
        assertThatThrownBy(truncated.server()::receiveEnd).isInstanceOf(EOFException.class).hasMessageContaining("close_notify");
        byte[] four = new byte[10];
        assertThat(truncated.server().read(four, 0, 10)).as("what came before the cut is still readable").isEqualTo(4);
        assertThat(Arrays.copyOf(four, 4)).isEqualTo(ascii("data"));
        assertThatThrownBy(() -> truncated.server().read(four, 0, 10)).as("then read reports the cut")
                .isInstanceOf(IllegalStateException.class).hasRootCauseInstanceOf(EOFException.class);
        assertThatThrownBy(() -> write(truncated.server(), ascii("x"))).isInstanceOf(IllegalStateException.class);

        // Inside a record's body.
        Pair body = connect(client().build(), serverConfig, WHOLE);
        write(body.client(), ascii("half a record"));
        byte[] record = takeAll(body.client());
        body.server().receive(record, 0, record.length / 2);
        assertThatThrownBy(body.server()::receiveEnd).isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> body.server().receive(record, record.length / 2, record.length - record.length / 2))
                .as("a cut connection takes no more bytes").isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> write(body.server(), ascii("x"))).isInstanceOf(IllegalStateException.class);

        // Inside a record's header: decode_error, with its alert queued (protected).
        Pair header = connect(client().build(), serverConfig, WHOLE);
        write(header.client(), ascii("x"));
        byte[] r2 = takeAll(header.client());
        header.server().receive(r2, 0, 3);
        assertThatThrownBy(header.server()::receiveEnd).isInstanceOfSatisfying(TlsException.class,
                e -> assertThat(e.alert()).isEqualTo(Alert.DECODE_ERROR));
        List<byte[]> out = records(takeAll(header.server()));
        assertThat(out).as("exactly the alert").hasSize(1);
        assertThat(out.get(0)[0]).isEqualTo((byte) 23);
        assertThat(out.get(0)).hasSize(5 + 2 + 1 + 16);
    }

    // ---- buffers ----

    @Test
    void byteBufferVariantsHeapSliceAndDirect() throws Exception {
        TlsEngine c = TlsEngine.client(client().build());
        TlsEngine s = TlsEngine.server(serverConfig);
        Random rnd = new Random(13);
        // Handshake through direct buffers, taken out in small pieces and handed over as heap slices at an offset.
        for (int round = 0; round < 20 && !(c.isHandshakeComplete() && s.isHandshakeComplete() && c.outputLength() == 0
                && s.outputLength() == 0); round++) {
            for (TlsEngine[] way : new TlsEngine[][] {{c, s}, {s, c}}) {
                while (way[0].outputLength() > 0) {
                    ByteBuffer out = ByteBuffer.allocateDirect(1 + rnd.nextInt(700));
                    int before = way[0].outputLength();
                    int n = way[0].takeOutput(out);
                    assertThat(n).isEqualTo(Math.min(out.capacity(), before));
                    assertThat(out.position()).isEqualTo(n);
                    assertThat(way[0].outputLength()).isEqualTo(before - n);
                    out.flip();
                    if (rnd.nextBoolean()) {
                        way[1].receive(out);
                    } else {
                        byte[] backing = new byte[n + 20];
                        out.get(backing, 11, n);
                        ByteBuffer slice = ByteBuffer.wrap(backing, 11, n).slice();
                        assertThat(slice.arrayOffset()).isEqualTo(11);
                        way[1].receive(slice);
                        out = slice;
                    }
                    assertThat(out.hasRemaining()).as("receive consumes everything").isFalse();
                }
            }
        }
        assertThat(c.isHandshakeComplete()).isTrue();
        assertThat(s.isHandshakeComplete()).isTrue();

        byte[] data = randomBytes(14, 70_000);
        ByteBuffer src = ByteBuffer.allocateDirect(data.length).put(data).flip();
        c.write(src);
        assertThat(src.hasRemaining()).isFalse();
        ByteBuffer wire = ByteBuffer.allocateDirect(c.outputLength());
        c.takeOutput(wire);
        assertThat(c.takeOutput(ByteBuffer.allocateDirect(100))).isZero();
        wire.flip();
        s.receive(wire);
        ByteBuffer got = ByteBuffer.allocateDirect(data.length + 10);
        while (s.read(got) > 0) {
            assertThat(got.position()).isLessThanOrEqualTo(data.length);
        }
        got.flip();
        byte[] back = new byte[got.remaining()];
        got.get(back);
        assertThat(back).isEqualTo(data);

        c.closeOutbound();
        pump(c, s, WHOLE);
        assertThat(s.read(ByteBuffer.allocate(10))).isEqualTo(-1);
        ByteBuffer full = ByteBuffer.allocate(0);
        assertThat(c.read(full)).as("nothing readable, a full buffer").isZero();
    }

    // ---- volume and threads ----

    @Test
    void bulkEightMebibytesEachWay() throws Exception {
        int size = 8 << 20;
        byte[] up = randomBytes(15, size);
        byte[] down = randomBytes(16, size);
        Pair p = connect(client().build(), serverConfig, WHOLE);
        TlsEngine c = p.client();
        TlsEngine s = p.server();
        MessageDigest upSent = MessageDigest.getInstance("SHA-256");
        MessageDigest upGot = MessageDigest.getInstance("SHA-256");
        MessageDigest downSent = MessageDigest.getInstance("SHA-256");
        MessageDigest downGot = MessageDigest.getInstance("SHA-256");
        long upCount = 0;
        long downCount = 0;
        Random rnd = new Random(17);
        IntUnaryOperator split = randomSplit(18);
        int cu = 0;
        int sd = 0;
        byte[] buf = new byte[40_000];
        while (cu < size || sd < size || upCount < size || downCount < size) {
            if (cu < size) {
                int n = Math.min(size - cu, rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(100) : 1 + rnd.nextInt(100_000));
                c.write(up, cu, n);
                upSent.update(up, cu, n);
                cu += n;
            }
            if (sd < size) {
                int n = Math.min(size - sd, rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(100) : 1 + rnd.nextInt(100_000));
                s.write(down, sd, n);
                downSent.update(down, sd, n);
                sd += n;
            }
            pump(c, s, rnd.nextInt(8) == 0 ? split : WHOLE);
            int n;
            while ((n = s.read(buf, 0, buf.length)) > 0) {
                upGot.update(buf, 0, n);
                upCount += n;
            }
            while ((n = c.read(buf, 0, buf.length)) > 0) {
                downGot.update(buf, 0, n);
                downCount += n;
            }
            assertThat(upCount).isLessThanOrEqualTo(cu);
            assertThat(downCount).isLessThanOrEqualTo(sd);
        }
        assertThat(upGot.digest()).isEqualTo(upSent.digest());
        assertThat(downGot.digest()).isEqualTo(downSent.digest());
    }

    /** Moves what {@code e} has queued into {@code queue} (the writer's side of a transport). */
    static void drainTo(TlsEngine e, LinkedBlockingQueue<byte[]> queue, byte[] buf) throws InterruptedException {
        int n;
        while ((n = e.takeOutput(buf, 0, buf.length)) > 0) {
            queue.put(Arrays.copyOf(buf, n));
        }
    }

    static byte[] poll(LinkedBlockingQueue<byte[]> q) throws InterruptedException {
        byte[] b = q.poll(30, TimeUnit.SECONDS);
        if (b == null) {
            throw new AssertionError("nothing arrived for 30 s");
        }
        return b;
    }

    /**
     * The client engine used by two threads at once: one writes and sends (write, keyUpdate, takeOutput), the
     * other receives and reads; the server, on a third thread, echoes and asks for key updates now and then.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void oneThreadReadsWhileAnotherWrites() throws Exception {
        int total = 6 << 20;
        byte[] src = randomBytes(19, total);
        Pair p = connect(client().build(), serverConfig, WHOLE);
        TlsEngine c = p.client();
        TlsEngine s = p.server();
        LinkedBlockingQueue<byte[]> toServer = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<byte[]> toClient = new LinkedBlockingQueue<>();

        Future<byte[]> writer = POOL.submit(() -> {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            Random rnd = new Random(20);
            byte[] buf = new byte[1 + rnd.nextInt(50_000)];
            int writes = 0;
            for (int at = 0; at < total; ) {
                int n = Math.min(total - at, 1 + rnd.nextInt(rnd.nextBoolean() ? 200 : 64_000));
                c.write(src, at, n);
                md.update(src, at, n);
                at += n;
                if (++writes % 37 == 0) {
                    c.keyUpdate(rnd.nextBoolean());
                }
                drainTo(c, toServer, buf);
            }
            c.closeOutbound();
            drainTo(c, toServer, buf);
            toServer.put(EOF_MARK);
            return md.digest();
        });
        record Received(long count, byte[] digest) {
        }
        Future<Received> reader = POOL.submit(() -> {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[9000];
            long count = 0;
            boolean closed = false;
            while (true) {
                byte[] chunk = poll(toClient);
                if (chunk == EOF_MARK) {
                    c.receiveEnd();
                    break;
                }
                c.receive(chunk, 0, chunk.length);
                int n;
                while ((n = c.read(buf, 0, buf.length)) > 0) {
                    md.update(buf, 0, n);
                    count += n;
                }
                closed |= n < 0;
            }
            assertThat(closed).as("the server's close_notify").isTrue();
            return new Received(count, md.digest());
        });
        Future<Long> echo = POOL.submit(() -> {
            byte[] buf = new byte[30_000];
            byte[] out = new byte[20_000];
            long echoed = 0;
            int rounds = 0;
            while (true) {
                byte[] chunk = poll(toServer);
                assertThat(chunk).as("close_notify comes before the transport ends").isNotSameAs(EOF_MARK);
                s.receive(chunk, 0, chunk.length);
                int n;
                while ((n = s.read(buf, 0, buf.length)) > 0) {
                    s.write(buf, 0, n);
                    echoed += n;
                }
                if (n < 0) {
                    s.closeOutbound();
                    drainTo(s, toClient, out);
                    toClient.put(EOF_MARK);
                    break;
                }
                if (++rounds % 41 == 0) {
                    s.keyUpdate(true); // the client's reading thread queues the answer, its writing thread sends it
                }
                drainTo(s, toClient, out);
            }
            assertThat(poll(toServer)).isSameAs(EOF_MARK);
            s.receiveEnd();
            return echoed;
        });

        byte[] sent = writer.get(50, TimeUnit.SECONDS);
        long echoed = echo.get(50, TimeUnit.SECONDS);
        Received got = reader.get(50, TimeUnit.SECONDS);
        assertThat(echoed).isEqualTo(total);
        assertThat(got.count()).isEqualTo(total);
        assertThat(got.digest()).isEqualTo(sent);
        assertThat(c.isInboundDone()).isTrue();
        assertThat(s.isInboundDone()).isTrue();
    }

    /** RFC 8446 section 6.1: whatever arrives after the peer's close_notify is ignored, not an error. */
    @Test
    void dataAfterCloseNotifyIsIgnored() throws Exception {
        java.util.Map<String, byte[]> secrets = new java.util.concurrent.ConcurrentHashMap<>();
        Pair p = connect(client().keyLog((label, random, secret) -> secrets.put(label, secret.clone())).build(), server().build(),
                x -> x);
        RecordCrypto sealer = RecordCrypto.of(p.client().suite(), secrets.get("CLIENT_TRAFFIC_SECRET_0"));
        byte[] closeNotify = sealer.seal(RecordCrypto.inner(new byte[] {1, 0}, 21, 0));
        byte[] late = sealer.seal(RecordCrypto.inner(ascii("too late"), 23, 0));
        p.server().receive(closeNotify, 0, closeNotify.length);
        p.server().receive(late, 0, late.length);
        assertThat(p.server().read(new byte[16], 0, 16)).isEqualTo(-1);
        assertThat(p.server().isInboundDone()).isTrue();
        assertThat(p.server().outputLength()).as("no alert").isZero();
    }

    /**
     * RFC 8446 section 6.1 again, for bytes that are no record a key opens: after close_notify they are not parsed,
     * so neither garbage in the same receive call nor in later ones is an error (before: bad_record_mac).
     */
    @Test
    void bytesThatOpenUnderNoKeyAfterCloseNotifyAreIgnored() throws Exception {
        java.util.Map<String, byte[]> secrets = new java.util.concurrent.ConcurrentHashMap<>();
        Pair p = connect(client().keyLog((label, random, secret) -> secrets.put(label, secret.clone())).build(), server().build(),
                x -> x);
        RecordCrypto sealer = RecordCrypto.of(p.client().suite(), secrets.get("CLIENT_TRAFFIC_SECRET_0"));
        byte[] closeNotify = sealer.seal(RecordCrypto.inner(new byte[] {1, 0}, 21, 0));
        byte[] garbage = new byte[5 + 40];
        garbage[0] = 23;
        garbage[1] = 3;
        garbage[2] = 3;
        garbage[4] = 40; // an application_data record of 40 bytes that no key opens
        byte[] both = java.util.Arrays.copyOf(closeNotify, closeNotify.length + garbage.length);
        System.arraycopy(garbage, 0, both, closeNotify.length, garbage.length);
        p.server().receive(both, 0, both.length);
        p.server().receive(garbage, 0, garbage.length);
        p.server().receive(new byte[] {99, 99, 99}, 0, 3); // not even a record header
        assertThat(p.server().read(new byte[16], 0, 16)).isEqualTo(-1);
        p.server().receiveEnd();
        assertThat(p.server().outputLength()).as("no alert").isZero();
    }

    /** Nothing to close before the handshake is done: abandon it by closing the transport. */
    @Test
    void closeOutboundDuringTheHandshakeIsRefused() {
        TlsEngine c = TlsEngine.client(client().build());
        assertThatThrownBy(c::closeOutbound).isInstanceOf(IllegalStateException.class).hasMessageContaining("close the transport");
    }
}
