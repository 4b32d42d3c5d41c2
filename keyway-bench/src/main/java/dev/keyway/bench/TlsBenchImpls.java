package dev.keyway.bench;

import dev.keyway.bench.TlsBenchServer.Listening;
import dev.keyway.bench.TlsBenchServer.Server;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.TlsServer;
import dev.keyway.tls.cert.CertificateKeyType;
import dev.keyway.tls.cert.Certificates;
import dev.keyway.tls.cert.Pem;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.keyway.bench.TlsBench.HOST;
import static dev.keyway.bench.TlsBench.STORE_PASSWORD;
import static dev.keyway.bench.TlsBench.versions;
import static dev.keyway.bench.TlsBenchModes.threadCpuNanos;
import static dev.keyway.bench.TlsBenchServer.SINK_CPU;

/**
 * {@link TlsBench}'s two implementations behind one small interface ({@link Impl}, {@link Client}, {@link Conn}):
 * Keyway's TLS (thread per connection, or its selector-loop {@code TlsServer}) and the JDK's JSSE, with the
 * certificate both use ({@link Pki}) and JSSE's trust manager counting full handshakes.
 */
final class TlsBenchImpls {
    private TlsBenchImpls() {
    }

    /** A CA and a leaf signed by it, EC P-256 both. */
    record Pki(X509Certificate ca, X509Certificate leaf, PrivateKey leafKey) {
        static Pki make() {
            KeyPair caKeys = CertificateKeyType.EC.generate();
            X509Certificate ca = Certificates.selfSigned(caKeys, "Keyway Bench CA", List.of(), Duration.ofDays(2), true);
            KeyPair leafKeys = CertificateKeyType.EC.generate();
            X509Certificate leaf = Certificates.issued(leafKeys.getPublic(), HOST, List.of("DNS:localhost", "IP:127.0.0.1"),
                    Duration.ofDays(1), ca, caKeys.getPrivate());
            return new Pki(ca, leaf, leafKeys.getPrivate());
        }

