package dev.keyway.bench;

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
import dev.keyway.tls.params.Ticket;

import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
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
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Remote sessions, end to end over loopback, through the Java API ({@link RemoteClient}, {@link RemoteSession}):
 * the numbers {@code bench/remote-vs-ssh.sh} puts next to OpenSSH's. Three modes:
 *
 * <ul>
 *   <li>{@code roundtrip}: one open session; {@code true} run again and again for {@code --seconds} after
 *       {@code --warmup} seconds; per command (RUN and STDIN_END out, EXIT with the host's signed receipt back, the
 *       receipt checked): median, p99, mean. The ssh counterpart is {@code ssh -o ControlPath=... host true} over a
 *       ControlMaster that is already up.</li>
 *   <li>{@code reattach}: for each group in {@code --groups}, a session is opened once and detached; then
 *       {@code --count} times each, all kinds of all groups interleaved, a <em>resumed</em> attach (the newest ticket the host gave:
 *       TCP connect, resumed TLS 1.3 handshake, HELLO with the identity's signature over the exporter, WELCOME, ATTACH,
 *       SESSION) and a <em>full</em> one (no ticket: certificates and CertificateVerify both ways), each followed by
 *       DETACH/OK and close. Every resumed attach is checked to have resumed, every full one not, and both to have
 *       used the group asked for. Reported per kind: the attach (connect to the SESSION reply) and the whole cycle
 *       (attach, detach, close).</li>
 *   <li>{@code fanout}: one session per host is opened; then each round attaches to all of them at once (one thread per
 *       host, as {@code keyway remote run} does with its default throttle of 32), runs {@code true} in each, detaches;
 *       {@code --warmup-rounds} rounds are not counted, {@code --rounds} are. Reported: the wall time of a round. This
 *       is {@code keyway remote run NAME -- true} without the CLI's JVM start (the script times the CLI itself).</li>
 * </ul>
 *
 * <p>Hosts: with {@code --connect HOST:PORT[,...]} the harness talks to running {@code keyway remote serve} processes,
 * with the identity {@code --identity} (allowed there in configuration {@code default}) and the hosts' certificates
 * {@code --cacert} (one PEM, several certificates allowed). Without it, it starts the hosts in this process
 * ({@link RemoteHost} on 127.0.0.1, port 0, host directories in a temporary directory, a fresh x25519 identity);
 * {@code --hosts N} of them in the fan-out mode, one otherwise. In-process hosts share this JVM's two cores and JIT
 * with the client: the script uses {@code --connect} so that the host is a process of its own, as sshd is.
 *
 * <p>Not JMH: each measured operation is a whole network exchange with another process (milliseconds, not
 * nanoseconds), so a plain loop with a warm-up and {@link System#nanoTime()} around each operation is enough, and it
 * gives the latency distribution (median, p99) rather than a mean throughput. Percentiles are nearest-rank.
 *
 * <p>Output: a readable line per measurement, then one {@code RESULT key=value ...} line each (times in ms) for the
 * script. Every session the harness opens is removed at the end. Exit status: 0 when every operation succeeded and
 * its checks held, 1 otherwise, 2 on a usage error.
 */
public final class RemoteBench {
    private static final SecureRandom RANDOM = new SecureRandom();

    private RemoteBench() {
    }

    static final class Options {
        String mode;
        int seconds = 10;
        int warmup = 3;
        List<NamedGroup> groups = List.of(NamedGroup.X25519, NamedGroup.X25519MLKEM768);
        int count = 200;
        int hosts = 32;
        int rounds = 10;
        int warmupRounds = 3;
        List<RemoteClient.HostAddress> connect = List.of();
        Path identity;
        Path cacert;
        List<Long> hostPids = List.of();
    }

    static final String USAGE = String.join("\n",
            "usage: RemoteBench --mode roundtrip|reattach|fanout [options]",
            "",
            "  --mode roundtrip     `true` again and again in one open session: median, p99, mean per command",
            "  --mode reattach      resumed attach (saved ticket) against full attach (no ticket), per group",
            "  --mode fanout        `true` in one session on each of N hosts at once, per round",
            "  --seconds S          roundtrip: measured seconds (default 10)",
            "  --warmup S           roundtrip: seconds of warm-up, not counted (default 3);",
            "                       reattach: warm-up attaches of each kind, not counted (default count/4)",
            "  --groups G[,G]       reattach: x25519 and/or X25519MLKEM768, measured in this order (default both)",
            "  --count N            reattach: attaches of each kind per group (default 200)",
            "  --hosts N            fanout without --connect: hosts started in this process (default 32)",
            "  --rounds N           fanout: measured rounds (default 10)",
            "  --warmup-rounds N    fanout: rounds not counted (default 3)",
            "  --connect H:P[,H:P]  use running 'keyway remote serve' hosts (fanout: all; otherwise the first)",
            "  --identity FILE      with --connect: the identity allowed there (configuration default)",
            "  --cacert PEM         with --connect: the hosts' certificates (several in one file is fine)",
            "  --host-pids P[,P]    with --connect: the hosts' process ids; roundtrip and fanout then also report the",
            "                       CPU time the hosts used (the processes and their descendants, from /proc)",
            "  --help               this text",
            "",
            "Exit status 1 when an operation failed or a check did not hold, 2 on a usage error.");

    public static void main(String[] args) {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException | KeywayException e) {
            System.err.println("RemoteBench: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(USAGE);
            return;
        }
        try {
            switch (o.mode) {
                case "roundtrip" -> roundtrip(o);
                case "reattach" -> reattach(o);
                case "fanout" -> fanout(o);
                default -> throw new IllegalStateException(o.mode);
            }
            System.exit(0);
        } catch (KeywayException e) {
            System.err.println("RemoteBench: " + e.oneLine());
            System.exit(1);
        } catch (IllegalStateException | IOException | UncheckedIOException e) {
            System.err.println("RemoteBench: " + e.getMessage());
            System.exit(1);
        } catch (InterruptedException e) {
            System.err.println("RemoteBench: interrupted");
            System.exit(1);
        }
    }

    static Options parse(String[] args) {
        Options o = new Options();
        boolean warmupGiven = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            if (a.equals("-h") || a.equals("--help")) {
                return null;
            }
            if (!List.of("--mode", "--seconds", "--warmup", "--groups", "--count", "--hosts", "--rounds", "--warmup-rounds",
                    "--connect", "--identity", "--cacert", "--host-pids").contains(a)) {
                throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(a + " needs a value");
                }
                value = args[++i];
            }
            switch (a) {
                case "--mode" -> {
                    if (!List.of("roundtrip", "reattach", "fanout").contains(value)) {
                        throw new IllegalArgumentException("--mode must be roundtrip, reattach or fanout, not '" + value + "'");
                    }
                    o.mode = value;
                }
                case "--seconds" -> o.seconds = number(a, value, 1);
                case "--warmup" -> {
                    o.warmup = number(a, value, 0);
                    warmupGiven = true;
                }
                case "--groups" -> {
                    List<NamedGroup> g = new ArrayList<>();
                    for (String s : value.split(",")) {
                        NamedGroup n = NamedGroup.parse(s);
                        if (n != NamedGroup.X25519 && n != NamedGroup.X25519MLKEM768) {
                            throw new IllegalArgumentException("--groups takes x25519 and X25519MLKEM768 (the groups a remote host offers), not " + s);
                        }
                        g.add(n);
                    }
                    o.groups = List.copyOf(g);
                }
                case "--count" -> o.count = number(a, value, 1);
                case "--hosts" -> o.hosts = number(a, value, 1);
                case "--rounds" -> o.rounds = number(a, value, 1);
                case "--warmup-rounds" -> o.warmupRounds = number(a, value, 0);
                case "--connect" -> o.connect = Stream.of(value.split(",")).map(RemoteClient.HostAddress::parse).toList();
                case "--identity" -> o.identity = Path.of(value);
                case "--cacert" -> o.cacert = Path.of(value);
                case "--host-pids" -> {
                    String opt = a;
                    o.hostPids = Stream.of(value.split(",")).map(v -> (long) number(opt, v, 1)).toList();
                }
                default -> throw new IllegalStateException(a);
            }
        }
        if (o.mode == null) {
            throw new IllegalArgumentException("--mode is required");
        }
        if (!o.connect.isEmpty() && (o.identity == null || o.cacert == null)) {
            throw new IllegalArgumentException("--connect needs --identity and --cacert");
        }
        if (o.connect.isEmpty() && (o.identity != null || o.cacert != null || !o.hostPids.isEmpty())) {
            throw new IllegalArgumentException("--identity, --cacert and --host-pids go with --connect (in-process hosts make their own)");
        }
        if (o.mode.equals("reattach") && !warmupGiven) {
            o.warmup = Math.max(1, o.count / 4);
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
        if (v < min || v > 100_000_000) {
            throw new IllegalArgumentException(option + " must be " + min + " to 100000000, not " + v);
        }
        return v;
    }

    // ---------------------------------------------------------------------------------------------
    // Hosts: running ones (--connect) or started here.

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

    private static String sessionName(String what) {
        byte[] b = new byte[4];
        RANDOM.nextBytes(b);
        return "bench-" + what + "-" + HexFormat.of().formatHex(b);
    }

    private static void runTrue(RemoteSession s) {
        RemoteSession.RunResult r = s.run(List.of("true"), Map.of(), null, OutputStream.nullOutputStream(), OutputStream.nullOutputStream());
        if (r.exit() != 0) {
            throw new IllegalStateException("`true` exited " + r.exit() + " on " + s.info().host());
        }
    }

    /** Removes a session by attaching to it (used at the end; failures are reported, not fatal). */
    private static void removeQuietly(RemoteClient client, RemoteClient.HostAddress a, String id) {
        try (RemoteSession s = client.attach(a, id, null, true)) {
            s.remove();
        } catch (KeywayException e) {
            System.err.println("RemoteBench: could not remove session " + id + " on " + a + ": " + e.oneLine());
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The modes.

    static void roundtrip(Options o) throws IOException {
        try (Hosts h = Hosts.of(o, 1)) {
            RemoteClient client = h.client(null);
            RemoteClient.HostAddress a = h.addresses.get(0);
            String id;
            long[] lat = new long[1 << 16];
            int n = 0;
            long measured;
            long clientCpu;
            long hostCpu;
            try (RemoteSession s = client.open(a, sessionName("rt"), "default")) {
                id = s.info().id();
                try {
                    long end = System.nanoTime() + o.warmup * 1_000_000_000L;
                    int warm = 0;
                    while (System.nanoTime() < end || warm == 0) {
                        runTrue(s);
                        warm++;
                    }
                    long cpu0 = ownCpuNanos();
                    long host0 = o.hostPids.isEmpty() ? -1 : treeCpuNanos(o.hostPids);
                    long start = System.nanoTime();
                    end = start + o.seconds * 1_000_000_000L;
                    long now = start;
                    while (now < end) {
                        long t0 = System.nanoTime();
                        runTrue(s);
                        now = System.nanoTime();
                        if (n == lat.length) {
                            lat = Arrays.copyOf(lat, n * 2);
                        }
                        lat[n++] = now - t0;
                    }
                    measured = now - start;
                    clientCpu = ownCpuNanos() - cpu0;
                    hostCpu = host0 < 0 ? -1 : treeCpuNanos(o.hostPids) - host0;
                    System.out.printf(Locale.ROOT, "roundtrip: %s, session %s (%s), %d warm-up commands in %d s%n",
                            a, id, s.group(), warm, o.warmup);
                } finally {
                    s.remove();
                }
            }
            Stats st = Stats.of(Arrays.copyOf(lat, n));
            System.out.printf(Locale.ROOT, "roundtrip: %d x `true` in %.1f s: median %.3f ms, p99 %.3f ms, mean %.3f ms (min %.3f, max %.3f);"
                            + " CPU per command: client %s ms, host %s ms%n",
                    n, measured / 1e9, st.median, st.p99, st.mean, st.min, st.max, cpu(clientCpu, n), cpu(hostCpu, n));
            System.out.printf(Locale.ROOT, "RESULT mode=roundtrip n=%d median_ms=%.3f p99_ms=%.3f mean_ms=%.3f min_ms=%.3f max_ms=%.3f"
                            + " client_cpu_ms=%s host_cpu_ms=%s%n",
                    n, st.median, st.p99, st.mean, st.min, st.max, cpu(clientCpu, n), cpu(hostCpu, n));
        }
    }

    static void reattach(Options o) throws IOException {
        try (Hosts h = Hosts.of(o, 1)) {
            RemoteClient.HostAddress a = h.addresses.get(0);
            int groups = o.groups.size();
            RemoteClient[] clients = new RemoteClient[groups];
            String[] ids = new String[groups];
            Ticket[][] tickets = new Ticket[groups][1];
            try {
                for (int g = 0; g < groups; g++) {
                    clients[g] = h.client(List.of(o.groups.get(g)));
                    try (RemoteSession s = clients[g].open(a, sessionName("ra"), "default")) {
                        ids[g] = s.info().id();
                        tickets[g][0] = s.ticket();
                    }
                    if (tickets[g][0] == null) {
                        throw new IllegalStateException(a + " gave no session ticket");
                    }
                }
                // kind k: group k / 2, resumed when k is even; every iteration runs each kind once, starting with a
                // different one each time, so that no kind always follows another or runs on a colder JVM
                int kinds = 2 * groups;
                long[][] attach = new long[kinds][o.count];
                long[][] cycle = new long[kinds][o.count];
                for (int i = 0; i < o.warmup; i++) {
                    for (int k = 0; k < kinds; k++) {
                        once(clients[k / 2], a, ids[k / 2], tickets[k / 2], k % 2 == 0, o.groups.get(k / 2), null, null, 0);
                    }
                }
                for (int i = 0; i < o.count; i++) {
                    for (int j = 0; j < kinds; j++) {
                        int k = (i + j) % kinds;
                        once(clients[k / 2], a, ids[k / 2], tickets[k / 2], k % 2 == 0, o.groups.get(k / 2), attach[k], cycle[k], i);
                    }
                }
                for (int k = 0; k < kinds; k++) {
                    String kind = k % 2 == 0 ? "resumed" : "full";
                    NamedGroup g = o.groups.get(k / 2);
                    Stats at = Stats.of(attach[k]);
                    Stats cy = Stats.of(cycle[k]);
                    System.out.printf(Locale.ROOT, "reattach %s/%s: %d attaches after %d warm-up: attach median %.3f ms, p99 %.3f ms, mean %.3f ms;"
                                    + " attach+detach+close median %.3f ms, p99 %.3f ms%n",
                            kind, g.label(), o.count, o.warmup, at.median, at.p99, at.mean, cy.median, cy.p99);
                    System.out.printf(Locale.ROOT, "RESULT mode=reattach kind=%s group=%s n=%d median_ms=%.3f p99_ms=%.3f mean_ms=%.3f"
                                    + " cycle_median_ms=%.3f cycle_p99_ms=%.3f%n",
                            kind, g.label(), o.count, at.median, at.p99, at.mean, cy.median, cy.p99);
                }
            } finally {
                for (int g = 0; g < groups; g++) {
                    if (ids[g] != null) {
                        removeQuietly(clients[g], a, ids[g]);
                    }
                }
            }
        }
    }

    /** One attach and detach; checks resumption and group; records the times when {@code attach} is given. */
    private static void once(RemoteClient client, RemoteClient.HostAddress a, String id, Ticket[] ticket, boolean resume, NamedGroup g,
                             long[] attach, long[] cycle, int i) {
        long t0 = System.nanoTime();
        RemoteSession s = client.attach(a, id, resume ? ticket[0] : null, false);
        long t1 = System.nanoTime();
        s.close();
        long t2 = System.nanoTime();
        if (s.resumed() != resume) {
            throw new IllegalStateException((resume ? "a resumed attach did a full handshake" : "a full attach resumed") + " (" + a + ")");
        }
        if (!s.group().equals(g.name())) {
            throw new IllegalStateException("the attach used " + s.group() + ", not " + g.name());
        }
        Ticket next = s.ticket();
        if (next != null) {
            ticket[0] = next; // the newest, as the CLI keeps it in the registry
        }
        if (attach != null) {
            attach[i] = t1 - t0;
            cycle[i] = t2 - t0;
        }
    }

    static void fanout(Options o) throws IOException, InterruptedException {
        try (Hosts h = Hosts.of(o, o.hosts)) {
            int n = h.addresses.size();
            RemoteClient client = h.client(null); // the CLI's default groups: X25519MLKEM768 first
            ExecutorService pool = Executors.newFixedThreadPool(n, r -> {
                Thread t = new Thread(r, "remote-bench-fanout");
                t.setDaemon(true);
                return t;
            });
            String[] ids = new String[n];
            Ticket[] tickets = new Ticket[n];
            try {
                String name = sessionName("fan");
                each(pool, n, i -> {
                    try (RemoteSession s = client.open(h.addresses.get(i), name, "default")) {
                        ids[i] = s.info().id();
                        tickets[i] = s.ticket();
                    }
                    return false;
                });
                long[] walls = new long[o.rounds];
                int notResumed = 0;
                long clientCpu = 0;
                long hostCpu = 0;
                for (int r = -o.warmupRounds; r < o.rounds; r++) {
                    long cpu0 = ownCpuNanos();
                    long host0 = o.hostPids.isEmpty() ? -1 : treeCpuNanos(o.hostPids);
                    long t0 = System.nanoTime();
                    List<Boolean> resumed = each(pool, n, i -> {
                        try (RemoteSession s = client.attach(h.addresses.get(i), ids[i], tickets[i], false)) {
                            runTrue(s);
                            Ticket t = s.ticket();
                            if (t != null) {
                                tickets[i] = t;
                            }
                            return s.resumed();
                        }
                    });
                    long wall = System.nanoTime() - t0;
                    if (r >= 0) {
                        clientCpu += ownCpuNanos() - cpu0;
                        hostCpu = host0 < 0 || hostCpu < 0 ? -1 : hostCpu + treeCpuNanos(o.hostPids) - host0;
                        walls[r] = wall;
                        notResumed += (int) resumed.stream().filter(b -> !b).count();
                    }
                }
                Stats st = Stats.of(walls);
                System.out.printf(Locale.ROOT, "fanout: `true` on %d hosts at once (attach with the saved ticket, run, detach), %d rounds after %d warm-up:"
                                + " median %.1f ms, p99 %.1f ms, min %.1f ms, max %.1f ms; %d of %d attaches not resumed;"
                        + " CPU per round: client %s ms, hosts %s ms%n",
                        n, o.rounds, o.warmupRounds, st.median, st.p99, st.min, st.max, notResumed, n * o.rounds,
                        cpu(clientCpu, o.rounds), cpu(hostCpu, o.rounds));
                System.out.printf(Locale.ROOT, "RESULT mode=fanout hosts=%d n=%d median_ms=%.3f p99_ms=%.3f min_ms=%.3f max_ms=%.3f not_resumed=%d"
                        + " client_cpu_ms=%s host_cpu_ms=%s%n",
                        n, o.rounds, st.median, st.p99, st.min, st.max, notResumed, cpu(clientCpu, o.rounds), cpu(hostCpu, o.rounds));
            } finally {
                for (int i = 0; i < n; i++) {
                    if (ids[i] != null) {
                        removeQuietly(client, h.addresses.get(i), ids[i]);
                    }
                }
                pool.shutdownNow();
            }
        }
    }

    interface Task<T> {
        T call(int i) throws IOException;
    }

    /** Runs {@code task} for 0..n-1 on the pool, all at once; the first failure is thrown after all have ended. */
    private static <T> List<T> each(ExecutorService pool, int n, Task<T> task) throws InterruptedException {
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
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
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

    private static String cpu(long nanos, long ops) {
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
