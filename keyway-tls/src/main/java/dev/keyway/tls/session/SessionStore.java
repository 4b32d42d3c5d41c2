package dev.keyway.tls.session;

import java.io.Closeable;
import java.time.Duration;

/** Where a TLS server keeps resumable sessions by session ID (RFC 5246 section 7.4.1.2). Implementations are thread-safe. */
public interface SessionStore extends Closeable {
    /** Stores state under id (1..32 bytes) for lifetime; replaces any earlier entry. */
    void put(byte[] id, byte[] state, Duration lifetime);

    /** The state stored under id, or null when absent or expired. */
    byte[] get(byte[] id);

    /** Forgets id (a session that failed or was closed with an alert must not be resumed, RFC 5246 section 7.2.2). */
    void remove(byte[] id);

    @Override
    default void close() {
    }
}
