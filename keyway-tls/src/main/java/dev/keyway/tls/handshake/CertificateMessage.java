package dev.keyway.tls.handshake;

import dev.keyway.tls.Alert;
import dev.keyway.tls.TlsException;

import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * The Certificate message, leaf first: TLS 1.3's (RFC 8446 section 4.4.2: a request context, and extensions
 * per certificate) and TLS 1.2's (RFC 5246 section 7.4.2: the bare list).
 */
final class CertificateMessage {
    private CertificateMessage() {
    }

    static List<byte[]> parse(byte[] body, boolean emptyAllowed) {
        return parse(body, emptyAllowed, true);
    }

    static List<byte[]> parse12(byte[] body, boolean emptyAllowed) {
        return parse(body, emptyAllowed, false);
    }

    private static List<byte[]> parse(byte[] body, boolean emptyAllowed, boolean tls13) {
        Wire.Reader r = new Wire.Reader(body);
        if (tls13) {
            r.vec8(); // certificate_request_context
        }
        Wire.Reader list = new Wire.Reader(r.vec24());
        r.end("Certificate");
        List<byte[]> out = new ArrayList<>();
        while (list.remaining() > 0) {
            byte[] der = list.vec24();
            if (der.length == 0) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "an empty certificate in the chain");
            }
            if (tls13) {
                list.vec16(); // per-certificate extensions (OCSP, SCT): not used
            }
            out.add(der);
            if (out.size() > PeerCertificates.MAX_CHAIN) {
                throw TlsException.fatal(Alert.BAD_CERTIFICATE, "a certificate chain longer than " + PeerCertificates.MAX_CHAIN);
            }
        }
        if (out.isEmpty() && !emptyAllowed) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "the server sent no certificate");
        }
        return out;
    }

    static byte[] encode(byte[] context, List<X509Certificate> chain) {
        return new Wire.Writer().vec8(context).vec24(list(chain, true)).toByteArray();
    }

    static byte[] encode12(List<X509Certificate> chain) {
        return new Wire.Writer().vec24(list(chain, false)).toByteArray();
    }

    private static byte[] list(List<X509Certificate> chain, boolean tls13) {
        Wire.Writer list = new Wire.Writer();
        try {
            for (X509Certificate c : chain) {
                list.vec24(c.getEncoded());
                if (tls13) {
                    list.vec16(new byte[0]);
                }
            }
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
        return list.toByteArray();
    }
}
