package dev.keyway.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyway.bench.TlsBenchImpls.Impl;
import dev.keyway.bench.TlsBenchImpls.JsseImpl;
import dev.keyway.bench.TlsBenchImpls.KeywayImpl;
import dev.keyway.bench.TlsBenchImpls.KeywayLoopImpl;
import dev.keyway.bench.TlsBenchImpls.Pki;
import dev.keyway.bench.TlsBenchModes.Result;
import dev.keyway.core.KeywayException;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.cert.Certificates;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.NamedGroup;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

import static dev.keyway.bench.TlsBenchModes.CLIENT_ERRORS;
import static dev.keyway.bench.TlsBenchModes.bulkMode;
import static dev.keyway.bench.TlsBenchModes.handshakeMode;
import static dev.keyway.bench.TlsBenchModes.loadAverage;
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
    static final String HOST = "localhost";
    static final int WRITE = 16 * 1024;
    static final char[] STORE_PASSWORD = "keyway-bench".toCharArray();

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
                        .sorted(Comparator.comparingDouble(Result::rate)).toList();
                Result m = runs.get((runs.size() - 1) / 2);
                long errors = runs.stream().mapToLong(Result::errors).sum();
                boolean ok = runs.stream().allMatch(Result::checkOk);
                String all = runs.stream().map(r -> String.format(Locale.ROOT, "%.0f", mode.equals("bulk") ? r.mbPerS() : r.rate()))
                        .collect(Collectors.joining(", "));
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

    private static double median(List<Result> runs, ToDoubleFunction<Result> f) {
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
    static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
    /** The one version a suite belongs to: both sides speak only it. */
    static List<TlsVersion> versions(CipherSuite suite) {
        return List.of(suite.tls13() ? TlsVersion.TLS13 : TlsVersion.TLS12);
    }
}
