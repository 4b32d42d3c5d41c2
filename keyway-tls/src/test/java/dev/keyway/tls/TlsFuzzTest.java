package dev.keyway.tls;

import dev.keyway.core.encoding.Hex;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.core.keylog.KeyLog;
import dev.keyway.tls.config.TicketKeys;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.handshake.HandshakeResult;
import dev.keyway.tls.handshake.PostHandshake;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordLayer;
import dev.keyway.tls.record.RecordProtection13;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Bounded, seeded fuzzing of Keyway's TLS 1.3 engine: recorded ClientHellos and server flights, mutated (bits,
 * bytes, cuts, extensions, length fields), fed to fresh servers and clients over 127.0.0.1; protected handshake
 * and post-handshake messages mutated and sealed again by a man in the middle that has the key log; random
 * records to the record layer; random post-handshake messages and key shares. The only outcomes allowed are a
 * TlsException, an IOException (end of stream, timeout, reset) or success; anything else is a finding, reported
 * with the seed, the iteration and the input. Set -Dkeyway.fuzz.seed=N to replay, -Dkeyway.fuzz.scale=K for more.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TlsFuzzTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    static final long SEED = Long.getLong("keyway.fuzz.seed", 0x6b657977L);
    static final int SCALE = Integer.getInteger("keyway.fuzz.scale", 1);
    private static final AtomicInteger THREADS = new AtomicInteger();
    private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fuzz-test-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });

    @TempDir
    static Path dir;
    static TicketKeys ticketKeys = TicketKeys.rotatingEvery(java.time.Duration.ofHours(1));
    /** Recorded ClientHello records (one record each). */
    static final Map<String, byte[]> HELLOS = new LinkedHashMap<>();
    /** Recorded server flights, for a client with middlebox compatibility off (so no session id to echo). */
    static final Map<String, byte[]> FLIGHTS = new LinkedHashMap<>();
    static final Map<String, TlsConfig> FLIGHT_CLIENTS = new LinkedHashMap<>();

    @BeforeAll
    static void record() throws Exception {
        Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl makes the test certificates");
        System.out.println("TlsFuzzTest seed " + SEED + " (replay with -Dkeyway.fuzz.seed=" + SEED + ")");
        TestCerts.make(dir, "srv", "ec", 5);
        TestCerts.make(dir, "cli", "ec", 5);

        TlsRelay plain = exchange(server().build(), client().middleboxCompatibility(false).build());
        HELLOS.put("plain", plain.clientRecords().get(0));
        FLIGHTS.put("plain", concat(plain.serverRecords().subList(0, 5)));
        FLIGHT_CLIENTS.put("plain", client().middleboxCompatibility(false).build());
        assertThat(plain.serverRecords().subList(0, 5)).extracting(r -> (int) r[0]).containsExactly(22, 23, 23, 23, 23);

        TlsRelay compat = exchange(server().build(), client().alpn(List.of("h2", "http/1.1")).build());
        HELLOS.put("compat+alpn", compat.clientRecords().get(0));

        TlsConfig hrrServer = server().groups(List.of(NamedGroup.SECP256R1)).build();
        TlsConfig hrrClient = client().middboxOff().groups(List.of(NamedGroup.X25519, NamedGroup.SECP256R1)).build();
        TlsRelay hrr = exchange(hrrServer, hrrClient);
        HELLOS.put("hrr-second", hrr.clientRecords().get(1));
        // HelloRetryRequest, then ServerHello and the protected flight: the first six records.
        assertThat(hrr.serverRecords().subList(0, 6)).extracting(r -> (int) r[0]).containsExactly(22, 22, 23, 23, 23, 23);
        FLIGHTS.put("hrr", concat(hrr.serverRecords().subList(0, 6)));
        FLIGHT_CLIENTS.put("hrr", hrrClient);

        TlsRelay hybrid = exchange(server().groups(List.of(NamedGroup.X25519MLKEM768)).build(),
                client().groups(List.of(NamedGroup.X25519MLKEM768, NamedGroup.X25519)).build());
        HELLOS.put("mlkem", hybrid.clientRecords().get(0));

        // A ClientHello offering a ticket that the fuzzed servers (same ticket keys) can open.
        List<dev.keyway.tls.params.Ticket> tickets = new ArrayList<>();
        TlsRelay first = exchange(server().build(), client().build(), tickets);
        assertThat(tickets).isNotEmpty();
        TlsRelay resumed = exchange(server().build(), client().resumeWith(tickets.get(0)).build());
        HELLOS.put("psk", resumed.clientRecords().get(0));
        first.close();
        for (TlsRelay r : List.of(plain, compat, hrr, hybrid, resumed)) {
            r.close();
        }
    }

    @AfterAll
    static void stop() {
        POOL.shutdownNow();
    }

    // ---------------------------------------------------------------- configuration and plumbing

    static TlsConfig.Builder server() throws Exception {
        return TlsConfig.builder().certificate(TestCerts.certs(dir.resolve("srv.pem")), TestCerts.key(dir.resolve("srv.key"), "ec"))
                .ticketKeys(ticketKeys).alpn(List.of("http/1.1"));
    }

    static ClientBuilder client() throws Exception {
        return new ClientBuilder();
    }

    /** TlsConfig.Builder with the test's trust anchors and name; {@code middboxOff} for short. */
    static final class ClientBuilder {
        final TlsConfig.Builder b;

        ClientBuilder() throws Exception {
            b = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost");
        }

        ClientBuilder middboxOff() {
            b.middleboxCompatibility(false);
            return this;
        }

        ClientBuilder middleboxCompatibility(boolean on) {
            b.middleboxCompatibility(on);
            return this;
        }

        ClientBuilder alpn(List<String> p) {
            b.alpn(p);
            return this;
        }

        ClientBuilder groups(List<NamedGroup> g) {
            b.groups(g);
            return this;
        }

        ClientBuilder resumeWith(dev.keyway.tls.params.Ticket t) {
            b.resumeWith(t);
            return this;
        }

        ClientBuilder withCertificate() throws Exception {
            b.certificate(TestCerts.certs(dir.resolve("cli.pem")), TestCerts.key(dir.resolve("cli.key"), "ec"));
            return this;
        }

        ClientBuilder keyLog(KeyLog l) {
            b.keyLog(l);
            return this;
        }

        TlsConfig build() {
            return b.build();
        }
    }

    static TlsRelay exchange(TlsConfig serverConfig, TlsConfig clientConfig) throws Exception {
        return exchange(serverConfig, clientConfig, new ArrayList<>());
    }

    /** A good connection through a relay that records it; the relay is returned (closed) with the records. */
    static TlsRelay exchange(TlsConfig serverConfig, TlsConfig clientConfig, List<dev.keyway.tls.params.Ticket> tickets) throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, LOOPBACK)) {
            Future<?> served = POOL.submit(() -> {
                try (Socket s = ss.accept(); TlsConnection c = TlsConnection.accept(s, serverConfig)) {
                    byte[] got = c.getInputStream().readNBytes(4);
                    c.getOutputStream().write(got);
                    c.shutdownOutput();
                    c.getInputStream().readAllBytes();
                }
                return null;
            });
            TlsRelay relay = new TlsRelay(ss.getLocalPort(), TlsRelay.PASS);
            try (Socket s = new Socket(LOOPBACK, relay.port()); TlsConnection c = TlsConnection.connect(s, clientConfig)) {
                c.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                assertThat(c.getInputStream().readAllBytes()).asString(StandardCharsets.US_ASCII).isEqualTo("ping");
                tickets.addAll(c.tickets());
            }
            served.get(20, TimeUnit.SECONDS);
            relay.close();
            return relay;
        }
    }

    static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Unexpected outcomes, one per kind (exception class and where it was thrown), with how to replay them. */
    static final class Findings {
        private final String target;
        private final Map<String, String> byKind = new LinkedHashMap<>();
        private int count;
        private int runs;
        private final Map<String, Integer> outcomes = new LinkedHashMap<>();

        Findings(String target) {
            this.target = target;
        }

        /** Accepts a TlsException, an IOException or null; anything else is kept as a finding. */
        void check(Throwable t, long seed, int iteration, byte[] input, String note) {
            runs++;
            String outcome = t == null ? "success" : t instanceof TlsException e ? "TlsException " + e.alert() + (e.received() ? " (received)" : "")
                    : t.getClass().getSimpleName();
            outcomes.merge(outcome, 1, Integer::sum);
            if (t == null || t instanceof TlsException || t instanceof IOException) {
                return;
            }
            count++;
            String where = "?";
            for (StackTraceElement e : t.getStackTrace()) {
                if (e.getClassName().startsWith("dev.keyway")) {
                    where = e.toString();
                    break;
                }
            }
            String kind = t.getClass().getName() + " at " + where;
            if (!byKind.containsKey(kind)) {
                StringWriter trace = new StringWriter();
                t.printStackTrace(new PrintWriter(trace));
                String hex = input == null ? "" : Hex.encode(input);
                byKind.put(kind, target + ": " + kind + "\n  seed " + seed + ", iteration " + iteration + (note == null ? "" : ", " + note)
                        + "\n  input (" + (input == null ? 0 : input.length) + " bytes): " + (hex.length() > 4000 ? hex.substring(0, 4000) + "..." : hex)
                        + "\n" + trace);
            }
        }

        void problem(String description) {
            count++;
            byKind.putIfAbsent(description, target + ": " + description);
        }

        void assertNone() {
            // statistics go with a failure only: a passing fuzz run prints its seed, nothing more
            if (!byKind.isEmpty()) {
                String all = String.join("\n\n", byKind.values());
                fail(count + " unexpected outcome(s) in " + target + " (seed " + SEED + "; " + runs + " runs, outcomes " + outcomes
                        + "):\n\n" + all);
            }
        }
    }

    // ---------------------------------------------------------------- mutation

    /** Positions of length fields in a hello record (offset, width), found by walking its structure. */
    static List<int[]> helloLengthFields(byte[] record) {
        List<int[]> out = new ArrayList<>();
        out.add(new int[] {3, 2});
        if (record.length < 9 || record[0] != 22) {
            return out;
        }
        out.add(new int[] {6, 3});
        boolean clientHello = record[5] == 1;
        try {
            int at = 5 + 4 + 2 + 32;
            out.add(new int[] {at, 1});
            at += 1 + (record[at] & 0xff);
            if (clientHello) {
                out.add(new int[] {at, 2});
                at += 2 + u16(record, at);
                out.add(new int[] {at, 1});
                at += 1 + (record[at] & 0xff);
            } else {
                at += 3;
            }
            out.add(new int[] {at, 2});
            int end = at + 2 + u16(record, at);
            at += 2;
            while (at + 4 <= end && at + 4 <= record.length) {
                out.add(new int[] {at + 2, 2});
                int len = u16(record, at + 2);
                if (len >= 1) {
                    out.add(new int[] {at + 4, 1});
                }
                if (len >= 2) {
                    out.add(new int[] {at + 4, 2});
                }
                if (len >= 6) {
                    out.add(new int[] {at + 6, 2}); // key_share entries, PSK identities: the second level
                    out.add(new int[] {at + 8, 2});
                }
                at += 4 + len;
            }
        } catch (ArrayIndexOutOfBoundsException e) {
            // a short record: the fields so far
        }
        return out;
    }

    static int u16(byte[] b, int at) {
        return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
    }

    /** Offsets of the records in {@code wire}. */
    static List<Integer> recordStarts(byte[] wire) {
        List<Integer> out = new ArrayList<>();
        int at = 0;
        while (at + 5 <= wire.length) {
            out.add(at);
            at += 5 + u16(wire, at + 3);
        }
        return out;
    }

    static final int[] INTERESTING = {0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 20, 21, 22, 23, 24};
    static final int[] HANDSHAKE_TYPES = {1, 2, 4, 5, 8, 11, 13, 15, 20, 24, 254, 0, 255};

    /** One to three mutations of {@code in}; {@code fields} are known length fields (may be empty). */
    static byte[] mutate(byte[] in, Random r, List<int[]> fields) {
        byte[] b = in.clone();
        int n = 1 + r.nextInt(3);
        for (int k = 0; k < n; k++) {
            if (b.length == 0) {
                b = new byte[1 + r.nextInt(8)];
                r.nextBytes(b);
                continue;
            }
            int at = r.nextInt(b.length);
            switch (r.nextInt(12)) {
                case 0, 1 -> b[at] ^= (byte) (1 << r.nextInt(8));
                case 2 -> b[at] = (byte) r.nextInt(256);
                case 3 -> b[at] = (byte) INTERESTING[r.nextInt(INTERESTING.length)];
                case 4 -> b = Arrays.copyOf(b, r.nextInt(b.length));
                case 5 -> {
                    byte[] tail = new byte[1 + r.nextInt(r.nextBoolean() ? 8 : 300)];
                    r.nextBytes(tail);
                    byte[] out = Arrays.copyOf(b, b.length + tail.length);
                    System.arraycopy(tail, 0, out, b.length, tail.length);
                    b = out;
                }
                case 6 -> {
                    int len = Math.min(b.length - at, 1 + r.nextInt(16));
                    byte[] out = new byte[b.length - len];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, at + len, out, at, b.length - at - len);
                    b = out;
                }
                case 7 -> {
                    byte[] ins = new byte[1 + r.nextInt(16)];
                    r.nextBytes(ins);
                    byte[] out = new byte[b.length + ins.length];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(ins, 0, out, at, ins.length);
                    System.arraycopy(b, at, out, at + ins.length, b.length - at);
                    b = out;
                }
                case 8 -> {
                    if (at + 1 < b.length) {
                        int v = (u16(b, at) + delta(r)) & 0xffff;
                        b[at] = (byte) (v >> 8);
                        b[at + 1] = (byte) v;
                    }
                }
                case 9, 10 -> {
                    // a known length field: a little more or less, zero, or all ones
                    if (!fields.isEmpty()) {
                        int[] f = fields.get(r.nextInt(fields.size()));
                        if (f[0] + f[1] <= b.length) {
                            long v = 0;
                            for (int i = 0; i < f[1]; i++) {
                                v = (v << 8) | (b[f[0] + i] & 0xff);
                            }
                            int choice = r.nextInt(4);
                            v = choice == 0 ? 0 : choice == 1 ? -1 : v + delta(r);
                            for (int i = f[1] - 1; i >= 0; i--) {
                                b[f[0] + i] = (byte) v;
                                v >>= 8;
                            }
                        }
                    }
                }
                default -> {
                    // record level: a record's length, type or a duplicate of it
                    List<Integer> starts = recordStarts(b);
                    if (!starts.isEmpty()) {
                        int s = starts.get(r.nextInt(starts.size()));
                        switch (r.nextInt(3)) {
                            case 0 -> {
                                int v = (u16(b, s + 3) + delta(r)) & 0xffff;
                                b[s + 3] = (byte) (v >> 8);
                                b[s + 4] = (byte) v;
                            }
                            case 1 -> b[s] = (byte) (20 + r.nextInt(5));
                            default -> {
                                int end = Math.min(b.length, s + 5 + u16(b, s + 3));
                                byte[] rec = Arrays.copyOfRange(b, s, end);
                                byte[] out = Arrays.copyOf(b, b.length + rec.length);
                                System.arraycopy(b, s, out, s + rec.length, b.length - s);
                                System.arraycopy(rec, 0, out, s, rec.length);
                                b = out;
                            }
                        }
                    }
                }
            }
        }
        return b;
    }

    static int delta(Random r) {
        int[] d = {-1, 1, -2, 2, -4, 4, 0x100, -0x100, 0x8000, 1 + r.nextInt(1000), -(1 + r.nextInt(1000))};
        return d[r.nextInt(d.length)];
    }

    /** A handshake message mutated: the generic ways, or its type, or its 24-bit length. */
    static byte[] mutateHandshake(byte[] content, Random r) {
        List<int[]> fields = new ArrayList<>();
        if (content.length >= 4) {
            fields.add(new int[] {1, 3});
            // the first vector lengths of the body, wherever they are
            for (int i = 4; i < Math.min(content.length - 1, 12); i++) {
                fields.add(new int[] {i, 1});
                fields.add(new int[] {i, 2});
                fields.add(new int[] {i, 3});
            }
        }
        byte[] out = mutate(content, r, fields);
        if (out.length > 0 && r.nextInt(8) == 0) {
            out[0] = (byte) HANDSHAKE_TYPES[r.nextInt(HANDSHAKE_TYPES.length)];
        }
        return out;
    }

    // ---------------------------------------------------------------- a fresh endpoint on a socket pair

    static final class Pair implements AutoCloseable {
        final Socket ours;
        final Socket theirs;

        Pair(ServerSocket ss) throws IOException {
            theirs = new Socket(LOOPBACK, ss.getLocalPort());
            ours = ss.accept();
        }

        @Override
        public void close() throws IOException {
            ours.close();
            theirs.close();
        }
    }

    @Test
    void mutatedClientHellosToAServer() throws Exception {
        Findings findings = new Findings("server <- mutated ClientHello");
        List<String> names = new ArrayList<>(HELLOS.keySet());
        TlsConfig config = server().build();
        TlsConfig requiring = server().requireClientCertificate(true).trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).build();
        int iterations = 1500 * SCALE;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(12L * SCALE);
        try (ServerSocket ss = new ServerSocket(0, 50, LOOPBACK)) {
            for (int i = 0; i < iterations && System.nanoTime() < deadline; i++) {
                Random r = new Random(SEED ^ (0x5e1L << 32) ^ i);
                String name = names.get(r.nextInt(names.size()));
                byte[] hello = HELLOS.get(name);
                byte[] input = mutate(hello, r, helloLengthFields(hello));
                try (Pair p = new Pair(ss)) {
                    p.ours.setSoTimeout(500);
                    p.theirs.getOutputStream().write(input);
                    p.theirs.shutdownOutput();
                    Throwable outcome = null;
                    try {
                        TlsConnection c = TlsConnection.accept(p.ours, i % 4 == 0 ? requiring : config);
                        c.close();
                    } catch (Throwable t) {
                        outcome = t;
                        if (!p.ours.isClosed()) {
                            findings.problem("the server's socket is still open after " + t);
                        }
                    }
                    findings.check(outcome, SEED, i, input, "from " + name);
                }
            }
        }
        findings.assertNone();
    }

    @Test
    void mutatedServerFlightsToAClient() throws Exception {
        Findings findings = new Findings("client <- mutated server flight");
        List<String> names = new ArrayList<>(FLIGHTS.keySet());
        int iterations = 1500 * SCALE;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10L * SCALE);
        try (ServerSocket ss = new ServerSocket(0, 50, LOOPBACK)) {
            for (int i = 0; i < iterations && System.nanoTime() < deadline; i++) {
                Random r = new Random(SEED ^ (0xc11L << 32) ^ i);
                String name = names.get(r.nextInt(names.size()));
                byte[] flight = FLIGHTS.get(name);
                // Length fields of the first (plaintext) hello, plus the generic and record-level mutations.
                byte[] input = mutate(flight, r, helloLengthFields(Arrays.copyOf(flight, 5 + u16(flight, 3))));
                try (Pair p = new Pair(ss)) {
                    p.ours.setSoTimeout(500);
                    p.theirs.getOutputStream().write(input);
                    p.theirs.shutdownOutput();
                    Throwable outcome = null;
                    try {
                        TlsConnection c = TlsConnection.connect(p.ours, FLIGHT_CLIENTS.get(name));
                        c.close();
                        findings.problem("a client finished a handshake with a replayed, mutated flight (" + name + ", iteration " + i + ")");
                    } catch (Throwable t) {
                        outcome = t;
                        if (!p.ours.isClosed()) {
                            findings.problem("the client's socket is still open after " + t);
                        }
                    }
                    findings.check(outcome, SEED, i, input, "from " + name);
                }
            }
        }
        findings.assertNone();
    }

    // ---------------------------------------------------------------- protected messages, resealed by a man in the middle

    /**
     * A relay hook that opens one direction's protected records with the key log's secrets, mutates the content of
     * the {@code target}-th one, and seals it again, so the receiver's record layer accepts it and its handshake
     * (or post-handshake) code parses it.
     */
    static final class Resealer implements TlsRelay.Hook {
        final boolean towardsServer;
        final int target;
        final Random random;
        final CipherSuite suite;
        final Map<String, Map<String, byte[]>> secrets;
        volatile String clientRandom;
        RecordCrypto opener;
        RecordCrypto sealer;
        boolean application;
        int protectedIndex;
        volatile byte[] original;
        volatile byte[] mutated;

        Resealer(boolean towardsServer, int target, Random random, CipherSuite suite, Map<String, Map<String, byte[]>> secrets) {
            this.towardsServer = towardsServer;
            this.target = target;
            this.random = random;
            this.suite = suite;
            this.secrets = secrets;
        }

        private byte[] secret(String label) {
            Map<String, byte[]> m = secrets.get(clientRandom);
            return m == null ? null : m.get(label);
        }

        @Override
        public TlsRelay.Forward apply(boolean toServer, int index, byte[] record) {
            if (toServer && index == 0) {
                clientRandom = Hex.encode(Arrays.copyOfRange(record, 11, 43));
            }
            if (toServer != towardsServer || record[0] != 23) {
                return TlsRelay.Forward.as(record);
            }
            String side = towardsServer ? "CLIENT" : "SERVER";
            if (opener == null) {
                byte[] s = secret(side + "_HANDSHAKE_TRAFFIC_SECRET");
                if (s == null) {
                    return TlsRelay.Forward.as(record);
                }
                opener = RecordCrypto.of(suite, s);
                sealer = RecordCrypto.of(suite, s);
            }
            byte[] inner = opener.open(record);
            if (inner == null) {
                return TlsRelay.Forward.as(record); // out of step (after a change we caused): leave it
            }
            int end = inner.length - 1;
            while (end >= 0 && inner[end] == 0) {
                end--;
            }
            int type = end >= 0 ? inner[end] & 0xff : 0;
            byte[] content = Arrays.copyOf(inner, Math.max(end, 0));
            byte[] out;
            if (protectedIndex++ == target) {
                original = content;
                byte[] changed = type == 22 ? mutateHandshake(content, random) : mutate(content, random, List.of());
                int newType = random.nextInt(10) == 0 ? 20 + random.nextInt(6) : type;
                int padding = random.nextInt(8) == 0 ? random.nextInt(64) : 0;
                mutated = changed;
                out = sealer.seal(RecordCrypto.inner(changed, newType, padding));
            } else {
                out = sealer.seal(inner);
            }
            if (!application && type == 22 && content.length > 0 && content[0] == 20) {
                // after the Finished: the application traffic secret
                byte[] s = secret(side + "_TRAFFIC_SECRET_0");
                if (s != null) {
                    application = true;
                    opener = RecordCrypto.of(suite, s);
                    sealer = RecordCrypto.of(suite, s);
                }
            }
            return TlsRelay.Forward.as(out);
        }
    }

    record Ends(Throwable client, Throwable server, Socket clientSocket, Socket serverSocket) {
    }

    static Ends resealedRun(ServerSocket ss, TlsConfig serverConfig, TlsConfig clientConfig, Resealer hook) throws Exception {
        Throwable[] serverOutcome = new Throwable[1];
        Socket[] serverSocket = new Socket[1];
        Future<?> served = POOL.submit(() -> {
            try {
                Socket s = ss.accept();
                serverSocket[0] = s;
                s.setSoTimeout(200);
                try (TlsConnection c = TlsConnection.accept(s, serverConfig)) {
                    byte[] got = c.getInputStream().readNBytes(4);
                    c.getOutputStream().write(got);
                    c.shutdownOutput();
                    c.getInputStream().readAllBytes();
                }
            } catch (Throwable t) {
                serverOutcome[0] = t;
            }
            return null;
        });
        Throwable clientOutcome = null;
        Socket s = null;
        try (TlsRelay relay = new TlsRelay(ss.getLocalPort(), hook)) {
            s = new Socket(LOOPBACK, relay.port());
            s.setSoTimeout(200);
            try (TlsConnection c = TlsConnection.connect(s, clientConfig)) {
                c.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                c.getInputStream().readAllBytes();
            } catch (Throwable t) {
                clientOutcome = t;
            } finally {
                s.close();
            }
            served.get(20, TimeUnit.SECONDS);
        }
        if (serverSocket[0] != null) {
            serverSocket[0].close();
        }
        return new Ends(clientOutcome, serverOutcome[0], s, serverSocket[0]);
    }

    void resealedFuzz(boolean towardsServer, Findings findings) throws Exception {
        CipherSuite suite = CipherSuites.byCode(0x1301);
        Map<String, Map<String, byte[]>> secrets = new ConcurrentHashMap<>();
        KeyLog log = (label, random, secret) -> secrets.computeIfAbsent(Hex.encode(random), k -> new ConcurrentHashMap<>()).put(label, secret.clone());
        TlsConfig plainServer = server().suites(List.of(suite)).keyLog(log).build();
        TlsConfig requiringServer = server().suites(List.of(suite)).keyLog(log).requireClientCertificate(true)
                .trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).build();
        TlsConfig plainClient = client().alpn(List.of("http/1.1")).build();
        TlsConfig certClient = client().withCertificate().build();
        int iterations = 250 * SCALE;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(6L * SCALE);
        try (ServerSocket ss = new ServerSocket(0, 50, LOOPBACK)) {
            int i = 0;
            for (; i < iterations && System.nanoTime() < deadline; i++) {
                Random r = new Random(SEED ^ ((towardsServer ? 0x7a1L : 0x7b2L) << 32) ^ i);
                boolean clientAuth = towardsServer || r.nextBoolean();
                // Server to client: EE, [CR], Certificate, CV, Finished, NewSessionTicket, the echo.
                // Client to server (with a certificate): Certificate, CV, Finished, "ping".
                int target = towardsServer ? r.nextInt(4) : r.nextInt(clientAuth ? 7 : 6);
                Resealer hook = new Resealer(towardsServer, target, r, suite, secrets);
                Ends e = resealedRun(ss, clientAuth ? requiringServer : plainServer, clientAuth ? certClient : plainClient, hook);
                String note = (towardsServer ? "client" : "server") + " record " + target + (clientAuth ? " with client auth" : "")
                        + (hook.original == null ? "" : ", original " + Hex.encode(Arrays.copyOf(hook.original, Math.min(64, hook.original.length))) + "...");
                Throwable victim = towardsServer ? e.server() : e.client();
                Throwable other = towardsServer ? e.client() : e.server();
                findings.check(victim, SEED, i, hook.mutated, note);
                findings.check(other, SEED, i, hook.mutated, note + " (the other side)");
            }
            secrets.clear();
        }
        findings.assertNone();
    }

    @Test
    void resealedServerMessagesToAClient() throws Exception {
        resealedFuzz(false, new Findings("client <- resealed, mutated EncryptedExtensions/CertificateRequest/Certificate/"
                + "CertificateVerify/Finished/NewSessionTicket"));
    }

    @Test
    void resealedClientMessagesToAServer() throws Exception {
        resealedFuzz(true, new Findings("server <- resealed, mutated client Certificate/CertificateVerify/Finished/data"));
    }

    // ---------------------------------------------------------------- the record layer, post-handshake messages, key shares

    @Test
    void randomRecordsToTheRecordLayer() {
        Findings findings = new Findings("RecordLayer.read <- random records");
        byte[] key = new byte[16];
        byte[] iv = new byte[12];
        Random keys = new Random(SEED);
        keys.nextBytes(key);
        keys.nextBytes(iv);
        for (int i = 0; i < 20_000 * SCALE; i++) {
            Random r = new Random(SEED ^ (0x4ecL << 32) ^ i);
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            int style = r.nextInt(4);
            RecordCrypto sealer = new RecordCrypto(CipherSuite.Cipher.AES_128_GCM, key, iv);
            int records = 1 + r.nextInt(4);
            for (int k = 0; k < records; k++) {
                switch (style) {
                    case 0 -> {
                        byte[] junk = new byte[r.nextInt(64)];
                        r.nextBytes(junk);
                        wire.writeBytes(junk);
                    }
                    case 1, 2 -> {
                        int type = r.nextInt(6) == 0 ? r.nextInt(256) : 20 + r.nextInt(4);
                        int length = r.nextInt(5) == 0 ? r.nextInt(0x10000) : r.nextInt(80);
                        byte[] body = new byte[r.nextInt(4) == 0 ? r.nextInt(100) : Math.min(length, 2000)];
                        r.nextBytes(body);
                        wire.writeBytes(new byte[] {(byte) type, (byte) (r.nextInt(8) == 0 ? r.nextInt(256) : 3), (byte) r.nextInt(5),
                                (byte) (length >> 8), (byte) length});
                        wire.writeBytes(body);
                    }
                    default -> {
                        // sealed correctly, with random inner plaintext: content, type and padding
                        byte[] inner = new byte[r.nextInt(4) == 0 ? 0 : r.nextInt(200)];
                        r.nextBytes(inner);
                        if (inner.length > 0 && r.nextBoolean()) {
                            Arrays.fill(inner, r.nextInt(inner.length), inner.length, (byte) 0);
                        }
                        wire.writeBytes(sealer.seal(inner));
                    }
                }
            }
            byte[] input = wire.toByteArray();
            RecordLayer layer = new RecordLayer();
            layer.receive(input, 0, input.length);
            if (style >= 2) {
                layer.setReadProtection(new RecordProtection13(CipherSuite.Cipher.AES_128_GCM, key.clone(), iv));
            }
            if (r.nextInt(3) == 0) {
                layer.handshakeDone();
            }
            Throwable outcome = null;
            try {
                for (int n = 0; n < 100; n++) {
                    RecordLayer.Record rec = layer.next();
                    if (rec == null) {
                        layer.endOfInput();
                        break;
                    }
                    if (rec.data().length > RecordLayer.MAX_FRAGMENT) {
                        findings.problem("a record of " + rec.data().length + " bytes came out of the record layer");
                    }
                }
            } catch (Throwable t) {
                outcome = t;
            }
            findings.check(outcome, SEED, i, input, "style " + style);
        }
        findings.assertNone();
    }

    static HandshakeResult session(CipherSuite suite, Random r) {
        KeySchedule13 ks = KeySchedule13.of(suite);
        int len = ks.hash().length();
        byte[][] s = new byte[5][len];
        for (byte[] b : s) {
            r.nextBytes(b);
        }
        byte[] random = new byte[32];
        r.nextBytes(random);
        return new HandshakeResult(suite, NamedGroup.X25519, List.of(), false, null, "localhost", random, s[0], s[1], s[2], s[3], ks);
    }

    @Test
    void randomPostHandshakeMessages() throws Exception {
        Findings findings = new Findings("PostHandshake.handle <- mutated NewSessionTicket/KeyUpdate");
        byte[] ticket = Hex.decode("04000015" + "00001c20" + "01020304" + "0100" + "0008" + "0102030405060708" + "0000", "ticket");
        byte[] withExtension = Hex.decode("04000019" + "00001c20" + "01020304" + "0100" + "0008" + "0102030405060708" + "0004" + "002a0000",
                "ticket with early_data");
        byte[][] corpus = {ticket, withExtension, Hex.decode("1800000100", "key update"), Hex.decode("1800000101", "key update requested"),
                concatBytes(ticket, ticket), concatBytes(ticket, Hex.decode("1800000101", "kur"))};
        CipherSuite[] suites = {CipherSuites.byCode(0x1301), CipherSuites.byCode(0x1302), CipherSuites.byCode(0x1303)};
        for (int i = 0; i < 20_000 * SCALE; i++) {
            Random r = new Random(SEED ^ (0x9a5L << 32) ^ i);
            byte[] base = corpus[r.nextInt(corpus.length)];
            byte[] input = r.nextInt(10) == 0 ? randomBytes(r, r.nextInt(40)) : mutateHandshake(base, r);
            boolean client = r.nextBoolean();
            RecordLayer records = new RecordLayer();
            PostHandshake post = new PostHandshake(records, session(suites[r.nextInt(3)], r), client, java.time.Clock.systemUTC());
            Throwable outcome = null;
            try {
                // in one piece or split over several records
                int at = 0;
                while (at < input.length) {
                    int n = r.nextBoolean() ? input.length - at : 1 + r.nextInt(input.length - at);
                    post.handle(input, at, n);
                    if (post.takeAnswerOwed()) {
                        post.sendKeyUpdate(false);
                    }
                    at += n;
                }
                if (input.length == 0) {
                    post.handle(input, 0, 0);
                }
            } catch (Throwable t) {
                outcome = t;
            }
            findings.check(outcome, SEED, i, input, client ? "as a client" : "as a server");
        }
        findings.assertNone();
    }

    static byte[] randomBytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    static byte[] concatBytes(byte[] a, byte[] b) {
        return concat(List.of(a, b));
    }

    @Test
    void randomKeySharesForEveryGroup() {
        Findings findings = new Findings("NamedGroup respond/finish <- random and damaged key shares");
        for (NamedGroup g : NamedGroup.values()) {
            NamedGroup.ClientShare honest = g.generate();
            byte[] good = honest.keyExchange();
            byte[] goodServer = g.respond(good).keyExchange();
            int[] lengths = {0, 1, 31, 32, 33, 64, 65, 66, 1088, 1120, 1184, 1216, 1217, 1215};
            int runs = g == NamedGroup.X25519MLKEM768 ? 150 : 400;
            for (int i = 0; i < runs * SCALE; i++) {
                Random r = new Random(SEED ^ ((long) g.code() << 32) ^ i);
                byte[] share = switch (r.nextInt(4)) {
                    case 0 -> randomBytes(r, lengths[r.nextInt(lengths.length)]);
                    case 1 -> {
                        byte[] b = good.clone();
                        b[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
                        yield b;
                    }
                    case 2 -> {
                        byte[] b = good.clone();
                        Arrays.fill(b, r.nextInt(b.length), b.length, (byte) (r.nextBoolean() ? 0xff : 0));
                        yield b;
                    }
                    default -> randomBytes(r, good.length);
                };
                Throwable outcome = null;
                try {
                    g.respond(share);
                } catch (Throwable t) {
                    outcome = t;
                }
                findings.check(outcome, SEED, i, share, g + " respond");
                byte[] serverShare = r.nextBoolean() ? randomBytes(r, r.nextBoolean() ? goodServer.length : lengths[r.nextInt(lengths.length)])
                        : mutate(goodServer, r, List.of());
                outcome = null;
                try {
                    g.generate().finish(serverShare);
                } catch (Throwable t) {
                    outcome = t;
                }
                findings.check(outcome, SEED, i, serverShare, g + " finish");
            }
        }
        findings.assertNone();
    }
}
