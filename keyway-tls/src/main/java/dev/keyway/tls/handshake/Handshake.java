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
    /** Where the rest of the messages go once TLS 1.2 was negotiated (the hellos are shared), or null. */
    private Tls12 tls12;

    /** A TLS 1.2 handshake that takes over after the hellos: ClientHandshake12 or ServerHandshake12. */
    interface Tls12 {
        /** One message; the result once the handshake is complete, else null. */
        HandshakeResult handle(HandshakeIo.Message m);

        /** The peer's ChangeCipherSpec. */
        void changeCipherSpec();

        /** The connection ended with a fatal alert: its session must not be resumed (RFC 5246 section 7.2.2). */
        default void invalidate() {
        }

        /** {@link #invalidate} as a small object that holds none of the handshake's state. */
        default Runnable invalidator() {
            return () -> { };
        }
    }

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
            if (tls12 == null) {
                handle(m);
            } else {
                HandshakeResult r = tls12.handle(m);
                if (r != null) {
                    complete(r);
                }
            }
        }
    }

    /** Part of a handshake message is buffered, waiting for the rest of it in the next records. */
    public final boolean partialMessage() {
        return !io.empty();
    }

    /** TLS 1.2 was negotiated: {@code rest} handles every message from here. */
    final void continueWith(Tls12 rest) {
        this.tls12 = rest;
    }

    /** The connection failed: a TLS 1.2 server forgets the session so it cannot be resumed (RFC 5246 section 7.2.2). */
    public final void invalidate() {
        if (tls12 != null) {
            tls12.invalidate();
        }
    }

    /**
     * What {@link #invalidate} does, detached from this object, so that a finished handshake (its messages,
     * transcript and buffers) can be let go while the connection lives on.
     */
    public final Runnable invalidator() {
        return tls12 == null ? () -> { } : tls12.invalidator();
    }

    /** A ChangeCipherSpec record: a step of TLS 1.2 only (TLS 1.3's are dropped by the record layer). */
    public final void changeCipherSpec() {
        if (tls12 == null) {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "ChangeCipherSpec out of place");
        }
        tls12.changeCipherSpec();
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
