package dev.keyway.tls;

import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;

/**
 * TLS 1.2 after its handshake: a HelloRequest (to a client) or a new ClientHello (to a server) asks for
 * renegotiation, which Keyway never does; the answer is a no_renegotiation warning (RFC 5746 section 4.2) and the
 * connection goes on. Any other handshake message is out of place.
 */
final class Renegotiation12 {
    private Renegotiation12() {
    }

    /**
     * Checks a handshake message that arrived after the TLS 1.2 handshake: it returns when the message asks for
     * renegotiation (the caller then sends {@link Alert#NO_RENEGOTIATION}), and throws unexpected_message otherwise.
     */
    static void checkRequest(byte[] m, boolean client) {
        boolean helloRequest = client && m.length == 4 && m[0] == 0 && m[1] == 0 && m[2] == 0 && m[3] == 0;
        boolean clientHello = !client && m.length >= 4 && m[0] == 1;
        if (!helloRequest && !clientHello) {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "handshake message type " + (m[0] & 0xff) + " after the TLS 1.2 handshake");
        }
    }
}
