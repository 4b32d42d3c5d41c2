package dev.keyway.tls.handshake;

import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Extension codes (RFC 8446 section 4.2) and a parser that refuses duplicates. */
final class Extensions {
    static final String LEGACY_PEERS = "allow such old peers (TlsConfig.Builder.legacyNoExtendedMasterSecret)";

    static final int SERVER_NAME = 0;
    static final int SUPPORTED_GROUPS = 10;
    static final int EC_POINT_FORMATS = 11;
    static final int SIGNATURE_ALGORITHMS = 13;
    static final int ALPN = 16;
    static final int PADDING = 21;
    static final int EXTENDED_MASTER_SECRET = 23;
    static final int SESSION_TICKET = 35;
    static final int PRE_SHARED_KEY = 41;
    static final int EARLY_DATA = 42;
    static final int SUPPORTED_VERSIONS = 43;
    static final int COOKIE = 44;
    static final int PSK_KEY_EXCHANGE_MODES = 45;
    static final int KEY_SHARE = 51;
    static final int RENEGOTIATION_INFO = 0xff01;

    private Extensions() {
    }

    /** Parses an extensions block (without its length prefix) into type -> data, in order. */
    static Map<Integer, byte[]> parse(byte[] block) {
        Map<Integer, byte[]> out = new LinkedHashMap<>();
        Wire.Reader r = new Wire.Reader(block);
        while (r.remaining() > 0) {
            int type = r.u16();
            byte[] data = r.vec16();
            if (out.put(type, data) != null) {
                throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "extension " + type + " appears twice");
            }
        }
        return out;
    }

    static void add(Wire.Writer w, int type, byte[] data) {
        w.u16(type).vec16(data);
    }

    /** The ALPN extension's data naming the one protocol chosen (RFC 7301 section 3.1): a server's answer. */
    static byte[] alpn(String chosen) {
        return new Wire.Writer().vec16(new Wire.Writer().vec8(chosen.getBytes(StandardCharsets.US_ASCII)).toByteArray())
                .toByteArray();
    }

    /** An extensions block (without its length prefix) in the map's order: what {@link #parse} reads back. */
    static byte[] encode(Map<Integer, byte[]> extensions) {
        Wire.Writer w = new Wire.Writer();
        extensions.forEach((type, data) -> add(w, type, data));
        return w.toByteArray();
    }

    /**
     * Whether the peer uses the extended master secret, from its extension's data (null: absent); without it, a
     * refusal that names the cause and the flag, unless the config allows old peers (RFC 7627 section 5.2).
     */
    static boolean extendedMasterSecret(TlsConfig config, byte[] extension, String peer) {
        if (extension != null) {
            if (extension.length != 0) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "the " + peer + "'s extended_master_secret extension is not empty (RFC 7627 section 5.1)");
            }
            return true;
        }
        if (!config.legacyNoExtendedMasterSecret()) {
            throw TlsException.refused(Alert.HANDSHAKE_FAILURE, "the peer does not offer the extended master secret (RFC 7627), "
                    + "which Keyway's TLS 1.2 requires", LEGACY_PEERS).hintId(TlsConfig.HINT_LEGACY_NO_EMS);
        }
        return false;
    }
}
