package dev.keyway.tls.handshake;

import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;

import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * The Certificate message, leaf first: TLS 1.3's (RFC 8446 section 4.4.2: a request context, and extensions per
 * certificate, kept as sent but not read) and TLS 1.2's (RFC 5246 section 7.4.2: the bare list; {@code context}
 * and {@code extensions} are null).
 */
record CertificateMessage(byte[] context, List<byte[]> certificates, List<byte[]> extensions) implements HandshakeMessage {
    CertificateMessage {
        certificates = List.copyOf(certificates);
        extensions = extensions == null ? null : List.copyOf(extensions);
    }

    /**
     * TLS 1.3's; {@code expectedContext} (null: any) is the request context we sent, checked before the rest so a
     * wrong one is an illegal_parameter alert.
     */
    static CertificateMessage parse13(byte[] body, boolean emptyAllowed, byte[] expectedContext) {
        Wire.Reader r = new Wire.Reader(body);
        byte[] context = r.vec8();
        if (expectedContext != null && !Arrays.equals(context, expectedContext)) {
            // We sent an empty certificate_request_context; the client must echo it (RFC 8446 section 4.4.2).
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the client's Certificate has a request context we did not send");
        }
        List<byte[]> extensions = new ArrayList<>();
        List<byte[]> chain = list(r, emptyAllowed, extensions);
        return new CertificateMessage(context, chain, extensions);
    }

    static CertificateMessage parse12(byte[] body, boolean emptyAllowed) {
        return new CertificateMessage(null, list(new Wire.Reader(body), emptyAllowed, null), null);
    }

    private static List<byte[]> list(Wire.Reader r, boolean emptyAllowed, List<byte[]> extensions) {
        Wire.Reader list = new Wire.Reader(r.vec24());
        r.end("Certificate");
        List<byte[]> out = new ArrayList<>();
        while (list.remaining() > 0) {
            byte[] der = list.vec24();
            if (der.length == 0) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "an empty certificate in the chain");
            }
            if (extensions != null) {
                extensions.add(list.vec16()); // per-certificate extensions (OCSP, SCT): not used
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

    /** TLS 1.3's, for our chain (no per-certificate extensions). */
    static CertificateMessage of13(byte[] context, List<X509Certificate> chain) {
        List<byte[]> ders = ders(chain);
        return new CertificateMessage(context, ders, Collections.nCopies(ders.size(), new byte[0]));
    }

    static CertificateMessage of12(List<X509Certificate> chain) {
        return new CertificateMessage(null, ders(chain), null);
    }

    private static List<byte[]> ders(List<X509Certificate> chain) {
        List<byte[]> out = new ArrayList<>();
        try {
            for (X509Certificate c : chain) {
                out.add(c.getEncoded());
            }
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    @Override
    public int type() {
        return HandshakeIo.CERTIFICATE;
    }

    @Override
    public byte[] body() {
        Wire.Writer list = new Wire.Writer();
        for (int i = 0; i < certificates.size(); i++) {
            list.vec24(certificates.get(i));
            if (extensions != null) {
                list.vec16(extensions.get(i));
            }
        }
        Wire.Writer w = new Wire.Writer();
        if (context != null) {
            w.vec8(context);
        }
        return w.vec24(list.toByteArray()).toByteArray();
    }
}
