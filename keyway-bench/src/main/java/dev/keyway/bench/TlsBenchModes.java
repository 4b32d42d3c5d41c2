package dev.keyway.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.keyway.bench.TlsBench.Options;
import dev.keyway.bench.TlsBenchImpls.Client;
import dev.keyway.bench.TlsBenchImpls.Conn;
import dev.keyway.bench.TlsBenchImpls.Impl;
import dev.keyway.bench.TlsBenchImpls.KeywayLoopImpl;
import dev.keyway.bench.TlsBenchServer.Listening;
import dev.keyway.bench.TlsBenchServer.Server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;

import static dev.keyway.bench.TlsBench.WRITE;
import static dev.keyway.bench.TlsBenchServer.SINK_CPU;
import static dev.keyway.bench.TlsBenchServer.bulkSink;
import static dev.keyway.bench.TlsBenchServer.closeQuietly;

/**
 * {@link TlsBench}'s measurements: the handshake modes (full, resumed) with their latencies and resumption checks,
 * the bulk mode, and the CPU and load readings every result carries.
 */
final class TlsBenchModes {
    private TlsBenchModes() {
    }

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

    static final ConcurrentLinkedQueue<String> CLIENT_ERRORS = new ConcurrentLinkedQueue<>();

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
        try (Listening server = impl instanceof KeywayLoopImpl loop ? loop.listen(0) : new Server(impl, TlsBenchServer::echo, o.serverThreads, o.noDelay)) {
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

    static void bulkRound(OutputStream out, InputStream in, byte[] data, long round) throws IOException {
        for (long sent = 0; sent < round; sent += data.length) {
            out.write(data, 0, (int) Math.min(data.length, round - sent));
        }
        out.flush();
        if (in.read() != 1) {
            throw new IOException("the server did not acknowledge a bulk round");
        }
    }

    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    /** CPU time of this whole JVM (clients, servers, JIT, GC), or 0 when the platform does not say. */
    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof OperatingSystemMXBean os) {
            return Math.max(0, os.getProcessCpuTime());
        }
        return 0;
    }

    static long threadCpuNanos() {
        ThreadMXBean t = ManagementFactory.getThreadMXBean();
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
}
