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
    /** The authority identity that signs the audit head. */
    static final Identity AUTHORITY = Identity.generate(KeyType.X25519);

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
        store = AuthorityStore.open(url, AUTHORITY);
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

        AuthorityStore.AuditCheck check = store.verifyAudit(AUTHORITY.recipient());
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
        assertThat(store.verifyAudit(AUTHORITY.recipient()).intact()).isTrue();
        sql("UPDATE audit SET detail = '{\"owner\":\"mallory\"}' WHERE seq = 3");
        AuthorityStore.AuditCheck check = store.verifyAudit(AUTHORITY.recipient());
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
        assertThat(store.verifyAudit(AUTHORITY.recipient()).firstBroken()).isEqualTo(3);
        sql("DELETE FROM audit WHERE seq = 2");
        assertThat(store.verifyAudit(AUTHORITY.recipient()).firstBroken()).isEqualTo(2);
        assertThat(store.verifyAudit(AUTHORITY.recipient()).problem()).contains("removed from the end");
    }

    @Test
    void aNonceIsAcceptedOncePerClientUntilItsTimestampExpires() {
        Instant expires = T0.plus(Duration.ofMinutes(5));
        assertThat(store.useNonce("c1", "n1", expires, T0)).isTrue();
        assertThat(store.useNonce("c1", "n1", expires, T0.plusSeconds(10))).isFalse();
        assertThat(store.useNonce("c2", "n1", expires, T0.plusSeconds(10))).isTrue();
        // Forgotten once its request's timestamp can no longer be accepted.
        assertThat(store.useNonce("c1", "n1", expires, expires.plusSeconds(11))).isTrue();
    }

    /**
     * The replay gap: a request stamped 4m50s in the future was accepted at T0; its nonce must still be
     * known at T0 + 5m20s, when its timestamp (30 s old then) is still inside the window.
     */
    @Test
    void aNonceStampedInTheFutureIsRememberedUntilItsTimestampExpires() {
        Instant stamped = T0.plus(Duration.ofMinutes(4).plusSeconds(50));
        Instant expires = stamped.plus(RequestSigning.WINDOW);
        assertThat(store.useNonce("c1", "future", expires, T0)).isTrue();
        // Another request 11 s later triggers the purge of expired nonces: this one is not expired.
        assertThat(store.useNonce("c1", "other", T0.plusSeconds(11).plus(RequestSigning.WINDOW), T0.plusSeconds(11))).isTrue();
        assertThat(store.useNonce("c1", "future", expires, T0.plus(Duration.ofMinutes(5).plusSeconds(20)))).isFalse();
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
        AuthorityStore.AuditCheck check = store.verifyAudit(AUTHORITY.recipient());
        assertThat(check.intact()).isTrue();
        assertThat(check.entries()).isEqualTo(1 + threads * each);
    }

    /** The attack of issue 14: drop the last entries and point the head at the new last one. */
    @Test
    void droppingTheTailAndRewritingTheHeadFailsTheSignature() throws Exception {
        Client c = store.enroll("alice", Identity.generate(KeyType.X25519).recipient(), true, T0);
        for (int i = 0; i < 5; i++) {
            store.escrow(c, new byte[] {(byte) i}, "k" + i, (long) i, null, T0.plusSeconds(i));
        }
        AuthorityStore.AuditCheck before = store.verifyAudit(AUTHORITY.recipient());
        assertThat(before.intact()).isTrue();
        assertThat(before.entries()).isEqualTo(6);
        String hash4 = store.auditHash(4).orElseThrow();
        sql("DELETE FROM audit WHERE seq > 4");
        sql("UPDATE audit_head SET seq = 4, hash = '" + hash4 + "' WHERE id = 1");
        AuthorityStore.AuditCheck check = store.verifyAudit(AUTHORITY.recipient());
        assertThat(check.intact()).isFalse();
        assertThat(check.problem()).contains("signature", "does not verify", "entry 4");
    }

    /** The other attack: edit an entry, recompute every hash after it and the head. */
    @Test
    void editingAnEntryAndRecomputingTheChainFailsTheSignature() throws Exception {
        Client c = store.enroll("alice", Identity.generate(KeyType.X25519).recipient(), true, T0);
        for (int i = 0; i < 4; i++) {
            store.escrow(c, new byte[] {(byte) i}, "k" + i, (long) i, null, T0.plusSeconds(i));
        }
        List<AuditEntry> entries = store.auditEntries(0, 100);
        String prev = AuditEntry.GENESIS;
        for (AuditEntry e : entries) {
            String detail = e.seq() == 2 ? "{\"owner\":\"mallory\",\"serial\":0}" : e.detail();
            String hash = AuditEntry.computeHash(e.seq(), e.at(), e.actor(), e.action(), e.subject(), e.outcome(), detail, prev);
            sql("UPDATE audit SET detail = '" + detail.replace("'", "''") + "', prev_hash = '" + prev + "', hash = '" + hash
                    + "' WHERE seq = " + e.seq());
            prev = hash;
        }
        sql("UPDATE audit_head SET hash = '" + prev + "' WHERE id = 1");
        AuthorityStore.AuditCheck check = store.verifyAudit(AUTHORITY.recipient());
        assertThat(check.intact()).isFalse();
        assertThat(check.problem()).contains("signature");
        // And an unsigned head (the signature removed) is not accepted either.
        sql("UPDATE audit_head SET signature = NULL WHERE id = 1");
        assertThat(store.verifyAudit(AUTHORITY.recipient()).problem()).contains("not signed");
    }

    @Test
    void aHeadSignedByAnotherKeyIsRefused() {
        store.enroll("alice", Identity.generate(KeyType.X25519).recipient(), true, T0);
        assertThat(store.verifyAudit(Identity.generate(KeyType.X25519).recipient()).problem()).contains("does not verify");
    }

    @Test
    void aStoreOpenedToReadCannotAppend() {
        try (AuthorityStore reader = AuthorityStore.open(url)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> reader.audit(T0, "x", "y", "z", "ok", "{}"))
                    .hasMessageContaining("sign");
            assertThat(store.verifyAudit(AUTHORITY.recipient()).intact()).isTrue();
        }
    }

    @Test
    void aRevokedKeyStaysRevokedAndCannotEnrollOrBeApprovedAgain() {
        Identity alice = Identity.generate(KeyType.X25519);
        Client c = store.enroll("alice", alice.recipient(), true, T0);
        Client revoked = store.revoke(c.id(), "admin", T0.plusSeconds(1));
        assertThat(revoked.revoked()).isTrue();
        assertThat(revoked.approved()).isFalse();
        assertThat(revoked.revokedAt()).isEqualTo(T0.plusSeconds(1));
        assertThat(store.revoke(c.id(), "admin", T0.plusSeconds(2)).revokedAt()).isEqualTo(T0.plusSeconds(1)); // idempotent
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.enroll("alice", alice.recipient(), true, T0.plusSeconds(3)))
                .isInstanceOf(AuthorityStore.Forbidden.class).hasMessageContaining("revoked");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.approve(c.id(), Set.of(), "admin", T0.plusSeconds(3)))
                .isInstanceOf(AuthorityStore.Conflict.class);
        assertThat(store.auditEntries(0, 100)).filteredOn(e -> e.action().equals("revoke")).hasSize(1);
        assertThat(store.verifyAudit(AUTHORITY.recipient()).intact()).isTrue();
    }

    @Test
    void aLookAlikeOfAnEnrolledNameIsAConflict() {
        store.enroll("alice", Identity.generate(KeyType.X25519).recipient(), true, T0);
        for (String lookAlike : new String[] {"Alice", "\u0430lice", "\u0430\u04cf\u0456\u0441\u0435", "ALICE"}) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.enroll(lookAlike, Identity.generate(KeyType.X25519).recipient(),
                    true, T0)).as(lookAlike).isInstanceOf(AuthorityStore.Conflict.class).hasMessageContaining("looks like the enrolled owner 'alice'");
        }
        // The same name again is the same owner: a second key (pending, as re-enrolling is).
        assertThat(store.enroll("alice", Identity.generate(KeyType.X25519).recipient(), false, T0).name()).isEqualTo("alice");
        assertThat(store.enroll("alicia", Identity.generate(KeyType.X25519).recipient(), false, T0).name()).isEqualTo("alicia");
    }

    /** One person with two officer keys passes the two-person rule alone: no more. */
    @Test
    void theTwoPersonRuleCountsOwnersNotKeys() {
        Client alice1 = store.enroll("alice", Identity.generate(KeyType.X25519).recipient(), true, T0);
        Client alice2 = store.enroll("alice", Identity.generate(KeyType.X25519).recipient(), true, T0);
        Client bob = store.enroll("bob", Identity.generate(KeyType.X25519).recipient(), true, T0);
        alice2 = store.approve(alice2.id(), Set.of(Client.RECOVERY_OFFICER), "admin", T0);
        bob = store.approve(bob.id(), Set.of(Client.RECOVERY_OFFICER), "admin", T0);
        EscrowRecord rec = store.escrow(alice1, new byte[] {1}, "k", 1L, null, T0).record();
        AuthorityStore.RecoveryRequest req = store.requestRecovery(rec.id(), alice1, T0);
        assertThat(req.requesterOwner()).isEqualTo("alice");
        Client second = alice2;
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.approveRecovery(req.id(), second, Duration.ofHours(1), T0))
                .isInstanceOf(AuthorityStore.Forbidden.class).hasMessageContaining("two-person");
        AuthorityStore.RecoveryRequest approved = store.approveRecovery(req.id(), bob, Duration.ofHours(1), T0.plusSeconds(1));
        assertThat(approved.approverOwner()).isEqualTo("bob");
        assertThat(approved.expiresAt()).isEqualTo(T0.plusSeconds(1).plus(Duration.ofHours(1)));
        Client third = bob;
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.approveRecovery(req.id(), third, Duration.ofHours(1), T0))
                .isInstanceOf(AuthorityStore.Conflict.class);
    }

    @Test
    void anApprovalIsCollectedAgainByItsRequesterUntilItExpires() {
        Client alice = store.enroll("alice", Identity.generate(KeyType.X25519).recipient(), true, T0);
        Client alice2 = store.enroll("alice", Identity.generate(KeyType.X25519).recipient(), true, T0);
        Client bob = store.approve(store.enroll("bob", Identity.generate(KeyType.X25519).recipient(), true, T0).id(),
                Set.of(Client.RECOVERY_OFFICER), "admin", T0);
        EscrowRecord rec = store.escrow(alice, new byte[] {1}, "k", 1L, null, T0).record();
        AuthorityStore.RecoveryRequest req = store.requestRecovery(rec.id(), alice, T0);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.collectRecovery(req.id(), alice, T0))
                .isInstanceOf(AuthorityStore.Conflict.class).hasMessageContaining("pending");
        store.approveRecovery(req.id(), bob, Duration.ofHours(1), T0);
        assertThat(store.collectRecovery(req.id(), alice, T0.plusSeconds(5)).collected()).isEqualTo(1);
        assertThat(store.collectRecovery(req.id(), alice, T0.plusSeconds(6)).collected()).isEqualTo(2); // a failed delivery, retried
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.collectRecovery(req.id(), alice2, T0.plusSeconds(7)))
                .isInstanceOf(AuthorityStore.Forbidden.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.collectRecovery(req.id(), alice, T0.plus(Duration.ofHours(1))))
                .isInstanceOf(AuthorityStore.Conflict.class).hasMessageContaining("expired");
        assertThat(store.verifyAudit(AUTHORITY.recipient()).intact()).isTrue();
    }

    void sql(String statement) throws Exception {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.executeUpdate(statement);
        }
    }
}
