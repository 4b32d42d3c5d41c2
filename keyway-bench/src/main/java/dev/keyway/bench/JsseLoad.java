package dev.keyway.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.keyway.jsse.KeywayProvider;
import dev.keyway.tls.cert.Certificates;
import io.netty.handler.ssl.SslHandler;
import org.eclipse.jetty.io.Connection;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * <p>The parts: {@link JsseLoadServer} (the server JVM), {@link JsseLoadHttp}, {@link HelloProbe}, {@link JsseLoadNetty}.
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
            JsseLoadServer.serve(Path.of(args[1]), Integer.parseInt(args[2]));
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
                case "http" -> ok = JsseLoadHttp.http(o);
                case "netty" -> ok = JsseLoadNetty.netty(o);
                case "all" -> {
                    ok = JsseLoadHttp.http(o);
                    ok &= JsseLoadNetty.netty(o);
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

    // ---------------------------------------------------------------------------------------------- shared by the runs

    static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    /** CPU time of this JVM (all threads), nanoseconds. */
    static long processCpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
