package dev.keyway.authority;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** One escrow as a listing shows it: metadata only, never the blob. */
public record EscrowSummary(String escrowId, String owner, Long serial, String messageId, String description, Instant createdAt) {
    static EscrowSummary of(EscrowRecord r) {
        return new EscrowSummary(r.id(), r.owner(), r.serial(), r.messageId(), r.description(), r.createdAt());
    }

    /** The wire form (and {@code --json}'s). */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("escrow_id", escrowId);
        m.put("owner", owner);
        m.put("serial", serial);
        m.put("message_id", messageId);
        m.put("description", description);
        m.put("created_at", createdAt.toString());
        return m;
    }

    static EscrowSummary fromJson(JsonNode j) {
        return new EscrowSummary(Wire.text(j, "escrow_id"), Wire.text(j, "owner"), Wire.optionalLong(j, "serial"),
                Wire.optionalText(j, "message_id"), Wire.text(j, "description"), Wire.instant(j, "created_at"));
    }

    /**
     * What a listing asks for; null fields match anything. {@code owner} is another owner's name (recovery
     * officers only); null lists the caller's own.
     */
    public record Filter(String owner, String descriptionContains, Long serial, Instant from, Instant to) {
        public static final Filter ALL = new Filter(null, null, null, null, null);
    }
}
