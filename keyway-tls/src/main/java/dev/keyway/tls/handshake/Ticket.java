package dev.keyway.tls.handshake;

import dev.keyway.core.kdf.CipherSuite;

import java.time.Instant;

/**
 * A session ticket a client keeps for resumption (RFC 8446 section 4.6.1): the opaque ticket, the PSK
 * derived from the resumption master secret and the ticket nonce, and what it may be used with.
 */
public record Ticket(byte[] ticket, byte[] psk, long lifetimeSeconds, long ageAdd, Instant receivedAt, CipherSuite suite,
                     String serverName) {
    @Override
    public String toString() {
        return "Ticket[" + suite.name() + ", " + lifetimeSeconds + " s, from " + receivedAt + "]";
    }
}
