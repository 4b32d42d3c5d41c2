package dev.keyway.authority;

import dev.keyway.authority.AuthorityStore.Conflict;
import dev.keyway.authority.AuthorityStore.Forbidden;
import dev.keyway.authority.AuthorityStore.NotFound;
import dev.keyway.authority.AuthorityStore.RecoveryRequest;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Recovery requests under the two-person rule, a small state machine: pending (filed by the requester),
 * approved (by a recovery officer who is another person, until the approval expires), released (collected
 * by the requester, again if a delivery failed). Each step is checked and changed in one transaction.
 */
final class RecoveryRequests {
    private final Transactions tx;

    RecoveryRequests(Transactions tx) {
        this.tx = tx;
    }

    /** Files a recovery request for {@code escrowId} by {@code requester}; audited. */
    RecoveryRequest requestRecovery(String escrowId, Client requester, Instant now) {
        String id = AuthorityStore.randomId();
        return tx.write(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO recovery_request (id, escrow_id, requester, requester_owner, "
                    + "status, created_at) VALUES (?, ?, ?, ?, 'pending', ?)")) {
                p.setString(1, id);
                p.setString(2, escrowId);
                p.setString(3, requester.id());
                p.setString(4, requester.name());
                p.setLong(5, now.toEpochMilli());
                p.executeUpdate();
            }
            AuditLog.append(c, now, requester.id(), "recover-request", escrowId, "pending", "{\"request\":\"" + id + "\"}");
            return recoveryRequest(c, id).orElseThrow();
        });
    }

    Optional<RecoveryRequest> recoveryRequest(String id) {
        return tx.read(c -> recoveryRequest(c, id));
    }

    private static Optional<RecoveryRequest> recoveryRequest(Connection c, String id) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT * FROM recovery_request WHERE id = ?")) {
            p.setString(1, id);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                long expires = rs.getLong("expires_at");
                Instant expiresAt = rs.wasNull() ? null : Instant.ofEpochMilli(expires);
                return Optional.of(new RecoveryRequest(rs.getString("id"), rs.getString("escrow_id"), rs.getString("requester"),
                        rs.getString("requester_owner"), rs.getString("status"), rs.getString("approved_by"),
                        rs.getString("approver_owner"), Instant.ofEpochMilli(rs.getLong("created_at")), expiresAt,
                        rs.getInt("collected")));
            }
        }
    }

    /**
     * The two-person rule's second step. Only a person other than the requester approves: {@code officer}'s
     * owner name must differ from the requester's, so a second key of the same owner cannot approve.
     * A request whose key was revoked since it asked is not approved ({@link Conflict}).
     * Checked and changed in one transaction, so two racing approvals cannot both win. The approval may be
     * collected until {@code now + lifetime}.
     */
    RecoveryRequest approveRecovery(String id, Client officer, Duration lifetime, Instant now) {
        return tx.write(c -> {
            RecoveryRequest req = recoveryRequest(c, id).orElseThrow(() -> new NotFound("no recovery request " + id));
            if (req.requester().equals(officer.id()) || officer.name().equals(req.requesterOwner())) {
                throw new Forbidden("the requester ('" + req.requesterOwner() + "') cannot approve their own request, with this "
                        + "or any other key of theirs (two-person rule)", "ask a recovery officer who is another person");
            }
            if (!req.status().equals("pending")) {
                throw new Conflict("recovery request " + id + " is not pending (it is " + req.status() + ")", "");
            }
            Optional<Client> requester = ClientRegistry.client(c, req.requester());
            if (requester.isEmpty() || requester.get().revoked()) {
                throw new Conflict("recovery request " + id + " was filed by key " + req.requester() + ", revoked since"
                        + requester.map(r -> " (on " + r.revokedAt() + ")").orElse(""), "the owner files a new request with an approved key");
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE recovery_request SET status = 'approved', decided_at = ?, "
                    + "approved_by = ?, approver_owner = ?, expires_at = ? WHERE id = ? AND status = 'pending'")) {
                p.setLong(1, now.toEpochMilli());
                p.setString(2, officer.id());
                p.setString(3, officer.name());
                p.setLong(4, now.plus(lifetime).toEpochMilli());
                p.setString(5, id);
                p.executeUpdate();
            }
            AuditLog.append(c, now, officer.id(), "recover-approved", id, "ok", "{\"approver_owner\":" + AuthorityStore.json(officer.name())
                    + ",\"requester_owner\":" + AuthorityStore.json(String.valueOf(req.requesterOwner())) + "}");
            return recoveryRequest(c, id).orElseThrow();
        });
    }

    /**
     * Marks an approved request collected by its requester, who may collect it again (a delivery that
     * failed) until the approval expires. Returns the request; refuses another client ({@link Forbidden}),
     * a request not approved or expired, or approved by a key revoked since ({@link Conflict}).
     */
    RecoveryRequest collectRecovery(String id, Client requester, Instant now) {
        return tx.write(c -> {
            RecoveryRequest req = recoveryRequest(c, id).orElseThrow(() -> new NotFound("no recovery request " + id));
            if (!req.requester().equals(requester.id())) {
                throw new Forbidden("recovery request " + id + " belongs to another client", "the requester collects it");
            }
            if (req.status().equals("pending")) {
                throw new Conflict("recovery request " + id + " is pending: a second recovery officer must approve it first", "");
            }
            if (!req.status().equals("approved") && !req.status().equals("released")) {
                throw new Conflict("recovery request " + id + " is " + req.status(), "file a new request");
            }
            if (req.expiresAt() == null || !now.isBefore(req.expiresAt())) {
                throw new Conflict("the approval of recovery request " + id + " expired at " + req.expiresAt(), "file a new request");
            }
            // An approval is worth what the key that gave it is worth: one revoked since (lost or stolen) releases nothing.
            Optional<Client> approver = ClientRegistry.client(c, req.approvedBy());
            if (approver.isEmpty() || approver.get().revoked()) {
                throw new Conflict("recovery request " + id + " was approved by key " + req.approvedBy() + ", revoked since"
                        + approver.map(r -> " (on " + r.revokedAt() + ")").orElse(""), "file a new request for another officer to approve");
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE recovery_request SET status = 'released', collected = collected + 1 "
                    + "WHERE id = ?")) {
                p.setString(1, id);
                p.executeUpdate();
            }
            AuditLog.append(c, now, requester.id(), "recover-collected", id, "ok", "{\"collection\":" + (req.collected() + 1) + "}");
            return recoveryRequest(c, id).orElseThrow();
        });
    }

}
