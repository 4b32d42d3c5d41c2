package dev.keyway.jsse;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The provider's SSLSocket and SSLServerSocket over real TCP on 127.0.0.1, against the JDK's own sockets in both
 * roles and against themselves, and {@code HttpsURLConnection} (which uses the socket factory, layered over a plain
 * socket) against the JDK's HttpsServer.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SocketInteropTest {
    static JsseFixtures.Credential server;
    static JsseFixtures.Credential client;

    @BeforeAll
    static void credentials() throws Exception {
        server = JsseFixtures.credential("EC", "localhost", List.of("DNS:localhost", "IP:127.0.0.1"));
        client = JsseFixtures.credential("Ed25519", "alice", List.of());
    }

    /** An echo server on its own thread: reads a 4-byte length, then echoes that many bytes, then closes. */
    static CompletableFuture<SSLSession> echo(SSLServerSocket listening) {
        return CompletableFuture.supplyAsync(() -> {
            try (SSLSocket s = (SSLSocket) listening.accept()) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                int n = in.readInt();
                byte[] b = new byte[n];
                in.readFully(b);
                OutputStream out = s.getOutputStream();
                out.write(b);
                out.flush();
                return s.getSession();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    @ParameterizedTest(name = "client {0}, server {1}, {2}")
    @CsvSource({
            "Keyway, SunJSSE, TLSv1.3", "Keyway, SunJSSE, TLSv1.2",
            "SunJSSE, Keyway, TLSv1.3", "SunJSSE, Keyway, TLSv1.2",
            "Keyway, Keyway, TLSv1.3", "Keyway, Keyway, TLSv1.2"})
    void echoOverSockets(String clientProvider, String serverProvider, String protocol) throws Exception {
        SSLContext sctx = JsseFixtures.context(serverProvider, protocol, server);
        SSLContext cctx = JsseFixtures.context(clientProvider, protocol, null, server.cert());
        try (SSLServerSocket listening = (SSLServerSocket) sctx.getServerSocketFactory().createServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            CompletableFuture<SSLSession> served = echo(listening);
            byte[] data = new byte[300_000];
            new Random(5).nextBytes(data);
            AtomicReference<String> completed = new AtomicReference<>();
            try (SSLSocket s = (SSLSocket) cctx.getSocketFactory().createSocket("localhost", listening.getLocalPort())) {
                SSLParameters p = s.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                s.setSSLParameters(p);
                s.addHandshakeCompletedListener(e -> completed.set(e.getCipherSuite()));
                s.startHandshake();
                OutputStream out = s.getOutputStream();
                out.write(new byte[] {0, (byte) (data.length >>> 16), (byte) (data.length >>> 8), (byte) data.length});
                out.write(data);
                out.flush();
                byte[] back = new DataInputStream(s.getInputStream()).readNBytes(data.length);
                assertThat(back).isEqualTo(data);
                assertThat(s.getInputStream().read()).as("end of stream after the server closed").isEqualTo(-1);
                assertThat(s.getSession().getProtocol()).isEqualTo(protocol);
                assertThat(s.getSession().getPeerCertificates()[0]).isEqualTo(server.cert());
                assertThat(completed.get()).isEqualTo(s.getSession().getCipherSuite());
            }
            SSLSession ss = served.get(30, TimeUnit.SECONDS);
            assertThat(ss.getProtocol()).isEqualTo(protocol);
        }
    }

    @Test
    void clientAuthenticationOverSockets() throws Exception {
        SSLContext sctx = JsseFixtures.context(KeywayProvider.NAME, "TLS", server, client.cert());
        try (SSLServerSocket listening = (SSLServerSocket) sctx.getServerSocketFactory().createServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            listening.setNeedClientAuth(true);
            // with the client's certificate: admitted, and the server sees it
            CompletableFuture<SSLSession> served = echo(listening);
            SSLContext withCert = JsseFixtures.context("SunJSSE", "TLS", client, server.cert());
            try (SSLSocket s = (SSLSocket) withCert.getSocketFactory().createSocket("localhost", listening.getLocalPort())) {
                s.getOutputStream().write(new byte[] {0, 0, 0, 2, 'o', 'k'});
                assertThat(s.getInputStream().readNBytes(2)).isEqualTo(new byte[] {'o', 'k'});
            }
            assertThat(served.get(30, TimeUnit.SECONDS).getPeerCertificates()[0]).isEqualTo(client.cert());

            // without one: refused
            CompletableFuture<SSLSession> refused = echo(listening);
            SSLContext without = JsseFixtures.context("SunJSSE", "TLS", null, server.cert());
            try (SSLSocket s = (SSLSocket) without.getSocketFactory().createSocket("localhost", listening.getLocalPort())) {
                assertThatThrownBy(() -> {
                    s.getOutputStream().write(new byte[] {0, 0, 0, 2, 'n', 'o'});
                    s.getInputStream().read();
                }).isInstanceOf(IOException.class);
            }
            assertThatThrownBy(() -> refused.get(30, TimeUnit.SECONDS)).hasStackTraceContaining(SSLHandshakeException.class.getName())
                    .hasStackTraceContaining("certificate_required");
        }
    }

    @Test
    void httpsUrlConnectionOnKeywaySockets() throws Exception {
        HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 8);
        https.setHttpsConfigurator(new HttpsConfigurator(JsseFixtures.context("SunJSSE", "TLS", server)));
        https.createContext("/", ex -> {
            byte[] answer = ("you asked for " + ex.getRequestURI().getPath()).getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, answer.length);
            ex.getResponseBody().write(answer);
            ex.close();
        });
        https.start();
        try {
            SSLContext ctx = JsseFixtures.context(KeywayProvider.NAME, "TLS", null, server.cert());
            for (int i = 0; i < 3; i++) {
                HttpsURLConnection c = (HttpsURLConnection) new URL("https://localhost:" + https.getAddress().getPort() + "/n" + i).openConnection();
                c.setSSLSocketFactory(ctx.getSocketFactory());
                c.connect();
                assertThat(c.getCipherSuite()).startsWith("TLS_");
                assertThat(c.getServerCertificates()[0]).isEqualTo(server.cert());
                try (InputStream in = c.getInputStream()) {
                    assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("you asked for /n" + i);
                }
            }
        } finally {
            https.stop(0);
        }
    }

    @Test
    void layeringOverAConnectedSocketAndClosingIt() throws Exception {
        SSLContext sctx = JsseFixtures.context(KeywayProvider.NAME, "TLS", server);
        SSLContext cctx = JsseFixtures.context(KeywayProvider.NAME, "TLS", null, server.cert());
        try (SSLServerSocket listening = (SSLServerSocket) sctx.getServerSocketFactory().createServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            CompletableFuture<SSLSession> served = echo(listening);
            Socket plain = new Socket(InetAddress.getLoopbackAddress(), listening.getLocalPort());
            SSLSocket s = (SSLSocket) cctx.getSocketFactory().createSocket(plain, "localhost", listening.getLocalPort(), false);
            s.getOutputStream().write(new byte[] {0, 0, 0, 1, 'x'});
            assertThat(s.getInputStream().read()).isEqualTo('x');
            s.close();
            assertThat(s.isClosed()).isTrue();
            assertThat(plain.isClosed()).as("autoClose false: the socket underneath stays open").isFalse();
            plain.close();
            served.get(30, TimeUnit.SECONDS);
            assertThatThrownBy(s::getInputStream).isInstanceOf(SocketException.class);
        }
    }
}
