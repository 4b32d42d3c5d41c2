package dev.keyway.authority;

import dev.keyway.authority.AuthorityStore.Escrowed;
import dev.keyway.authority.AuthorityStore.Nonce;
import dev.keyway.authority.AuthorityStore.Query;
import dev.keyway.authority.AuthorityStore.ReplayedRequest;
import dev.keyway.authority.AuthorityStore.Rewrap;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * The escrowed blobs: storing one (idempotent for the same blob and owner, with the request's nonce in the
 * same transaction), searching, and re-wrapping all of them when the authority key rotates.
 */
final class EscrowRecords {
    private final Transactions tx;
    private final Nonces nonces;

    EscrowRecords(Transactions tx, Nonces nonces) {
        this.tx = tx;
        this.nonces = nonces;
    }

    /**
     * Stores a key blob for {@code owner} ({@code client}'s own name, or another owner's when a recovery
     * officer files that owner's escrow stanza), also recording the request's nonce in the same
     * transaction (one commit per request); a used nonce throws {@link ReplayedRequest} and stores nothing.
     * The caller has checked that the blob is bound to {@code owner}.
     */
    Escrowed escrow(Client client, String owner, byte[] blob, String description, Long serial, String messageId,
                           Nonce nonce, Instant now) {
        String sha = AuthorityStore.sha256(blob);
        return tx.write(c -> {
            if (nonce != null && !nonces.record(c, nonce, now)) {
                throw new ReplayedRequest();
            }
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM escrow WHERE owner = ? AND blob_sha256 = ?")) {
                p.setString(1, owner);
                p.setString(2, sha);
                try (ResultSet rs = p.executeQuery()) {
                    if (rs.next()) {
                        return new Escrowed(escrow(rs), false);
                    }
                }
            }
            String id = AuthorityStore.randomId();
            try (PreparedStatement p = c.prepareStatement("INSERT INTO escrow (id, owner, client_id, serial, message_id, "
                    + "description, blob, blob_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                p.setString(1, id);
                p.setString(2, owner);
                p.setString(3, client.id());
                if (serial == null) {
                    p.setNull(4, Types.BIGINT);
                } else {
                    p.setLong(4, serial);
                }
                p.setString(5, messageId);
                p.setString(6, description);
                p.setString(7, Base64.getEncoder().encodeToString(blob));
                p.setString(8, sha);
                p.setLong(9, now.toEpochMilli());
                p.executeUpdate();
            }
            AuditLog.append(c, now, client.id(), "escrow", id, "ok", "{\"owner\":" + AuthorityStore.json(owner) + ",\"serial\":"
                    + (serial == null ? "null" : serial) + (messageId == null ? "" : ",\"message_id\":\"" + messageId + "\"") + "}");
            return new Escrowed(new EscrowRecord(id, owner, client.id(), serial, messageId, description, blob, now), true);
        });
    }

    List<EscrowRecord> find(Query q) {
        StringBuilder sql = new StringBuilder("SELECT * FROM escrow WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (q.owner() != null) {
            sql.append(" AND owner = ?");
            args.add(q.owner());
        }
        if (q.descriptionContains() != null) {
            sql.append(" AND description LIKE ? ESCAPE '\\'");
            args.add("%" + q.descriptionContains().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
        }
        if (q.serial() != null) {
            sql.append(" AND serial = ?");
            args.add(q.serial());
        }
        if (q.messageId() != null) {
            sql.append(" AND message_id = ?");
            args.add(q.messageId());
        }
        if (q.from() != null) {
            sql.append(" AND created_at >= ?");
            args.add(q.from().toEpochMilli());
        }
        if (q.to() != null) {
            sql.append(" AND created_at < ?");
            args.add(q.to().toEpochMilli());
        }
        sql.append(" ORDER BY created_at, id LIMIT ?");
        args.add(Math.max(1, Math.min(q.limit(), 10_000)));
        return tx.read(c -> {
            List<EscrowRecord> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement(sql.toString())) {
                for (int i = 0; i < args.size(); i++) {
                    p.setObject(i + 1, args.get(i));
                }
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        out.add(escrow(rs));
                    }
                }
            }
            return out;
        });
    }

    Optional<EscrowRecord> escrow(String id) {
        return tx.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM escrow WHERE id = ?")) {
                p.setString(1, id);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? Optional.of(escrow(rs)) : Optional.empty();
                }
            }
        });
    }

    long escrowCount() {
        return tx.read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM escrow"); ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    private static EscrowRecord escrow(ResultSet rs) throws SQLException {
        long serial = rs.getLong("serial");
        Long s = rs.wasNull() ? null : serial;
        return new EscrowRecord(rs.getString("id"), rs.getString("owner"), rs.getString("client_id"), s,
                rs.getString("message_id"), rs.getString("description"), Base64.getDecoder().decode(rs.getString("blob")),
                Instant.ofEpochMilli(rs.getLong("created_at")));
    }

    /**
     * Re-wraps every stored blob with {@code rewrap} (unwrap with the old authority key, wrap for the new
     * one), a page at a time, each page that changed in one transaction with an audit entry ({@code action}).
     * Blobs {@code rewrap} returns unchanged are not written. Returns the count of blobs changed.
     */
    long rewrapAll(Rewrap rewrap, String actor, String action, Instant now) {
        long done = 0;
        String after = "";
        while (true) {
            String from = after;
            List<String[]> page = tx.read(c -> {
                List<String[]> rows = new ArrayList<>();
                try (PreparedStatement p = c.prepareStatement("SELECT id, blob, owner, message_id FROM escrow WHERE id > ? "
                        + "ORDER BY id LIMIT 500")) {
                    p.setString(1, from);
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            rows.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)});
                        }
                    }
                }
                return rows;
            });
            if (page.isEmpty()) {
                return done;
            }
            List<String[]> updated = new ArrayList<>();
            for (String[] row : page) {
                byte[] old = Base64.getDecoder().decode(row[1]);
                byte[] blob = rewrap.apply(row[2], row[3], old);
                if (!Arrays.equals(blob, old)) {
                    updated.add(new String[] {row[0], Base64.getEncoder().encodeToString(blob), AuthorityStore.sha256(blob)});
                }
            }
            after = page.get(page.size() - 1)[0];
            if (updated.isEmpty()) {
                continue;
            }
            tx.write(c -> {
                try (PreparedStatement p = c.prepareStatement("UPDATE escrow SET blob = ?, blob_sha256 = ? WHERE id = ?")) {
                    for (String[] u : updated) {
                        p.setString(1, u[1]);
                        p.setString(2, u[2]);
                        p.setString(3, u[0]);
                        p.addBatch();
                    }
                    p.executeBatch();
                }
                AuditLog.append(c, now, actor, action, updated.get(0)[0] + ".." + updated.get(updated.size() - 1)[0], "ok",
                        "{\"rewrapped\":" + updated.size() + "}");
                return null;
            });
            done += updated.size();
        }
    }

}
