package dev.keyway.tls.handshake;

import dev.keyway.core.KeywayException;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;

/**
 * A session ticket a client keeps for resumption (RFC 8446 section 4.6.1): the opaque ticket, the PSK
 * derived from the resumption master secret and the ticket nonce, and what it may be used with.
 * {@link #encode()} gives the text a client saves with --sess-out (it holds the PSK: keep it private).
 */
public record Ticket(byte[] ticket, byte[] psk, long lifetimeSeconds, long ageAdd, Instant receivedAt, CipherSuite suite,
                     String serverName) {
    private static final String BEGIN = "-----BEGIN KEYWAY TLS SESSION-----";
    private static final String END = "-----END KEYWAY TLS SESSION-----";
    private static final int VERSION = 1;

    /** A PEM-like text block: version, suite, times, server name, ticket and PSK. */
    public String encode() {
        byte[] name = serverName == null ? new byte[0] : serverName.getBytes(StandardCharsets.UTF_8);
        byte[] body = new Wire.Writer().u8(VERSION).u16(suite.code()).u32(lifetimeSeconds).u32(ageAdd)
                .u32(receivedAt.toEpochMilli() >>> 32).u32(receivedAt.toEpochMilli()).vec8(name).vec16(ticket).vec8(psk).toByteArray();
        return BEGIN + "\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(body) + "\n" + END + "\n";
    }

    /** Reads what {@link #encode()} wrote; anything else is a clear error. */
    public static Ticket decode(String text) {
        int b = text.indexOf(BEGIN);
        int e = text.indexOf(END);
        if (b < 0 || e < b) {
            throw KeywayException.malformed("not a Keyway TLS session file", "give a file written by 'keyway tls connect --sess-out'");
        }
        try {
            byte[] body = Base64.getMimeDecoder().decode(text.substring(b + BEGIN.length(), e).trim());
            Wire.Reader r = new Wire.Reader(body);
            if (r.u8() != VERSION) {
                throw KeywayException.malformed("a TLS session file of an unknown version", "make a new one with --sess-out");
            }
            CipherSuite suite = CipherSuites.byCode(r.u16());
            long lifetime = r.u32();
            long ageAdd = r.u32();
            long ms = (r.u32() << 32) | r.u32();
            byte[] name = r.vec8();
            byte[] ticket = r.vec16();
            byte[] psk = r.vec8();
            r.end("session");
            if (suite == null || !suite.tls13() || ticket.length == 0 || psk.length == 0) {
                throw KeywayException.malformed("the TLS session file is damaged", "make a new one with --sess-out");
            }
            return new Ticket(ticket, psk, lifetime, ageAdd, Instant.ofEpochMilli(ms), suite,
                    name.length == 0 ? null : new String(name, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException | dev.keyway.tls.TlsException ex) {
            throw KeywayException.malformed("the TLS session file is damaged", "make a new one with --sess-out");
        }
    }

    @Override
    public String toString() {
        return "Ticket[" + suite.name() + ", " + lifetimeSeconds + " s, from " + receivedAt + "]";
    }
}
