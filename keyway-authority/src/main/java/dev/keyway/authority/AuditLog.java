package dev.keyway.authority;

import dev.keyway.core.identity.Recipient;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The hash-chained audit log: every entry's hash covers the one before it, and the head (count and last
 * hash) is signed by the authority ({@link AuditHead}). Entries are appended inside the write that they
 * record, so a change and its entry commit together.
 */
final class AuditLog {
    private final Transactions tx;
    private final AuditHead head;

    AuditLog(Transactions tx, AuditHead head) {
        this.tx = tx;
        this.head = head;
    }

    /** Takes the next sequence number (locking the head row) and appends an entry; inside a write transaction. */
    static void append(Connection c, Instant now, String actor, String action, String subject, String outcome,
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

    /** Appends an entry on its own (refusals, and actions with nothing else to store). */
    void audit(Instant now, String actor, String action, String subject, String outcome, String detail) {
        tx.write(c -> {
            append(c, now, actor, action, subject, outcome, detail);
            return null;
        });
    }

    /** Entries with {@code seq} greater than {@code after}, oldest first, at most {@code limit}. */
    List<AuditEntry> entries(long after, int limit) {
        return tx.read(c -> {
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

    /** The hash of entry {@code seq}, if it exists (to compare with a head recorded earlier). */
    Optional<String> hash(long seq) {
        List<AuditEntry> e = entries(seq - 1, 1);
        return e.isEmpty() || e.get(0).seq() != seq ? Optional.empty() : Optional.of(e.get(0).hash());
    }

    /**
     * The upgrade to signed heads (schema 2, applied by this open): a log written before has an unsigned head.
     * If its chain is intact it is signed now, once; from then on an unsigned or wrongly signed head is
     * tampering, and writes are refused ({@link AuthorityStore.AuditTampered}).
     */
    void adoptUnsignedHead() {
        AuthorityStore.AuditCheck chain = verify(null);
        tx.write(c -> {
            String[] h = AuditHead.read(c);
            if (Long.parseLong(h[0]) == 0 || h[2] != null || !chain.intact()) {
                return null;
            }
            head.sign(c, Long.parseLong(h[0]), h[1]);
            return null;
        });
    }

    /**
     * Recomputes every hash from the first entry and checks the head: it must name the last entry and
     * carry {@code authority}'s signature over its count and hash. Dropping entries from the end and
     * rewriting the head, or editing an entry and recomputing the chain, cannot produce that signature.
     * With {@code authority} null only the chain and the head's count and hash are checked.
     */
    AuthorityStore.AuditCheck verify(Recipient authority) {
        String prev = AuditEntry.GENESIS;
        long expectedSeq = 1;
        long after = 0;
        while (true) {
            List<AuditEntry> page = entries(after, 5000);
            if (page.isEmpty()) {
                break;
            }
            for (AuditEntry e : page) {
                if (e.seq() != expectedSeq) {
                    return broken(expectedSeq - 1, expectedSeq, "entry " + expectedSeq + " is missing");
                }
                if (!e.intact(prev)) {
                    return broken(expectedSeq - 1, e.seq(), "entry " + e.seq() + " does not match its hash chain");
                }
                prev = e.hash();
                expectedSeq++;
                after = e.seq();
            }
        }
        return checkHead(expectedSeq - 1, prev, authority);
    }

    /** The head must name entry {@code entries} with hash {@code last}, signed by {@code authority} when given. */
    private AuthorityStore.AuditCheck checkHead(long entries, String last, Recipient authority) {
        String[] h = tx.read(AuditHead::read);
        if (Long.parseLong(h[0]) != entries || !h[1].equals(last)) {
            return broken(entries, entries + 1, "the log ends at entry " + entries + " but its head says "
                    + h[0] + " (entries were removed from the end, or the head was changed)");
        }
        if (entries > 0 && authority != null) {
            if (h[2] == null) {
                return broken(entries, entries, "the head (entry " + entries + ") is not signed: it was rewritten, "
                        + "or written by a Keyway before signed heads (any write by this version signs it)");
            }
            if (!authority.verify(AuditHead.signedText(entries, last), AuditHead.decode(h[2]))) {
                return broken(entries, entries, "the head's signature (entry " + entries + ", hash " + last
                        + ") does not verify with the authority key " + authority.idHex() + ": entries were removed or "
                        + "rewritten and the head recomputed");
            }
        }
        return new AuthorityStore.AuditCheck(entries, null, null, last);
    }

    private static AuthorityStore.AuditCheck broken(long entries, long firstBroken, String problem) {
        return new AuthorityStore.AuditCheck(entries, firstBroken, problem, null);
    }
}
