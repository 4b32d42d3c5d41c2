package dev.keyway.tls.handshake;

import dev.keyway.tls.Alert;
import dev.keyway.tls.TlsException;

import java.security.PrivateKey;
import java.security.PublicKey;

/** CertificateVerify (RFC 8446 section 4.4.3): the scheme and a signature over the transcript hash. */
final class CertificateVerifyMessage {
    private CertificateVerifyMessage() {
    }

    static void verify(byte[] body, PublicKey key, boolean server, byte[] transcriptHash) {
        Wire.Reader r = new Wire.Reader(body);
        int code = r.u16();
        byte[] signature = r.vec16();
        r.end("CertificateVerify");
        SignatureScheme scheme = SignatureScheme.ofCode(code);
        if (scheme == null || !scheme.forHandshake()) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, String.format("CertificateVerify with signature scheme 0x%04X", code));
        }
        if (!scheme.fits(key)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "CertificateVerify scheme " + scheme + " does not fit the certificate's key");
        }
        if (!scheme.verify(key, SignatureScheme.certificateVerifyContent(server, transcriptHash), signature)) {
            throw TlsException.fatal(Alert.DECRYPT_ERROR, "the " + (server ? "server" : "client") + "'s CertificateVerify signature does not verify");
        }
    }

    static byte[] sign(PrivateKey key, boolean server, byte[] transcriptHash) {
        SignatureScheme scheme = SignatureScheme.forKey(key);
        if (scheme == null) {
            throw TlsException.fatal(Alert.INTERNAL_ERROR, "no signature scheme for a " + key.getAlgorithm() + " key");
        }
        byte[] sig = scheme.sign(key, SignatureScheme.certificateVerifyContent(server, transcriptHash));
        return new Wire.Writer().u16(scheme.code()).vec16(sig).toByteArray();
    }
}
