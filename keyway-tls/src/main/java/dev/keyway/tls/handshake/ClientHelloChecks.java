package dev.keyway.tls.handshake;

import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The exact shape of the ClientHello extensions a server reads, checked once before anything uses them: each
 * vector within its length bounds and with nothing after it, or a decode_error; contents that are well formed
 * but not allowed, an illegal_parameter. The parser of {@link ClientHello} reads leniently
 * (it takes what it needs); this is where the RFCs' bounds are enforced, for TLS 1.3 and 1.2 alike.
 */
final class ClientHelloChecks {
    private ClientHelloChecks() {
    }

    /** Checks every extension Keyway reads that is present in {@code extensions}. */
    static void check(Map<Integer, byte[]> extensions) {
        byte[] sni = extensions.get(Extensions.SERVER_NAME);
        if (sni != null) {
            serverName(sni);
        }
        byte[] groups = extensions.get(Extensions.SUPPORTED_GROUPS);
        if (groups != null) {
            // NamedGroup named_group_list<2..2^16-1> (RFC 8422 section 5.1.1, RFC 8446 section 4.2.7)
            u16List(groups, "supported_groups");
        }
        byte[] sigs = extensions.get(Extensions.SIGNATURE_ALGORITHMS);
        if (sigs != null) {
            // SignatureScheme supported_signature_algorithms<2..2^16-2> (RFC 5246 section 7.4.1.4.1, RFC 8446 section 4.2.3)
            u16List(sigs, "signature_algorithms");
        }
        byte[] alpn = extensions.get(Extensions.ALPN);
        if (alpn != null) {
            alpn(alpn);
        }
    }

    /**
     * The extensions only TLS 1.2 reads (ec_point_formats, renegotiation_info), checked once TLS 1.2 is chosen: a
     * TLS 1.3 server ignores them, whatever they hold (tlsfuzzer test-tls13-large-number-of-extensions sends them
     * with random payloads).
     */
    static void checkTls12(Map<Integer, byte[]> extensions) {
        byte[] formats = extensions.get(Extensions.EC_POINT_FORMATS);
        if (formats != null) {
            pointFormats(formats);
        }
        byte[] reneg = extensions.get(Extensions.RENEGOTIATION_INFO);
        if (reneg != null) {
            // opaque renegotiated_connection<0..255> (RFC 5746 section 3.2)
            Wire.Reader r = new Wire.Reader(reneg);
            r.vec8();
            r.end("renegotiation_info");
        }
    }

    /**
     * server_name (RFC 6066 section 3): ServerName server_name_list<1..2^16-1>, each a name_type and a
     * HostName<1..2^16-1>; at most one name of a type; a host name is ASCII (a DNS name, no control characters,
     * no NUL that would cut it short elsewhere).
     */
    private static void serverName(byte[] data) {
        Wire.Reader outer = new Wire.Reader(data);
        byte[] list = outer.vec16();
        outer.end("server_name");
        if (list.length == 0) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "an empty server_name list (RFC 6066 section 3)");
        }
        Wire.Reader r = new Wire.Reader(list);
        Set<Integer> types = new HashSet<>();
        while (r.remaining() > 0) {
            int type = r.u8();
            byte[] name = r.vec16();
            if (name.length == 0) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "an empty name in server_name (RFC 6066 section 3)");
            }
            if (!types.add(type)) {
                throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "server_name holds two names of type " + type + " (RFC 6066 section 3)");
            }
            if (type == 0) {
                for (byte b : name) {
                    if (b < 0x21 || b > 0x7e) {
                        throw TlsException.fatal(Alert.ILLEGAL_PARAMETER,
                                "the server_name host name has a byte that is not printable ASCII (RFC 6066 section 3)");
                    }
                }
            }
        }
    }

    /** ECPointFormat ec_point_format_list<1..2^8-1> (RFC 8422 section 5.1.2). */
    private static void pointFormats(byte[] data) {
        Wire.Reader r = new Wire.Reader(data);
        byte[] list = r.vec8();
        r.end("ec_point_formats");
        if (list.length == 0) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "an empty ec_point_formats list (RFC 8422 section 5.1.2)");
        }
    }

    /** Whether a well-formed ec_point_formats extension lists the uncompressed format (0), the only one Keyway uses. */
    static boolean offersUncompressedPoints(byte[] data) {
        for (byte f : new Wire.Reader(data).vec8()) {
            if (f == 0) {
                return true;
            }
        }
        return false;
    }

    /** ProtocolName protocol_name_list<2..2^16-1>, each ProtocolName<1..2^8-1> (RFC 7301 section 3.1). */
    private static void alpn(byte[] data) {
        Wire.Reader outer = new Wire.Reader(data);
        byte[] list = outer.vec16();
        outer.end("application_layer_protocol_negotiation");
        if (list.length == 0) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "an empty ALPN protocol list (RFC 7301 section 3.1)");
        }
        Wire.Reader r = new Wire.Reader(list);
        while (r.remaining() > 0) {
            if (r.vec8().length == 0) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "an empty ALPN protocol name (RFC 7301 section 3.1)");
            }
        }
    }

    /** A list of 16-bit values in a vector of 2 to 2^16-2 bytes, and nothing after it. */
    private static void u16List(byte[] data, String what) {
        Wire.Reader r = new Wire.Reader(data);
        byte[] list = r.vec16();
        r.end(what);
        if (list.length == 0 || list.length % 2 != 0) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "a " + what + " list of " + list.length + " bytes");
        }
    }
}
