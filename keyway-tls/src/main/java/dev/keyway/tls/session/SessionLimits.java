package dev.keyway.tls.session;

import java.time.Duration;
import java.util.Objects;

/**
 * The bounds every {@link SessionStore} enforces, so that a store behaves the same whichever one a server
 * uses and a bug upstream cannot fill memory or Redis with huge or immortal entries. Messages never show
 * an id or a state, only lengths.
 */
final class SessionLimits {
    /** RFC 5246 section 7.4.1.2: {@code opaque SessionID<0..32>}; an empty id means "no session". */
    static final int MAX_ID = 32;
    /** Sealed state (suite, master secret, peer identity, times) is a few hundred bytes; a chain of
     *  peer certificates could make it a few KiB. Anything beyond this is a bug. */
    static final int MAX_STATE = 16 * 1024;
    /** RFC 5246 appendix F.1.4 suggests an upper limit of 24 hours for session IDs. */
    static final Duration MAX_LIFETIME = Duration.ofHours(24);

    private SessionLimits() {
    }

    static void checkId(byte[] id) {
        Objects.requireNonNull(id, "id");
        if (id.length < 1 || id.length > MAX_ID) {
            throw new IllegalArgumentException("session id must be 1.." + MAX_ID + " bytes, not " + id.length);
        }
    }

    static void checkState(byte[] state) {
        Objects.requireNonNull(state, "state");
        if (state.length > MAX_STATE) {
            throw new IllegalArgumentException("session state must be at most " + MAX_STATE + " bytes, not " + state.length);
        }
    }

    static void checkLifetime(Duration lifetime) {
        Objects.requireNonNull(lifetime, "lifetime");
        if (lifetime.isNegative() || lifetime.isZero() || lifetime.compareTo(MAX_LIFETIME) > 0) {
            throw new IllegalArgumentException("session lifetime must be positive and at most " + MAX_LIFETIME + ", not " + lifetime);
        }
    }

    static void checkPut(byte[] id, byte[] state, Duration lifetime) {
        checkId(id);
        checkState(state);
        checkLifetime(lifetime);
    }
}
