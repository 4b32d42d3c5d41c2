package dev.keyway.jsse;

import dev.keyway.core.encoding.Printable;
import dev.keyway.tls.handshake.PeerCertificates;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;

/** The endpoint identification JSSE does itself when a trust manager is not an {@code X509ExtendedTrustManager}. */
final class HostNames {
    private HostNames() {
    }

    /** Checks {@code leaf} against the SNI host name sent, else the peer host the engine was made for. */
    static void check(X509Certificate leaf, List<SNIServerName> sent, String peerHost) throws CertificateException {
        String host = null;
        for (SNIServerName n : sent) {
            if (n instanceof SNIHostName h) {
                host = h.getAsciiName();
                break;
            }
        }
        if (host == null) {
            host = peerHost;
        }
        if (host == null || host.isEmpty()) {
            throw new CertificateException("no host name to identify the server by: create the engine with the peer's host");
        }
        if (!PeerCertificates.matches(leaf, host)) {
            throw new CertificateException("the certificate is not for " + Printable.escape(host));
        }
    }
}
