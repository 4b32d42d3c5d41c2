package dev.keyway.tls.handshake;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * What a finished handshake hands to the connection: the version and negotiated parameters, the peer's
 * certificates, and the secrets the connection keeps: for TLS 1.3 the application traffic secrets, exporter
 * and resumption secrets (KeyUpdate, the exporter, tickets); for TLS 1.2 the master secret and the server
 * random (the exporter of RFC 5705), and whether it was derived with the extended master secret (RFC 7627;
 * always false for TLS 1.3, which has no such thing). Never printed with its secrets.
 */
public record HandshakeResult(CipherSuite suite, NamedGroup group, List<X509Certificate> peerCertificates, boolean resumed,
                              String alpn, String serverName, byte[] clientRandom, byte[] clientTrafficSecret,
                              byte[] serverTrafficSecret, byte[] exporterMasterSecret, byte[] resumptionMasterSecret,
                              KeySchedule13 schedule, TlsVersion version, byte[] serverRandom, byte[] masterSecret, Ticket session,
                              boolean extendedMasterSecret) {

    /** A TLS 1.3 result. */
    public HandshakeResult(CipherSuite suite, NamedGroup group, List<X509Certificate> peerCertificates, boolean resumed, String alpn,
                           String serverName, byte[] clientRandom, byte[] clientTrafficSecret, byte[] serverTrafficSecret,
                           byte[] exporterMasterSecret, byte[] resumptionMasterSecret, KeySchedule13 schedule) {
        this(suite, group, peerCertificates, resumed, alpn, serverName, clientRandom, clientTrafficSecret, serverTrafficSecret,
                exporterMasterSecret, resumptionMasterSecret, schedule, TlsVersion.TLS13, null, null, null, false);
    }

    /** A TLS 1.2 result; {@code session} is what a client keeps to resume (null when the server offered neither ID nor ticket). */
    static HandshakeResult tls12(CipherSuite suite, NamedGroup group, List<X509Certificate> peerCertificates, boolean resumed,
                                 String alpn, String serverName, byte[] clientRandom, byte[] serverRandom, byte[] masterSecret,
                                 Ticket session, boolean extendedMasterSecret) {
        return new HandshakeResult(suite, group, peerCertificates, resumed, alpn, serverName, clientRandom, null, null, null, null, null,
                TlsVersion.TLS12, serverRandom, masterSecret, session, extendedMasterSecret);
    }

    @Override
    public String toString() {
        return "HandshakeResult[" + version + ", " + suite.name() + ", " + (group == null ? "psk_ke" : group.label())
                + (resumed ? ", resumed" : "") + "]";
    }
}
