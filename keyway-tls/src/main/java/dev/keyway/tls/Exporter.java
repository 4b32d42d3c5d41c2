package dev.keyway.tls;

import dev.keyway.core.KeywayException;
import dev.keyway.core.kdf.Prf12;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.handshake.HandshakeResult;

import java.io.ByteArrayOutputStream;

/**
 * TLS-Exporter(label, context, length) of a finished handshake: RFC 8446 section 7.5 for TLS 1.3 (the key
 * schedule's exporter master secret), RFC 5705 section 4 for TLS 1.2 (the PRF over the master secret and both
 * randoms), where RFC 7627 section 5.4 forbids exporting from a session without the extended master secret.
 */
final class Exporter {
    private Exporter() {
    }

    static byte[] export(HandshakeResult s, String label, byte[] context, int length) {
        if (s.version() == TlsVersion.TLS13) {
            return s.schedule().exporter(s.exporterMasterSecret(), label, context, length);
        }
        if (!s.extendedMasterSecret()) {
            throw KeywayException.policy("this TLS 1.2 session was made without the extended master secret, so it "
                    + "exports no keying material (RFC 7627 section 5.4)", "use TLS 1.3, or a TLS 1.2 peer that offers the extension");
        }
        byte[] ctx = context == null ? new byte[0] : context;
        if (ctx.length > 0xffff) {
            throw new IllegalArgumentException("an exporter context of at most 65535 bytes");
        }
        // RFC 5705 section 4: a context that is absent is left out of the seed; an empty one is there, with its length
        ByteArrayOutputStream seed = new ByteArrayOutputStream();
        seed.writeBytes(s.clientRandom());
        seed.writeBytes(s.serverRandom());
        if (context != null) {
            seed.write(ctx.length >> 8);
            seed.write(ctx.length);
            seed.writeBytes(ctx);
        }
        return Prf12.prf(s.suite().prfHash(), s.masterSecret(), label, seed.toByteArray(), length);
    }
}
