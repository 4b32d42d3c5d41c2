package dev.keyway.authority;

import dev.keyway.core.identity.Identity;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Base64;

/**
 * The audit log's head (the count of entries and the last one's hash) and its Ed25519 signature by the
 * authority: checked before a batch appends and signed again after it (docs/AUTHORITY.md, "The audit log").
 * A head this process did not sign or check is verified first (another node wrote it, or an attacker did).
 */
final class AuditHead {
    /** Signs the head after every write that appended; null for a store opened only to read. */
    private volatile Identity signer;
    /** The key that signed heads before {@link #signWith} switched (a rotation), or null. */
    private volatile Identity previousSigner;
    /** The last head this process signed or checked; a head equal to it needs no new check (the writer's thread only). */
    private String[] trusted;

    AuditHead(Identity signer) {
        this.signer = signer;
    }

    Identity signer() {
        return signer;
    }

    /** Signs later heads with {@code authority}; a head signed by the key used until now is still accepted once. */
    void signWith(Identity authority) {
        this.previousSigner = this.signer;
        this.signer = authority;
    }

    /** What the authority signs on every write: the count of entries and the last entry's hash. */
    static byte[] signedText(long seq, String hash) {
        return ("keyway-authority-audit-head-v1\n" + seq + "\n" + hash).getBytes(StandardCharsets.US_ASCII);
    }

    /** The head as {seq, hash, signature}. */
    static String[] read(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT seq, hash, signature FROM audit_head WHERE id = 1");
             ResultSet rs = p.executeQuery()) {
            rs.next();
            return new String[] {Long.toString(rs.getLong(1)), rs.getString(2), rs.getString(3)};
        }
    }

    /** Locks the head row: writers (threads, nodes sharing a PostgreSQL database) take turns from here to the commit. */
    static void lock(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE audit_head SET seq = seq WHERE id = 1")) {
            p.executeUpdate();
        }
    }

    /**
     * If the batch appended to the log (the head moved from {@code before}): checks that {@code before} was signed
     * by this authority (or, once, by the key before a rotation), then signs the new head. One signature per
     * commit, not per entry.
     */
    void signAfter(Connection c, String[] before) throws SQLException {
        String[] after = read(c);
        if (after[0].equals(before[0])) {
            return;
        }
        Identity current = signer;
        if (current == null) {
            throw new IllegalStateException("this store was opened to read: nothing can sign the audit head");
        }
        long seq = Long.parseLong(before[0]);
        if (seq > 0 && !Arrays.equals(before, trusted)) {
            byte[] signature = decode(before[2]);
            byte[] signed = signedText(seq, before[1]);
            Identity previous = previousSigner;
            if (!current.recipient().verify(signed, signature)
                    && (previous == null || !previous.recipient().verify(signed, signature))) {
                throw new AuthorityStore.AuditTampered(seq);
            }
        }
        String signature = sign(c, Long.parseLong(after[0]), after[1]);
        trusted = new String[] {after[0], after[1], signature};
    }

    /** Writes the signature of head {@code seq, hash}; returns it. */
    String sign(Connection c, long seq, String hash) throws SQLException {
        String signature = Base64.getEncoder().encodeToString(signer.sign(signedText(seq, hash)));
        try (PreparedStatement p = c.prepareStatement("UPDATE audit_head SET signature = ? WHERE id = 1")) {
            p.setString(1, signature);
            p.executeUpdate();
        }
        return signature;
    }

    /** A stored signature's bytes; an absent or garbled one is empty (and verifies with no key). */
    static byte[] decode(String signature) {
        try {
            return signature == null ? new byte[0] : Base64.getDecoder().decode(signature);
        } catch (IllegalArgumentException e) {
            return new byte[0];
        }
    }
}
