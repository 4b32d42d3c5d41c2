package dev.keyway.tls;

import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.handshake.HandshakeResult;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/** How an engine describes what its handshake negotiated: the version's name, the one-line summaries, the secrets it shows. */
final class Negotiated {
    private Negotiated() {
    }

    /** "TLSv1.3" or "TLSv1.2", as OpenSSL and the JDK name them. */
    static String version(HandshakeResult s) {
        return s.version() == TlsVersion.TLS13 ? "TLSv1.3" : "TLSv1.2";
    }

    /** TLS 1.3 always; TLS 1.2 when its master secret is the extended one (RFC 7627). */
    static boolean extendedMasterSecret(HandshakeResult s) {
        return s.version() == TlsVersion.TLS13 || s.extendedMasterSecret();
    }

    /** Version, suite, key exchange (none in a resumed TLS 1.2 session), resumed or not, ALPN, a legacy master secret. */
    static String summary(HandshakeResult s) {
        String kx = s.group() != null ? s.group().label()
                : s.version() == TlsVersion.TLS13 ? "psk_ke" : s.resumed() ? null : "RSA key transport";
        return version(s) + ", " + s.suite().name() + (kx == null ? "" : ", " + kx)
                + (s.resumed() ? ", resumed" : ", full handshake") + (s.alpn() == null ? "" : ", ALPN " + s.alpn())
                + (extendedMasterSecret(s) ? "" : ", no extended master secret (legacy)");
    }

    /** The leaf of a checked chain as a {@link PeerIdentity}; empty for an empty chain. */
    static Optional<PeerIdentity> peerIdentity(List<X509Certificate> chain) {
        return chain.isEmpty() ? Optional.empty() : Optional.of(PeerIdentity.of(chain.get(0)));
    }

    /** {@code client CN=alice, client-spki=<hex>} (the peer's role when we are the server), or {@code no client certificate}. */
    static String peerSummary(List<X509Certificate> chain, boolean weAreClient) {
        String role = weAreClient ? "server" : "client";
        return peerIdentity(chain).map(id -> id.summary(role)).orElse("no " + role + " certificate");
    }

    /** TLS 1.3's first application traffic secrets, copied; a TLS 1.2 session has none. */
    static TrafficSecrets trafficSecrets(HandshakeResult s) {
        if (s.version() != TlsVersion.TLS13) {
            throw new IllegalStateException("a TLS 1.2 connection has no traffic secrets; its key-log line is CLIENT_RANDOM (the master secret)");
        }
        return new TrafficSecrets(s.clientRandom().clone(), s.clientTrafficSecret().clone(), s.serverTrafficSecret().clone());
    }
}
