package dev.keyway.bench;

import dev.keyway.jsse.KeywayProvider;
import dev.keyway.tls.cert.Certificates;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * The Keyway JSSE provider against the JDK's own (SunJSSE) under real Java clients and servers (issue 18):
 *
 * <ul>
 *   <li>{@code http}: the JDK's {@link HttpClient} (HTTP/1.1) doing GETs against a Jetty 12 HTTPS server that
 *   answers a small fixed body, N requests in flight, for a fixed time; requests/s with a new TCP and TLS connection
 *   per request ({@code new}: one HttpClient, every request carries {@code Connection: close}, so Jetty closes the
 *   connection after answering and the client cannot pool it; the server counts its TLS handshakes to prove it) and
 *   with keep-alive ({@code keepalive}: one HttpClient reused, its pool keeps up to N connections open).</li>
 *   <li>{@code netty}: Netty's {@link SslHandler} echo over 127.0.0.1 in this JVM, the same provider on both
 *   sides: one connection, the client streams M MiB in 16 KiB writes, the server echoes them, MB/s of payload
 *   (each byte is encrypted and decrypted twice).</li>
 * </ul>
 *
 * <p>The Jetty server runs in a separate JVM (started by this one with the same java and class path, stopped when
 * this one closes its stdin): its threads, heap and JIT do not share a JVM with the client being measured, and the
 * very same warm server process serves every client run. It has two TLS connectors, one on SunJSSE and one on
 * Keyway (and a plain HTTP one for the counters). Scenario {@code --server jsse}: both clients talk to the SunJSSE
 * connector, so only the client's provider differs; {@code --server keyway}: both to the Keyway connector;
 * {@code --server same}: each client to the connector of its own provider (Keyway to Keyway, JSSE to JSSE).
 *
 * <p>Runs alternate (keyway, jsse, jsse, keyway, ...: which provider goes first alternates) after a warm-up of each,
 * every run the same length; the median of the runs is reported with the ratio keyway/jsse. Before the runs, one
 * request per provider goes through a recording TCP relay that reads the plaintext hellos: TLS version, suite, the
 * key_share groups the client offered, whether the server sent a HelloRetryRequest, and the group it chose (the
 * JSSE API has no getter for the group).
 *
 * <p>Exit status: 0 when every request and echo succeeded and the {@code new} runs made one handshake per request;
 * 1 otherwise; 2 on a usage error.
 */
public final class JsseLoad {
    static final char[] PASSWORD = "changeit".toCharArray();
    /** The client providers measured, in the order of odd runs (--only narrows it to one, e.g. for a profile). */
    static String[] PROVIDERS = {"keyway", "jsse"};

    private JsseLoad() {
    }

    static final String USAGE = """
            usage: JsseLoad http  [--server jsse|keyway|same[,...]] [--mode new|keepalive|both] [--concurrency N]
                                  [--seconds S] [--warmup W] [--repeat R] [--body BYTES] [--server-jvm-opts "OPTS"]
                                  [--suite IANA-NAME]
                   JsseLoad netty [--mib M] [--warmup-mib W] [--repeat R] [--suite IANA-NAME]
                   JsseLoad all   (both of the above, with the options of each)

              http: the JDK's HttpClient (HTTP/1.1, GET) against Jetty 12 over HTTPS on 127.0.0.1, Keyway provider
                    vs SunJSSE in the client. The server is a separate JVM with a SunJSSE and a Keyway connector.
                --server L       comma-separated scenarios (default jsse,same):
                                   jsse   both clients against the SunJSSE connector (only the client differs)
                                   keyway both clients against the Keyway connector
                                   same   each client against the connector of its own provider
                --mode M         new (Connection: close, a TCP+TLS handshake per request), keepalive (one
                                 HttpClient, pooled connections), both (default)
                --concurrency N  requests in flight, one thread each (default 8)
                --seconds S      length of each measured run (default 10)
                --warmup W       seconds of warm-up per provider before the runs of a mode (default 5)
                --repeat R       runs per provider; the median is reported (default 3)
                --body BYTES     response body size (default 64)
                --server-jvm-opts "OPTS"  JVM options for the server JVM (space-separated)
                --suite NAME     the only cipher suite the clients offer (default: each provider's own list, and the
                                 server picks: SunJSSE prefers TLS_AES_256_GCM_SHA384, Keyway TLS_AES_128_GCM_SHA256)
              netty: SslHandler echo, client and server in this JVM (one event loop thread each), the same provider on
                    both sides, one connection per run.
                --mib M          MiB streamed per run (default 256)
                --warmup-mib W   MiB per provider before the runs (default 64)
                --repeat R       runs per provider (default 3)
                --suite NAME     the only cipher suite the client offers (default: the providers' own lists)

            Both: --only keyway|jsse measures one client provider only (for a profile; no ratio).

            Output: per-run lines, then RESULT lines (one per scenario and mode, and for netty) with the medians and
            the ratio keyway/jsse. MB = 10^6 bytes. Exit 0: no errors and checks held; 1: errors; 2: usage.
            """;

