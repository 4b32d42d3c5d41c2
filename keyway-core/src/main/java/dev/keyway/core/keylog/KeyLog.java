package dev.keyway.core.keylog;

/**
 * Where TLS secrets go when a user asks to see them (RFC 9850, the SSLKEYLOGFILE format). Every secret
 * Keyway's TLS derives passes through one of these; the default logs nothing.
 */
@FunctionalInterface
public interface KeyLog {

    /** Logs nothing. */
    KeyLog NONE = (label, clientRandom, secret) -> { };

    /**
     * Records one secret.
     *
     * @param label        an RFC 9850 label, e.g. {@code CLIENT_HANDSHAKE_TRAFFIC_SECRET} (see {@link KeyLogLabel})
     * @param clientRandom the 32-byte ClientHello.random that names the connection
     * @param secret       the secret; implementations must not keep a reference to it
     */
    void log(String label, byte[] clientRandom, byte[] secret);
}
