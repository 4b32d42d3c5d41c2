package dev.keyway.jsse;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Provider;
import java.security.Security;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The agent's installation, in this JVM (AgentIT runs it as {@code -javaagent}): where the provider lands for each
 * {@code provider=} option and which connections reach the key log.
 */
class KeywayAgentTest {
    @TempDir
    Path dir;

    @AfterEach
    void removeProvider() {
        Security.removeProvider(KeywayProvider.NAME);
    }

    @Test
    void providerKeywayIsFirstSoTheDefaultContextIsKeyways() throws Exception {
        KeywayAgent.install("keylog=" + dir.resolve("k.log"), null);
        assertThat(Security.getProviders()[0].getName()).isEqualTo(KeywayProvider.NAME);
        assertThat(SSLContext.getInstance("TLS").getProvider().getName()).isEqualTo(KeywayProvider.NAME);
    }

    /** provider=default: SunJSSE stays the default, Keyway is last; only a context asked for by name is logged. */
    @Test
    void providerDefaultKeepsJsseAndLogsOnlyWhatAsksForKeywayByName() throws Exception {
        Path log = dir.resolve("keys.log");
        KeywayAgent.install("keylog=" + log + ",provider=default", null);
        Provider[] all = Security.getProviders();
        assertThat(all[all.length - 1].getName()).isEqualTo(KeywayProvider.NAME);
        assertThat(SSLContext.getInstance("TLS").getProvider().getName()).isEqualTo("SunJSSE");

        JsseFixtures.Credential server = JsseFixtures.credential("EC", "localhost", List.of("DNS:localhost"));
        SSLContext serverCtx = JsseFixtures.context("SunJSSE", "TLS", server);
        assertThat(connect(serverCtx, JsseFixtures.context("SunJSSE", "TLS", null, server.cert()))).isEqualTo("SunJSSE");
        assertThat(secretLines(log)).isEmpty();

        SSLContext named = SSLContext.getInstance("TLS", KeywayProvider.NAME);
        named.init(null, JsseFixtures.trustManagers(server.cert()), null);
        assertThat(connect(serverCtx, named)).isEqualTo(KeywayProvider.NAME);
        assertThat(secretLines(log)).anyMatch(l -> l.startsWith("CLIENT_TRAFFIC_SECRET_0 "))
                .anyMatch(l -> l.startsWith("SERVER_HANDSHAKE_TRAFFIC_SECRET "));
    }

    @Test
    void unknownProviderAndBadOptionsAreRefusedWithOneLine() {
        assertThatThrownBy(() -> KeywayAgent.install("provider=sun", null)).hasMessageContaining("unknown provider 'sun'");
        assertThatThrownBy(() -> KeywayAgent.install("keylog", null)).hasMessageContaining("bad option 'keylog'");
        assertThatThrownBy(() -> KeywayAgent.install("provider=keyway,provider=default", null)).hasMessageContaining("given twice");
        assertThat(Security.getProvider(KeywayProvider.NAME)).isNull();
    }

    /** One TLS connection from {@code client} to a server socket of {@code serverCtx}; returns the client's provider. */
    static String connect(SSLContext serverCtx, SSLContext client) throws Exception {
        try (SSLServerSocket listening = (SSLServerSocket) serverCtx.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (SSLSocket s = (SSLSocket) listening.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                    out.write(in.read());
                    out.flush();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (SSLSocket s = (SSLSocket) client.getSocketFactory().createSocket("localhost", listening.getLocalPort())) {
                s.getOutputStream().write(7);
                s.getOutputStream().flush();
                assertThat(s.getInputStream().read()).isEqualTo(7);
            }
            served.get(30, TimeUnit.SECONDS);
            return client.getProvider().getName();
        }
    }

    static List<String> secretLines(Path log) throws Exception {
        return Files.exists(log) ? Files.readAllLines(log).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList() : List.of();
    }
}
