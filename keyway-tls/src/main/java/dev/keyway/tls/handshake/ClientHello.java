package dev.keyway.tls.handshake;

import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ClientHello (RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2): the fields as sent ({@code legacyVersion},
 * {@code random}, {@code sessionId}, {@code suites}, {@code compression}, {@code extensions} in their order),
 * and what a server reads from the extensions, decoded once. {@link #parse} is a server's (bounded, every
 * refusal with its alert); {@link #of} is a client's, for a hello it builds itself.
 */
public record ClientHello(int legacyVersion, byte[] random, byte[] sessionId, List<Integer> suites, List<Integer> groups,
                          Map<NamedGroup, byte[]> shares, List<Integer> signatureSchemes, String serverName, List<String> alpn,
                          List<Integer> pskModes, List<byte[]> pskIdentities, List<byte[]> binders, int bindersLength,
                          List<Integer> versions, byte[] compression, Map<Integer, byte[]> extensions) implements HandshakeMessage {

    /** The offered PSKs of a pre_shared_key extension and the length of its binders (with their 16-bit length). */
    private record Psk(List<byte[]> identities, List<byte[]> binders, int bindersLength) {
    }

    /** What TLS 1.3 requires of a ClientHello that TLS 1.2 does not (RFC 8446 sections 4.1.2 and 9.2). */
    void checkTls13() {
        if (compression.length != 1 || compression[0] != 0) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "TLS 1.3 allows only the null compression method");
        }
        // RFC 8446 section 9.2: supported_groups and key_share come together; without pre_shared_key a
        // ClientHello needs both them and signature_algorithms. (A PSK-only hello we cannot resume ends in
        // handshake_failure: we share no key exchange with it.)
        boolean psk = extensions.containsKey(Extensions.PRE_SHARED_KEY);
        if (extensions.containsKey(Extensions.SUPPORTED_GROUPS) != extensions.containsKey(Extensions.KEY_SHARE)) {
            throw TlsException.fatal(Alert.MISSING_EXTENSION, "the ClientHello has "
                    + (extensions.containsKey(Extensions.KEY_SHARE) ? "key_share without supported_groups" : "supported_groups without key_share"));
        }
        if (!psk && !extensions.containsKey(Extensions.KEY_SHARE)) {
            throw TlsException.fatal(Alert.MISSING_EXTENSION, "the ClientHello has no key_share");
        }
        if (!psk && !extensions.containsKey(Extensions.SIGNATURE_ALGORITHMS)) {
            throw TlsException.fatal(Alert.MISSING_EXTENSION, "the ClientHello has no signature_algorithms");
        }
        // Groups in the obsolete_RESERVED ranges "MUST NOT be offered or negotiated by TLS 1.3 implementations"
        // (section 4.2.7). Keyway never negotiates them, and ignores them when offered, as it ignores every group
        // it does not know: clients that speak 1.2 and 1.3 list groups for either, and tlsfuzzer's
        // no-unknown-groups wants exactly that. A hello with nothing else gets handshake_failure (section 4.1.1).
    }

    boolean offers(TlsVersion v) {
        return versions.contains(v.code());
    }

    /** A ClientHello's body, as a server reads it: the whole message is checked before anything in it is used. */
    public static ClientHello parse(byte[] body) {
        Wire.Reader r = new Wire.Reader(body);
        int legacyVersion = r.u16();
        if (legacyVersion <= 0x0300) {
            // SSL 3.0 and older (or garbage) is refused whatever supported_versions says (RFC 8446 appendix D.5).
            throw TlsException.fatal(Alert.PROTOCOL_VERSION, String.format("a ClientHello with legacy_version 0x%04X", legacyVersion));
        }
        byte[] random = r.bytes(32);
        byte[] sid = r.vec8();
        if (sid.length > 32) {
            // a vector over its bound: out of the specified range (RFC 8446 section 6.2, RFC 5246 section 7.4.1.2)
            throw TlsException.fatal(Alert.DECODE_ERROR, "a legacy session id over 32 bytes");
        }
        List<Integer> suites = u16s(r.vec16());
        byte[] compression = r.vec8();
        Map<Integer, byte[]> ext = r.remaining() > 0 ? Extensions.parse(r.vec16()) : Map.of();
        r.end("ClientHello");
        // What the hello says is judged once it decodes as a whole: a wrong length is a decode_error first, and
        // so are the empty lists RFC 5246 section 7.4.1.2 forbids (cipher_suites<2..>, compression_methods<1..>).
        if (suites.isEmpty() || compression.length == 0) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "a ClientHello with no " + (suites.isEmpty() ? "cipher suites" : "compression methods"));
        }
        boolean nullCompression = false;
        for (byte c : compression) {
            nullCompression |= c == 0;
        }
        if (!nullCompression) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the ClientHello lacks the null compression method");
        }
        ClientHelloChecks.check(ext);
        return of(legacyVersion, random, sid, suites, compression, ext);
    }

    /**
     * A ClientHello of these fields, with what the extensions say decoded (a client's own hello; {@link #parse}
     * checks a peer's first). Extensions keep the map's order.
     */
    static ClientHello of(int legacyVersion, byte[] random, byte[] sid, List<Integer> suites, byte[] compression, Map<Integer, byte[]> ext) {
        byte[] sv = ext.get(Extensions.SUPPORTED_VERSIONS);
        // Without supported_versions, legacy_version is the highest version the client speaks (RFC 5246 E.1).
        List<Integer> versions = sv != null ? u16s(whole8(sv, "supported_versions"))
                : legacyVersion >= 0x0303 ? List.of(0x0303) : List.of(legacyVersion);
        List<Integer> groups = ext.containsKey(Extensions.SUPPORTED_GROUPS)
                ? u16s(whole16(ext.get(Extensions.SUPPORTED_GROUPS), "supported_groups")) : List.of();
        Map<NamedGroup, byte[]> shares = shares(ext, groups);
        byte[] sa = ext.getOrDefault(Extensions.SIGNATURE_ALGORITHMS, new byte[] {0, 0});
        List<Integer> schemes = u16s(whole16(sa, "signature_algorithms"));
        if (ext.containsKey(Extensions.SIGNATURE_ALGORITHMS) && schemes.isEmpty()) {
            // supported_signature_algorithms<2..2^16-2>: an empty list does not decode (RFC 8446 section 4.2.3).
            throw TlsException.fatal(Alert.DECODE_ERROR, "an empty signature_algorithms list");
        }
        String name = serverName(ext.get(Extensions.SERVER_NAME));
        List<String> alpn = alpn(ext.get(Extensions.ALPN));
        List<Integer> modes = new ArrayList<>();
        byte[] pm = ext.get(Extensions.PSK_KEY_EXCHANGE_MODES);
        if (pm != null) {
            for (byte b : whole8(pm, "psk_key_exchange_modes")) {
                modes.add(b & 0xff);
            }
        }
        Psk psk = psk(ext);
        return new ClientHello(legacyVersion, random, sid, suites, groups, shares, schemes, name, alpn, modes, psk.identities(), psk.binders(),
                psk.bindersLength(), versions, compression, ext);
    }

    private static Map<NamedGroup, byte[]> shares(Map<Integer, byte[]> ext, List<Integer> groups) {
        Map<NamedGroup, byte[]> shares = new LinkedHashMap<>();
        byte[] ks = ext.getOrDefault(Extensions.KEY_SHARE, new byte[] {0, 0});
        Wire.Reader entries = new Wire.Reader(whole16(ks, "key_share"));
        while (entries.remaining() > 0) {
            int code = entries.u16();
            byte[] key = entries.vec16();
            NamedGroup g = NamedGroup.ofCode(code);
            if (!groups.contains(code)) {
                throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "a key share for a group not in supported_groups");
            }
            if (g != null && shares.put(g, key) != null) {
                throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "two key shares for one group");
            }
        }
        return shares;
    }

    private static String serverName(byte[] sni) {
        String name = null;
        if (sni != null) {
            Wire.Reader list = new Wire.Reader(whole16(sni, "server_name"));
            while (list.remaining() > 0) {
                int type = list.u8();
                byte[] n = list.vec16();
                if (type == 0) {
                    name = new String(n, StandardCharsets.US_ASCII);
                }
            }
        }
        return name;
    }

    private static List<String> alpn(byte[] a) {
        List<String> alpn = new ArrayList<>();
        if (a != null) {
            Wire.Reader list = new Wire.Reader(whole16(a, "application_layer_protocol_negotiation"));
            while (list.remaining() > 0) {
                alpn.add(new String(list.vec8(), StandardCharsets.US_ASCII));
            }
        }
        return alpn;
    }

    private static Psk psk(Map<Integer, byte[]> ext) {
        List<byte[]> identities = new ArrayList<>();
        List<byte[]> binders = new ArrayList<>();
        byte[] psk = ext.get(Extensions.PRE_SHARED_KEY);
        if (psk == null) {
            return new Psk(identities, binders, 0);
        }
        int last = -1;
        for (int type : ext.keySet()) {
            last = type;
        }
        if (last != Extensions.PRE_SHARED_KEY) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "pre_shared_key is not the last extension");
        }
        if (!ext.containsKey(Extensions.PSK_KEY_EXCHANGE_MODES)) {
            throw TlsException.fatal(Alert.MISSING_EXTENSION, "pre_shared_key without psk_key_exchange_modes");
        }
        Wire.Reader p = new Wire.Reader(psk);
        Wire.Reader ids = new Wire.Reader(p.vec16());
        while (ids.remaining() > 0) {
            identities.add(ids.vec16());
            ids.u32(); // obfuscated_ticket_age: only 0-RTT needs it, and Keyway does no 0-RTT
        }
        byte[] bl = p.vec16();
        p.end("pre_shared_key");
        Wire.Reader b = new Wire.Reader(bl);
        while (b.remaining() > 0) {
            binders.add(b.vec8());
        }
        if (identities.isEmpty() || identities.size() != binders.size()) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "pre_shared_key has " + identities.size() + " identities and "
                    + binders.size() + " binders");
        }
        return new Psk(identities, binders, 2 + bl.length);
    }

    /** An extension that is one vector with a 16-bit length and nothing after it (else decode_error). */
    private static byte[] whole16(byte[] extension, String name) {
        Wire.Reader r = new Wire.Reader(extension);
        byte[] v = r.vec16();
        r.end(name);
        return v;
    }

    /** An extension that is one vector with an 8-bit length and nothing after it (else decode_error). */
    private static byte[] whole8(byte[] extension, String name) {
        Wire.Reader r = new Wire.Reader(extension);
        byte[] v = r.vec8();
        r.end(name);
        return v;
    }

    private static List<Integer> u16s(byte[] data) {
        if (data.length % 2 != 0) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "a list of 16-bit values with an odd length");
        }
        List<Integer> out = new ArrayList<>();
        Wire.Reader r = new Wire.Reader(data);
        while (r.remaining() > 0) {
            out.add(r.u16());
        }
        return out;
    }

    @Override
    public int type() {
        return HandshakeIo.CLIENT_HELLO;
    }

    /** The body; an extensions block is written when there are extensions (a hello sent with an empty block re-encodes without it). */
    @Override
    public byte[] body() {
        Wire.Writer s = new Wire.Writer();
        for (int suite : suites) {
            s.u16(suite);
        }
        Wire.Writer w = new Wire.Writer().u16(legacyVersion).bytes(random).vec8(sessionId).vec16(s.toByteArray()).vec8(compression);
        return extensions.isEmpty() ? w.toByteArray() : w.vec16(Extensions.encode(extensions)).toByteArray();
    }
}
