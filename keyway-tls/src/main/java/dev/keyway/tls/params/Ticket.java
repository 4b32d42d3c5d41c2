package dev.keyway.tls.params;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Pem;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * A session a client keeps for resumption. TLS 1.3 (RFC 8446 section 4.6.1): the opaque ticket and the PSK
 * derived from the resumption master secret and the ticket nonce. TLS 1.2 (a TLS 1.2 suite): the session ID
 * the server gave and/or its RFC 5077 ticket, and the master secret as the PSK. {@link #encode()} gives the
 * text a client saves (it holds the PSK: keep it private).
 */
public record Ticket(byte[] ticket, byte[] psk, long lifetimeSeconds, long ageAdd, Instant receivedAt, CipherSuite suite,
                     String serverName, byte[] sessionId) {
    private static final String PEM_LABEL = "KEYWAY TLS SESSION";
    /** Hint ids: a session file to make again, and a file that is not one. */
    public static final String HINT_NEW_FILE = "tls.session-file.new";
    public static final String HINT_NOT_A_FILE = "tls.session-file.not";
    /** Version 1 files (TLS 1.3 only, no session ID) are still read. */
    private static final int VERSION = 2;

    /** A TLS 1.3 ticket. */
    public Ticket(byte[] ticket, byte[] psk, long lifetimeSeconds, long ageAdd, Instant receivedAt, CipherSuite suite, String serverName) {
        this(ticket, psk, lifetimeSeconds, ageAdd, receivedAt, suite, serverName, new byte[0]);
    }

    /** A PEM-like text block: version, suite, times, server name, ticket and PSK. */
    public String encode() {
        byte[] name = serverName == null ? new byte[0] : serverName.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(1 + 2 + 4 + 4 + 8 + 1 + name.length + 2 + ticket.length + 1 + psk.length + 1 + sessionId.length);
        b.put((byte) VERSION).putShort((short) suite.code()).putInt((int) lifetimeSeconds).putInt((int) ageAdd).putLong(receivedAt.toEpochMilli());
        b.put((byte) name.length).put(name).putShort((short) ticket.length).put(ticket).put((byte) psk.length).put(psk);
        b.put((byte) sessionId.length).put(sessionId);
        byte[] body = b.array();
        return Pem.encode(PEM_LABEL, body);
    }

    /** Reads what {@link #encode()} wrote; anything else is a clear error. */
    public static Ticket decode(String text) {
        Pem.Block block;
        try {
            block = Pem.find(text, PEM_LABEL, Pem.MAX_CHARS, "TLS session file");
        } catch (KeywayException ex) {
            throw KeywayException.malformed("the TLS session file is damaged", "make a new one (a client saves one after it connects)").hintId(HINT_NEW_FILE);
        }
        if (block == null) {
            throw KeywayException.malformed("not a Keyway TLS session file", "give a session file a Keyway client saved").hintId(HINT_NOT_A_FILE);
        }
        try {
            byte[] body = block.der();
            ByteBuffer r = ByteBuffer.wrap(body);
            int version = r.get() & 0xff;
            if (version != 1 && version != VERSION) {
                throw KeywayException.malformed("a TLS session file of an unknown version", "make a new one (a client saves one after it connects)").hintId(HINT_NEW_FILE);
            }
            CipherSuite suite = CipherSuites.byCode(r.getShort() & 0xffff);
            long lifetime = r.getInt() & 0xffffffffL;
            long ageAdd = r.getInt() & 0xffffffffL;
            long ms = r.getLong();
            byte[] name = bytes(r, r.get() & 0xff);
            byte[] ticket = bytes(r, r.getShort() & 0xffff);
            byte[] psk = bytes(r, r.get() & 0xff);
            byte[] sessionId = version == 1 ? new byte[0] : bytes(r, r.get() & 0xff);
            boolean usable = !r.hasRemaining() && suite != null && psk.length > 0 && sessionId.length <= 32
                    && (suite.tls13() ? ticket.length > 0 : psk.length == 48 && (ticket.length > 0 || sessionId.length > 0));
            if (!usable) {
                throw KeywayException.malformed("the TLS session file is damaged", "make a new one (a client saves one after it connects)").hintId(HINT_NEW_FILE);
            }
            return new Ticket(ticket, psk, lifetime, ageAdd, Instant.ofEpochMilli(ms), suite,
                    name.length == 0 ? null : new String(name, StandardCharsets.UTF_8), sessionId);
        } catch (IllegalArgumentException | BufferUnderflowException ex) {
            throw KeywayException.malformed("the TLS session file is damaged", "make a new one (a client saves one after it connects)").hintId(HINT_NEW_FILE);
        }
    }

    private static byte[] bytes(ByteBuffer b, int n) {
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    @Override
    public String toString() {
        return "Ticket[" + suite.name() + ", " + lifetimeSeconds + " s, from " + receivedAt + "]"; // no secrets
    }
}
