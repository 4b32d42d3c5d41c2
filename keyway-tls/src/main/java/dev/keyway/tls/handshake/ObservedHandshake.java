package dev.keyway.tls.handshake;

import dev.keyway.tls.record.RecordLayer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The handshake as an observer of a captured connection reads it, with the handshakes' own code: messages
 * reassembled by {@link HandshakeIo}, hellos parsed by {@link ClientHello#parse} and
 * {@link ServerHello#parse}, a HelloRetryRequest known by {@link ServerHello#retry()}. It is
 * passive decryption's ({@code dev.keyway.tls.decrypt}) one door into this package, so the package can change
 * behind it; a parser's TlsException (a decode_error, say) is what the observer gets for a malformed hello.
 */
public final class ObservedHandshake {
    public static final int CLIENT_HELLO = HandshakeIo.CLIENT_HELLO;
    public static final int SERVER_HELLO = HandshakeIo.SERVER_HELLO;
    public static final int END_OF_EARLY_DATA = HandshakeIo.END_OF_EARLY_DATA;
    public static final int SERVER_HELLO_DONE = HandshakeIo.SERVER_HELLO_DONE;
    public static final int FINISHED = HandshakeIo.FINISHED;
    public static final int KEY_UPDATE = HandshakeIo.KEY_UPDATE;

    public static final int EXTENSION_PRE_SHARED_KEY = Extensions.PRE_SHARED_KEY;
    public static final int EXTENSION_EARLY_DATA = Extensions.EARLY_DATA;

    private ObservedHandshake() {
    }

    /** A handshake message: its type and body. */
    public record Message(int type, byte[] body) {
    }

    /**
     * What an observer learns from a ClientHello or ServerHello.
     *
     * @param random         the hello's random
     * @param suite          the cipher suite a ServerHello chose; -1 for a ClientHello
     * @param version        the version a ServerHello chose (supported_versions, else legacy_version); a
     *                       ClientHello's legacy_version
     * @param extensions     the extension types the hello carries
     * @param retryRequest   the ServerHello is a HelloRetryRequest
     */
    public record Hello(byte[] random, int suite, int version, Set<Integer> extensions, boolean retryRequest) {
        public boolean has(int extension) {
            return extensions.contains(extension);
        }
    }

    /** A ClientHello's body, parsed as a server parses it. */
    public static Hello clientHello(byte[] body) {
        ClientHello ch = ClientHello.parse(body);
        return new Hello(ch.random(), -1, ch.legacyVersion(), Set.copyOf(ch.extensions().keySet()), false);
    }

    /** A ServerHello's (or HelloRetryRequest's) body, parsed as a client parses it. */
    public static Hello serverHello(byte[] body) {
        ServerHello sh = ServerHello.parse(body);
        return new Hello(sh.random(), sh.suite(), sh.selectedVersion(), Set.copyOf(sh.extensions().keySet()), sh.retry());
    }

    /**
     * One direction's handshake messages, reassembled from the handshake bytes of its records as a live
     * connection reassembles them (same framing and size limits).
     */
    public static final class Reader {
        // HandshakeIo tells its record layer whether part of a message waits; an observer has no record layer,
        // so this one only takes that flag.
        private final HandshakeIo io = new HandshakeIo(new RecordLayer());

        /** Takes one record's handshake bytes; returns the messages they complete, in order. */
        public List<Message> add(byte[] fragment) {
            io.add(fragment, 0, fragment.length);
            List<Message> out = new ArrayList<>();
            for (HandshakeIo.Message m = io.next(); m != null; m = io.next()) {
                out.add(new Message(m.type(), m.body()));
            }
            return out;
        }
    }
}
