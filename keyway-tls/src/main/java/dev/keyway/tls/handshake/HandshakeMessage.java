package dev.keyway.tls.handshake;

import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;

import java.util.Map;

/**
 * A handshake message as a typed value, as Go's handshake_messages.go has them: every message Keyway sends or
 * reads is a record with a static {@code parse} of its body (bounded by {@link Wire.Reader}: a short body, or
 * one with bytes left over, is a decode_error; other refusals keep the alerts the RFCs give) and {@link #encode()},
 * the message as sent, header included. The state machines parse each message once, where it arrives, and build
 * records to send. The small messages are here; the hellos, Certificate, CertificateVerify and TLS 1.2's own
 * messages ({@link Tls12Messages}) have files of their own.
 */
sealed interface HandshakeMessage permits ClientHello, ServerHello, CertificateMessage, CertificateVerifyMessage,
        HandshakeMessage.EncryptedExtensions, HandshakeMessage.CertificateRequest13, HandshakeMessage.Finished,
        HandshakeMessage.NewSessionTicket13, HandshakeMessage.KeyUpdate, Tls12Messages.ServerKeyExchange,
        Tls12Messages.CertificateRequest12, Tls12Messages.ServerHelloDone, Tls12Messages.ClientKeyExchange,
        Tls12Messages.NewSessionTicket12 {

    /** The handshake type (RFC 8446 section 4, RFC 5246 section 7.4). */
    int type();

    /** The body as sent, without the 4-byte header. */
    byte[] body();

    /** The whole message: type, 24-bit length, body. */
    default byte[] encode() {
        return Wire.message(type(), body());
    }

    /** EncryptedExtensions (RFC 8446 section 4.3.1): the server's extensions that need no cryptographic context. */
    record EncryptedExtensions(Map<Integer, byte[]> extensions) implements HandshakeMessage {
        static EncryptedExtensions parse(byte[] body) {
            Wire.Reader r = new Wire.Reader(body);
            Map<Integer, byte[]> ext = Extensions.parse(r.vec16());
            r.end("EncryptedExtensions");
            return new EncryptedExtensions(ext);
        }

        @Override
        public int type() {
            return HandshakeIo.ENCRYPTED_EXTENSIONS;
        }

        @Override
        public byte[] body() {
            return new Wire.Writer().vec16(Extensions.encode(extensions)).toByteArray();
        }
    }

    /**
     * TLS 1.3's CertificateRequest (RFC 8446 section 4.3.2): the request context and the extensions block, kept as
     * sent (Keyway reads no extension of it: its client answers with the one certificate it has).
     */
    record CertificateRequest13(byte[] context, byte[] extensions) implements HandshakeMessage {
        static CertificateRequest13 parse(byte[] body) {
            Wire.Reader r = new Wire.Reader(body);
            byte[] context = r.vec8();
            byte[] extensions = r.vec16();
            r.end("CertificateRequest");
            return new CertificateRequest13(context, extensions);
        }

        /** Keyway's request: an empty context and the signature_algorithms it accepts. */
        static CertificateRequest13 ours() {
            Wire.Writer ext = new Wire.Writer();
            Extensions.add(ext, Extensions.SIGNATURE_ALGORITHMS, SignatureScheme.offeredList());
            return new CertificateRequest13(new byte[0], ext.toByteArray());
        }

        @Override
        public int type() {
            return HandshakeIo.CERTIFICATE_REQUEST;
        }

        @Override
        public byte[] body() {
            return new Wire.Writer().vec8(context).vec16(extensions).toByteArray();
        }
    }

    /**
     * Finished (RFC 8446 section 4.4.4, RFC 5246 section 7.4.9): the verify_data, the whole body. Its length is
     * checked by whoever knows what it must be (the suite's hash length in TLS 1.3).
     */
    record Finished(byte[] verifyData) implements HandshakeMessage {
        static Finished parse(byte[] body) {
            return new Finished(body.clone());
        }

        @Override
        public int type() {
            return HandshakeIo.FINISHED;
        }

        @Override
        public byte[] body() {
            return verifyData.clone();
        }
    }

    /**
     * TLS 1.3's NewSessionTicket (RFC 8446 section 4.6.1). Parsing checks the shape only; the lifetime's bound and
     * the empty ticket are the client's checks.
     */
    record NewSessionTicket13(long lifetime, long ageAdd, byte[] nonce, byte[] ticket, byte[] extensions) implements HandshakeMessage {
        static NewSessionTicket13 parse(byte[] body) {
            Wire.Reader r = new Wire.Reader(body);
            long lifetime = r.u32();
            long ageAdd = r.u32();
            byte[] nonce = r.vec8();
            byte[] ticket = r.vec16();
            byte[] extensions = r.vec16(); // early_data: not used, no 0-RTT
            r.end("NewSessionTicket");
            return new NewSessionTicket13(lifetime, ageAdd, nonce, ticket, extensions);
        }

        @Override
        public int type() {
            return HandshakeIo.NEW_SESSION_TICKET;
        }

        @Override
        public byte[] body() {
            return new Wire.Writer().u32(lifetime).u32(ageAdd).vec8(nonce).vec16(ticket).vec16(extensions).toByteArray();
        }
    }

    /** KeyUpdate (RFC 8446 section 4.6.3): one byte, update_not_requested (0) or update_requested (1). */
    record KeyUpdate(boolean updateRequested) implements HandshakeMessage {
        static KeyUpdate parse(byte[] body) {
            if (body.length != 1) {
                // KeyUpdate is one byte (RFC 8446 section 4.6.3): any other length does not decode.
                throw TlsException.fatal(Alert.DECODE_ERROR, "a KeyUpdate of " + body.length + " bytes");
            }
            if (body[0] != 0 && body[0] != 1) {
                throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "a KeyUpdate with request_update " + (body[0] & 0xff) + " (RFC 8446 section 4.6.3)");
            }
            return new KeyUpdate(body[0] == 1);
        }

        @Override
        public int type() {
            return HandshakeIo.KEY_UPDATE;
        }

        @Override
        public byte[] body() {
            return new byte[] {(byte) (updateRequested ? 1 : 0)};
        }
    }
}
