package dev.keyway.jsse;

import dev.keyway.tls.cert.Pem;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jetty (the version the authority runs on) serving HTTPS and HTTP/2 on the Keyway provider: curl as the client
 * (HTTP/2 and HTTP/1.1 chosen by ALPN), the JDK's HttpClient on Keyway speaking HTTP/2 to it, and a second connector
 * that requires client certificates.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JettyInteropTest {
    @TempDir
    static Path dir;
    static JsseFixtures.Credential serverCred;
    static JsseFixtures.Credential clientCred;
    static Server jetty;
    static int open;
    static int mutual;

    @BeforeAll
    static void start() throws Exception {
        serverCred = JsseFixtures.credential("EC", "localhost", List.of("DNS:localhost", "IP:127.0.0.1"));
        clientCred = JsseFixtures.credential("EC", "alice", List.of());
        Files.writeString(dir.resolve("server.pem"), Pem.writeCertificate(serverCred.cert()));
        Files.writeString(dir.resolve("client.pem"), Pem.writeCertificate(clientCred.cert()));
        Files.writeString(dir.resolve("client.key"), Pem.writePrivateKey(clientCred.keys().getPrivate()));

        jetty = new Server();
        HttpConfiguration http = new HttpConfiguration();
        http.addCustomizer(new SecureRequestCustomizer(false));
        jetty.addConnector(connector(http, JsseFixtures.context(KeywayProvider.NAME, "TLS", serverCred), false));
        jetty.addConnector(connector(http, JsseFixtures.context(KeywayProvider.NAME, "TLS", serverCred, clientCred.cert()), true));
        jetty.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                var tls = (EndPoint.SslSessionData) request.getAttribute(EndPoint.SslSessionData.ATTRIBUTE);
                String body = request.getConnectionMetaData().getProtocol() + " " + (tls == null ? "-" : tls.cipherSuite())
                        + " client=" + (tls == null || tls.peerCertificates() == null ? "none" : tls.peerCertificates()[0].getSubjectX500Principal().getName());
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                Content.Sink.write(response, true, body, callback);
                return true;
            }
        });
        jetty.start();
        open = ((ServerConnector) jetty.getConnectors()[0]).getLocalPort();
        mutual = ((ServerConnector) jetty.getConnectors()[1]).getLocalPort();
    }

    private static ServerConnector connector(HttpConfiguration http, SSLContext ctx, boolean needClientAuth) {
        SslContextFactory.Server tls = new SslContextFactory.Server();
        tls.setSslContext(ctx);
        tls.setNeedClientAuth(needClientAuth);
        HttpConnectionFactory h1 = new HttpConnectionFactory(http);
        HTTP2ServerConnectionFactory h2 = new HTTP2ServerConnectionFactory(http);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(h1.getProtocol());
        ServerConnector c = new ServerConnector(jetty, new SslConnectionFactory(tls, alpn.getProtocol()), alpn, h2, h1);
        c.setHost("127.0.0.1");
        c.setPort(0);
        return c;
    }

    @AfterAll
    static void stop() throws Exception {
        if (jetty != null) {
            jetty.stop();
        }
    }

    static boolean hasCurl() {
        try {
            return new ProcessBuilder("curl", "--version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** curl's output and exit status, as "OUTPUT\nexit N". */
    static String curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "--cacert", dir.resolve("server.pem").toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out + "\nexit " + p.exitValue();
    }

    @Test
    void curlSpeaksHttp2AndHttp1ChosenByAlpn() throws Exception {
        Assumptions.assumeTrue(hasCurl(), "curl is not installed");
        String h2 = curl("--http2", "-w", "\n%{http_version}", "https://localhost:" + open + "/");
        assertThat(h2).startsWith("HTTP/2.0 TLS_").contains("client=none").contains("\n2\nexit 0");
        String h1 = curl("--http1.1", "-w", "\n%{http_version}", "https://localhost:" + open + "/");
        assertThat(h1).startsWith("HTTP/1.1 TLS_").contains("\n1.1\nexit 0");
        String tls12 = curl("--http2", "--tls-max", "1.2", "-w", "\n%{http_version}", "https://localhost:" + open + "/");
        assertThat(tls12).startsWith("HTTP/2.0 TLS_ECDHE_ECDSA_").contains("\n2\nexit 0");
    }

    @Test
    void theJdksHttpClientOnKeywaySpeaksHttp2() throws Exception {
        SSLContext ctx = JsseFixtures.context(KeywayProvider.NAME, "TLS", null, serverCred.cert());
        HttpClient c = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_2).connectTimeout(Duration.ofSeconds(10)).build();
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("https://localhost:" + open + "/r" + i)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
            assertThat(r.body()).startsWith("HTTP/2.0 TLS_");
        }
    }

    @Test
    void theConnectorThatNeedsClientCertificatesAdmitsOnlyWithOne() throws Exception {
        Assumptions.assumeTrue(hasCurl(), "curl is not installed");
        String with = curl("--http2", "--cert", dir.resolve("client.pem").toString(), "--key", dir.resolve("client.key").toString(),
                "https://localhost:" + mutual + "/");
        assertThat(with).startsWith("HTTP/2.0 TLS_").contains("client=CN=alice").endsWith("exit 0");
        String without = curl("--http2", "https://localhost:" + mutual + "/");
        assertThat(without).doesNotContain("HTTP/2.0").doesNotEndWith("exit 0");
        // and the JDK's client on Keyway with the certificate
        SSLContext ctx = JsseFixtures.context(KeywayProvider.NAME, "TLS", clientCred, serverCred.cert());
        HttpClient c = HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("https://localhost:" + mutual + "/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).contains("client=CN=alice");
    }
}
