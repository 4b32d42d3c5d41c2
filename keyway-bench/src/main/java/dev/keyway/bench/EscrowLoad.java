package dev.keyway.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyway.authority.AuthorityClient;
import dev.keyway.authority.AuthorityHome;
import dev.keyway.authority.ClientStatus;
import dev.keyway.authority.RequestSigning;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.keys.SessionKeys;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Load generator for the backup authority's escrow path ({@code POST /v1/escrow}): N clients, each its own
 * x25519 identity enrolled under its own name (the authority must run with {@code serve --auto-approve}),
 * each on its own thread with its own {@link AuthorityClient} (own HTTPS connections), send M escrows
 * one after the other; every request's latency is recorded.
 *
 * <p>Not a JMH benchmark: a plain {@code main}, run by {@code bench/authority-escrow.sh} (which starts a
 * fresh authority for it) or by hand:
 *
 * <pre>
 * java -cp "keyway-bench/target/classes:keyway-bench/target/lib/*" dev.keyway.bench.EscrowLoad \
 *     --url https://127.0.0.1:8443 --cacert auth/tls-cert.pem --clients 32 --escrows 1000 --warmup 500
 * </pre>
 *
 * <p>What is timed, and what is not. Before the clock starts: the identities, the enrollments, every key
 * blob (a fresh AES-256-GCM session key wrapped with {@link KeyWrap#wrapForEscrow} for the authority's recipient,
 * bound to the client's owner name),
 * every request body (JSON, blob in base64) and, by default, every request signature (Ed25519 over the
 * canonical request with a fresh nonce; {@code --sign-inline} signs in the loop instead, as a real client
 * would). Timed, per request: {@link AuthorityClient#send(AuthorityClient.Prepared, Map)} (HTTPS round trip, the server's work including
 * its durable commit, and parsing the JSON receipt). Wall time runs from the moment all threads are
 * released together to the moment the last one finishes. Pre-signed requests carry the time they were
 * signed; the server accepts 5 minutes of skew ({@link RequestSigning#WINDOW}), so a request whose
 * signature is older than 4 minutes when its turn comes is signed again in the loop (counted as
 * "re-signed").
 *
 * <p>Warm-up ({@code --warmup W}): W escrows in total (spread over the clients, on the same threads and
 * connections) sent and discarded before the measured phase, so both JVMs have run the path and every
 * client holds an open TLS connection.
 *
 * <p>Exit status: 0 when every measured and warm-up escrow was answered 2xx, 1 when any was not (or a
 * request failed to reach the server), 2 on a usage error.
 */
public final class EscrowLoad {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration RESIGN_AFTER = RequestSigning.WINDOW.minus(Duration.ofMinutes(1));

    private EscrowLoad() {
    }

    public static void main(String[] args) throws Exception {
        EscrowLoadOptions o;
        try {
            o = EscrowLoadOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("EscrowLoad: " + e.getMessage());
            System.err.println(EscrowLoadOptions.USAGE);
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(EscrowLoadOptions.USAGE);
            return;
        }
        try {
            System.exit(run(o));
        } catch (KeywayException | IllegalArgumentException | IllegalStateException e) {
            System.err.println("EscrowLoad: " + e.getMessage() + (e.getCause() == null ? "" : " (" + e.getCause() + ")"));
            System.exit(1);
        }
    }

    /** One client: identity, connection, and the requests it will send. */
    static final class Sender {
        final String name;
        final Identity identity;
        final AuthorityClient client;
        /** Set when --http lean: the timed requests go through it instead of {@link #client}. */
        KeepAliveHttps lean;
        AuthorityClient.Prepared[] requests;
        Map<String, String>[] signatures;
        long[] signedAtNanos;
        long[] latencies;
        int ok;
        int duplicates;
        int resigned;

        Sender(String name, Identity identity, AuthorityClient client) {
            this.name = name;
            this.identity = identity;
            this.client = client;
        }
    }

    /** The outcome of one phase. */
    record Phase(long wallNanos, long[] latencies, int ok, int duplicates, int resigned) {
    }

    private static final AtomicInteger NON_2XX = new AtomicInteger();
    private static final AtomicInteger TRANSPORT_ERRORS = new AtomicInteger();
    private static final ConcurrentLinkedQueue<String> FIRST_ERRORS = new ConcurrentLinkedQueue<>();

    static int run(EscrowLoadOptions o) throws Exception {
        PrintStream human = o.json ? System.err : System.out;
        X509Certificate cert = AuthorityHome.readCertificate(o.cacert);
        URI base = o.url;
        AuthorityClient setup = new AuthorityClient(base, cert);
        String served = setup.authorityRecipient();
        if (o.recipient != null && !o.recipient.equals(served)) {
            throw new IllegalArgumentException("--recipient differs from the recipient the authority at " + base + " serves");
        }
        Recipient authority = Recipient.parse(o.recipient != null ? o.recipient : served);
        int perClientWarmup = o.warmup == 0 ? 0 : (o.warmup + o.clients - 1) / o.clients;
        human.printf(Locale.ROOT, "EscrowLoad: %s, authority %s (%s), %d clients x %d escrows, warm-up %d x %d, %s%n",
                base, authority.idHex(), authority.type().id(), o.clients, o.escrows, o.clients, perClientWarmup,
                o.signInline ? "signed in the loop" : "pre-signed");
        human.printf(Locale.ROOT, "EscrowLoad: HTTP client %s%n", o.http.equals("lean")
                ? "lean (one blocking keep-alive TLS connection per client)" : "jdk (java.net.http.HttpClient)");

        long t1 = System.nanoTime();
        List<Sender> senders = enroll(o, setup, cert);
        long t2 = System.nanoTime();
        // Every blob and body, before any timing: client-side crypto stays out of the measured loop.
        senders.parallelStream().forEach(s -> prepare(s, authority, perClientWarmup + o.escrows));
        human.printf(Locale.ROOT, "EscrowLoad: enrolled %d clients in %.1f s; %d blobs wrapped and bodies built in %.1f s%n",
                o.clients, (t2 - t1) / 1e9, o.clients * (perClientWarmup + o.escrows), (System.nanoTime() - t2) / 1e9);

        if (perClientWarmup > 0) {
            if (!o.signInline) {
                presign(senders, 0, perClientWarmup);
            }
            Phase w = phase(senders, 0, perClientWarmup, o.signInline);
            human.printf(Locale.ROOT, "EscrowLoad: warm-up: %d escrows in %.2f s (%.0f escrows/s), p99 %.1f ms%n",
                    w.latencies().length, w.wallNanos() / 1e9, w.latencies().length / (w.wallNanos() / 1e9),
                    percentile(sorted(w.latencies()), 99) / 1e6);
        }
        int warmupErrors = NON_2XX.getAndSet(0) + TRANSPORT_ERRORS.getAndSet(0);

        long t3 = System.nanoTime();
        if (!o.signInline) {
            presign(senders, perClientWarmup, o.escrows);
            human.printf(Locale.ROOT, "EscrowLoad: %d requests pre-signed in %.1f s%n", o.clients * o.escrows, (System.nanoTime() - t3) / 1e9);
        }
        long loadCpu0 = cpuNanos("self");
        long serverCpu0 = o.serverPid > 0 ? cpuNanos(Long.toString(o.serverPid)) : -1;
        Phase m = phase(senders, perClientWarmup, o.escrows, o.signInline);
        long loadCpu = loadCpu0 < 0 ? -1 : cpuNanos("self") - loadCpu0;
        long serverCpu = serverCpu0 < 0 ? -1 : cpuNanos(Long.toString(o.serverPid)) - serverCpu0;
        Result r = new Result(o, m, sorted(m.latencies()), NON_2XX.get(), TRANSPORT_ERRORS.get(), warmupErrors,
                o.clients * perClientWarmup, loadCpu, serverCpu, authority.type().id());
        report(human, r);
        if (o.json) {
            System.out.println(JSON.writeValueAsString(r.json()));
        }
        senders.forEach(s -> s.identity.destroy());
        return r.non2xx() + r.transport() + warmupErrors == 0 ? 0 : 1;
    }

    /** Identities, enrollment (auto-approve: approved at once), one HTTPS client each. */
    private static List<Sender> enroll(EscrowLoadOptions o, AuthorityClient setup, X509Certificate cert) throws Exception {
        List<Sender> senders = new ArrayList<>();
        for (int c = 0; c < o.clients; c++) {
            Identity id = Identity.generate(KeyType.X25519);
            String name = String.format(Locale.ROOT, "%s-%02d", o.namePrefix, c);
            ClientStatus enrolled = setup.enroll(id, name);
            if (!enrolled.approved()) {
                throw new IllegalStateException("enrolling " + name + ": the key is " + enrolled.status()
                        + ": run the authority with 'serve --auto-approve'");
            }
            Sender sender = new Sender(name, id, new AuthorityClient(o.url, cert));
            if (o.http.equals("lean")) {
                sender.lean = new KeepAliveHttps(o.url, cert);
            }
            senders.add(sender);
        }
        return senders;
    }

    /** What the measured phase came to. */
    record Result(EscrowLoadOptions o, Phase m, long[] lat, int non2xx, int transport, int warmupErrors, int warmupEscrows, long loadCpu,
                  long serverCpu, String authorityType) {
        int total() {
            return o.clients * o.escrows;
        }

        double wall() {
            return m.wallNanos() / 1e9;
        }

        double rate() {
            return m.ok() / wall();
        }

        double mean() {
            return Arrays.stream(lat).average().orElse(0) / 1e6;
        }

        Map<String, Object> json() {
            Map<String, Object> j = new LinkedHashMap<>();
            j.put("clients", o.clients);
            j.put("escrows_per_client", o.escrows);
            j.put("escrows", total());
            j.put("ok", m.ok());
            j.put("duplicates", m.duplicates());
            j.put("non_2xx", non2xx);
            j.put("transport_errors", transport);
            j.put("warmup_escrows", warmupEscrows);
            j.put("warmup_errors", warmupErrors);
            j.put("wall_s", round(wall(), 3));
            j.put("escrows_per_s", round(rate(), 1));
            j.put("p50_ms", round(percentile(lat, 50) / 1e6, 2));
            j.put("p90_ms", round(percentile(lat, 90) / 1e6, 2));
            j.put("p99_ms", round(percentile(lat, 99) / 1e6, 2));
            j.put("max_ms", round(max(lat) / 1e6, 2));
            j.put("mean_ms", round(mean(), 2));
            j.put("load_cpu_s", loadCpu < 0 ? null : round(loadCpu / 1e9, 2));
            j.put("server_cpu_s", serverCpu < 0 ? null : round(serverCpu / 1e9, 2));
            j.put("cores", Runtime.getRuntime().availableProcessors());
            j.put("presigned", !o.signInline);
            j.put("resigned", m.resigned());
            j.put("authority_type", authorityType);
            return j;
        }
    }

    /** The human-readable summary. */
    private static void report(PrintStream human, Result r) {
        EscrowLoadOptions o = r.o();
        Phase m = r.m();
        long[] lat = r.lat();
        human.printf(Locale.ROOT, "escrows:        %d (%d clients x %d), %d answered 2xx (%d of them 200: already escrowed)%n",
                r.total(), o.clients, o.escrows, m.ok(), m.duplicates());
        human.printf(Locale.ROOT, "wall:           %.3f s%n", r.wall());
        human.printf(Locale.ROOT, "throughput:     %.0f escrows/s (2xx answers / wall time)%n", r.rate());
        human.printf(Locale.ROOT, "latency ms:     p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (mean %.2f)%n",
                percentile(lat, 50) / 1e6, percentile(lat, 90) / 1e6, percentile(lat, 99) / 1e6, max(lat) / 1e6, r.mean());
        human.printf(Locale.ROOT, "non-2xx:        %d%s%n", r.non2xx(),
                r.transport() > 0 ? "  (plus " + r.transport() + " requests that failed to reach the server)" : "");
        if (r.loadCpu() >= 0) {
            int cores = Runtime.getRuntime().availableProcessors();
            human.printf(Locale.ROOT, "CPU, measured:  load generator %.1f s (%.2f cores)%s; %d cores x %.1f s wall = %.1f s%n",
                    r.loadCpu() / 1e9, r.loadCpu() / (double) m.wallNanos(), r.serverCpu() >= 0 ? String.format(Locale.ROOT,
                            ", server %.1f s (%.2f cores)", r.serverCpu() / 1e9, r.serverCpu() / (double) m.wallNanos()) : "",
                    cores, r.wall(), cores * r.wall());
        }
        if (m.resigned() > 0) {
            human.printf(Locale.ROOT, "re-signed:      %d pre-signed requests were older than %d min at their turn and signed in the loop%n",
                    m.resigned(), RESIGN_AFTER.toMinutes());
        }
        if (r.warmupErrors() > 0) {
            human.printf(Locale.ROOT, "warm-up errors: %d%n", r.warmupErrors());
        }
        for (String e : FIRST_ERRORS) {
            human.println("  error: " + e);
        }
    }

    /** Wraps a fresh AES-256-GCM key for the authority per escrow and builds each request (its body). */
    @SuppressWarnings("unchecked")
    private static void prepare(Sender s, Recipient authority, int count) {
        s.requests = new AuthorityClient.Prepared[count];
        s.signatures = new Map[count];
        s.signedAtNanos = new long[count];
        for (int i = 0; i < count; i++) {
            try (SessionKey k = SessionKeys.generate(Algorithms.AES_256_GCM)) {
                KeyBlob wrapped = KeyWrap.wrapForEscrow(k, authority, EscrowBinding.owner(s.name));
                s.requests[i] = s.client.prepareEscrow(wrapped, "escrow load " + s.name + " #" + i, (long) i, null, null);
            }
        }
    }

    /** Signs requests [from, from + count) of every sender ahead of the timed loop (in parallel). */
    private static void presign(List<Sender> senders, int from, int count) {
        senders.parallelStream().forEach(s -> {
            for (int i = from; i < from + count; i++) {
                s.signatures[i] = s.requests[i].sign(s.identity, Instant.now());
                s.signedAtNanos[i] = System.nanoTime();
            }
        });
    }

    /** Sends requests [from, from + count) of every sender, one thread per sender, all released at once. */
    private static Phase phase(List<Sender> senders, int from, int count, boolean signInline) throws Exception {
        CyclicBarrier start = new CyclicBarrier(senders.size() + 1);
        List<Thread> threads = new ArrayList<>();
        Throwable[] died = new Throwable[senders.size()];
        for (int t = 0; t < senders.size(); t++) {
            Sender s = senders.get(t);
            s.latencies = new long[count];
            s.ok = 0;
            s.duplicates = 0;
            s.resigned = 0;
            int index = t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    send(s, from, count, signInline);
                } catch (Throwable e) {
                    died[index] = e;
                }
            }, s.name);
            th.setDaemon(true);
            threads.add(th);
            th.start();
        }
        start.await();
        long begin = System.nanoTime();
        for (Thread th : threads) {
            th.join();
        }
        long wall = System.nanoTime() - begin;
        for (int t = 0; t < died.length; t++) {
            if (died[t] != null) {
                throw new IllegalStateException(senders.get(t).name + " died", died[t]);
            }
        }
        long[] all = senders.stream().flatMapToLong(s -> Arrays.stream(s.latencies)).toArray();
        return new Phase(wall, all, senders.stream().mapToInt(s -> s.ok).sum(), senders.stream().mapToInt(s -> s.duplicates).sum(),
                senders.stream().mapToInt(s -> s.resigned).sum());
    }

    private static void send(Sender s, int from, int count, boolean signInline) {
        long resignAfter = RESIGN_AFTER.toNanos();
        for (int k = 0; k < count; k++) {
            int i = from + k;
            AuthorityClient.Prepared request = s.requests[i];
            Map<String, String> headers = s.signatures[i];
            if (signInline || headers == null || System.nanoTime() - s.signedAtNanos[i] > resignAfter) {
                if (!signInline) {
                    s.resigned++;
                }
                headers = request.sign(s.identity, Instant.now());
            }
            long t0 = System.nanoTime();
            try {
                int status;
                String error;
                if (s.lean != null) {
                    KeepAliveHttps.Answer a = s.lean.post(request.path(), request.body(), headers);
                    status = a.status();
                    error = status / 100 == 2 ? null : new String(a.body(), StandardCharsets.UTF_8);
                } else {
                    AuthorityClient.Response r = s.client.send(request, headers);
                    status = r.status();
                    error = r.ok() ? null : r.error();
                }
                s.latencies[k] = System.nanoTime() - t0;
                if (status / 100 == 2) {
                    s.ok++;
                    if (status == 200) {
                        s.duplicates++;
                    }
                } else {
                    NON_2XX.incrementAndGet();
                    note(s.name + " escrow #" + i + ": HTTP " + status + " " + error);
                }
            } catch (IOException e) {
                s.latencies[k] = System.nanoTime() - t0;
                TRANSPORT_ERRORS.incrementAndGet();
                note(s.name + " escrow #" + i + ": " + e.getMessage());
            } catch (KeywayException e) {
                s.latencies[k] = System.nanoTime() - t0;
                TRANSPORT_ERRORS.incrementAndGet();
                note(s.name + " escrow #" + i + ": " + e.getMessage());
            }
            s.signatures[i] = null;
        }
    }

    /**
     * User + system CPU time of a process from /proc/PID/stat (fields 14 and 15, in USER_HZ = 100 ticks per
     * second on Linux), or -1 where there is no /proc.
     */
    static long cpuNanos(String pid) {
        try {
            String stat = Files.readString(Path.of("/proc", pid, "stat"));
            // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return ticks * 10_000_000L;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static void note(String error) {
        if (FIRST_ERRORS.size() < 10) {
            FIRST_ERRORS.add(error);
        }
    }

    private static long[] sorted(long[] a) {
        long[] c = a.clone();
        Arrays.sort(c);
        return c;
    }

    /** Nearest-rank percentile of a sorted array (0 when empty). */
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static long max(long[] sorted) {
        return sorted.length == 0 ? 0 : sorted[sorted.length - 1];
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
