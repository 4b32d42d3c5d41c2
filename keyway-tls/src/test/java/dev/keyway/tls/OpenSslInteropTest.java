package dev.keyway.tls;

import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.keylog.KeyLogFile;
import dev.keyway.core.keylog.ParsedKeyLog;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Keyway's TLS 1.3 against OpenSSL 3, both directions (openssl s_server / s_client on 127.0.0.1). */
@Tag("interop")
class OpenSslInteropTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        if (!TestCerts.hasOpenssl()) {
            System.err.println("SKIPPED OpenSslInteropTest: openssl not installed (apt-get install openssl)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl not installed");
        TestCerts.make(dir, "ec", "ec", 5);
        TestCerts.make(dir, "rsa", "rsa", 5);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static Process start(List<String> cmd, String marker) throws Exception {
        return start(dir, cmd, marker);
    }

    /** Starts a peer in {@code workDir} and waits for {@code marker} in its output (which is then drained). */
    static Process start(Path workDir, List<String> cmd, String marker) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String line;
        while (System.nanoTime() < deadline && (line = r.readLine()) != null) {
            if (line.contains(marker)) {
                Thread t = new Thread(() -> {
                    try {
                        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                    } catch (IOException ignored) {
                        // gone
                    }
                });
                t.setDaemon(true);
                t.start();
                return p;
            }
        }
        p.destroyForcibly();
        throw new AssertionError(String.join(" ", cmd) + " did not print " + marker);
    }

    @ParameterizedTest(name = "keyway client -> openssl s_server: {0} {1}")
    @CsvSource({"TLS_AES_128_GCM_SHA256, x25519", "TLS_AES_256_GCM_SHA384, secp256r1", "TLS_CHACHA20_POLY1305_SHA256, x25519"})
    void keywayClientAgainstOpensslServer(String suite, String group) throws Exception {
        int port = freePort();
        Path keylog = dir.resolve("client-" + suite + ".keys");
        Process server = start(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", "ec.pem", "-key", "ec.key",
                "-www", "-naccept", "1", "-tls1_3", "-ciphersuites", suite, "-groups", group.equals("secp256r1") ? "P-256" : "X25519"), "ACCEPT");
        try (KeyLogFile log = KeyLogFile.open(keylog);
             Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            TlsConfig config = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost")
                    .suites(List.of(CipherSuites.parse(suite))).groups(List.of(NamedGroup.parse(group))).keyLog(log).build();
            try (TlsConnection c = TlsConnection.connect(s, config)) {
                c.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String page = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(page).startsWith("HTTP/1.0 200 ok").contains("Cipher is " + suite).contains("TLSv1.3");
                assertThat(c.summary()).contains(suite).contains(group);
            }
        } finally {
            server.destroyForcibly();
        }
        ParsedKeyLog parsed = ParsedKeyLog.read(keylog);
        assertThat(parsed.problems()).isEmpty();
        assertThat(parsed.connections()).hasSize(1);
        assertThat(parsed.connections().get(0).tls13Complete()).isTrue();
    }

    @Test
    void keywayClientGetsAHelloRetryRequestFromOpenssl() throws Exception {
        int port = freePort();
        Process server = start(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", "ec.pem", "-key", "ec.key",
                "-www", "-naccept", "1", "-tls1_3", "-groups", "P-256"), "ACCEPT");
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            TlsConfig config = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost").build();
            try (TlsConnection c = TlsConnection.connect(s, config)) {
                c.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).startsWith("HTTP/1.0 200 ok");
                assertThat(c.group()).isEqualTo(NamedGroup.SECP256R1);
            }
        } finally {
            server.destroyForcibly();
        }
    }

    @ParameterizedTest(name = "openssl s_client -> keyway server: {0} {1} {2}")
    @CsvSource({"TLS_AES_128_GCM_SHA256, X25519, ec", "TLS_AES_256_GCM_SHA384, P-256, rsa", "TLS_CHACHA20_POLY1305_SHA256, X25519, ec",
            "TLS_AES_128_GCM_SHA256, X25519:P-256, ec-hrr"})
    void opensslClientAgainstKeywayServer(String suite, String clientGroups, String cert) throws Exception {
        String name = cert.startsWith("ec") ? "ec" : "rsa";
        List<NamedGroup> serverGroups = cert.endsWith("hrr") ? List.of(NamedGroup.SECP256R1, NamedGroup.X25519)
                : List.of(NamedGroup.X25519, NamedGroup.SECP256R1);
        TlsConfig config = TlsConfig.builder().certificate(TestCerts.certs(dir.resolve(name + ".pem")), TestCerts.key(dir.resolve(name + ".key"), name))
                .groups(serverGroups).build();
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (Socket s = ss.accept(); TlsConnection c = TlsConnection.accept(s, config)) {
                    BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
                    String line = r.readLine();
                    c.getOutputStream().write(("you said: " + line + "\n").getBytes(StandardCharsets.UTF_8));
                    c.shutdownOutput();
                    return c.summary();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + ss.getLocalPort(),
                    "-servername", "localhost", "-CAfile", "ca.pem", "-verify_return_error", "-tls1_3", "-ciphersuites", suite,
                    "-groups", clientGroups, "-ign_eof"));
            Process client = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            client.getOutputStream().write("hello keyway\n".getBytes(StandardCharsets.UTF_8));
            client.getOutputStream().close();
            String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String summary = served.get(30, TimeUnit.SECONDS);
            assertThat(out).contains("you said: hello keyway").contains("Verify return code: 0 (ok)").contains(suite);
            assertThat(summary).contains(suite);
            if (cert.endsWith("hrr")) {
                assertThat(summary).contains("secp256r1");
            }
        }
    }

    @Test
    void keywayClientResumesWithOpensslsTicket() throws Exception {
        int port = freePort();
        Process server = start(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", "ec.pem", "-key", "ec.key",
                "-www", "-naccept", "2", "-tls1_3"), "ACCEPT");
        try {
            TlsConfig.Builder config = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost");
            dev.keyway.tls.params.Ticket ticket;
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port); TlsConnection c = TlsConnection.connect(s, config.build())) {
                c.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                c.getInputStream().readAllBytes();
                assertThat(c.tickets()).as("OpenSSL sends tickets after the handshake").isNotEmpty();
                ticket = c.tickets().get(0);
            }
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
                 TlsConnection c = TlsConnection.connect(s, config.resumeWith(ticket).build())) {
                c.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String page = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(c.resumed()).isTrue();
                assertThat(page).as("OpenSSL reports the session as reused").contains("Reused, TLSv1.3");
            }
        } finally {
            server.destroyForcibly();
        }
    }

    @Test
    void opensslClientResumesWithKeywaysTicket() throws Exception {
        TlsConfig config = TlsConfig.builder().certificate(TestCerts.certs(dir.resolve("ec.pem")), TestCerts.key(dir.resolve("ec.key"), "ec"))
                .build();
        try (ServerSocket ss = new ServerSocket(0, 2, InetAddress.getLoopbackAddress())) {
            CompletableFuture<List<Boolean>> served = CompletableFuture.supplyAsync(() -> {
                List<Boolean> resumed = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    try (Socket s = ss.accept(); TlsConnection c = TlsConnection.accept(s, config)) {
                        BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
                        String line = r.readLine();
                        c.getOutputStream().write(("ok " + line + "\n").getBytes(StandardCharsets.UTF_8));
                        c.shutdownOutput();
                        resumed.add(c.resumed());
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }
                return resumed;
            });
            Path sess = dir.resolve("openssl.sess");
            for (String flag : List.of("-sess_out", "-sess_in")) {
                Process client = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + ss.getLocalPort(), "-servername",
                        "localhost", "-CAfile", "ca.pem", "-tls1_3", flag, sess.toString(), "-ign_eof")
                        .directory(dir.toFile()).redirectErrorStream(true).start();
                client.getOutputStream().write("hi\n".getBytes(StandardCharsets.UTF_8));
                client.getOutputStream().close();
                String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(out).contains("ok hi").contains(flag.equals("-sess_in") ? "Reused, TLSv1.3" : "New, TLSv1.3");
            }
            assertThat(served.get(30, TimeUnit.SECONDS)).containsExactly(false, true);
        }
    }

    @Test
    void clientAuthenticationKeywayClientToOpensslServer() throws Exception {
        TestCerts.make(dir, "client", "ec", 5);
        int port = freePort();
        Process server = start(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", "ec.pem", "-key", "ec.key",
                "-www", "-naccept", "2", "-tls1_3", "-Verify", "1", "-CAfile", "ca.pem"), "ACCEPT");
        try {
            TlsConfig.Builder b = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost");
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
                 TlsConnection c = TlsConnection.connect(s, b.certificate(TestCerts.certs(dir.resolve("client.pem")),
                         TestCerts.key(dir.resolve("client.key"), "ec")).build())) {
                c.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).startsWith("HTTP/1.0 200 ok");
            }
            // Without a certificate OpenSSL refuses (certificate_required, TLS 1.3's alert for it).
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                TlsConnection c = TlsConnection.connect(s, TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem")))
                        .serverName("localhost").build());
                c.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.getInputStream().readAllBytes())
                        .isInstanceOfSatisfying(TlsException.class, e -> assertThat(e.alert()).isEqualTo(Alert.CERTIFICATE_REQUIRED));
            }
        } finally {
            server.destroyForcibly();
        }
    }

    @Test
    void clientAuthenticationOpensslClientToKeywayServer() throws Exception {
        TestCerts.make(dir, "client2", "rsa", 5);
        TlsConfig config = TlsConfig.builder().certificate(TestCerts.certs(dir.resolve("ec.pem")), TestCerts.key(dir.resolve("ec.key"), "ec"))
                .trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).requireClientCertificate(true).build();
        try (ServerSocket ss = new ServerSocket(0, 2, InetAddress.getLoopbackAddress())) {
            CompletableFuture<List<String>> served = CompletableFuture.supplyAsync(() -> {
                List<String> outcomes = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    try (Socket s = ss.accept(); TlsConnection c = TlsConnection.accept(s, config)) {
                        outcomes.add(c.peerCertificates().get(0).getSubjectX500Principal().getName());
                        c.getOutputStream().write("welcome\n".getBytes(StandardCharsets.UTF_8));
                        c.shutdownOutput();
                    } catch (TlsException e) {
                        outcomes.add(e.alert().rfcName());
                    } catch (Exception e) {
                        outcomes.add(e.toString());
                    }
                }
                return outcomes;
            });
            for (boolean withCert : new boolean[] {true, false}) {
                List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + ss.getLocalPort(),
                        "-servername", "localhost", "-CAfile", "ca.pem", "-tls1_3", "-ign_eof"));
                if (withCert) {
                    cmd.addAll(List.of("-cert", "client2.pem", "-key", "client2.key"));
                }
                Process client = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
                client.getOutputStream().close();
                String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                client.waitFor(30, TimeUnit.SECONDS);
                if (withCert) {
                    assertThat(out).contains("welcome");
                }
            }
            assertThat(served.get(30, TimeUnit.SECONDS)).containsExactly("CN=localhost", "certificate_required");
        }
    }

    @Test
    void wrongHostAndUnknownCaAreRefusedWithTheRightAlert() throws Exception {
        int port = freePort();
        Process server = start(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", "ec.pem", "-key", "ec.key",
                "-www", "-naccept", "2", "-tls1_3"), "ACCEPT");
        try {
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                TlsConfig wrongHost = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("example.org").build();
                assertThatTls(() -> TlsConnection.connect(s, wrongHost), Alert.BAD_CERTIFICATE);
            }
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
                TlsConfig unknownCa = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ec.pem"))).serverName("localhost")
                        .build();
                // the leaf itself is not a CA, and a chain to a leaf anchor is not a chain: trusting ec.pem pins it
                TlsConnection ok = TlsConnection.connect(s, unknownCa);
                ok.close();
            }
        } finally {
            server.destroyForcibly();
        }
    }

    interface Action {
        Object run() throws Exception;
    }

    static void assertThatTls(Action a, Alert alert) {
        try {
            a.run();
            throw new AssertionError("expected a TLS " + alert.rfcName() + " failure");
        } catch (TlsException e) {
            assertThat(e.alert()).as(e.getMessage()).isEqualTo(alert);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
