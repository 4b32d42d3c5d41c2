package dev.keyway.authority;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import org.flywaydb.core.Flyway;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The authority's database: clients, escrows, request nonces, recovery requests and the hash-chained
 * audit log, over JDBC (SQLite embedded, or PostgreSQL). Every change and its audit entry commit in one
 * transaction, and every writing transaction starts by locking the audit head, so writers (threads or
 * nodes sharing a PostgreSQL database) take turns and never upgrade a read lock.
 */
public final class AuthorityStore implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();

    /** Most writes one commit carries. */
    static final int BATCH = 256;

    private final HikariDataSource pool;
    private final Writer writer;
    /** Signs the audit head after every write that appended; null for a store opened only to read. */
    private volatile Identity headSigner;
    /** The key that signed heads before {@link #signHeadsWith} switched (a rotation), or null. */
    private volatile Identity previousSigner;

    private AuthorityStore(HikariDataSource pool, Identity headSigner) {
        this.pool = pool;
        this.headSigner = headSigner;
        this.writer = new Writer();
    }

    /**
     * Opens the database to read it (audit verify, tests): a write that appends to the audit log fails,
     * since nothing could sign the new head. The authority opens it with {@link #open(String, Identity)}.
     */
    public static AuthorityStore open(String jdbcUrl) {
        return open(jdbcUrl, null);
    }

    /**
     * Opens the database at {@code jdbcUrl} ({@code jdbc:sqlite:...} or {@code jdbc:postgresql:...}) and migrates
     * it; {@code authority} signs the audit head on every write (docs/AUTHORITY.md, "The audit log").
     */
    public static AuthorityStore open(String jdbcUrl, Identity authority) {
        boolean sqlite = jdbcUrl.startsWith("jdbc:sqlite:");
        if (!sqlite && !jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw KeywayException.usage("unsupported database URL '" + jdbcUrl + "'",
                    "give jdbc:sqlite:PATH or jdbc:postgresql://HOST/DB");
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        config.setPoolName("keyway-authority");
        config.setAutoCommit(false);
        config.setConnectionTimeout(30_000);
        if (sqlite) {
            // One file, one writer at a time; WAL lets readers run beside it. FULL: a commit is on disk.
            config.addDataSourceProperty("journal_mode", "WAL");
            config.addDataSourceProperty("synchronous", "FULL");
            config.addDataSourceProperty("busy_timeout", "30000");
            config.addDataSourceProperty("foreign_keys", "true");
            config.setMaximumPoolSize(4);
        } else {
            config.setMaximumPoolSize(16);
        }
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new KeywayException(ErrorCode.PEER, "cannot open the authority database " + redact(jdbcUrl) + " ("
                    + rootMessage(e) + ")", "check the URL and that the database is running", e);
        }
        boolean upgradedToSignedHeads;
        try {
            org.flywaydb.core.api.output.MigrateResult migrated =
                    Flyway.configure().dataSource(pool).locations("classpath:db/migration").load().migrate();
            upgradedToSignedHeads = migrated.migrations.stream().anyMatch(m -> "2".equals(m.version));
        } catch (RuntimeException e) {
            pool.close();
            throw new KeywayException(ErrorCode.PEER, "cannot migrate the authority database (" + rootMessage(e) + ")",
                    "check the database is a Keyway authority database and is writable", e);
        }
        AuthorityStore store = new AuthorityStore(pool, authority);
        if (authority != null) {
            store.fillSkeletons();
            if (upgradedToSignedHeads) {
                store.adoptUnsignedHead();
            }
        }
        return store;
    }

    /**
     * Signs later audit heads with {@code authority} (after a key rotation); a head signed by the key used
     * until now is still accepted once, so the rotation's own last entry can follow it.
     */
    public void signHeadsWith(Identity authority) {
        this.previousSigner = this.headSigner;
        this.headSigner = authority;
    }

    /**
     * The upgrade to signed heads (schema 2, applied by this open): a log written before has an unsigned head.
     * If its chain is intact it is signed now, once; from then on an unsigned or wrongly signed head is
     * tampering, and writes are refused ({@link AuditTampered}).
     */
    private void adoptUnsignedHead() {
        AuditCheck chain = verifyAudit(null);
        write(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT seq, hash, signature FROM audit_head WHERE id = 1");
                 ResultSet rs = p.executeQuery()) {
                rs.next();
                if (rs.getLong(1) == 0 || rs.getString(3) != null || !chain.intact()) {
                    return null;
                }
                try (PreparedStatement u = c.prepareStatement("UPDATE audit_head SET signature = ? WHERE id = 1")) {
                    u.setString(1, Base64.getEncoder().encodeToString(headSigner.sign(signedHead(rs.getLong(1), rs.getString(2)))));
                    u.executeUpdate();
                }
            }
            return null;
        });
    }

    /**
     * The audit head is not signed by this authority: someone changed the log (dropped entries and rewrote
     * the head, say). The store then refuses to append, so a later write cannot sign the change into place.
     */
    public static final class AuditTampered extends KeywayException {
        AuditTampered(long seq) {
            super(ErrorCode.INTERNAL, "the audit log's head (entry " + seq + ") is not signed by this authority: the log was "
                    + "altered, and no change is stored until it is restored", "run 'keyway authority audit verify' and restore "
                    + "the database from a backup");
        }
    }

    /** Names enrolled before look-alike checks existed get their skeleton, so new names are compared with them too. */
    private void fillSkeletons() {
        write(c -> {
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

    // ---- clients ----

    /**
     * Enrolls a signing key under {@code name} (canonical, see {@link OwnerNames}), pending an admin's
     * approval unless {@code approve}. Refused ({@link Conflict}) when the name looks like another enrolled
     * name, when the key is enrolled under another name, and ({@link Forbidden}) when the key was revoked.
     */
    public Client enroll(String name, Recipient recipient, boolean approve, Instant now) {
        String skeleton = OwnerNames.skeleton(name);
        return write(c -> {
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
            append(c, now, recipient.idHex(), "enroll", name, approve ? "approved" : "pending", "{}");
            return client(c, recipient.idHex()).orElseThrow();
        });
    }

    /** A request the store refuses because it conflicts with what is stored (HTTP 409). */
    public static final class Conflict extends KeywayException {
        Conflict(String message, String hint) {
            super(ErrorCode.POLICY, message, hint);
        }
    }

    /** A request the store refuses to this client (HTTP 403). */
    public static final class Forbidden extends KeywayException {
        Forbidden(String message, String hint) {
            super(ErrorCode.POLICY, message, hint);
        }
    }

    /**
     * Revokes a client key: it is refused from now on (on other nodes within their cache lifetime) and
     * cannot enroll again. Revoking a revoked key changes nothing. {@code actor} is "admin" or the key itself.
     */
    public Client revoke(String clientId, String actor, Instant now) {
        return write(c -> {
            Client cl = client(c, clientId).orElseThrow(() -> new NotFound("no client " + clientId + " is enrolled"));
            if (cl.status() == Client.Status.REVOKED) {
                return cl;
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE client SET status = 'revoked', revoked_at = ? WHERE id = ?")) {
                p.setLong(1, now.toEpochMilli());
                p.setString(2, clientId);
                p.executeUpdate();
            }
            append(c, now, actor, "revoke", clientId, "ok", "{\"owner\":" + json(cl.name()) + "}");
            return client(c, clientId).orElseThrow();
        });
    }

    /** Nothing stored matches (HTTP 404). */
    public static final class NotFound extends KeywayException {
        NotFound(String message) {
            super(ErrorCode.USAGE, message, "check the id");
        }
    }

    /** Approves a pending client, optionally with roles; an admin action. */
    public Client approve(String clientId, Set<String> roles, String actor, Instant now) {
        return write(c -> {
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
            append(c, now, actor, "approve", clientId, "ok", "{\"roles\":\"" + String.join(",", all) + "\"}");
            return client(c, clientId).orElseThrow();
        });
    }

    /** Whether any key is enrolled under exactly this (canonical) name. */
    public boolean ownerExists(String name) {
        return read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM client WHERE name = ?")) {
                p.setString(1, name);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next();
                }
            }
        });
    }

    /** Whether another enrolled name has the same skeleton as {@code name} (a look-alike). */
    public boolean looksLikeEnrolled(String name) {
        return read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM client WHERE name_skeleton = ? AND name <> ?")) {
                p.setString(1, OwnerNames.skeleton(name));
                p.setString(2, name);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next();
                }
            }
        });
    }

    public Optional<Client> client(String id) {
        return read(c -> client(c, id));
    }

    /** Clients: pending first (what an admin acts on), then approved, then revoked, each by enrollment time. */
    public List<Client> clients() {
        return read(c -> {
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

    private static Optional<Client> client(Connection c, String id) throws SQLException {
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

    // ---- request nonces ----

    /**
     * Records a request nonce until {@code expiresAt}, the last moment its request's timestamp could still
     * be accepted; false if this client used it before (a replay). Expired nonces are forgotten: their
     * requests fail on their timestamp anyway.
     */
    public boolean useNonce(String clientId, String nonce, Instant expiresAt, Instant now) {
        return write(c -> recordNonce(c, new Nonce(clientId, nonce, expiresAt), now));
    }

    /** A signed request's nonce, recorded in the same transaction as the request's change, kept until {@code expiresAt}. */
    public record Nonce(String clientId, String value, Instant expiresAt) {
    }

    /** Thrown by a write whose request nonce was already used: a replayed request. */
    public static final class ReplayedRequest extends KeywayException {
        ReplayedRequest() {
            super(ErrorCode.AUTH_FAILED, "the request nonce was already used (a replayed request)", "sign a fresh request");
        }
    }

    private volatile long lastPurge;

    private boolean recordNonce(Connection c, Nonce n, Instant now) throws SQLException {
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

    // ---- escrows ----

    /** What {@link #escrow} did: stored a new record, or found the same blob already escrowed by the owner. */
    public record Escrowed(EscrowRecord record, boolean created) {
    }

    /**
     * Stores a key blob for the client's owner name. Escrowing the same blob again (a retry after a lost
     * answer) returns the first record instead of a duplicate.
     */
    public Escrowed escrow(Client client, byte[] blob, String description, Long serial, String messageId, Instant now) {
        return escrow(client, client.name(), blob, description, serial, messageId, null, now);
    }

    /**
     * Stores a key blob for {@code owner} ({@code client}'s own name, or another owner's when a recovery
     * officer files that owner's escrow stanza), also recording the request's nonce in the same
     * transaction (one commit per request); a used nonce throws {@link ReplayedRequest} and stores nothing.
     * The caller has checked that the blob is bound to {@code owner}.
     */
    public Escrowed escrow(Client client, String owner, byte[] blob, String description, Long serial, String messageId,
                           Nonce nonce, Instant now) {
        String sha = sha256(blob);
        return write(c -> {
            if (nonce != null && !recordNonce(c, nonce, now)) {
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
            String id = randomId();
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
            append(c, now, client.id(), "escrow", id, "ok", "{\"owner\":" + json(owner) + ",\"serial\":"
                    + (serial == null ? "null" : serial) + (messageId == null ? "" : ",\"message_id\":\"" + messageId + "\"") + "}");
            return new Escrowed(new EscrowRecord(id, owner, client.id(), serial, messageId, description, blob, now), true);
        });
    }

    /** A search over escrows; null fields match anything. */
    public record Query(String owner, String descriptionContains, Long serial, String messageId, Instant from, Instant to,
                        int limit) {
    }

    public List<EscrowRecord> find(Query q) {
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
        return read(c -> {
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

    public Optional<EscrowRecord> escrow(String id) {
        return read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM escrow WHERE id = ?")) {
                p.setString(1, id);
                try (ResultSet rs = p.executeQuery()) {
                    return rs.next() ? Optional.of(escrow(rs)) : Optional.empty();
                }
            }
        });
    }

    public long escrowCount() {
        return read(c -> {
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

    // ---- recovery requests (the two-person rule) ----

    /**
     * A request to release an escrowed key, waiting for (or given) a second person's approval. Once
     * approved it may be collected, again if delivery failed, until {@code expiresAt}.
     */
    public record RecoveryRequest(String id, String escrowId, String requester, String requesterOwner, String status,
                                  String approvedBy, String approverOwner, Instant createdAt, Instant expiresAt, int collected) {
    }

    /** Files a recovery request for {@code escrowId} by {@code requester}; audited. */
    public RecoveryRequest requestRecovery(String escrowId, Client requester, Instant now) {
        String id = randomId();
        return write(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO recovery_request (id, escrow_id, requester, requester_owner, "
                    + "status, created_at) VALUES (?, ?, ?, ?, 'pending', ?)")) {
                p.setString(1, id);
                p.setString(2, escrowId);
                p.setString(3, requester.id());
                p.setString(4, requester.name());
                p.setLong(5, now.toEpochMilli());
                p.executeUpdate();
            }
            append(c, now, requester.id(), "recover-request", escrowId, "pending", "{\"request\":\"" + id + "\"}");
            return recoveryRequest(c, id).orElseThrow();
        });
    }

    public Optional<RecoveryRequest> recoveryRequest(String id) {
        return read(c -> recoveryRequest(c, id));
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
    public RecoveryRequest approveRecovery(String id, Client officer, Duration lifetime, Instant now) {
        return write(c -> {
            RecoveryRequest req = recoveryRequest(c, id).orElseThrow(() -> new NotFound("no recovery request " + id));
            if (req.requester().equals(officer.id()) || officer.name().equals(req.requesterOwner())) {
                throw new Forbidden("the requester ('" + req.requesterOwner() + "') cannot approve their own request, with this "
                        + "or any other key of theirs (two-person rule)", "ask a recovery officer who is another person");
            }
            if (!req.status().equals("pending")) {
                throw new Conflict("recovery request " + id + " is not pending (it is " + req.status() + ")", "");
            }
            Optional<Client> requester = client(c, req.requester());
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
            append(c, now, officer.id(), "recover-approved", id, "ok", "{\"approver_owner\":" + json(officer.name())
                    + ",\"requester_owner\":" + json(String.valueOf(req.requesterOwner())) + "}");
            return recoveryRequest(c, id).orElseThrow();
        });
    }

    /**
     * Marks an approved request collected by its requester, who may collect it again (a delivery that
     * failed) until the approval expires. Returns the request; refuses another client ({@link Forbidden}),
     * a request not approved or expired, or approved by a key revoked since ({@link Conflict}).
     */
    public RecoveryRequest collectRecovery(String id, Client requester, Instant now) {
        return write(c -> {
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
            Optional<Client> approver = client(c, req.approvedBy());
            if (approver.isEmpty() || approver.get().revoked()) {
                throw new Conflict("recovery request " + id + " was approved by key " + req.approvedBy() + ", revoked since"
                        + approver.map(r -> " (on " + r.revokedAt() + ")").orElse(""), "file a new request for another officer to approve");
            }
            try (PreparedStatement p = c.prepareStatement("UPDATE recovery_request SET status = 'released', collected = collected + 1 "
                    + "WHERE id = ?")) {
                p.setString(1, id);
                p.executeUpdate();
            }
            append(c, now, requester.id(), "recover-collected", id, "ok", "{\"collection\":" + (req.collected() + 1) + "}");
            return recoveryRequest(c, id).orElseThrow();
        });
    }

    // ---- key rotation ----

    /** Re-wraps one stored blob, given the owner and message id it is bound to. */
    public interface Rewrap {
        byte[] apply(String owner, String messageId, byte[] blob);
    }

    /**
     * Re-wraps every stored blob with {@code rewrap} (unwrap with the old authority key, wrap for the new
     * one), a page at a time, each page that changed in one transaction with an audit entry ({@code action}).
     * Blobs {@code rewrap} returns unchanged are not written. Returns the count of blobs changed.
     */
    public long rewrapAll(Rewrap rewrap, String actor, String action, Instant now) {
        long done = 0;
        String after = "";
        while (true) {
            String from = after;
            List<String[]> page = read(c -> {
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
                if (!java.util.Arrays.equals(blob, old)) {
                    updated.add(new String[] {row[0], Base64.getEncoder().encodeToString(blob), sha256(blob)});
                }
            }
            after = page.get(page.size() - 1)[0];
            if (updated.isEmpty()) {
                continue;
            }
            write(c -> {
                try (PreparedStatement p = c.prepareStatement("UPDATE escrow SET blob = ?, blob_sha256 = ? WHERE id = ?")) {
                    for (String[] u : updated) {
                        p.setString(1, u[1]);
                        p.setString(2, u[2]);
                        p.setString(3, u[0]);
                        p.addBatch();
                    }
                    p.executeBatch();
                }
                append(c, now, actor, action, updated.get(0)[0] + ".." + updated.get(updated.size() - 1)[0], "ok",
                        "{\"rewrapped\":" + updated.size() + "}");
                return null;
            });
            done += updated.size();
        }
    }

    // ---- audit ----

    /** Appends an audit entry on its own (refusals, and actions with nothing else to store). */
    public void audit(Instant now, String actor, String action, String subject, String outcome, String detail) {
        write(c -> {
            append(c, now, actor, action, subject, outcome, detail);
            return null;
        });
    }

    /** Entries with {@code seq} greater than {@code after}, oldest first, at most {@code limit}. */
    public List<AuditEntry> auditEntries(long after, int limit) {
        return read(c -> {
            List<AuditEntry> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?")) {
                p.setLong(1, after);
                p.setInt(2, limit);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        out.add(new AuditEntry(rs.getLong("seq"), Instant.ofEpochMilli(rs.getLong("at")), rs.getString("actor"),
                                rs.getString("action"), rs.getString("subject"), rs.getString("outcome"), rs.getString("detail"),
                                rs.getString("prev_hash"), rs.getString("hash")));
                    }
                }
            }
            return out;
        });
    }

    /**
     * The result of checking the audit log: the number of intact entries, the first broken one and why (or
     * nulls), and the head it ends at (what an operator records to detect a later rollback).
     */
    public record AuditCheck(long entries, Long firstBroken, String problem, String headHash) {
        public boolean intact() {
            return firstBroken == null;
        }
    }

    /** What the authority signs on every write: the count of entries and the last entry's hash. */
    static byte[] signedHead(long seq, String hash) {
        return ("keyway-authority-audit-head-v1\n" + seq + "\n" + hash).getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Recomputes every hash from the first entry and checks the head: it must name the last entry and
     * carry {@code authority}'s signature over its count and hash. Dropping entries from the end and
     * rewriting the head, or editing an entry and recomputing the chain, cannot produce that signature.
     * With {@code authority} null only the chain and the head's count and hash are checked.
     */
    public AuditCheck verifyAudit(Recipient authority) {
        String prev = AuditEntry.GENESIS;
        long expectedSeq = 1;
        long after = 0;
        while (true) {
            List<AuditEntry> page = auditEntries(after, 5000);
            if (page.isEmpty()) {
                break;
            }
            for (AuditEntry e : page) {
                if (e.seq() != expectedSeq) {
                    return new AuditCheck(expectedSeq - 1, expectedSeq, "entry " + expectedSeq + " is missing", null);
                }
                if (!e.intact(prev)) {
                    return new AuditCheck(expectedSeq - 1, e.seq(), "entry " + e.seq() + " does not match its hash chain", null);
                }
                prev = e.hash();
                expectedSeq++;
                after = e.seq();
            }
        }
        long entries = expectedSeq - 1;
        String[] head = read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT seq, hash, signature FROM audit_head WHERE id = 1");
                 ResultSet rs = p.executeQuery()) {
                rs.next();
                return new String[] {Long.toString(rs.getLong(1)), rs.getString(2), rs.getString(3)};
            }
        });
        if (Long.parseLong(head[0]) != entries || !head[1].equals(prev)) {
            return new AuditCheck(entries, entries + 1, "the log ends at entry " + entries + " but its head says "
                    + head[0] + " (entries were removed from the end, or the head was changed)", null);
        }
        if (entries > 0 && authority != null) {
            if (head[2] == null) {
                return new AuditCheck(entries, entries, "the head (entry " + entries + ") is not signed: it was rewritten, "
                        + "or written by a Keyway before signed heads (any write by this version signs it)", null);
            }
            byte[] signature;
            try {
                signature = Base64.getDecoder().decode(head[2]);
            } catch (IllegalArgumentException e) {
                signature = new byte[0];
            }
            if (!authority.verify(signedHead(entries, prev), signature)) {
                return new AuditCheck(entries, entries, "the head's signature (entry " + entries + ", hash " + prev
                        + ") does not verify with the authority key " + authority.idHex() + ": entries were removed or "
                        + "rewritten and the head recomputed", null);
            }
        }
        return new AuditCheck(entries, null, null, prev);
    }

    /** The hash of entry {@code seq}, if it exists (to compare with a head recorded earlier). */
    public Optional<String> auditHash(long seq) {
        List<AuditEntry> e = auditEntries(seq - 1, 1);
        return e.isEmpty() || e.get(0).seq() != seq ? Optional.empty() : Optional.of(e.get(0).hash());
    }

    /** Takes the next sequence number (locking the head row) and appends an entry; inside a write transaction. */
    private static void append(Connection c, Instant now, String actor, String action, String subject, String outcome,
                               String detail) throws SQLException {
        long seq;
        String prev;
        try (PreparedStatement p = c.prepareStatement("SELECT seq, hash FROM audit_head WHERE id = 1"); ResultSet rs = p.executeQuery()) {
            rs.next();
            seq = rs.getLong(1) + 1;
            prev = rs.getString(2);
        }
        String hash = AuditEntry.computeHash(seq, now, actor, action, subject, outcome, detail, prev);
        try (PreparedStatement p = c.prepareStatement("INSERT INTO audit (seq, at, actor, action, subject, outcome, detail, "
                + "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            p.setLong(1, seq);
            p.setLong(2, now.toEpochMilli());
            p.setString(3, actor);
            p.setString(4, action);
            p.setString(5, subject);
            p.setString(6, outcome);
            p.setString(7, detail);
            p.setString(8, prev);
            p.setString(9, hash);
            p.executeUpdate();
        }
        try (PreparedStatement p = c.prepareStatement("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1")) {
            p.setLong(1, seq);
            p.setString(2, hash);
            p.executeUpdate();
        }
    }

    // ---- transactions ----

    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T write(Work<T> work) {
        return writer.submit(work);
    }

    /**
     * Group commit: one thread runs every write. It takes all the writes waiting (up to {@link #BATCH}),
     * runs them in one transaction that first locks the audit head (a write lock on SQLite, a row lock on
     * PostgreSQL, so writers and nodes take turns and never upgrade a read lock), each inside its own
     * savepoint so one failing write rolls back alone, and commits once: concurrent requests share one
     * fsync. A caller gets its result only after the commit, so whatever it reports is durable.
     */
    private final class Writer implements AutoCloseable {
        private final java.util.concurrent.BlockingQueue<Pending<?>> queue = new java.util.concurrent.LinkedBlockingQueue<>();
        private final Thread thread;
        private volatile boolean closed;

        Writer() {
            thread = new Thread(this::loop, "keyway-store-writer");
            thread.setDaemon(true);
            thread.start();
        }

        <T> T submit(Work<T> work) {
            Pending<T> p = new Pending<>(work);
            synchronized (this) {
                // Enqueued before close() can set the flag, or refused: the loop drains everything enqueued.
                if (closed) {
                    throw new KeywayException(ErrorCode.PEER, "the authority store is closed", "restart the authority");
                }
                queue.add(p);
            }
            try {
                return p.result.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KeywayException(ErrorCode.PEER, "interrupted while writing to the authority database", "try again", e);
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof KeywayException ke) {
                    throw ke;
                }
                if (cause instanceof RuntimeException re) {
                    throw re;
                }
                throw new KeywayException(ErrorCode.PEER, "authority database failed (" + cause.getMessage() + ")",
                        "check the database; the change was not stored", cause);
            }
        }

        private void loop() {
            List<Pending<?>> batch = new ArrayList<>();
            while (!closed || !queue.isEmpty()) {
                try {
                    Pending<?> first = queue.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    batch.add(first);
                    queue.drainTo(batch, BATCH - 1);
                    run(batch);
                } catch (InterruptedException e) {
                    break;
                } catch (Throwable e) {
                    // Even an Error must not leave callers waiting: fail this batch, keep the writer alive.
                    for (Pending<?> p : batch) {
                        p.result.completeExceptionally(e);
                    }
                } finally {
                    batch.clear();
                }
            }
            for (Pending<?> p : queue) {
                p.result.completeExceptionally(new KeywayException(ErrorCode.PEER, "the authority store is closed", "retry"));
            }
        }

        private void run(List<Pending<?>> batch) {
            try (Connection c = pool.getConnection()) {
                try {
                    try (PreparedStatement p = c.prepareStatement("UPDATE audit_head SET seq = seq WHERE id = 1")) {
                        p.executeUpdate();
                    }
                    String[] before = head(c);
                    for (Pending<?> p : batch) {
                        p.runIn(c);
                    }
                    signHead(c, before);
                    c.commit();
                } catch (SQLException | RuntimeException e) {
                    try {
                        c.rollback();
                    } catch (SQLException ignored) {
                        // the connection is discarded by the pool if it is broken
                    }
                    KeywayException failure = e instanceof AuditTampered t ? t
                            : new KeywayException(ErrorCode.PEER, "authority database failed (" + e.getMessage() + ")",
                            "check the database; the change was not stored", e);
                    for (Pending<?> p : batch) {
                        p.result.completeExceptionally(failure);
                    }
                    return;
                }
            } catch (SQLException e) {
                KeywayException failure = new KeywayException(ErrorCode.PEER, "authority database unavailable (" + e.getMessage() + ")",
                        "check the database; the change was not stored", e);
                for (Pending<?> p : batch) {
                    p.result.completeExceptionally(failure);
                }
                return;
            }
            for (Pending<?> p : batch) {
                p.complete();
            }
        }

        /** The head as {seq, hash, signature}. */
        private String[] head(Connection c) throws SQLException {
            try (PreparedStatement p = c.prepareStatement("SELECT seq, hash, signature FROM audit_head WHERE id = 1");
                 ResultSet rs = p.executeQuery()) {
                rs.next();
                return new String[] {Long.toString(rs.getLong(1)), rs.getString(2), rs.getString(3)};
            }
        }

        /** The last head this writer signed or checked; a head equal to it needs no new check. */
        private String[] trustedHead;

        /**
         * If the batch appended to the log: checks that the head it started from was signed by this authority
         * (or, once, by the key before a rotation), then signs the new head. One signature per commit, not per
         * entry. A head this process did not sign or check is verified (another node wrote it, or an attacker).
         */
        private void signHead(Connection c, String[] before) throws SQLException {
            String[] after = head(c);
            if (after[0].equals(before[0])) {
                return;
            }
            Identity signer = headSigner;
            if (signer == null) {
                throw new IllegalStateException("this store was opened to read: nothing can sign the audit head");
            }
            long seq = Long.parseLong(before[0]);
            if (seq > 0 && !java.util.Arrays.equals(before, trustedHead)) {
                byte[] signature;
                try {
                    signature = before[2] == null ? new byte[0] : Base64.getDecoder().decode(before[2]);
                } catch (IllegalArgumentException e) {
                    signature = new byte[0];
                }
                byte[] signed = signedHead(seq, before[1]);
                Identity previous = previousSigner;
                if (!signer.recipient().verify(signed, signature)
                        && (previous == null || !previous.recipient().verify(signed, signature))) {
                    throw new AuditTampered(seq);
                }
            }
            String signature = Base64.getEncoder().encodeToString(signer.sign(signedHead(Long.parseLong(after[0]), after[1])));
            try (PreparedStatement p = c.prepareStatement("UPDATE audit_head SET signature = ? WHERE id = 1")) {
                p.setString(1, signature);
                p.executeUpdate();
            }
            trustedHead = new String[] {after[0], after[1], signature};
        }

        @Override
        public void close() {
            synchronized (this) {
                closed = true;
            }
            try {
                thread.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** One write waiting for the writer: its work, and after the batch, its result or failure. */
    private static final class Pending<T> {
        final Work<T> work;
        final java.util.concurrent.CompletableFuture<T> result = new java.util.concurrent.CompletableFuture<>();
        private T value;
        private Throwable error;

        Pending(Work<T> work) {
            this.work = work;
        }

        /** Runs inside the batch's transaction, in a savepoint: a failure undoes this write only. */
        void runIn(Connection c) throws SQLException {
            java.sql.Savepoint sp = c.setSavepoint();
            try {
                value = work.run(c);
                c.releaseSavepoint(sp);
            } catch (SQLException | RuntimeException e) {
                c.rollback(sp);
                error = e;
            }
        }

        /** Reports the outcome, once the batch committed. */
        void complete() {
            if (error != null) {
                result.completeExceptionally(error);
            } else {
                result.complete(value);
            }
        }
    }

    private <T> T read(Work<T> work) {
        try (Connection c = pool.getConnection()) {
            try {
                return work.run(c);
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            throw new KeywayException(ErrorCode.PEER, "authority database failed (" + e.getMessage() + ")", "check the database", e);
        }
    }

    static String randomId() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return HEX.formatHex(b);
    }

    static String sha256(byte[] data) {
        try {
            return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A JSON string literal. */
    static String json(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (ch < 0x20) {
                        sb.append(String.format("\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    private static String redact(String url) {
        return url.replaceAll("password=[^&]*", "password=...");
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /** Finishes the writes already queued, then closes the pool. */
    @Override
    public void close() {
        writer.close();
        pool.close();
    }
}
