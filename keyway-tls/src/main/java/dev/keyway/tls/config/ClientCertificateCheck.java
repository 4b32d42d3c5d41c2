package dev.keyway.tls.config;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * A server's own decision on a client's certificate chain, in place of path validation to trust anchors: for
 * clients known by their key rather than by a CA (as Go's {@code RequireAnyClientCert} with
 * {@code VerifyPeerCertificate}, or rustls's client certificate verifier). The leaf's validity dates, its key usage
 * and its CertificateVerify signature are still checked by the handshake; the check decides who may connect.
 *
 * <p>It runs during the handshake, before any application data is read, and again when a session is resumed (a
 * ticket carries the chain), so a client refused since its ticket was issued gets a full handshake and is refused
 * there. It runs on the connection's thread and must not block for long.
 */
@FunctionalInterface
public interface ClientCertificateCheck {
    /**
     * Whether the client with this chain (leaf first, never empty, parsed but not path-validated) may connect.
     * Returning false ends the handshake with an access_denied alert (RFC 8446 section 6.2).
     */
    boolean accepts(List<X509Certificate> chain);
}
