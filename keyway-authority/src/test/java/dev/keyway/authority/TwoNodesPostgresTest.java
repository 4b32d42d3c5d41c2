package dev.keyway.authority;

import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.keys.SessionKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two authority processes' worth of servers (two stores, two pools, two HTTPS ports) on one PostgreSQL
 * database serve the same data: what one stores the other finds, concurrent writes on both keep one
 * intact audit chain. Skipped with the reason printed where no PostgreSQL is reachable.
 */
@Tag("postgres")
class TwoNodesPostgresTest {
    @TempDir
    Path dir;
    String schema;
    String url;
    AuthorityHome home;
    Identity authority;
    AuthorityStore storeA;
    AuthorityStore storeB;
    AuthorityServer nodeA;
    AuthorityServer nodeB;
    AuthorityClient a;
    AuthorityClient b;
    AuthorityHome.Initialized init;

    @BeforeAll
    static void reachable() {
        PostgresStoreTest.reachable();
    }

    @BeforeEach
    void start() throws Exception {
        schema = "kw_nodes_" + AuthorityStore.randomId().substring(0, 12);
        try (Connection c = DriverManager.getConnection(PostgresStoreTest.SERVER); Statement s = c.createStatement()) {
            s.executeUpdate("CREATE SCHEMA " + schema);
        }
        url = PostgresStoreTest.SERVER + "&currentSchema=" + schema;
        home = new AuthorityHome(dir.resolve("authority"));
        init = home.init(KeyType.X25519, null);
        authority = home.identity(f -> null);
        // Both nodes migrate on start; Flyway's lock makes the second one wait and find the schema done.
        storeA = AuthorityStore.open(url, authority);
        storeB = AuthorityStore.open(url, authority);
        nodeA = new AuthorityServer(home, storeA, authority, false, Clock.systemUTC());
        nodeB = new AuthorityServer(home, storeB, authority, false, Clock.systemUTC());
        a = new AuthorityClient(URI.create("https://127.0.0.1:" + nodeA.start("127.0.0.1", 0)), home.certificate());
        b = new AuthorityClient(URI.create("https://127.0.0.1:" + nodeB.start("127.0.0.1", 0)), home.certificate());
    }

    @AfterEach
    void stop() throws Exception {
        nodeA.close();
        nodeB.close();
        storeA.close();
        storeB.close();
        try (Connection c = DriverManager.getConnection(PostgresStoreTest.SERVER); Statement s = c.createStatement()) {
            s.executeUpdate("DROP SCHEMA " + schema + " CASCADE");
        }
    }

    Identity enrolled(String name) {
        Identity id = Identity.generate(KeyType.X25519);
        assertThat(a.signed(id, "POST", "/v1/enroll", Map.of("name", name, "recipient", id.recipient().encode())).status()).isEqualTo(202);
        assertThat(b.admin(init.adminToken(), "POST", "/v1/admin/approve", Map.of("client_id", id.recipient().idHex())).status())
                .isEqualTo(200);
        return id;
    }

    @Test
    void whatOneNodeStoresTheOtherServes() {
        Identity alice = enrolled("alice");
        SessionKey key = SessionKeys.generate(Algorithms.AES_256_GCM);
        String blob = Base64.getEncoder().encodeToString(KeyWrap.wrapForEscrow(key, authority.recipient(), EscrowBinding.owner("alice")).encode());
        AuthorityClient.Response receipt = b.signed(alice, "POST", "/v1/escrow", Map.of("blob", blob, "description", "k", "serial", 5));
        assertThat(receipt.status()).as(receipt.error()).isEqualTo(201);
        // The same blob sent to the other node is recognised: no duplicate across nodes.
        AuthorityClient.Response again = a.signed(alice, "POST", "/v1/escrow", Map.of("blob", blob, "description", "k", "serial", 5));
        assertThat(again.status()).isEqualTo(200);
        assertThat(again.body().get("escrow_id").asText()).isEqualTo(receipt.body().get("escrow_id").asText());
        AuthorityClient.Response rec = a.signed(alice, "POST", "/v1/recover", Map.of("serial", 5));
        assertThat(rec.status()).as(rec.error()).isEqualTo(200);
        try (SessionKey back = KeyWrap.unwrap(KeyBlob.decode(Base64.getDecoder().decode(rec.body().get("blob").asText())), alice)) {
            assertThat(back.sameKeyAs(key)).isTrue();
        }
        assertThat(b.signed(alice, "GET", "/v1/escrows", null).body().get("escrows")).hasSize(1);
    }

