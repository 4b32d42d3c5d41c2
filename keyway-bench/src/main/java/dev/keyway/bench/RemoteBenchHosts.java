package dev.keyway.bench;

import com.sun.management.OperatingSystemMXBean;
import dev.keyway.bench.RemoteBench.Options;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.IdentityFile;
import dev.keyway.core.identity.KeyType;
import dev.keyway.remote.HostDir;
import dev.keyway.remote.RemoteClient;
import dev.keyway.remote.RemoteHost;
import dev.keyway.remote.RemoteSession;
import dev.keyway.tls.cert.Pem;
import dev.keyway.tls.params.NamedGroup;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static dev.keyway.bench.RemoteBench.RANDOM;

/**
 * What {@link RemoteBench}'s modes stand on: the hosts (running ones given with {@code --connect}, or started in
 * this JVM), session helpers, a pool that runs one task per host, and the CPU readings and latency statistics.
 */
final class RemoteBenchHosts {
    private RemoteBenchHosts() {
    }

    /** The hosts to talk to, the identity and the trust to do it with; closing stops hosts started here. */
    static final class Hosts implements Closeable {
        final List<RemoteClient.HostAddress> addresses = new ArrayList<>();
        final List<X509Certificate> trust = new ArrayList<>();
        final Identity identity;
        private final List<RemoteHost> started = new ArrayList<>();
        private final Path tmp;

        private Hosts(Identity identity, Path tmp) {
            this.identity = identity;
            this.tmp = tmp;
        }

        static Hosts of(Options o, int inProcess) throws IOException {
            if (!o.connect.isEmpty()) {
                Identity id = IdentityFile.read(o.identity, f -> {
                    throw KeywayException.usage(f + " is encrypted", "give the harness an unencrypted identity");
                });
                Hosts h = new Hosts(id, null);
                h.addresses.addAll(o.connect);
                h.trust.addAll(Pem.readCertificates(Files.readAllBytes(o.cacert)));
                return h;
            }
            Path tmp = Files.createTempDirectory("keyway-remote-bench");
            Hosts h = new Hosts(Identity.generate(KeyType.X25519), tmp);
            try {
                for (int i = 0; i < inProcess; i++) {
                    Path d = tmp.resolve("host" + i);
                    h.trust.add(HostDir.init(d, null, null, List.of("IP:127.0.0.1", "DNS:localhost")));
                    HostDir dir = HostDir.open(d);
                    dir.allow("bench", h.identity.recipient(), "default");
                    RemoteHost host = RemoteHost.start(dir, new InetSocketAddress("127.0.0.1", 0), RemoteHost.Options.defaults());
                    h.started.add(host);
                    h.addresses.add(new RemoteClient.HostAddress("127.0.0.1", host.address().getPort()));
                }
            } catch (IOException | RuntimeException e) {
                h.close();
                throw e;
            }
            System.out.println("hosts: " + inProcess + " started in this process (RemoteHost on 127.0.0.1)");
            return h;
        }

        RemoteClient client(List<NamedGroup> groups) {
            RemoteClient.Builder b = RemoteClient.builder().identity(identity).trust(trust);
            if (groups != null) {
                b.groups(groups);
            }
            return b.build();
        }

        @Override
        public void close() {
            started.forEach(RemoteHost::close);
            if (tmp != null) {
                try (Stream<Path> all = Files.walk(tmp)) {
                    all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException ignored) {
                    // a temporary directory
                }
            }
        }
    }

    static String sessionName(String what) {
        byte[] b = new byte[4];
        RANDOM.nextBytes(b);
        return "bench-" + what + "-" + HexFormat.of().formatHex(b);
    }

    static void runTrue(RemoteSession s) {
        RemoteSession.RunResult r = s.run(List.of("true"), Map.of(), null, OutputStream.nullOutputStream(), OutputStream.nullOutputStream());
        if (r.exit() != 0) {
            throw new IllegalStateException("`true` exited " + r.exit() + " on " + s.info().host());
        }
    }

    /** Removes a session by attaching to it (used at the end; failures are reported, not fatal). */
    static void removeQuietly(RemoteClient client, RemoteClient.HostAddress a, String id) {
        try (RemoteSession s = client.attach(a, id, null, true)) {
            s.remove();
        } catch (KeywayException e) {
            System.err.println("RemoteBench: could not remove session " + id + " on " + a + ": " + e.oneLine());
        }
    }

    interface Task<T> {
        T call(int i) throws IOException;
    }

    /** Runs {@code task} for 0..n-1 on the pool, all at once; the first failure is thrown after all have ended. */
    static <T> List<T> each(ExecutorService pool, int n, Task<T> task) throws InterruptedException {
        List<Future<T>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = i;
            fs.add(pool.submit(() -> task.call(k)));
        }
        List<T> out = new ArrayList<>();
        RuntimeException first = null;
        for (Future<T> f : fs) {
            try {
                out.add(f.get());
            } catch (ExecutionException e) {
                if (first == null) {
                    first = e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(String.valueOf(e.getCause()), e.getCause());
                }
            }
        }
        if (first != null) {
            throw first;
        }
        return out;
    }

    /** CPU time (user + system) of this JVM so far, ns: every thread, the JIT and GC included. */
    static long ownCpuNanos() {
        return ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /**
     * CPU time (user + system) of the given processes and all their descendants, ns, from /proc/PID/stat: utime, stime
     * and the cutime, cstime of children already waited for (a finished child's time moves there, so the sum does not
     * lose it). Linux's USER_HZ, the unit of those fields, is 100 on every architecture the JDK runs on. -1 when
     * there is no /proc or no such process.
     */
    static long treeCpuNanos(List<Long> pids) {
        long ticks = 0;
        for (long pid : pids) {
            ProcessHandle root = ProcessHandle.of(pid).orElse(null);
            if (root == null) {
                return -1;
            }
            List<ProcessHandle> all = new ArrayList<>();
            all.add(root);
            root.descendants().forEach(all::add);
            for (ProcessHandle p : all) {
                try {
                    String stat = Files.readString(Path.of("/proc/" + p.pid() + "/stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
                } catch (IOException | RuntimeException e) {
                    // it ended between the listing and the read: its time is in its parent's cutime by now, or soon
                }
            }
        }
        return ticks * 10_000_000L;
    }

    static String cpu(long nanos, long ops) {
        return nanos < 0 ? "nan" : String.format(Locale.ROOT, "%.3f", nanos / 1e6 / ops);
    }

    /** Nearest-rank percentiles of nanosecond samples, in milliseconds. */
    record Stats(double median, double p99, double mean, double min, double max) {
        static Stats of(long[] ns) {
            long[] s = ns.clone();
            Arrays.sort(s);
            double sum = 0;
            for (long v : s) {
                sum += v;
            }
            return new Stats(rank(s, 50) / 1e6, rank(s, 99) / 1e6, sum / s.length / 1e6, s[0] / 1e6, s[s.length - 1] / 1e6);
        }

        private static long rank(long[] sorted, int p) {
            int k = (int) Math.ceil(p / 100.0 * sorted.length);
            return sorted[Math.max(0, k - 1)];
        }
    }
}
