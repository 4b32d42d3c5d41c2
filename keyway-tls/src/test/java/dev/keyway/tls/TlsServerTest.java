package dev.keyway.tls;

import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.TlsException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The selector-driven server under the peers a public server meets: silent sockets, half ClientHellos,
 * floods from one address, readers slower than writers, garbage, and peers that vanish.
 */
class TlsServerTest {
    @TempDir
    static Path dir;
    static TlsConfig serverConfig;
    static TlsConfig clientConfig;

    private TlsServer server;
    private final List<Socket> sockets = new ArrayList<>();
    private final ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl makes the test certificates");
        TestCerts.make(dir, "ec", "ec", 5);
        serverConfig = TlsConfig.builder().certificate(TestCerts.certs(dir.resolve("ec.pem")), TestCerts.key(dir.resolve("ec.key"), "ec"))
                .versions(List.of(dev.keyway.core.kdf.TlsVersion.TLS13, dev.keyway.core.kdf.TlsVersion.TLS12)).build();
        clientConfig = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost").build();
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

    /** Sends every byte back; records how each connection ended. */
    final class Echo implements TlsServer.Handler {
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
        server = b.onRefused((remote, why) -> events.add("refused: " + why)).start();
        return server;
    }

    private Socket raw() throws IOException {
        Socket s = new Socket();
        sockets.add(s);
        s.connect(server.address(), 5000);
        s.setSoTimeout(10_000);
        return s;
    }

    private String echoOnce(String text) throws IOException {
        try (Socket s = raw(); TlsConnection c = TlsConnection.connect(s, clientConfig)) {
            c.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
            byte[] back = c.getInputStream().readNBytes(text.length());
            return new String(back, StandardCharsets.UTF_8);
        }
    }

