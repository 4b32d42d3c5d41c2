package dev.keyway.tls;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.KeyBlock12;
import dev.keyway.core.kdf.Prf12;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.record.RecordLayer;
import dev.keyway.tls.record.RecordProtection12;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link TlsServer} attacked by a peer that has read its code: each test is one attack, and fails if the server
 * gives in to it (holds a slot, buffers without bound, stops serving others, hangs, loses data, miscounts).
 * Short timeouts come from the builder; every socket is on 127.0.0.1 (or a loopback alias) and closed after.
 */
class TlsServerAttackTest {
    @TempDir
    static Path dir;
    static TlsConfig serverConfig;
    static TlsConfig clientConfig;
    static TlsConfig client12Config;

    private TlsServer server;
    private final List<Socket> sockets = new ArrayList<>();
    private final ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
    /** Connections the handler saw open, in order. */
    private final LinkedBlockingQueue<TlsServer.Connection> opened = new LinkedBlockingQueue<>();

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl makes the test certificates");
        TestCerts.make(dir, "ec", "ec", 5);
        serverConfig = TlsConfig.builder().certificate(TestCerts.certs(dir.resolve("ec.pem")), TestCerts.key(dir.resolve("ec.key"), "ec"))
                .versions(List.of(TlsVersion.TLS13, TlsVersion.TLS12)).build();
        clientConfig = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost").build();
        client12Config = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost")
                .versions(List.of(TlsVersion.TLS12)).build();
    }

    @AfterEach
    void stop() {
        for (Socket s : sockets) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        if (server != null) {
            server.close();
        }
    }

    /** Echoes, records every connection that opens and how each one ended. */
    class Echo implements TlsServer.Handler {
        @Override
        public void opened(TlsServer.Connection c) {
            opened.add(c);
        }

        @Override
        public void received(TlsServer.Connection c, byte[] b, int off, int len) {
            c.write(b, off, len);
        }

        @Override
        public void closed(TlsServer.Connection c, Exception failure) {
            events.add(failure == null ? "clean" : failure.getClass().getSimpleName() + ": " + failure.getMessage());
        }
    }

    private TlsServer start(TlsServer.Builder b) throws IOException {
        server = b.onRefused((remote, why) -> events.add("refused " + remote.getAddress().getHostAddress() + ": " + why)).start();
        return server;
    }

    private Socket raw() throws IOException {
        return raw(null, 0);
    }

    /** A plain TCP connection, from {@code local} (a loopback alias) when given, with that receive buffer when not 0. */
    private Socket raw(InetAddress local, int receiveBuffer) throws IOException {
        Socket s = new Socket();
        synchronized (sockets) {
            sockets.add(s);
        }
        if (receiveBuffer > 0) {
            s.setReceiveBufferSize(receiveBuffer); // before connect, so the window is small from the start
        }
        if (local != null) {
            s.bind(new InetSocketAddress(local, 0));
        }
        s.connect(server.address(), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    private String echoOnce(String text) throws IOException {
        try (Socket s = raw(); TlsConnection c = TlsConnection.connect(s, clientConfig)) {
            c.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
            return new String(c.getInputStream().readNBytes(text.length()), StandardCharsets.UTF_8);
        }
    }

    /**
     * A client engine on a plain socket, driven by hand: the test decides when, and whether, it reads. It keeps
     * the first bytes the server sent (the ServerHello's random is in them).
     */
    final class RawClient {
        final Socket socket;
        final TlsEngine engine;
        final ByteArrayOutputStream firstBytes = new ByteArrayOutputStream();

        RawClient(TlsConfig config, int receiveBuffer) throws IOException {
            this.socket = raw(null, receiveBuffer);
            this.engine = TlsEngine.client(config);
        }

        RawClient handshake() throws IOException {
            send();
            byte[] buf = new byte[16384];
            InputStream in = socket.getInputStream();
            while (!engine.isHandshakeComplete()) {
                int n = in.read(buf);
                if (n < 0) {
                    throw new EOFException("the server closed during the handshake");
                }
                if (firstBytes.size() < 4096) {
                    firstBytes.write(buf, 0, n);
                }
                engine.receive(buf, 0, n);
                send();
            }
            return this;
        }

        /** Sends whatever the engine has for the server. */
        void send() throws IOException {
            byte[] out = new byte[engine.outputLength()];
            engine.takeOutput(out, 0, out.length);
            socket.getOutputStream().write(out);
        }

        void write(byte[] data) throws IOException {
            engine.write(data, 0, data.length);
            send();
        }

        /** Reads application data until {@code n} bytes came, or the server's close_notify (then fewer). */
        byte[] read(int n) throws IOException {
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[65536];
            byte[] app = new byte[65536];
            InputStream in = socket.getInputStream();
            while (got.size() < n) {
                int k = engine.read(app, 0, Math.min(app.length, n - got.size()));
                if (k < 0) {
                    break;
                }
                if (k > 0) {
                    got.write(app, 0, k);
                    continue;
                }
                int r = in.read(buf);
                if (r < 0) {
                    engine.receiveEnd();
                    continue;
                }
                engine.receive(buf, 0, r);
            }
            return got.toByteArray();
        }
    }

    // ---- slowloris ----

    /** RFC 8446 section 4.1.2: a ClientHello dripped a byte at a time never completes; the handshake timeout is absolute. */
    @Test
    void aClientHelloDrippedAByteAtATimeIsCutAtTheHandshakeTimeout() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).handshakeTimeout(Duration.ofMillis(500)));
        TlsEngine client = TlsEngine.client(clientConfig);
        byte[] hello = new byte[client.outputLength()];
        client.takeOutput(hello, 0, hello.length);
        Socket s = raw();
        s.setTcpNoDelay(true);
        boolean cut = false;
        for (int i = 0; i < hello.length && i < 100; i++) { // 100 bytes in 5 s: ten times the timeout
            try {
                s.getOutputStream().write(hello[i]);
            } catch (SocketException e) {
                cut = true; // the server reset the connection
                break;
            }
            Thread.sleep(50);
        }
        waitFor(() -> !events.isEmpty());
        assertThat(events.peek()).isEqualTo("TimeoutException: no complete handshake within 500 ms");
        assertThat(cut || readsEnd(s)).as("the server closed the dripping socket").isTrue();
        assertThat(server.connections()).isZero();
    }

    /**
     * A client that stops reading while it keeps sending a little: the server's output for it stalls, and the
     * bytes it keeps sending must not count as activity, or it holds a slot and the output forever.
     */
    @Test
    void aClientThatStopsReadingIsCutWhenItsOutputStallsEvenIfItKeepsSending() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).idleTimeout(Duration.ofMillis(600)));
        RawClient c = new RawClient(clientConfig, 4096).handshake();
        TlsServer.Connection sc = opened.poll(5, TimeUnit.SECONDS);
        assertThat(sc).isNotNull();
        byte[] chunk = new byte[65536];
        long sent = 0;
        // The handshake's last output (the tickets) may still wait for the selector: it is not stalled output.
        waitFor(() -> sc.engine().outputLength() == 0);
        // Fill the path until the server holds output it cannot send (the socket buffers are full), a chunk at a
        // time with a pause for the server to echo it, so it stops far below its 1 MiB high-water mark and goes
        // on reading.
        do {
            c.write(chunk);
            sent += chunk.length;
            Thread.sleep(20);
        } while (sc.engine().outputLength() == 0 && sent < (64L << 20));
        Assumptions.assumeTrue(sc.engine().outputLength() > 0, "the socket buffers took 64 MiB: no stalled output to test");
        // Now drip: one byte every 100 ms for up to 6 s (ten idle timeouts). Each is echoed into the stalled output.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
        boolean cut = false;
        while (!cut && System.nanoTime() < deadline) {
            try {
                c.write(new byte[] {'.'});
            } catch (IOException e) {
                // reset by the server: its handler hears of the end a moment after the socket closes
                waitFor(() -> !events.isEmpty());
                cut = true;
                break;
            }
            Thread.sleep(100);
            cut = !events.isEmpty();
        }
        System.out.printf("TlsServerAttackTest: stalled after %d KiB sent; while dripping: %s%n", sent / 1024, events.peek());
        assertThat(cut).as("the server cut the client while it was still dripping").isTrue();
        assertThat(events.peek()).isEqualTo("TimeoutException: the peer took no data for 600 ms: closed");
        waitFor(() -> server.connections() == 0);
    }

    /** Ways to send something now and then that is not application data. */
    enum Keepalive { KEY_UPDATE, KEY_UPDATE_REQUESTED_AND_READ, EMPTY_RECORD }

    /**
     * TLS has no keepalive, yet records that carry no application data (a KeyUpdate, one with update_requested whose
     * answer the client reads, a zero-length application_data record: RFC 8446 sections 4.6.3 and 5.4) arrive, and
     * counted as activity they kept a connection open for ever past the idle timeout, even a --www request head
     * past its deadline (that handler only runs on data). They do not count.
     */
    @Test
    void recordsWithoutApplicationDataDoNotKeepAConnectionAlive() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).idleTimeout(Duration.ofMillis(500)));
        for (Keepalive kind : Keepalive.values()) {
            events.clear();
            java.util.Map<String, byte[]> secrets = new java.util.concurrent.ConcurrentHashMap<>();
            TlsConfig logging = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost")
                    .keyLog((label, random, secret) -> secrets.put(label, secret.clone())).build();
            RawClient c = new RawClient(logging, 0).handshake();
            RecordCrypto sealer = RecordCrypto.of(c.engine.suite(), secrets.get("CLIENT_TRAFFIC_SECRET_0"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(4); // eight idle timeouts
            boolean cut = false;
            while (!cut && System.nanoTime() < deadline) {
                try {
                    switch (kind) {
                        case KEY_UPDATE -> {
                            c.engine.keyUpdate(false);
                            c.send();
                        }
                        case KEY_UPDATE_REQUESTED_AND_READ -> {
                            c.engine.keyUpdate(true);
                            c.send();
                            while (c.socket.getInputStream().available() > 0) { // the answer: read, nothing piles up
                                byte[] got = new byte[c.socket.getInputStream().available()];
                                c.engine.receive(got, 0, c.socket.getInputStream().read(got));
                            }
                        }
                        case EMPTY_RECORD -> c.socket.getOutputStream().write(sealer.seal(RecordCrypto.inner(new byte[0], 23, 0)));
                    }
                } catch (IOException | RuntimeException e) {
                    break; // the server closed
                }
                Thread.sleep(100);
                cut = !events.isEmpty();
            }
            System.out.printf("TlsServerAttackTest: %s every 100 ms: %s%n", kind, events.peek());
            assertThat(cut).as(kind + ": cut while still sending").isTrue();
            assertThat(events.peek()).isEqualTo("TimeoutException: idle for 500 ms: closed");
            waitFor(() -> server.connections() == 0);
        }
    }

    /** A client that writes 16 MiB and never reads: what the server holds for it stays near the 1 MiB high-water mark. */
    @Test
    void aClientThatNeverReadsHoldsBoundedOutput() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).idleTimeout(Duration.ofSeconds(3)));
        RawClient c = new RawClient(clientConfig, 4096).handshake();
        TlsServer.Connection sc = opened.poll(5, TimeUnit.SECONDS);
        Thread writer = writeInBackground(c, 16 << 20);
        long max = sampleMax(() -> sc.engine().outputLength(), 1500);
        System.out.printf("TlsServerAttackTest: most output held for a non-reading client: %d KiB%n", max / 1024);
        assertThat(max).isGreaterThan(0).isLessThanOrEqualTo((1 << 20) + (256 << 10));
        c.socket.close();
        writer.join(5000);
        waitFor(() -> server.connections() == 0);
        assertThat(echoOnce("still served")).isEqualTo("still served");
    }

    /**
     * Many clients that never read: the high-water mark bounds each (1 MiB), so 10,000 could hold 10 GiB. The
     * output waiting in all stays near the server's budget (a quarter of the heap; 512 KiB here), and clients that
     * do read (a small echo, and 2 MiB) are served meanwhile.
     */
    @Test
    void manyClientsThatNeverReadHoldNoMoreThanTheOutputBudget() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).idleTimeout(Duration.ofSeconds(5)).outputBudget(512 << 10));
        List<TlsServer.Connection> held = new ArrayList<>();
        List<Thread> writers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            RawClient c = new RawClient(clientConfig, 4096).handshake();
            held.add(opened.poll(5, TimeUnit.SECONDS));
            writers.add(writeInBackground(c, 16 << 20));
        }
        long max = sampleMax(() -> held.stream().mapToLong(sc -> sc.engine().outputLength()).sum(), 1500);
        System.out.printf("TlsServerAttackTest: 6 clients that never read hold %d KiB of output in all (budget 512 KiB)%n", max / 1024);
        assertThat(max).isLessThanOrEqualTo(2 << 20); // without the budget: about 6 MiB
        assertThat(echoOnce("served beside them")).isEqualTo("served beside them");
        byte[] big = new byte[2 << 20];
        new java.util.Random(3).nextBytes(big);
        try (Socket s = raw(); TlsConnection c = TlsConnection.connect(s, clientConfig)) {
            Thread w = new Thread(() -> {
                try {
                    c.getOutputStream().write(big);
                } catch (IOException e) {
                    events.add("big writer: " + e);
                }
            });
            w.start();
            byte[] back = c.getInputStream().readNBytes(big.length);
            w.join(10_000);
            assertThat(Arrays.equals(back, big)).as("2 MiB echoed while the budget is spent").isTrue();
        }
    }

    /**
     * RFC 8446 section 4.6.3: each KeyUpdate with update_requested is answered with a KeyUpdate. A client floods them
     * and never reads the answers: what the server holds stays bounded, and a normal client on the same loop is served.
     */
    @Test
    void aKeyUpdateFloodFromAClientThatNeverReadsHoldsBoundedOutput() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).loops(1).idleTimeout(Duration.ofSeconds(2)));
        RawClient c = new RawClient(clientConfig, 4096).handshake();
        TlsServer.Connection sc = opened.poll(5, TimeUnit.SECONDS);
        Flood flood = new Flood(4, () -> {
            for (int i = 0; i < 64; i++) {
                c.engine.keyUpdate(true);
            }
            c.send();
            return 64;
        });
        long max = sampleMax(() -> sc.engine().outputLength(), 1500);
        assertThat(echoOnce("served beside the flood")).isEqualTo("served beside the flood");
        flood.thread.join(10_000);
        System.out.printf("TlsServerAttackTest: %d KeyUpdates sent in 4 s; most output held: %d KiB%n", flood.sent.get(), max / 1024);
        assertThat(max).isLessThanOrEqualTo((1 << 20) + (256 << 10));
    }

    /**
     * RFC 5746 section 4.2: a TLS 1.2 server answers a ClientHello after the handshake with a no_renegotiation
     * warning and goes on. A client floods them and never reads the warnings: what the server holds stays bounded,
     * and once its output for the client is stuck for the idle timeout, the client is cut while it still floods.
     */
    @Test
    void aRenegotiationFloodFromATls12ClientThatNeverReadsIsBoundedAndCut() throws Exception {
        List<byte[]> logged = new ArrayList<>(); // CLIENT_RANDOM line: the client random and the master secret
        TlsConfig logging = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost")
                .versions(List.of(TlsVersion.TLS12)).keyLog((label, random, secret) -> {
                    logged.add(random.clone());
                    logged.add(secret.clone());
                }).build();
        start(TlsServer.builder(serverConfig, new Echo()).idleTimeout(Duration.ofSeconds(1)));
        RawClient c = new RawClient(logging, 4096).handshake();
        TlsServer.Connection sc = opened.poll(5, TimeUnit.SECONDS);
        assertThat(c.engine.version()).isEqualTo("TLSv1.2");
        RecordProtection12 seal = clientWriteProtection12(c, logged.get(0), logged.get(1));
        // A renegotiation ClientHello (handshake type 1, RFC 5246 section 7.4.1.2), sealed under the client's keys.
        byte[] hello = {1, 0, 0, 0};
        byte[] record = new byte[hello.length + seal.expansion()];
        ByteArrayOutputStream burst = new ByteArrayOutputStream();
        Flood flood = new Flood(8, () -> {
            burst.reset();
            for (int i = 0; i < 256; i++) {
                burst.write(record, 0, seal.seal(RecordLayer.HANDSHAKE, hello, 0, hello.length, record, 0));
            }
            c.socket.getOutputStream().write(burst.toByteArray());
            return 256;
        });
        long max = sampleMax(() -> sc.engine().outputLength(), 1500);
        flood.thread.join(10_000);
        System.out.printf("TlsServerAttackTest: %d renegotiation ClientHellos sent; most output held: %d KiB; %s%n",
                flood.sent.get(), max / 1024, events.peek());
        assertThat(max).isLessThanOrEqualTo((1 << 20) + (256 << 10));
        assertThat(flood.cut).as("cut while flooding").isTrue();
        assertThat(events.peek()).isEqualTo("TimeoutException: the peer took no data for 1 s: closed");
    }

    /** Sends bursts on a thread until the server cuts the connection or {@code seconds} pass. */
    static final class Flood {
        interface Burst {
            int send() throws IOException;
        }

        final java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
        final Thread thread;
        volatile boolean cut;

        Flood(int seconds, Burst burst) {
            thread = new Thread(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
                try {
                    while (System.nanoTime() < deadline) {
                        sent.addAndGet(burst.send());
                    }
                } catch (IOException e) {
                    cut = true;
                }
            });
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** The client's write protection after its Finished (sequence 1), from the master secret and both randoms. */
    private static RecordProtection12 clientWriteProtection12(RawClient c, byte[] clientRandom, byte[] masterSecret) {
        byte[] first = c.firstBytes.toByteArray();
        // record header (5), handshake header (4), server_version (2), then Random (32): RFC 5246 section 7.4.1.3
        assertThat(first[0]).isEqualTo((byte) RecordLayer.HANDSHAKE);
        assertThat(first[5]).as("ServerHello").isEqualTo((byte) 2);
        byte[] serverRandom = Arrays.copyOfRange(first, 11, 43);
        CipherSuite suite = c.engine.suite();
        KeyBlock12 kb = Prf12.keyBlock(suite, TlsVersion.TLS12, masterSecret, clientRandom, serverRandom);
        RecordProtection12 p = new RecordProtection12(suite, kb.clientKey(), kb.clientIv(), kb.clientMacKey());
        byte[] skip = new byte[64 + p.expansion()];
        p.seal(RecordLayer.HANDSHAKE, new byte[16], 0, 16, skip, 0); // sequence 0 was the client's Finished
        return p;
    }

    // ---- close_notify and half-close ----

    /**
     * RFC 8446 section 6.1: "Any data received after a closure alert has been received MUST be ignored." Bytes
     * after the client's close_notify (here garbage that is no record at all, in the same TCP segment) are not a
     * protocol error: the connection ends cleanly and the client gets the server's close_notify.
     */
    @Test
    void bytesAfterTheClientsCloseNotifyAreIgnored() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()));
        RawClient c = new RawClient(clientConfig, 0).handshake();
        c.engine.closeOutbound();
        byte[] closeNotify = new byte[c.engine.outputLength()];
        c.engine.takeOutput(closeNotify, 0, closeNotify.length);
        // a whole application_data record (RFC 8446 section 5.1) that no key opens
        byte[] garbage = "\u0017\u0003\u0003\u0000\u0020these 32 bytes open under no key".getBytes(StandardCharsets.ISO_8859_1);
        assertThat(garbage).hasSize(5 + 32);
        byte[] both = Arrays.copyOf(closeNotify, closeNotify.length + garbage.length);
        System.arraycopy(garbage, 0, both, closeNotify.length, garbage.length);
        c.socket.getOutputStream().write(both);
        assertThat(c.read(1)).as("the server's close_notify, no data").isEmpty();
        waitFor(() -> !events.isEmpty());
        assertThat(events.peek()).isEqualTo("clean");
    }

    /**
     * A client that sends close_notify, then keeps sending: the server drains it while it sends (each byte buys
     * another 2 s, so a peer still sending reads our close_notify rather than a reset), but no longer than the
     * linger's limit (60 s by default, 3 s here), then closes.
     */
    @Test
    void aClientThatKeepsSendingAfterItsCloseNotifyIsCutAfterTheLinger() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).idleTimeout(Duration.ofSeconds(30)).lingerMax(Duration.ofSeconds(3)));
        RawClient c = new RawClient(clientConfig, 0).handshake();
        c.engine.closeOutbound();
        c.send();
        long t0 = System.nanoTime();
        byte[] junk = new byte[1024];
        boolean cut = false;
        while (System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(8)) {
            try {
                c.socket.getOutputStream().write(junk);
            } catch (IOException e) {
                cut = true;
                break;
            }
            Thread.sleep(5);
        }
        assertThat(cut).as("the server closed the socket while the client was still sending").isTrue();
        waitFor(() -> server.connections() == 0);
        assertThat(events).containsExactly("clean");
    }

    /**
     * A client that writes 8 MiB, then close_notify and FIN (a half-close, as {@code tls connect < file} does), and
     * reads the echo as it comes: the server's end of input must not throw away the echo it still holds.
     */
    @Test
    void aClientThatHalfClosesGetsAllItsEchoBack() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()));
        RawClient c = new RawClient(clientConfig, 0).handshake();
        byte[] data = new byte[8 << 20];
        new java.util.Random(11).nextBytes(data);
        Thread writer = new Thread(() -> {
            try {
                for (int off = 0; off < data.length; off += 65536) {
                    synchronized (c) {
                        c.engine.write(data, off, 65536);
                    }
                    sendLocked(c);
                }
                synchronized (c) {
                    c.engine.closeOutbound();
                }
                sendLocked(c);
                c.socket.shutdownOutput();
            } catch (IOException e) {
                events.add("writer: " + e);
            }
        });
        writer.start();
        byte[] back = readAll(c, data.length + 1, true);
        writer.join(10_000);
        assertThat(back.length).as("bytes echoed of " + data.length).isEqualTo(data.length);
        assertThat(Arrays.equals(back, data)).isTrue();
    }

    /** Sends the client engine's output; the reader thread may queue nothing (the server sends no KeyUpdate). */
    private static void sendLocked(RawClient c) throws IOException {
        byte[] out;
        synchronized (c) {
            out = new byte[c.engine.outputLength()];
            c.engine.takeOutput(out, 0, out.length);
        }
        c.socket.getOutputStream().write(out);
    }

    /**
     * Application data until close_notify or {@code limit}; an EOF without close_notify is a failure here. A slow
     * reader pauses a little after each read, so the server has output waiting most of the time.
     */
    private static byte[] readAll(RawClient c, int limit, boolean slow) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        byte[] app = new byte[65536];
        InputStream in = c.socket.getInputStream();
        while (got.size() < limit) {
            int k = c.engine.read(app, 0, app.length);
            if (k < 0) {
                break;
            }
            if (k > 0) {
                got.write(app, 0, k);
                continue;
            }
            int r = in.read(buf);
            if (slow) {
                sleep(2);
            }
            if (r < 0) {
                try {
                    c.engine.receiveEnd();
                } catch (EOFException e) {
                    throw new EOFException("cut after " + got.size() + " bytes: " + e.getMessage());
                }
                continue;
            }
            c.engine.receive(buf, 0, r);
        }
        return got.toByteArray();
    }

    // ---- the API under abuse ----

    /**
     * Connection.write from another thread after the connection ended: refused, not buffered without end in an
     * engine nobody drains (a producer thread would otherwise grow the heap until it dies).
     */
    @Test
    void writingToAConnectionThatEndedIsRefused() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()));
        RawClient c = new RawClient(clientConfig, 0).handshake();
        TlsServer.Connection sc = opened.poll(5, TimeUnit.SECONDS);
        c.socket.setSoLinger(true, 0);
        c.socket.close(); // RST: no close_notify, the server's engine has not failed
        waitFor(() -> !events.isEmpty());
        int before = sc.engine().outputLength();
        RuntimeException refused = null;
        try {
            for (int i = 0; i < 1000; i++) {
                sc.write(new byte[1024]);
            }
        } catch (IllegalStateException e) {
            refused = e;
        }
        assertThat(refused).as("write after the end").isNotNull().hasMessageContaining("closed");
        assertThat(sc.engine().outputLength()).isEqualTo(before);
    }

    /**
     * Another thread writes (and now and then closes) while the loop ends the connection because the peer reset it:
     * the writer sees IllegalStateException and nothing else, soon, and every slot is freed.
     */
    @Test
    void writesFromAnotherThreadRaceTheEndOfTheConnectionSafely() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).loops(1));
        java.util.Random random = new java.util.Random(5);
        for (int round = 0; round < 20; round++) {
            RawClient c = new RawClient(clientConfig, 0).handshake();
            TlsServer.Connection sc = opened.poll(5, TimeUnit.SECONDS);
            AtomicReference<Throwable> outcome = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                byte[] data = new byte[512];
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                try {
                    for (int i = 0; System.nanoTime() < deadline; i++) {
                        while (sc.engine().outputLength() > (256 << 10) && System.nanoTime() < deadline) {
                            Thread.sleep(1); // a well-behaved producer waits for a slow reader
                        }
                        sc.write(data);
                        if (i % 97 == 96) {
                            sc.shutdownOutput();
                        }
                    }
                    outcome.set(new AssertionError("writes still accepted 5 s after the peer reset the connection"));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            });
            writer.start();
            Thread.sleep(random.nextInt(20));
            c.socket.setSoLinger(true, 0);
            c.socket.close();
            writer.join(10_000);
            assertThat(outcome.get()).as("round " + round).isInstanceOf(IllegalStateException.class);
        }
        waitFor(() -> server.connections() == 0);
        assertThat(echoOnce("after the races")).isEqualTo("after the races");
    }

    /** A refusal listener that throws must not take the accepting loop down with it. */
    @Test
    void aRefusalListenerThatThrowsDoesNotStopAccepting() throws Exception {
        server = TlsServer.builder(serverConfig, new Echo()).loops(1).maxConnectionsPerAddress(1)
                .onRefused((remote, why) -> {
                    events.add("refused");
                    throw new IllegalStateException("listener bug");
                }).start();
        Socket first = raw();
        waitFor(() -> server.connections() == 1);
        assertThat(raw().getInputStream().read()).isEqualTo(-1);
        waitFor(() -> events.contains("refused"));
        first.close();
        waitFor(() -> server.connections() == 0);
        assertThat(echoOnce("still accepting")).isEqualTo("still accepting");
    }

    /** A handler that throws from each of its methods: only that connection ends, its slot is freed, others are served. */
    @Test
    void aHandlerThatThrowsEndsOnlyItsConnection() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean failOpened = new java.util.concurrent.atomic.AtomicBoolean(true);
        server = TlsServer.builder(serverConfig, new TlsServer.Handler() {
            @Override
            public void opened(TlsServer.Connection c) {
                if (failOpened.get()) {
                    throw new IllegalStateException("opened bug");
                }
            }

            @Override
            public void received(TlsServer.Connection c, byte[] b, int off, int len) {
                String text = new String(b, off, len, StandardCharsets.US_ASCII);
                switch (text) {
                    case "runtime" -> throw new IllegalStateException("received bug");
                    case "error" -> throw new AssertionError("received bug (an Error)");
                    case "overflow" -> received(c, b, off, len);
                    default -> c.write(b, off, len);
                }
            }

            @Override
            public void peerClosed(TlsServer.Connection c) {
                throw new IllegalStateException("peerClosed bug");
            }

            @Override
            public void closed(TlsServer.Connection c, Exception failure) {
                events.add(failure == null ? "clean" : failure.getClass().getSimpleName() + ": " + failure.getMessage());
                throw new IllegalStateException("closed bug");
            }
        }).loops(1).start();
        RawClient first = new RawClient(clientConfig, 0).handshake();
        assertThat(readsEnd(first.socket)).as("opened threw: the connection ends").isTrue();
        waitFor(() -> server.connections() == 0);
        failOpened.set(false);
        for (String poison : List.of("runtime", "error", "overflow")) {
            RawClient c = new RawClient(clientConfig, 0).handshake();
            c.write(poison.getBytes(StandardCharsets.US_ASCII));
            assertThat(readsEnd(c.socket)).as(poison + ": the connection ends").isTrue();
            waitFor(() -> server.connections() == 0);
            assertThat(echoOnce("after " + poison)).as("served after " + poison).isEqualTo("after " + poison);
        }
        RawClient c = new RawClient(clientConfig, 0).handshake();
        c.engine.closeOutbound();
        c.send();
        assertThat(readsEnd(c.socket)).isTrue();
        waitFor(() -> server.connections() == 0);
        assertThat(echoOnce("after peerClosed")).isEqualTo("after peerClosed");
        System.out.println("TlsServerAttackTest: handler failures seen as " + events);
    }

    /**
     * A JVM error in one loop (here a handler's simulated OutOfMemoryError) kills that loop; the server then stops as
     * a whole, every socket closed, rather than go on handing connections to a loop that no longer serves them.
     */
    @Test
    void aLoopKilledByAJvmErrorStopsTheWholeServer() throws Exception {
        server = TlsServer.builder(serverConfig, new TlsServer.Handler() {
            @Override
            public void received(TlsServer.Connection c, byte[] b, int off, int len) {
                throw new OutOfMemoryError("simulated by the test");
            }
        }).loops(2).start();
        Socket onLoop0 = raw(); // connections go to the loops in turn
        waitFor(() -> server.connections() == 1);
        RawClient onLoop1 = new RawClient(clientConfig, 0).handshake();
        onLoop1.write(new byte[] {'x'});
        assertThat(server.awaitDone(Duration.ofSeconds(10))).as("the server stopped").isTrue();
        assertThat(readsEnd(onLoop0)).as("the other loop's connection was closed").isTrue();
        assertThat(readsEnd(onLoop1.socket)).isTrue();
        assertThat(server.connections()).isZero();
    }

    // ---- resets and half-closes at every stage ----

    /** The stages a peer can reset or half-close at; each sends what leads there. */
    enum Stage { NOTHING_SENT, HALF_CLIENT_HELLO, WHOLE_CLIENT_HELLO, HANDSHAKE_DONE, CLOSE_NOTIFY_SENT, WRITING_16_MIB }

    /** Brings a fresh connection to {@code stage}; the client never reads unless the stage needs it. */
    private RawClient reach(Stage stage) throws Exception {
        opened.clear(); // earlier connections (the echo after each stage) opened too
        RawClient c = new RawClient(clientConfig, stage == Stage.WRITING_16_MIB ? 4096 : 0);
        switch (stage) {
            case NOTHING_SENT -> waitFor(() -> server.connections() == 1);
            case HALF_CLIENT_HELLO, WHOLE_CLIENT_HELLO -> {
                byte[] hello = new byte[c.engine.outputLength()];
                c.engine.takeOutput(hello, 0, hello.length);
                c.socket.getOutputStream().write(hello, 0, stage == Stage.HALF_CLIENT_HELLO ? 60 : hello.length);
                if (stage == Stage.WHOLE_CLIENT_HELLO) {
                    assertThat(c.socket.getInputStream().read()).as("the server's flight").isEqualTo(RecordLayer.HANDSHAKE);
                }
            }
            case HANDSHAKE_DONE -> {
                c.handshake();
                opened.poll(5, TimeUnit.SECONDS);
            }
            case CLOSE_NOTIFY_SENT -> {
                c.handshake();
                c.engine.closeOutbound();
                c.send();
            }
            case WRITING_16_MIB -> {
                c.handshake();
                TlsServer.Connection sc = opened.poll(5, TimeUnit.SECONDS);
                writeInBackground(c, 16 << 20); // more than the socket buffers take: the writer blocks
                waitFor(() -> sc.engine().outputLength() > 0); // the server's output for it is stuck
            }
        }
        return c;
    }

    /** A reset (RST) at every stage: the slot is freed, the end reported as a failure, and the next client served. */
    @Test
    void aResetAtEveryStageFreesTheSlot() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).maxConnectionsPerAddress(1));
        for (Stage stage : Stage.values()) {
            events.clear();
            RawClient c = reach(stage);
            c.socket.setSoLinger(true, 0);
            c.socket.close();
            waitFor(() -> server.connections() == 0);
            waitFor(() -> !events.isEmpty());
            String end = events.peek();
            // After the client's close_notify the reset may be read first (a SocketException, "Connection reset") or
            // after the close_notify was handled (clean): both are a freed slot, which is what counts here.
            assertThat(end).as(stage.name()).matches(stage == Stage.CLOSE_NOTIFY_SENT ? "clean|(IOException|EOFException|SocketException).*"
                    : "(IOException|EOFException|SocketException).*");
            System.out.printf("TlsServerAttackTest: reset at %s: %s%n", stage, end);
            assertThat(echoOnce("after a reset at " + stage)).isEqualTo("after a reset at " + stage); // the cap of 1 admits it
            waitFor(() -> server.connections() == 0);
        }
    }

    /** A half-close (FIN) at every stage: the server ends the connection too (the client's read ends) and frees the slot. */
    @Test
    void aHalfCloseAtEveryStageEndsTheConnection() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).maxConnectionsPerAddress(1));
        for (Stage stage : Stage.values()) {
            if (stage == Stage.WRITING_16_MIB) {
                continue; // aClientThatHalfClosesGetsAllItsEchoBack
            }
            events.clear();
            RawClient c = reach(stage);
            c.socket.shutdownOutput();
            assertThat(readsEnd(c.socket)).as(stage + ": the server ends it").isTrue();
            waitFor(() -> server.connections() == 0);
            waitFor(() -> !events.isEmpty());
            String end = events.peek();
            System.out.printf("TlsServerAttackTest: half-close at %s: %s%n", stage, end);
            if (stage == Stage.CLOSE_NOTIFY_SENT) {
                assertThat(end).isEqualTo("clean");
            } else {
                assertThat(end).as(stage.name()).startsWith("EOFException");
            }
            assertThat(echoOnce("after a half-close at " + stage)).isEqualTo("after a half-close at " + stage);
            waitFor(() -> server.connections() == 0);
        }
    }

    // ---- the caps ----

    /**
     * The caps never leak: 10,000 connections from two addresses that fail at random (reset, FIN, half a ClientHello,
     * garbage, a whole ClientHello then reset, now and then a whole echo), four at a time; then the per-address cap
     * admits exactly 30 from 127.0.0.1 and the total cap exactly 40 in all, each refusing the next for its own reason.
     */
    @Test
    void theCapsAdmitExactlyTheirCountAfter10000ConnectionsThatFailAtRandom() throws Exception {
        InetAddress one = InetAddress.getByName("127.0.0.1");
        InetAddress two = InetAddress.getByName("127.0.0.2");
        start(TlsServer.builder(serverConfig, new Echo()).maxConnectionsPerAddress(30).maxConnections(40)
                .handshakeTimeout(Duration.ofSeconds(2)));
        TlsEngine client = TlsEngine.client(clientConfig);
        byte[] hello = new byte[client.outputLength()];
        client.takeOutput(hello, 0, hello.length);
        long seed = System.nanoTime();
        System.out.println("TlsServerAttackTest: churn seed " + seed);
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger echoes = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            java.util.Random random = new java.util.Random(seed + t);
            Thread th = new Thread(() -> {
                while (done.getAndIncrement() < 10_000) {
                    // Paced to what the server has retired, so that most connections are admitted (counted in and
                    // out); those a cap refuses (closed ones the server accepts from its backlog in a burst) count
                    // in and straight out again, the other path through the counters.
                    for (int spin = 0; server.connections() >= 20 && spin < 5000; spin++) {
                        sleepQuietly();
                    }
                    try (Socket s = new Socket()) {
                        s.bind(new InetSocketAddress(random.nextBoolean() ? one : two, 0));
                        s.connect(server.address(), 5000);
                        s.setSoTimeout(5000);
                        int pick = random.nextInt(100);
                        if (pick < 50) {
                            s.setSoLinger(true, 0); // reset at once (and no TIME_WAIT to eat the ports)
                        } else if (pick < 65) {
                            s.getOutputStream().write(hello, 0, 60);
                            s.setSoLinger(true, 0);
                        } else if (pick < 75) {
                            s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        } else if (pick < 80) {
                            s.getOutputStream().write(hello);
                            s.setSoLinger(true, 0);
                        } else if (pick < 81) {
                            try (TlsConnection c = TlsConnection.connect(s, clientConfig)) {
                                c.getOutputStream().write('e');
                                if (c.getInputStream().read() == 'e') {
                                    echoes.incrementAndGet();
                                }
                            }
                        }
                        // else: a FIN at once
                    } catch (IOException e) {
                        // refused by a cap (the server has not seen an earlier close yet), or reset: both fine here
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join(60_000);
        }
        waitFor(() -> server.connections() == 0);
        long refused = events.stream().filter(e -> e.startsWith("refused")).count();
        System.out.printf("TlsServerAttackTest: 10,000 connections churned: %d admitted and ended, %d refused by a cap, %d whole echoes%n",
                events.size() - refused, refused, echoes.get());
        assertThat(events.size() - refused).as("thousands admitted, so the counts moved").isGreaterThan(2_000);
        events.clear();
        for (int i = 0; i < 30; i++) {
            raw(one, 0);
        }
        waitFor(() -> server.connections() == 30);
        assertThat(raw(one, 0).getInputStream().read()).isEqualTo(-1);
        waitFor(() -> !events.isEmpty());
        assertThat(events.poll()).isEqualTo("refused 127.0.0.1: 30 connections from 127.0.0.1 are open already, the limit per address");
        for (int i = 0; i < 10; i++) {
            raw(two, 0);
        }
        waitFor(() -> server.connections() == 40);
        assertThat(raw(two, 0).getInputStream().read()).isEqualTo(-1);
        waitFor(() -> !events.isEmpty());
        assertThat(events.poll()).isEqualTo("refused 127.0.0.2: the server holds 40 connections, its limit");
    }

    /**
     * The per-address cap counts one address: 127.0.0.2 to 127.0.0.9 (loopback aliases) each get their own 2. So
     * does every IPv4 client behind a NAT or proxy share one (TLS.md says so); IPv6 clients are counted per /64.
     */
    @Test
    void eachLoopbackAliasHasItsOwnPerAddressCap() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).maxConnectionsPerAddress(2));
        for (int a = 2; a <= 9; a++) {
            InetAddress from = InetAddress.getByName("127.0.0." + a);
            raw(from, 0);
            raw(from, 0);
        }
        waitFor(() -> server.connections() == 16);
        for (int a = 2; a <= 9; a++) {
            assertThat(raw(InetAddress.getByName("127.0.0." + a), 0).getInputStream().read()).isEqualTo(-1);
        }
        waitFor(() -> events.size() == 8);
        assertThat(events).allMatch(e -> e.matches("refused 127\\.0\\.0\\.\\d: 2 connections from 127\\.0\\.0\\.\\d are open already.*"));
        assertThat(server.connections()).isEqualTo(16);
    }

    /**
     * An IPv6 host holds a /64 and may connect from any of its 2^64 addresses: the cap counts the /64 (RFC 4291
     * section 2.5.1), not the address. IPv4 addresses stay as they are. (No IPv6 socket: the test keeps to 127.0.0.1.)
     */
    @Test
    void ipv6ClientsAreCountedPerSlash64() throws Exception {
        InetAddress a = InetAddress.getByName("2001:db8:1:2:aaaa:bbbb:cccc:1");
        InetAddress b = InetAddress.getByName("2001:db8:1:2::ffff");
        InetAddress otherNet = InetAddress.getByName("2001:db8:1:3:aaaa:bbbb:cccc:1");
        assertThat(ConnectionLimits.source(a)).isEqualTo(ConnectionLimits.source(b)).isEqualTo(InetAddress.getByName("2001:db8:1:2::"));
        assertThat(ConnectionLimits.source(otherNet)).isNotEqualTo(ConnectionLimits.source(a));
        InetAddress v4 = InetAddress.getByName("192.0.2.7");
        assertThat(ConnectionLimits.source(v4)).isSameAs(v4);
        assertThat(ConnectionLimits.source(InetAddress.getByName("::ffff:192.0.2.7"))).as("IPv4-mapped: Java gives the IPv4 address").isEqualTo(v4);
    }

    /**
     * The accept limit counts connections admitted, whatever becomes of them (reset, garbage, served), and not those
     * a cap refused; once reached the server ends with its last connection and the port is closed.
     */
    @Test
    void theAcceptLimitCountsAdmittedConnectionsOnly() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).maxConnectionsPerAddress(1).acceptLimit(3));
        Socket first = raw();
        waitFor(() -> server.connections() == 1);
        for (int i = 0; i < 5; i++) {
            assertThat(raw().getInputStream().read()).as("refused by the cap").isEqualTo(-1);
        }
        first.setSoLinger(true, 0);
        first.close();
        waitFor(() -> server.connections() == 0);
        Socket garbage = raw();
        garbage.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(readsEnd(garbage)).isTrue();
        waitFor(() -> server.connections() == 0);
        assertThat(server.awaitDone(Duration.ofMillis(100))).isFalse();
        assertThat(echoOnce("third")).isEqualTo("third");
        assertThat(server.awaitDone(Duration.ofSeconds(10))).isTrue();
        Socket late = new Socket();
        sockets.add(late);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> late.connect(server.address(), 2000)).isInstanceOf(IOException.class);
    }

    // ---- close() under load ----

    /** close() while 40 connections are mid-handshake (half a ClientHello, or a full one): every socket ends, at once. */
    @Test
    void closeWhileConnectionsAreMidHandshakeEndsThemAll() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()));
        TlsEngine client = TlsEngine.client(clientConfig);
        byte[] hello = new byte[client.outputLength()];
        client.takeOutput(hello, 0, hello.length);
        List<Socket> mid = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            Socket s = raw();
            s.getOutputStream().write(hello, 0, i % 2 == 0 ? 60 : hello.length); // half, or whole (the server answers)
            mid.add(s);
        }
        waitFor(() -> server.connections() == 40);
        long t0 = System.nanoTime();
        server.close();
        System.out.printf("TlsServerAttackTest: close() with 40 handshakes in flight took %.1f ms%n", (System.nanoTime() - t0) / 1e6);
        assertThat(server.awaitDone(Duration.ofSeconds(1))).isTrue();
        assertThat(server.connections()).isZero();
        for (Socket s : mid) {
            assertThat(readsEnd(s)).isTrue();
        }
    }

    /**
     * close() while connections pour in, handed from the accepting loop to the others: none may stay open, uncounted
     * and unserved, in a queue nobody reads any more.
     */
    @Test
    void closeWhileConnectionsArriveLeavesNoSocketOpen() throws Exception {
        for (int round = 0; round < 5; round++) {
            events.clear();
            start(TlsServer.builder(serverConfig, new Echo()).loops(4).maxConnectionsPerAddress(10_000));
            TlsServer s = server;
            List<Socket> arrived = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread connector = new Thread(() -> {
                for (int i = 0; i < 400; i++) {
                    try {
                        Socket sock = new Socket();
                        sock.connect(s.address(), 2000);
                        arrived.add(sock);
                    } catch (IOException e) {
                        return; // the listener is closed
                    }
                }
            });
            connector.start();
            while (arrived.size() < 50 + 30 * round) {
                Thread.sleep(1);
            }
            s.close();
            connector.join(10_000);
            synchronized (arrived) {
                sockets.addAll(arrived);
            }
            assertThat(s.connections()).as("round " + round + ": connections counted after close").isZero();
            List<Socket> copy;
            synchronized (arrived) {
                copy = new ArrayList<>(arrived);
            }
            for (Socket sock : copy) {
                sock.setSoTimeout(2000);
                assertThat(readsEnd(sock)).as("round " + round + ": a socket outlived the server").isTrue();
            }
        }
    }

    /** close() from a handler, on a loop thread: it returns, and every connection ends. */
    @Test
    void closeFromAHandlerEndsEverything() throws Exception {
        server = TlsServer.builder(serverConfig, new TlsServer.Handler() {
            @Override
            public void received(TlsServer.Connection c, byte[] b, int off, int len) {
                server.close();
                events.add("close returned");
            }
        }).loops(2).start();
        Socket idle = raw();
        waitFor(() -> server.connections() == 1);
        RawClient c = new RawClient(clientConfig, 0).handshake();
        c.write(new byte[] {'x'});
        waitFor(() -> events.contains("close returned"));
        assertThat(server.awaitDone(Duration.ofSeconds(5))).isTrue();
        assertThat(readsEnd(idle)).isTrue();
        assertThat(readsEnd(c.socket)).isTrue();
        assertThat(server.connections()).isZero();
    }

    // ---- helpers ----

    private static Thread writeInBackground(RawClient c, int total) {
        Thread t = new Thread(() -> {
            byte[] chunk = new byte[65536];
            try {
                for (int sent = 0; sent < total; sent += chunk.length) {
                    c.write(chunk);
                }
            } catch (IOException | RuntimeException e) {
                // the server cut the connection, or the test closed it
            }
        });
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The largest value {@code probe} gives, sampled every 10 ms for {@code millis}. */
    private static long sampleMax(java.util.function.LongSupplier probe, long millis) throws InterruptedException {
        long max = 0;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < deadline) {
            max = Math.max(max, probe.getAsLong());
            Thread.sleep(10);
        }
        return max;
    }

    private static void sleepQuietly() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) throws IOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException();
        }
    }

    /** Whether reading the socket ends (EOF or reset) within its timeout. */
    private static boolean readsEnd(Socket s) {
        try {
            if (s.getSoTimeout() == 0 || s.getSoTimeout() > 5000) {
                s.setSoTimeout(5000);
            }
            InputStream in = s.getInputStream();
            byte[] buf = new byte[4096];
            while (in.read(buf) >= 0) {
                // whatever the server sent before closing (an alert)
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("condition not met within 10 s");
            }
            Thread.sleep(10);
        }
    }
}
