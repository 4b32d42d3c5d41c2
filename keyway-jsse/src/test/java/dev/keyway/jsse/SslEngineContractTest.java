package dev.keyway.jsse;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionBindingEvent;
import javax.net.ssl.SSLSessionBindingListener;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * The standard {@link SSLEngine} contract (the javadoc of SSLEngine, SSLEngineResult and SSLSession), each case run
 * with two engines of the JDK's own provider (SunJSSE, the reference: every assertion here holds for it) and with two
 * Keyway engines, on TLS 1.3 and TLS 1.2. Where Keyway is known to differ, the case is listed in
 * {@link #KNOWN_KEYWAY_DEVIATIONS} and skipped for Keyway only.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SslEngineContractTest {
    /**
     * Cases in which the Keyway engine does not (yet) follow the contract: the case's method name (optionally
     * followed by a space and the protocol, when only that version differs) and what Keyway does instead. These
     * are skipped for Keyway only; SunJSSE runs them all.
     */
    static final Map<String, String> KNOWN_KEYWAY_DEVIATIONS = Map.of();

    private static final String KEYWAY = KeywayProvider.NAME;
    private static final String NULL_SUITE = "SSL_NULL_WITH_NULL_NULL";

    static JsseFixtures.Credential serverIdentity;
    static JsseFixtures.Credential clientIdentity;

    @BeforeAll
    static void credentials() throws Exception {
        serverIdentity = JsseFixtures.credential("EC", "localhost", List.of("DNS:localhost", "IP:127.0.0.1"));
        clientIdentity = JsseFixtures.credential("EC", "alice", List.of());
    }

    static Stream<Arguments> engines() {
        return Stream.of(
                arguments("SunJSSE", "TLSv1.3"), arguments("SunJSSE", "TLSv1.2"),
                arguments(KEYWAY, "TLSv1.3"), arguments(KEYWAY, "TLSv1.2"));
    }

    /** A case run for each provider (both engines from it) and protocol. */
    @Target(ElementType.METHOD)
    @Retention(RetentionPolicy.RUNTIME)
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("dev.keyway.jsse.SslEngineContractTest#engines")
    @interface EachEngine {
    }

    /** Skips the case for Keyway when it is a known deviation. */
    private static void unlessKnownDeviation(String provider, String protocol, String caseName) {
        String reason = KNOWN_KEYWAY_DEVIATIONS.getOrDefault(caseName + " " + protocol, KNOWN_KEYWAY_DEVIATIONS.get(caseName));
        Assumptions.assumeFalse(provider.equals(KEYWAY) && reason != null, () -> "known Keyway deviation: " + reason);
    }

    // ---- the in-memory driver ----

    /** What one engine did: an operation, the handshake status it reported before it, and its result. */
    record Event(String op, HandshakeStatus before, SSLEngineResult result) {
        @Override
        public String toString() {
            return result == null ? op + "(" + before + ")"
                    : op + "(" + before + ")->" + result.getStatus() + "/" + result.getHandshakeStatus()
                    + " " + result.bytesConsumed() + "/" + result.bytesProduced();
        }
    }

    /** A client and a server engine of one provider, the bytes in flight between them, and what each did. */
    static final class Link {
        final SSLEngine client;
        final SSLEngine server;
        final ByteBuffer toServer = ByteBuffer.allocate(1 << 18);
        final ByteBuffer toClient = ByteBuffer.allocate(1 << 18);
        final List<Event> clientLog = new ArrayList<>();
        final List<Event> serverLog = new ArrayList<>();
        /** When set, every handshake wrap is given these application bytes (which it must not take). */
        byte[] offered;

        Link(SSLEngine client, SSLEngine server) {
            this.client = client;
            this.server = server;
        }

        List<SSLEngine> both() {
            return List.of(client, server);
        }

        /** Begins the handshake on both sides and drives both by their handshake status until neither can go on. */
        void handshake() throws SSLException {
            client.beginHandshake();
            clientLog.add(new Event("begin", client.getHandshakeStatus(), null));
            server.beginHandshake();
            serverLog.add(new Event("begin", server.getHandshakeStatus(), null));
            pump();
            assertThat(finishedCount(clientLog)).as("client reported FINISHED: %s", clientLog).isPositive();
            assertThat(finishedCount(serverLog)).as("server reported FINISHED: %s", serverLog).isPositive();
            assertThat(toServer.position()).as("bytes left for the server: client %s, server %s", clientLog, serverLog).isZero();
            assertThat(toClient.position()).as("bytes left for the client: client %s, server %s", clientLog, serverLog).isZero();
        }

        /** Lets both sides do what their status asks (and unwrap what arrived) until neither makes progress. */
        void pump() throws SSLException {
            for (int round = 0; round < 100; round++) {
                boolean progress = false;
                for (int i = 0; i < 20 && step(client, clientLog, toClient, toServer); i++) {
                    progress = true;
                }
                for (int i = 0; i < 20 && step(server, serverLog, toServer, toClient); i++) {
                    progress = true;
                }
                if (!progress) {
                    return;
                }
            }
        }

        boolean step(SSLEngine e, List<Event> log, ByteBuffer in, ByteBuffer out) throws SSLException {
            HandshakeStatus hs = e.getHandshakeStatus();
            if (hs == HandshakeStatus.NEED_TASK) {
                Runnable task = e.getDelegatedTask();
                if (task == null) {
                    log.add(new Event("task-missing", hs, null));
                    return false;
                }
                while (task != null) {
                    task.run();
                    task = e.getDelegatedTask();
                }
                log.add(new Event("task", hs, null));
                return true;
            }
            if (hs == HandshakeStatus.NEED_WRAP) {
                ByteBuffer src = offered == null ? ByteBuffer.allocate(0) : ByteBuffer.wrap(offered);
                ByteBuffer dst = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
                SSLEngineResult r = e.wrap(src, dst);
                log.add(new Event("wrap", hs, r));
                dst.flip();
                out.put(dst);
                return r.bytesProduced() > 0 || r.getHandshakeStatus() != hs;
            }
            if (in.position() == 0) {
                return false;
            }
            in.flip();
            ByteBuffer app = ByteBuffer.allocate(e.getSession().getApplicationBufferSize());
            SSLEngineResult r;
            try {
                r = e.unwrap(in, app);
            } finally {
                in.compact();
            }
            log.add(new Event("unwrap", hs, r));
            return r.bytesConsumed() > 0 || r.getHandshakeStatus() != hs;
        }
    }

    static long finishedCount(List<Event> log) {
        return log.stream().filter(ev -> ev.result() != null && ev.result().getHandshakeStatus() == HandshakeStatus.FINISHED).count();
    }

    /**
     * FINISHED reported by operations made while the engine was handshaking (its status before them other than
     * NOT_HANDSHAKING). SunJSSE reports FINISHED once more for a TLS 1.3 NewSessionTicket unwrapped after the
     * handshake: that one is not counted here (see {@link #handshakeStatusSequence}).
     */
    static long handshakeFinishedCount(List<Event> log) {
        return log.stream().filter(ev -> ev.result() != null && ev.before() != HandshakeStatus.NOT_HANDSHAKING
                && ev.result().getHandshakeStatus() == HandshakeStatus.FINISHED).count();
    }

    static Link link(String provider, String protocol) throws Exception {
        return link(provider, protocol, null, null);
    }

    /** Two fresh engines of {@code provider}, each of its own SSLContext, with only {@code protocol} enabled. */
    static Link link(String provider, String protocol, String[] clientAlpn, String[] serverAlpn) throws Exception {
        SSLContext cctx = JsseFixtures.context(provider, protocol, null, serverIdentity.cert());
        SSLContext sctx = JsseFixtures.context(provider, protocol, serverIdentity);
        SSLEngine c = cctx.createSSLEngine("localhost", 8443);
        c.setUseClientMode(true);
        c.setEnabledProtocols(new String[]{protocol});
        SSLParameters cp = c.getSSLParameters();
        cp.setEndpointIdentificationAlgorithm("HTTPS");
        if (clientAlpn != null) {
            cp.setApplicationProtocols(clientAlpn);
        }
        c.setSSLParameters(cp);
        SSLEngine s = sctx.createSSLEngine();
        s.setUseClientMode(false);
        s.setEnabledProtocols(new String[]{protocol});
        if (serverAlpn != null) {
            SSLParameters sp = s.getSSLParameters();
            sp.setApplicationProtocols(serverAlpn);
            s.setSSLParameters(sp);
        }
        return new Link(c, s);
    }

    /** Engines as {@link #link}, the client with {@code clientId} (may be null) trusting {@code serverTrusted}, the server trusting {@code clientTrusted}. */
    static Link link(String provider, String protocol, JsseFixtures.Credential clientId, X509Certificate serverTrusted,
                     X509Certificate clientTrusted) throws Exception {
        SSLContext cctx = JsseFixtures.context(provider, protocol, clientId, serverTrusted);
        SSLContext sctx = clientTrusted == null ? JsseFixtures.context(provider, protocol, serverIdentity)
                : JsseFixtures.context(provider, protocol, serverIdentity, clientTrusted);
        SSLEngine c = cctx.createSSLEngine("localhost", 8443);
        c.setUseClientMode(true);
        c.setEnabledProtocols(new String[]{protocol});
        SSLEngine s = sctx.createSSLEngine();
        s.setUseClientMode(false);
        s.setEnabledProtocols(new String[]{protocol});
        return new Link(c, s);
    }

    static Link handshaken(String provider, String protocol) throws Exception {
        Link l = link(provider, protocol);
        l.handshake();
        return l;
    }

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** One wrap of all of {@code plain}: the record it made. */
    static byte[] record(SSLEngine from, byte[] plain) throws SSLException {
        ByteBuffer dst = ByteBuffer.allocate(from.getSession().getPacketBufferSize());
        SSLEngineResult r = from.wrap(ByteBuffer.wrap(plain), dst);
        assertThat(r.getStatus()).as("wrap %s", r).isEqualTo(Status.OK);
        assertThat(r.bytesConsumed()).as("wrap %s", r).isEqualTo(plain.length);
        assertThat(r.bytesProduced()).as("wrap %s", r).isEqualTo(dst.position());
        return Arrays.copyOf(dst.array(), dst.position());
    }

    /** One unwrap of a whole record into an application buffer of the session's size: its plaintext. */
    static byte[] open(SSLEngine to, byte[] record) throws SSLException {
        ByteBuffer app = ByteBuffer.allocate(to.getSession().getApplicationBufferSize());
        SSLEngineResult r = to.unwrap(ByteBuffer.wrap(record), app);
        assertThat(r.getStatus()).as("unwrap %s", r).isEqualTo(Status.OK);
        assertThat(r.bytesConsumed()).as("unwrap %s", r).isEqualTo(record.length);
        assertThat(r.bytesProduced()).as("unwrap %s", r).isEqualTo(app.position());
        return Arrays.copyOf(app.array(), app.position());
    }

    static void assertNothingMoved(SSLEngineResult r) {
        assertThat(r.bytesConsumed()).as("consumed by %s", r).isZero();
        assertThat(r.bytesProduced()).as("produced by %s", r).isZero();
    }

    // ---- before the handshake ----

    @EachEngine
    void beforeTheHandshake(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "beforeTheHandshake");
        Link l = link(provider, protocol);
        for (SSLEngine e : l.both()) {
            assertThat(e.getHandshakeStatus()).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
            SSLSession s = e.getSession();
            assertThat(s).isNotNull();
            assertThat(s.getCipherSuite()).isEqualTo(NULL_SUITE);
            assertThat(s.isValid()).isFalse();
            assertThat(s.getPacketBufferSize()).isPositive();
            assertThat(s.getApplicationBufferSize()).isPositive();
            assertThatThrownBy(s::getPeerCertificates).isInstanceOf(SSLPeerUnverifiedException.class);
            assertThat(e.getHandshakeSession()).isNull();
            assertThat(e.getDelegatedTask()).isNull();
            assertThat(e.isInboundDone()).isFalse();
            assertThat(e.isOutboundDone()).isFalse();
            assertThat(e.getApplicationProtocol()).isNull();
        }
        assertThat(l.client.getPeerHost()).isEqualTo("localhost");
        assertThat(l.client.getPeerPort()).isEqualTo(8443);
        assertThat(l.server.getPeerHost()).isNull();
        assertThat(l.server.getPeerPort()).isEqualTo(-1);
    }

    @EachEngine
    void withoutModeBeginWrapAndUnwrapAreIllegalState(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "withoutModeBeginWrapAndUnwrapAreIllegalState");
        SSLEngine e = JsseFixtures.context(provider, protocol, serverIdentity).createSSLEngine();
        assertThatThrownBy(e::beginHandshake).isInstanceOf(IllegalStateException.class);
        SSLEngine w = JsseFixtures.context(provider, protocol, serverIdentity).createSSLEngine();
        assertThatThrownBy(() -> w.wrap(ByteBuffer.allocate(0), ByteBuffer.allocate(1 << 15))).isInstanceOf(IllegalStateException.class);
        SSLEngine u = JsseFixtures.context(provider, protocol, serverIdentity).createSSLEngine();
        assertThatThrownBy(() -> u.unwrap(ByteBuffer.allocate(0), ByteBuffer.allocate(1 << 15))).isInstanceOf(IllegalStateException.class);
    }

    @EachEngine
    void changingModeAfterTheHandshakeBeganIsIllegalArgument(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "changingModeAfterTheHandshakeBeganIsIllegalArgument");
        Link l = link(provider, protocol);
        l.client.beginHandshake();
        assertThatThrownBy(() -> l.client.setUseClientMode(false)).isInstanceOf(IllegalArgumentException.class);
        assertThat(l.client.getUseClientMode()).isTrue();
        l.handshake();
        assertThatThrownBy(() -> l.server.setUseClientMode(true)).isInstanceOf(IllegalArgumentException.class);
        assertThat(l.server.getUseClientMode()).isFalse();
    }

    @EachEngine
    void duringTheHandshakeGetSessionIsStillTheNullSession(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "duringTheHandshakeGetSessionIsStillTheNullSession");
        Link l = link(provider, protocol);
        l.client.beginHandshake();
        ByteBuffer hello = ByteBuffer.allocate(l.client.getSession().getPacketBufferSize());
        SSLEngineResult r = l.client.wrap(ByteBuffer.allocate(0), hello);
        assertThat(r.bytesProduced()).isPositive();
        assertThat(l.client.getHandshakeStatus()).isEqualTo(HandshakeStatus.NEED_UNWRAP);
        assertThat(l.client.getSession().getCipherSuite()).isEqualTo(NULL_SUITE);
        hello.flip();
        SSLEngineResult got = l.server.unwrap(hello, ByteBuffer.allocate(l.server.getSession().getApplicationBufferSize()));
        assertThat(got.getStatus()).isEqualTo(Status.OK);
        assertThat(got.bytesConsumed()).isEqualTo(r.bytesProduced());
        assertThat(l.server.getSession().getCipherSuite()).isEqualTo(NULL_SUITE);
    }

    // ---- the handshake as driven by its status ----

    @EachEngine
    void handshakeStatusSequence(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "handshakeStatusSequence");
        Link l = link(provider, protocol);
        l.handshake();
        // then data both ways: no more FINISHED, no status but NOT_HANDSHAKING
        for (boolean up : new boolean[]{true, false}) {
            SSLEngine from = up ? l.client : l.server;
            SSLEngine to = up ? l.server : l.client;
            byte[] data = bytes(1000, up ? 1 : 2);
            ByteBuffer net = ByteBuffer.allocate(from.getSession().getPacketBufferSize());
            SSLEngineResult w = from.wrap(ByteBuffer.wrap(data), net);
            assertThat(w.getHandshakeStatus()).as("%s", w).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
            net.flip();
            ByteBuffer app = ByteBuffer.allocate(to.getSession().getApplicationBufferSize());
            SSLEngineResult u = to.unwrap(net, app);
            assertThat(u.getHandshakeStatus()).as("%s", u).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
            assertThat(u.bytesProduced()).isEqualTo(1000);
        }
        l.pump();
        for (boolean client : new boolean[]{true, false}) {
            SSLEngine e = client ? l.client : l.server;
            List<Event> log = client ? l.clientLog : l.serverLog;
            String who = (client ? "client " : "server ") + log;
            assertThat(log.get(0).before()).as(who).isEqualTo(client ? HandshakeStatus.NEED_WRAP : HandshakeStatus.NEED_UNWRAP);
            // FINISHED exactly once while handshaking; after it, only a TLS 1.3 NewSessionTicket may report it again
            // (SunJSSE does), never a wrap and never an operation that moved application data
            assertThat(handshakeFinishedCount(log)).as(who).isEqualTo(1);
            assertThat(log).as(who).allMatch(ev -> ev.result() == null || ev.before() != HandshakeStatus.NOT_HANDSHAKING
                    || ev.result().getHandshakeStatus() != HandshakeStatus.FINISHED
                    || (protocol.equals("TLSv1.3") && ev.op().equals("unwrap") && ev.result().bytesProduced() == 0));
            assertThat(finishedCount(log)).as(who).isLessThanOrEqualTo(2);
            assertThat(log).as(who).noneMatch(ev -> ev.op().equals("task-missing"));
            assertThat(log).as(who).noneMatch(ev -> ev.before() == HandshakeStatus.FINISHED);
            assertThat(log).as(who).allMatch(ev -> ev.result() == null || ev.result().getStatus() == Status.OK);
            assertThat(e.getHandshakeStatus()).as(who).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
            assertThat(e.getDelegatedTask()).as(who).isNull();
            // no application data during the handshake
            assertThat(log).as(who).allMatch(ev -> ev.result() == null || !ev.op().equals("unwrap") || ev.result().bytesProduced() == 0);
        }
        // the client speaks first
        assertThat(l.clientLog.get(1).op()).as("client %s", l.clientLog).isEqualTo("wrap");
    }

    // ---- wrap: overflow, application data during the handshake ----

    @EachEngine
    void wrapIntoTooSmallABufferDuringTheHandshakeOverflowsAndLosesNothing(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "wrapIntoTooSmallABufferDuringTheHandshakeOverflowsAndLosesNothing");
        Link l = link(provider, protocol);
        l.client.beginHandshake();
        ByteBuffer small = ByteBuffer.allocate(16);
        SSLEngineResult r = l.client.wrap(ByteBuffer.allocate(0), small);
        assertThat(r.getStatus()).isEqualTo(Status.BUFFER_OVERFLOW);
        assertNothingMoved(r);
        assertThat(small.position()).isZero();
        assertThat(l.client.getHandshakeStatus()).isEqualTo(HandshakeStatus.NEED_WRAP);
        // the retry makes the ClientHello and the handshake completes from there
        l.server.beginHandshake();
        l.pump();
        assertThat(handshakeFinishedCount(l.clientLog)).as("client %s", l.clientLog).isEqualTo(1);
        assertThat(handshakeFinishedCount(l.serverLog)).as("server %s", l.serverLog).isEqualTo(1);
        byte[] data = bytes(300, 3);
        assertThat(open(l.server, record(l.client, data))).isEqualTo(data);
    }

    @EachEngine
    void wrapIntoTooSmallABufferAfterTheHandshakeOverflowsAndLosesNothing(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "wrapIntoTooSmallABufferAfterTheHandshakeOverflowsAndLosesNothing");
        Link l = handshaken(provider, protocol);
        byte[] data = bytes(1000, 4);
        ByteBuffer src = ByteBuffer.wrap(data);
        ByteBuffer small = ByteBuffer.allocate(100);
        SSLEngineResult r = l.client.wrap(src, small);
        assertThat(r.getStatus()).isEqualTo(Status.BUFFER_OVERFLOW);
        assertNothingMoved(r);
        assertThat(src.position()).isZero();
        assertThat(small.position()).isZero();
        ByteBuffer big = ByteBuffer.allocate(l.client.getSession().getPacketBufferSize());
        SSLEngineResult retry = l.client.wrap(src, big);
        assertThat(retry.getStatus()).isEqualTo(Status.OK);
        assertThat(retry.bytesConsumed()).isEqualTo(1000);
        assertThat(open(l.server, Arrays.copyOf(big.array(), big.position()))).isEqualTo(data);
    }

    @EachEngine
    void applicationDataIsNotConsumedBeforeTheHandshakeCompletes(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "applicationDataIsNotConsumedBeforeTheHandshakeCompletes");
        Link l = link(provider, protocol);
        // a first wrap without beginHandshake starts it: it makes the ClientHello, takes none of the data
        ByteBuffer data = ByteBuffer.wrap(bytes(100, 5));
        ByteBuffer dst = ByteBuffer.allocate(l.client.getSession().getPacketBufferSize());
        SSLEngineResult r = l.client.wrap(data, dst);
        assertThat(r.getStatus()).isEqualTo(Status.OK);
        assertThat(r.bytesConsumed()).isZero();
        assertThat(r.bytesProduced()).isPositive().isEqualTo(dst.position());
        assertThat(data.position()).isZero();
        // waiting for the server: a wrap neither takes data nor makes anything
        assertThat(l.client.getHandshakeStatus()).isEqualTo(HandshakeStatus.NEED_UNWRAP);
        ByteBuffer more = ByteBuffer.allocate(l.client.getSession().getPacketBufferSize());
        SSLEngineResult waiting = l.client.wrap(data, more);
        assertNothingMoved(waiting);
        assertThat(waiting.getStatus()).isEqualTo(Status.OK);
        assertThat(data.position()).isZero();
        dst.flip();
        l.toServer.put(dst);
        // every handshake wrap of either side is offered data, none may take it until the handshake is over
        l.offered = bytes(100, 6);
        l.server.beginHandshake();
        l.pump();
        for (List<Event> log : List.of(l.clientLog, l.serverLog)) {
            assertThat(handshakeFinishedCount(log)).as("%s", log).isEqualTo(1);
            for (Event ev : log) {
                if (ev.op().equals("wrap")) {
                    assertThat(ev.result().bytesConsumed()).as("%s", log).isZero();
                }
                if (ev.result() != null && ev.result().getHandshakeStatus() == HandshakeStatus.FINISHED) {
                    break;
                }
            }
        }
        // after it, the same data goes
        assertThat(open(l.server, record(l.client, l.offered))).isEqualTo(l.offered);
    }

    // ---- unwrap: underflow and overflow ----

    @EachEngine
    void unwrapOfAPartialRecordUnderflowsAtEveryCut(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "unwrapOfAPartialRecordUnderflowsAtEveryCut");
        Link l = handshaken(provider, protocol);
        byte[] data = bytes(100, 7);
        byte[] rec = record(l.client, data);
        ByteBuffer app = ByteBuffer.allocate(l.server.getSession().getApplicationBufferSize());
        for (int cut = 0; cut < rec.length; cut++) {
            ByteBuffer part = ByteBuffer.wrap(rec, 0, cut);
            SSLEngineResult r = l.server.unwrap(part, app);
            assertThat(r.getStatus()).as("cut at %d of %d", cut, rec.length).isEqualTo(Status.BUFFER_UNDERFLOW);
            assertNothingMoved(r);
            assertThat(part.position()).isZero();
            assertThat(app.position()).isZero();
        }
        assertThat(open(l.server, rec)).isEqualTo(data);
    }

    @EachEngine
    void unwrapOfAPartialClientHelloUnderflowsAtEveryCut(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "unwrapOfAPartialClientHelloUnderflowsAtEveryCut");
        Link l = link(provider, protocol);
        l.client.beginHandshake();
        ByteBuffer dst = ByteBuffer.allocate(l.client.getSession().getPacketBufferSize());
        l.client.wrap(ByteBuffer.allocate(0), dst);
        byte[] hello = Arrays.copyOf(dst.array(), dst.position());
        assertThat(hello).hasSizeGreaterThan(5);
        int whole = 5 + (((hello[3] & 0xff) << 8) | (hello[4] & 0xff)); // its first record
        ByteBuffer app = ByteBuffer.allocate(l.server.getSession().getApplicationBufferSize());
        for (int cut = 0; cut < whole; cut++) {
            ByteBuffer part = ByteBuffer.wrap(hello, 0, cut);
            SSLEngineResult r = l.server.unwrap(part, app);
            assertThat(r.getStatus()).as("cut at %d of %d", cut, whole).isEqualTo(Status.BUFFER_UNDERFLOW);
            assertNothingMoved(r);
            assertThat(part.position()).isZero();
        }
        l.toServer.put(hello);
        l.server.beginHandshake();
        l.pump();
        assertThat(handshakeFinishedCount(l.clientLog)).as("client %s", l.clientLog).isEqualTo(1);
        assertThat(handshakeFinishedCount(l.serverLog)).as("server %s", l.serverLog).isEqualTo(1);
    }

    @EachEngine
    void unwrapIntoTooSmallAnApplicationBufferOverflowsAndLosesNothing(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "unwrapIntoTooSmallAnApplicationBufferOverflowsAndLosesNothing");
        Link l = handshaken(provider, protocol);
        byte[] data = bytes(1000, 8);
        ByteBuffer src = ByteBuffer.wrap(record(l.server, data));
        ByteBuffer small = ByteBuffer.allocate(100);
        SSLEngineResult r = l.client.unwrap(src, small);
        assertThat(r.getStatus()).isEqualTo(Status.BUFFER_OVERFLOW);
        assertNothingMoved(r);
        assertThat(src.position()).isZero();
        assertThat(small.position()).isZero();
        // an array of small buffers that together are too small as well
        ByteBuffer[] smalls = {ByteBuffer.allocate(300), ByteBuffer.allocate(300)};
        SSLEngineResult r2 = l.client.unwrap(src, smalls);
        assertThat(r2.getStatus()).isEqualTo(Status.BUFFER_OVERFLOW);
        assertNothingMoved(r2);
        assertThat(src.position()).isZero();
        ByteBuffer big = ByteBuffer.allocate(l.client.getSession().getApplicationBufferSize());
        SSLEngineResult retry = l.client.unwrap(src, big);
        assertThat(retry.getStatus()).isEqualTo(Status.OK);
        assertThat(retry.bytesConsumed()).isEqualTo(src.limit());
        assertThat(retry.bytesProduced()).isEqualTo(1000);
        assertThat(Arrays.copyOf(big.array(), big.position())).isEqualTo(data);
    }

    // ---- the session's buffer sizes ----

    @EachEngine
    void theSessionsBufferSizesAreEnough(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "theSessionsBufferSizesAreEnough");
        Link l = handshaken(provider, protocol);
        for (boolean up : new boolean[]{true, false}) {
            SSLEngine from = up ? l.client : l.server;
            SSLEngine to = up ? l.server : l.client;
            byte[] data = bytes(from.getSession().getApplicationBufferSize(), up ? 9 : 10);
            ByteBuffer src = ByteBuffer.wrap(data);
            List<byte[]> records = new ArrayList<>();
            for (int i = 0; src.hasRemaining() && i < 10; i++) {
                ByteBuffer dst = ByteBuffer.allocate(from.getSession().getPacketBufferSize());
                SSLEngineResult r = from.wrap(src, dst);
                assertThat(r.getStatus()).as("wrap %s", r).isEqualTo(Status.OK);
                assertThat(r.bytesConsumed()).isPositive();
                records.add(Arrays.copyOf(dst.array(), dst.position()));
            }
            assertThat(src.hasRemaining()).isFalse();
            // one more full record, the largest plaintext a record can carry
            byte[] max = bytes(16384, 11);
            ByteBuffer maxSrc = ByteBuffer.wrap(max);
            ByteBuffer maxDst = ByteBuffer.allocate(from.getSession().getPacketBufferSize());
            SSLEngineResult mr = from.wrap(maxSrc, maxDst);
            assertThat(mr.getStatus()).as("wrap %s", mr).isEqualTo(Status.OK);
            records.add(Arrays.copyOf(maxDst.array(), maxDst.position()));
            ByteBuffer got = ByteBuffer.allocate(data.length + max.length);
            for (byte[] rec : records) {
                assertThat(rec.length).isLessThanOrEqualTo(to.getSession().getPacketBufferSize());
                got.put(open(to, rec));
            }
            byte[] expected = Arrays.copyOf(data, data.length + mr.bytesConsumed());
            System.arraycopy(max, 0, expected, data.length, mr.bytesConsumed());
            assertThat(Arrays.copyOf(got.array(), got.position())).isEqualTo(expected);
        }
    }

    // ---- accounting ----

    @EachEngine
    void gatheringWrapMovesPositionsByTheCountsItReports(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "gatheringWrapMovesPositionsByTheCountsItReports");
        Link l = handshaken(provider, protocol);
        byte[] a = bytes(300, 12);
        byte[] b = bytes(500, 13);
        ByteBuffer[] srcs = {ByteBuffer.wrap(bytes(10, 14)), ByteBuffer.wrap(a), ByteBuffer.allocate(0),
                ByteBuffer.wrap(b).asReadOnlyBuffer(), ByteBuffer.wrap(bytes(20, 15))};
        ByteBuffer dst = ByteBuffer.allocate(l.client.getSession().getPacketBufferSize() + 7);
        dst.put(new byte[7]);
        SSLEngineResult r = l.client.wrap(srcs, 1, 3, dst);
        assertThat(r.getStatus()).isEqualTo(Status.OK);
        assertThat(r.bytesConsumed()).isEqualTo(800);
        assertThat(srcs[0].position()).isZero();
        assertThat(srcs[1].position()).isEqualTo(300);
        assertThat(srcs[3].position()).isEqualTo(500);
        assertThat(srcs[4].position()).isZero();
        assertThat(dst.position() - 7).isEqualTo(r.bytesProduced());
        byte[] rec = Arrays.copyOfRange(dst.array(), 7, dst.position());
        byte[] expected = Arrays.copyOf(a, 800);
        System.arraycopy(b, 0, expected, 300, 500);
        assertThat(open(l.server, rec)).isEqualTo(expected);
    }

    @EachEngine
    void scatteringUnwrapMovesPositionsByTheCountsItReportsOneRecordAtATime(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "scatteringUnwrapMovesPositionsByTheCountsItReportsOneRecordAtATime");
        Link l = handshaken(provider, protocol);
        byte[] first = bytes(700, 16);
        byte[] second = bytes(50, 17);
        byte[] r1 = record(l.server, first);
        byte[] r2 = record(l.server, second);
        ByteBuffer src = ByteBuffer.allocate(3 + r1.length + r2.length);
        src.put(new byte[3]).put(r1).put(r2).flip();
        src.position(3);
        ByteBuffer[] dsts = {ByteBuffer.allocate(50), ByteBuffer.allocate(300), ByteBuffer.allocate(300),
                ByteBuffer.allocate(300), ByteBuffer.allocate(50)};
        SSLEngineResult r = l.client.unwrap(src, dsts, 1, 3);
        assertThat(r.getStatus()).isEqualTo(Status.OK);
        assertThat(r.bytesConsumed()).isEqualTo(r1.length);
        assertThat(src.position()).isEqualTo(3 + r1.length);
        assertThat(r.bytesProduced()).isEqualTo(700);
        assertThat(dsts[0].position()).isZero();
        assertThat(dsts[4].position()).isZero();
        assertThat(dsts[1].position() + dsts[2].position() + dsts[3].position()).isEqualTo(700);
        assertThat(dsts[1].position()).isEqualTo(300);
        assertThat(dsts[2].position()).isEqualTo(300);
        ByteBuffer got = ByteBuffer.allocate(700);
        for (int i = 1; i <= 3; i++) {
            dsts[i].flip();
            got.put(dsts[i]);
        }
        assertThat(got.array()).isEqualTo(first);
        // the second record is still there, whole
        assertThat(src.remaining()).isEqualTo(r2.length);
        ByteBuffer app = ByteBuffer.allocate(l.client.getSession().getApplicationBufferSize());
        SSLEngineResult next = l.client.unwrap(src, app);
        assertThat(next.bytesConsumed()).isEqualTo(r2.length);
        assertThat(Arrays.copyOf(app.array(), app.position())).isEqualTo(second);
    }

    // ---- illegal arguments ----

    @EachEngine
    void readOnlyNullAndOutOfRangeArgumentsAreRefusedAndHarmNothing(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "readOnlyNullAndOutOfRangeArgumentsAreRefusedAndHarmNothing");
        Link l = handshaken(provider, protocol);
        SSLEngine c = l.client;
        SSLEngine s = l.server;
        int packet = c.getSession().getPacketBufferSize();
        int appSize = s.getSession().getApplicationBufferSize();
        ByteBuffer data = ByteBuffer.wrap(bytes(10, 18));
        ByteBuffer[] three = {ByteBuffer.allocate(1), ByteBuffer.allocate(1), ByteBuffer.allocate(1)};
        byte[] rec = record(c, bytes(10, 19));

        assertThatThrownBy(() -> c.wrap(data, ByteBuffer.allocate(packet).asReadOnlyBuffer())).isInstanceOf(ReadOnlyBufferException.class);
        assertThatThrownBy(() -> s.unwrap(ByteBuffer.wrap(rec), ByteBuffer.allocate(appSize).asReadOnlyBuffer()))
                .isInstanceOf(ReadOnlyBufferException.class);
        assertThatThrownBy(() -> s.unwrap(ByteBuffer.wrap(rec), new ByteBuffer[]{ByteBuffer.allocate(appSize), ByteBuffer.allocate(9).asReadOnlyBuffer()}))
                .isInstanceOf(ReadOnlyBufferException.class);

        assertThatThrownBy(() -> c.wrap((ByteBuffer) null, ByteBuffer.allocate(packet))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.wrap((ByteBuffer[]) null, ByteBuffer.allocate(packet))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.wrap(data, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> c.wrap(new ByteBuffer[]{data, null}, ByteBuffer.allocate(packet))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> s.unwrap(null, ByteBuffer.allocate(appSize))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> s.unwrap(ByteBuffer.wrap(rec), (ByteBuffer) null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> s.unwrap(ByteBuffer.wrap(rec), (ByteBuffer[]) null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> s.unwrap(ByteBuffer.wrap(rec), new ByteBuffer[]{ByteBuffer.allocate(appSize), null}))
                .isInstanceOf(IllegalArgumentException.class);

        for (int[] bad : new int[][]{{-1, 1}, {0, -1}, {0, 4}, {2, 2}, {4, 0}}) {
            assertThatThrownBy(() -> c.wrap(three, bad[0], bad[1], ByteBuffer.allocate(packet)))
                    .as("wrap offset %d length %d", bad[0], bad[1]).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> s.unwrap(ByteBuffer.wrap(rec), three, bad[0], bad[1]))
                    .as("unwrap offset %d length %d", bad[0], bad[1]).isInstanceOf(IndexOutOfBoundsException.class);
        }
        // nothing was taken or broken: the data and the record still go through
        assertThat(data.position()).isZero();
        assertThat(open(s, rec)).isEqualTo(bytes(10, 19));
        assertThat(open(s, record(c, bytes(10, 18)))).isEqualTo(bytes(10, 18));
    }

    // ---- closing ----

    @EachEngine
    void closeOutboundAfterTheHandshakeSendsCloseNotify(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "closeOutboundAfterTheHandshakeSendsCloseNotify");
        for (boolean clientCloses : new boolean[]{true, false}) {
            Link l = handshaken(provider, protocol);
            SSLEngine closer = clientCloses ? l.client : l.server;
            SSLEngine peer = clientCloses ? l.server : l.client;
            String who = clientCloses ? "client closes" : "server closes";
            closer.closeOutbound();
            assertThat(closer.getHandshakeStatus()).as(who).isEqualTo(HandshakeStatus.NEED_WRAP);
            assertThat(closer.isOutboundDone()).as(who).isFalse();
            ByteBuffer net = ByteBuffer.allocate(closer.getSession().getPacketBufferSize());
            SSLEngineResult r = closer.wrap(ByteBuffer.wrap(bytes(10, 20)), net);
            assertThat(r.getStatus()).as(who).isEqualTo(Status.CLOSED);
            assertThat(r.bytesConsumed()).as(who).isZero();
            assertThat(r.bytesProduced()).as(who).isPositive().isEqualTo(net.position());
            assertThat(closer.isOutboundDone()).as(who).isTrue();
            assertThat(closer.getHandshakeStatus()).as(who).isNotEqualTo(HandshakeStatus.NEED_WRAP);
            // nothing more comes out
            ByteBuffer after = ByteBuffer.allocate(closer.getSession().getPacketBufferSize());
            SSLEngineResult again = closer.wrap(ByteBuffer.wrap(bytes(10, 21)), after);
            assertThat(again.getStatus()).as(who).isEqualTo(Status.CLOSED);
            assertNothingMoved(again);
            // the peer sees the close_notify
            net.flip();
            ByteBuffer app = ByteBuffer.allocate(peer.getSession().getApplicationBufferSize());
            SSLEngineResult got = peer.unwrap(net, app);
            assertThat(got.getStatus()).as(who).isEqualTo(Status.CLOSED);
            assertThat(got.bytesConsumed()).as(who).isEqualTo(r.bytesProduced());
            assertThat(got.bytesProduced()).as(who).isZero();
            assertThat(peer.isInboundDone()).as(who).isTrue();
            SSLEngineResult more = peer.unwrap(ByteBuffer.allocate(0), app);
            assertThat(more.getStatus()).as(who).isEqualTo(Status.CLOSED);
            assertNothingMoved(more);
        }
    }

    @EachEngine
    void closeOutboundDuringTheHandshakeSendsAnAlertAndCloses(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "closeOutboundDuringTheHandshakeSendsAnAlertAndCloses");
        Link l = link(provider, protocol);
        l.client.beginHandshake();
        ByteBuffer hello = ByteBuffer.allocate(l.client.getSession().getPacketBufferSize());
        assertThat(l.client.wrap(ByteBuffer.allocate(0), hello).bytesProduced()).isPositive();
        assertThat(l.client.getHandshakeStatus()).isEqualTo(HandshakeStatus.NEED_UNWRAP);
        l.client.closeOutbound();
        assertThat(l.client.getHandshakeStatus()).isEqualTo(HandshakeStatus.NEED_WRAP);
        assertThat(l.client.isOutboundDone()).isFalse();
        ByteBuffer out = ByteBuffer.allocate(1 << 16);
        List<SSLEngineResult> results = new ArrayList<>();
        for (int i = 0; i < 5 && l.client.getHandshakeStatus() == HandshakeStatus.NEED_WRAP; i++) {
            ByteBuffer dst = ByteBuffer.allocate(l.client.getSession().getPacketBufferSize());
            SSLEngineResult r = l.client.wrap(ByteBuffer.wrap(bytes(10, 27)), dst);
            results.add(r);
            dst.flip();
            out.put(dst);
        }
        assertThat(l.client.getHandshakeStatus()).as("%s", results).isNotEqualTo(HandshakeStatus.NEED_WRAP);
        assertThat(results).allMatch(r -> r.bytesConsumed() == 0);
        assertThat(results.get(results.size() - 1).getStatus()).as("%s", results).isEqualTo(Status.CLOSED);
        assertThat(out.position()).as("%s", results).isPositive();
        assertThat(l.client.isOutboundDone()).isTrue();
        SSLEngineResult again = l.client.wrap(ByteBuffer.wrap(bytes(10, 28)), ByteBuffer.allocate(l.client.getSession().getPacketBufferSize()));
        assertThat(again.getStatus()).isEqualTo(Status.CLOSED);
        assertNothingMoved(again);
        // the server gets the ClientHello and then the closing alerts: driven by its status, its inbound ends closed
        hello.flip();
        out.flip();
        l.toServer.put(hello).put(out);
        l.serverLog.add(new Event("begin", l.server.getHandshakeStatus(), null));
        // (SunJSSE's TLS 1.3 server, which reads protected records once its ServerHello is out, refuses the
        // plaintext alert with an SSLException; its TLS 1.2 server unwraps it as CLOSED): either way it stops
        SSLException refused = null;
        try {
            for (int i = 0; i < 20 && l.step(l.server, l.serverLog, l.toServer, l.toClient); i++) {
                // only the server moves
            }
        } catch (SSLException e) {
            refused = e;
        }
        boolean closed = l.serverLog.stream().anyMatch(ev -> ev.op().equals("unwrap") && ev.result().getStatus() == Status.CLOSED);
        assertThat(refused != null || closed).as("server %s", l.serverLog).isTrue();
        assertThat(handshakeFinishedCount(l.serverLog)).as("server %s", l.serverLog).isZero();
        assertThat(l.server.isInboundDone()).as("server %s", l.serverLog).isTrue();
    }

    @EachEngine
    void closeOutboundBeforeTheHandshakeClosesAtOnce(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "closeOutboundBeforeTheHandshakeClosesAtOnce");
        Link l = link(provider, protocol);
        l.client.closeOutbound();
        assertThat(l.client.isOutboundDone()).isTrue();
        ByteBuffer dst = ByteBuffer.allocate(l.client.getSession().getPacketBufferSize());
        SSLEngineResult r = l.client.wrap(ByteBuffer.wrap(bytes(10, 22)), dst);
        assertThat(r.getStatus()).isEqualTo(Status.CLOSED);
        assertThat(r.bytesConsumed()).isZero();
    }

    @EachEngine
    void closeInboundWithoutThePeersCloseNotifyThrows(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "closeInboundWithoutThePeersCloseNotifyThrows");
        Link l = handshaken(provider, protocol);
        assertThat(l.client.isInboundDone()).isFalse();
        assertThatThrownBy(l.client::closeInbound).isInstanceOf(SSLException.class);
        assertThat(l.client.isInboundDone()).isTrue();
        // unwrap takes no more data
        byte[] rec = record(l.server, bytes(10, 23));
        ByteBuffer src = ByteBuffer.wrap(rec);
        SSLEngineResult r = l.client.unwrap(src, ByteBuffer.allocate(l.client.getSession().getApplicationBufferSize()));
        assertThat(r.getStatus()).isEqualTo(Status.CLOSED);
        assertThat(r.bytesProduced()).isZero();
    }

    @EachEngine
    void closeInboundAfterThePeersCloseNotifyOrBeforeAnyHandshakeDoesNotThrow(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "closeInboundAfterThePeersCloseNotifyOrBeforeAnyHandshakeDoesNotThrow");
        Link fresh = link(provider, protocol);
        fresh.server.closeInbound();
        assertThat(fresh.server.isInboundDone()).isTrue();

        Link l = handshaken(provider, protocol);
        l.client.closeOutbound();
        ByteBuffer net = ByteBuffer.allocate(l.client.getSession().getPacketBufferSize());
        assertThat(l.client.wrap(ByteBuffer.allocate(0), net).getStatus()).isEqualTo(Status.CLOSED);
        net.flip();
        assertThat(l.server.unwrap(net, ByteBuffer.allocate(l.server.getSession().getApplicationBufferSize())).getStatus())
                .isEqualTo(Status.CLOSED);
        l.server.closeInbound();
        assertThat(l.server.isInboundDone()).isTrue();
    }

    // ---- a corrupted record ----

    @EachEngine
    void aCorruptedRecordFailsTheUnwrapAndAnAlertClosesBothDirections(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "aCorruptedRecordFailsTheUnwrapAndAnAlertClosesBothDirections");
        Link l = handshaken(provider, protocol);
        byte[] rec = record(l.client, bytes(100, 24));
        rec[5 + (rec.length - 5) / 2] ^= 0x10;
        ByteBuffer app = ByteBuffer.allocate(l.server.getSession().getApplicationBufferSize());
        assertThatThrownBy(() -> l.server.unwrap(ByteBuffer.wrap(rec), app)).isInstanceOf(SSLException.class);
        assertThat(app.position()).isZero();
        assertThat(l.server.getHandshakeStatus()).isEqualTo(HandshakeStatus.NEED_WRAP);
        ByteBuffer alert = ByteBuffer.allocate(l.server.getSession().getPacketBufferSize());
        SSLEngineResult r = l.server.wrap(ByteBuffer.wrap(bytes(10, 25)), alert);
        assertThat(r.getStatus()).isEqualTo(Status.CLOSED);
        assertThat(r.bytesConsumed()).isZero();
        assertThat(r.bytesProduced()).isPositive().isEqualTo(alert.position());
        assertThat(l.server.isOutboundDone()).isTrue();
        assertThat(l.server.isInboundDone()).isTrue();
        assertThat(l.server.getHandshakeStatus()).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
        SSLEngineResult again = l.server.wrap(ByteBuffer.wrap(bytes(10, 34)), ByteBuffer.allocate(l.server.getSession().getPacketBufferSize()));
        assertThat(again.getStatus()).isEqualTo(Status.CLOSED);
        assertNothingMoved(again);
        // the client, given the alert, fails too and takes no more data
        alert.flip();
        ByteBuffer capp = ByteBuffer.allocate(l.client.getSession().getApplicationBufferSize());
        assertThatThrownBy(() -> l.client.unwrap(alert, capp)).isInstanceOf(SSLException.class);
        assertThat(l.client.isInboundDone()).isTrue();
    }

    // ---- the session ----

    @EachEngine
    void theSessionAfterTheHandshake(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "theSessionAfterTheHandshake");
        Link l = handshaken(provider, protocol);
        SSLSession cs = l.client.getSession();
        SSLSession ss = l.server.getSession();
        assertThat(cs.getProtocol()).isEqualTo(protocol);
        assertThat(ss.getProtocol()).isEqualTo(protocol);
        assertThat(cs.getCipherSuite()).isNotEqualTo(NULL_SUITE).isEqualTo(ss.getCipherSuite());
        assertThat(List.of(l.client.getEnabledCipherSuites())).contains(cs.getCipherSuite());
        assertThat(cs.getPeerCertificates()[0]).isEqualTo(serverIdentity.cert());
        assertThat(cs.getPeerPrincipal()).isEqualTo(serverIdentity.cert().getSubjectX500Principal());
        assertThat(cs.getLocalCertificates()).isNull();
        assertThat(cs.getLocalPrincipal()).isNull();
        assertThat(ss.getLocalCertificates()[0]).isEqualTo(serverIdentity.cert());
        assertThat(ss.getLocalPrincipal()).isEqualTo(serverIdentity.cert().getSubjectX500Principal());
        assertThatThrownBy(ss::getPeerCertificates).isInstanceOf(SSLPeerUnverifiedException.class);
        assertThatThrownBy(ss::getPeerPrincipal).isInstanceOf(SSLPeerUnverifiedException.class);
        assertThat(cs.getPeerHost()).isEqualTo("localhost");
        assertThat(cs.getPeerPort()).isEqualTo(8443);
        for (SSLSession s : List.of(cs, ss)) {
            assertThat(s.isValid()).isTrue();
            assertThat(s.getCreationTime()).isPositive().isLessThanOrEqualTo(s.getLastAccessedTime());
            assertThat(s.getLastAccessedTime()).isLessThanOrEqualTo(System.currentTimeMillis());
            assertThat(s.getId()).isNotNull();
            assertThat(s.getPacketBufferSize()).isGreaterThan(s.getApplicationBufferSize());
        }
        for (SSLEngine e : l.both()) {
            assertThat(e.getHandshakeSession()).isNull();
            assertThat(e.getHandshakeStatus()).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
        }
        cs.invalidate();
        assertThat(cs.isValid()).isFalse();
        // the connection goes on
        byte[] data = bytes(10, 26);
        assertThat(open(l.server, record(l.client, data))).isEqualTo(data);
    }

    static final class Listener implements SSLSessionBindingListener {
        final List<String> calls = new ArrayList<>();
        final List<SSLSession> sessions = new ArrayList<>();

        @Override
        public void valueBound(SSLSessionBindingEvent event) {
            calls.add("bound " + event.getName());
            sessions.add(event.getSession());
        }

        @Override
        public void valueUnbound(SSLSessionBindingEvent event) {
            calls.add("unbound " + event.getName());
            sessions.add(event.getSession());
        }
    }

    @EachEngine
    void sessionValuesAndBindingListeners(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "sessionValuesAndBindingListeners");
        Link l = handshaken(provider, protocol);
        for (SSLSession s : List.of(l.client.getSession(), l.server.getSession())) {
            assertThat(s.getValue("a")).isNull();
            s.putValue("a", "one");
            assertThat(s.getValue("a")).isEqualTo("one");
            Listener first = new Listener();
            Listener second = new Listener();
            s.putValue("b", first);
            assertThat(first.calls).containsExactly("bound b");
            s.putValue("b", second);
            assertThat(first.calls).containsExactly("bound b", "unbound b");
            assertThat(second.calls).containsExactly("bound b");
            assertThat(s.getValueNames()).containsExactlyInAnyOrder("a", "b");
            s.removeValue("b");
            assertThat(second.calls).containsExactly("bound b", "unbound b");
            assertThat(first.sessions).containsOnly(s);
            assertThat(second.sessions).containsOnly(s);
            assertThat(s.getValue("b")).isNull();
            s.removeValue("a");
            s.removeValue("never");
            assertThat(s.getValueNames()).isEmpty();
            assertThatThrownBy(() -> s.putValue(null, "x")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> s.putValue("x", null)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> s.getValue(null)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> s.removeValue(null)).isInstanceOf(IllegalArgumentException.class);
        }
        // values are the session's, seen through every getSession(); each side's session is its own
        l.client.getSession().putValue("side", "client");
        assertThat(l.client.getSession().getValue("side")).isEqualTo("client");
        assertThat(l.server.getSession().getValue("side")).isNull();
    }

    // ---- parameters ----

    @EachEngine
    void sslParametersRoundTrip(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "sslParametersRoundTrip");
        Link l = link(provider, protocol);
        for (SSLEngine e : l.both()) {
            String[] protocols = e.getEnabledProtocols();
            String[] suites = e.getEnabledCipherSuites();
            SSLParameters p = e.getSSLParameters();
            assertThat(p.getProtocols()).containsExactly(protocols);
            assertThat(p.getCipherSuites()).containsExactly(suites);
            // a copy: changing it changes nothing until it is set
            p.setProtocols(new String[0]);
            assertThat(e.getEnabledProtocols()).containsExactly(protocols);
            e.setSSLParameters(e.getSSLParameters());
            assertThat(e.getEnabledProtocols()).containsExactly(protocols);
            assertThat(e.getEnabledCipherSuites()).containsExactly(suites);
            // null protocols and suites in the parameters leave them as they are
            SSLParameters alpnOnly = new SSLParameters();
            alpnOnly.setApplicationProtocols(new String[]{"x"});
            e.setSSLParameters(alpnOnly);
            assertThat(e.getEnabledProtocols()).containsExactly(protocols);
            assertThat(e.getEnabledCipherSuites()).containsExactly(suites);
            assertThat(e.getSSLParameters().getApplicationProtocols()).containsExactly("x");
            // the getters hand out copies too
            e.getEnabledProtocols()[0] = "changed";
            assertThat(e.getEnabledProtocols()).containsExactly(protocols);
        }
    }

    @EachEngine
    void protocolAndSuiteNamesAreCheckedAgainstTheSupportedOnes(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "protocolAndSuiteNamesAreCheckedAgainstTheSupportedOnes");
        SSLEngine e = link(provider, protocol).client;
        List<String> supportedProtocols = List.of(e.getSupportedProtocols());
        List<String> supportedSuites = List.of(e.getSupportedCipherSuites());
        assertThat(supportedProtocols).contains(protocol).containsAll(List.of(e.getEnabledProtocols()));
        assertThat(supportedSuites).containsAll(List.of(e.getEnabledCipherSuites()));
        for (String old : List.of("SSLv3", "TLSv1.1")) {
            if (supportedProtocols.contains(old)) {
                e.setEnabledProtocols(new String[]{old});
                assertThat(e.getEnabledProtocols()).containsExactly(old);
            } else {
                assertThatThrownBy(() -> e.setEnabledProtocols(new String[]{old, protocol})).as(old)
                        .isInstanceOf(IllegalArgumentException.class);
            }
        }
        e.setEnabledProtocols(new String[]{protocol});
        assertThatThrownBy(() -> e.setEnabledProtocols(new String[]{protocol, "TLSv9.9"})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> e.setEnabledProtocols(null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(e.getEnabledProtocols()).containsExactly(protocol);
        String[] suites = e.getEnabledCipherSuites();
        assertThatThrownBy(() -> e.setEnabledCipherSuites(new String[]{suites[0], "TLS_NOT_A_SUITE_AT_ALL"})).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> e.setEnabledCipherSuites(null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(e.getEnabledCipherSuites()).containsExactly(suites);
        e.setEnabledCipherSuites(e.getSupportedCipherSuites());
        assertThat(e.getEnabledCipherSuites()).containsExactlyInAnyOrder(e.getSupportedCipherSuites());
    }

    @EachEngine
    void alpnPicksTheServersChoiceFromTheClientsOffer(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "alpnPicksTheServersChoiceFromTheClientsOffer");
        Link l = link(provider, protocol, new String[]{"h2", "http/1.1"}, new String[]{"http/1.1"});
        assertThat(l.client.getApplicationProtocol()).isNull();
        assertThat(l.server.getApplicationProtocol()).isNull();
        l.handshake();
        assertThat(l.client.getApplicationProtocol()).isEqualTo("http/1.1");
        assertThat(l.server.getApplicationProtocol()).isEqualTo("http/1.1");
    }

    @EachEngine
    void withoutAlpnTheApplicationProtocolIsEmptyAfterTheHandshake(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "withoutAlpnTheApplicationProtocolIsEmptyAfterTheHandshake");
        Link l = handshaken(provider, protocol);
        assertThat(l.client.getApplicationProtocol()).isEmpty();
        assertThat(l.server.getApplicationProtocol()).isEmpty();
    }

    // ---- more closing ----

    @EachEngine
    void aFullCloseDrivenByStatusLeavesBothEnginesDoneBothWays(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "aFullCloseDrivenByStatusLeavesBothEnginesDoneBothWays");
        Link l = handshaken(provider, protocol);
        l.client.closeOutbound();
        l.client.closeOutbound(); // idempotent
        l.pump();
        assertThat(l.client.isOutboundDone()).as("client %s", l.clientLog).isTrue();
        assertThat(l.server.isInboundDone()).as("server %s", l.serverLog).isTrue();
        l.server.closeOutbound();
        l.pump();
        for (SSLEngine e : l.both()) {
            String who = (e == l.client ? "client " + l.clientLog : "server " + l.serverLog);
            assertThat(e.isOutboundDone()).as(who).isTrue();
            assertThat(e.isInboundDone()).as(who).isTrue();
            assertThat(e.getHandshakeStatus()).as(who).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
            SSLEngineResult w = e.wrap(ByteBuffer.wrap(bytes(10, 29)), ByteBuffer.allocate(e.getSession().getPacketBufferSize()));
            assertThat(w.getStatus()).as(who).isEqualTo(Status.CLOSED);
            assertNothingMoved(w);
            SSLEngineResult u = e.unwrap(ByteBuffer.allocate(0), ByteBuffer.allocate(e.getSession().getApplicationBufferSize()));
            assertThat(u.getStatus()).as(who).isEqualTo(Status.CLOSED);
            assertNothingMoved(u);
        }
        assertThat(l.toClient.position()).isZero();
        assertThat(l.toServer.position()).isZero();
        // each side sent exactly one close_notify, and each unwrap of it said CLOSED
        assertThat(l.clientLog).filteredOn(ev -> ev.op().equals("unwrap")).last().matches(ev -> ev.result().getStatus() == Status.CLOSED, "CLOSED");
        assertThat(l.serverLog).filteredOn(ev -> ev.op().equals("unwrap")).last().matches(ev -> ev.result().getStatus() == Status.CLOSED, "CLOSED");
    }

    @EachEngine
    void afterCloseOutboundDataThePeerSentBeforeItsCloseStillArrives(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "afterCloseOutboundDataThePeerSentBeforeItsCloseStillArrives");
        Link l = handshaken(provider, protocol);
        byte[] data = bytes(200, 30);
        byte[] inFlight = record(l.server, data);
        l.client.closeOutbound();
        ByteBuffer net = ByteBuffer.allocate(l.client.getSession().getPacketBufferSize());
        assertThat(l.client.wrap(ByteBuffer.allocate(0), net).getStatus()).isEqualTo(Status.CLOSED);
        assertThat(l.client.isInboundDone()).isFalse();
        ByteBuffer app = ByteBuffer.allocate(l.client.getSession().getApplicationBufferSize());
        SSLEngineResult r = l.client.unwrap(ByteBuffer.wrap(inFlight), app);
        assertThat(r.getStatus()).as("%s", r).isEqualTo(Status.OK);
        assertThat(r.bytesConsumed()).isEqualTo(inFlight.length);
        assertThat(Arrays.copyOf(app.array(), app.position())).isEqualTo(data);
    }

    @EachEngine
    void aFailedHandshakeWrapsItsAlertThenIsDoneBothWays(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "aFailedHandshakeWrapsItsAlertThenIsDoneBothWays");
        JsseFixtures.Credential stranger = JsseFixtures.credential("EC", "localhost", List.of("DNS:localhost"));
        Link l = link(provider, protocol, null, stranger.cert(), null); // the client trusts another certificate
        assertThatThrownBy(l::handshake).isInstanceOf(SSLHandshakeException.class);
        assertThat(l.client.getHandshakeStatus()).as("client %s", l.clientLog).isEqualTo(HandshakeStatus.NEED_WRAP);
        ByteBuffer alert = ByteBuffer.allocate(l.client.getSession().getPacketBufferSize());
        SSLEngineResult r = l.client.wrap(ByteBuffer.wrap(bytes(10, 31)), alert);
        assertThat(r.getStatus()).isEqualTo(Status.CLOSED);
        assertThat(r.bytesConsumed()).isZero();
        assertThat(r.bytesProduced()).isPositive();
        assertThat(l.client.isOutboundDone()).isTrue();
        assertThat(l.client.isInboundDone()).isTrue();
        assertThat(l.client.getHandshakeStatus()).isEqualTo(HandshakeStatus.NOT_HANDSHAKING);
        assertThat(l.client.getSession().getCipherSuite()).isEqualTo(NULL_SUITE);
        assertThat(l.client.getSession().isValid()).isFalse();
        SSLEngineResult again = l.client.wrap(ByteBuffer.wrap(bytes(10, 32)), ByteBuffer.allocate(l.client.getSession().getPacketBufferSize()));
        assertThat(again.getStatus()).isEqualTo(Status.CLOSED);
        assertNothingMoved(again);
        // the server, given the alert, fails and is done inbound
        alert.flip();
        l.toServer.put(alert);
        assertThatThrownBy(() -> {
            for (int i = 0; i < 20 && l.step(l.server, l.serverLog, l.toServer, l.toClient); i++) {
                // only the server moves
            }
        }).as("server %s", l.serverLog).isInstanceOf(SSLException.class);
        assertThat(l.server.isInboundDone()).isTrue();
    }

    // ---- client authentication ----

    @EachEngine
    void needAndWantClientAuthOverrideEachOther(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "needAndWantClientAuthOverrideEachOther");
        SSLEngine e = link(provider, protocol).server;
        assertThat(e.getNeedClientAuth()).isFalse();
        assertThat(e.getWantClientAuth()).isFalse();
        e.setNeedClientAuth(true);
        assertThat(e.getNeedClientAuth()).isTrue();
        assertThat(e.getWantClientAuth()).isFalse();
        assertThat(e.getSSLParameters().getNeedClientAuth()).isTrue();
        e.setWantClientAuth(false); // "overrides any previous setting made by ... setNeedClientAuth"
        assertThat(e.getNeedClientAuth()).isFalse();
        assertThat(e.getWantClientAuth()).isFalse();
        SSLParameters p = e.getSSLParameters();
        p.setNeedClientAuth(true);
        e.setSSLParameters(p);
        assertThat(e.getNeedClientAuth()).isTrue();
        e.setNeedClientAuth(false);
        assertThat(e.getNeedClientAuth()).isFalse();
    }

    @EachEngine
    void neededClientAuthenticationWithACertificate(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "neededClientAuthenticationWithACertificate");
        Link l = link(provider, protocol, clientIdentity, serverIdentity.cert(), clientIdentity.cert());
        l.server.setNeedClientAuth(true);
        l.handshake();
        byte[] data = bytes(50, 33);
        assertThat(open(l.server, record(l.client, data))).isEqualTo(data);
        assertThat(l.server.getSession().getPeerCertificates()[0]).isEqualTo(clientIdentity.cert());
        assertThat(l.server.getSession().getPeerPrincipal()).isEqualTo(clientIdentity.cert().getSubjectX500Principal());
        assertThat(l.client.getSession().getLocalCertificates()[0]).isEqualTo(clientIdentity.cert());
        assertThat(l.client.getSession().getLocalPrincipal()).isEqualTo(clientIdentity.cert().getSubjectX500Principal());
    }

    @EachEngine
    void neededClientAuthenticationWithoutACertificateFailsTheHandshake(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "neededClientAuthenticationWithoutACertificateFailsTheHandshake");
        Link l = link(provider, protocol, null, serverIdentity.cert(), clientIdentity.cert());
        l.server.setNeedClientAuth(true);
        assertThatThrownBy(l::handshake).isInstanceOf(SSLHandshakeException.class);
        assertThatThrownBy(() -> l.server.getSession().getPeerCertificates()).isInstanceOf(SSLPeerUnverifiedException.class);
        assertThat(l.server.isInboundDone()).isTrue();
    }

    // ---- what cannot be negotiated ----

    @EachEngine
    void noCommonProtocolFailsTheHandshake(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "noCommonProtocolFailsTheHandshake");
        Link l = link(provider, protocol);
        l.server.setEnabledProtocols(new String[]{protocol.equals("TLSv1.3") ? "TLSv1.2" : "TLSv1.3"});
        assertThatThrownBy(l::handshake).isInstanceOf(SSLHandshakeException.class);
        for (SSLEngine e : l.both()) {
            assertThat(e.getSession().getCipherSuite()).isEqualTo(NULL_SUITE);
        }
    }

    @EachEngine
    void noCommonCipherSuiteFailsTheHandshake(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "noCommonCipherSuiteFailsTheHandshake");
        Link l = link(provider, protocol);
        boolean tls13 = protocol.equals("TLSv1.3");
        String a = tls13 ? "TLS_AES_128_GCM_SHA256" : "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
        String b = tls13 ? "TLS_AES_256_GCM_SHA384" : "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384";
        l.client.setEnabledCipherSuites(new String[]{a});
        l.server.setEnabledCipherSuites(new String[]{b});
        assertThatThrownBy(l::handshake).isInstanceOf(SSLHandshakeException.class);
        // and with the suite in common, it is the one chosen
        Link ok = link(provider, protocol);
        ok.client.setEnabledCipherSuites(new String[]{b});
        ok.server.setEnabledCipherSuites(new String[]{a, b});
        ok.handshake();
        assertThat(ok.client.getSession().getCipherSuite()).isEqualTo(b);
        assertThat(ok.server.getSession().getCipherSuite()).isEqualTo(b);
    }

    @EachEngine
    void withSessionCreationDisabledANewHandshakeFails(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "withSessionCreationDisabledANewHandshakeFails");
        Link l = link(provider, protocol);
        assertThat(l.client.getEnableSessionCreation()).isTrue();
        l.client.setEnableSessionCreation(false);
        assertThat(l.client.getEnableSessionCreation()).isFalse();
        assertThatThrownBy(l::handshake).isInstanceOf(SSLHandshakeException.class);
        assertThat(l.client.getSession().getCipherSuite()).isEqualTo(NULL_SUITE);
    }

    // ---- what is not TLS ----

    @EachEngine
    void aRecordLongerThanAnyAllowedIsRefusedNotAwaited(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "aRecordLongerThanAnyAllowedIsRefusedNotAwaited");
        Link l = handshaken(provider, protocol);
        byte[] huge = new byte[64];
        huge[0] = 23;
        huge[1] = 3;
        huge[2] = 3;
        huge[3] = (byte) 0xff;
        huge[4] = (byte) 0xff;
        ByteBuffer app = ByteBuffer.allocate(l.server.getSession().getApplicationBufferSize());
        assertThatThrownBy(() -> l.server.unwrap(ByteBuffer.wrap(huge), app)).isInstanceOf(SSLException.class);
        assertThat(app.position()).isZero();
        assertThat(l.server.isInboundDone()).isTrue();
    }

    @EachEngine
    void plaintextHttpSentToAServerIsRefusedNotAwaited(String provider, String protocol) throws Exception {
        unlessKnownDeviation(provider, protocol, "plaintextHttpSentToAServerIsRefusedNotAwaited");
        Link l = link(provider, protocol);
        byte[] http = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        ByteBuffer app = ByteBuffer.allocate(l.server.getSession().getApplicationBufferSize());
        assertThatThrownBy(() -> l.server.unwrap(ByteBuffer.wrap(http), app)).isInstanceOf(SSLException.class);
        assertThat(l.server.isInboundDone()).isTrue();
    }
}
