package dev.keyway.authority;

import dev.keyway.authority.AuthorityStore.Conflict;
import dev.keyway.authority.AuthorityStore.Forbidden;
import dev.keyway.authority.AuthorityStore.NotFound;
import dev.keyway.core.identity.Recipient;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The enrolled keys: enrollment (with the look-alike name check), approval with roles, revocation, and
 * lookups. Every change commits with its audit entry.
 */
final class ClientRegistry {
    private final Transactions tx;

    ClientRegistry(Transactions tx) {
        this.tx = tx;
    }

    /** Names enrolled before look-alike checks existed get their skeleton, so new names are compared with them too. */
    void fillSkeletons() {
        tx.write(c -> {
            List<String[]> missing = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT id, name FROM client WHERE name_skeleton IS NULL");
                 ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    missing.add(new String[] {rs.getString(1), rs.getString(2)});
                }
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE client SET name_skeleton = ? WHERE id = ?")) {
                for (String[] m : missing) {
                    p.setString(1, OwnerNames.skeleton(m[1]));
                    p.setString(2, m[0]);
                    p.addBatch();
                }
                if (!missing.isEmpty()) {
                    p.executeBatch();
                }
            }
            return null;
        });
    }

    /**
     * Enrolls a signing key under {@code name} (canonical, see {@link OwnerNames}), pending an admin's
     * approval unless {@code approve}. Refused ({@link Conflict}) when the name looks like another enrolled
     * name, when the key is enrolled under another name, and ({@link Forbidden}) when the key was revoked.
     */
    Client enroll(String name, Recipient recipient, boolean approve, Instant now) {
        String skeleton = OwnerNames.skeleton(name);
        return tx.write(c -> {
            Optional<Client> existing = client(c, recipient.idHex());
            if (existing.isPresent()) {
                Client e = existing.get();
                if (e.status() == Client.Status.REVOKED) {
                    throw new Forbidden("this key was revoked on " + e.revokedAt() + " and cannot enroll again",
                            "enroll a new identity");
                }
                if (!e.name().equals(name)) {
                    throw new Conflict("this key is already enrolled as '" + e.name() + "'", "enroll a new identity");
                }
                return e;
            }
            try (PreparedStatement p = c.prepareStatement("SELECT name FROM client WHERE name_skeleton = ? AND name <> ?")) {
                p.setString(1, skeleton);
                p.setString(2, name);
                try (ResultSet rs = p.executeQuery()) {
                    if (rs.next()) {
                        throw new Conflict("the name '" + name + "' looks like the enrolled owner '" + rs.getString(1) + "'",
                                "enroll under that exact name to add a key for that owner, or choose a clearly different name");
                    }
                }
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO client (id, name, recipient, status, roles, enrolled_at, "
                    + "approved_at, name_skeleton) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                p.setString(1, recipient.idHex());
                p.setString(2, name);
                p.setString(3, recipient.encode());
                p.setString(4, (approve ? Client.Status.APPROVED : Client.Status.PENDING).name().toLowerCase());
                p.setString(5, "");
                p.setLong(6, now.toEpochMilli());
                if (approve) {
                    p.setLong(7, now.toEpochMilli());
                } else {
                    p.setNull(7, Types.BIGINT);
                }
                p.setString(8, skeleton);
                p.executeUpdate();
            }
            AuditLog.append(c, now, recipient.idHex(), "enroll", name, approve ? "approved" : "pending", "{}");
            return client(c, recipient.idHex()).orElseThrow();
        });
    }

    /**
     * Revokes a client key: it is refused from now on (on other nodes within their cache lifetime) and
     * cannot enroll again. Revoking a revoked key changes nothing. {@code actor} is "admin" or the key itself.
     */
    Client revoke(String clientId, String actor, Instant now) {
        return tx.write(c -> {
            Client cl = client(c, clientId).orElseThrow(() -> new NotFound("no client " + clientId + " is enrolled"));
            if (cl.status() == Client.Status.REVOKED) {
                return cl;
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE client SET status = 'revoked', revoked_at = ? WHERE id = ?")) {
                p.setLong(1, now.toEpochMilli());
                p.setString(2, clientId);
                p.executeUpdate();
            }
            AuditLog.append(c, now, actor, "revoke", clientId, "ok", "{\"owner\":" + AuthorityStore.json(cl.name()) + "}");
            return client(c, clientId).orElseThrow();
        });
    }

    /** Approves a pending client, optionally with roles; an admin action. */
    Client approve(String clientId, Set<String> roles, String actor, Instant now) {
        return tx.write(c -> {
            Client cl = client(c, clientId).orElseThrow(() -> new NotFound("no client " + clientId + " is enrolled"));
            if (cl.status() == Client.Status.REVOKED) {
                throw new Conflict("client " + clientId + " was revoked on " + cl.revokedAt() + " and cannot be approved",
                        "the owner enrolls a new identity");
            }
            Set<String> all = new LinkedHashSet<>(cl.roles());
            all.addAll(roles);
            try (PreparedStatement p = c.prepareStatement("UPDATE client SET status = 'approved', roles = ?, approved_at = ? WHERE id = ?")) {
                p.setString(1, String.join(",", all));
                p.setLong(2, now.toEpochMilli());
                p.setString(3, clientId);
                p.executeUpdate();
            }
            AuditLog.append(c, now, actor, "approve", clientId, "ok", "{\"roles\":\"" + String.join(",", all) + "\"}");
            return client(c, clientId).orElseThrow();
        });
    }

    /** Whether any key is enrolled under exactly this (canonical) name. */
    boolean ownerExists(String name) {
        return tx.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM client WHERE name = ?")) {
                p.setString(1, name);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next();
                }
            }
        });
    }

    /** Whether another enrolled name has the same skeleton as {@code name} (a look-alike). */
    boolean looksLikeEnrolled(String name) {
        return tx.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM client WHERE name_skeleton = ? AND name <> ?")) {
                p.setString(1, OwnerNames.skeleton(name));
                p.setString(2, name);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next();
                }
            }
        });
    }

    Optional<Client> client(String id) {
        return tx.read(c -> client(c, id));
    }

    /** Clients: pending first (what an admin acts on), then approved, then revoked, each by enrollment time. */
    List<Client> clients() {
        return tx.read(c -> {
            List<Client> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM client ORDER BY CASE status WHEN 'pending' THEN 0 "
                    + "WHEN 'approved' THEN 1 ELSE 2 END, enrolled_at");
                 ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.add(client(rs));
                }
            }
            return out;
        });
    }

    static Optional<Client> client(Connection c, String id) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT * FROM client WHERE id = ?")) {
            p.setString(1, id);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? Optional.of(client(rs)) : Optional.empty();
            }
        }
    }

    private static Client client(ResultSet rs) throws SQLException {
        String roles = rs.getString("roles");
        long approved = rs.getLong("approved_at");
        boolean noApproval = rs.wasNull();
        long revoked = rs.getLong("revoked_at");
        boolean notRevoked = rs.wasNull();
        return new Client(rs.getString("id"), rs.getString("name"), rs.getString("recipient"),
                Client.Status.valueOf(rs.getString("status").toUpperCase()),
                roles.isEmpty() ? Set.of() : Set.of(roles.split(",")), Instant.ofEpochMilli(rs.getLong("enrolled_at")),
                noApproval ? null : Instant.ofEpochMilli(approved), notRevoked ? null : Instant.ofEpochMilli(revoked));
    }
}
