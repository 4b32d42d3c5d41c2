package dev.keyway.authority;

import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A log written before signed heads (schema 1): the upgrade signs its head once, if its chain is intact;
 * a broken one is not adopted, and the authority then refuses to append to it.
 */
class AuditUpgradeTest {
    static final Instant T0 = Instant.parse("2026-11-21T12:00:00Z");
    static final Identity AUTHORITY = Identity.generate(KeyType.X25519);

    @TempDir
    Path dir;

    /** A schema-1 database with {@code n} audit entries (unsigned head), as the previous Keyway wrote it. */
    String schema1(String name, int n, boolean breakEntry2) throws Exception {
        String url = "jdbc:sqlite:" + dir.resolve(name);
        Flyway.configure().dataSource(url, null, null).locations("classpath:db/migration").target("1").load().migrate();
        try (Connection c = DriverManager.getConnection(url)) {
            String prev = AuditEntry.GENESIS;
            for (int seq = 1; seq <= n; seq++) {
                String detail = "{\"n\":" + seq + "}";
                String hash = AuditEntry.computeHash(seq, T0, "admin", "approve", "c" + seq, "ok", detail, prev);
                try (PreparedStatement p = c.prepareStatement("INSERT INTO audit (seq, at, actor, action, subject, outcome, detail, "
                        + "prev_hash, hash) VALUES (?, ?, 'admin', 'approve', ?, 'ok', ?, ?, ?)")) {
                    p.setLong(1, seq);
                    p.setLong(2, T0.toEpochMilli());
                    p.setString(3, "c" + seq);
                    p.setString(4, breakEntry2 && seq == 2 ? "{\"n\":99}" : detail);
                    p.setString(5, prev);
                    p.setString(6, hash);
                    p.executeUpdate();
                }
                prev = hash;
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1")) {
                p.setLong(1, n);
                p.setString(2, prev);
                p.executeUpdate();
            }
        }
        return url;
    }

    @Test
    void anIntactOldLogIsSignedOnceByTheUpgrade() throws Exception {
        String url = schema1("old.db", 3, false);
        try (AuthorityStore store = AuthorityStore.open(url, AUTHORITY)) {
            assertThat(store.verifyAudit(AUTHORITY.recipient()).intact()).isTrue();
            store.audit(T0, "admin", "check", "-", "ok", "{}");
            AuthorityStore.AuditCheck check = store.verifyAudit(AUTHORITY.recipient());
            assertThat(check.intact()).as(check.problem()).isTrue();
            assertThat(check.entries()).isEqualTo(4);
        }
    }

    @Test
    void aBrokenOldLogIsNotAdoptedAndNothingIsAppendedToIt() throws Exception {
        String url = schema1("broken.db", 3, true);
        try (AuthorityStore store = AuthorityStore.open(url, AUTHORITY)) {
            assertThat(store.verifyAudit(AUTHORITY.recipient()).firstBroken()).isEqualTo(2);
            assertThatThrownBy(() -> store.audit(T0, "admin", "check", "-", "ok", "{}"))
                    .isInstanceOf(AuthorityStore.AuditTampered.class).hasMessageContaining("not signed by this authority");
            assertThat(store.auditEntries(0, 10)).hasSize(3);
        }
        // Opening it again does not adopt it either (the upgrade ran once).
        try (AuthorityStore store = AuthorityStore.open(url, AUTHORITY)) {
            assertThatThrownBy(() -> store.audit(T0, "admin", "check", "-", "ok", "{}")).isInstanceOf(AuthorityStore.AuditTampered.class);
        }
    }
}
