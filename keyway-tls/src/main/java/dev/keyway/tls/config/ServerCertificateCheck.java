package dev.keyway.tls.config;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.TlsVersion;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A client's own decision on a server's certificate chain, in place of Keyway's path validation to the trust
 * anchors and its host name check (as Go's {@code InsecureSkipVerify} with {@code VerifyPeerCertificate}): for a
 * caller that brings its own verifier, such as a JSSE {@code X509TrustManager}. Everything about the chain (path,
 * dates, key usage, the host name) is then the check's to decide; the handshake still checks that the leaf's key
 * signed the handshake (CertificateVerify, or the TLS 1.2 ServerKeyExchange).
 *
 * <p>It runs during the handshake, before the client's Finished and before any application data, on the
 * connection's thread. A resumed session is not checked again (its chain was checked when it was made).
 */
@FunctionalInterface
public interface ServerCertificateCheck {
    /**
     * Accepts the server's chain (leaf first, never empty, parsed but not validated) by returning, or refuses it
     * by throwing; the handshake then ends with a bad_certificate alert whose text is the exception's message.
     *
     * @param version the negotiated version
     * @param suite   the negotiated cipher suite (in TLS 1.2 it names the key exchange and the certificate's use)
     */
    void check(List<X509Certificate> chain, TlsVersion version, CipherSuite suite) throws CertificateException;
}
