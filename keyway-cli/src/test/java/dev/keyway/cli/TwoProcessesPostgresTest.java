package dev.keyway.cli;

import dev.keyway.authority.AuthorityClient;
import dev.keyway.authority.AuthorityHome;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.keys.SessionKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two authority processes ({@code keyway authority serve --db ...}) on one PostgreSQL database serve
 * the same data. Skipped, with the reason printed, where no PostgreSQL is reachable at 127.0.0.1:5432.
 */
@Tag("postgres")
class TwoProcessesPostgresTest {
    static final String SERVER = System.getenv().getOrDefault("KEYWAY_TEST_POSTGRES",
            "jdbc:postgresql://127.0.0.1:5432/test?user=postgres");

    @TempDir
    Path dir;
    final List<Process> processes = new ArrayList<>();
    String schema;

    @AfterEach
    void stop() throws Exception {
        for (Process p : processes) {
            p.destroy();
            p.waitFor();
        }
        if (schema != null) {
            try (Connection c = DriverManager.getConnection(SERVER); Statement s = c.createStatement()) {
                s.executeUpdate("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }

    @Test
    void whatOneProcessStoresTheOtherServes() throws Exception {
        try (Connection c = DriverManager.getConnection(SERVER + "&connectTimeout=2"); Statement s = c.createStatement()) {
            schema = "kw_procs_" + Long.toHexString(System.nanoTime());
            s.executeUpdate("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            String reason = "PostgreSQL not reachable at " + SERVER + " (" + e.getMessage() + ")";
            System.out.println("SKIPPED TwoProcessesPostgresTest: " + reason);
            Assumptions.abort(reason);
        }
        String db = SERVER + "&currentSchema=" + schema;
        Path auth = dir.resolve("auth");
        AuthorityHome home = new AuthorityHome(auth);
        AuthorityHome.Initialized init = home.init(KeyType.X25519, null);
        URI a = start(auth, db, "a");
        URI b = start(auth, db, "b");
        AuthorityClient ca = new AuthorityClient(a, home.certificate());
        AuthorityClient cb = new AuthorityClient(b, home.certificate());

        Identity alice = Identity.generate(KeyType.X25519);
        assertThat(ca.signed(alice, "POST", "/v1/enroll", Map.of("name", "alice", "recipient", alice.recipient().encode())).status())
                .isEqualTo(202);
        assertThat(cb.admin(init.adminToken(), "POST", "/v1/admin/approve", Map.of("client_id", alice.recipient().idHex())).status())
                .isEqualTo(200);
        Recipient authority = Recipient.parse(ca.authorityRecipient());
        assertThat(cb.authorityRecipient()).isEqualTo(authority.encode());
        SessionKey key = SessionKeys.generate(Algorithms.AES_256_GCM);
        String blob = Base64.getEncoder().encodeToString(KeyWrap.wrapForEscrow(key, authority, dev.keyway.core.blob.EscrowBinding.owner("alice")).encode());
        AuthorityClient.Response receipt = ca.signed(alice, "POST", "/v1/escrow", Map.of("blob", blob, "description", "k", "serial", 9));
        assertThat(receipt.status()).as(receipt.error()).isEqualTo(201);
        AuthorityClient.Response rec = cb.signed(alice, "POST", "/v1/recover", Map.of("serial", 9));
        assertThat(rec.status()).as(rec.error()).isEqualTo(200);
        try (SessionKey back = KeyWrap.unwrap(KeyBlob.decode(Base64.getDecoder().decode(rec.body().get("blob").asText())), alice)) {
            assertThat(back.sameKeyAs(key)).isTrue();
        }
        // A request replayed to the other process is refused: nonces live in the shared database.
        byte[] body = ("{\"serial\":9}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Map<String, String> headers = dev.keyway.authority.RequestSigning.sign(alice, "POST", "/v1/recover", body, java.time.Instant.now());
        assertThat(ca.send("POST", "/v1/recover", body, headers).status()).isEqualTo(200);
        assertThat(cb.send("POST", "/v1/recover", body, headers).status()).isEqualTo(401);

        // Revocation through process A with 'keyway authority revoke' (issue 14, point 5): A refuses the key at
        // once; B, which has the key cached as approved, refuses it within its cache lifetime.
        assertThat(cb.signed(alice, "GET", "/v1/escrows", null).status()).isEqualTo(200);
        Path token = Files.writeString(dir.resolve("admin.token"), init.adminToken() + "\n");
        Path cacert = auth.resolve(AuthorityHome.TLS_CERT);
        long revokedAt = System.nanoTime();
        Cli.Result revoke = Cli.run("authority", "revoke", "--authority", a.toString(), "--cacert", cacert.toString(),
                "--admin-token-file", token.toString(), alice.recipient().idHex());
        assertThat(revoke.exit()).as(revoke.err()).isZero();
        assertThat(ca.signed(alice, "GET", "/v1/escrows", null).status()).isEqualTo(401);
        int onB;
        do {
            onB = cb.signed(alice, "GET", "/v1/escrows", null).status();
            if (onB != 401) {
                Thread.sleep(100);
            }
        } while (onB != 401 && System.nanoTime() - revokedAt < 10_000_000_000L);
        long millis = (System.nanoTime() - revokedAt) / 1_000_000;
        System.out.println("TwoProcessesPostgresTest: process B refused the revoked key after " + millis + " ms (cache lifetime "
                + dev.keyway.authority.AuthorityServer.APPROVED_CACHE_MILLIS + " ms)");
        assertThat(onB).isEqualTo(401);
        assertThat(millis).isLessThan(dev.keyway.authority.AuthorityServer.APPROVED_CACHE_MILLIS + 2_000);
        Cli.Result clients = Cli.run("authority", "clients", "--authority", b.toString(), "--cacert", cacert.toString(),
                "--admin-token-file", token.toString());
        assertThat(clients.out()).contains(alice.recipient().idHex() + "  revoked");

        for (Process p : processes) {
            p.destroy();
            p.waitFor();
        }
        Cli.Result audit = Cli.run("authority", "audit", "verify", "--dir", auth.toString(), "--db", db);
        assertThat(audit.out()).as(audit.err()).contains("audit log intact");
    }

    private URI start(Path auth, String db, String name) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path log = dir.resolve(name + ".log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), "dev.keyway.cli.Main",
                "authority", "serve", "--dir", auth.toString(), "--listen", "127.0.0.1:" + port, "--db", db)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(p);
        URI uri = URI.create("https://127.0.0.1:" + port);
        AuthorityClient health = new AuthorityClient(uri, new AuthorityHome(auth).certificate());
        long until = System.nanoTime() + 60_000_000_000L;
        while (true) {
            if (!p.isAlive()) {
                throw new AssertionError("authority " + name + " exited:\n" + Files.readString(log));
            }
            try {
                if (health.send("GET", "/healthz", new byte[0], Map.of()).status() == 200) {
                    return uri;
                }
            } catch (KeywayException e) {
                // not listening yet
            }
            if (System.nanoTime() > until) {
                throw new AssertionError("authority " + name + " did not start:\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
    }
}
