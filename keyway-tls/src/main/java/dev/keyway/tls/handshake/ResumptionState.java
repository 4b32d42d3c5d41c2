package dev.keyway.tls.handshake;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.tls.config.TlsConfig;

import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a server seals into a session ticket (RFC 8446 section 4.6.1) or, for TLS 1.2, into a ticket (RFC 5077)
 * or its session cache: the suite (its version tells which), the resumption PSK (TLS 1.2: the master secret),
 * when and for how long, the age mask, the ALPN protocol and server name the session was made for, and the
 * client's certificate chain (DER, leaf first; empty when the client was not asked for one).
 *
 * <p>The chain is what lets a resumed connection name its client, and what the server checks again against its
 * current trust anchors before it resumes ({@link #clientChainAuthorizedBy}). It is bounded: at most
 * {@link PeerCertificates#MAX_CHAIN} certificates and {@link #MAX_CHAIN_BYTES} bytes of DER in all, so a sealed
 * state stays under about 8.5 KiB; a session whose chain is larger is not made resumable.
 */
record ResumptionState(CipherSuite suite, byte[] psk, Instant created, long lifetimeSeconds, long ageAdd, String alpn,
                       String serverName, List<byte[]> clientChain) {
    /** 3: the client's chain instead of version 2's flag. States of other versions do not open (a full handshake). */
    private static final int VERSION = 3;
    /** The DER of a client's chain, all certificates together: a few typical chains (an RSA-4096 leaf is about 1.4 KiB). */
    static final int MAX_CHAIN_BYTES = 8 * 1024;

    ResumptionState {
        clientChain = List.copyOf(clientChain);
    }

    /** A state for a session whose client sent {@code chain} (empty: none); null when the chain is over the bounds. */
    static ResumptionState of(CipherSuite suite, byte[] psk, Instant created, long lifetimeSeconds, long ageAdd, String alpn,
                              String serverName, List<X509Certificate> chain) {
        List<byte[]> ders = new ArrayList<>();
        int total = 0;
        try {
            for (X509Certificate c : chain) {
                byte[] der = c.getEncoded(); // the bytes the peer sent: the JDK keeps a parsed certificate's encoding
                total += der.length;
                ders.add(der);
            }
        } catch (CertificateEncodingException e) {
            return null;
        }
        if (ders.size() > PeerCertificates.MAX_CHAIN || total > MAX_CHAIN_BYTES) {
            return null;
        }
        return new ResumptionState(suite, psk, created, lifetimeSeconds, ageAdd, alpn, serverName, ders);
    }

    byte[] encode() {
        Wire.Writer chain = new Wire.Writer();
        for (byte[] der : clientChain) {
            chain.vec16(der);
        }
        return new Wire.Writer().u8(VERSION).u16(suite.code()).u32(created.getEpochSecond() >>> 32).u32(created.getEpochSecond())
                .u32(lifetimeSeconds).u32(ageAdd).vec8(psk).vec8(text(alpn)).vec8(text(serverName)).vec16(chain.toByteArray())
                .toByteArray();
    }

    /** The state, or null when it is not one this version wrote, or its fields are out of bounds. */
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
            byte[] chainBytes = r.vec16(); // Wire.Reader allocates only what the input holds
            r.end("ticket state");
            if (suite == null || chainBytes.length > MAX_CHAIN_BYTES) {
                return null;
            }
            List<byte[]> chain = new ArrayList<>();
            Wire.Reader c = new Wire.Reader(chainBytes);
            while (c.remaining() > 0) {
                byte[] der = c.vec16();
                if (der.length == 0 || chain.size() == PeerCertificates.MAX_CHAIN) {
                    return null;
                }
                chain.add(der);
            }
            return new ResumptionState(suite, psk, Instant.ofEpochSecond(seconds), lifetime, ageAdd, alpn, name, chain);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * The client chain a server with {@code config} accepts for this session now, or null when it must not be
     * resumed there. A server that does not ask for client certificates gets an empty chain, as its full
     * handshakes do. One that does needs a chain in the state that still parses and validates against its
     * current trust anchors, at its clock's time (RFC 8446 section 4.2.11 lets a server decline a PSK; RFC 5246
     * section 7.4.1.2 a session ID): a CA no longer trusted, or a certificate expired since, means a full
     * handshake with a CertificateRequest, as does a session that had no client certificate.
     */
    List<X509Certificate> clientChainAuthorizedBy(TlsConfig config) {
        if (!config.requireClientCertificate()) {
            return List.of();
        }
        if (clientChain.isEmpty()) {
            return null;
        }
        try {
            List<X509Certificate> chain = PeerCertificates.parse(clientChain);
            PeerCertificates.validateClient(chain, config);
            return chain;
        } catch (RuntimeException e) {
            // a TlsException from parse or validate (its alert is for a peer's live chain, not for a sealed one), or
            // anything the JDK's parser throws: the session is just not resumed
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
        return "ResumptionState[" + suite.name() + ", " + created + ", " + clientChain.size() + " client certificates]"; // no secrets
    }
}