    public static void main(String[] args) throws Exception {
        // Connection: close is a restricted header for the JDK's HttpClient; this lets the benchmark send it. Read when
        // the HttpClient implementation initialises, so before any HttpClient exists.
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "connection");
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            System.out.print(USAGE);
            System.exit(args.length == 0 ? 2 : 0);
        }
        String cmd = args[0];
        if (cmd.equals("serve")) {
            serve(Path.of(args[1]), Integer.parseInt(args[2]));
            return;
        }
        Map<String, String> o = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--help") || args[i].equals("-h")) {
                System.out.print(USAGE);
                System.exit(0);
            }
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                usage("bad argument '" + args[i] + "'");
            }
            o.put(args[i].substring(2), args[++i]);
        }
        if (o.containsKey("only")) {
            String only = o.get("only");
            if (!only.equals("keyway") && !only.equals("jsse")) {
                usage("--only takes keyway or jsse, not '" + only + "'");
            }
            PROVIDERS = new String[]{only};
        }
        boolean ok = true;
        try {
            switch (cmd) {
                case "http" -> ok = http(o);
                case "netty" -> ok = netty(o);
                case "all" -> {
                    ok = http(o);
                    ok &= netty(o);
                }
                default -> usage("unknown command '" + cmd + "'");
            }
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
        }
        System.exit(ok ? 0 : 1);
    }

    static void usage(String why) {
        System.err.println("JsseLoad: " + why + " (see --help)");
        System.exit(2);
    }

    static int intOpt(Map<String, String> o, String name, int def, int min) {
        String v = o.get(name);
        if (v == null) {
            return def;
        }
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a whole number, not '" + v + "'");
        }
        if (n < min) {
            throw new IllegalArgumentException("--" + name + " must be at least " + min);
        }
        return n;
    }

    // ---------------------------------------------------------------------------------------------- credentials

    record Credential(KeyPair keys, X509Certificate cert) {
        KeyStore keyStore() throws Exception {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("key", keys.getPrivate(), PASSWORD, new X509Certificate[]{cert});
            return ks;
        }
    }

    /** An EC P-256 key and a self-signed certificate for localhost and 127.0.0.1. */
    static Credential credential() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = g.generateKeyPair();
        return new Credential(keys, Certificates.selfSigned(keys, "localhost", List.of("DNS:localhost", "IP:127.0.0.1"), Duration.ofDays(2)));
    }

    static SSLContext newContext(String provider) throws Exception {
        return provider.equals("keyway") ? SSLContext.getInstance("TLS", new KeywayProvider()) : SSLContext.getInstance("TLS", "SunJSSE");
    }

    static SSLContext serverContext(String provider, KeyStore ks) throws Exception {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, PASSWORD);
        SSLContext ctx = newContext(provider);
        ctx.init(kmf.getKeyManagers(), null, null);
        return ctx;
    }

    /** The JDK's trust manager for {@code trusted}, counting the server chains it checks: one per full handshake. */
    static final class CountingTrust extends X509ExtendedTrustManager {
        final X509ExtendedTrustManager d;
        final LongAdder checks = new LongAdder();

        CountingTrust(X509Certificate trusted) throws Exception {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("ca", trusted);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            d = (X509ExtendedTrustManager) tmf.getTrustManagers()[0];
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            d.checkClientTrusted(chain, authType, socket);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            checks.increment();
            d.checkServerTrusted(chain, authType, socket);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            d.checkClientTrusted(chain, authType, engine);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            checks.increment();
            d.checkServerTrusted(chain, authType, engine);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            d.checkClientTrusted(chain, authType);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            checks.increment();
            d.checkServerTrusted(chain, authType);
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return d.getAcceptedIssuers();
        }
    }

    // ---------------------------------------------------------------------------------------------- the server JVM

    /** Counters of one TLS connector. */
    static final class Counters {
        final LongAdder opened = new LongAdder();
        final LongAdder handshakes = new LongAdder();
        final LongAdder failed = new LongAdder();
        final AtomicReference<String> tls = new AtomicReference<>("-");
    }

    /** The Jetty server (in its own JVM): prints its ports, serves until its stdin closes. */
    static void serve(Path keyStoreFile, int bodySize) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStoreFile)) {
            ks.load(in, PASSWORD);
        }
        byte[] body = new byte[bodySize];
        Arrays.fill(body, (byte) 'k');
        if (bodySize > 0) {
            body[bodySize - 1] = '\n';
        }
        Server jetty = new Server();
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        Map<String, Counters> counters = new LinkedHashMap<>();
        Map<String, ServerConnector> connectors = new LinkedHashMap<>();
        for (String p : new String[]{"jsse", "keyway"}) {
            Counters c = new Counters();
            counters.put(p, c);
            SslContextFactory.Server f = new SslContextFactory.Server();
            f.setSslContext(serverContext(p, ks));
            SslConnectionFactory ssl = new SslConnectionFactory(f, "http/1.1");
            ssl.addBean(new SslHandshakeListener() {
                @Override
                public void handshakeSucceeded(Event event) {
                    c.handshakes.increment();
                    var s = event.getSSLEngine().getSession();
                    c.tls.set(s.getProtocol() + "/" + s.getCipherSuite());
                }

                @Override
                public void handshakeFailed(Event event, Throwable failure) {
                    c.failed.increment();
                }
            });
            ServerConnector conn = new ServerConnector(jetty, ssl, new HttpConnectionFactory(http));
            conn.addEventListener(new Connection.Listener() {
                @Override
                public void onOpened(Connection connection) {
                    if (connection instanceof SslConnection) {
                        c.opened.increment();
                    }
                }

                @Override
                public void onClosed(Connection connection) {
                }
            });
            conn.setHost("127.0.0.1");
            conn.setPort(0);
            jetty.addConnector(conn);
            connectors.put(p, conn);
        }
        ServerConnector control = new ServerConnector(jetty, new HttpConnectionFactory(http));
        control.setHost("127.0.0.1");
        control.setPort(0);
        jetty.addConnector(control);
        jetty.setHandler(new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                byte[] out = body;
                if (request.getHttpURI().getPath().equals("/stats")) {
                    StringBuilder b = new StringBuilder();
                    counters.forEach((p, c) -> b.append(p).append(' ').append(c.opened.sum()).append(' ').append(c.handshakes.sum())
                            .append(' ').append(c.failed.sum()).append(' ').append(c.tls.get()).append('\n'));
                    out = b.toString().getBytes(StandardCharsets.US_ASCII);
                }
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, out.length);
                response.write(true, ByteBuffer.wrap(out), callback);
                return true;
            }
        });
        jetty.start();
        System.out.println("PORTS jsse=" + connectors.get("jsse").getLocalPort() + " keyway=" + connectors.get("keyway").getLocalPort()
                + " control=" + control.getLocalPort() + " java=" + Runtime.version());
        System.out.flush();
        try {
            while (System.in.read() >= 0) {
                // until the parent closes our stdin (or dies)
            }
        } finally {
            jetty.stop();
        }
    }

    /** The server JVM, seen from the client. */
    static final class ServerProcess implements AutoCloseable {
        final Process process;
        final Map<String, Integer> ports = new HashMap<>();
        final String javaVersion;
        final HttpClient control = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        ServerProcess(Path keyStore, int bodySize, String jvmOpts) throws Exception {
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElse("java"));
            if (jvmOpts != null && !jvmOpts.isBlank()) {
                cmd.addAll(Arrays.asList(jvmOpts.trim().split("\\s+")));
            }
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), JsseLoad.class.getName(), "serve", keyStore.toString(),
                    Integer.toString(bodySize)));
            process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
            BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
            String line;
            String java = "?";
            while ((line = r.readLine()) != null && !line.startsWith("PORTS ")) {
                System.out.println("server: " + line);
            }
            if (line == null) {
                throw new IOException("the server JVM ended before it listened");
            }
            for (String kv : line.substring(6).split(" ")) {
                String[] p = kv.split("=", 2);
                if (p[0].equals("java")) {
                    java = p[1];
                } else {
                    ports.put(p[0], Integer.parseInt(p[1]));
                }
            }
            javaVersion = java;
        }

        /** provider -> [opened, handshakes, failed], plus "tls" strings. */
        Map<String, String[]> stats() throws Exception {
            HttpResponse<String> r = control.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get("control") + "/stats"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            Map<String, String[]> m = new HashMap<>();
            for (String l : r.body().split("\n")) {
                String[] f = l.split(" ");
                m.put(f[0], f);
            }
            return m;
        }

        /** CPU time of the server JVM so far, nanoseconds (as the OS reports it; 10 ms ticks on Linux). */
        long cpuNanos() {
            return process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- http

    record HttpRun(String provider, int run, long requests, long errors, double seconds, long serverOpened, long serverHandshakes,
                   long clientFullHandshakes, String load, double clientCpuMs, double serverCpuMs) {
        double perSecond() {
            return requests / seconds;
        }
    }

    static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    static boolean http(Map<String, String> o) throws Exception {
        List<String> scenarios = List.of(o.getOrDefault("server", "jsse,same").split(","));
        for (String s : scenarios) {
            if (!List.of("jsse", "keyway", "same").contains(s)) {
                throw new IllegalArgumentException("--server takes jsse, keyway or same, not '" + s + "'");
            }
        }
        String modeOpt = o.getOrDefault("mode", "both");
        List<String> modes = switch (modeOpt) {
            case "both" -> List.of("new", "keepalive");
            case "new", "keepalive" -> List.of(modeOpt);
            default -> throw new IllegalArgumentException("--mode takes new, keepalive or both, not '" + modeOpt + "'");
        };
        int conc = intOpt(o, "concurrency", 8, 1);
        int secs = intOpt(o, "seconds", 10, 1);
        int warm = intOpt(o, "warmup", 5, 0);
        int repeat = intOpt(o, "repeat", 3, 1);
        int bodySize = intOpt(o, "body", 64, 1);
        String suite = o.get("suite");

        Credential cred = credential();
        Path dir = Files.createTempDirectory("jsse-load");
        Path ksFile = dir.resolve("server.p12");
        try (OutputStream out = Files.newOutputStream(ksFile)) {
            cred.keyStore().store(out, PASSWORD);
        }
        boolean ok = true;
        List<String> results = new ArrayList<>();
        try (ServerProcess server = new ServerProcess(ksFile, bodySize, o.get("server-jvm-opts"))) {
            System.out.printf(Locale.ROOT, "http: client java %s, server java %s (separate JVM); %d CPUs; %d in flight, %d s runs, %d s warm-up,"
                            + " median of %d, %d-byte body%n", Runtime.version(), server.javaVersion, Runtime.getRuntime().availableProcessors(),
                    conc, secs, warm, repeat, bodySize);
            for (String scenario : scenarios) {
                Map<String, String> serverOf = new HashMap<>();
                for (String p : PROVIDERS) {
                    serverOf.put(p, scenario.equals("same") ? p : scenario);
                }
                System.out.printf("%n== server: %s ==%n", scenario.equals("same") ? "each client's own provider (keyway->keyway, jsse->jsse)"
                        : scenario + " connector for both clients");
                for (String p : PROVIDERS) {
                    System.out.println("  " + probe(p, server.ports.get(serverOf.get(p)), cred.cert(), suite));
                }
                for (String mode : modes) {
                    Map<String, CountingTrust> trust = new HashMap<>();
                    Map<String, HttpClient> clients = new HashMap<>();
                    for (String p : PROVIDERS) {
                        CountingTrust t = new CountingTrust(cred.cert());
                        SSLContext ctx = newContext(p);
                        ctx.init(null, new TrustManager[]{t}, null);
                        trust.put(p, t);
                        HttpClient.Builder hb = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1)
                                .connectTimeout(Duration.ofSeconds(10));
                        if (suite != null) {
                            hb.sslParameters(new SSLParameters(new String[]{suite}));
                        }
                        clients.put(p, hb.build());
                    }
                    if (warm > 0) {
                        for (String p : PROVIDERS) {
                            HttpRun w = httpRun(server, clients.get(p), trust.get(p), p, serverOf.get(p), mode, conc, warm, 0, bodySize);
                            ok &= w.errors == 0;
                            System.out.printf(Locale.ROOT, "  %-9s warm-up %-6s %8.0f req/s (%d errors)%n", mode, p, w.perSecond(), w.errors);
                        }
                    }
                    Map<String, List<HttpRun>> runs = new HashMap<>();
                    for (int r = 1; r <= repeat; r++) {
                        String[] order = r % 2 == 1 || PROVIDERS.length == 1 ? PROVIDERS : new String[]{PROVIDERS[1], PROVIDERS[0]};
                        for (String p : order) {
                            HttpRun run = httpRun(server, clients.get(p), trust.get(p), p, serverOf.get(p), mode, conc, secs, r, bodySize);
                            runs.computeIfAbsent(p, k -> new ArrayList<>()).add(run);
                            ok &= run.errors == 0;
                            boolean hsOk = !mode.equals("new") || run.serverHandshakes >= run.requests;
                            ok &= hsOk;
                            System.out.printf(Locale.ROOT, "  %-9s run %d %-6s %8.0f req/s  %7d requests, %d errors; server: %d connections,"
                                            + " %d handshakes; client: %d full, %d resumed; CPU ms/request client %.3f, server %.3f%s; load %s%n",
                                    mode, r, p, run.perSecond(), run.requests,
                                    run.errors, run.serverOpened, run.serverHandshakes, run.clientFullHandshakes,
                                    Math.max(0, run.serverHandshakes - run.clientFullHandshakes), run.clientCpuMs / Math.max(1, run.requests),
                                    run.serverCpuMs / Math.max(1, run.requests), hsOk ? "" : "  CHECK FAILED (fewer handshakes than requests)",
                                    run.load);
                        }
                    }
                    double k = median(runs.getOrDefault("keyway", List.of()).stream().mapToDouble(HttpRun::perSecond).toArray());
                    double j = median(runs.getOrDefault("jsse", List.of()).stream().mapToDouble(HttpRun::perSecond).toArray());
                    String line = String.format(Locale.ROOT, "RESULT http server=%s mode=%s keyway=%.0f jsse=%.0f ratio=%.2f", scenario, mode, k, j, k / j);
                    System.out.println("  median: " + line.substring("RESULT http ".length()));
                    results.add(line);
                }
            }
            Map<String, String[]> st = server.stats();
            System.out.printf("%nserver TLS seen: jsse connector %s, keyway connector %s; failed handshakes: jsse %s, keyway %s%n",
                    st.get("jsse")[4], st.get("keyway")[4], st.get("jsse")[3], st.get("keyway")[3]);
        }
        System.out.println();
        results.forEach(System.out::println);
        return ok;
    }

    static HttpRun httpRun(ServerProcess server, HttpClient client, CountingTrust trust, String provider, String serverProvider, String mode,
                           int conc, int secs, int runNo, int bodySize) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.ports.get(serverProvider) + "/"))
                .timeout(Duration.ofSeconds(30)).GET();
        if (mode.equals("new")) {
            b.header("Connection", "close");
        }
        HttpRequest req = b.build();
        String load = load();
        String[] before = server.stats().get(serverProvider);
        long fullBefore = trust.checks.sum();
        long clientCpu0 = processCpuNanos();
        long serverCpu0 = server.cpuNanos();
        LongAdder done = new LongAdder();
        LongAdder errors = new LongAdder();
        AtomicReference<Throwable> firstError = new AtomicReference<>();
        long start = System.nanoTime();
        long deadline = start + TimeUnit.SECONDS.toNanos(secs);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < conc; i++) {
            Thread t = new Thread(() -> {
                while (System.nanoTime() < deadline) {
                    try {
                        HttpResponse<byte[]> r = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
                        if (r.statusCode() == 200 && r.body().length == bodySize) {
                            done.increment();
                        } else {
                            errors.increment();
                            firstError.compareAndSet(null, new IOException("status " + r.statusCode() + ", " + r.body().length + " bytes"));
                        }
                    } catch (Exception e) {
                        errors.increment();
                        firstError.compareAndSet(null, e);
                        if (e instanceof InterruptedException) {
                            return;
                        }
                    }
                }
            }, "load-" + provider + "-" + i);
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(secs + 60L));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double clientCpuMs = (processCpuNanos() - clientCpu0) / 1e6;
        double serverCpuMs = (server.cpuNanos() - serverCpu0) / 1e6;
        String[] after = server.stats().get(serverProvider);
        if (firstError.get() != null) {
            System.out.println("  first error (" + provider + "): " + firstError.get());
        }
        return new HttpRun(provider, runNo, done.sum(), errors.sum(), seconds, Long.parseLong(after[1]) - Long.parseLong(before[1]),
                Long.parseLong(after[2]) - Long.parseLong(before[2]), trust.checks.sum() - fullBefore, load, clientCpuMs, serverCpuMs);
    }

    /** CPU time of this JVM (all threads), nanoseconds. */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    // ---------------------------------------------------------------------------------------------- the hello probe

    static final Map<Integer, String> GROUPS = Map.of(0x001d, "x25519", 0x0017, "secp256r1", 0x0018, "secp384r1", 0x0019, "secp521r1",
            0x001e, "x448", 0x11ec, "X25519MLKEM768", 0x0100, "ffdhe2048", 0x0101, "ffdhe3072", 0x11eb, "SecP256r1MLKEM768");

    static String group(int code) {
        return GROUPS.getOrDefault(code, String.format("0x%04x", code));
    }

    /**
     * One request with a fresh context of {@code provider} through a relay on 127.0.0.1 that records both directions;
     * the hellos are read from the recording.
     */
    static String probe(String provider, int port, X509Certificate trusted, String suite) throws Exception {
        SSLContext ctx = newContext(provider);
        ctx.init(null, new TrustManager[]{new CountingTrust(trusted)}, null);
        ByteArrayOutputStream up = new ByteArrayOutputStream();
        ByteArrayOutputStream down = new ByteArrayOutputStream();
        String tls;
        try (ServerSocket relay = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> {
                try (Socket a = relay.accept(); Socket b = new Socket("127.0.0.1", port)) {
                    Thread t1 = pump(a.getInputStream(), b.getOutputStream(), up);
                    Thread t2 = pump(b.getInputStream(), a.getOutputStream(), down);
                    t1.join(20_000);
                    t2.join(20_000);
                } catch (Exception e) {
                    // the request below reports it
                }
            }, "relay");
            acceptor.setDaemon(true);
            acceptor.start();
            HttpClient.Builder hb = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10));
            if (suite != null) {
                hb.sslParameters(new SSLParameters(new String[]{suite}));
            }
            HttpClient c = hb.build();
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + relay.getLocalPort() + "/"))
                    .header("Connection", "close").timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofByteArray());
            tls = r.sslSession().map(s -> s.getProtocol() + " " + s.getCipherSuite()).orElse("?") + " (status " + r.statusCode() + ")";
            acceptor.join(20_000);
        }
        byte[] u;
        byte[] d;
        synchronized (up) {
            u = up.toByteArray();
        }
        synchronized (down) {
            d = down.toByteArray();
        }
        return String.format("%-6s client: %s; %s", provider, tls, hellos(u, d));
    }

    static Thread pump(InputStream in, OutputStream out, ByteArrayOutputStream copy) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    out.flush();
                    synchronized (copy) {
                        if (copy.size() < (1 << 20)) {
                            copy.write(buf, 0, n);
                        }
                    }
                }
            } catch (IOException e) {
                // connection over
            } finally {
                try {
                    out.close();
                } catch (IOException e) {
                    // ignore
                }
            }
        }, "relay-pump");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The plaintext handshake messages of one direction: the concatenated payloads of its handshake records. */
    static List<byte[]> handshakeMessages(byte[] stream) {
        ByteArrayOutputStream hs = new ByteArrayOutputStream();
        for (int at = 0; at + 5 <= stream.length; ) {
            int type = stream[at] & 0xff;
            int len = ((stream[at + 3] & 0xff) << 8) | (stream[at + 4] & 0xff);
            if (at + 5 + len > stream.length) {
                break;
            }
            if (type == 22) {
                hs.write(stream, at + 5, len);
            }
            at += 5 + len;
        }
        byte[] h = hs.toByteArray();
        List<byte[]> msgs = new ArrayList<>();
        for (int at = 0; at + 4 <= h.length; ) {
            int len = ((h[at + 1] & 0xff) << 16) | ((h[at + 2] & 0xff) << 8) | (h[at + 3] & 0xff);
            if (at + 4 + len > h.length) {
                break;
            }
            msgs.add(Arrays.copyOfRange(h, at, at + 4 + len));
            at += 4 + len;
        }
        return msgs;
    }

    static final byte[] HRR_RANDOM = java.util.HexFormat.of().parseHex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C");

    static int u16(byte[] b, int at) {
        return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
    }

    /** extension type -> data, of a ClientHello or ServerHello body starting at {@code at} (the extensions' length). */
    static Map<Integer, byte[]> extensions(byte[] m, int at) {
        Map<Integer, byte[]> ext = new LinkedHashMap<>();
        if (at + 2 > m.length) {
            return ext;
        }
        int end = at + 2 + u16(m, at);
        at += 2;
        while (at + 4 <= end && end <= m.length) {
            int t = u16(m, at);
            int l = u16(m, at + 2);
            ext.put(t, Arrays.copyOfRange(m, at + 4, at + 4 + l));
            at += 4 + l;
        }
        return ext;
    }

    static String hellos(byte[] up, byte[] down) {
        StringBuilder out = new StringBuilder();
        int hello = 0;
        for (byte[] m : handshakeMessages(up)) {
            if (m[0] != 1) {
                break;
            }
            hello++;
            int at = 4 + 2 + 32;
            at += 1 + (m[at] & 0xff);
            at += 2 + u16(m, at);
            at += 1 + (m[at] & 0xff);
            Map<Integer, byte[]> ext = extensions(m, at);
            List<String> shares = new ArrayList<>();
            byte[] ks = ext.get(51);
            if (ks != null) {
                for (int i = 2; i + 4 <= ks.length; ) {
                    shares.add(group(u16(ks, i)));
                    i += 4 + u16(ks, i + 2);
                }
            }
            List<String> supported = new ArrayList<>();
            byte[] sg = ext.get(10);
            if (sg != null) {
                for (int i = 2; i + 2 <= sg.length; i += 2) {
                    supported.add(group(u16(sg, i)));
                }
            }
            out.append(hello == 1 ? "ClientHello key_share " : "; second ClientHello key_share ").append(shares);
            if (hello == 1) {
                out.append(" of supported_groups ").append(supported);
            }
        }
        for (byte[] m : handshakeMessages(down)) {
            if (m[0] == 2) {
                boolean hrr = Arrays.equals(Arrays.copyOfRange(m, 6, 38), HRR_RANDOM);
                int at = 4 + 2 + 32;
                at += 1 + (m[at] & 0xff);
                at += 2 + 1;
                Map<Integer, byte[]> ext = extensions(m, at);
                byte[] ks = ext.get(51);
                byte[] sv = ext.get(43);
                String g = ks == null || ks.length < 2 ? "-" : group(u16(ks, 0));
                if (hrr) {
                    out.append("; HelloRetryRequest for ").append(g);
                } else {
                    out.append("; ServerHello ").append(sv != null && sv.length == 2 && u16(sv, 0) == 0x0304 ? "TLS 1.3, group " + g : "TLS 1.2");
                    if (sv != null) {
                        break;
                    }
                }
            } else if (m[0] == 12 && m.length > 7 && m[4] == 3) {
                out.append(", ECDHE group ").append(group(u16(m, 5)));
                break;
            } else if (m[0] == 14) {
                break;
            }
        }
        return out.toString();
    }

    // ---------------------------------------------------------------------------------------------- netty

    static final int CHUNK = 16 * 1024;

    /** Echoes what it reads; stops reading while the echo cannot be written out. */
    static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
            if (!ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** Streams {@code total} bytes while the channel is writable and counts what comes back. */
    static final class Stream extends ChannelInboundHandlerAdapter {
        final long total;
        final byte[] data;
        final CompletableFuture<Long> done = new CompletableFuture<>();
        volatile ChannelHandlerContext ctx;
        long sent;
        long received;
        long startNanos;

        Stream(long total, byte[] data) {
            this.total = total;
            this.data = data;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            this.ctx = ctx;
        }

        void start() {
            ctx.executor().execute(() -> {
                startNanos = System.nanoTime();
                fill();
            });
        }

        void fill() {
            while (sent < total && ctx.channel().isWritable()) {
                int n = (int) Math.min(CHUNK, total - sent);
                ctx.write(Unpooled.wrappedBuffer(data, 0, n));
                sent += n;
            }
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && sent < total) {
                fill();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf b = (ByteBuf) msg;
            received += b.readableBytes();
            b.release();
            if (received >= total) {
                done.complete(System.nanoTime() - startNanos);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            done.completeExceptionally(new IOException("closed after " + received + " of " + total + " bytes"));
        }
    }

    record NettyRun(String tls, double mbPerSecond) {
    }

    static NettyRun nettyRun(SSLContext sctx, SSLContext cctx, long bytes, byte[] data, EventLoopGroup serverGroup, EventLoopGroup clientGroup,
                             String suite) throws Exception {
        Channel listening = new ServerBootstrap().group(serverGroup).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        SSLEngine e = sctx.createSSLEngine();
                        e.setUseClientMode(false);
                        ch.pipeline().addLast(new SslHandler(e), new Echo());
                    }
                }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        try {
            int port = ((InetSocketAddress) listening.localAddress()).getPort();
            Stream stream = new Stream(bytes, data);
            Channel ch = new Bootstrap().group(clientGroup).channel(NioSocketChannel.class).handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel c) {
                    SSLEngine e = cctx.createSSLEngine("localhost", port);
                    e.setUseClientMode(true);
                    SSLParameters p = e.getSSLParameters();
                    p.setEndpointIdentificationAlgorithm("HTTPS");
                    if (suite != null) {
                        p.setCipherSuites(new String[]{suite});
                    }
                    e.setSSLParameters(p);
                    c.pipeline().addLast(new SslHandler(e), stream);
                }
            }).connect("127.0.0.1", port).sync().channel();
            try {
                SslHandler ssl = ch.pipeline().get(SslHandler.class);
                ssl.handshakeFuture().get(30, TimeUnit.SECONDS);
                String tls = ssl.engine().getSession().getProtocol() + " " + ssl.engine().getSession().getCipherSuite();
                stream.start();
                long nanos = stream.done.get(600, TimeUnit.SECONDS);
                return new NettyRun(tls, bytes / (nanos / 1e9) / 1e6);
            } finally {
                ch.close().sync();
            }
        } finally {
            listening.close().sync();
        }
    }

    static boolean netty(Map<String, String> o) throws Exception {
        int mib = intOpt(o, "mib", 256, 1);
        int warmMib = intOpt(o, "warmup-mib", 64, 0);
        int repeat = intOpt(o, "repeat", 3, 1);
        String suite = o.get("suite");
        Credential cred = credential();
        byte[] data = new byte[CHUNK];
        new Random(18).nextBytes(data);
        Map<String, SSLContext[]> ctx = new HashMap<>();
        for (String p : PROVIDERS) {
            SSLContext c = newContext(p);
            c.init(null, new TrustManager[]{new CountingTrust(cred.cert())}, null);
            ctx.put(p, new SSLContext[]{serverContext(p, cred.keyStore()), c});
        }
        EventLoopGroup serverGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        Map<String, List<Double>> runs = new HashMap<>();
        AtomicLong errors = new AtomicLong();
        try {
            System.out.printf(Locale.ROOT, "%nnetty: SslHandler echo, java %s, %d CPUs, one event loop thread for the server and one for the client;"
                    + " %d MiB per run in %d KiB writes, warm-up %d MiB per provider, median of %d%n", Runtime.version(),
                    Runtime.getRuntime().availableProcessors(), mib, CHUNK / 1024, warmMib, repeat);
            if (warmMib > 0) {
                for (String p : PROVIDERS) {
                    NettyRun w = nettyRun(ctx.get(p)[0], ctx.get(p)[1], (long) warmMib << 20, data, serverGroup, clientGroup, suite);
                    System.out.printf(Locale.ROOT, "  warm-up %-6s %8.1f MB/s  (%s)%n", p, w.mbPerSecond(), w.tls());
                }
            }
            for (int r = 1; r <= repeat; r++) {
                String[] order = r % 2 == 1 || PROVIDERS.length == 1 ? PROVIDERS : new String[]{PROVIDERS[1], PROVIDERS[0]};
                for (String p : order) {
                    String load = load();
                    try {
                        NettyRun run = nettyRun(ctx.get(p)[0], ctx.get(p)[1], (long) mib << 20, data, serverGroup, clientGroup, suite);
                        runs.computeIfAbsent(p, k -> new ArrayList<>()).add(run.mbPerSecond());
                        System.out.printf(Locale.ROOT, "  run %d %-6s %8.1f MB/s  (%s; load %s)%n", r, p, run.mbPerSecond(), run.tls(), load);
                    } catch (Exception e) {
                        errors.incrementAndGet();
                        System.out.println("  run " + r + " " + p + " failed: " + e);
                    }
                }
            }
        } finally {
            serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(10, TimeUnit.SECONDS);
        }
        {
            double k = median(runs.getOrDefault("keyway", List.of()).stream().mapToDouble(Double::doubleValue).toArray());
            double j = median(runs.getOrDefault("jsse", List.of()).stream().mapToDouble(Double::doubleValue).toArray());
            System.out.printf(Locale.ROOT, "RESULT netty keyway=%.1f jsse=%.1f ratio=%.2f%n", k, j, k / j);
        }
        return errors.get() == 0;
    }
}
