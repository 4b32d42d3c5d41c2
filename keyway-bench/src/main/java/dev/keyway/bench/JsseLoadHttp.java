package dev.keyway.bench;

import dev.keyway.bench.JsseLoad.CountingTrust;
import dev.keyway.bench.JsseLoad.Credential;
import dev.keyway.bench.JsseLoadServer.ServerProcess;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import static dev.keyway.bench.JsseLoad.PASSWORD;
import static dev.keyway.bench.JsseLoad.PROVIDERS;
import static dev.keyway.bench.JsseLoad.credential;
import static dev.keyway.bench.JsseLoad.intOpt;
import static dev.keyway.bench.JsseLoad.load;
import static dev.keyway.bench.JsseLoad.median;
import static dev.keyway.bench.JsseLoad.newContext;
import static dev.keyway.bench.JsseLoad.processCpuNanos;

/**
 * {@link JsseLoad http}: the JDK's HttpClient on each provider against the server JVM's connectors, new connections
 * and keep-alive, runs alternating between the providers, medians and the ratio keyway/jsse.
 */
final class JsseLoadHttp {
    private JsseLoadHttp() {
    }

    record HttpRun(String provider, int run, long requests, long errors, double seconds, long serverOpened, long serverHandshakes,
                   long clientFullHandshakes, String load, double clientCpuMs, double serverCpuMs) {
        double perSecond() {
            return requests / seconds;
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
        Options opt = new Options(conc, secs, warm, repeat, bodySize, suite);

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
                    System.out.println("  " + HelloProbe.probe(p, server.ports.get(serverOf.get(p)), cred.cert(), suite));
                }
                for (String mode : modes) {
                    ok &= mode(server, cred, opt, scenario, serverOf, mode, results);
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

    /** The options of the http runs. */
    record Options(int conc, int secs, int warm, int repeat, int bodySize, String suite) {
    }

    /** The runs of one mode in one scenario: warm-up, alternating runs, the median line added to {@code results}. */
    static boolean mode(ServerProcess server, Credential cred, Options opt, String scenario, Map<String, String> serverOf, String mode,
                        List<String> results) throws Exception {
        boolean ok = true;
        Map<String, CountingTrust> trust = new HashMap<>();
        Map<String, HttpClient> clients = new HashMap<>();
        for (String p : PROVIDERS) {
            CountingTrust t = new CountingTrust(cred.cert());
            SSLContext ctx = newContext(p);
            ctx.init(null, new TrustManager[]{t}, null);
            trust.put(p, t);
            HttpClient.Builder hb = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10));
            if (opt.suite() != null) {
                hb.sslParameters(new SSLParameters(new String[]{opt.suite()}));
            }
            clients.put(p, hb.build());
        }
        if (opt.warm() > 0) {
            for (String p : PROVIDERS) {
                HttpRun w = httpRun(server, clients.get(p), trust.get(p), p, serverOf.get(p), mode, opt.conc(), opt.warm(), 0, opt.bodySize());
                ok &= w.errors == 0;
                System.out.printf(Locale.ROOT, "  %-9s warm-up %-6s %8.0f req/s (%d errors)%n", mode, p, w.perSecond(), w.errors);
            }
        }
        Map<String, List<HttpRun>> runs = new HashMap<>();
        for (int r = 1; r <= opt.repeat(); r++) {
            String[] order = r % 2 == 1 || PROVIDERS.length == 1 ? PROVIDERS : new String[]{PROVIDERS[1], PROVIDERS[0]};
            for (String p : order) {
                HttpRun run = httpRun(server, clients.get(p), trust.get(p), p, serverOf.get(p), mode, opt.conc(), opt.secs(), r, opt.bodySize());
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
}
