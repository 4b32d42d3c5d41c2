package dev.keyway.tls.handshake;

import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordLayer;

/**
 * A handshake as a state machine driven by the messages that arrive: it never waits. Each flight it
 * sends is queued on the record layer; the engine above decides when bytes move. {@link ClientHandshake} and
 * {@link ServerHandshake} own the hellos and the choice of version, as Go's handshake_client.go and
 * handshake_server.go do; a {@link Flow} per side and version ({@link ClientHandshake13}, {@link ClientHandshake12},
 * {@link ServerHandshake13}, {@link ServerHandshake12}) takes every message after that, each reading top to
 * bottom like its RFC.
 */
public abstract sealed class Handshake permits ClientHandshake, ServerHandshake {
    final HandshakeIo io;
    private HandshakeResult result;
    /** Where the rest of the messages go once the hellos chose the version, or null before. */
    private Flow flow;

    /** One version's handshake, after the hellos chose it. */
    sealed interface Flow permits ClientHandshake13, ClientHandshake12, ServerHandshake13, ServerHandshake12 {
        /** One message; the result once the handshake is complete, else null. */
        HandshakeResult handle(HandshakeIo.Message m);

        /** The peer's ChangeCipherSpec: a step of TLS 1.2 only (TLS 1.3's are dropped by the record layer). */
        default void changeCipherSpec() {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "ChangeCipherSpec out of place");
        }

        /** The connection ended with a fatal alert: a TLS 1.2 session must not be resumed (RFC 5246 section 7.2.2). */
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
            if (flow == null) {
                handle(m);
            } else {
                HandshakeResult r = flow.handle(m);
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

    /** The version is chosen: {@code rest} handles every message from here. */
    final void continueWith(Flow rest) {
        this.flow = rest;
    }

    /** The connection failed: a TLS 1.2 server forgets the session so it cannot be resumed (RFC 5246 section 7.2.2). */
    public final void invalidate() {
        if (flow != null) {
            flow.invalidate();
        }
    }

    /**
     * What {@link #invalidate} does, detached from this object, so that a finished handshake (its messages,
     * transcript and buffers) can be let go while the connection lives on.
     */
    public final Runnable invalidator() {
        return flow == null ? () -> { } : flow.invalidator();
    }

    /** A ChangeCipherSpec record: a step of TLS 1.2 only (TLS 1.3's are dropped by the record layer). */
    public final void changeCipherSpec() {
        if (flow == null) {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "ChangeCipherSpec out of place");
        }
        flow.changeCipherSpec();
    }

    /** One whole message before the version is chosen: the hello. */
    abstract void handle(HandshakeIo.Message m);

    /** Called once, by the last step. */
    private void complete(HandshakeResult r) {
        this.result = r;
    }

    /** The negotiated session once the handshake is complete, else null. */
    public final HandshakeResult result() {
        return result;
    }
}
