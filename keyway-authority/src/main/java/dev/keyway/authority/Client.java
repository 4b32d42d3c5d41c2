package dev.keyway.authority;

import java.time.Instant;
import java.util.Set;

/**
 * An enrolled client: one signing key (the Ed25519 half of a Keyway recipient) under an owner name.
 * Several keys may share a name: an owner who lost a key enrolls a new one under the same name, and an
 * admin approving it is what lets the new key recover the owner's escrows. A revoked key (lost or
 * stolen) is refused from then on and cannot enroll again.
 */
public record Client(String id, String name, String recipient, Status status, Set<String> roles, Instant enrolledAt,
                     Instant approvedAt, Instant revokedAt) {
    public static final String RECOVERY_OFFICER = "recovery-officer";

    public enum Status { PENDING, APPROVED, REVOKED }

    public Client {
        roles = Set.copyOf(roles);
    }

    public boolean approved() {
        return status == Status.APPROVED;
    }

    public boolean revoked() {
        return status == Status.REVOKED;
    }

    public boolean officer() {
        return roles.contains(RECOVERY_OFFICER);
    }
}
