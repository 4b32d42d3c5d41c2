package dev.keyway.tls;

import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.keylog.KeyLogFile;
import dev.keyway.core.keylog.ParsedKeyLog;
import dev.keyway.tls.config.TlsConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Keyway's TLS 1.2 against OpenSSL 3, both directions (openssl s_server / s_client -tls1_2 on 127.0.0.1). */
@Tag("interop")
@Timeout(60)
class Tls12OpenSslInteropTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        if (!TestCerts.hasOpenssl()) {
            System.err.println("SKIPPED Tls12OpenSslInteropTest: openssl not installed (apt-get install openssl)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl not installed");
        TestCerts.make(dir, "ec", "ec", 5);
        TestCerts.make(dir, "rsa", "rsa", 5);
    }

    @ParameterizedTest(name = "keyway client -> openssl s_server -tls1_2: {0}")
    @CsvSource({"ECDHE-ECDSA-AES128-GCM-SHA256, ec", "ECDHE-RSA-AES256-GCM-SHA384, rsa", "ECDHE-RSA-CHACHA20-POLY1305, rsa"})
    void keywayClientAgainstOpensslServer(String suite, String cert) throws Exception {
        int port = OpenSslInteropTest.freePort();
        Path keylog = dir.resolve("client-" + suite + ".keys");
        Process server = OpenSslInteropTest.start(dir, List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", cert + ".pem",
                "-key", cert + ".key", "-www", "-naccept", "1", "-tls1_2", "-cipher", suite), "ACCEPT");
        try (KeyLogFile log = KeyLogFile.open(keylog);
             Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            TlsConfig config = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost")
                    .versions(List.of(TlsVersion.TLS13, TlsVersion.TLS12)).keyLog(log).build();
            try (TlsConnection c = TlsConnection.connect(s, config)) {
                c.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String page = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(page).startsWith("HTTP/1.0 200 ok").contains("Cipher is " + suite).contains("TLSv1.2");
                assertThat(c.version()).isEqualTo("TLSv1.2");
                assertThat(c.suite().opensslName()).isEqualTo(suite);
            }
        } finally {
            server.destroyForcibly();
        }
        ParsedKeyLog parsed = ParsedKeyLog.read(keylog);
        assertThat(parsed.problems()).isEmpty();
        assertThat(parsed.connections()).hasSize(1);
    }

    @ParameterizedTest(name = "openssl s_client -tls1_2 -> keyway server: {0}")
    @CsvSource({"ECDHE-ECDSA-AES128-GCM-SHA256, ec", "ECDHE-RSA-AES256-GCM-SHA384, rsa", "ECDHE-RSA-CHACHA20-POLY1305, rsa"})
    void opensslClientAgainstKeywayServer(String suite, String cert) throws Exception {
        TlsConfig config = TlsConfig.builder().certificate(TestCerts.certs(dir.resolve(cert + ".pem")), TestCerts.key(dir.resolve(cert + ".key"), cert))
                .versions(List.of(TlsVersion.TLS13, TlsVersion.TLS12)).build();
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<String> served = CompletableFuture.supplyAsync(() -> {
                try (Socket s = ss.accept(); TlsConnection c = TlsConnection.accept(s, config)) {
                    BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8));
                    String line = r.readLine();
                    c.getOutputStream().write(("you said: " + line + "\n").getBytes(StandardCharsets.UTF_8));
                    c.shutdownOutput();
                    return c.summary() + " " + c.version();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Process client = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + ss.getLocalPort(), "-servername", "localhost",
                    "-CAfile", "ca.pem", "-verify_return_error", "-tls1_2", "-cipher", suite, "-ign_eof")
                    .directory(dir.toFile()).redirectErrorStream(true).start();
            client.getOutputStream().write("hello keyway\n".getBytes(StandardCharsets.UTF_8));
            client.getOutputStream().close();
            String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
            String summary = served.get(30, TimeUnit.SECONDS);
            assertThat(out).contains("you said: hello keyway").contains("Verify return code: 0 (ok)").contains("Cipher    : " + suite)
                    .contains("Extended master secret: yes").contains("Secure Renegotiation IS supported");
            assertThat(summary).contains(CipherSuites.parse(suite).name()).contains("TLSv1.2");
        }
    }

    /** OpenSSL 3 speaks TLS 1.3 too: forced to TLS 1.2 by its -tls1_2 flag it sets no sentinel, and Keyway accepts. */
    @Test
    void keywayClientWithBothVersionsAgainstATls12OnlyOpenssl() throws Exception {
        int port = OpenSslInteropTest.freePort();
        Process server = OpenSslInteropTest.start(dir, List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", "ec.pem",
                "-key", "ec.key", "-www", "-naccept", "1", "-no_tls1_3"), "ACCEPT");
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
             TlsConnection c = TlsConnection.connect(s, TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem")))
                     .serverName("localhost").versions(List.of(TlsVersion.TLS13, TlsVersion.TLS12)).build())) {
            c.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains("TLSv1.2");
            assertThat(c.version()).isEqualTo("TLSv1.2");
        } finally {
            server.destroyForcibly();
        }
    }

    /** Keyway's client resumes with OpenSSL's server: by ticket (OpenSSL's default) and by session ID (-no_ticket). */
    @ParameterizedTest(name = "keyway client resumes against openssl s_server {0}")
    @CsvSource({"ticket", "session-id"})
    void keywayClientResumesWithOpenssl(String how) throws Exception {
        int port = OpenSslInteropTest.freePort();
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", "ec.pem",
                "-key", "ec.key", "-www", "-naccept", "2", "-tls1_2"));
        if (how.equals("session-id")) {
            cmd.add("-no_ticket");
        }
        Process server = OpenSslInteropTest.start(dir, cmd, "ACCEPT");
        try {
            TlsConfig.Builder config = TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost")
                    .versions(List.of(TlsVersion.TLS13, TlsVersion.TLS12));
            dev.keyway.tls.params.Ticket session;
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port); TlsConnection c = TlsConnection.connect(s, config.build())) {
                c.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).contains("New, TLSv1.2");
                session = c.tickets().get(0);
                assertThat(how.equals("ticket") ? session.ticket() : session.sessionId()).isNotEmpty();
            }
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
                 TlsConnection c = TlsConnection.connect(s, config.resumeWith(session).build())) {
                c.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String page = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(c.resumed()).isTrue();
                assertThat(page).as("OpenSSL reports the session as reused").contains("Reused, TLSv1.2");
            }
        } finally {
            server.destroyForcibly();
        }
    }

    /** OpenSSL's client resumes with Keyway's server: -sess_out then -sess_in, by ticket and by session ID (-no_ticket); and -reconnect. */
    @ParameterizedTest(name = "openssl s_client resumes against the keyway server: {0}")
    @CsvSource({"ticket", "session-id", "reconnect"})
    void opensslClientResumesWithKeyway(String how) throws Exception {
        TlsConfig config = TlsConfig.builder().certificate(TestCerts.certs(dir.resolve("ec.pem")), TestCerts.key(dir.resolve("ec.key"), "ec"))
                .versions(List.of(TlsVersion.TLS13, TlsVersion.TLS12)).build();
        int connections = how.equals("reconnect") ? 6 : 2;
        try (ServerSocket ss = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            CompletableFuture<List<Boolean>> served = CompletableFuture.supplyAsync(() -> {
                List<Boolean> resumed = new java.util.ArrayList<>();
                for (int i = 0; i < connections; i++) {
                    try (Socket s = ss.accept(); TlsConnection c = TlsConnection.accept(s, config)) {
                        resumed.add(c.resumed());
                        c.getOutputStream().write("hello\n".getBytes(StandardCharsets.UTF_8));
                        c.shutdownOutput();
                    } catch (Exception e) {
                        resumed.add(null);
                    }
                }
                return resumed;
            });
            Path sess = dir.resolve("openssl12-" + how + ".sess");
            List<List<String>> runs = how.equals("reconnect") ? List.of(List.of("-reconnect"))
                    : List.of(List.of("-sess_out", sess.toString()), List.of("-sess_in", sess.toString()));
            String last = "";
            for (List<String> flags : runs) {
                List<String> cmd = new java.util.ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + ss.getLocalPort(),
                        "-servername", "localhost", "-CAfile", "ca.pem", "-tls1_2"));
                if (how.equals("session-id")) {
                    cmd.add("-no_ticket");
                }
                cmd.addAll(flags);
                Process client = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
                client.getOutputStream().close();
                last = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(last).contains("Reused, TLSv1.2");
            List<Boolean> resumed = served.get(30, TimeUnit.SECONDS);
            assertThat(resumed.get(0)).isFalse();
            assertThat(resumed.subList(1, resumed.size())).containsOnly(true);
        }
    }
}
