package dev.keyway.bench;

import dev.keyway.core.KeywayException;
import dev.keyway.remote.RemoteClient;
import dev.keyway.remote.RemoteHost;
import dev.keyway.remote.RemoteSession;
import dev.keyway.tls.params.NamedGroup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.keyway.bench.RemoteBenchModes.fanout;
import static dev.keyway.bench.RemoteBenchModes.reattach;
import static dev.keyway.bench.RemoteBenchModes.roundtrip;
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
    static final SecureRandom RANDOM = new SecureRandom();

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
}
