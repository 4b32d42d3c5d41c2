package dev.keyway.authority;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The authority's receipt for an escrow: what it stored (id, owner, serial, time, the blob's SHA-256),
 * signed with its Ed25519 key over {@link #signedText()}. {@code created} is false when the same blob was
 * escrowed before (a retry), and the first record's receipt came back.
 */
public record EscrowReceipt(String escrowId, String owner, Long serial, Instant createdAt, String blobSha256, String signature,
                            boolean created) {
    /** What the signature covers. */
    public String signedText() {
        return "keyway-authority-receipt-v1\n" + escrowId + "\n" + owner + "\n" + serial + "\n" + createdAt.toEpochMilli() + "\n"
                + blobSha256;
    }

    /** The wire form (and {@code --json}'s). */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("escrow_id", escrowId);
        m.put("owner", owner);
        m.put("serial", serial);
        m.put("created_at", createdAt.toString());
        m.put("blob_sha256", blobSha256);
        m.put("signature", signature);
        return m;
    }

    static EscrowReceipt fromJson(JsonNode j, boolean created) {
        return new EscrowReceipt(Wire.text(j, "escrow_id"), Wire.text(j, "owner"), Wire.optionalLong(j, "serial"),
                Wire.instant(j, "created_at"), Wire.text(j, "blob_sha256"), Wire.text(j, "signature"), created);
    }
}
