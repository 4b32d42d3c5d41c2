package dev.keyway.jsse;

import dev.keyway.core.KeywayException;
import dev.keyway.tls.TlsEngine;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.params.TlsException;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;

/**
 * An {@link SSLEngine} on Keyway's {@link TlsEngine}. The standard contract: {@code wrap} produces at most one
 * record (or the pending handshake bytes that fit), {@code unwrap} consumes at most one whole record and answers
 * {@code BUFFER_UNDERFLOW} for a partial one and {@code BUFFER_OVERFLOW} when the application buffers cannot take
 * its plaintext; the handshake status says what to do next; there are no delegated tasks (the handshake runs
 * inside {@code wrap} and {@code unwrap}).
 *
 * <p>The engine's {@link TlsConfig} is made when the handshake starts ({@link HandshakeConfig}), from the parameters
 * set until then ({@link EngineParameters}): enabled protocols and suites, server names (SNI), application protocols
 * (ALPN), client authentication, and the context's key and trust managers. The trust manager decides on the peer's
 * chain (as JSSE's does, including the endpoint identification algorithm through {@link #getHandshakeSession()}).
 * The buffer arithmetic of {@code wrap} and {@code unwrap} is in {@link EngineBuffers}.
 */
final class KeywaySslEngine extends SSLEngine {
    /** The largest plaintext of one record (RFC 8446 section 5.1). */
    static final int MAX_PLAINTEXT = 1 << 14;
    /** The largest record on the wire: header, a full fragment, and the most expansion any suite adds. */
    static final int MAX_RECORD = 5 + MAX_PLAINTEXT + 2048;
    /** Room left in {@code wrap}'s destination for the record header, tag, MAC and padding of any suite. */
    private static final int OVERHEAD = 256;

    private final KeywaySslContext context;
    private final EngineParameters parameters;
    private final Object wrapLock = new Object();
    private final Object unwrapLock = new Object();

    private boolean modeSet;
    private boolean client;

    private volatile TlsEngine tls;
    private volatile KeywaySslSession handshakeSession;
    private volatile KeywaySslSession session;
    private boolean finishedReported;
    private volatile boolean outboundClosed;
    private volatile boolean inboundClosed;
    private volatile SSLException failure;
    private int ticketsCached;
    /** Client: the server chain of the session offered for resumption, which a resumed handshake does not resend. */
    private List<X509Certificate> resumeChain = List.of();

    KeywaySslEngine(KeywaySslContext context, String host, int port) {
        super(host, port);
        this.context = context;
        this.parameters = new EngineParameters(context.protocols());
    }

    // ---- configuration ----

    @Override
    public void setUseClientMode(boolean mode) {
        if (tls != null) {
            throw new IllegalArgumentException("the handshake has started: the mode cannot change");
        }
        client = mode;
        modeSet = true;
    }

    @Override
    public boolean getUseClientMode() {
        return client;
    }

    @Override
    public String[] getSupportedCipherSuites() {
        return EngineParameters.supportedSuites();
    }

    @Override
    public String[] getEnabledCipherSuites() {
        return parameters.suites().toArray(String[]::new);
    }

    @Override
    public void setEnabledCipherSuites(String[] names) {
        parameters.suites(names);
    }

    @Override
    public String[] getSupportedProtocols() {
        return new String[]{Names.TLS13, Names.TLS12};
    }

    @Override
    public String[] getEnabledProtocols() {
        return parameters.protocols().toArray(String[]::new);
    }

    @Override
    public void setEnabledProtocols(String[] names) {
        parameters.protocols(names);
    }

    @Override
    public SSLSession getSession() {
        KeywaySslSession s = session;
        if (s != null) {
            return s;
        }
        // Before the handshake, as JSSE: an invalid session with the null suite.
        KeywaySslSession none = new KeywaySslSession(context.engineGetClientSessionContext(), getPeerHost(), getPeerPort());
        none.invalidate();
        return none;
    }

    @Override
    public SSLSession getHandshakeSession() {
        return session == null ? handshakeSession : null;
    }

    /** Each of the two setters overrides the other's earlier setting, as JSSE's. */
    @Override
    public void setNeedClientAuth(boolean need) {
        parameters.needClientAuth(need);
    }

