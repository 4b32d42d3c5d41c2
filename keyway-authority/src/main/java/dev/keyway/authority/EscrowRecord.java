package dev.keyway.authority;

import java.time.Instant;

/**
 * One escrowed session key: the key blob wrapped for the authority's recipient (never the key itself),
 * with what its owner said about it.
 */
public record EscrowRecord(String id, String owner, String clientId, Long serial, String messageId, String description,
                           byte[] blob, Instant createdAt) {
    public EscrowRecord {
        blob = blob.clone();
    }

    @Override
    public byte[] blob() {
        return blob.clone();
    }

    @Override
    public String toString() {
        return "EscrowRecord[" + id + ", owner " + owner + ", serial " + serial + "]";
    }
}
