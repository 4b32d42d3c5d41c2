package dev.keyway.tls;

import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.config.TicketKeys;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.session.MemorySessionStore;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * OpenSSL's client with a certificate resumes against Keyway's server ({@link TlsConnection} on sockets): the
 * resumed connection names the client as the full one did; after a restart with another client CA (same ticket
 * keys and session store) OpenSSL's saved session is not resumed and the full handshake asks for the certificate.
 */
@Tag("interop")
class ResumedClientIdentityInteropTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl not installed: it is the peer and makes the certificates");
        TestCerts.make(dir, "ec", "ec", 5);
        TestCerts.make(dir, "client", "ec", 5);
        Files.createDirectories(dir.resolve("other"));
        TestCerts.make(dir.resolve("other"), "unused", "ec", 5); // other/ca.pem: a second CA
    }

    @ParameterizedTest(name = "openssl s_client {0} {1}")
    @CsvSource({"-tls1_3, ticket", "-tls1_2, ticket", "-tls1_2, session-id"})
    void opensslClientResumesAndIsNamed(String version, String how) throws Exception {
        TicketKeys keys = TicketKeys.rotatingEvery(Duration.ofHours(1));
        MemorySessionStore store = new MemorySessionStore();
        TlsConfig.Builder base = TlsConfig.builder().certificate(TestCerts.certs(dir.resolve("ec.pem")), TestCerts.key(dir.resolve("ec.key"), "ec"))
                .versions(List.of(TlsVersion.TLS13, TlsVersion.TLS12)).ticketKeys(keys).sessionStore(store).requireClientCertificate(true);
        TlsConfig trustsA = base.trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).build();
        TlsConfig trustsB = base.trustAnchors(TestCerts.certs(dir.resolve("other/ca.pem"))).build();
        List<TlsConfig> servers = List.of(trustsA, trustsA, trustsB);
        byte[] spki = TestCerts.certs(dir.resolve("client.pem")).get(0).getPublicKey().getEncoded();
        String expected = "client CN=localhost, client-spki=" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(spki));

        try (ServerSocket ss = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            CompletableFuture<List<String>> served = CompletableFuture.supplyAsync(() -> {
                List<String> outcomes = new ArrayList<>();
                for (TlsConfig config : servers) {
                    try (Socket s = ss.accept()) {
                        s.setSoTimeout(20_000);
                        try (TlsConnection c = TlsConnection.accept(s, config)) {
                            String line = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8)).readLine();
                            c.getOutputStream().write(("ok " + line + "\n").getBytes(StandardCharsets.UTF_8));
                            c.shutdownOutput();
                            outcomes.add((c.resumed() ? "resumed " : "full ") + c.peerSummary());
                        }
                    } catch (TlsException e) {
                        outcomes.add(e.alert().rfcName());
                    } catch (Exception e) {
                        outcomes.add(e.toString());
                    }
                }
                return outcomes;
            });
            Path sess = dir.resolve("sess-" + version + "-" + how);
            List<String> outputs = new ArrayList<>();
            for (String flag : List.of("-sess_out", "-sess_in", "-sess_in")) {
                List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + ss.getLocalPort(),
                        "-servername", "localhost", "-CAfile", "ca.pem", version, "-cert", "client.pem", "-key", "client.key",
                        flag, sess.toString(), "-ign_eof"));
                if (how.equals("session-id")) {
                    cmd.add("-no_ticket");
                }
                Process client = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
                try {
                    client.getOutputStream().write("hi\n".getBytes(StandardCharsets.UTF_8));
                    client.getOutputStream().close();
                    outputs.add(new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                    assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
                } finally {
                    client.destroyForcibly();
                }
            }
            List<String> outcomes = served.get(60, TimeUnit.SECONDS);
            String v = version.equals("-tls1_3") ? "TLSv1.3" : "TLSv1.2";
            assertThat(outputs.get(0)).contains("ok hi").contains("New, " + v);
            assertThat(outputs.get(1)).contains("ok hi").contains("Reused, " + v);
            assertThat(outputs.get(2)).doesNotContain("Reused, ");
            assertThat(outcomes).containsExactly("full " + expected, "resumed " + expected, "unknown_ca");
        }
    }
}