    @Override
    public boolean getNeedClientAuth() {
        return parameters.needClientAuth();
    }

    /** Ask for a client certificate, go on without one; one that is sent must pass the trust manager. */
    @Override
    public void setWantClientAuth(boolean want) {
        parameters.wantClientAuth(want);
    }

    @Override
    public boolean getWantClientAuth() {
        return parameters.wantClientAuth();
    }

    @Override
    public void setEnableSessionCreation(boolean flag) {
        parameters.enableSessionCreation(flag);
    }

    @Override
    public boolean getEnableSessionCreation() {
        return parameters.enableSessionCreation();
    }

    @Override
    public SSLParameters getSSLParameters() {
        return parameters.toSslParameters(MAX_RECORD);
    }

    @Override
    public void setSSLParameters(SSLParameters p) {
        parameters.apply(p);
    }

    @Override
    public String getApplicationProtocol() {
        TlsEngine t = tls;
        if (t == null || session == null) {
            return null;
        }
        String a = t.alpn();
        return a == null ? "" : a;
    }

    /** The key-exchange group of the handshake; null before it is over. */
    NamedGroup group() {
        TlsEngine t = tls;
        return t != null && session != null ? t.group() : null;
    }

    /** Whether the handshake resumed a session (by ticket); false before it is over. */
    boolean resumed() {
        TlsEngine t = tls;
        return t != null && session != null && t.resumed();
    }

    @Override
    public String getHandshakeApplicationProtocol() {
        return null; // Keyway decides ALPN inside the handshake and tells it only when the handshake is over
    }

    /** Server: the selector picks from the client's offer (Jetty's HTTP/2 connector sets one), as JSSE's. */
    @Override
    public void setHandshakeApplicationProtocolSelector(BiFunction<SSLEngine, List<String>, String> selector) {
        parameters.alpnSelector(selector);
    }

    @Override
    public BiFunction<SSLEngine, List<String>, String> getHandshakeApplicationProtocolSelector() {
        return parameters.alpnSelector();
    }

    // ---- the handshake ----

    @Override
    public void beginHandshake() throws SSLException {
        if (!modeSet) {
            throw new IllegalStateException("Client/Server mode has not yet been set.");
        }
        if (outboundClosed || inboundClosed) {
            throw new SSLException("the engine is closed");
        }
        if (session != null) {
            throw new SSLException("renegotiation is not supported (TLS 1.3 has none; Keyway refuses it in TLS 1.2)");
        }
        start();
    }

    private void start() throws SSLException {
        if (tls != null) {
            return; // started: never take both locks then (unwrap holds its lock while it may close the write side)
        }
        synchronized (wrapLock) {
            synchronized (unwrapLock) {
                if (tls != null) {
                    return;
                }
                if (!modeSet) {
                    throw new IllegalStateException("Client/Server mode has not yet been set.");
                }
                if (!parameters.enableSessionCreation()) {
                    throw new SSLHandshakeException("session creation is disabled (setEnableSessionCreation(false)) and Keyway resumes only by ticket");
                }
                KeywaySslSession hs = new KeywaySslSession(client ? context.engineGetClientSessionContext()
                        : context.engineGetServerSessionContext(), getPeerHost(), getPeerPort());
                handshakeSession = hs;
                HandshakeConfig configs = new HandshakeConfig(this, context, parameters, hs);
                TlsConfig config;
                try {
                    config = client ? configs.client() : configs.server();
                } catch (IllegalArgumentException | KeywayException e) { // settings the config refuses (e.g. a CBC suite)
                    throw new SSLHandshakeException(e.getMessage());
                }
                resumeChain = configs.resumeChain();
                tls = client ? TlsEngine.client(config) : TlsEngine.server(config);
            }
        }
    }

    @Override
    public Runnable getDelegatedTask() {
        return null;
    }

    @Override
    public HandshakeStatus getHandshakeStatus() {
        TlsEngine t = tls;
        if (t == null) {
            return HandshakeStatus.NOT_HANDSHAKING;
        }
        if (t.outputLength() > 0) {
            return HandshakeStatus.NEED_WRAP;
        }
        if (session == null && failure == null && !inboundClosed && !outboundClosed) {
            return HandshakeStatus.NEED_UNWRAP;
        }
        return HandshakeStatus.NOT_HANDSHAKING;
    }

