package dev.keyway.authority;

import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The store on SQLite; {@link PostgresStoreTest} runs the same checks on PostgreSQL. */
class AuthorityStoreTest {
    static final Instant T0 = Instant.parse("2026-11-21T12:00:00Z");

    @TempDir
    Path dir;
    AuthorityStore store;
    String url;

    String url() {
        return "jdbc:sqlite:" + dir.resolve("authority.db");
    }

    @BeforeEach
    void open() {
        url = url();
        store = AuthorityStore.open(url);
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void enrollApproveEscrowFindAndAudit() {
        Identity alice = Identity.generate(KeyType.X25519);
        Client pending = store.enroll("alice", alice.recipient(), false, T0);
        assertThat(pending.status()).isEqualTo(Client.Status.PENDING);
        Client approved = store.approve(pending.id(), Set.of(), "admin", T0.plusSeconds(1));
        assertThat(approved.approved()).isTrue();

        AuthorityStore.Escrowed first = store.escrow(approved, new byte[] {1, 2, 3}, "Q3 report", 7L, "ab".repeat(16), T0.plusSeconds(2));
        AuthorityStore.Escrowed again = store.escrow(approved, new byte[] {1, 2, 3}, "Q3 report", 7L, "ab".repeat(16), T0.plusSeconds(3));
        assertThat(first.created()).isTrue();
        assertThat(again.created()).isFalse();
        assertThat(again.record().id()).isEqualTo(first.record().id());
        store.escrow(approved, new byte[] {4}, "payroll 100%_done", 8L, null, T0.plusSeconds(4));
        assertThat(store.escrowCount()).isEqualTo(2);

        assertThat(store.find(new AuthorityStore.Query("alice", null, 7L, null, null, null, 100))).hasSize(1);
        assertThat(store.find(new AuthorityStore.Query(null, "100%_", null, null, null, null, 100))).hasSize(1);
        assertThat(store.find(new AuthorityStore.Query(null, "_", null, null, null, null, 100))).hasSize(1);
        assertThat(store.find(new AuthorityStore.Query("bob", null, null, null, null, null, 100))).isEmpty();
        assertThat(store.find(new AuthorityStore.Query(null, null, null, null, T0.plusSeconds(3), null, 100))).hasSize(1);
        assertThat(store.find(new AuthorityStore.Query(null, null, null, "ab".repeat(16), null, null, 100)).get(0).blob())
                .containsExactly(1, 2, 3);

        AuthorityStore.AuditCheck check = store.verifyAudit();
        assertThat(check.intact()).isTrue();
        assertThat(check.entries()).isEqualTo(4); // enroll, approve, escrow, escrow (the retry adds nothing)
        List<AuditEntry> entries = store.auditEntries(0, 100);
        assertThat(entries).extracting(AuditEntry::action).containsExactly("enroll", "approve", "escrow", "escrow");
    }

    @Test
    void aTamperedAuditEntryIsReportedByNumber() throws Exception {
        Identity alice = Identity.generate(KeyType.X25519);
        Client c = store.enroll("alice", alice.recipient(), true, T0);
        for (int i = 0; i < 5; i++) {
            store.escrow(c, new byte[] {(byte) i}, "k" + i, (long) i, null, T0.plusSeconds(i));
        }
        assertThat(store.verifyAudit().intact()).isTrue();
        sql("UPDATE audit SET detail = '{\"owner\":\"mallory\"}' WHERE seq = 3");
        AuthorityStore.AuditCheck check = store.verifyAudit();
        assertThat(check.intact()).isFalse();
        assertThat(check.firstBroken()).isEqualTo(3);
        assertThat(check.entries()).isEqualTo(2);
    }

    @Test
    void removedEntriesAreReported() throws Exception {
        Identity alice = Identity.generate(KeyType.X25519);
        Client c = store.enroll("alice", alice.recipient(), true, T0);
        store.escrow(c, new byte[] {1}, "k", 1L, null, T0);
        store.escrow(c, new byte[] {2}, "k", 2L, null, T0);
        sql("DELETE FROM audit WHERE seq = 3");
        assertThat(store.verifyAudit().firstBroken()).isEqualTo(3);
        sql("DELETE FROM audit WHERE seq = 2");
        assertThat(store.verifyAudit().firstBroken()).isEqualTo(2);
        assertThat(store.verifyAudit().problem()).contains("removed from the end");
    }

    @Test
    void aNonceIsAcceptedOncePerClientWithinTheWindow() {
        Duration window = Duration.ofMinutes(5);
        assertThat(store.useNonce("c1", "n1", T0, window)).isTrue();
        assertThat(store.useNonce("c1", "n1", T0.plusSeconds(10), window)).isFalse();
        assertThat(store.useNonce("c2", "n1", T0.plusSeconds(10), window)).isTrue();
        // Forgotten after the window: by then the request's own timestamp is stale.
        assertThat(store.useNonce("c1", "n1", T0.plus(window).plusSeconds(1), window)).isTrue();
    }

    @Test
    void concurrentEscrowsAllLandOnceAndTheChainHolds() throws Exception {
        Identity alice = Identity.generate(KeyType.X25519);
        Client c = store.enroll("alice", alice.recipient(), true, T0);
        int threads = 8;
        int each = 50;
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int tt = t;
            ts[t] = new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    // Every blob twice: the second is a retry and must not duplicate.
                    byte[] blob = {(byte) tt, (byte) i, 9};
                    store.escrow(c, blob, "t" + tt, (long) i, null, T0);
                    store.escrow(c, blob, "t" + tt, (long) i, null, T0);
                }
            });
            ts[t].start();
        }
        for (Thread t : ts) {
            t.join();
        }
        assertThat(store.escrowCount()).isEqualTo(threads * each);
        AuthorityStore.AuditCheck check = store.verifyAudit();
        assertThat(check.intact()).isTrue();
        assertThat(check.entries()).isEqualTo(1 + threads * each);
    }

    void sql(String statement) throws Exception {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.executeUpdate(statement);
        }
    }
}
