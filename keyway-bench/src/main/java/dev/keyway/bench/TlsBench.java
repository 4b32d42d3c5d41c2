package dev.keyway.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyway.core.KeywayException;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.tls.TlsConfig;
import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.TlsServer;
import dev.keyway.tls.cert.Certificates;
import dev.keyway.tls.cert.KeyType;
import dev.keyway.tls.cert.Pem;
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
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keyway's TLS 1.3 next to the JDK's own (JSSE) in one JVM, over loopback: full handshakes per second,
 * resumed handshakes per second, and bulk throughput on one connection. Both run with the same EC P-256
 * certificate (a CA and a leaf for localhost and 127.0.0.1, made once per run with Keyway's
 * {@link Certificates}), the same suite and the same key-exchange group, TCP_NODELAY on every socket, and
 * the same server shape: a plain {@link ServerSocket} on 127.0.0.1, an acceptor thread and a fixed pool of
 * worker threads that run the server side of each connection.
 *
 * <p>Not a JMH benchmark: a plain {@code main}, run by {@code bench/tls-vs-jsse.sh} (which also times
 * {@code openssl s_time} against {@code openssl s_server}) or by hand:
 *
 * <pre>
 * java -cp "keyway-bench/target/classes:keyway-bench/target/lib/*" dev.keyway.bench.TlsBench --mode all --impl both
 * </pre>
 *
 * <p>What one connection is, in the handshake modes: the client opens a TCP connection, runs the
 * handshake (validating the server's chain to the CA and the name "localhost" against its
 * subjectAltName), writes one byte, reads the server's echo (which also makes it read the server's
 * NewSessionTicket), and closes (close_notify, then the socket). The server handshakes, echoes the byte,
 * reads to the client's close_notify and closes. Counted: connections completed by the clients per
 * second of wall time; latency is one such connection as the client sees it. In the resumed mode each
 * client offers the ticket of its own previous connection (Keyway: {@link TlsConnection#tickets()} and
 * {@link TlsConfig.Builder#resumeWith}; JSSE: the session cache of the client's own {@link SSLContext}, one
 * per client thread, which offers the session of the last connection to the same host and port by itself).
 * Whether a connection really resumed is checked:
 * Keyway's {@link TlsConnection#resumed()}; for JSSE the client's trust manager is wrapped and counts
 * {@code checkServerTrusted} calls, which a full handshake must make and a resumption (no Certificate
 * message) cannot. In the full mode JSSE's client cache is emptied after each connection, so that every
 * handshake is a full one, and that is checked the same way.
 *
 * <p>Bulk: one connection per implementation; after the handshake the client sends rounds of
 * {@code --bulk-mib} MiB in 16 KiB writes, the server reads and counts and answers each round with one
 * byte. Rounds run for {@code --warmup} seconds (not counted), then for {@code --seconds}; MB/s = bytes /
 * wall time of the counted rounds (MB = 10^6 bytes). The handshake is not timed.
 *
 * <p>JSSE setup: {@code SSLContext.getInstance("TLS")}; the server's key and leaf in a PKCS #12
 * {@link KeyStore} behind the default {@link KeyManagerFactory}; the client's trust in the CA through the
 * default (PKIX) {@link TrustManagerFactory}; protocols {TLSv1.3}, the one suite, endpoint identification
 * "HTTPS". The group is set with the system property {@code jdk.tls.namedGroups} (JDK 17 has no
 * {@code SSLParameters.setNamedGroups}), before any JSSE class loads; a value already given with
 * {@code -Djdk.tls.namedGroups} is left alone and printed.
 *
 * <p>Exit status: 0 when every connection of every measurement succeeded and the resumption checks held
 * (full mode: no connection resumed; resumed mode: at least 99 % resumed); 1 otherwise; 2 on a usage
 * error. Speed is reported, never judged here: the script compares.
 */
public final class TlsBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HOST = "localhost";
    private static final int WRITE = 16 * 1024;
    private static final char[] STORE_PASSWORD = "keyway-bench".toCharArray();

    private TlsBench() {
    }

    /** The command line. */
    static final class Options {
        List<String> modes = List.of("full", "resumed", "bulk");
        List<String> impls = List.of("keyway", "jsse");
        int seconds = 10;
        int warmup = 5;
        String suite = "TLS_AES_128_GCM_SHA256";
        String group = "x25519";
        int bulkMib = 64;
        int clients = 1;
        int serverThreads;
        int repeat = 1;
        boolean noDelay = true;
        Path pemDir;
        boolean json;
    }

    static final String USAGE = String.join("\n",
            "usage: TlsBench [options]",
            "",
            "  --mode full|resumed|bulk|all   what to measure (default all)",
            "  --impl keyway|keyway-loop|jsse|both|all  whose TLS (default both = keyway,jsse; all adds keyway-loop: Keyway's",
            "                     selector-loop TlsServer instead of a worker thread per connection)",
            "  --seconds N        length of each measurement, seconds (default 10)",
            "  --warmup N         warm-up before each measurement, seconds, not counted (default 5)",
            "  --suite NAME       TLS 1.3 suite or TLS 1.2 ECDHE-ECDSA AEAD suite, IANA name (default TLS_AES_128_GCM_SHA256)",
            "  --group NAME       key-exchange group: x25519 or secp256r1 (default x25519)",
            "  --bulk-mib N       MiB per bulk round, sent in 16 KiB writes (default 64)",
            "  --clients N        client threads in the handshake modes (default 1)",
            "  --server-threads N server worker threads (default clients + 1)",
            "  --repeat R         run every measurement R times, alternating which implementation goes first,",
            "                     and report the median (default 1)",
            "  --no-nodelay       leave Nagle's algorithm on (default: TCP_NODELAY on every socket)",
            "  --pem-dir DIR      also write the CA, the server's leaf and key there as ca.pem, server.pem,",
            "                     server.key (for openssl s_server / s_time with the very same certificate)",
            "  --json             one JSON line per measurement on stdout (\"run\": 1, 2, ...), then one per implementation",
            "                     and mode with \"run\": \"median\"; the human-readable text goes to stderr",
            "  --help             this text",
            "",
            "Exit status 1 when a connection failed or a resumption check did not hold, 2 on a usage error.");

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException | KeywayException e) {
            System.err.println("TlsBench: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        // Before any JSSE class reads it: JDK 17 has no SSLParameters.setNamedGroups.
        if (System.getProperty("jdk.tls.namedGroups") == null) {
            // TLS 1.2 (RFC 8422 section 5.1.1): the client must also list the curve of the server's ECDSA certificate
            // (P-256), or JSSE's server refuses; the key exchange still uses the first group.
            boolean tls12 = !CipherSuites.parse(o.suite).tls13();
            System.setProperty("jdk.tls.namedGroups", tls12 && !o.group.equals("secp256r1") ? o.group + ",secp256r1" : o.group);
        }
        try {
            System.exit(run(o));
        } catch (KeywayException | IllegalStateException e) {
            System.err.println("TlsBench: " + e.getMessage() + (e.getCause() == null ? "" : " (" + e.getCause() + ")"));
            System.exit(1);
        }
    }

    static Options parse(String[] args) {
        Options o = new Options();
        boolean threadsGiven = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            switch (a) {
                case "-h", "--help" -> {
                    return null;
                }
                case "--json" -> o.json = true;
                case "--no-nodelay" -> o.noDelay = false;
                case "--mode", "--impl", "--seconds", "--warmup", "--suite", "--group", "--bulk-mib", "--clients",
                        "--server-threads", "--pem-dir", "--repeat" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException(a + " needs a value");
                        }
                        value = args[++i];
                    }
                    switch (a) {
                        case "--mode" -> o.modes = switch (value) {
                            case "full", "resumed", "bulk" -> List.of(value);
                            case "all" -> List.of("full", "resumed", "bulk");
                            default -> throw new IllegalArgumentException("--mode must be full, resumed, bulk or all, not '" + value + "'");
                        };
                        case "--impl" -> o.impls = switch (value) {
                            case "keyway", "keyway-loop", "jsse" -> List.of(value);
                            case "both" -> List.of("keyway", "jsse");
                            case "all" -> List.of("keyway", "keyway-loop", "jsse");
                            default -> throw new IllegalArgumentException("--impl must be keyway, keyway-loop, jsse, both or all, not '" + value + "'");
                        };
                        case "--seconds" -> o.seconds = number(a, value, 1);
                        case "--warmup" -> o.warmup = number(a, value, 0);
                        case "--bulk-mib" -> o.bulkMib = number(a, value, 1);
                        case "--clients" -> o.clients = number(a, value, 1);
                        case "--repeat" -> o.repeat = number(a, value, 1);
                        case "--server-threads" -> {
                            o.serverThreads = number(a, value, 1);
                            threadsGiven = true;
                        }
                        case "--suite" -> o.suite = value;
                        case "--group" -> o.group = value;
                        case "--pem-dir" -> o.pemDir = Path.of(value);
                        default -> throw new IllegalStateException(a);
                    }
                }
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
            }
        }
        CipherSuite s = CipherSuites.parse(o.suite);
        if (!s.tls13() && !(s.keyExchange() == CipherSuite.KeyExchange.ECDHE && "ECDSA".equals(s.auth()) && s.cipher().aead())) {
            throw new IllegalArgumentException("--suite " + o.suite + " must be a TLS 1.3 suite or a TLS 1.2 ECDHE-ECDSA AEAD suite (the leaf is P-256)");
        }
        o.suite = s.name();
        NamedGroup g = NamedGroup.parse(o.group);
        if (g != NamedGroup.X25519 && g != NamedGroup.SECP256R1) {
            throw new IllegalArgumentException("--group must be x25519 or secp256r1 (groups both JSSE 17 and Keyway have), not " + o.group);
        }
        o.group = g.label();
        if (!threadsGiven) {
            o.serverThreads = o.clients + 1;
        }
        if ((long) o.bulkMib * 1024 * 1024 > Integer.MAX_VALUE / 2) {
            throw new IllegalArgumentException("--bulk-mib is at most 1023");
        }
        return o;
    }

    private static int number(String option, String value, int min) {
        int v;
        try {
            v = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be a whole number, not '" + value + "'");
        }
        if (v < min || v > 100_000) {
            throw new IllegalArgumentException(option + " must be " + min + " to 100000, not " + v);
        }
        return v;
    }

    // ---------------------------------------------------------------------------------------------
    // The certificate, and the two implementations behind one small interface.

    /** A CA and a leaf signed by it, EC P-256 both. */
    record Pki(X509Certificate ca, X509Certificate leaf, PrivateKey leafKey) {
        static Pki make() {
            KeyPair caKeys = KeyType.EC.generate();
            X509Certificate ca = Certificates.selfSigned(caKeys, "Keyway Bench CA", List.of(), Duration.ofDays(2), true);
            KeyPair leafKeys = KeyType.EC.generate();
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
                    if (failure != null && !(failure instanceof java.io.EOFException && c.attachment() != null)) {
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
            keys.setKeyEntry("server", pki.leafKey(), STORE_PASSWORD, new java.security.cert.Certificate[] {pki.leaf()});
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
            } catch (java.security.GeneralSecurityException e) {
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

    // ---------------------------------------------------------------------------------------------
    // The server: a plain listener on 127.0.0.1, an acceptor thread, a pool of workers.

    interface Handler {
        void handle(Conn c) throws IOException;
    }

    /** A server under measurement: where it listens, and the errors it met. */
    interface Listening extends Closeable {
        int port();

        int errors();
    }

    static final class Server implements Listening {
        final ServerSocket listener;
        private final ExecutorService workers;
        private final Thread acceptor;
        final AtomicInteger errors = new AtomicInteger();
        final ConcurrentLinkedQueue<String> firstErrors = new ConcurrentLinkedQueue<>();
        private volatile boolean closing;

        Server(Impl impl, Handler handler, int threads, boolean noDelay) throws IOException {
            listener = new ServerSocket();
            listener.setReuseAddress(true);
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
            AtomicInteger n = new AtomicInteger();
            workers = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, impl.name() + "-server-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            acceptor = new Thread(() -> {
                while (!closing) {
                    Socket s;
                    try {
                        s = listener.accept();
                        s.setTcpNoDelay(noDelay);
                    } catch (IOException e) {
                        if (!closing) {
                            note(this, "accept: " + e);
                        }
                        return;
                    }
                    workers.execute(() -> {
                        try (Conn c = impl.accept(s)) {
                            handler.handle(c);
                        } catch (IOException | RuntimeException e) {
                            if (!closing) {
                                note(this, "server: " + e);
                            }
                            closeQuietly(s);
                        }
                    });
                }
            }, impl.name() + "-acceptor");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        @Override
        public int port() {
            return listener.getLocalPort();
        }

        @Override
        public int errors() {
            return errors.get();
        }

        @Override
        public void close() throws IOException {
            closing = true;
            listener.close();
            workers.shutdown();
            try {
                if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
                    workers.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void note(Server s, String error) {
        s.errors.incrementAndGet();
        if (s.firstErrors.size() < 5) {
            s.firstErrors.add(error);
        }
    }

    private static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /** Server side of a handshake-mode connection: echo one byte, then read to the client's close. */
    static void echo(Conn c) throws IOException {
        InputStream in = c.in();
        int b = in.read();
        if (b < 0) {
            throw new IOException("the client closed before its byte");
        }
        c.out().write(b);
        c.out().flush();
        byte[] sink = new byte[256];
        try {
            while (in.read(sink) >= 0) {
                // nothing else is expected but close_notify
            }
        } catch (SocketException | java.io.EOFException e) {
            // the client closed its socket right after close_notify: not an error of the exchange
        }
    }

    /** The bulk server thread's CPU time at its last acknowledgement (ns), for the split of CPU between the sides. */
    static final AtomicLong SINK_CPU = new AtomicLong();

    /** Server side of bulk: count bytes, answer each full round with one byte. */
    static Handler bulkSink(long roundBytes) {
        return c -> {
            InputStream in = c.in();
            byte[] buf = new byte[64 * 1024];
            long got = 0;
            int n;
            try {
                while ((n = in.read(buf)) >= 0) {
                    got += n;
                    while (got >= roundBytes) {
                        got -= roundBytes;
                        SINK_CPU.set(threadCpuNanos());
                        c.out().write(1);
                        c.out().flush();
                    }
                }
            } catch (SocketException | java.io.EOFException e) {
                // the client closed its socket right after close_notify
            }
        };
    }

    // ---------------------------------------------------------------------------------------------
    // Measurements.

    /** A growable list of longs (latencies in ns). */
    static final class Longs {
        long[] a = new long[1 << 14];
        int n;

        void add(long v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }
    }

    record Phase(long wallNanos, long[] latencies, long resumed, long errors, long cpuNanos) {
    }

    record Result(String impl, String mode, long count, double seconds, double rate, double p50ms, double p99ms,
                  long resumed, long errors, long bytes, double mbPerS, double cpuMsPerOp, String check, boolean checkOk,
                  String load) {
    }

    private static final ConcurrentLinkedQueue<String> CLIENT_ERRORS = new ConcurrentLinkedQueue<>();

    /** One handshake-mode phase: all client threads released together, each looping until the deadline. */
    static Phase handshakes(List<Client> clients, int port, int seconds, boolean noDelay) throws Exception {
        int k = clients.size();
        CyclicBarrier start = new CyclicBarrier(k + 1);
        Longs[] lat = new Longs[k];
        long[] resumed = new long[k];
        long[] errors = new long[k];
        Thread[] threads = new Thread[k];
        long[] deadline = new long[1];
        for (int t = 0; t < k; t++) {
            int i = t;
            lat[i] = new Longs();
            Client client = clients.get(i);
            threads[i] = new Thread(() -> {
                try {
                    start.await();
                } catch (Exception e) {
                    return;
                }
                long end = deadline[0];
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    Socket s = new Socket();
                    try {
                        s.setTcpNoDelay(noDelay);
                        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                        try (Conn c = client.connect(s, port)) {
                            c.out().write(42);
                            c.out().flush();
                            if (c.in().read() != 42) {
                                throw new IOException("the echo did not come back");
                            }
                            c.afterExchange();
                            if (c.resumed()) {
                                resumed[i]++;
                            }
                        }
                        lat[i].add(System.nanoTime() - t0);
                    } catch (IOException | RuntimeException e) {
                        closeQuietly(s);
                        errors[i]++;
                        if (CLIENT_ERRORS.size() < 5) {
                            CLIENT_ERRORS.add("client: " + e);
                        }
                        if (errors[i] > 1000) {
                            return;
                        }
                    }
                }
            }, "client-" + t);
            threads[i].setDaemon(true);
            threads[i].start();
        }
        long cpu0 = processCpuNanos();
        long begin = System.nanoTime();
        deadline[0] = begin + seconds * 1_000_000_000L;
        start.await();
        for (Thread th : threads) {
            th.join();
        }
        long wall = System.nanoTime() - begin;
        long cpu = processCpuNanos() - cpu0;
        int total = 0;
        for (Longs l : lat) {
            total += l.n;
        }
        long[] all = new long[total];
        int at = 0;
        for (Longs l : lat) {
            System.arraycopy(l.a, 0, all, at, l.n);
            at += l.n;
        }
        Arrays.sort(all);
        return new Phase(wall, all, Arrays.stream(resumed).sum(), Arrays.stream(errors).sum(), cpu);
    }

    static Result handshakeMode(Impl impl, Options o, boolean resume, PrintStream human) throws Exception {
        String mode = resume ? "resumed" : "full";
        try (Listening server = impl instanceof KeywayLoopImpl loop ? loop.listen(0) : new Server(impl, TlsBench::echo, o.serverThreads, o.noDelay)) {
            List<Client> clients = new ArrayList<>();
            for (int i = 0; i < o.clients; i++) {
                clients.add(impl.client(resume));
            }
            if (o.warmup > 0) {
                Phase w = handshakes(clients, server.port(), o.warmup, o.noDelay);
                human.printf(Locale.ROOT, "  %-6s %-7s warm-up: %d connections in %.1f s (%.0f/s)%n", impl.name(), mode,
                        w.latencies().length, w.wallNanos() / 1e9, w.latencies().length / (w.wallNanos() / 1e9));
            }
            long checks0 = clients.stream().mapToLong(Client::certificateChecks).sum();
            String load = loadAverage();
            Phase m = handshakes(clients, server.port(), o.seconds, o.noDelay);
            long checks = clients.stream().mapToLong(Client::certificateChecks).sum();
            long count = m.latencies().length;
            long resumed = m.resumed();
            String how;
            if (checks0 >= 0 && !clients.isEmpty()) {
                // JSSE: every full handshake ran checkServerTrusted once (each client its own context and counter).
                long full = checks - checks0;
                resumed = Math.max(0, count + m.errors() - full);
                how = "client trust-manager calls " + full + " for " + (count + m.errors()) + " connections";
            } else {
                how = "TlsConnection.resumed()";
            }
            boolean ok = resume ? resumed >= 0.99 * count : resumed == 0;
            String check = String.format(Locale.ROOT, "%d of %d resumed (%s)", resumed, count, how);
            double wall = m.wallNanos() / 1e9;
            long errors = m.errors() + server.errors();
            return new Result(impl.name(), mode, count, wall, count / wall, percentile(m.latencies(), 50) / 1e6,
                    percentile(m.latencies(), 99) / 1e6, resumed, errors, 0, 0, count == 0 ? 0 : m.cpuNanos() / 1e6 / count,
                    check, ok, load);
        }
    }

    static Result bulkMode(Impl impl, Options o, PrintStream human) throws Exception {
        long round = (long) o.bulkMib * 1024 * 1024;
        try (Listening server = impl instanceof KeywayLoopImpl loop ? loop.listen(round) : new Server(impl, bulkSink(round), o.serverThreads, o.noDelay)) {
            Socket s = new Socket();
            s.setTcpNoDelay(o.noDelay);
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port()));
            byte[] data = new byte[WRITE];
            new SecureRandom().nextBytes(data);
            long errors = 0;
            long bytes = 0;
            long wall = 0;
            long cpu = 0;
            long senderCpu = 0;
            long sinkCpu = 0;
            int rounds = 0;
            String load;
            try (Conn c = impl.client(false).connect(s, server.port())) {
                OutputStream out = c.out();
                InputStream in = c.in();
                long warmEnd = System.nanoTime() + o.warmup * 1_000_000_000L;
                int warmRounds = 0;
                long w0 = System.nanoTime();
                while (o.warmup > 0 && System.nanoTime() < warmEnd) {
                    bulkRound(out, in, data, round);
                    warmRounds++;
                }
                if (warmRounds > 0) {
                    double ws = (System.nanoTime() - w0) / 1e9;
                    human.printf(Locale.ROOT, "  %-6s %-7s warm-up: %d rounds of %d MiB in %.1f s (%.0f MB/s)%n", impl.name(), "bulk",
                            warmRounds, o.bulkMib, ws, warmRounds * round / 1e6 / ws);
                }
                load = loadAverage();
                long cpu0 = processCpuNanos();
                long sender0 = threadCpuNanos();
                long sink0 = SINK_CPU.get();
                long begin = System.nanoTime();
                long end = begin + o.seconds * 1_000_000_000L;
                do {
                    bulkRound(out, in, data, round);
                    rounds++;
                } while (System.nanoTime() < end);
                wall = System.nanoTime() - begin;
                cpu = processCpuNanos() - cpu0;
                senderCpu = threadCpuNanos() - sender0;
                sinkCpu = SINK_CPU.get() - sink0;
                bytes = rounds * round;
            } catch (IOException | RuntimeException e) {
                errors++;
                CLIENT_ERRORS.add("bulk client: " + e);
                load = loadAverage();
            }
            errors += server.errors();
            double secs = wall / 1e9;
            return new Result(impl.name(), "bulk", rounds, secs, secs == 0 ? 0 : rounds / secs, 0, 0, 0, errors, bytes,
                    secs == 0 ? 0 : bytes / 1e6 / secs, rounds == 0 ? 0 : cpu / 1e6 / rounds,
                    String.format(Locale.ROOT, "%d rounds of %d MiB; CPU per round: sender thread %.1f ms, receiver thread %.1f ms, "
                            + "wall %.1f ms", rounds, o.bulkMib, senderCpu / 1e6 / Math.max(1, rounds), sinkCpu / 1e6 / Math.max(1, rounds),
                            wall / 1e6 / Math.max(1, rounds)), errors == 0, load);
        }
    }

    private static void bulkRound(OutputStream out, InputStream in, byte[] data, long round) throws IOException {
        for (long sent = 0; sent < round; sent += data.length) {
            out.write(data, 0, (int) Math.min(data.length, round - sent));
        }
        out.flush();
        if (in.read() != 1) {
            throw new IOException("the server did not acknowledge a bulk round");
        }
    }

    // ---------------------------------------------------------------------------------------------

    static int run(Options o) throws Exception {
        PrintStream human = o.json ? System.err : System.out;
        CipherSuite suite = CipherSuites.parse(o.suite);
        NamedGroup group = NamedGroup.parse(o.group);
        long t0 = System.nanoTime();
        Pki pki = Pki.make();
        if (o.pemDir != null) {
            pki.write(o.pemDir);
        }
        List<Impl> impls = new ArrayList<>();
        for (String name : o.impls) {
            impls.add(switch (name) {
                case "keyway" -> new KeywayImpl(pki, suite, group);
                case "keyway-loop" -> new KeywayLoopImpl(pki, suite, group);
                default -> new JsseImpl(pki, suite);
            });
        }
        human.printf(Locale.ROOT, "TlsBench: Java %s (%s %s), %d CPUs, load average %s%n", System.getProperty("java.version"),
                System.getProperty("java.vm.name"), System.getProperty("java.vm.version"), Runtime.getRuntime().availableProcessors(),
                loadAverage());
        human.printf(Locale.ROOT, "TlsBench: " + (suite.tls13() ? "TLS 1.3" : "TLS 1.2") + ", %s, group %s (jdk.tls.namedGroups=%s), EC P-256 leaf signed by an EC P-256 CA "
                        + "(made in %.0f ms)%s%n", suite.name(), group.label(), System.getProperty("jdk.tls.namedGroups"), (System.nanoTime() - t0) / 1e6,
                o.pemDir == null ? "" : ", PEM in " + o.pemDir);
        human.printf(Locale.ROOT, "TlsBench: %d client thread(s), %d server worker(s), TCP_NODELAY %s, warm-up %d s, measure %d s"
                        + ", bulk rounds of %d MiB in %d KiB writes%n", o.clients, o.serverThreads, o.noDelay ? "on" : "off", o.warmup,
                o.seconds, o.bulkMib, WRITE / 1024);

        List<Result> results = new ArrayList<>();
        for (int run = 1; run <= o.repeat; run++) {
            if (o.repeat > 1) {
                human.printf(Locale.ROOT, "run %d of %d%n", run, o.repeat);
            }
            // Alternate which implementation goes first, so a drift in the machine's load hits both alike.
            List<Impl> order = new ArrayList<>(impls);
            if (run % 2 == 0) {
                Collections.reverse(order);
            }
            for (String mode : o.modes) {
                for (Impl impl : order) {
                    Result r = mode.equals("bulk") ? bulkMode(impl, o, human) : handshakeMode(impl, o, mode.equals("resumed"), human);
                    results.add(r);
                    print(human, r);
                    if (o.json) {
                        System.out.println(JSON.writeValueAsString(json(r, o, String.valueOf(run), null)));
                    }
                }
            }
        }
        if (o.repeat > 1) {
            human.printf(Locale.ROOT, "median of %d runs%n", o.repeat);
        }
        for (String mode : o.modes) {
            for (Impl impl : impls) {
                List<Result> runs = results.stream().filter(r -> r.impl().equals(impl.name()) && r.mode().equals(mode))
                        .sorted(java.util.Comparator.comparingDouble(Result::rate)).toList();
                Result m = runs.get((runs.size() - 1) / 2);
                long errors = runs.stream().mapToLong(Result::errors).sum();
                boolean ok = runs.stream().allMatch(Result::checkOk);
                String all = runs.stream().map(r -> String.format(Locale.ROOT, "%.0f", mode.equals("bulk") ? r.mbPerS() : r.rate()))
                        .collect(java.util.stream.Collectors.joining(", "));
                Result med = new Result(m.impl(), m.mode(), m.count(), m.seconds(), m.rate(), median(runs, Result::p50ms),
                        median(runs, Result::p99ms), m.resumed(), errors, m.bytes(), m.mbPerS(), m.cpuMsPerOp(), m.check(), ok, m.load());
                if (o.repeat > 1) {
                    print(human, med);
                    human.printf(Locale.ROOT, "                 runs, sorted: %s%n", all);
                }
                if (o.json) {
                    System.out.println(JSON.writeValueAsString(json(med, o, "median", all)));
                }
            }
        }
        for (String e : CLIENT_ERRORS) {
            human.println("  error: " + e);
        }
        boolean bad = results.stream().anyMatch(r -> r.errors() > 0 || !r.checkOk());
        return bad ? 1 : 0;
    }

    private static double median(List<Result> runs, java.util.function.ToDoubleFunction<Result> f) {
        double[] v = runs.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static void print(PrintStream human, Result r) {
        if (r.mode().equals("bulk")) {
            human.printf(Locale.ROOT, "  %-6s %-7s %8.1f MB/s  (%s; %.2f s; JVM CPU %.1f ms per round; load %s)%s%n", r.impl(), r.mode(),
                    r.mbPerS(), r.check(), r.seconds(), r.cpuMsPerOp(), r.load(), r.errors() > 0 ? "  ERRORS " + r.errors() : "");
        } else {
            human.printf(Locale.ROOT, "  %-6s %-7s %8.0f /s  p50 %.3f ms  p99 %.3f ms  %.3f ms CPU/conn  %s%s  (%d in %.2f s; load %s)%s%n",
                    r.impl(), r.mode(), r.rate(), r.p50ms(), r.p99ms(), r.cpuMsPerOp(), r.check(), r.checkOk() ? "" : " CHECK FAILED",
                    r.count(), r.seconds(), r.load(), r.errors() > 0 ? "  ERRORS " + r.errors() : "");
        }
    }

    private static Map<String, Object> json(Result r, Options o, String run, String allRuns) {
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("impl", r.impl());
        j.put("mode", r.mode());
        j.put("run", run);
        if (allRuns != null) {
            j.put("runs", allRuns);
        }
        j.put("java", System.getProperty("java.version"));
        j.put("suite", o.suite);
        j.put("group", o.group);
        j.put("clients", r.mode().equals("bulk") ? 1 : o.clients);
        j.put("count", r.count());
        j.put("seconds", round(r.seconds(), 3));
        if (r.mode().equals("bulk")) {
            j.put("bytes", r.bytes());
            j.put("mb_per_s", round(r.mbPerS(), 1));
            j.put("cpu_ms_per_round", round(r.cpuMsPerOp(), 2));
        } else {
            j.put("per_s", round(r.rate(), 1));
            j.put("p50_ms", round(r.p50ms(), 3));
            j.put("p99_ms", round(r.p99ms(), 3));
            j.put("cpu_ms_per_conn", round(r.cpuMsPerOp(), 3));
            j.put("resumed", r.resumed());
        }
        j.put("errors", r.errors());
        j.put("check", r.check());
        j.put("check_ok", r.checkOk());
        j.put("load", r.load());
        return j;
    }

    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    /** CPU time of this whole JVM (clients, servers, JIT, GC), or 0 when the platform does not say. */
    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return Math.max(0, os.getProcessCpuTime());
        }
        return 0;
    }

    static long threadCpuNanos() {
        java.lang.management.ThreadMXBean t = ManagementFactory.getThreadMXBean();
        return t.isCurrentThreadCpuTimeSupported() ? t.getCurrentThreadCpuTime() : 0;
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            return l < 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", l);
        }
    }

    /** The one version a suite belongs to: both sides speak only it. */
    static List<dev.keyway.core.kdf.TlsVersion> versions(CipherSuite suite) {
        return List.of(suite.tls13() ? dev.keyway.core.kdf.TlsVersion.TLS13 : dev.keyway.core.kdf.TlsVersion.TLS12);
    }
}
