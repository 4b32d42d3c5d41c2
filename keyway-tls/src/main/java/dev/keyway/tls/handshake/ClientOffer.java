package dev.keyway.tls.handshake;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a client offers in its ClientHello, and the hello itself: the random and legacy session ID, the key
 * shares (with their private halves), the TLS 1.3 ticket and the TLS 1.2 session it offers to resume. Made by
 * {@link ClientHandshake}, which sends the first hello; {@link ClientHandshake13} changes the share (and may drop
 * the ticket) for the second one after a HelloRetryRequest. Every hello goes into {@link #transcript}.
 *
 * <p>The ClientHello is shared with TLS 1.2 when the config allows it: its suites, the extended master secret,
 * renegotiation_info, a kept TLS 1.2 session ID or ticket.
 */
final class ClientOffer {
    private static final SecureRandom RANDOM = new SecureRandom();

    final TlsConfig config;
    final Transcript transcript = new Transcript();
    final byte[] clientRandom = new byte[32];
    final byte[] sessionId;
    /** A kept TLS 1.2 session to offer (session ID and/or ticket), or null. */
    final Ticket resume12;
    /** The share for our first group (then the group a HelloRetryRequest asks for); null when TLS 1.3 is off. */
    NamedGroup.ClientShare share;
    /**
     * A second share in the first ClientHello: X25519 beside X25519MLKEM768 when both are listed (as browsers send
     * them), so a server without the hybrid answers at once instead of with a HelloRetryRequest.
     */
    NamedGroup.ClientShare fallbackShare;
    /** The TLS 1.3 ticket offered as a PSK, or null. */
    Ticket ticket;

    ClientOffer(TlsConfig config) {
        this.config = config;
        RANDOM.nextBytes(clientRandom);
        this.resume12 = usable(TlsVersion.TLS12);
        if (resume12 != null && resume12.sessionId().length > 0) {
            this.sessionId = resume12.sessionId().clone();
        } else {
            // middlebox compatibility (RFC 8446 D.4), or the ID that goes with a TLS 1.2 ticket (RFC 5077 section 3.4)
            this.sessionId = new byte[config.middleboxCompatibility() || resume12 != null ? 32 : 0];
            RANDOM.nextBytes(sessionId);
        }
    }

    /** The first ClientHello: a share for our first group (and X25519 beside the hybrid), the configured ticket when still good. */
    ClientHello first() {
        share = config.allows(TlsVersion.TLS13) ? config.groups().get(0).generate() : null;
        if (share != null && share.group() == NamedGroup.X25519MLKEM768 && config.groups().contains(NamedGroup.X25519)) {
            fallbackShare = NamedGroup.X25519.generate();
        }
        ticket = share != null ? usable(TlsVersion.TLS13) : null;
        if (ticket != null) {
            transcript.algorithm(ticket.suite());
        }
        return hello(null);
    }

    /**
     * A ClientHello with the current shares and ticket (and {@code cookie}, after a HelloRetryRequest), its PSK
     * binder computed over the transcript so far; the caller adds it to the transcript and sends it.
     */
    ClientHello hello(byte[] cookie) {
        Map<Integer, byte[]> ext = extensions(cookie);
        if (ticket == null) {
            return build(ext);
        }
        // pre_shared_key must be last; its binder covers the ClientHello up to the binders (RFC 8446 section 4.2.11.2).
        long age = (config.clock().millis() - ticket.receivedAt().toEpochMilli() + ticket.ageAdd()) & 0xffffffffL;
        byte[] identities = new Wire.Writer().vec16(ticket.ticket()).u32(age).toByteArray();
        int binderLength = ticket.suite().hkdfHash().length();
        ext.put(Extensions.PRE_SHARED_KEY, new Wire.Writer().vec16(identities).vec16(new Wire.Writer().vec8(new byte[binderLength])
                .toByteArray()).toByteArray());
        byte[] message = build(ext).encode();
        KeySchedule13 ks = KeySchedule13.of(ticket.suite());
        byte[] truncated = Arrays.copyOf(message, message.length - (2 + 1 + binderLength));
        byte[] binder = ks.finishedVerifyData(ks.binderKey(ks.earlySecret(ticket.psk()), true), transcript.hashWith(truncated));
        ext.put(Extensions.PRE_SHARED_KEY, new Wire.Writer().vec16(identities).vec16(new Wire.Writer().vec8(binder).toByteArray())
                .toByteArray());
        return build(ext);
    }

    private ClientHello build(Map<Integer, byte[]> ext) {
        List<Integer> suites = new ArrayList<>();
        for (TlsVersion v : config.versions()) {
            for (CipherSuite s : config.suites(v)) {
                suites.add(s.code());
            }
        }
        return ClientHello.of(0x0303, clientRandom, sessionId, suites, new byte[] {0}, ext);
    }

    private Map<Integer, byte[]> extensions(byte[] cookie) {
        Map<Integer, byte[]> ext = new LinkedHashMap<>();
        if (config.serverName() != null && !config.serverName().matches("[0-9.]+|.*:.*")) {
            byte[] name = config.serverName().getBytes(StandardCharsets.US_ASCII);
            ext.put(Extensions.SERVER_NAME, new Wire.Writer().vec16(new Wire.Writer().u8(0).vec16(name).toByteArray()).toByteArray());
        }
        Wire.Writer groups = new Wire.Writer();
        for (NamedGroup g : config.groups()) {
            groups.u16(g.code());
        }
        ext.put(Extensions.SUPPORTED_GROUPS, new Wire.Writer().vec16(groups.toByteArray()).toByteArray());
        ext.put(Extensions.SIGNATURE_ALGORITHMS, SignatureScheme.offeredList());
        if (!config.alpn().isEmpty()) {
            Wire.Writer protos = new Wire.Writer();
            for (String p : config.alpn()) {
                protos.vec8(p.getBytes(StandardCharsets.US_ASCII));
            }
            ext.put(Extensions.ALPN, new Wire.Writer().vec16(protos.toByteArray()).toByteArray());
        }
        Wire.Writer versions = new Wire.Writer();
        for (TlsVersion v : config.versions()) {
            versions.u16(v.code());
        }
        ext.put(Extensions.SUPPORTED_VERSIONS, new Wire.Writer().vec8(versions.toByteArray()).toByteArray());
        if (config.allows(TlsVersion.TLS12)) {
            // TLS 1.2 needs: the extended master secret (RFC 7627), secure renegotiation's empty
            // renegotiation_info (RFC 5746), and uncompressed points only (RFC 8422 section 5.1.2).
            ext.put(Extensions.EXTENDED_MASTER_SECRET, new byte[0]);
            ext.put(Extensions.RENEGOTIATION_INFO, new byte[] {0});
            ext.put(Extensions.EC_POINT_FORMATS, new byte[] {1, 0});
            // RFC 5077: our ticket, or an empty one to ask for a ticket
            ext.put(Extensions.SESSION_TICKET, resume12 != null ? resume12.ticket() : new byte[0]);
        }
        if (share != null) {
            ext.put(Extensions.PSK_KEY_EXCHANGE_MODES, new Wire.Writer().vec8(new byte[] {1}).toByteArray());
            if (cookie != null) {
                ext.put(Extensions.COOKIE, new Wire.Writer().vec16(cookie).toByteArray());
            }
            Wire.Writer entries = new Wire.Writer().u16(share.group().code()).vec16(share.keyExchange());
            if (fallbackShare != null) {
                entries.u16(fallbackShare.group().code()).vec16(fallbackShare.keyExchange());
            }
            ext.put(Extensions.KEY_SHARE, new Wire.Writer().vec16(entries.toByteArray()).toByteArray());
        }
        return ext;
    }

    /** The configured session for {@code version}, when that version is on, it is fresh and its suite is one we offer. */
    private Ticket usable(TlsVersion version) {
        Ticket t = config.resumeWith();
        if (t == null || !config.allows(version) || !config.suites(version).contains(t.suite())
                || !Objects.equals(t.serverName(), config.serverName())) {
            return null; // a ticket resumes only with the server name whose certificate it stands for
        }
        long ageMs = config.clock().millis() - t.receivedAt().toEpochMilli();
        return ageMs >= 0 && ageMs < t.lifetimeSeconds() * 1000 ? t : null;
    }
}
