package dev.keyway.authority;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;

/** Request nonces: each signed request's nonce is used once, remembered until its timestamp could no longer pass. */
final class Nonces {
    private final Transactions tx;

    Nonces(Transactions tx) {
        this.tx = tx;
    }

    /**
     * Records a request nonce until {@code expiresAt}, the last moment its request's timestamp could still
     * be accepted; false if this client used it before (a replay). Expired nonces are forgotten: their
     * requests fail on their timestamp anyway.
     */
    boolean useNonce(String clientId, String nonce, Instant expiresAt, Instant now) {
        return tx.write(c -> record(c, new AuthorityStore.Nonce(clientId, nonce, expiresAt), now));
    }

    private volatile long lastPurge;

    boolean record(Connection c, AuthorityStore.Nonce n, Instant now) throws SQLException {
        // Forget expired nonces now and then: such requests fail on their timestamp anyway.
        if (now.toEpochMilli() - lastPurge > 10_000) {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM request_nonce WHERE expires_at < ?")) {
                p.setLong(1, now.toEpochMilli());
                p.executeUpdate();
            }
            lastPurge = now.toEpochMilli();
        }
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM request_nonce WHERE client_id = ? AND nonce = ?")) {
            p.setString(1, n.clientId());
            p.setString(2, n.value());
            try (ResultSet rs = p.executeQuery()) {
                if (rs.next()) {
                    return false;
                }
            }
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO request_nonce (client_id, nonce, seen_at, expires_at) VALUES (?, ?, ?, ?)")) {
            p.setString(1, n.clientId());
            p.setString(2, n.value());
            p.setLong(3, now.toEpochMilli());
            p.setLong(4, Math.max(n.expiresAt().toEpochMilli(), now.toEpochMilli()));
            p.executeUpdate();
        }
        return true;
    }
}
