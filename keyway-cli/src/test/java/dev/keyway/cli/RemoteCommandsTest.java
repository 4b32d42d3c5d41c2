package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.remote.HostDir;
import dev.keyway.remote.RemoteHost;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code keyway remote} as a user runs it: hosts are {@link RemoteHost}s in this JVM on free ports (made with
 * {@code remote init} and {@code remote allow}, their configurations working in temporary directories), the client
 * commands run in process with their registry in the test's directory; one test runs real {@code remote serve}
 * processes and kills client processes with SIGKILL.
 */
@Timeout(120)
class RemoteCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;
    Path alice;
    Path bob;
    String aliceRecipient;
    String bobRecipient;
    Path registry;
    final List<Host> hosts = new ArrayList<>();
    InputStream savedIn;
    OutputStream savedOut;
    OutputStream savedErr;

    /** A host directory, its configurations' working directory, and its service in this JVM (or null). */
    record Host(String name, Path dir, Path work, RemoteHost server) {
        String addr() {
            return "127.0.0.1:" + server.address().getPort();
        }

        Path cert() {
            return dir.resolve("tls.crt");
        }
    }

    /** What a command printed: picocli's text (Keyway's own messages) and the raw remote bytes. */
    record Run(int exit, String out, String err, byte[] stdout, byte[] stderr) {
        String stdoutText() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        String stderrText() {
            return new String(stderr, StandardCharsets.UTF_8);
        }
    }

    @BeforeEach
    void identities() {
        savedIn = StdStreams.in;
        savedOut = StdStreams.out;
        savedErr = StdStreams.err;
        alice = tmp.resolve("alice.key");
        bob = tmp.resolve("bob.key");
        ok(Cli.run("keygen", "-o", alice.toString()));
        ok(Cli.run("keygen", "-o", bob.toString()));
        aliceRecipient = ok(Cli.run("pubkey", "-i", alice.toString())).out().strip();
        bobRecipient = ok(Cli.run("pubkey", "-i", bob.toString())).out().strip();
        registry = tmp.resolve("registry.json");
    }

    @AfterEach
    void restore() {
        hosts.forEach(h -> {
            if (h.server() != null) {
                h.server().close();
            }
        });
        StdStreams.in = savedIn;
        StdStreams.out = savedOut;
        StdStreams.err = savedErr;
    }

    static Cli.Result ok(Cli.Result r) {
        assertThat(r.exit()).as(r.err()).isZero();
        return r;
    }

    static Run ok(Run r) {
        assertThat(r.exit()).as(r.err() + r.stderrText()).isZero();
        return r;
    }

    /** A host directory made with 'remote init', alice allowed, its default configuration working in NAME-work. */
    Host hostDir(String name) throws IOException {
        Path dir = tmp.resolve(name);
        Path work = Files.createDirectories(tmp.resolve(name + "-work"));
        ok(Cli.run("remote", "init", "--dir", dir.toString()));
        config(dir, work, "default", c -> { });
        ok(Cli.run("remote", "allow", "--dir", dir.toString(), "--client", aliceRecipient, "--name", "alice"));
        return new Host(name, dir, work, null);
    }

    /** A host directory with its service running in this JVM. */
    Host host(String name) throws IOException {
        Host h = hostDir(name);
        Host running = new Host(name, h.dir(), h.work(), RemoteHost.start(HostDir.open(h.dir()), new InetSocketAddress("127.0.0.1", 0),
                RemoteHost.Options.defaults()));
        hosts.add(running);
        return running;
    }

    /** Writes configurations/NAME.json: the default's fields, working in {@code work}, changed by {@code edit}. */
    static void config(Path dir, Path work, String name, Consumer<ObjectNode> edit) throws IOException {
        ObjectNode c = (ObjectNode) JSON.readTree(dir.resolve("configurations/default.json").toFile());
        c.put("workingDirectory", work.toString());
        c.putArray("allowedClients");
        edit.accept(c);
        Files.writeString(dir.resolve("configurations").resolve(name + ".json"), JSON.writeValueAsString(c));
    }

    /** Runs {@code keyway ARGS} in process with {@code stdin} (null: empty) and the raw streams captured. */
    static Run cli(InputStream stdin, String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        StdStreams.in = stdin == null ? InputStream.nullInputStream() : stdin;
        StdStreams.out = o;
        StdStreams.err = e;
        Cli.Result r = Cli.run(args);
        return new Run(r.exit(), r.out(), r.err(), o.toByteArray(), e.toByteArray());
    }

    /** {@code remote SUB -i IDENTITY --registry REG --cacert (every host's) REST...}. */
    String[] client(Path identity, Path reg, String sub, String... rest) {
        List<String> a = new ArrayList<>(List.of("remote", sub, "-i", identity.toString(), "--registry", reg.toString()));
        for (Host h : hosts) {
            a.add("--cacert");
            a.add(h.cert().toString());
        }
        a.addAll(List.of(rest));
        return a.toArray(String[]::new);
    }

    Run remote(String sub, String... rest) {
        return cli(null, client(alice, registry, sub, rest));
    }

    Run remoteWithStdin(byte[] stdin, String sub, String... rest) {
        return cli(new ByteArrayInputStream(stdin), client(alice, registry, sub, rest));
    }

    static List<JsonNode> audit(Path hostDir) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(hostDir.resolve("audit.jsonl"))) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    static List<JsonNode> audit(Path hostDir, String event) throws IOException {
        return audit(hostDir).stream().filter(e -> e.path("event").asText().equals(event)).toList();
    }

    static JsonNode detail(JsonNode entry) {
        try {
            return JSON.readTree(entry.path("detail").asText());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    @Test
    void commandsInASessionShareItsState() throws Exception {
        Host h = host("h1");
        Run made = ok(remote("new", h.addr(), "--name", "s"));
        assertThat(made.out()).startsWith(h.addr() + ": session s opened (");
        ok(remote("run", "s", "--", "cd /tmp; X=1"));
        Run r = ok(remote("run", "s", "--", "pwd; echo $X"));
        assertThat(r.stdoutText()).isEqualTo("/tmp\n1\n");
        assertThat(r.stderr()).isEmpty();
        // several words are one shell line
        assertThat(ok(remote("run", "s", "--", "echo", "$X", "done")).stdoutText()).isEqualTo("1 done\n");
        // the same state through 'enter'
        Run e = ok(remoteWithStdin("pwd\nY=$X$X\necho $Y\nexit\n".getBytes(StandardCharsets.UTF_8), "enter", "s"));
        assertThat(e.stdoutText()).isEqualTo("/tmp\n11\n");
        Run list = ok(remote("list", "--json"));
        JsonNode row = JSON.readTree(list.out().strip());
        assertThat(row.path("name").asText()).isEqualTo("s");
        assertThat(row.path("state").asText()).isEqualTo("available");
        ok(remote("rm", "s"));
        assertThat(h.server().sessionIds()).isEmpty();
        assertThat(JSON.readTree(registry.toFile()).path("sessions")).isEmpty();
        assertThat(remote("run", "s", "--", "true").exit()).isEqualTo(2);
    }

    @Test
    void stdoutAndStderrAreByteExactAndTheRemoteStatusIsReported() throws Exception {
        Host h = host("h1");
        byte[] a = random(1 << 20);
        byte[] b = random(1 << 20);
        Files.write(h.work().resolve("a.bin"), a);
        Files.write(h.work().resolve("b.bin"), b);
        String cmd = "i=0; while [ $i -lt 64 ]; do dd if=a.bin bs=16384 skip=$i count=1 2>/dev/null; "
                + "dd if=b.bin bs=16384 skip=$i count=1 >&2 2>/dev/null; i=$((i+1)); done; exit 7";
        ok(remote("new", h.addr(), "--name", "s"));

        Run r = remote("run", "s", "--", cmd);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("keyway: " + h.addr() + ": the command exited with status 7\n");
        assertThat(r.stdout()).hasSize(1 << 20);
        assertThat(sha256(r.stdout())).isEqualTo(sha256(a));
        assertThat(sha256(r.stderr())).isEqualTo(sha256(b));

        Run p = remote("run", "s", "--pass-exit", "--", cmd);
        assertThat(p.exit()).isEqualTo(7);
        assertThat(p.err()).isEmpty();
        assertThat(sha256(p.stdout())).isEqualTo(sha256(a));
        assertThat(sha256(p.stderr())).isEqualTo(sha256(b));

        Run j = remote("run", "s", "--json", "--", cmd);
        assertThat(j.exit()).isEqualTo(1);
        JsonNode o = JSON.readTree(j.out().strip());
        assertThat(o.path("host").asText()).isEqualTo(h.addr());
        assertThat(o.path("exit").asInt()).isEqualTo(7);
        assertThat(sha256(Base64.getDecoder().decode(o.path("stdoutBase64").asText()))).isEqualTo(sha256(a));
        assertThat(sha256(Base64.getDecoder().decode(o.path("stderrBase64").asText()))).isEqualTo(sha256(b));
        assertThat(o.path("receipt").path("stdoutSha256").asText()).isEqualTo(sha256(a));
        assertThat(o.path("receipt").path("cwd").asText()).isEqualTo(h.work().toString());
        // text output is JSON text
        JsonNode t = JSON.readTree(ok(remote("run", "s", "--json", "--", "echo hi; echo there >&2")).out().strip());
        assertThat(t.path("stdout").asText()).isEqualTo("hi\n");
        assertThat(t.path("stderr").asText()).isEqualTo("there\n");
        assertThat(t.path("exit").asInt()).isZero();
    }

    @Test
    void stdinIsPassedThrough() throws Exception {
        Host h = host("h1");
        ok(remote("new", h.addr(), "--name", "s"));
        assertThat(ok(remoteWithStdin("abc".getBytes(StandardCharsets.US_ASCII), "run", "s", "--", "wc", "-c")).stdoutText().strip()).isEqualTo("3");
        byte[] big = random(3 << 20);
        assertThat(ok(remoteWithStdin(big, "run", "s", "--", "sha256sum")).stdoutText()).isEqualTo(sha256(big) + "  -\n");
        // -n: no stdin at all
        assertThat(ok(remoteWithStdin("abc".getBytes(StandardCharsets.US_ASCII), "run", "s", "-n", "--", "wc -c")).stdoutText().strip()).isEqualTo("0");
    }

    /** The most intervals (ISO-8601 start and end) open at once. */
    static int maxOverlap(List<Instant[]> intervals) {
        List<long[]> events = new ArrayList<>();
        for (Instant[] i : intervals) {
            events.add(new long[] {i[0].toEpochMilli() * 1000 + i[0].getNano() / 1000 % 1000, 1});
            events.add(new long[] {i[1].toEpochMilli() * 1000 + i[1].getNano() / 1000 % 1000, -1});
        }
        events.sort((x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1])); // ends first
        int now = 0;
        int max = 0;
        for (long[] e : events) {
            now += (int) e[1];
            max = Math.max(max, now);
        }
        return max;
    }

    /** Each host's {@code n}-th "sleep 1" command as the host audited it: [started, ended]. */
    List<Instant[]> sleeps(int n) throws IOException {
        List<Instant[]> out = new ArrayList<>();
        for (Host h : hosts) {
            List<JsonNode> c = audit(h.dir(), "command").stream().filter(e -> detail(e).path("command").asText().equals("sleep 1")).toList();
            assertThat(c).as(h.name()).hasSizeGreaterThan(n);
            out.add(new Instant[] {Instant.parse(detail(c.get(n)).path("started").asText()), Instant.parse(c.get(n).path("at").asText())});
        }
        return out;
    }

    @Test
    void throttleBoundsHowManyHostsAreBusyAtOnce() throws Exception {
        List<String> addrs = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            addrs.add(host("t" + i).addr());
        }
        Run made = ok(remote("new", String.join(",", addrs), "--name", "fleet"));
        assertThat(made.out().lines()).hasSize(12);

        long t0 = System.nanoTime();
        Run throttled = ok(remote("run", "fleet", "--throttle", "3", "--", "sleep 1"));
        double throttledSeconds = (System.nanoTime() - t0) / 1e9;
        assertThat(throttled.stdout()).isEmpty();
        assertThat(maxOverlap(sleeps(0))).as("hosts busy at once with --throttle 3").isLessThanOrEqualTo(3);
        // twelve one-second commands, three at a time: four rounds
        assertThat(throttledSeconds).isGreaterThanOrEqualTo(3.5).isLessThan(15);

        t0 = System.nanoTime();
        ok(remote("run", "fleet", "--", "sleep 1"));
        double defaultSeconds = (System.nanoTime() - t0) / 1e9;
        assertThat(maxOverlap(sleeps(1))).as("hosts busy at once by default (32)").isGreaterThan(3);
        assertThat(defaultSeconds).isLessThan(throttledSeconds / 2);

        // several hosts: each line prefixed with its host
        Run each = ok(remote("run", "fleet", "--", "echo hi"));
        assertThat(each.stdoutText().lines().sorted().toList())
                .isEqualTo(addrs.stream().map(a -> a + ": hi").sorted().toList());
    }

    @Test
    void anotherIdentityGetsExit4OnASessionItDoesNotOwnAndExit3WithItsTicket() throws Exception {
        Host h = host("h1");
        ok(Cli.run("remote", "allow", "--dir", h.dir().toString(), "--client", bobRecipient, "--name", "bob"));
        ok(remote("new", h.addr(), "--name", "s"));
        ok(remote("run", "s", "--", "X=secret"));
        // bob with a copy of the registry but without the tickets: a full handshake, then the session is not his
        ObjectNode reg = (ObjectNode) JSON.readTree(registry.toFile());
        for (JsonNode e : reg.path("sessions")) {
            ((ObjectNode) e).put("ticket", "");
        }
        Path noTickets = tmp.resolve("copy-without-tickets.json");
        Files.writeString(noTickets, JSON.writeValueAsString(reg));
        Run r = cli(null, client(bob, noTickets, "run", "s", "--", "echo $X"));
        assertThat(r.exit()).isEqualTo(4);
        assertThat(r.err()).contains("belongs to another identity");
        assertThat(r.stdout()).isEmpty();
        JsonNode refused = audit(h.dir(), "refused").get(0);
        assertThat(refused.path("client").asText()).isEqualTo("bob");
        assertThat(refused.path("outcome").asText()).isEqualTo("denied");
        assertThat(cli(null, client(bob, noTickets, "rm", "s")).exit()).isEqualTo(4);
        assertThat(h.server().sessionIds()).hasSize(1);

        // bob with the tickets too: the ticket resumes alice's TLS session, and bob cannot prove alice's key
        Path withTickets = tmp.resolve("copy.json");
        Files.copy(registry, withTickets);
        Run t = cli(null, client(bob, withTickets, "run", "s", "--", "echo $X"));
        assertThat(t.exit()).isEqualTo(3);
        assertThat(t.err()).contains("ticket belongs to another identity");
        List<JsonNode> refused2 = audit(h.dir(), "refused");
        assertThat(refused2).hasSize(3); // bob's run and rm, then the stolen ticket
        assertThat(refused2.get(2).path("outcome").asText()).isEqualTo("auth-failed");
        assertThat(detail(refused2.get(2)).path("reason").asText()).contains("resumed with a ticket of alice");
        // alice, with either registry, still gets in
        assertThat(ok(cli(null, client(alice, withTickets, "run", "s", "--", "echo $X"))).stdoutText()).isEqualTo("secret\n");
    }

    @Test
    void aRevokedIdentityIsRefusedAtItsNextAttachEvenWithASavedTicket() throws Exception {
        Host h = host("h1");
        ok(remote("new", h.addr(), "--name", "s"));
        ok(remote("run", "s", "--", "true"));
        assertThat(JSON.readTree(registry.toFile()).path("sessions").get(0).path("ticket").asText()).isNotEmpty();
        ok(Cli.run("remote", "revoke", "--dir", h.dir().toString(), "--name", "alice"));
        Run r = remote("run", "s", "--", "echo should not run");
        assertThat(r.exit()).isEqualTo(4);
        assertThat(r.err()).contains("does not allow this identity");
        assertThat(r.stdout()).isEmpty();
        assertThat(remote("new", h.addr(), "--name", "again").exit()).isEqualTo(4);
        // an identity never allowed is refused the same way
        Path mallory = tmp.resolve("mallory.key");
        ok(Cli.run("keygen", "-o", mallory.toString()));
        Run m = cli(null, client(mallory, tmp.resolve("m.json"), "new", h.addr(), "--name", "x"));
        assertThat(m.exit()).isEqualTo(4);
        assertThat(audit(h.dir(), "command")).hasSize(1);
        // allowed again, alice finds her session
        ok(Cli.run("remote", "allow", "--dir", h.dir().toString(), "--client", aliceRecipient, "--name", "alice"));
        assertThat(ok(remote("run", "s", "--", "echo back")).stdoutText()).isEqualTo("back\n");
    }

    @Test
    void aRestrictedConfigurationRunsAllowedProgramsOnly() throws Exception {
        Host h = host("h1");
        config(h.dir(), h.work(), "ro", c -> {
            c.put("kind", "restricted");
            c.putArray("environment").add("GREETING");
            ArrayNode p = c.putArray("programs");
            p.addObject().put("path", "/usr/bin/wc").put("args", "-[clw]");
            p.addObject().put("path", "/bin/echo").put("args", "[A-Za-z0-9 ]*");
            p.addObject().put("path", "/usr/bin/env").put("args", "");
        });
        ok(Cli.run("remote", "allow", "--dir", h.dir().toString(), "--client", aliceRecipient, "--name", "alice", "--config", "ro"));
        ok(remote("new", h.addr(), "--name", "ro", "--config", "ro"));
        assertThat(ok(remote("run", "ro", "--", "/bin/echo", "hello world")).stdoutText()).isEqualTo("hello world\n");
        assertThat(ok(remoteWithStdin("abc".getBytes(StandardCharsets.US_ASCII), "run", "ro", "--", "/usr/bin/wc", "-c")).stdoutText().strip()).isEqualTo("3");
        Path marker = h.work().resolve("pwned");
        List<List<String>> bad = List.of(
                List.of("--", "/usr/bin/wc -c; touch " + marker),
                List.of("--", "/bin/echo", "hi; touch " + marker),
                List.of("--", "/bin/sh", "-c", "touch " + marker),
                List.of("--", "/usr/bin/../bin/sh"),
                List.of("-e", "LD_PRELOAD=/x", "--", "/usr/bin/env"),
                List.of("--", "LD_PRELOAD=/x"),
                List.of("--", "cd", "/"));
        for (List<String> args : bad) {
            List<String> all = new ArrayList<>(List.of("ro"));
            all.addAll(args);
            Run r = remote("run", all.toArray(String[]::new));
            assertThat(r.exit()).as("%s: %s", args, r.err()).isEqualTo(4);
            assertThat(r.stdout()).isEmpty();
        }
        assertThat(marker).doesNotExist();
        List<JsonNode> refused = audit(h.dir(), "refused");
        assertThat(refused).hasSize(bad.size());
        assertThat(refused).allSatisfy(e -> assertThat(e.path("config").asText()).isEqualTo("ro"));
        assertThat(ok(remote("run", "ro", "-e", "GREETING=hi", "--", "/usr/bin/env")).stdoutText().lines()).contains("GREETING=hi");
        // enter: each line is the program and its arguments
        Run e = ok(remoteWithStdin("GREETING=hey\n/usr/bin/env\n/bin/echo a b\n".getBytes(StandardCharsets.UTF_8), "enter", "ro"));
        assertThat(e.stdoutText().lines()).contains("GREETING=hey", "a b");
    }

    @Test
    void limitsRefuseWithExit4() throws Exception {
        Host h = host("h1");
        config(h.dir(), h.work(), "one", c -> {
            c.put("sessionsPerClient", 1);
            c.put("jobsPerSession", 1);
        });
        ok(Cli.run("remote", "allow", "--dir", h.dir().toString(), "--client", aliceRecipient, "--name", "alice", "--config", "one"));
        ok(remote("new", h.addr(), "--name", "a", "--config", "one"));
        Run second = remote("new", h.addr(), "--name", "b", "--config", "one");
        assertThat(second.exit()).isEqualTo(4);
        assertThat(second.err()).contains("its limit");
        assertThat(ok(remote("run", "a", "--detach", "--", "sleep 30")).out()).isEqualTo("1\n");
        Run job = remote("run", "a", "--detach", "--", "true");
        assertThat(job.exit()).isEqualTo(4);
        assertThat(job.err()).contains("jobs not yet received");
        assertThat(audit(h.dir(), "refused")).hasSize(2);
    }

    @Test
    void auditVerifyFindsTampering() throws Exception {
        Host h = host("h1");
        ok(remote("new", h.addr(), "--name", "s"));
        ok(remote("run", "s", "--", "echo one"));
        ok(remote("run", "s", "--", "echo two"));
        h.server().close();
        hosts.remove(h);
        String dir = h.dir().toString();
        Cli.Result v = ok(Cli.run("remote", "audit", "verify", "--dir", dir));
        Path log = h.dir().resolve("audit.jsonl");
        Path head = h.dir().resolve("audit.head");
        List<String> lines = Files.readAllLines(log);
        assertThat(v.out()).isEqualTo("audit log intact: " + lines.size() + " entries, head signed by the host\n");
        byte[] original = Files.readAllBytes(log);
        byte[] originalHead = Files.readAllBytes(head);

        // one byte of one command
        int k = IntStream.range(0, lines.size()).filter(i -> lines.get(i).contains("echo one")).findFirst().orElseThrow();
        List<String> changed = new ArrayList<>(lines);
        changed.set(k, lines.get(k).replace("echo one", "echo onf"));
        Files.write(log, changed);
        Cli.Result r = Cli.run("remote", "audit", "verify", "--dir", dir);
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.oneLineError()).as(r.err()).isTrue();
        assertThat(r.err()).contains("line " + (k + 1) + " was changed");
        // a host does not append to a log that does not verify
        assertThatThrownBy(() -> RemoteHost.start(HostDir.open(h.dir()), new InetSocketAddress("127.0.0.1", 0), RemoteHost.Options.defaults()))
                .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_FAILED));

        // the last entry removed
        Files.write(log, original);
        ok(Cli.run("remote", "audit", "verify", "--dir", dir));
        Files.write(log, lines.subList(0, lines.size() - 1));
        r = Cli.run("remote", "audit", "verify", "--dir", dir);
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("cut off the end");

        // a whole valid chain from another host: its head is not this host's
        Host other = host("h2");
        other.server().close();
        hosts.remove(other);
        ok(Cli.run("remote", "audit", "verify", "--dir", other.dir().toString()));
        Files.copy(other.dir().resolve("audit.jsonl"), log, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        r = Cli.run("remote", "audit", "verify", "--dir", dir);
        assertThat(r.exit()).as(r.err()).isEqualTo(3);
        Files.copy(other.dir().resolve("audit.head"), head, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        r = Cli.run("remote", "audit", "verify", "--dir", dir);
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("not signed by this host");
        Files.delete(head);
        r = Cli.run("remote", "audit", "verify", "--dir", dir);
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("head");

        Files.write(log, original);
        Files.write(head, originalHead);
        ok(Cli.run("remote", "audit", "verify", "--dir", dir));
    }

    @Test
    void cpCopiesIntoAndOutOfASessionAndStaysInsideItsDirectory() throws Exception {
        Host h = host("h1");
        config(h.dir(), h.work(), "nocp", c -> c.put("fileTransfer", false));
        ok(Cli.run("remote", "allow", "--dir", h.dir().toString(), "--client", aliceRecipient, "--name", "alice", "--config", "nocp"));
        ok(remote("new", h.addr(), "--name", "s"));
        byte[] data = random(3 << 19);
        Path local = Files.write(tmp.resolve("local.bin"), data);
        ok(remote("cp", local.toString(), "s:data.bin"));
        assertThat(sha256(Files.readAllBytes(h.work().resolve("data.bin")))).isEqualTo(sha256(data));
        ok(remote("run", "s", "--", "mkdir -p out && cp data.bin out/copy.bin"));
        Path back = tmp.resolve("back.bin");
        ok(remote("cp", "s:out/copy.bin", back.toString()));
        assertThat(sha256(Files.readAllBytes(back))).isEqualTo(sha256(data));

        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Path secret = Files.writeString(outside.resolve("secret.txt"), "secret\n");
        Files.createSymbolicLink(h.work().resolve("link"), secret);
        for (String[] args : List.of(new String[] {"s:../../etc/passwd", tmp.resolve("p1").toString()},
                new String[] {"s:link", tmp.resolve("p2").toString()},
                new String[] {local.toString(), "s:../escaped.bin"},
                new String[] {local.toString(), "s:link"})) {
            Run r = remote("cp", args);
            assertThat(r.exit()).as("%s: %s", List.of(args), r.err()).isEqualTo(4);
        }
        assertThat(tmp.resolve("p1")).doesNotExist();
        assertThat(tmp.resolve("p2")).doesNotExist();
        assertThat(tmp.resolve("escaped.bin")).doesNotExist();
        assertThat(secret).hasContent("secret");

        ok(remote("new", h.addr(), "--name", "n", "--config", "nocp"));
        assertThat(remote("cp", local.toString(), "n:x.bin").exit()).isEqualTo(4);
        assertThat(remote("cp", "n:data.bin", tmp.resolve("p3").toString()).exit()).isEqualTo(4);
        assertThat(h.work().resolve("x.bin")).doesNotExist();
        assertThat(tmp.resolve("p3")).doesNotExist();
        assertThat(audit(h.dir(), "refused")).hasSize(6);
    }

    /** A keyway command as a child process, its output collected as it comes. */
    static final class Child implements AutoCloseable {
        final Process process;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteArrayOutputStream err = new ByteArrayOutputStream();

        Child(List<String> args) throws IOException {
            process = new ProcessBuilder(ServeProcess.keyway(ServeProcess.QUICK_JVM, args)).start();
            drain(process.getInputStream(), out);
            drain(process.getErrorStream(), err);
        }

        private static void drain(InputStream in, ByteArrayOutputStream to) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[8192];
                try (in) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        synchronized (to) {
                            to.write(buf, 0, n);
                        }
                    }
                } catch (IOException ignored) {
                    // the process ended
                }
            }, "child-output");
            t.setDaemon(true);
            t.start();
        }

        String out() {
            synchronized (out) {
                return out.toString(StandardCharsets.UTF_8);
            }
        }

        String err() {
            synchronized (err) {
                return err.toString(StandardCharsets.UTF_8);
            }
        }

        /** Waits (at most 60 s) until standard output or error holds {@code text}. */
        void await(boolean stdout, String text) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!(stdout ? out() : err()).contains(text) && process.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(stdout ? out() : err()).as("the child's %s", stdout ? "stdout" : "stderr").contains(text);
        }

        int waitFor() throws InterruptedException {
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the child ended").isTrue();
            Thread.sleep(50); // the drains get the last bytes
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    @Test
    @Timeout(180)
    void sessionsOnServeProcessesOutliveAClientKilledWithSigkillAndAreReceivedExactlyOnceFromAnotherProcess() throws Exception {
        Host d1 = hostDir("p1");
        Host d2 = hostDir("p2");
        for (Host d : List.of(d1, d2)) {
            ok(Cli.run("remote", "allow", "--dir", d.dir().toString(), "--client", bobRecipient, "--name", "bob"));
        }
        int n = 40;
        String expected = IntStream.rangeClosed(1, n).mapToObj(i -> "line " + i + "\n").collect(Collectors.joining());
        // lines 1 to 20, then a wait (at most 60 s) for the test's signal, then the rest, and status 3
        String job = "i=1; while [ $i -le " + n + " ]; do echo \"line $i\"; sleep 0.02; "
                + "if [ $i -eq 20 ]; then w=0; while [ ! -e go ] && [ $w -lt 600 ]; do sleep 0.1; w=$((w+1)); done; fi; "
                + "i=$((i+1)); done; exit 3";
        try (ServeProcess s1 = ServeProcess.startRemote(d1.dir()); ServeProcess s2 = ServeProcess.startRemote(d2.dir())) {
            String h1 = "127.0.0.1:" + s1.port();
            String h2 = "127.0.0.1:" + s2.port();
            List<String> certs = List.of("--cacert", d1.cert().toString(), "--cacert", d2.cert().toString());
            List<String> base = new ArrayList<>(List.of("-i", alice.toString(), "--registry", registry.toString()));
            base.addAll(certs);

            // two processes stand for two hosts
            ok(cli(null, args("new", base, h1 + "," + h2, "--name", "pair")));
            Run pair = ok(cli(null, args("run", base, "pair", "--", "echo \"on $KEYWAY_SESSION\"; echo e >&2")));
            assertThat(pair.stdoutText().lines()).containsExactlyInAnyOrder(h1 + ": on pair", h2 + ": on pair");
            assertThat(pair.stderrText().lines()).containsExactlyInAnyOrder(h1 + ": e", h2 + ": e");

            ok(cli(null, args("new", base, h1, "--name", "job")));
            // a client process starts the job and is killed
            try (Child a = new Child(List.of(args("run", base, "job", "--detach", "--", job)))) {
                a.await(true, "1\n");
                a.process.destroyForcibly();
                a.waitFor();
            }
            // this process receives what is there so far
            StringBuilder all = new StringBuilder();
            Run partial = ok(cli(null, args("receive", base, "job")));
            assertThat(partial.err()).contains("job 1 (").contains(") is still running");
            all.append(partial.stdoutText());
            // another client process is killed while attached (enter waits for its next line)
            try (Child c = new Child(List.of(args("enter", base, "job")))) {
                c.await(false, "[job@" + h1 + "]$ ");
                assertThat(c.process.isAlive()).isTrue();
                c.process.destroyForcibly();
                assertThat(c.waitFor()).isEqualTo(137); // 128 + SIGKILL
            }
            // the host saw that connection end without a detach
            awaitAudit(d1.dir(), e -> e.path("event").asText().equals("detach") && detail(e).path("reason").asText().equals("connection ended"));
            Files.createFile(d1.work().resolve("go"));
            // the job goes on; this process receives until its end: every line once, then its status
            Run last = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((last == null || last.exit() == 0) && System.nanoTime() < deadline) {
                Thread.sleep(200);
                last = cli(null, args("receive", base, "job"));
                assertThat(last.exit()).as(last.err()).isIn(0, 1);
                all.append(last.stdoutText());
            }
            assertThat(last.exit()).isEqualTo(1);
            assertThat(last.err()).contains("exited with status 3");
            assertThat(all.toString()).isEqualTo(expected);

            // bob, with a copy of alice's registry (her tickets): the connection resumes, his proof fails
            Path copy = tmp.resolve("copy.json");
            Files.copy(registry, copy);
            List<String> asBob = new ArrayList<>(List.of("-i", bob.toString(), "--registry", copy.toString()));
            asBob.addAll(certs);
            Run stolen = cli(null, args("run", asBob, "job", "--", "echo no"));
            assertThat(stolen.exit()).isEqualTo(3);
            assertThat(stolen.err()).contains("ticket belongs to another identity");
            assertThat(stolen.stdout()).isEmpty();
            ok(cli(null, args("rm", base, "pair")));
        }
        // the services have stopped: their logs verify and tell what happened
        for (Host d : List.of(d1, d2)) {
            ok(Cli.run("remote", "audit", "verify", "--dir", d.dir().toString()));
        }
        List<JsonNode> log = audit(d1.dir());
        List<String> events = log.stream().map(e -> e.path("event").asText()).toList();
        assertThat(events).contains("job-start", "job-end", "job-received", "service-stop");
        assertThat(log).anySatisfy(e -> {
            assertThat(e.path("event").asText()).isEqualTo("refused");
            assertThat(e.path("outcome").asText()).isEqualTo("auth-failed");
        });
        assertThat(audit(d1.dir(), "attach")).allSatisfy(e -> assertThat(e.path("client").asText()).isEqualTo("alice"));
    }

    /** Waits (at most 20 s) for an entry in the audit log of a host running in another process. */
    static void awaitAudit(Path hostDir, java.util.function.Predicate<JsonNode> match) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            for (String line : Files.readAllLines(hostDir.resolve("audit.jsonl"))) {
                JsonNode e;
                try {
                    e = JSON.readTree(line);
                } catch (IOException partial) {
                    continue; // the last line, half written as we read
                }
                if (match.test(e)) {
                    return;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no such audit entry in " + hostDir);
    }

    /** {@code remote SUB BASE... REST...}. */
    static String[] args(String sub, List<String> base, String... rest) {
        List<String> a = new ArrayList<>(List.of("remote", sub));
        a.addAll(base);
        a.addAll(List.of(rest));
        return a.toArray(String[]::new);
    }
}
