package dev.keyway.authority;

import dev.keyway.core.blob.KeyBlob;

import java.time.Instant;

/** What a recovery request got back: the key, re-wrapped for the requester, or (two-person rule) a pending request. */
public sealed interface Recovery {
    /** The escrowed key, unwrapped by the authority and wrapped again for the requester; no plaintext key crossed the wire. */
    record Released(String escrowId, String owner, Long serial, String messageId, String description, KeyBlob blob)
            implements Recovery {
    }

    /** A second recovery officer, another person, must approve {@code requestId}; then the requester collects it. */
    record Pending(String requestId, String escrowId) implements Recovery {
    }

    /** A second officer's approval: the requester may collect the key until {@code expiresAt}. */
    record Approval(String requestId, Instant expiresAt) {
    }

    /**
     * Which key a recovery asks for: by serial, message id or escrow id (of {@code owner}, a recovery officer's
     * request for another owner, or null for the caller's own), or an approved request to collect.
     */
    record Query(String owner, Long serial, String messageId, String escrowId, String requestId) {
        public static Query serial(String owner, long serial) {
            return new Query(owner, serial, null, null, null);
        }

        public static Query messageId(String owner, String messageId) {
            return new Query(owner, null, messageId, null, null);
        }

        public static Query escrowId(String owner, String escrowId) {
            return new Query(owner, null, null, escrowId, null);
        }

        public static Query collect(String requestId) {
            return new Query(null, null, null, null, requestId);
        }
    }
}
