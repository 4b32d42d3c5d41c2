package dev.keyway.tls.handshake;

import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;

import java.security.PrivateKey;
import java.security.PublicKey;

/**
 * CertificateVerify: the scheme and a signature; in TLS 1.3 over the transcript hash (RFC 8446 section 4.4.3),
 * in TLS 1.2 over the handshake messages (RFC 5246 section 7.4.8), the same two fields on the wire.
 */
record CertificateVerifyMessage(int scheme, byte[] signature) implements HandshakeMessage {
    static CertificateVerifyMessage parse(byte[] body) {
        Wire.Reader r = new Wire.Reader(body);
        int code = r.u16();
        byte[] signature = r.vec16();
        r.end("CertificateVerify");
        return new CertificateVerifyMessage(code, signature);
    }

    /** TLS 1.3: the scheme must be one for handshakes that fits {@code key}, and the signature must verify. */
    void verify13(PublicKey key, boolean server, byte[] transcriptHash) {
        SignatureScheme s = SignatureScheme.ofCode(scheme);
        if (s == null || !s.forHandshake()) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, String.format("CertificateVerify with signature scheme 0x%04X", scheme));
        }
        if (!s.fits(key)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "CertificateVerify scheme " + s + " does not fit the certificate's key");
        }
        if (!s.verify(key, SignatureScheme.certificateVerifyContent(server, transcriptHash), signature)) {
            throw TlsException.fatal(Alert.DECRYPT_ERROR, "the " + (server ? "server" : "client") + "'s CertificateVerify signature does not verify");
        }
    }

    /** TLS 1.3: our signature over the transcript hash, with the scheme of our key. */
    static CertificateVerifyMessage sign13(PrivateKey key, boolean server, byte[] transcriptHash) {
        SignatureScheme scheme = SignatureScheme.forKey(key);
        if (scheme == null) {
            throw TlsException.fatal(Alert.INTERNAL_ERROR, "no signature scheme for a " + key.getAlgorithm() + " key");
        }
        return new CertificateVerifyMessage(scheme.code(), scheme.sign(key, SignatureScheme.certificateVerifyContent(server, transcriptHash)));
    }

    @Override
    public int type() {
        return HandshakeIo.CERTIFICATE_VERIFY;
    }

    @Override
    public byte[] body() {
        return new Wire.Writer().u16(scheme).vec16(signature).toByteArray();
    }
}