    @Test
    void echoesOverTls13AndTls12() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()));
        assertThat(echoOnce("hello")).isEqualTo("hello");
        TlsConfig tls12 = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost")
                .versions(List.of(dev.keyway.core.kdf.TlsVersion.TLS12)).build();
        try (Socket s = raw(); TlsConnection c = TlsConnection.connect(s, tls12)) {
            assertThat(c.version()).isEqualTo("TLSv1.2");
            c.getOutputStream().write("twelve".getBytes(StandardCharsets.UTF_8));
            assertThat(new String(c.getInputStream().readNBytes(6), StandardCharsets.UTF_8)).isEqualTo("twelve");
        }
    }

    /**
     * The attack: 250 sockets that say nothing or half a ClientHello must not delay a normal client (with a
     * thread per connection and 16 threads, this client waited for the 120 s read timeout).
     */
    @Test
    void idleAndHalfOpenSocketsDoNotStarveANormalClient() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).maxConnectionsPerAddress(1000));
        byte[] halfHello = halfClientHello();
        for (int i = 0; i < 250; i++) {
            Socket s = raw();
            if (i % 2 == 1) {
                s.getOutputStream().write(halfHello);
                s.getOutputStream().flush();
            }
        }
        long t0 = System.nanoTime();
        assertThat(echoOnce("still served")).isEqualTo("still served");
        System.out.printf("TlsServerTest: a client served in %.1f ms beside 250 idle and half-open sockets%n", (System.nanoTime() - t0) / 1e6);
        assertThat(server.connections()).isGreaterThanOrEqualTo(250);
    }

    /** The first 60 bytes of a real ClientHello: a record header promising more than ever comes. */
    private static byte[] halfClientHello() {
        TlsEngine client = TlsEngine.client(clientConfig);
        byte[] hello = new byte[client.outputLength()];
        client.takeOutput(hello, 0, hello.length);
        return Arrays.copyOf(hello, 60);
    }

    @Test
    void silentAndHalfOpenConnectionsAreCutAtTheHandshakeTimeout() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).handshakeTimeout(Duration.ofMillis(300)));
        Socket silent = raw();
        Socket half = raw();
        half.getOutputStream().write(halfClientHello());
        assertThat(silent.getInputStream().read()).isEqualTo(-1);
        assertThat(half.getInputStream().read()).isEqualTo(-1);
        waitFor(() -> events.size() >= 2);
        assertThat(events).allMatch(e -> e.startsWith("TimeoutException: no complete handshake within 300 ms"));
        assertThat(server.connections()).isZero();
    }

    @Test
    void anIdleConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).idleTimeout(Duration.ofMillis(300)));
        try (Socket s = raw(); TlsConnection c = TlsConnection.connect(s, clientConfig)) {
            c.getOutputStream().write('x');
            assertThat(c.getInputStream().read()).isEqualTo('x');
            // then nothing: the server closes the transport (no close_notify: a cut connection, not a clean end)
            assertThatThrownBy(() -> c.getInputStream().read()).isInstanceOf(EOFException.class);
        }
        waitFor(() -> !events.isEmpty());
        assertThat(events.peek()).isEqualTo("TimeoutException: idle for 300 ms: closed");
    }

    @Test
    void capsConnectionsPerAddressAndFreesTheSlotOnClose() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).maxConnectionsPerAddress(3));
        List<Socket> held = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            held.add(raw());
        }
        waitFor(() -> server.connections() == 3);
        Socket fourth = raw();
        assertThat(fourth.getInputStream().read()).isEqualTo(-1); // closed before a byte of TLS
        waitFor(() -> !events.isEmpty());
        assertThat(events).contains("refused: 3 connections from 127.0.0.1 are open already, the limit per address");
        held.get(0).close();
        waitFor(() -> server.connections() == 2);
        assertThat(echoOnce("room again")).isEqualTo("room again");
    }

    @Test
    void capsConnectionsInAll() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).maxConnections(2));
        raw();
        raw();
        waitFor(() -> server.connections() == 2);
        assertThat(raw().getInputStream().read()).isEqualTo(-1);
        waitFor(() -> !events.isEmpty());
        assertThat(events).contains("refused: the server holds 2 connections, its limit");
    }

    @Test
    void garbageGetsAnAlertAndTheServerGoesOn() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()));
        Socket s = raw();
        s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        byte[] answer = s.getInputStream().readAllBytes();
        assertThat(answer).hasSize(7); // one alert record, then the close
        assertThat(answer[0]).isEqualTo((byte) 21);
        waitFor(() -> !events.isEmpty());
        assertThat(events.peek()).startsWith("TlsException");
        assertThat(echoOnce("after garbage")).isEqualTo("after garbage");
    }

    /**
     * A peer that is still sending when its connection fails gets the alert, then a clean end: the server lingers,
     * reading and dropping the rest, instead of closing with bytes unread (a reset, which can wipe the alert from
     * the peer's receive buffer). tlsfuzzer's test-tls13-finished sends a 16 MiB Finished this way.
     */
    @Test
    void aPeerStillSendingAfterItsErrorReadsTheAlertNotAReset() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()));
        Socket s = raw();
        OutputStream out = s.getOutputStream();
        // a handshake record whose message promises 16 MiB: refused at once (no message is that long)
        out.write(new byte[] {22, 3, 1, 0, 4, 1, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        byte[] more = new byte[5 + 16384];
        more[0] = 22;
        more[1] = 3;
        more[2] = 3;
        more[3] = 0x40;
        for (int i = 0; i < 64; i++) { // 1 MiB more, none of it read by the server's TLS, all of it taken
            out.write(more);
        }
        InputStream in = s.getInputStream();
        byte[] answer = in.readAllBytes(); // throws on a reset
        assertThat(answer).hasSize(7);
        assertThat(answer[0]).isEqualTo((byte) 21);
        assertThat(answer[6]).as("decode_error").isEqualTo((byte) 50);
    }

    @Test
    void aPeerThatVanishesMidHandshakeIsForgotten() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()));
        Socket s = raw();
        s.getOutputStream().write(halfClientHello());
        waitFor(() -> server.connections() == 1);
        s.close();
        waitFor(() -> server.connections() == 0);
        assertThat(events.peek()).startsWith("EOFException");
    }

    /** A client that writes 16 MiB before it reads a byte: the server stops reading rather than buffering it all. */
    @Test
    void aClientThatDoesNotReadIsThrottledNotBuffered() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()));
        byte[] data = new byte[16 << 20];
        new java.util.Random(7).nextBytes(data);
        try (Socket s = raw(); TlsConnection c = TlsConnection.connect(s, clientConfig)) {
            Thread writer = new Thread(() -> {
                try {
                    OutputStream out = c.getOutputStream();
                    for (int off = 0; off < data.length; off += 65536) {
                        out.write(data, off, 65536);
                    }
                } catch (IOException e) {
                    events.add("writer: " + e);
                }
            });
            writer.start();
            Thread.sleep(500); // the writer fills the socket buffers both ways and blocks: the server must have paused
            InputStream in = c.getInputStream();
            byte[] back = in.readNBytes(data.length);
            writer.join(10_000);
            assertThat(Arrays.equals(back, data)).isTrue();
        }
    }

    @Test
    void acceptLimitEndsTheServerWhenItsConnectionsAreDone() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()).acceptLimit(2));
        assertThat(echoOnce("one")).isEqualTo("one");
        assertThat(server.awaitDone(Duration.ofMillis(200))).isFalse();
        assertThat(echoOnce("two")).isEqualTo("two");
        assertThat(server.awaitDone(Duration.ofSeconds(10))).isTrue();
        Socket late = new Socket();
        sockets.add(late);
        assertThatThrownBy(() -> late.connect(server.address(), 2000))
                .isInstanceOf(IOException.class);
    }

    @Test
    void closeEndsEveryConnection() throws Exception {
        start(TlsServer.builder(serverConfig, new Echo()));
        Socket s = raw();
        waitFor(() -> server.connections() == 1);
        server.close();
        s.setSoTimeout(5000);
        try {
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection outlived the server", e);
        }
    }

    @Test
    void rejectsNonsenseSettings() {
        TlsServer.Builder b = TlsServer.builder(serverConfig, new Echo());
        assertThatThrownBy(() -> b.handshakeTimeout(Duration.ZERO)).hasMessageContaining("positive");
        assertThatThrownBy(() -> b.maxConnectionsPerAddress(0)).hasMessageContaining("1 or more");
        assertThatThrownBy(() -> b.acceptLimit(0)).hasMessageContaining("1 or more");
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
