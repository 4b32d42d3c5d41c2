package dev.keyway.jsse;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.keyway.core.keylog.KeyLogFile;
import dev.keyway.tls.cert.Pem;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The JDK's {@link HttpClient} over the Keyway provider, 127.0.0.1 only: HTTP/1.1 against {@code openssl s_server
 * -www} (whose own key log must hold the same secrets as the provider's), against the JDK's {@link HttpsServer} on
 * SunJSSE, and the other way round (the JDK's HttpsServer running on Keyway's SSLEngine with the JDK's client).
 * Host name verification refuses a certificate for another name.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HttpClientInteropTest {
    @TempDir
    static Path dir;
    static JsseFixtures.Credential server;

    @BeforeAll
    static void credentials() throws Exception {
        server = JsseFixtures.credential("EC", "localhost", List.of("DNS:localhost", "IP:127.0.0.1"));
        Files.writeString(dir.resolve("server.pem"), Pem.writeCertificate(server.cert()));
        Files.writeString(dir.resolve("server.key"), Pem.writePrivateKey(server.keys().getPrivate()));
    }

    static boolean hasOpenssl() {
        try {
            return new ProcessBuilder("openssl", "version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }


    static Process start(List<String> cmd, String marker) throws Exception {
        return JsseFixtures.startPeer(dir, cmd, marker);
    }

    static HttpClient client(SSLContext ctx) {
        return HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    }

    static String readUntil(InputStream in, String end) throws IOException {
        try (in) {
            StringBuilder sb = new StringBuilder();
            byte[] b = new byte[4096];
            int n;
            while (!sb.toString().contains(end) && (n = in.read(b)) > 0) {
                sb.append(new String(b, 0, n, StandardCharsets.ISO_8859_1));
            }
            return sb.toString();
        }
    }

    /** The secrets of a key log as "LABEL RANDOM SECRET" lines. */
    static Set<String> lines(Path keyLog) throws IOException {
        return Files.readAllLines(keyLog).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).collect(Collectors.toCollection(TreeSet::new));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"-tls1_3", "-tls1_2"})
    void httpClientOnKeywayAgainstOpensslWwwWithTheSameKeyLog(String version) throws Exception {
        Assumptions.assumeTrue(hasOpenssl(), "openssl is not installed");
        int port = JsseFixtures.freePort();
        Path theirs = dir.resolve("openssl" + version + ".keys");
        Path ours = dir.resolve("keyway" + version + ".keys");
        Process s = start(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", "server.pem", "-key", "server.key",
                "-www", version, "-keylogfile", theirs.toString(), "-naccept", "1"), "ACCEPT");
        try (KeyLogFile log = KeyLogFile.open(ours)) {
            SSLContext ctx = SSLContext.getInstance("TLS", new KeywayProvider(log));
            ctx.init(null, JsseFixtures.trustManagers(server.cert()), null);
            // s_server -www answers HTTP/1.0 with no length, so the body ends with the connection; in TLS 1.3 s_server
            // then waits for the client's close_notify, which neither JSSE nor Keyway sends before the application
            // closes (half-close, RFC 8446 section 6.1): read the page up to its end instead of to the end of stream.
            HttpResponse<InputStream> r = client(ctx).send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/")).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(r.statusCode()).isEqualTo(200);
            String page = readUntil(r.body(), "</HTML>");
            // s_server -www describes the connection it served
            assertThat(page).contains(version.equals("-tls1_3") ? "TLSv1.3" : "TLSv1.2");
            assertThat(r.sslSession()).hasValueSatisfying(ss -> assertThat(ss.getProtocol()).isEqualTo(version.equals("-tls1_3") ? "TLSv1.3" : "TLSv1.2"));
        } finally {
            // the client keeps its connection for reuse, so s_server would wait for it: its key log is written by now
            s.destroy();
            assertThat(s.waitFor(20, TimeUnit.SECONDS)).isTrue();
        }
        Set<String> expected = lines(theirs);
        assertThat(expected).isNotEmpty();
        assertThat(lines(ours)).containsAll(expected);
    }

    @Test
    void httpClientOnKeywayAgainstTheJdksHttpsServerAndBack() throws Exception {
        for (String[] roles : List.of(new String[]{"Keyway", "SunJSSE"}, new String[]{"SunJSSE", "Keyway"}, new String[]{"Keyway", "Keyway"})) {
            HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
            https.setHttpsConfigurator(new HttpsConfigurator(JsseFixtures.context(roles[1], "TLS", server)));
            byte[] big = new byte[200_000];
            new Random(7).nextBytes(big);
            https.createContext("/", ex -> {
                byte[] got = ex.getRequestBody().readAllBytes();
                byte[] answer = got.length > 0 ? got : big;
                ex.sendResponseHeaders(200, answer.length);
                ex.getResponseBody().write(answer);
                ex.close();
            });
            https.start();
            try {
                HttpClient c = client(JsseFixtures.context(roles[0], "TLS", null, server.cert()));
                URI uri = URI.create("https://localhost:" + https.getAddress().getPort() + "/x");
                for (int i = 0; i < 3; i++) {
                    HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
                    assertThat(r.statusCode()).as("client %s, server %s", roles[0], roles[1]).isEqualTo(200);
                    assertThat(r.body()).isEqualTo(big);
                }
                byte[] up = new byte[150_000];
                new Random(8).nextBytes(up);
                HttpResponse<byte[]> echo = c.send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofByteArray(up)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(echo.body()).isEqualTo(up);
            } finally {
                https.stop(0);
            }
        }
    }

    @Test
    void aCertificateForAnotherNameIsRefused() throws Exception {
        JsseFixtures.Credential other = JsseFixtures.credential("EC", "example.org", List.of("DNS:example.org"));
        HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
        https.setHttpsConfigurator(new HttpsConfigurator(JsseFixtures.context("SunJSSE", "TLS", other)));
        https.createContext("/", ex -> {
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        https.start();
        try {
            // trusted, but not for "localhost": the HttpClient asks for HTTPS identification
            HttpClient c = client(JsseFixtures.context(KeywayProvider.NAME, "TLS", null, other.cert()));
            URI uri = URI.create("https://localhost:" + https.getAddress().getPort() + "/");
            assertThatThrownBy(() -> c.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding()))
                    .isInstanceOf(SSLHandshakeException.class);
        } finally {
            https.stop(0);
        }
    }
}
