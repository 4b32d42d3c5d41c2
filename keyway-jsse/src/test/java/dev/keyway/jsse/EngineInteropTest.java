package dev.keyway.jsse;

import dev.keyway.tls.params.NamedGroup;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Keyway SSLEngine against the JDK's own (SunJSSE) in memory, both roles, both versions: the handshake driven
 * only by the handshake status each engine reports (as Netty or the JDK's HttpClient drive one), then application
 * data both ways and a close_notify.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EngineInteropTest {
    static JsseFixtures.Credential server;
    static JsseFixtures.Credential client;

    @BeforeAll
    static void credentials() throws Exception {
        server = JsseFixtures.credential("EC", "localhost", List.of("DNS:localhost", "IP:127.0.0.1"));
        client = JsseFixtures.credential("EC", "alice", List.of());
    }

    /** One side's engine and the buffers a driver keeps for it. */
    static final class Side {
        final SSLEngine engine;
        final ByteBuffer app;
        final ByteBuffer toPeer;
        final List<String> statuses = new ArrayList<>();
        boolean finished;

        Side(SSLEngine engine) {
            this.engine = engine;
            this.app = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize() + 64);
            this.toPeer = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        }
    }

    /** Drives both engines by their handshake status until both report FINISHED; network bytes pass in {@code net}. */
    static void handshake(Side a, Side b) throws SSLException {
        ByteBuffer aToB = ByteBuffer.allocate(1 << 17);
        ByteBuffer bToA = ByteBuffer.allocate(1 << 17);
        a.engine.beginHandshake();
        b.engine.beginHandshake();
        for (int round = 0; round < 200 && !(a.finished && b.finished); round++) {
            step(a, aToB, bToA);
            step(b, bToA, aToB);
        }
        assertThat(a.finished).as("client finished; statuses %s", a.statuses).isTrue();
        assertThat(b.finished).as("server finished; statuses %s", b.statuses).isTrue();
        // Bytes sent with or after the last handshake flight (TLS 1.3 session tickets) still go to the peer, as a
        // transport would deliver them with the first application data.
        drain(aToB, b.engine);
        drain(bToA, a.engine);
    }

    private static void drain(ByteBuffer net, SSLEngine to) throws SSLException {
        net.flip();
        ByteBuffer app = ByteBuffer.allocate(to.getSession().getApplicationBufferSize());
        while (net.hasRemaining()) {
            SSLEngineResult r = to.unwrap(net, app);
            assertThat(r.getStatus()).isEqualTo(SSLEngineResult.Status.OK);
            assertThat(app.position()).isZero();
        }
        net.clear();
    }

    /** What one side does with its status: wrap into {@code out}, or unwrap from {@code in}. */
    private static void step(Side s, ByteBuffer out, ByteBuffer in) throws SSLException {
        for (int i = 0; i < 20; i++) {
            HandshakeStatus hs = s.engine.getHandshakeStatus();
            SSLEngineResult r;
            if (hs == HandshakeStatus.NEED_WRAP) {
                r = s.engine.wrap(ByteBuffer.allocate(0), out);
            } else if (hs == HandshakeStatus.NEED_UNWRAP || hs == HandshakeStatus.NEED_UNWRAP_AGAIN) {
                in.flip();
                r = s.engine.unwrap(in, s.app);
                in.compact();
                if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                    return;
                }
            } else if (hs == HandshakeStatus.NEED_TASK) {
                s.engine.getDelegatedTask().run();
                continue;
            } else {
                return;
            }
            s.statuses.add(r.getStatus() + "/" + r.getHandshakeStatus());
            if (r.getHandshakeStatus() == HandshakeStatus.FINISHED) {
                s.finished = true;
            }
            assertThat(r.getStatus()).isEqualTo(SSLEngineResult.Status.OK);
        }
    }

    /** Sends {@code data} from {@code from} to {@code to} through wrap and unwrap, records split at random. */
    static byte[] send(SSLEngine from, SSLEngine to, byte[] data, long seed) throws SSLException {
        Random rnd = new Random(seed);
        ByteBuffer src = ByteBuffer.wrap(data);
        ByteBuffer net = ByteBuffer.allocate(data.length + data.length / 8 + (1 << 16));
        while (src.hasRemaining()) {
            ByteBuffer piece = src.slice();
            piece.limit(Math.min(piece.remaining(), 1 + rnd.nextInt(40_000)));
            ByteBuffer record = ByteBuffer.allocate(from.getSession().getPacketBufferSize());
            SSLEngineResult r = from.wrap(piece, record);
            assertThat(r.getStatus()).isEqualTo(SSLEngineResult.Status.OK);
            assertThat(r.bytesConsumed()).isPositive().isLessThanOrEqualTo(16384);
            src.position(src.position() + r.bytesConsumed());
            record.flip();
            net.put(record);
        }
        net.flip();
        ByteBuffer got = ByteBuffer.allocate(data.length);
        ByteBuffer app = ByteBuffer.allocate(to.getSession().getApplicationBufferSize());
        // The peer's bytes arrive cut at random places: a partial record answers BUFFER_UNDERFLOW.
        ByteBuffer arrived = ByteBuffer.allocate(net.remaining());
        while (net.hasRemaining() || arrived.position() > 0) {
            int n = Math.min(net.remaining(), 1 + rnd.nextInt(9000));
            ByteBuffer cut = net.slice();
            cut.limit(n);
            arrived.put(cut);
            net.position(net.position() + n);
            arrived.flip();
            while (true) {
                SSLEngineResult r = to.unwrap(arrived, app);
                app.flip();
                got.put(app);
                app.clear();
                if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW || !arrived.hasRemaining()) {
                    break;
                }
                assertThat(r.getStatus()).isEqualTo(SSLEngineResult.Status.OK);
            }
            arrived.compact();
            if (!net.hasRemaining() && arrived.position() > 0 && got.position() == data.length) {
                break;
            }
        }
        return got.array();
    }

    static SSLEngine engine(SSLContext ctx, boolean clientMode) {
        SSLEngine e = clientMode ? ctx.createSSLEngine("localhost", 8443) : ctx.createSSLEngine();
        e.setUseClientMode(clientMode);
        if (clientMode) {
            SSLParameters p = e.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            e.setSSLParameters(p);
        }
        return e;
    }

    @ParameterizedTest(name = "client {0}, server {1}, {2}")
    @CsvSource({
            "Keyway, SunJSSE, TLSv1.3", "Keyway, SunJSSE, TLSv1.2",
            "SunJSSE, Keyway, TLSv1.3", "SunJSSE, Keyway, TLSv1.2",
            "Keyway, Keyway, TLSv1.3", "Keyway, Keyway, TLSv1.2"})
    void handshakeDataAndClose(String clientProvider, String serverProvider, String protocol) throws Exception {
        SSLContext cctx = JsseFixtures.context(clientProvider, protocol, null, server.cert());
        SSLContext sctx = JsseFixtures.context(serverProvider, protocol, server);
        Side c = new Side(engine(cctx, true));
        Side s = new Side(engine(sctx, false));
        handshake(c, s);

        for (Side side : List.of(c, s)) {
            assertThat(side.engine.getHandshakeStatus()).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
            assertThat(side.engine.getSession().getProtocol()).isEqualTo(protocol);
            assertThat(side.engine.getSession().getCipherSuite()).startsWith("TLS_");
            assertThat(side.engine.getSession().isValid()).isTrue();
        }
        assertThat(c.engine.getSession().getCipherSuite()).isEqualTo(s.engine.getSession().getCipherSuite());
        assertThat(c.engine.getSession().getPeerCertificates()[0]).isEqualTo(server.cert());
        assertThat(c.engine.getSession().getPeerHost()).isEqualTo("localhost");

        byte[] up = new byte[300_000];
        new Random(1).nextBytes(up);
        assertThat(send(c.engine, s.engine, up, 2)).isEqualTo(up);
        byte[] down = new byte[70_000];
        new Random(3).nextBytes(down);
        assertThat(send(s.engine, c.engine, down, 4)).isEqualTo(down);

        // close_notify from the client: its wrap says CLOSED once it is out, the server's unwrap says CLOSED.
        c.engine.closeOutbound();
        assertThat(c.engine.getHandshakeStatus()).isEqualTo(HandshakeStatus.NEED_WRAP);
        ByteBuffer net = ByteBuffer.allocate(c.engine.getSession().getPacketBufferSize());
        SSLEngineResult r = c.engine.wrap(ByteBuffer.allocate(0), net);
        assertThat(r.getStatus()).isEqualTo(SSLEngineResult.Status.CLOSED);
        assertThat(r.bytesProduced()).isPositive();
        assertThat(c.engine.isOutboundDone()).isTrue();
        net.flip();
        SSLEngineResult got = s.engine.unwrap(net, ByteBuffer.allocate(s.engine.getSession().getApplicationBufferSize()));
        assertThat(got.getStatus()).isEqualTo(SSLEngineResult.Status.CLOSED);
        assertThat(s.engine.isInboundDone()).isTrue();
    }

    @ParameterizedTest(name = "server {0}, {1}")
    @CsvSource({"SunJSSE, TLSv1.3", "SunJSSE, TLSv1.2", "Keyway, TLSv1.3"})
    void aServerNotTrustedOrForAnotherNameIsRefusedBeforeAnyData(String serverProvider, String protocol) throws Exception {
        JsseFixtures.Credential stranger = JsseFixtures.credential("EC", "localhost", List.of("DNS:localhost"));
        // trusted: another certificate for the same name
        SSLContext cctx = JsseFixtures.context(KeywayProvider.NAME, protocol, null, stranger.cert());
        SSLContext sctx = JsseFixtures.context(serverProvider, protocol, server);
        Side c = new Side(engine(cctx, true));
        Side s = new Side(engine(sctx, false));
        assertThatThrownBy(() -> handshake(c, s)).isInstanceOf(SSLHandshakeException.class);
        assertThat(c.engine.getSession().isValid()).isFalse();

        // trusted, but the engine was made for another host name (HTTPS identification)
        JsseFixtures.Credential other = JsseFixtures.credential("EC", "example.org", List.of("DNS:example.org"));
        SSLContext trusting = JsseFixtures.context(KeywayProvider.NAME, protocol, null, other.cert());
        SSLContext otherServer = JsseFixtures.context(serverProvider, protocol, other);
        Side c2 = new Side(engine(trusting, true));
        Side s2 = new Side(engine(otherServer, false));
        assertThatThrownBy(() -> handshake(c2, s2)).isInstanceOf(SSLHandshakeException.class)
                .hasMessageContaining("localhost");
    }

    @ParameterizedTest(name = "client {0}, {1}")
    @CsvSource({"SunJSSE, TLSv1.3", "SunJSSE, TLSv1.2", "Keyway, TLSv1.3"})
    void aKeywayServerPicksItsCertificateByTheServerNameAsked(String clientProvider, String protocol) throws Exception {
        // RSA: the JDK's key manager passes over EC server certificates whose key usage lacks keyAgreement (a rule
        // from static ECDH), which Keyway's certificates (digitalSignature only) are, so it would not choose by name
        JsseFixtures.Credential local = JsseFixtures.credential("RSA", "localhost", List.of("DNS:localhost"));
        JsseFixtures.Credential other = JsseFixtures.credential("RSA", "other.example", List.of("DNS:other.example"));
        KeyStore both = local.keyStore();
        both.setKeyEntry("other", other.keys().getPrivate(), JsseFixtures.PASSWORD, new X509Certificate[]{other.cert()});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(both, JsseFixtures.PASSWORD);
        SSLContext sctx = SSLContext.getInstance(protocol, new KeywayProvider());
        sctx.init(kmf.getKeyManagers(), null, null);
        SSLContext cctx = JsseFixtures.context(clientProvider, protocol, null, local.cert(), other.cert());
        for (String name : List.of("other.example", "localhost")) {
            SSLEngine ce = cctx.createSSLEngine(name, 443);
            ce.setUseClientMode(true);
            SSLParameters p = ce.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            p.setServerNames(List.of(new SNIHostName(name)));
            ce.setSSLParameters(p);
            SSLEngine se = sctx.createSSLEngine();
            se.setUseClientMode(false);
            // the JDK's key manager matches the SNI name against its certificates when the engine asks for
            // endpoint identification (as with SunJSSE)
            SSLParameters serverParams = se.getSSLParameters();
            serverParams.setEndpointIdentificationAlgorithm("HTTPS");
            se.setSSLParameters(serverParams);
            Side c = new Side(ce);
            Side s = new Side(se);
            handshake(c, s);
            assertThat(((X509Certificate) ce.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName())
                    .isEqualTo("CN=" + name);
            assertThat(((ExtendedSSLSession) se.getSession()).getRequestedServerNames())
                    .containsExactly(new SNIHostName(name));
            // the client's own list of signature schemes, as its ClientHello gave it
            String[] peerSchemes = ((ExtendedSSLSession) se.getSession()).getPeerSupportedSignatureAlgorithms();
            if (clientProvider.equals("SunJSSE")) {
                assertThat(peerSchemes).contains("ecdsa_secp384r1_sha384", "rsa_pss_rsae_sha512"); // the JDK lists more than Keyway
            } else {
                assertThat(peerSchemes).contains("ed25519").doesNotContain("ecdsa_secp384r1_sha384");
            }
        }
        // a server that answers only to "localhost" refuses another name (unrecognized_name)
        SSLEngine ce = cctx.createSSLEngine("other.example", 443);
        ce.setUseClientMode(true);
        SSLEngine se = sctx.createSSLEngine();
        se.setUseClientMode(false);
        SSLParameters sp = se.getSSLParameters();
        sp.setSNIMatchers(List.of(SNIHostName.createSNIMatcher("localhost")));
        se.setSSLParameters(sp);
        Side c = new Side(ce);
        Side s = new Side(se);
        assertThatThrownBy(() -> handshake(c, s)).isInstanceOf(SSLException.class);
        assertThat(se.getSession().isValid()).isFalse();
    }

    /** JDK 20 added named groups and signature schemes to SSLParameters: honoured or refused, never ignored. */
    @Test
    void namedGroupsAreHonouredAndSignatureSchemeLimitsRefusedOnNewerJdks() throws Exception {
        Assumptions.assumeTrue(Runtime.version().feature() >= 20, "SSLParameters has no named groups before JDK 20");
        Method setGroups = SSLParameters.class.getMethod("setNamedGroups", String[].class);
        Method setSchemes = SSLParameters.class.getMethod("setSignatureSchemes", String[].class);
        SSLContext cctx = JsseFixtures.context(KeywayProvider.NAME, "TLSv1.3", null, server.cert());
        SSLContext sctx = JsseFixtures.context("SunJSSE", "TLSv1.3", server);

        SSLEngine ce = engine(cctx, true);
        SSLParameters p = ce.getSSLParameters();
        setGroups.invoke(p, (Object) new String[]{"secp256r1"});
        ce.setSSLParameters(p);
        Side c = new Side(ce);
        handshake(c, new Side(engine(sctx, false)));
        assertThat(((KeywaySslEngine) ce).group()).isEqualTo(NamedGroup.SECP256R1);

        SSLEngine e = engine(cctx, true);
        SSLParameters none = e.getSSLParameters();
        setGroups.invoke(none, (Object) new String[]{"ffdhe2048"});
        assertThatThrownBy(() -> e.setSSLParameters(none)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ffdhe2048");
        SSLParameters fewer = e.getSSLParameters();
        setSchemes.invoke(fewer, (Object) new String[]{"ed25519"});
        assertThatThrownBy(() -> e.setSSLParameters(fewer)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("signature schemes");
        SSLParameters all = e.getSSLParameters();
        setSchemes.invoke(all, (Object) new String[]{"ecdsa_secp256r1_sha256", "ed25519", "rsa_pss_rsae_sha256", "rsa_pkcs1_sha256", "ed448"});
        e.setSSLParameters(all);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void aKeywayClientResumesByHostAndPort(String protocol) throws Exception {
        SSLContext cctx = JsseFixtures.context(KeywayProvider.NAME, protocol, null, server.cert());
        SSLContext sctx = JsseFixtures.context(KeywayProvider.NAME, protocol, server);
        Side c = new Side(engine(cctx, true));
        Side s = new Side(engine(sctx, false));
        handshake(c, s);
        // the server's tickets arrive after the handshake, with the first data
        byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
        assertThat(send(s.engine, c.engine, hello, 5)).isEqualTo(hello);

        Side c2 = new Side(engine(cctx, true));
        Side s2 = new Side(engine(sctx, false));
        handshake(c2, s2);
        assertThat(((KeywaySslEngine) c2.engine).resumed()).isTrue();
        assertThat(c2.engine.getSession().getPeerCertificates()[0]).isEqualTo(server.cert());
    }

    /** Connections opened at once each resume with a ticket of their own (a TLS 1.3 ticket is used once). */
    @Test
    void connectionsOpenedTogetherEachResume() throws Exception {
        SSLContext cctx = JsseFixtures.context(KeywayProvider.NAME, "TLSv1.3", null, server.cert());
        SSLContext sctx = JsseFixtures.context(KeywayProvider.NAME, "TLSv1.3", server);
        byte[] hello = "hello".getBytes(StandardCharsets.US_ASCII);
        for (int round = 0; round < 2; round++) {
            List<Side> clients = List.of(new Side(engine(cctx, true)), new Side(engine(cctx, true)), new Side(engine(cctx, true)));
            for (Side c : clients) {
                c.engine.beginHandshake(); // all three take their ticket (or none) before any finishes
            }
            for (Side c : clients) {
                Side s = new Side(engine(sctx, false));
                handshake(c, s);
                assertThat(send(s.engine, c.engine, hello, 9)).isEqualTo(hello); // the ticket comes with the first data
                assertThat(((KeywaySslEngine) c.engine).resumed()).as("round %d", round).isEqualTo(round == 1);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void aServerThatWantsAClientCertificateTakesOneOrNone(String protocol) throws Exception {
        SSLContext sctx = JsseFixtures.context(KeywayProvider.NAME, protocol, server, client.cert());
        for (JsseFixtures.Credential who : Arrays.asList(null, client)) {
            SSLEngine se = sctx.createSSLEngine();
            se.setUseClientMode(false);
            se.setWantClientAuth(true);
            assertThat(se.getWantClientAuth()).isTrue();
            assertThat(se.getNeedClientAuth()).isFalse();
            SSLEngine ce = engine(JsseFixtures.context("SunJSSE", protocol, who, server.cert()), true);
            handshake(new Side(ce), new Side(se));
            if (who == null) {
                assertThatThrownBy(() -> se.getSession().getPeerCertificates()).isInstanceOf(SSLPeerUnverifiedException.class);
            } else {
                assertThat(se.getSession().getPeerCertificates()[0]).isEqualTo(client.cert());
            }
        }
        // a certificate the trust manager refuses is not passed over
        JsseFixtures.Credential stranger = JsseFixtures.credential("EC", "mallory", List.of());
        SSLEngine se = sctx.createSSLEngine();
        se.setUseClientMode(false);
        se.setWantClientAuth(true);
        SSLEngine ce = engine(JsseFixtures.context("SunJSSE", protocol, stranger, server.cert()), true);
        assertThatThrownBy(() -> handshake(new Side(ce), new Side(se))).isInstanceOf(SSLException.class);
    }

    @Test
    void modeMustBeSetAndUnsupportedFeaturesAreRefused() throws Exception {
        SSLContext ctx = JsseFixtures.context(KeywayProvider.NAME, "TLS", server);
        SSLEngine e = ctx.createSSLEngine();
        assertThatThrownBy(e::beginHandshake).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> e.setEnabledProtocols(new String[]{"TLSv1.1"})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> e.setEnabledCipherSuites(new String[]{"TLS_RSA_WITH_RC4_128_SHA"})).isInstanceOf(IllegalArgumentException.class);
        assertThat(e.getDelegatedTask()).isNull();
        assertThat(e.getHandshakeStatus()).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
        assertThat(e.getSession().getCipherSuite()).isEqualTo("SSL_NULL_WITH_NULL_NULL");
    }
}
