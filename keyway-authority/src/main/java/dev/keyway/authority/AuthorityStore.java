package dev.keyway.authority;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import org.flywaydb.core.Flyway;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The authority's database: clients, escrows, request nonces, recovery requests and the hash-chained
 * audit log, over JDBC (SQLite embedded, or PostgreSQL). Every change and its audit entry commit in one
 * transaction, and every writing transaction starts by locking the audit head, so writers (threads or
 * nodes sharing a PostgreSQL database) take turns and never upgrade a read lock.
 *
 * <p>This class opens the database and is the one door to it; the work is done by its parts, each one
 * concern: {@link ClientRegistry}, {@link Nonces}, {@link EscrowRecords}, {@link RecoveryRequests} (the
 * two-person rule's state machine), {@link AuditLog} and {@link AuditHead} (the hash chain and its signed
 * head), and {@link WriteQueue} (group commit) under {@link Transactions}.
 */
public final class AuthorityStore implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();

    private final HikariDataSource pool;
    private final WriteQueue writes;
    private final AuditHead head;
    private final AuditLog audit;
    private final ClientRegistry clients;
    private final Nonces nonces;
    private final EscrowRecords escrows;
    private final RecoveryRequests recoveries;

    private AuthorityStore(HikariDataSource pool, Identity headSigner) {
        this.pool = pool;
        this.head = new AuditHead(headSigner);
        this.writes = new WriteQueue(pool, head);
        Transactions tx = new Transactions(pool, writes);
        this.audit = new AuditLog(tx, head);
        this.clients = new ClientRegistry(tx);
        this.nonces = new Nonces(tx);
        this.escrows = new EscrowRecords(tx, nonces);
        this.recoveries = new RecoveryRequests(tx);
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
            store.clients.fillSkeletons();
            if (upgradedToSignedHeads) {
                store.audit.adoptUnsignedHead();
            }
        }
        return store;
    }

    /**
     * Signs later audit heads with {@code authority} (after a key rotation); a head signed by the key used
     * until now is still accepted once, so the rotation's own last entry can follow it.
     */
    public void signHeadsWith(Identity authority) {
        head.signWith(authority);
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

    /** Nothing stored matches (HTTP 404). */
    public static final class NotFound extends KeywayException {
        NotFound(String message) {
            super(ErrorCode.USAGE, message, "check the id");
        }
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

    // ---- clients ----

    /**
     * Enrolls a signing key under {@code name} (canonical, see {@link OwnerNames}), pending an admin's
     * approval unless {@code approve}. Refused ({@link Conflict}) when the name looks like another enrolled
     * name, when the key is enrolled under another name, and ({@link Forbidden}) when the key was revoked.
     */
    public Client enroll(String name, Recipient recipient, boolean approve, Instant now) {
        return clients.enroll(name, recipient, approve, now);
    }

    /**
     * Revokes a client key: it is refused from now on (on other nodes within their cache lifetime) and
     * cannot enroll again. Revoking a revoked key changes nothing. {@code actor} is "admin" or the key itself.
     */
    public Client revoke(String clientId, String actor, Instant now) {
        return clients.revoke(clientId, actor, now);
    }

    /** Approves a pending client, optionally with roles; an admin action. */
    public Client approve(String clientId, Set<String> roles, String actor, Instant now) {
        return clients.approve(clientId, roles, actor, now);
    }

    /** Whether any key is enrolled under exactly this (canonical) name. */
    public boolean ownerExists(String name) {
        return clients.ownerExists(name);
    }

    /** Whether another enrolled name has the same skeleton as {@code name} (a look-alike). */
    public boolean looksLikeEnrolled(String name) {
        return clients.looksLikeEnrolled(name);
    }

    public Optional<Client> client(String id) {
        return clients.client(id);
    }

    /** Clients: pending first (what an admin acts on), then approved, then revoked, each by enrollment time. */
    public List<Client> clients() {
        return clients.clients();
    }

    // ---- request nonces ----

    /**
     * Records a request nonce until {@code expiresAt}, the last moment its request's timestamp could still
     * be accepted; false if this client used it before (a replay). Expired nonces are forgotten: their
     * requests fail on their timestamp anyway.
     */
    public boolean useNonce(String clientId, String nonce, Instant expiresAt, Instant now) {
        return nonces.useNonce(clientId, nonce, expiresAt, now);
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
        return escrows.escrow(client, client.name(), blob, description, serial, messageId, null, now);
    }

    /**
     * Stores a key blob for {@code owner} ({@code client}'s own name, or another owner's when a recovery
     * officer files that owner's escrow stanza), also recording the request's nonce in the same
     * transaction (one commit per request); a used nonce throws {@link ReplayedRequest} and stores nothing.
     * The caller has checked that the blob is bound to {@code owner}.
     */
    public Escrowed escrow(Client client, String owner, byte[] blob, String description, Long serial, String messageId,
                           Nonce nonce, Instant now) {
        return escrows.escrow(client, owner, blob, description, serial, messageId, nonce, now);
    }

    /** A search over escrows; null fields match anything. */
    public record Query(String owner, String descriptionContains, Long serial, String messageId, Instant from, Instant to,
                        int limit) {
    }

    public List<EscrowRecord> find(Query q) {
        return escrows.find(q);
    }

    public Optional<EscrowRecord> escrow(String id) {
        return escrows.escrow(id);
    }

    public long escrowCount() {
        return escrows.escrowCount();
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
        return recoveries.requestRecovery(escrowId, requester, now);
    }

    public Optional<RecoveryRequest> recoveryRequest(String id) {
        return recoveries.recoveryRequest(id);
    }

    /**
     * The two-person rule's second step. Only a person other than the requester approves: {@code officer}'s
     * owner name must differ from the requester's, so a second key of the same owner cannot approve.
     * A request whose key was revoked since it asked is not approved ({@link Conflict}).
     * Checked and changed in one transaction, so two racing approvals cannot both win. The approval may be
     * collected until {@code now + lifetime}.
     */
    public RecoveryRequest approveRecovery(String id, Client officer, Duration lifetime, Instant now) {
        return recoveries.approveRecovery(id, officer, lifetime, now);
    }

    /**
     * Marks an approved request collected by its requester, who may collect it again (a delivery that
     * failed) until the approval expires. Returns the request; refuses another client ({@link Forbidden}),
     * a request not approved or expired, or approved by a key revoked since ({@link Conflict}).
     */
    public RecoveryRequest collectRecovery(String id, Client requester, Instant now) {
        return recoveries.collectRecovery(id, requester, now);
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
        return escrows.rewrapAll(rewrap, actor, action, now);
    }

    // ---- audit ----

    /** Appends an audit entry on its own (refusals, and actions with nothing else to store). */
    public void audit(Instant now, String actor, String action, String subject, String outcome, String detail) {
        audit.audit(now, actor, action, subject, outcome, detail);
    }

    /** Entries with {@code seq} greater than {@code after}, oldest first, at most {@code limit}. */
    public List<AuditEntry> auditEntries(long after, int limit) {
        return audit.entries(after, limit);
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

    /**
     * Recomputes every hash from the first entry and checks the head: it must name the last entry and
     * carry {@code authority}'s signature over its count and hash. Dropping entries from the end and
     * rewriting the head, or editing an entry and recomputing the chain, cannot produce that signature.
     * With {@code authority} null only the chain and the head's count and hash are checked.
     */
    public AuditCheck verifyAudit(Recipient authority) {
        return audit.verify(authority);
    }

    /** The hash of entry {@code seq}, if it exists (to compare with a head recorded earlier). */
    public Optional<String> auditHash(long seq) {
        return audit.hash(seq);
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
        writes.close();
        pool.close();
    }
}