    /** The status to report after an operation: FINISHED once, when the handshake is over and its last bytes are out. */
    private HandshakeStatus after() {
        TlsEngine t = tls;
        if (session == null && t.isHandshakeComplete() && failure == null) {
            KeywaySslSession s = handshakeSession;
            s.negotiated(t.version(), t.suite().name());
            s.peerChain(client && t.resumed() ? resumeChain : t.peerCertificates());
            session = s;
        }
        if (session != null && !finishedReported && t.outputLength() == 0) {
            finishedReported = true;
            return HandshakeStatus.FINISHED;
        }
        return getHandshakeStatus();
    }

    // ---- wrap ----

    @Override
    public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst) throws SSLException {
        EngineBuffers.checkArguments(srcs, offset, length, dst);
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        if (tls == null) {
            start();
        }
        synchronized (wrapLock) {
            TlsEngine t = tls;
            int pending = t.outputLength();
            if (pending > 0) {
                if (dst.remaining() < Math.min(pending, MAX_RECORD)) {
                    return new SSLEngineResult(Status.BUFFER_OVERFLOW, getHandshakeStatus(), 0, 0);
                }
                int n = t.takeOutput(dst);
                HandshakeStatus hs = after();
                boolean closed = (outboundClosed || failure != null) && t.outputLength() == 0;
                return new SSLEngineResult(closed ? Status.CLOSED : Status.OK, hs, 0, n);
            }
            if (outboundClosed || failure != null) {
                return new SSLEngineResult(Status.CLOSED, getHandshakeStatus(), 0, 0);
            }
            if (session == null) {
                return new SSLEngineResult(Status.OK, getHandshakeStatus(), 0, 0);
            }
            long available = EngineBuffers.remaining(srcs, offset, length);
            if (available == 0) {
                return new SSLEngineResult(Status.OK, getHandshakeStatus(), 0, 0);
            }
            int room = dst.remaining() - OVERHEAD;
            if (room <= 0) {
                return new SSLEngineResult(Status.BUFFER_OVERFLOW, getHandshakeStatus(), 0, 0);
            }
            int take = (int) Math.min(Math.min(available, MAX_PLAINTEXT), room);
            byte[] plain = EngineBuffers.gather(srcs, offset, length, take);
            try {
                t.write(plain, 0, take);
            } catch (TlsException e) {
                throw fail(e);
            } finally {
                Arrays.fill(plain, (byte) 0);
            }
            int n = t.takeOutput(dst);
            session.accessed();
            return new SSLEngineResult(Status.OK, getHandshakeStatus(), take, n);
        }
    }

    // ---- unwrap ----

    @Override
    public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length) throws SSLException {
        EngineBuffers.checkArguments(dsts, offset, length, src);
        EngineBuffers.checkWritable(dsts, offset, length);
        if (tls == null) {
            start();
        }
        synchronized (unwrapLock) {
            TlsEngine t = tls;
            long room = EngineBuffers.remaining(dsts, offset, length);
            // Plaintext already opened (a record larger than the buffers given last time cannot happen, but a
            // caller may have read less): hand it over before reading more.
            if (session != null && t.readable() > 0) {
                if (room == 0) {
                    return new SSLEngineResult(Status.BUFFER_OVERFLOW, getHandshakeStatus(), 0, 0);
                }
                int n = EngineBuffers.deliver(t, dsts, offset, length);
                return new SSLEngineResult(Status.OK, getHandshakeStatus(), 0, n);
            }
            if (inboundClosed || t.isInboundDone() || failure != null) {
                return new SSLEngineResult(Status.CLOSED, getHandshakeStatus(), 0, 0);
            }
            if (src.remaining() < 5) {
                return new SSLEngineResult(Status.BUFFER_UNDERFLOW, getHandshakeStatus(), 0, 0);
            }
            int p = src.position();
            int type = src.get(p) & 0xff;
            int len = ((src.get(p + 3) & 0xff) << 8) | (src.get(p + 4) & 0xff);
            int whole = 5 + len;
            // Only a header that could start a TLS record is waited for; anything else (plaintext HTTP, a length no
            // record can have) goes to the record layer at once, which refuses it with the right alert.
            boolean plausible = type >= 20 && type <= 23 && (src.get(p + 1) & 0xff) == 3 && len <= MAX_RECORD - 5;
            if (plausible && src.remaining() < whole) {
                return new SSLEngineResult(Status.BUFFER_UNDERFLOW, getHandshakeStatus(), 0, 0);
            }
            if (type == 23 && session != null && room < Math.min(len, MAX_PLAINTEXT)) {
                return new SSLEngineResult(Status.BUFFER_OVERFLOW, getHandshakeStatus(), 0, 0);
            }
            int feed = plausible ? whole : 5;
            byte[] record = new byte[feed];
            src.get(record);
            try {
                t.receive(record, 0, feed);
            } catch (TlsException e) {
                throw fail(e);
            }
            if (!plausible && failure == null) {
                // the record layer let it through after all: refuse it here rather than wait for bytes that never come
                SSLException x = new SSLException("not a TLS record (type " + type + ", length " + len + ")");
                failure = x;
                throw x;
            }
            HandshakeStatus hs = after();
            cacheTickets(t);
            int n = session != null ? EngineBuffers.deliver(t, dsts, offset, length) : 0;
            if (t.isInboundDone() && Names.TLS12.equals(session == null ? null : session.getProtocol())) {
                // TLS 1.2 closes both ways: a close_notify is answered with ours (RFC 5246 section 7.2.1), as JSSE does.
                // TLS 1.3 allows a half-close (RFC 8446 section 6.1): the application closes its side when it is done.
                closeOutbound();
                hs = getHandshakeStatus();
            }
            Status status = t.isInboundDone() && t.readable() == 0 ? Status.CLOSED : Status.OK;
            if (session != null) {
                session.accessed();
            }
            return new SSLEngineResult(status, hs, feed, n);
        }
    }

    /** A client keeps the newest ticket of each peer for the next engine to the same host and port. */
    private void cacheTickets(TlsEngine t) {
        if (!client || session == null) {
            return;
        }
        List<Ticket> tickets = t.tickets();
        if (tickets.size() > ticketsCached) {
            List<X509Certificate> chain = session.peerChainList();
            for (Ticket ticket : tickets.subList(ticketsCached, tickets.size())) {
                context.clientSessions().put(HandshakeConfig.peerKey(this), new KeywaySslContext.Resumable(ticket, chain));
            }
            ticketsCached = tickets.size();
        }
    }

    private SSLException fail(TlsException e) {
        SSLException x = session == null ? new SSLHandshakeException(e.getMessage()) : new SSLException(e.getMessage());
        x.initCause(e);
        failure = x;
        return x;
    }

    // ---- closing ----

    @Override
    public void closeOutbound() {
        synchronized (wrapLock) {
            if (outboundClosed) {
                return;
            }
            outboundClosed = true;
            TlsEngine t = tls;
            if (t == null || failure != null || t.isOutboundDone()) {
                return; // before the handshake there is nobody to tell
            }
            if (t.isHandshakeComplete()) {
                t.closeOutbound(); // queues close_notify: NEED_WRAP until it is out
            } else {
                t.cancelHandshake(); // user_canceled, then close_notify, as JSSE sends them
            }
        }
    }

    @Override
    public boolean isOutboundDone() {
        TlsEngine t = tls;
        return (outboundClosed || failure != null) && (t == null || t.outputLength() == 0);
    }

    @Override
    public void closeInbound() throws SSLException {
        TlsEngine t = tls;
        if (inboundClosed || (t != null && t.isInboundDone())) {
            inboundClosed = true;
            return;
        }
        inboundClosed = true;
        closeOutbound();
        if (t != null && failure == null) {
            throw new SSLException("closing inbound before receiving the peer's close_notify: the data may have been cut short");
        }
    }

    @Override
    public boolean isInboundDone() {
        TlsEngine t = tls;
        return inboundClosed || failure != null || (t != null && t.isInboundDone());
    }
}
