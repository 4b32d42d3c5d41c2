package dev.keyway.tls.handshake;

import dev.keyway.tls.Alert;
import dev.keyway.tls.TlsException;
import dev.keyway.tls.record.RecordLayer;

/**
 * A handshake as a state machine driven by the messages that arrive: it never waits. Each flight it
 * sends is queued on the record layer; the engine above decides when bytes move. One subclass per side
 * and version, each reading top to bottom like its RFC.
 */
public abstract sealed class Handshake permits ClientHandshake13, ServerHandshake13 {
    final HandshakeIo io;
    private HandshakeResult result;

    Handshake(RecordLayer records) {
        this.io = new HandshakeIo(records);
    }

    /** Queues the first flight (a client's ClientHello); a server waits for the client. */
    public void start() {
    }

    /** Takes the handshake bytes of one record and handles every message they complete. */
    public final void receive(byte[] data, int off, int len) {
        io.add(data, off, len);
        HandshakeIo.Message m;
        while (result == null && (m = io.next()) != null) {
            handle(m);
        }
    }

    /** A ChangeCipherSpec record: a step of TLS 1.2 only (TLS 1.3's are dropped by the record layer). */
    public void changeCipherSpec() {
        throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "ChangeCipherSpec out of place");
    }

    /** One whole message, in the state the handshake is in. */
    abstract void handle(HandshakeIo.Message m);

    /** Called once, by the last step. */
    final void complete(HandshakeResult r) {
        this.result = r;
    }

    /** The negotiated session once the handshake is complete, else null. */
    public final HandshakeResult result() {
        return result;
    }
}
