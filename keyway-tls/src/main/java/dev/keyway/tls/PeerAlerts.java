package dev.keyway.tls;

import dev.keyway.tls.handshake.Alerts;
import dev.keyway.tls.params.Alert;

/** What an alert record from the peer does to an engine's input: ends it, is passed over, or fails the connection. */
final class PeerAlerts {
    /** user_canceled warnings passed over after the handshake; a peer that keeps sending them is refused. */
    private int userCanceledIgnored;

    /**
     * True for the peer's close_notify after the handshake (its stream has ended); false for a user_canceled warning
     * after the handshake, which is passed over; any other alert, or one during the handshake, is thrown as a
     * {@link TlsException}.
     */
    boolean closes(byte[] body, boolean handshakeComplete) {
        if (body.length == 2 && body[1] == 0 && handshakeComplete) {
            return true;
        }
        if (body.length == 2 && body[0] == 1 && (body[1] & 0xff) == Alert.USER_CANCELED.code() && handshakeComplete
                && ++userCanceledIgnored <= 16) {
            // A warning after the handshake that a close_notify should follow (RFC 8446 section 6.1; the JDK
            // sends one when it closes): the close_notify ends the stream, this one is passed over.
            return false;
        }
        throw Alerts.received(body);
    }
}
