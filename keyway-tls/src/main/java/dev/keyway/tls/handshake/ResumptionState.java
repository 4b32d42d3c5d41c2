package dev.keyway.tls.handshake;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;

import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * What a server seals into a session ticket (RFC 8446 section 4.6.1) or, for TLS 1.2, into a ticket (RFC 5077)
 * or its session cache: the suite (its version tells which), the resumption PSK (TLS 1.2: the master secret),
 * when and for how long, the age mask, and the ALPN protocol and server name the session was made for.
 */
record ResumptionState(CipherSuite suite, byte[] psk, Instant created, long lifetimeSeconds, long ageAdd, String alpn,
                       String serverName, boolean clientAuthenticated) {
    private static final int VERSION = 2;

    byte[] encode() {
        return new Wire.Writer().u8(VERSION).u16(suite.code()).u32(created.getEpochSecond() >>> 32).u32(created.getEpochSecond())
                .u32(lifetimeSeconds).u32(ageAdd).vec8(psk).vec8(text(alpn)).vec8(text(serverName)).u8(clientAuthenticated ? 1 : 0).toByteArray();
    }

    /** The state, or null when it is not one this version wrote. */
    static ResumptionState decode(byte[] data) {
        try {
            Wire.Reader r = new Wire.Reader(data);
            if (r.u8() != VERSION) {
                return null;
            }
            CipherSuite suite = CipherSuites.byCode(r.u16());
            long seconds = (r.u32() << 32) | r.u32();
            long lifetime = r.u32();
            long ageAdd = r.u32();
            byte[] psk = r.vec8();
            String alpn = string(r.vec8());
            String name = string(r.vec8());
            int auth = r.u8();
            r.end("ticket state");
            if (auth > 1) {
                return null;
            }
            if (suite == null) {
                return null;
            }
            return new ResumptionState(suite, psk, Instant.ofEpochSecond(seconds), lifetime, ageAdd, alpn, name, auth == 1);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static byte[] text(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }

    private static String string(byte[] b) {
        return b.length == 0 ? null : new String(b, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "ResumptionState[" + suite.name() + ", " + created + "]";
    }
}
