package dev.keyway.cli;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.keyway.authority.EscrowKeyLog;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.IdentityFile;
import dev.keyway.core.identity.KeyType;
import dev.keyway.jsse.KeywayProvider;
import dev.keyway.tls.cert.Certificates;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.keyway.cli.Cli.p;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A Java application escrows its own TLS secrets: the JSSE provider with {@link EscrowKeyLog} as its key log, the JDK's
 * HttpClient on it; what the application's enrolled identity recovers from the authority is the secret the
 * connection used (compared with a plain key log of the same connection).
 */
@Timeout(120)
class JsseEscrowTest {
    @TempDir
    Path dir;
    LocalAuthority authority;
    HttpsServer https;

    @AfterEach
    void stop() {
        if (https != null) {
            https.stop(0);
        }
        if (authority != null) {
            authority.close();
        }
    }

    @Test
    void anApplicationsTlsSecretsAreEscrowedAndRecoverable() throws Exception {
        authority = new LocalAuthority(dir.resolve("auth"));
        Path appKey = dir.resolve("app.key");
        Identity app = Identity.generate(KeyType.X25519);
        IdentityFile.write(appKey, app, null);
        authority.enroll(p(appKey), "billing-app");

        // a local HTTPS server on the JDK's own TLS
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = g.generateKeyPair();
        X509Certificate cert = Certificates.selfSigned(keys, "localhost", List.of("DNS:localhost"), Duration.ofDays(1));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("k", keys.getPrivate(), "pw".toCharArray(), new X509Certificate[]{cert});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "pw".toCharArray());
        SSLContext serverCtx = SSLContext.getInstance("TLS", "SunJSSE");
        serverCtx.init(kmf.getKeyManagers(), null, null);
        https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
        https.setHttpsConfigurator(new HttpsConfigurator(serverCtx));
        https.createContext("/", ex -> {
            byte[] b = "paid".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        https.start();

        // the application: its TLS secrets go to the authority (and, for the test, to a plain log beside it)
        List<String> problems = new CopyOnWriteArrayList<>();
        Map<String, byte[]> plain = new ConcurrentHashMap<>();
        EscrowKeyLog escrow = new EscrowKeyLog(authority.client(), app, "billing-app payments client", problems::add);
        assertThat(escrow.owner()).isEqualTo("billing-app");
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("server", cert);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3", new KeywayProvider((label, cr, secret) -> {
            plain.put(label + " " + HexFormat.of().formatHex(cr), secret.clone());
            escrow.log(label, cr, secret);
        }));
        ctx.init(null, tmf.getTrustManagers(), null);
        HttpClient c = HttpClient.newBuilder().sslContext(ctx).build();
        HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("https://localhost:" + https.getAddress().getPort() + "/pay")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo("paid");
        escrow.close();
        assertThat(problems).isEmpty();

        String key = plain.keySet().stream().filter(k -> k.startsWith("CLIENT_TRAFFIC_SECRET_0 ")).findFirst().orElseThrow();
        String clientRandom = key.substring(key.indexOf(' ') + 1);
        assertThat(authority.recoverTlsSecret(p(appKey), "CLIENT_TRAFFIC_SECRET_0", clientRandom, dir))
                .isEqualTo(HexFormat.of().formatHex(plain.get(key)));
    }
}
