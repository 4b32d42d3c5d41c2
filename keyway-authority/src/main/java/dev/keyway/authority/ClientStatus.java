package dev.keyway.authority;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the authority says about an enrolled key (enroll, approve, revoke, whoami, the admin's client list):
 * its id, owner name, status ({@code pending}, {@code approved}, {@code revoked}), roles and dates. The
 * server writes it and the client reads it through this one record, so the two never disagree on the form.
 */
public record ClientStatus(String clientId, String name, String status, List<String> roles, Instant enrolledAt,
                           Instant revokedAt) {
    public ClientStatus {
        roles = List.copyOf(roles);
    }

    static ClientStatus of(Client c) {
        return new ClientStatus(c.id(), c.name(), c.status().name().toLowerCase(), new ArrayList<>(c.roles()), c.enrolledAt(),
                c.revokedAt());
    }

    public boolean approved() {
        return status.equals("approved");
    }

    /** The wire form (and {@code --json}'s): {@code revoked_at} only for a revoked key. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("client_id", clientId);
        m.put("name", name);
        m.put("status", status);
        m.put("roles", roles);
        m.put("enrolled_at", enrolledAt.toString());
        if (revokedAt != null) {
            m.put("revoked_at", revokedAt.toString());
        }
        return m;
    }

    static ClientStatus fromJson(JsonNode j) {
        List<String> roles = new ArrayList<>();
        Wire.required(j, "roles").forEach(r -> roles.add(r.asText()));
        return new ClientStatus(Wire.text(j, "client_id"), Wire.text(j, "name"), Wire.text(j, "status"), roles,
                Wire.instant(j, "enrolled_at"), j.hasNonNull("revoked_at") ? Wire.instant(j, "revoked_at") : null);
    }
}
