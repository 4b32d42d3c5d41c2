package dev.keyway.tls.handshake;

import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;

import java.util.Arrays;

/**
 * The handshake messages only TLS 1.2 has (RFC 5246 section 7.4, ECDHE as in RFC 8422, tickets as in RFC 5077),
 * as records like those of {@link HandshakeMessage}. The hellos, Certificate, CertificateVerify and Finished are
 * shared with TLS 1.3 and live there.
 */
final class Tls12Messages {
    private Tls12Messages() {
    }

    /**
     * ServerKeyExchange for ECDHE (RFC 8422 section 5.4): ServerECDHParams (curve_type named_curve, the group, the
     * point) and the signature over both randoms and them.
     */
    record ServerKeyExchange(int group, byte[] publicKey, int scheme, byte[] signature) implements HandshakeMessage {
        /** ECCurveType named_curve. */
        private static final int NAMED_CURVE = 3;

        static ServerKeyExchange parse(byte[] body) {
            Wire.Reader r = new Wire.Reader(body);
            if (r.u8() != NAMED_CURVE) {
                throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "ServerKeyExchange without a named curve");
            }
            int group = r.u16();
            byte[] point = r.vec8();
            int scheme = r.u16();
            byte[] signature = r.vec16();
            r.end("ServerKeyExchange");
            return new ServerKeyExchange(group, point, scheme, signature);
        }

        /** The ServerECDHParams, which the signature covers after the two randoms. */
        static byte[] params(int group, byte[] publicKey) {
            return new Wire.Writer().u8(NAMED_CURVE).u16(group).vec8(publicKey).toByteArray();
        }

        /** What the signature covers: client random, server random, the params (RFC 8422 section 5.4). */
        static byte[] signed(byte[] clientRandom, byte[] serverRandom, int group, byte[] publicKey) {
            return new Wire.Writer().bytes(clientRandom).bytes(serverRandom).bytes(params(group, publicKey)).toByteArray();
        }

        /** What this message's signature covers. */
        byte[] signed(byte[] clientRandom, byte[] serverRandom) {
            return signed(clientRandom, serverRandom, group, publicKey);
        }

        @Override
        public int type() {
            return HandshakeIo.SERVER_KEY_EXCHANGE;
        }

        @Override
        public byte[] body() {
            return new Wire.Writer().bytes(params(group, publicKey)).u16(scheme).vec16(signature).toByteArray();
        }
    }

    /** TLS 1.2's CertificateRequest (RFC 5246 section 7.4.4): certificate types, signature algorithms, acceptable CAs. */
    record CertificateRequest12(byte[] certificateTypes, byte[] signatureAlgorithms, byte[] authorities) implements HandshakeMessage {
        static CertificateRequest12 parse(byte[] body) {
            Wire.Reader r = new Wire.Reader(body);
            byte[] types = r.vec8();
            byte[] algorithms = r.vec16();
            byte[] authorities = r.vec16();
            r.end("CertificateRequest");
            return new CertificateRequest12(types, algorithms, authorities);
        }

        /** Keyway's request: types rsa_sign(1) and ecdsa_sign(64), the schemes it accepts, no list of CAs. */
        static CertificateRequest12 ours() {
            byte[] list = SignatureScheme.offeredList();
            return new CertificateRequest12(new byte[] {1, 64}, Arrays.copyOfRange(list, 2, list.length), new byte[0]);
        }

        @Override
        public int type() {
            return HandshakeIo.CERTIFICATE_REQUEST;
        }

        @Override
        public byte[] body() {
            return new Wire.Writer().vec8(certificateTypes).vec16(signatureAlgorithms).vec16(authorities).toByteArray();
        }
    }

    /** ServerHelloDone (RFC 5246 section 7.4.5): empty. */
    record ServerHelloDone() implements HandshakeMessage {
        static ServerHelloDone parse(byte[] body) {
            if (body.length != 0) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "a ServerHelloDone with a body");
            }
            return new ServerHelloDone();
        }

        @Override
        public int type() {
            return HandshakeIo.SERVER_HELLO_DONE;
        }

        @Override
        public byte[] body() {
            return new byte[0];
        }
    }

    /**
     * ClientKeyExchange (RFC 5246 section 7.4.7): for RSA key transport the encrypted pre-master secret
     * (a 16-bit vector), for ECDHE the client's point (an 8-bit vector, not empty: RFC 8422 section 5.7).
     */
    record ClientKeyExchange(byte[] exchangeKeys, boolean rsa) implements HandshakeMessage {
        static ClientKeyExchange parse(byte[] body, boolean rsa) {
            Wire.Reader r = new Wire.Reader(body);
            byte[] keys = rsa ? r.vec16() : r.vec8();
            r.end("ClientKeyExchange");
            if (!rsa && keys.length == 0) {
                // ECPoint point<1..2^8-1> (RFC 8422 section 5.7)
                throw TlsException.fatal(Alert.DECODE_ERROR, "an empty ECDHE public key in the ClientKeyExchange");
            }
            return new ClientKeyExchange(keys, rsa);
        }

        @Override
        public int type() {
            return HandshakeIo.CLIENT_KEY_EXCHANGE;
        }

        @Override
        public byte[] body() {
            Wire.Writer w = new Wire.Writer();
            return (rsa ? w.vec16(exchangeKeys) : w.vec8(exchangeKeys)).toByteArray();
        }
    }

    /** TLS 1.2's NewSessionTicket (RFC 5077 section 3.3): a lifetime hint and the opaque ticket (empty: none after all). */
    record NewSessionTicket12(long lifetimeHint, byte[] ticket) implements HandshakeMessage {
        static NewSessionTicket12 parse(byte[] body) {
            Wire.Reader r = new Wire.Reader(body);
            long hint = r.u32();
            byte[] ticket = r.vec16();
            r.end("NewSessionTicket");
            return new NewSessionTicket12(hint, ticket);
        }

        @Override
        public int type() {
            return HandshakeIo.NEW_SESSION_TICKET;
        }

        @Override
        public byte[] body() {
            return new Wire.Writer().u32(lifetimeHint).vec16(ticket).toByteArray();
        }
    }
}
