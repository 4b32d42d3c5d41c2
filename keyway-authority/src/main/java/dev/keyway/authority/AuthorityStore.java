package dev.keyway.authority;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Recipient;
import org.flywaydb.core.Flyway;

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

    private AuthorityStore(HikariDataSource pool) {
        this.pool = pool;
        this.writer = new Writer();
    }

    /** Opens the database at {@code jdbcUrl} ({@code jdbc:sqlite:...} or {@code jdbc:postgresql:...}) and migrates it. */
    public static AuthorityStore open(String jdbcUrl) {
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
        try {
            Flyway.configure().dataSource(pool).locations("classpath:db/migration").load().migrate();
        } catch (RuntimeException e) {
            pool.close();
            throw new KeywayException(ErrorCode.PEER, "cannot migrate the authority database (" + rootMessage(e) + ")",
                    "check the database is a Keyway authority database and is writable", e);
        }
        return new AuthorityStore(pool);
    }

    // ---- clients ----

    /** Enrolls a signing key under {@code name}, pending an admin's approval unless {@code approve}. */
    public Client enroll(String name, Recipient recipient, boolean approve, Instant now) {
        return write(c -> {
            Optional<Client> existing = client(c, recipient.idHex());
            if (existing.isPresent()) {
                Client e = existing.get();
                if (!e.name().equals(name)) {
                    throw KeywayException.usage("this key is already enrolled as '" + e.name() + "'", "enroll a new identity");
                }
                return e;
            }
            try (PreparedStatement p = c.prepareStatement(
                    "INSERT INTO client (id, name, recipient, status, roles, enrolled_at, approved_at) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
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
                p.executeUpdate();
            }
            append(c, now, recipient.idHex(), "enroll", name, approve ? "approved" : "pending", "{}");
            return client(c, recipient.idHex()).orElseThrow();
        });
    }

    /** Approves a pending client, optionally with roles; an admin action. */
    public Client approve(String clientId, Set<String> roles, String actor, Instant now) {
        return write(c -> {
            Client cl = client(c, clientId).orElseThrow(() -> KeywayException.usage("no client " + clientId + " is enrolled",
                    "list clients with 'keyway authority list --clients'"));
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

    public Optional<Client> client(String id) {
        return read(c -> client(c, id));
    }

    /** Clients, pending first. */
    public List<Client> clients() {
        return read(c -> {
            List<Client> out = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM client ORDER BY status DESC, enrolled_at");
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
        return new Client(rs.getString("id"), rs.getString("name"), rs.getString("recipient"),
                Client.Status.valueOf(rs.getString("status").toUpperCase()),
                roles.isEmpty() ? Set.of() : Set.of(roles.split(",")), Instant.ofEpochMilli(rs.getLong("enrolled_at")),
                noApproval ? null : Instant.ofEpochMilli(approved));
    }

    // ---- request nonces ----

    /**
     * Records a request nonce; false if this client used it within {@code window} (a replay). Older
     * nonces are forgotten: requests older than the window are refused by their timestamp anyway.
     */
    public boolean useNonce(String clientId, String nonce, Instant now, Duration window) {
        return write(c -> recordNonce(c, new Nonce(clientId, nonce, window), now));
    }

    /** A signed request's nonce, recorded in the same transaction as the request's change. */
    public record Nonce(String clientId, String value, Duration window) {
    }

    /** Thrown by a write whose request nonce was already used: a replayed request. */
    public static final class ReplayedRequest extends KeywayException {
        ReplayedRequest() {
            super(ErrorCode.AUTH_FAILED, "the request nonce was already used (a replayed request)", "sign a fresh request");
        }
    }

    private volatile long lastPurge;

    private boolean recordNonce(Connection c, Nonce n, Instant now) throws SQLException {
        // Forget nonces older than the window now and then: such requests fail on their timestamp anyway.
        if (now.toEpochMilli() - lastPurge > 10_000) {
            try (PreparedStatement p = c.prepareStatement("DELETE FROM request_nonce WHERE seen_at < ?")) {
                p.setLong(1, now.minus(n.window()).toEpochMilli());
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
        try (PreparedStatement p = c.prepareStatement("INSERT INTO request_nonce (client_id, nonce, seen_at) VALUES (?, ?, ?)")) {
            p.setString(1, n.clientId());
            p.setString(2, n.value());
            p.setLong(3, now.toEpochMilli());
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
        return escrow(client, blob, description, serial, messageId, null, now);
    }

    /**
     * The same, also recording the request's nonce in the same transaction (one commit per request);
     * a used nonce throws {@link ReplayedRequest} and stores nothing.
     */
    public Escrowed escrow(Client client, byte[] blob, String description, Long serial, String messageId, Nonce nonce, Instant now) {
        String sha = sha256(blob);
        return write(c -> {
            if (nonce != null && !recordNonce(c, nonce, now)) {
                throw new ReplayedRequest();
            }
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM escrow WHERE owner = ? AND blob_sha256 = ?")) {
                p.setString(1, client.name());
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
                p.setString(2, client.name());
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
            append(c, now, client.id(), "escrow", id, "ok", "{\"owner\":" + json(client.name()) + ",\"serial\":"
                    + (serial == null ? "null" : serial) + "}");
            return new Escrowed(new EscrowRecord(id, client.name(), client.id(), serial, messageId, description, blob, now), true);
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

    /** A request to release an escrowed key, waiting for (or given) a second officer's approval. */
    public record RecoveryRequest(String id, String escrowId, String requester, String status, String approvedBy,
                                  Instant createdAt) {
    }

    /** Files a recovery request for {@code escrowId} by {@code requester}; audited. */
    public RecoveryRequest requestRecovery(String escrowId, String requester, Instant now) {
        String id = randomId();
        return write(c -> {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO recovery_request (id, escrow_id, requester, status, "
                    + "created_at) VALUES (?, ?, ?, 'pending', ?)")) {
                p.setString(1, id);
                p.setString(2, escrowId);
                p.setString(3, requester);
                p.setLong(4, now.toEpochMilli());
                p.executeUpdate();
            }
            append(c, now, requester, "recover-request", escrowId, "pending", "{\"request\":\"" + id + "\"}");
            return new RecoveryRequest(id, escrowId, requester, "pending", null, now);
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
                return Optional.of(new RecoveryRequest(rs.getString("id"), rs.getString("escrow_id"), rs.getString("requester"),
                        rs.getString("status"), rs.getString("approved_by"), Instant.ofEpochMilli(rs.getLong("created_at"))));
            }
        }
    }

    /**
     * Moves a request from {@code from} to {@code to} status (pending to approved by an officer, approved
     * to released), only if it is still in {@code from}: two racing approvals or releases cannot both win.
     */
    public boolean advanceRecovery(String id, String from, String to, String actor, Instant now) {
        return write(c -> {
            try (PreparedStatement p = c.prepareStatement("UPDATE recovery_request SET status = ?, decided_at = ?"
                    + (to.equals("approved") ? ", approved_by = ?" : "") + " WHERE id = ? AND status = ?")) {
                int i = 1;
                p.setString(i++, to);
                p.setLong(i++, now.toEpochMilli());
                if (to.equals("approved")) {
                    p.setString(i++, actor);
                }
                p.setString(i++, id);
                p.setString(i, from);
                if (p.executeUpdate() != 1) {
                    return false;
                }
            }
            append(c, now, actor, "recover-" + to, id, "ok", "{}");
            return true;
        });
    }

    // ---- key rotation ----

    /**
     * Re-wraps every stored blob with {@code rewrap} (unwrap with the old authority key, wrap for the new
     * one), a page at a time, each page in one transaction with an audit entry. Returns the count.
     */
    public long rewrapAll(java.util.function.UnaryOperator<byte[]> rewrap, String actor, Instant now) {
        long done = 0;
        String after = "";
        while (true) {
            String from = after;
            List<String[]> page = read(c -> {
                List<String[]> rows = new ArrayList<>();
                try (PreparedStatement p = c.prepareStatement("SELECT id, blob FROM escrow WHERE id > ? ORDER BY id LIMIT 500")) {
                    p.setString(1, from);
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            rows.add(new String[] {rs.getString(1), rs.getString(2)});
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
                byte[] blob = rewrap.apply(Base64.getDecoder().decode(row[1]));
                updated.add(new String[] {row[0], Base64.getEncoder().encodeToString(blob), sha256(blob)});
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
                append(c, now, actor, "rotate", updated.get(0)[0] + ".." + updated.get(updated.size() - 1)[0], "ok",
                        "{\"rewrapped\":" + updated.size() + "}");
                return null;
            });
            done += updated.size();
            after = page.get(page.size() - 1)[0];
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

    /** The result of walking the audit chain: the number of intact entries and the first broken one, if any. */
    public record AuditCheck(long entries, Long firstBroken, String problem) {
        public boolean intact() {
            return firstBroken == null;
        }
    }

    /** Recomputes every hash from the first entry; reports the first entry that does not chain. */
    public AuditCheck verifyAudit() {
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
                    return new AuditCheck(expectedSeq - 1, expectedSeq, "entry " + expectedSeq + " is missing");
                }
                if (!e.intact(prev)) {
                    return new AuditCheck(expectedSeq - 1, e.seq(), "entry " + e.seq() + " does not match its hash chain");
                }
                prev = e.hash();
                expectedSeq++;
                after = e.seq();
            }
        }
        String[] head = read(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT seq, hash FROM audit_head WHERE id = 1"); ResultSet rs = p.executeQuery()) {
                rs.next();
                return new String[] {Long.toString(rs.getLong(1)), rs.getString(2)};
            }
        });
        if (Long.parseLong(head[0]) != expectedSeq - 1 || !head[1].equals(prev)) {
            return new AuditCheck(expectedSeq - 1, expectedSeq, "the log ends at entry " + (expectedSeq - 1) + " but its head says "
                    + head[0] + " (entries were removed from the end)");
        }
        return new AuditCheck(expectedSeq - 1, null, null);
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
                    for (Pending<?> p : batch) {
                        p.runIn(c);
                    }
                    c.commit();
                } catch (SQLException | RuntimeException e) {
                    try {
                        c.rollback();
                    } catch (SQLException ignored) {
                        // the connection is discarded by the pool if it is broken
                    }
                    KeywayException failure = new KeywayException(ErrorCode.PEER, "authority database failed (" + e.getMessage() + ")",
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
