package dev.keyway.bench;

import dev.keyway.bench.RemoteBench.Options;
import dev.keyway.bench.RemoteBenchHosts.Hosts;
import dev.keyway.bench.RemoteBenchHosts.Stats;
import dev.keyway.remote.RemoteClient;
import dev.keyway.remote.RemoteSession;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static dev.keyway.bench.RemoteBenchHosts.cpu;
import static dev.keyway.bench.RemoteBenchHosts.each;
import static dev.keyway.bench.RemoteBenchHosts.ownCpuNanos;
import static dev.keyway.bench.RemoteBenchHosts.removeQuietly;
import static dev.keyway.bench.RemoteBenchHosts.runTrue;
import static dev.keyway.bench.RemoteBenchHosts.sessionName;
import static dev.keyway.bench.RemoteBenchHosts.treeCpuNanos;

/**
 * {@link RemoteBench}'s three modes: {@code roundtrip} (commands in one session), {@code reattach} (attach and detach,
 * full and resumed, per group) and {@code fanout} (one attach per host, all at once, round after round).
 */
final class RemoteBenchModes {
    private RemoteBenchModes() {
    }

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
                    n, measured / 1e9, st.median(), st.p99(), st.mean(), st.min(), st.max(), cpu(clientCpu, n), cpu(hostCpu, n));
            System.out.printf(Locale.ROOT, "RESULT mode=roundtrip n=%d median_ms=%.3f p99_ms=%.3f mean_ms=%.3f min_ms=%.3f max_ms=%.3f"
                            + " client_cpu_ms=%s host_cpu_ms=%s%n",
                    n, st.median(), st.p99(), st.mean(), st.min(), st.max(), cpu(clientCpu, n), cpu(hostCpu, n));
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
                            kind, g.label(), o.count, o.warmup, at.median(), at.p99(), at.mean(), cy.median(), cy.p99());
                    System.out.printf(Locale.ROOT, "RESULT mode=reattach kind=%s group=%s n=%d median_ms=%.3f p99_ms=%.3f mean_ms=%.3f"
                                    + " cycle_median_ms=%.3f cycle_p99_ms=%.3f%n",
                            kind, g.label(), o.count, at.median(), at.p99(), at.mean(), cy.median(), cy.p99());
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
    static void once(RemoteClient client, RemoteClient.HostAddress a, String id, Ticket[] ticket, boolean resume, NamedGroup g,
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
                        n, o.rounds, o.warmupRounds, st.median(), st.p99(), st.min(), st.max(), notResumed, n * o.rounds,
                        cpu(clientCpu, o.rounds), cpu(hostCpu, o.rounds));
                System.out.printf(Locale.ROOT, "RESULT mode=fanout hosts=%d n=%d median_ms=%.3f p99_ms=%.3f min_ms=%.3f max_ms=%.3f not_resumed=%d"
                        + " client_cpu_ms=%s host_cpu_ms=%s%n",
                        n, o.rounds, st.median(), st.p99(), st.min(), st.max(), notResumed, cpu(clientCpu, o.rounds), cpu(hostCpu, o.rounds));
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
}
