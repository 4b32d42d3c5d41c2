package dev.keyway.jsse;

import dev.keyway.core.keylog.KeyLog;
import dev.keyway.tls.config.TicketKeys;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.session.MemorySessionStore;
import dev.keyway.tls.session.SessionStore;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyManagementException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code SSLContext} for the Keyway provider. {@code TLS} and {@code Default} enable TLS 1.3 and 1.2;
 * {@code TLSv1.3} and {@code TLSv1.2} enable only that version. Engines made here share the context's key and trust
 * managers and its client session cache (resumption by peer host and port, as JSSE keys it).
 */
public final class KeywaySslContext extends SSLContextSpi {
    private final String algorithm;
    private X509ExtendedKeyManager keyManager;
    private X509TrustManager trustManager;
    private final SessionCache clientSessions = new SessionCache();
    private final SessionCache serverSessions = new SessionCache();
    /** Server engines of one context share ticket keys and a TLS 1.2 session store, so a client can resume with any. */
    private final TicketKeys ticketKeys = TicketKeys.rotatingEvery(Duration.ofHours(1));
    private final MemorySessionStore sessionStore = new MemorySessionStore();
    private boolean initialised;

    private final KeyLog keyLog;

    KeywaySslContext(String algorithm, KeyLog keyLog) {
        this.algorithm = algorithm;
        this.keyLog = keyLog;
        if (algorithm.equals("Default")) {
            try {
                init(null, null);
            } catch (KeyManagementException e) {
                throw new IllegalStateException("the default key and trust managers cannot be loaded", e);
            }
        }
    }

