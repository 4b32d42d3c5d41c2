package dev.keyway.cli;

import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.cert.CertificateKeyType;
import dev.keyway.tls.cert.Pem;
import dev.keyway.tls.config.TlsConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code keyway tls serve} against peers that hold sockets open and say nothing, or too many at once. */
class TlsServeLimitsTest {
    @TempDir
    static Path dir;
    static String cert;
    static String key;

    private final List<Socket> sockets = new ArrayList<>();

    @BeforeAll
    static void certificate() throws Exception {
        KeyPair keys = CertificateKeyType.EC.generate();
        cert = Files.write(dir.resolve("srv.pem"), Pem.writeCertificate(TerminalSafeOutputTest.certificate(keys, "localhost", "localhost", false))
                .getBytes(StandardCharsets.US_ASCII)).toString();
        key = Files.write(dir.resolve("srv.key"), Pem.writePrivateKey(keys.getPrivate()).getBytes(StandardCharsets.US_ASCII)).toString();
    }

    @AfterEach
    void closeSockets() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
    }

    private Socket open(InProcessServer server) throws IOException {
        Socket s = new Socket("127.0.0.1", server.port());
        s.setSoTimeout(10_000);
        sockets.add(s);
        return s;
    }

    private static String echo(InProcessServer server, String text) throws IOException {
        TlsConfig client = TlsConfig.builder().insecure(true).serverName("localhost").build();
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000); // a starved server would make this time out (before: 119.6 s with 16 idle sockets)
            try (TlsConnection c = TlsConnection.connect(s, client)) {
                c.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
                return new String(c.getInputStream().readNBytes(text.length()), StandardCharsets.UTF_8);
            }
        }
    }

    /** The reproduction: 250 silent or half-open sockets, then a normal client; it is served at once. */
    @Test
    void idleSocketsDoNotStarveTheServer() throws Exception {
        InProcessServer server = InProcessServer.start("tls", "serve", "--cert", cert, "--key", key, "--listen", "127.0.0.1:0", "--echo",
                "--naccept", "252");
        byte[] halfHeader = {22, 3, 1, 0x02, 0x00, 1, 0, 1}; // a record header promising 512 bytes, then 3 of them
        for (int i = 0; i < 250; i++) {
            Socket s = open(server);
            if (i % 2 == 0) {
                s.getOutputStream().write(halfHeader);
            }
        }
        long t0 = System.nanoTime();
        assertThat(echo(server, "served")).isEqualTo("served");
        System.out.printf("TlsServeLimitsTest: served in %.1f ms beside 250 idle and half-open sockets%n", (System.nanoTime() - t0) / 1e6);
        assertThat(echo(server, "again")).isEqualTo("again");
        for (Socket s : sockets) {
            s.close();
        }
        Cli.Result r = server.result(); // 252 connections accepted: it exits once the idle ones are gone
        assertThat(r.exit()).as(r.err()).isZero();
    }

    @Test
    void aSilentClientIsCutAtTheHandshakeTimeout() throws Exception {
        InProcessServer server = InProcessServer.start("tls", "serve", "--cert", cert, "--key", key, "--listen", "127.0.0.1:0", "--echo",
                "--naccept", "1", "--handshake-timeout", "1s");
        Socket s = open(server);
        assertThat(s.getInputStream().read()).isEqualTo(-1);
        Cli.Result r = server.result();
        assertThat(r.exit()).isZero();
        assertThat(r.err()).containsPattern("keyway: /127\\.0\\.0\\.1:\\d+: no complete handshake within 1 s");
    }

    @Test
    void anIdleClientIsClosedAtTheIdleTimeout() throws Exception {
        InProcessServer server = InProcessServer.start("tls", "serve", "--cert", cert, "--key", key, "--listen", "127.0.0.1:0", "--echo",
                "--naccept", "1", "--idle-timeout", "1s");
        TlsConfig client = TlsConfig.builder().insecure(true).serverName("localhost").build();
        try (Socket s = open(server); TlsConnection c = TlsConnection.connect(s, client)) {
            assertThat(c.getInputStream().read()).as("the server cuts the connection").isEqualTo(-1);
        } catch (java.io.EOFException expected) {
            // the transport ended without close_notify: what an idle cut is
        }
        Cli.Result r = server.result();
        assertThat(r.err()).contains("idle for 1 s: closed");
    }

    @Test
    void oneAddressCannotTakeMoreThanItsShare() throws Exception {
        InProcessServer server = InProcessServer.start("tls", "serve", "--cert", cert, "--key", key, "--listen", "127.0.0.1:0", "--echo",
                "--max-per-address", "2", "--naccept", "3");
        {
            open(server);
            open(server);
            Socket third = open(server);
            assertThat(third.getInputStream().read()).isEqualTo(-1);
            server.awaitErr("refused: 2 connections from 127.0.0.1 are open already, the limit per address");
            sockets.get(0).close();
            long deadline = System.nanoTime() + 10_000_000_000L;
            String answer = null;
            while (answer == null && System.nanoTime() < deadline) {
                try {
                    answer = echo(server, "room");
                } catch (IOException stillFull) {
                    Thread.sleep(20); // the server has not seen the close yet
                }
            }
            assertThat(answer).isEqualTo("room");
            sockets.get(1).close();
            assertThat(server.result().exit()).isZero(); // refused connections do not count toward --naccept
        }
    }

    @Test
    void badLimitsAreUsageErrors() {
        Cli.Result r = Cli.run("tls", "serve", "--cert", cert, "--key", key, "--echo", "--max-per-address", "0");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--max-per-address must be 1 or more");
        Cli.Result t = Cli.run("tls", "serve", "--cert", cert, "--key", key, "--echo", "--handshake-timeout", "soon");
        assertThat(t.exit()).isEqualTo(2);
        assertThat(t.err()).contains("--handshake-timeout 'soon' is not a duration");
    }
}
