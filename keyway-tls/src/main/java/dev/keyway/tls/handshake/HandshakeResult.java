package dev.keyway.tls.handshake;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.KeySchedule13;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * What a finished handshake hands to the connection: the negotiated parameters, the peer's certificates,
 * and the application traffic secrets and exporter secret the connection keeps (for KeyUpdate and the
 * exporter). Never printed with its secrets.
 */
public record HandshakeResult(CipherSuite suite, NamedGroup group, List<X509Certificate> peerCertificates, boolean resumed,
                              String alpn, String serverName, byte[] clientRandom, byte[] clientTrafficSecret,
                              byte[] serverTrafficSecret, byte[] exporterMasterSecret, byte[] resumptionMasterSecret,
                              KeySchedule13 schedule) {
    @Override
    public String toString() {
        return "HandshakeResult[" + suite.name() + ", " + (group == null ? "psk_ke" : group.label()) + (resumed ? ", resumed" : "") + "]";
    }
}