    @Override
    protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom random) throws KeyManagementException {
        if (algorithm.equals("Default")) {
            throw new KeyManagementException("the Default SSLContext is initialised already; use SSLContext.getInstance(\"TLS\") to choose managers");
        }
        init(km, tm);
    }

    private void init(KeyManager[] km, TrustManager[] tm) throws KeyManagementException {
        try {
            keyManager = firstKeyManager(km);
            trustManager = firstTrustManager(tm);
        } catch (GeneralSecurityException e) {
            throw new KeyManagementException("cannot load the default managers: " + e.getMessage(), e);
        }
        initialised = true;
    }

    /** The first X.509 key manager given, else the JDK's default one (from javax.net.ssl.keyStore, usually empty). */
    private static X509ExtendedKeyManager firstKeyManager(KeyManager[] km) throws GeneralSecurityException {
        if (km == null) {
            KeyManagerFactory f = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            KeyStore ks = defaultKeyStore();
            f.init(ks, password());
            km = f.getKeyManagers();
        }
        for (KeyManager m : km) {
            if (m instanceof X509ExtendedKeyManager x) {
                return x;
            }
            if (m instanceof X509KeyManager x) {
                return new KeyManagers.Adapter(x);
            }
        }
        return null;
    }

    private static X509TrustManager firstTrustManager(TrustManager[] tm) throws GeneralSecurityException {
        if (tm == null) {
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            f.init((KeyStore) null);
            tm = f.getTrustManagers();
        }
        for (TrustManager m : tm) {
            if (m instanceof X509TrustManager x) {
                return x;
            }
        }
        return null;
    }

    /** The key store named by the standard {@code javax.net.ssl.keyStore} properties, or none. */
    private static KeyStore defaultKeyStore() throws GeneralSecurityException {
        String path = System.getProperty("javax.net.ssl.keyStore");
        if (path == null || path.isEmpty() || path.equals("NONE")) {
            return null;
        }
        String type = System.getProperty("javax.net.ssl.keyStoreType", KeyStore.getDefaultType());
        KeyStore ks = KeyStore.getInstance(type);
        try (var in = Files.newInputStream(Path.of(path))) {
            ks.load(in, password());
        } catch (IOException e) {
            throw new KeyStoreException("cannot read javax.net.ssl.keyStore " + path + ": " + e.getMessage(), e);
        }
        return ks;
    }

    private static char[] password() {
        String p = System.getProperty("javax.net.ssl.keyStorePassword");
        return p == null ? null : p.toCharArray();
    }

    private void checkInitialised() {
        if (!initialised) {
            throw new IllegalStateException("SSLContext is not initialized");
        }
    }

    /** The versions an engine of this context enables by default, newest first. */
    List<String> protocols() {
        return switch (algorithm) {
            case "TLSv1.3" -> List.of(Names.TLS13);
            case "TLSv1.2" -> List.of(Names.TLS12);
            default -> List.of(Names.TLS13, Names.TLS12);
        };
    }

    X509ExtendedKeyManager keyManager() {
        return keyManager;
    }

    X509TrustManager trustManager() {
        return trustManager;
    }

    X509ExtendedTrustManager extendedTrustManager() {
        return trustManager instanceof X509ExtendedTrustManager x ? x : null;
    }

    KeyLog keyLog() {
        return keyLog;
    }

    TicketKeys ticketKeys() {
        return ticketKeys;
    }

    SessionStore sessionStore() {
        return sessionStore;
    }

    SessionCache clientSessions() {
        return clientSessions;
    }

    @Override
    protected SSLEngine engineCreateSSLEngine() {
        checkInitialised();
        return new KeywaySslEngine(this, null, -1);
    }

    @Override
    protected SSLEngine engineCreateSSLEngine(String host, int port) {
        checkInitialised();
        return new KeywaySslEngine(this, host, port);
    }

    @Override
    protected SSLSocketFactory engineGetSocketFactory() {
        checkInitialised();
        return new KeywaySocketFactories.Client(this);
    }

    @Override
    protected SSLServerSocketFactory engineGetServerSocketFactory() {
        checkInitialised();
        return new KeywaySocketFactories.Server(this);
    }

    @Override
    protected SSLSessionContext engineGetServerSessionContext() {
        return serverSessions;
    }

    @Override
    protected SSLSessionContext engineGetClientSessionContext() {
        return clientSessions;
    }

    @Override
    public SSLParameters engineGetDefaultSSLParameters() {
        SSLParameters p = new SSLParameters(Names.names(TlsConfig.defaultSuites()), protocols().toArray(String[]::new));
        return p;
    }

    @Override
    public SSLParameters engineGetSupportedSSLParameters() {
        return new SSLParameters(Names.names(TlsConfig.defaultSuites()), new String[]{Names.TLS13, Names.TLS12});
    }

    /** A ticket and the server chain that was checked when its session was made (a resumed handshake has none). */
    record Resumable(Ticket ticket, List<X509Certificate> chain) {
    }

    /** Resumable sessions by peer ("host:port"), as JSSE's client session cache keys them. */
    static final class SessionCache implements SSLSessionContext {
        /** Tickets kept per peer: a TLS 1.3 ticket is used once, so connections opened at once each need their own. */
        static final int PER_PEER = 8;
        private final Map<String, ArrayDeque<Resumable>> tickets = Collections.synchronizedMap(
                new LinkedHashMap<>(16, 0.75f, true) {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<String, ArrayDeque<Resumable>> eldest) {
                        return size() > Math.max(1, cacheSize == 0 ? 20_000 : cacheSize);
                    }
                });
        private volatile int cacheSize = 20_000;
        private volatile int timeoutSeconds = 86_400;

        /** The newest ticket for {@code host:port} that has not expired, taken (each is used once); or null. */
        Resumable take(String peer, Instant now) {
            if (peer == null) {
                return null;
            }
            synchronized (tickets) {
                ArrayDeque<Resumable> q = tickets.get(peer);
                while (q != null && !q.isEmpty()) {
                    Resumable r = q.pollFirst();
                    Ticket t = r.ticket();
                    long life = Math.min(t.lifetimeSeconds(), timeoutSeconds == 0 ? Long.MAX_VALUE : timeoutSeconds);
                    if (t.receivedAt().plusSeconds(life).isAfter(now)) {
                        return r;
                    }
                }
                return null;
            }
        }

        /** Keeps {@code r} for {@code peer}, newest first, at most {@link #PER_PEER} (the oldest go). */
        void put(String peer, Resumable r) {
            if (peer == null || r == null) {
                return;
            }
            synchronized (tickets) {
                ArrayDeque<Resumable> q = tickets.computeIfAbsent(peer, k -> new ArrayDeque<>());
                q.addFirst(r);
                while (q.size() > PER_PEER) {
                    q.pollLast();
                }
            }
        }

        @Override
        public SSLSession getSession(byte[] sessionId) {
            return null; // sessions are resumed by ticket, not looked up by id
        }

        @Override
        public Enumeration<byte[]> getIds() {
            return Collections.emptyEnumeration();
        }

        @Override
        public void setSessionTimeout(int seconds) {
            if (seconds < 0) {
                throw new IllegalArgumentException("a negative timeout");
            }
            timeoutSeconds = seconds;
        }

        @Override
        public int getSessionTimeout() {
            return timeoutSeconds;
        }

        @Override
        public void setSessionCacheSize(int size) {
            if (size < 0) {
                throw new IllegalArgumentException("a negative size");
            }
            cacheSize = size;
        }

        @Override
        public int getSessionCacheSize() {
            return cacheSize;
        }
    }
}