        void write(Path dir) throws IOException {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("ca.pem"), Pem.writeCertificate(ca), StandardCharsets.US_ASCII);
            Files.writeString(dir.resolve("server.pem"), Pem.writeCertificate(leaf), StandardCharsets.US_ASCII);
            Path key = dir.resolve("server.key");
            Files.deleteIfExists(key);
            Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(key, Pem.writePrivateKey(leafKey), StandardCharsets.US_ASCII);
        }
    }

    /** A connection after its handshake, seen through streams. */
    interface Conn extends Closeable {
        InputStream in();

        OutputStream out();

        boolean resumed();

        /** Called by a client after the echo, before close (tickets have been read by then). */
        default void afterExchange() {
        }
    }

    /** One client thread's view of an implementation; keeps what it needs for resumption. */
    interface Client {
        Conn connect(Socket s, int port) throws IOException;

        /** Full handshakes this client's trust manager saw (JSSE), or -1 when the implementation reports resumption itself. */
        default long certificateChecks() {
            return -1;
        }
    }

    interface Impl {
        String name();

        Conn accept(Socket s) throws IOException;

        /** A fresh client state for one thread: {@code resume} = offer the previous connection's session. */
        Client client(boolean resume);
    }

    static class KeywayImpl implements Impl {
        final TlsConfig server;
        private final TlsConfig client;
        private final List<X509Certificate> anchors;
        private final CipherSuite suite;
        private final NamedGroup group;

        KeywayImpl(Pki pki, CipherSuite suite, NamedGroup group) {
            this.suite = suite;
            this.group = group;
            this.anchors = List.of(pki.ca());
            this.server = TlsConfig.builder().certificate(List.of(pki.leaf()), pki.leafKey()).suites(List.of(suite))
                    .versions(versions(suite)).groups(List.of(group)).build();
            this.client = clientBuilder().build();
        }

        private TlsConfig.Builder clientBuilder() {
            return TlsConfig.builder().trustAnchors(anchors).serverName(HOST).suites(List.of(suite)).versions(versions(suite))
                    .groups(List.of(group));
        }

        @Override
        public String name() {
            return "keyway";
        }

        @Override
        public Conn accept(Socket s) throws IOException {
            return wrap(TlsConnection.accept(s, server), null);
        }

        @Override
        public Client client(boolean resume) {
            if (!resume) {
                return (s, port) -> wrap(TlsConnection.connect(s, client), null);
            }
            TlsConfig.Builder b = clientBuilder();
            Ticket[] last = new Ticket[1];
            return (s, port) -> {
                // As a client application would: a config per connection, with the last ticket in it.
                TlsConnection c = TlsConnection.connect(s, b.resumeWith(last[0]).build());
                return wrap(c, last);
            };
        }

        private static Conn wrap(TlsConnection c, Ticket[] keep) {
            return new Conn() {
                @Override
                public InputStream in() {
                    return c.getInputStream();
                }

                @Override
                public OutputStream out() {
                    return c.getOutputStream();
                }

                @Override
                public boolean resumed() {
                    return c.resumed();
                }

                @Override
                public void afterExchange() {
                    if (keep != null) {
                        List<Ticket> t = c.tickets();
                        keep[0] = t.isEmpty() ? null : t.get(0);
                    }
                }

                @Override
                public void close() throws IOException {
                    c.close();
                }
            };
        }
    }

    /**
     * Keyway's TLS served by {@link TlsServer} (selector loops, one per core, as 'keyway tls serve' does) instead of
     * {@link Server}'s worker thread per connection; the client side is {@link KeywayImpl}'s. The measurements call
     * {@link #listen} for it; the inherited blocking {@code accept} is the same server config on one socket.
     */
    static final class KeywayLoopImpl extends KeywayImpl {
        KeywayLoopImpl(Pki pki, CipherSuite suite, NamedGroup group) {
            super(pki, suite, group);
        }

        @Override
        public String name() {
            return "keyway-loop";
        }

        /** Handshake modes ({@code bulkRound} 0): echo the first byte. Bulk: count bytes, one byte back per round. */
        Listening listen(long bulkRound) throws IOException {
            AtomicInteger errors = new AtomicInteger();
            TlsServer.Handler handler = new TlsServer.Handler() {
                @Override
                public void received(TlsServer.Connection c, byte[] b, int off, int len) {
                    if (bulkRound == 0) {
                        if (c.attachment() == null) {
                            c.attach(Boolean.TRUE);
                            c.write(b, off, 1);
                        }
                        return;
                    }
                    long got = (c.attachment() instanceof Long l ? l : 0L) + len;
                    while (got >= bulkRound) {
                        got -= bulkRound;
                        SINK_CPU.set(threadCpuNanos());
                        c.write(new byte[] {1});
                    }
                    c.attach(got);
                }

                @Override
                public void closed(TlsServer.Connection c, Exception failure) {
                    // As Server's handlers: a client that closes its socket right after close_notify is no error.
                    if (failure != null && !(failure instanceof EOFException && c.attachment() != null)) {
                        errors.incrementAndGet();
                    }
                }
            };
            TlsServer server = TlsServer.builder(this.server, handler).maxConnectionsPerAddress(100_000).maxConnections(100_000).start();
            return new Listening() {
                @Override
                public int port() {
                    return server.address().getPort();
                }

                @Override
                public int errors() {
                    return errors.get();
                }

                @Override
                public void close() {
                    server.close();
                }
            };
        }
    }

    /** The JDK's default trust manager, counting the chain checks (one per full handshake, none in a resumption). */
    static final class CountingTrustManager extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager delegate;
        final AtomicLong serverChecks = new AtomicLong();

        CountingTrustManager(X509ExtendedTrustManager delegate) {
            this.delegate = delegate;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            serverChecks.incrementAndGet();
            delegate.checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            serverChecks.incrementAndGet();
            delegate.checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            serverChecks.incrementAndGet();
            delegate.checkServerTrusted(chain, authType);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            delegate.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            delegate.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            delegate.checkClientTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return delegate.getAcceptedIssuers();
        }
    }

    static final class JsseImpl implements Impl {
        private final SSLContext server;
        private final TrustManagerFactory trust;
        private final String[] protocols;
        private final String[] suites;

        JsseImpl(Pki pki, CipherSuite suite) throws Exception {
            this.suites = new String[] {suite.name()};
            this.protocols = new String[] {suite.tls13() ? "TLSv1.3" : "TLSv1.2"};
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("server", pki.leafKey(), STORE_PASSWORD, new Certificate[] {pki.leaf()});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, STORE_PASSWORD);
            server = SSLContext.getInstance("TLS");
            server.init(kmf.getKeyManagers(), null, null);
            KeyStore anchors = KeyStore.getInstance("PKCS12");
            anchors.load(null, null);
            anchors.setCertificateEntry("ca", pki.ca());
            trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(anchors);
        }

        /**
         * A client context of its own per client thread: its own session cache (as each Keyway client keeps its
         * own ticket; one shared cache would hand one thread's session to another, and JSSE does not offer a
         * TLS 1.3 session twice) and its own counting trust manager.
         */
        private SSLContext clientContext(CountingTrustManager counter) {
            try {
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(null, new TrustManager[] {counter}, null);
                return ctx;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("cannot make a JSSE client context", e);
            }
        }

        private CountingTrustManager countingTrustManager() {
            for (TrustManager t : trust.getTrustManagers()) {
                if (t instanceof X509ExtendedTrustManager x) {
                    return new CountingTrustManager(x);
                }
            }
            throw new IllegalStateException("the JDK's default TrustManagerFactory gave no X509ExtendedTrustManager");
        }

        @Override
        public String name() {
            return "jsse";
        }

        @Override
        public Conn accept(Socket s) throws IOException {
            SSLSocket ss = (SSLSocket) server.getSocketFactory().createSocket(s, null, true);
            SSLParameters p = ss.getSSLParameters();
            p.setProtocols(protocols);
            p.setCipherSuites(suites);
            ss.setSSLParameters(p);
            ss.startHandshake();
            return wrap(ss, false, null);
        }

        @Override
        public Client client(boolean resume) {
            CountingTrustManager c = countingTrustManager();
            SSLContext ctx = clientContext(c);
            return new Client() {
                @Override
                public Conn connect(Socket s, int port) throws IOException {
                    SSLSocket ss = (SSLSocket) ctx.getSocketFactory().createSocket(s, HOST, port, true);
                    SSLParameters p = ss.getSSLParameters();
                    p.setProtocols(protocols);
                    p.setCipherSuites(suites);
                    p.setEndpointIdentificationAlgorithm("HTTPS");
                    ss.setSSLParameters(p);
                    long before = c.serverChecks.get();
                    ss.startHandshake();
                    boolean resumed = c.serverChecks.get() == before;
                    return wrap(ss, resumed, resume ? null : ctx.getClientSessionContext());
                }

                @Override
                public long certificateChecks() {
                    return c.serverChecks.get();
                }
            };
        }

        private static Conn wrap(SSLSocket ss, boolean resumed, SSLSessionContext forget) throws IOException {
            InputStream in = ss.getInputStream();
            OutputStream out = ss.getOutputStream();
            return new Conn() {
                @Override
                public InputStream in() {
                    return in;
                }

                @Override
                public OutputStream out() {
                    return out;
                }

                @Override
                public boolean resumed() {
                    return resumed;
                }

                @Override
                public void afterExchange() {
                    if (forget != null) {
                        // Full mode: drop every cached session, so the next connection cannot offer one.
                        for (Enumeration<byte[]> ids = forget.getIds(); ids.hasMoreElements(); ) {
                            SSLSession s = forget.getSession(ids.nextElement());
                            if (s != null) {
                                s.invalidate();
                            }
                        }
                    }
                }

                @Override
                public void close() throws IOException {
                    ss.close();
                }
            };
        }
    }
}