    @Test
    void concurrentEscrowsOnBothNodesKeepOneIntactAuditChain() throws Exception {
        int clients = 6;
        int each = 40;
        List<Identity> ids = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            ids.add(enrolled("owner" + i));
        }
        Map<String, Boolean> receipts = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            Identity id = ids.get(i);
            String owner = "owner" + i;
            fs.add(pool.submit(() -> {
                for (int n = 0; n < each; n++) {
                    String blob = Base64.getEncoder().encodeToString(
                            KeyWrap.wrapForEscrow(SessionKeys.generate(Algorithms.AES_256_GCM), authority.recipient(),
                                    EscrowBinding.owner(owner)).encode());
                    AuthorityClient node = n % 2 == 0 ? a : b;
                    AuthorityClient.Response r = node.signed(id, "POST", "/v1/escrow", Map.of("blob", blob, "description", "d", "serial", n));
                    assertThat(r.status()).as(r.error()).isEqualTo(201);
                    receipts.put(r.body().get("escrow_id").asText(), true);
                }
                return null;
            }));
        }
        for (Future<?> f : fs) {
            f.get();
        }
        pool.shutdown();
        assertThat(receipts).hasSize(clients * each);
        assertThat(storeA.escrowCount()).isEqualTo(clients * each);
        AuthorityStore.AuditCheck check = storeB.verifyAudit(authority.recipient());
        assertThat(check.intact()).as(check.problem()).isTrue();
        assertThat(check.entries()).isEqualTo(2 + 2L * clients + clients * each); // two node starts
    }

    /**
     * A key revoked through one node is refused by that node at once, and by the other node within its
     * cache lifetime ({@link AuthorityServer#APPROVED_CACHE_MILLIS}, docs/AUTHORITY.md), even though the
     * other node had the key cached as approved.
     */
    @Test
    void aRevocationOnOneNodeIsRefusedAtOnceThereAndWithinTheCacheLifetimeOnTheOther() throws Exception {
        Identity alice = enrolled("alice");
        assertThat(a.signed(alice, "GET", "/v1/escrows", null).status()).isEqualTo(200);
        assertThat(b.signed(alice, "GET", "/v1/escrows", null).status()).isEqualTo(200); // now cached on B
        long revokedAt = System.nanoTime();
        AuthorityClient.Response r = a.admin(init.adminToken(), "POST", "/v1/admin/revoke", Map.of("client_id", alice.recipient().idHex()));
        assertThat(r.status()).as(r.error()).isEqualTo(200);
        AuthorityClient.Response onA = a.signed(alice, "GET", "/v1/escrows", null);
        assertThat(onA.status()).isEqualTo(401);
        assertThat(onA.error()).contains("revoked");
        long deadline = revokedAt + (AuthorityServer.APPROVED_CACHE_MILLIS + 2_000) * 1_000_000;
        int status;
        do {
            status = b.signed(alice, "GET", "/v1/escrows", null).status();
            if (status == 401) {
                break;
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadline);
        assertThat(status).as("node B refuses the revoked key within the cache lifetime").isEqualTo(401);
        assertThat((System.nanoTime() - revokedAt) / 1_000_000).isLessThan(AuthorityServer.APPROVED_CACHE_MILLIS + 2_000);
    }
}
