package dev.keyway.jsse;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.TlsConfig;
import dev.keyway.tls.TlsEngine;
import dev.keyway.tls.TlsException;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import java.nio.ByteBuffer;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An {@link SSLEngine} on Keyway's {@link TlsEngine}. The standard contract: {@code wrap} produces at most one
 * record (or the pending handshake bytes that fit), {@code unwrap} consumes at most one whole record and answers
 * {@code BUFFER_UNDERFLOW} for a partial one and {@code BUFFER_OVERFLOW} when the application buffers cannot take
 * its plaintext; the handshake status says what to do next; there are no delegated tasks (the handshake runs
 * inside {@code wrap} and {@code unwrap}).
 *
 * <p>The engine's {@link TlsConfig} is made when the handshake starts, from the parameters set until then:
 * enabled protocols and suites, server names (SNI), application protocols (ALPN), client authentication, and the
 * context's key and trust managers. The trust manager decides on the peer's chain (as JSSE's does, including the
 * endpoint identification algorithm through {@link #getHandshakeSession()}).
 */
final class KeywaySslEngine extends SSLEngine {
    /** The largest plaintext of one record (RFC 8446 section 5.1). */
    static final int MAX_PLAINTEXT = 1 << 14;
    /** The largest record on the wire: header, a full fragment, and the most expansion any suite adds. */
    static final int MAX_RECORD = 5 + MAX_PLAINTEXT + 2048;
    /** Room left in {@code wrap}'s destination for the record header, tag, MAC and padding of any suite. */
    private static final int OVERHEAD = 256;

    private static final List<NamedGroup> GROUPS = List.of(NamedGroup.X25519MLKEM768, NamedGroup.X25519, NamedGroup.SECP256R1);

    private final KeywaySslContext context;
    private final Object wrapLock = new Object();
    private final Object unwrapLock = new Object();

    private boolean modeSet;
    private boolean client;
    private List<String> protocols;
    private List<String> suites;
    private boolean needClientAuth;
    private boolean wantClientAuth;
    private boolean enableSessionCreation = true;
    private SSLParameters parameters = new SSLParameters();
    private java.util.function.BiFunction<SSLEngine, List<String>, String> alpnSelector;
    private List<NamedGroup> groups = GROUPS;

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
        this.protocols = context.protocols();
        this.suites = List.of(Names.names(TlsConfig.defaultSuites()));
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
        return Names.names(TlsConfig.defaultSuites());
    }

    @Override
    public String[] getEnabledCipherSuites() {
        return suites.toArray(String[]::new);
    }

    @Override
    public void setEnabledCipherSuites(String[] names) {
        if (names == null) {
            throw new IllegalArgumentException("cipher suites must not be null");
        }
        List<String> supported = List.of(getSupportedCipherSuites());
        List<String> chosen = new ArrayList<>();
        for (String n : names) {
            if (!supported.contains(n)) {
                throw new IllegalArgumentException("cipher suite " + n + " is not supported by the Keyway provider");
            }
            chosen.add(n);
        }
        suites = List.copyOf(chosen);
    }

    @Override
    public String[] getSupportedProtocols() {
        return new String[]{Names.TLS13, Names.TLS12};
    }

    @Override
    public String[] getEnabledProtocols() {
        return protocols.toArray(String[]::new);
    }

    @Override
    public void setEnabledProtocols(String[] names) {
        if (names == null) {
            throw new IllegalArgumentException("protocols must not be null");
        }
        List<String> chosen = new ArrayList<>();
        for (String n : names) {
            Names.version(n); // IllegalArgumentException for SSLv3, TLSv1, TLSv1.1 and unknown names
            chosen.add(n);
        }
        protocols = List.copyOf(chosen);
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
        needClientAuth = need;
        wantClientAuth = false;
    }

    @Override
    public boolean getNeedClientAuth() {
        return needClientAuth;
    }

    /** Ask for a client certificate, go on without one; one that is sent must pass the trust manager. */
    @Override
    public void setWantClientAuth(boolean want) {
        wantClientAuth = want;
        needClientAuth = false;
    }

    @Override
    public boolean getWantClientAuth() {
        return wantClientAuth;
    }

    @Override
    public void setEnableSessionCreation(boolean flag) {
        enableSessionCreation = flag;
    }

    @Override
    public boolean getEnableSessionCreation() {
        return enableSessionCreation;
    }

    @Override
    public SSLParameters getSSLParameters() {
        SSLParameters p = new SSLParameters(getEnabledCipherSuites(), getEnabledProtocols());
        if (needClientAuth) {
            p.setNeedClientAuth(true);
        } else {
            p.setWantClientAuth(wantClientAuth);
        }
        p.setEndpointIdentificationAlgorithm(parameters.getEndpointIdentificationAlgorithm());
        p.setAlgorithmConstraints(parameters.getAlgorithmConstraints());
        if (parameters.getServerNames() != null) {
            p.setServerNames(parameters.getServerNames());
        }
        p.setApplicationProtocols(parameters.getApplicationProtocols());
        p.setUseCipherSuitesOrder(parameters.getUseCipherSuitesOrder());
        if (parameters.getSNIMatchers() != null) {
            p.setSNIMatchers(parameters.getSNIMatchers());
        }
        p.setMaximumPacketSize(MAX_RECORD);
        NewerParameters.setGroups(p, groups);
        return p;
    }

    @Override
    public void setSSLParameters(SSLParameters p) {
        NewerParameters.checkSignatureSchemes(p);
        List<NamedGroup> chosenGroups = NewerParameters.groups(p);
        if (p.getCipherSuites() != null) {
            setEnabledCipherSuites(p.getCipherSuites());
        }
        if (p.getProtocols() != null) {
            setEnabledProtocols(p.getProtocols());
        }
        if (p.getNeedClientAuth()) {
            setNeedClientAuth(true);
        } else {
            setWantClientAuth(p.getWantClientAuth());
        }
        for (String alpn : p.getApplicationProtocols()) {
            if (alpn.isEmpty() || alpn.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 255) {
                throw new IllegalArgumentException("an application protocol name must be 1 to 255 bytes");
            }
        }
        SSLParameters kept = new SSLParameters();
        kept.setEndpointIdentificationAlgorithm(p.getEndpointIdentificationAlgorithm());
        kept.setAlgorithmConstraints(p.getAlgorithmConstraints());
        if (p.getServerNames() != null) {
            kept.setServerNames(p.getServerNames());
        }
        kept.setApplicationProtocols(p.getApplicationProtocols());
        kept.setUseCipherSuitesOrder(p.getUseCipherSuitesOrder());
        if (p.getSNIMatchers() != null) {
            kept.setSNIMatchers(p.getSNIMatchers());
        }
        parameters = kept;
        if (chosenGroups != null) {
            groups = chosenGroups;
        }
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
    public void setHandshakeApplicationProtocolSelector(java.util.function.BiFunction<SSLEngine, List<String>, String> selector) {
        this.alpnSelector = selector;
    }

    @Override
    public java.util.function.BiFunction<SSLEngine, List<String>, String> getHandshakeApplicationProtocolSelector() {
        return alpnSelector;
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
                if (!enableSessionCreation) {
                    throw new SSLHandshakeException("session creation is disabled (setEnableSessionCreation(false)) and Keyway resumes only by ticket");
                }
                KeywaySslSession hs = new KeywaySslSession(client ? context.engineGetClientSessionContext()
                        : context.engineGetServerSessionContext(), getPeerHost(), getPeerPort());
                handshakeSession = hs;
                TlsConfig config;
                try {
                    config = client ? clientConfig(hs) : serverConfig(hs);
                } catch (IllegalArgumentException e) {
                    throw new SSLHandshakeException(e.getMessage());
                }
                tls = client ? TlsEngine.client(config) : TlsEngine.server(config);
            }
        }
    }

    private TlsConfig.Builder common() {
        if (protocols.isEmpty()) {
            throw new IllegalArgumentException("no protocol is enabled");
        }
        if (suites.isEmpty()) {
            throw new IllegalArgumentException("no cipher suite is enabled");
        }
        List<TlsVersion> versions = protocols.stream().map(Names::version).toList();
        List<CipherSuite> cs = suites.stream().map(Names::suite).toList();
        return TlsConfig.builder().versions(versions).suites(cs).groups(groups).alpn(List.of(parameters.getApplicationProtocols()))
                .keyLog(context.keyLog());
    }

    private TlsConfig clientConfig(KeywaySslSession hs) {
        TlsConfig.Builder b = common();
        String sni = serverName();
        if (sni != null) {
            b.serverName(sni);
            hs.serverNames(List.of(new SNIHostName(sni)));
        }
        X509TrustManager tm = context.trustManager();
        b.serverCertificateCheck((chain, version, suite) -> checkServer(tm, hs, chain, version, suite));
        X509ExtendedKeyManager km = context.keyManager();
        if (km != null) {
            String alias = km.chooseEngineClientAlias(KeyManagers.KEY_TYPES, null, this);
            if (alias != null) {
                X509Certificate[] chain = km.getCertificateChain(alias);
                PrivateKey key = km.getPrivateKey(alias);
                if (chain != null && chain.length > 0 && key != null) {
                    b.certificate(List.of(chain), key);
                    hs.localChain(List.of(chain));
                }
            }
        }
        String peer = peerKey();
        KeywaySslContext.Resumable r = context.clientSessions().take(peer, Instant.now());
        if (r != null) {
            b.resumeWith(r.ticket());
            resumeChain = r.chain();
        }
        return b.build();
    }

    /** The name sent in SNI: the first host name of the parameters, else the peer host when it is a name, not an address. */
    private String serverName() {
        List<SNIServerName> names = parameters.getServerNames();
        if (names != null) {
            for (SNIServerName n : names) {
                if (n instanceof SNIHostName h) {
                    return h.getAsciiName();
                }
            }
            return null; // set to an empty list: no SNI
        }
        String host = getPeerHost();
        if (host == null || host.isEmpty() || host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || Character.isDigit(c))) {
            return null;
        }
        return host;
    }

    private String peerKey() {
        return getPeerHost() == null || getPeerPort() <= 0 ? null : getPeerHost() + ":" + getPeerPort();
    }

    private void checkServer(X509TrustManager tm, KeywaySslSession hs, List<X509Certificate> chain, TlsVersion version, CipherSuite suite)
            throws CertificateException {
        hs.negotiated(Names.protocol(version), suite.name());
        hs.peerChain(chain);
        if (tm == null) {
            throw new CertificateException("the SSLContext has no X509TrustManager");
        }
        X509Certificate[] certs = chain.toArray(X509Certificate[]::new);
        String authType = Names.serverAuthType(version, suite);
        if (tm instanceof X509ExtendedTrustManager x) {
            x.checkServerTrusted(certs, authType, this);
            return;
        }
        tm.checkServerTrusted(certs, authType);
        String identification = parameters.getEndpointIdentificationAlgorithm();
        if (identification != null && !identification.isEmpty()) {
            // A plain X509TrustManager knows nothing of host names; JSSE checks them itself then, and so does this.
            HostNames.check(certs[0], hs.getRequestedServerNames(), getPeerHost());
        }
    }

    /**
     * A server's config: the certificate is chosen when the ClientHello arrives (its server name is then in the
     * handshake session, as key managers that pick by SNI, like Jetty's, expect), after the SNI matchers had their say.
     */
    private TlsConfig serverConfig(KeywaySslSession hs) {
        X509ExtendedKeyManager km = context.keyManager();
        if (km == null) {
            throw new IllegalArgumentException("the SSLContext has no key manager: a server needs a certificate and its key");
        }
        if ((needClientAuth || wantClientAuth) && context.trustManager() == null) {
            throw new IllegalArgumentException("client authentication is asked for but the SSLContext has no X509TrustManager");
        }
        return serverCommon().configForClient(info -> serverConfigFor(hs, km, info)).build();
    }

    /** What every server config of this engine has: versions, suites, groups, key log, ticket keys, session store. */
    private TlsConfig.Builder serverCommon() {
        TlsConfig.Builder b = common().ticketKeys(context.ticketKeys());
        if (protocols.contains(Names.TLS12)) {
            b.sessionStore(context.sessionStore());
        }
        return b;
    }

    private TlsConfig serverConfigFor(KeywaySslSession hs, X509ExtendedKeyManager km, dev.keyway.tls.ClientHelloInfo info) {
        List<SNIServerName> requested = List.of();
        if (info.serverName() != null) {
            try {
                requested = List.of(new SNIHostName(info.serverName()));
            } catch (IllegalArgumentException notAHostName) {
                requested = List.of(); // not a name JSSE can represent: as if none was sent
            }
        }
        hs.serverNames(requested);
        hs.peerSignatureSchemes(Names.signatureSchemes(info.signatureSchemes()));
        java.util.Collection<javax.net.ssl.SNIMatcher> matchers = parameters.getSNIMatchers();
        if (matchers != null && !matchers.isEmpty() && !requested.isEmpty()) {
            boolean recognized = false;
            for (javax.net.ssl.SNIMatcher m : matchers) {
                for (SNIServerName n : requested) {
                    recognized |= m.getType() == n.getType() && m.matches(n);
                }
            }
            if (!recognized) {
                throw TlsException.fatal(dev.keyway.tls.Alert.UNRECOGNIZED_NAME, "the server name "
                        + dev.keyway.core.encoding.Printable.escape(info.serverName()) + " is not one this server answers to");
            }
        }
        String alias = null;
        for (String type : KeyManagers.KEY_TYPES) {
            alias = km.chooseEngineServerAlias(type, null, this);
            if (alias != null) {
                break;
            }
        }
        X509Certificate[] chain = alias == null ? null : km.getCertificateChain(alias);
        PrivateKey key = alias == null ? null : km.getPrivateKey(alias);
        if (chain == null || chain.length == 0 || key == null) {
            throw TlsException.fatal(dev.keyway.tls.Alert.HANDSHAKE_FAILURE, "the key manager has no certificate and key for this server (EC, Ed25519 or RSA)");
        }
        TlsConfig.Builder b = serverCommon().certificate(List.of(chain), key);
        hs.localChain(List.of(chain));
        java.util.function.BiFunction<SSLEngine, List<String>, String> selector = alpnSelector;
        if (selector != null) {
            b.alpnSelector(offer -> {
                try {
                    return selector.apply(this, offer);
                } catch (RuntimeException e) {
                    return null; // the application refused every offered protocol: no_application_protocol
                }
            });
        }
        if (needClientAuth) {
            X509TrustManager tm = context.trustManager();
            b.requireClientCertificate(peerChain -> checkClient(tm, hs, peerChain));
        } else if (wantClientAuth) {
            X509TrustManager tm = context.trustManager();
            b.requestClientCertificate(peerChain -> checkClient(tm, hs, peerChain));
        }
        return b.build();
    }

    private boolean checkClient(X509TrustManager tm, KeywaySslSession hs, List<X509Certificate> chain) {
        hs.peerChain(chain);
        X509Certificate[] certs = chain.toArray(X509Certificate[]::new);
        String authType = Names.clientAuthType(certs[0].getPublicKey());
        try {
            if (tm instanceof X509ExtendedTrustManager x) {
                x.checkClientTrusted(certs, authType, this);
            } else {
                tm.checkClientTrusted(certs, authType);
            }
            return true;
        } catch (CertificateException | RuntimeException e) {
            return false;
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
        checkArguments(srcs, offset, length, dst);
        if (dst.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
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
            long available = 0;
            for (int i = offset; i < offset + length; i++) {
                available += srcs[i].remaining();
            }
            if (available == 0) {
                return new SSLEngineResult(Status.OK, getHandshakeStatus(), 0, 0);
            }
            int room = dst.remaining() - OVERHEAD;
            if (room <= 0) {
                return new SSLEngineResult(Status.BUFFER_OVERFLOW, getHandshakeStatus(), 0, 0);
            }
            int take = (int) Math.min(Math.min(available, MAX_PLAINTEXT), room);
            byte[] plain = new byte[take];
            int got = 0;
            for (int i = offset; i < offset + length && got < take; i++) {
                int n = Math.min(srcs[i].remaining(), take - got);
                srcs[i].get(plain, got, n);
                got += n;
            }
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
        checkArguments(dsts, offset, length, src);
        for (int i = offset; i < offset + length; i++) {
            if (dsts[i].isReadOnly()) {
                throw new java.nio.ReadOnlyBufferException();
            }
        }
        if (tls == null) {
            start();
        }
        synchronized (unwrapLock) {
            TlsEngine t = tls;
            long room = 0;
            for (int i = offset; i < offset + length; i++) {
                room += dsts[i].remaining();
            }
            // Plaintext already opened (a record larger than the buffers given last time cannot happen, but a
            // caller may have read less): hand it over before reading more.
            if (session != null && t.readable() > 0) {
                if (room == 0) {
                    return new SSLEngineResult(Status.BUFFER_OVERFLOW, getHandshakeStatus(), 0, 0);
                }
                int n = deliver(t, dsts, offset, length);
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
            int n = session != null ? deliver(t, dsts, offset, length) : 0;
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

    private static int deliver(TlsEngine t, ByteBuffer[] dsts, int offset, int length) {
        int total = 0;
        for (int i = offset; i < offset + length && t.readable() > 0; i++) {
            while (dsts[i].hasRemaining() && t.readable() > 0) {
                int n = t.read(dsts[i]);
                if (n <= 0) {
                    break;
                }
                total += n;
            }
        }
        return total;
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
                context.clientSessions().put(peerKey(), new KeywaySslContext.Resumable(ticket, chain));
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

    private static void checkArguments(ByteBuffer[] buffers, int offset, int length, ByteBuffer other) {
        if (buffers == null || other == null) {
            throw new IllegalArgumentException("buffers must not be null");
        }
        if (offset < 0 || length < 0 || offset > buffers.length - length) {
            throw new IndexOutOfBoundsException("offset " + offset + ", length " + length + " for " + buffers.length + " buffers");
        }
        for (int i = offset; i < offset + length; i++) {
            if (buffers[i] == null) {
                throw new IllegalArgumentException("buffer " + i + " is null");
            }
        }
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
