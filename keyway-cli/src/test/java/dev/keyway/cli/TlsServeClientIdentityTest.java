package dev.keyway.cli;

import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.cert.Pem;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Ticket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code tls serve --verify-client} names its client on every connection, full or resumed, in both versions:
 * the subject CN and {@code client-spki=} (SHA-256 of the SubjectPublicKeyInfo), what a server authorizes by.
 */
class TlsServeClientIdentityTest {
    @TempDir
    static Path dir;
    static List<X509Certificate> aliceChain;
    static PrivateKey aliceKey;
    static String expectedSpki;

    @BeforeAll
    static void pki() throws Exception {
        cli("cert", "new", "--cn", "Clients CA", "--is-ca", "-o", p("ca.pem"), "--key-out", p("ca.key"));
        cli("cert", "new", "--cn", "localhost", "--san", "DNS:localhost", "--ca", p("ca.pem"), "--ca-key", p("ca.key"),
                "-o", p("srv.pem"), "--key-out", p("srv.key"));
        cli("cert", "new", "--cn", "alice", "--ca", p("ca.pem"), "--ca-key", p("ca.key"), "-o", p("alice.pem"), "--key-out", p("alice.key"));
        aliceChain = Pem.readCertificates(Files.readAllBytes(dir.resolve("alice.pem")));
        aliceKey = Pem.readPrivateKey(Files.readAllBytes(dir.resolve("alice.key")));
        // computed here from the certificate's own encoding, not by the code under test
        expectedSpki = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(aliceChain.get(0).getPublicKey().getEncoded()));
    }

    private static String p(String name) {
        return dir.resolve(name).toString();
    }

    private static void cli(String... args) {
        Cli.Result r = Cli.run(args);
        assertThat(r.exit()).as(r.err()).isZero();
    }

    enum Version { TLS13, TLS12_TICKET, TLS12_SESSION_ID }

    @ParameterizedTest
    @EnumSource(Version.class)
    void fullAndResumedConnectionsNameTheClient(Version v) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("tls", "serve", "--cert", p("srv.pem"), "--key", p("srv.key"),
                "--listen", "127.0.0.1:0", "--echo", "--naccept", "2", "--verify-client", p("ca.pem")));
        if (v == Version.TLS12_SESSION_ID) {
            args.add("--no-ticket");
        }
        InProcessServer server = InProcessServer.start(args.toArray(String[]::new));
        TlsConfig.Builder client = TlsConfig.builder().trustAnchors(Pem.readCertificates(Files.readAllBytes(dir.resolve("ca.pem"))))
                .serverName("localhost").certificate(aliceChain, aliceKey)
                .versions(List.of(v == Version.TLS13 ? TlsVersion.TLS13 : TlsVersion.TLS12));
        Ticket ticket = exchange(server, client.build(), false);
        assertThat(ticket).as("a session to resume").isNotNull();
        exchange(server, client.resumeWith(ticket).build(), true);
        Cli.Result r = server.result();
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> lines = r.err().lines().filter(l -> l.contains("client-spki=")).toList();
        assertThat(lines).as(r.err()).hasSize(2);
        assertThat(lines.get(0)).contains("full handshake").endsWith(", client CN=alice, client-spki=" + expectedSpki);
        assertThat(lines.get(1)).contains("resumed").endsWith(", client CN=alice, client-spki=" + expectedSpki);
    }

    private static Ticket exchange(InProcessServer server, TlsConfig config, boolean resumed) throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port()); TlsConnection c = TlsConnection.connect(s, config)) {
            s.setSoTimeout(10_000);
            c.getOutputStream().write('x');
            assertThat(c.getInputStream().read()).isEqualTo('x');
            assertThat(c.resumed()).isEqualTo(resumed);
            List<Ticket> t = c.tickets();
            return t.isEmpty() ? null : t.get(t.size() - 1);
        }
    }
}
