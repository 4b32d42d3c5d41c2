package dev.keyway.authority;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;

/**
 * One audit log entry. Its hash is SHA-256 over the previous entry's hash and every field, each
 * length-prefixed, so changing, removing or reordering any entry breaks every hash after it.
 */
public record AuditEntry(long seq, Instant at, String actor, String action, String subject, String outcome, String detail,
                         String prevHash, String hash) {
    /** The hash before the first entry. */
    public static final String GENESIS = "0".repeat(64);

    /** The hash this entry must have, given its fields and its predecessor's hash. */
    public static String computeHash(long seq, Instant at, String actor, String action, String subject, String outcome,
                                     String detail, String prevHash) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String field : new String[] {"keyway audit v1", prevHash, Long.toString(seq), Long.toString(at.toEpochMilli()),
                    actor, action, subject, outcome, detail}) {
                byte[] b = field.getBytes(StandardCharsets.UTF_8);
                md.update((b.length + ":").getBytes(StandardCharsets.US_ASCII));
                md.update(b);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether the stored hash matches the fields and {@code expectedPrev}. */
    public boolean intact(String expectedPrev) {
        return prevHash.equals(expectedPrev)
                && hash.equals(computeHash(seq, at, actor, action, subject, outcome, detail, prevHash));
    }
}
