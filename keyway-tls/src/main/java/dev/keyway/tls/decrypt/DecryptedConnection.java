package dev.keyway.tls.decrypt;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.TlsVersion;

import java.util.List;

/**
 * What {@link TrafficDecryptor} recovered from one TLS connection.
 *
 * @param version      negotiated version, or null when the handshake was not seen
 * @param suite        negotiated suite, or null
 * @param clientRandom the ClientHello.random naming the connection in key logs, or null
 * @param resumed      TLS 1.2 abbreviated handshake (session id or ticket) or TLS 1.3 PSK
 * @param status       how far decryption got
 * @param data         application data in stream order per direction (interleave by {@link AppData#streamOffset})
 * @param notes        human-readable remarks: missing secrets, alerts, truncation
 */
public record DecryptedConnection(TlsVersion version, CipherSuite suite, byte[] clientRandom, boolean resumed,
                                  Status status, List<AppData> data, List<String> notes) {

    /** Outcome for one connection. */
    public enum Status {
        /** Every protected record was decrypted. */
        DECRYPTED,
        /** The key log has no (or not enough) secrets for this connection. */
        NO_SECRETS,
        /** The secrets did not decrypt the records (wrong secrets, or a corrupt capture). */
        FAILED,
        /** The stream is not TLS, or the handshake was not captured. */
        NOT_TLS
    }

    /** Which way data flowed. */
    public enum Direction {
        CLIENT_TO_SERVER, SERVER_TO_CLIENT;

        public String arrow() {
            return this == CLIENT_TO_SERVER ? "client -> server" : "server -> client";
        }
    }

    /**
     * One record's worth of decrypted application data.
     *
     * @param direction    who sent it
     * @param streamOffset offset of the record's header in that direction's TCP stream
     * @param bytes        the plaintext
     */
    public record AppData(Direction direction, long streamOffset, byte[] bytes) {
    }
}
