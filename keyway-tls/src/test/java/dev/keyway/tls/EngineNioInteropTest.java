package dev.keyway.tls;

import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.NamedGroup;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link TlsEngine} in a selector loop over a non-blocking SocketChannel, against OpenSSL 3 on 127.0.0.1:
 * the engine as a client of {@code openssl s_server -www}, and as a server for {@code openssl s_client}.
 * Only the selector drives the I/O: OP_READ while the peer may send, OP_WRITE only while engine output is pending.
 */
@Tag("interop")
@Timeout(value = 40, unit = TimeUnit.SECONDS)
class EngineNioInteropTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @TempDir
    static Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        if (!TestCerts.hasOpenssl()) {
            System.err.println("SKIPPED EngineNioInteropTest: openssl not installed (apt-get install openssl)");
        }
        Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl not installed");
        TestCerts.make(dir, "ec", "ec", 5);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Starts {@code cmd} in the test directory and waits until it prints {@code marker}. */
    static Process start(List<String> cmd, String marker) throws Exception {
        return OpenSslInteropTest.start(dir, cmd, marker);
    }

    /**
     * One engine on one non-blocking channel: bytes read go to {@link TlsEngine#receive(ByteBuffer)}, engine output
     * goes out through a direct buffer when the channel is writable.
     */
    static final class Driver {
        final SocketChannel channel;
        final TlsEngine engine;
        final ByteBuffer in = ByteBuffer.allocateDirect(17 * 1024);
        /** Taken from the engine, not yet accepted by the channel. */
        final ByteBuffer out = ByteBuffer.allocateDirect(8 * 1024).flip();
        boolean eof;
        int writableEvents;

        Driver(SocketChannel channel, TlsEngine engine) {
            this.channel = channel;
            this.engine = engine;
        }

        void onReadable() throws IOException {
            int n = channel.read(in);
            if (n < 0) {
                eof = true;
                engine.receiveEnd();
            } else if (n > 0) {
                in.flip();
                engine.receive(in);
                assertThat(in.hasRemaining()).isFalse();
                in.clear();
            }
        }

        void onWritable() throws IOException {
            writableEvents++;
            while (true) {
                if (!out.hasRemaining()) {
                    out.clear();
                    engine.takeOutput(out);
                    out.flip();
                    if (!out.hasRemaining()) {
                        return;
                    }
                }
                if (channel.write(out) == 0) {
                    return; // the socket buffer is full: wait for the next OP_WRITE
                }
            }
        }

        boolean outputPending() {
            return out.hasRemaining() || engine.outputLength() > 0;
        }

        int interest() {
            return (eof ? 0 : SelectionKey.OP_READ) | (outputPending() ? SelectionKey.OP_WRITE : 0);
        }

        /** All application bytes ready now into {@code sink}; true once the peer's close_notify has come. */
        boolean readApplication(ByteArrayOutputStream sink) {
            ByteBuffer app = ByteBuffer.allocate(4096);
            int n;
            while ((n = engine.read(app)) > 0) {
                sink.write(app.array(), 0, app.position());
                app.clear();
            }
            return n < 0;
        }
    }

    @ParameterizedTest(name = "engine client -> openssl s_server -www: {0} {1}, KeyUpdate {3}")
    @CsvSource({"TLS_AES_256_GCM_SHA384, secp256r1, P-256, false", "TLS_CHACHA20_POLY1305_SHA256, x25519, X25519, true",
            "TLS_AES_128_GCM_SHA256, secp256r1, P-256, false"})
    void engineClientInASelectorLoopAgainstOpensslServer(String suite, String group, String opensslGroup, boolean keyUpdate)
            throws Exception {
        int port = freePort();
        Process server = start(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", "ec.pem", "-key", "ec.key",
                "-www", "-naccept", "1", "-tls1_3", "-ciphersuites", suite, "-groups", opensslGroup), "ACCEPT");
        // The client offers x25519 first; an OpenSSL that wants P-256 only answers with a HelloRetryRequest.
        TlsConfig config = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost")
                .suites(List.of(CipherSuites.parse(suite))).groups(List.of(NamedGroup.X25519, NamedGroup.SECP256R1)).build();
        TlsEngine engine = TlsEngine.client(config);
        ByteArrayOutputStream response = new ByteArrayOutputStream();
        boolean closed = false;
        boolean requestSent = false;
        try (Selector selector = Selector.open(); SocketChannel channel = SocketChannel.open()) {
            channel.configureBlocking(false);
            Driver d = new Driver(channel, engine);
            boolean connected = channel.connect(new InetSocketAddress(LOOPBACK, port));
            SelectionKey key = channel.register(selector, connected ? d.interest() : SelectionKey.OP_CONNECT);
            while (!(closed && !d.outputPending()) && !d.eof) {
                assertThat(key.interestOps()).as("a loop with nothing to wait for").isNotZero();
                selector.select(1000);
                if (key.isValid() && key.isConnectable() && channel.finishConnect()) {
                    connected = true;
                }
                if (connected && key.isValid() && key.isReadable()) {
                    d.onReadable();
                }
                if (connected && key.isValid() && key.isWritable()) {
                    d.onWritable();
                }
                selector.selectedKeys().clear();
                if (engine.isHandshakeComplete() && !requestSent) {
                    if (keyUpdate) {
                        // OpenSSL answers with its own KeyUpdate. (s_server -www sleeps a second when a record
                        // holds no application data, so only one case does this.)
                        engine.keyUpdate(true);
                    }
                    engine.write(ByteBuffer.wrap("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
                    requestSent = true;
                }
                if (engine.isHandshakeComplete() && d.readApplication(response) && !closed) {
                    closed = true;
                    engine.closeOutbound();
                }
                if (connected) {
                    key.interestOps(d.interest());
                }
            }
            assertThat(d.writableEvents).as("OP_WRITE was asked for").isPositive();
        } finally {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
        String page = response.toString(StandardCharsets.UTF_8);
        assertThat(closed).as("OpenSSL's close_notify ended the response").isTrue();
        assertThat(engine.isInboundDone()).isTrue();
        assertThat(page).startsWith("HTTP/1.0 200 ok").contains("Cipher is " + suite).contains("TLSv1.3");
        assertThat(engine.summary()).isEqualTo("TLSv1.3, " + suite + ", " + NamedGroup.parse(group).label() + ", full handshake");
        assertThat(engine.tickets()).as("OpenSSL's NewSessionTickets, read in the loop").isNotEmpty();
    }

    @ParameterizedTest(name = "openssl s_client -> engine server: {0} {1} (server groups {2})")
    @CsvSource({"TLS_AES_128_GCM_SHA256, X25519, x25519", "TLS_AES_256_GCM_SHA384, X25519:P-256, secp256r1",
            "TLS_CHACHA20_POLY1305_SHA256, P-256, secp256r1"})
    void engineServerInASelectorLoopForOpensslClient(String suite, String clientGroups, String serverGroup) throws Exception {
        TlsConfig config = TlsConfig.builder().certificate(TestCerts.certs(dir.resolve("ec.pem")), TestCerts.key(dir.resolve("ec.key"), "ec"))
                .groups(List.of(NamedGroup.parse(serverGroup))).build();
        try (Selector selector = Selector.open(); ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(LOOPBACK, 0));
            listener.configureBlocking(false);
            listener.register(selector, SelectionKey.OP_ACCEPT);
            int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
            List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", "localhost",
                    "-CAfile", "ca.pem", "-verify_return_error", "-tls1_3", "-ciphersuites", suite, "-groups", clientGroups, "-ign_eof"));
            Process client = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            CompletableFuture<String> clientOutput = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            client.getOutputStream().write("hello keyway\n".getBytes(StandardCharsets.UTF_8));
            client.getOutputStream().close();
            try {
                Driver d = null;
                SelectionKey key = null;
                ByteArrayOutputStream received = new ByteArrayOutputStream();
                boolean answered = false;
                boolean peerClosed = false;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (d == null || !((peerClosed || d.eof) && !d.outputPending())) {
                    assertThat(System.nanoTime()).as("the exchange ends in time").isLessThan(deadline);
                    selector.select(1000);
                    for (SelectionKey k : selector.selectedKeys()) {
                        if (k.isAcceptable()) {
                            SocketChannel ch = listener.accept();
                            if (ch == null) {
                                continue;
                            }
                            assertThat(d).as("one client").isNull();
                            ch.configureBlocking(false);
                            d = new Driver(ch, TlsEngine.server(config));
                            key = ch.register(selector, d.interest());
                            k.cancel();
                        } else if (k == key) {
                            if (k.isValid() && k.isReadable()) {
                                d.onReadable();
                            }
                            if (k.isValid() && k.isWritable()) {
                                d.onWritable();
                            }
                        }
                    }
                    selector.selectedKeys().clear();
                    if (d == null) {
                        continue;
                    }
                    if (d.engine.isHandshakeComplete()) {
                        peerClosed |= d.readApplication(received);
                        String text = received.toString(StandardCharsets.UTF_8);
                        if (!answered && text.contains("\n")) {
                            d.engine.write(ByteBuffer.wrap(("echo: " + text).getBytes(StandardCharsets.UTF_8)));
                            d.engine.closeOutbound();
                            answered = true;
                        }
                    }
                    key.interestOps(d.interest());
                }
                d.channel.close();
                String out = clientOutput.get(30, TimeUnit.SECONDS);
                assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(received.toString(StandardCharsets.UTF_8)).isEqualTo("hello keyway\n");
                assertThat(out).contains("echo: hello keyway").contains("Verify return code: 0 (ok)").contains(suite);
                assertThat(d.engine.summary())
                        .isEqualTo("TLSv1.3, " + suite + ", " + NamedGroup.parse(serverGroup).label() + ", full handshake");
                assertThat(d.writableEvents).isPositive();
            } finally {
                client.destroyForcibly();
            }
        }
    }
}
