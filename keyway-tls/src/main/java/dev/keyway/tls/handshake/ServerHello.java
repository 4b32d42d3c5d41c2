package dev.keyway.tls.handshake;

import dev.keyway.core.encoding.Hex;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * ServerHello (RFC 8446 section 4.1.3, RFC 5246 section 7.4.1.3), and HelloRetryRequest, which is a ServerHello
 * with {@link #HRR_RANDOM} as its random. The record holds the fields as sent; what TLS 1.3 reads from the
 * extensions (the selected version, the key share or the group asked for, the cookie, the selected PSK) is
 * checked once by {@link #parse} and read by the methods below. {@code extensionBlock} says whether the hello
 * had an extensions block at all (a TLS 1.2 ServerHello may have none).
 */
public record ServerHello(int legacyVersion, byte[] random, byte[] sessionIdEcho, int suite, Map<Integer, byte[]> extensions,
                          boolean extensionBlock) implements HandshakeMessage {
    /** TLS 1.3's supported_versions value (RFC 8446 section 4.2.1). */
    static final int TLS13 = 0x0304;
    /** The random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest" (RFC 8446 section 4.1.3). */
    static final byte[] HRR_RANDOM = Hex.decode("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c", "HRR random");
    /** The last 8 bytes of a TLS 1.3-capable server's random when it negotiates TLS 1.2 (RFC 8446 section 4.1.3). */
    static final byte[] DOWNGRADE_TLS12 = {0x44, 0x4F, 0x57, 0x4E, 0x47, 0x52, 0x44, 0x01};

    public ServerHello {
        extensions = Collections.unmodifiableMap(new LinkedHashMap<>(extensions));
    }

    /**
     * A ServerHello's body; a bad field is a decode_error (or illegal_parameter for a compression method). A TLS 1.3
     * ServerHello without a key share (a PSK-only mode, psk_ke) is read: passive decryption sees such handshakes
     * between other peers; our client refuses it ({@link #parseAsClient}).
     */
    public static ServerHello parse(byte[] body) {
        return parse(body, false);
    }

    /** {@link #parse}, as our client reads it: it offers no PSK-only mode, so a TLS 1.3 hello needs a key share. */
    static ServerHello parseAsClient(byte[] body) {
        return parse(body, true);
    }

    private static ServerHello parse(byte[] body, boolean keyShareRequired) {
        Wire.Reader r = new Wire.Reader(body);
        int legacy = r.u16();
        byte[] random = r.bytes(32);
        byte[] sid = r.vec8();
        int suite = r.u16();
        if (r.u8() != 0) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the ServerHello has a compression method");
        }
        boolean block = r.remaining() > 0;
        Map<Integer, byte[]> ext = block ? Extensions.parse(r.vec16()) : Map.of();
        r.end("ServerHello");
        ServerHello hello = new ServerHello(legacy, random, sid, suite, ext, block);
        hello.check(keyShareRequired);
        return hello;
    }

    /** A TLS 1.3 ServerHello: our share of {@code group}, and the index of the PSK we accepted (-1: none). */
    static ServerHello tls13(byte[] random, byte[] sessionId, int suite, NamedGroup group, byte[] keyExchange, int pskIndex) {
        return tls13(random, sessionId, suite, new Wire.Writer().u16(group.code()).vec16(keyExchange).toByteArray(), pskIndex);
    }

    /** A HelloRetryRequest asking for a share of {@code group}. */
    static ServerHello retryRequest(byte[] sessionId, int suite, NamedGroup group) {
        return tls13(HRR_RANDOM, sessionId, suite, new Wire.Writer().u16(group.code()).toByteArray(), -1);
    }

    private static ServerHello tls13(byte[] random, byte[] sessionId, int suite, byte[] keyShare, int pskIndex) {
        Map<Integer, byte[]> ext = new LinkedHashMap<>();
        ext.put(Extensions.SUPPORTED_VERSIONS, new Wire.Writer().u16(TLS13).toByteArray());
        ext.put(Extensions.KEY_SHARE, keyShare);
        if (pskIndex >= 0) {
            ext.put(Extensions.PRE_SHARED_KEY, new Wire.Writer().u16(pskIndex).toByteArray());
        }
        return new ServerHello(0x0303, random, sessionId, suite, ext, true);
    }

    /** Whether this is a HelloRetryRequest. */
    public boolean retry() {
        return Arrays.equals(random, HRR_RANDOM);
    }

    /** The version chosen: supported_versions when present (TLS 1.3), else legacy_version. */
    public int selectedVersion() {
        byte[] sv = extensions.get(Extensions.SUPPORTED_VERSIONS);
        if (sv == null) {
            return legacyVersion;
        }
        Wire.Reader v = new Wire.Reader(sv);
        int version = v.u16();
        v.end("supported_versions");
        return version;
    }

    /** The group of the server's key share (null: none, or a HelloRetryRequest); unknown groups are null too. */
    public NamedGroup keyShareGroup() {
        byte[] ks = extensions.get(Extensions.KEY_SHARE);
        return ks == null || retry() ? null : NamedGroup.ofCode(new Wire.Reader(ks).u16());
    }

    /** The server's key_exchange (null: none, or a HelloRetryRequest). */
    public byte[] keyShare() {
        byte[] ks = extensions.get(Extensions.KEY_SHARE);
        if (ks == null || retry()) {
            return null;
        }
        Wire.Reader k = new Wire.Reader(ks);
        k.u16();
        return k.vec16();
    }

    /** The group a HelloRetryRequest asks for (null otherwise, or unknown). */
    public NamedGroup selectedGroup() {
        byte[] ks = extensions.get(Extensions.KEY_SHARE);
        return ks == null || !retry() ? null : NamedGroup.ofCode(new Wire.Reader(ks).u16());
    }

    /** A HelloRetryRequest's cookie, or null. */
    public byte[] cookie() {
        byte[] c = extensions.get(Extensions.COOKIE);
        return c == null ? null : new Wire.Reader(c).vec16();
    }

    /** The index of the PSK the server selected, or -1. */
    public int pskSelected() {
        byte[] p = extensions.get(Extensions.PRE_SHARED_KEY);
        return p == null ? -1 : new Wire.Reader(p).u16();
    }

    /** The shape of the extensions TLS 1.3 reads: each exactly its fields (decode_error), a key share when TLS 1.3 needs one. */
    private void check(boolean keyShareRequired) {
        int version = selectedVersion();
        byte[] ks = extensions.get(Extensions.KEY_SHARE);
        if (ks != null) {
            Wire.Reader k = new Wire.Reader(ks);
            k.u16();
            if (!retry()) {
                k.vec16();
            }
            k.end("key_share");
        } else if (version == TLS13 && keyShareRequired) {
            throw TlsException.fatal(Alert.MISSING_EXTENSION, "the ServerHello has no key_share (PSK-only modes are not offered)");
        }
        exactly(Extensions.COOKIE, "cookie", true);
        exactly(Extensions.PRE_SHARED_KEY, "pre_shared_key", false);
    }

    private void exactly(int type, String name, boolean vector) {
        byte[] data = extensions.get(type);
        if (data != null) {
            Wire.Reader k = new Wire.Reader(data);
            if (vector) {
                k.vec16();
            } else {
                k.u16();
            }
            k.end(name);
        }
    }

    @Override
    public int type() {
        return HandshakeIo.SERVER_HELLO;
    }

    @Override
    public byte[] body() {
        Wire.Writer w = new Wire.Writer().u16(legacyVersion).bytes(random).vec8(sessionIdEcho).u16(suite).u8(0);
        return extensionBlock ? w.vec16(Extensions.encode(extensions)).toByteArray() : w.toByteArray();
    }
}
