package dev.keyway.remote;

import dev.keyway.core.KeywayException;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * One frame of the remote-session protocol (docs/REMOTE.md, "Wire protocol"): a type byte, a 4-byte big-endian
 * payload length, the payload. A length over {@link #MAX_PAYLOAD} is refused before anything is allocated.
 */
record Frame(int type, byte[] payload) {
    /** The largest payload: a file chunk or a listing; data frames carry at most {@link #CHUNK}. */
    static final int MAX_PAYLOAD = 1 << 20;
    /** Output, stdin and file data travel in pieces of at most this many bytes. */
    static final int CHUNK = 32 * 1024;

    // client to host
    static final int HELLO = 0x01;
    static final int OPEN = 0x02;
    static final int ATTACH = 0x03;
    static final int RUN = 0x04;
    static final int STDIN = 0x05;
    static final int STDIN_END = 0x06;
    static final int START_JOB = 0x07;
    static final int RECEIVE = 0x08;
    static final int ACK = 0x09;
    static final int LIST = 0x0A;
    static final int DETACH = 0x0B;
    static final int REMOVE = 0x0C;
    static final int PUT = 0x0D;
    static final int GET = 0x0E;
    // both ways (a file's bytes)
    static final int FILE_DATA = 0x10;
    static final int FILE_END = 0x11;
    // host to client
    static final int WELCOME = 0x81;
    static final int SESSION = 0x82;
    static final int OUT = 0x83;
    static final int ERR = 0x84;
    static final int EXIT = 0x85;
    static final int CREDIT = 0x86;
    static final int JOB = 0x87;
    static final int JOB_DATA = 0x88;
    static final int JOB_STATE = 0x89;
    static final int LISTING = 0x8A;
    static final int OK = 0x8B;
    static final int ERROR = 0x8C;
    static final int PING = 0x8D;

    Frame {
        if (payload.length > MAX_PAYLOAD) {
            throw new IllegalArgumentException("a frame payload of " + payload.length + " bytes");
        }
    }

    Frame(int type, Fields.Writer w) {
        this(type, w.toByteArray());
    }

    Fields.Reader reader() {
        return new Fields.Reader(payload);
    }

    byte[] encode() {
        byte[] out = new byte[5 + payload.length];
        out[0] = (byte) type;
        int n = payload.length;
        out[1] = (byte) (n >>> 24);
        out[2] = (byte) (n >>> 16);
        out[3] = (byte) (n >>> 8);
        out[4] = (byte) n;
        System.arraycopy(payload, 0, out, 5, n);
        return out;
    }

    /** Reads one frame from a stream; null at a clean end between frames. */
    static Frame read(InputStream in) throws IOException {
        int type = in.read();
        if (type < 0) {
            return null;
        }
        byte[] head = in.readNBytes(4);
        if (head.length < 4) {
            throw new EOFException("the peer's stream ended inside a frame");
        }
        long n = ((head[0] & 0xFFL) << 24) | ((head[1] & 0xFF) << 16) | ((head[2] & 0xFF) << 8) | (head[3] & 0xFF);
        if (n > MAX_PAYLOAD) {
            throw tooLong(n);
        }
        byte[] payload = in.readNBytes((int) n);
        if (payload.length < n) {
            throw new EOFException("the peer's stream ended inside a frame");
        }
        return new Frame(type, payload);
    }

    static KeywayException tooLong(long n) {
        return tooLong(n, MAX_PAYLOAD);
    }

    static KeywayException tooLong(long n, int limit) {
        return KeywayException.malformed("a frame of " + n + " bytes, over the limit of " + limit,
                "the peer does not speak this protocol");
    }

    /**
     * Frames from a byte stream fed in pieces (the host's side, on the server's loop). The first frame has a limit
     * of its own: before it the peer has proven nothing, so its header must not make the host wait for, and hold
     * a buffer of, more than that frame can be.
     */
    static final class Decoder {
        private final byte[] head = new byte[5];
        private final int firstLimit;
        private boolean first = true;
        private int headFill;
        private byte[] payload;
        private int payloadFill;

        Decoder() {
            this(MAX_PAYLOAD);
        }

        /** @param firstLimit the largest payload the first frame may have */
        Decoder(int firstLimit) {
            this.firstLimit = firstLimit;
        }

        /** The frames that {@code b[off, off + len)} completes, in order. */
        List<Frame> feed(byte[] b, int off, int len) {
            List<Frame> frames = new ArrayList<>(1);
            int end = off + len;
            while (off < end) {
                if (payload == null) {
                    int take = Math.min(5 - headFill, end - off);
                    System.arraycopy(b, off, head, headFill, take);
                    headFill += take;
                    off += take;
                    if (headFill < 5) {
                        break;
                    }
                    long n = ((head[1] & 0xFFL) << 24) | ((head[2] & 0xFF) << 16) | ((head[3] & 0xFF) << 8) | (head[4] & 0xFF);
                    int limit = first ? firstLimit : MAX_PAYLOAD;
                    if (n > limit) {
                        throw tooLong(n, limit);
                    }
                    payload = new byte[(int) n];
                    payloadFill = 0;
                }
                int take = Math.min(payload.length - payloadFill, end - off);
                System.arraycopy(b, off, payload, payloadFill, take);
                payloadFill += take;
                off += take;
                if (payloadFill == payload.length) {
                    frames.add(new Frame(head[0] & 0xFF, payload));
                    first = false;
                    payload = null;
                    headFill = 0;
                }
            }
            return frames;
        }

        /** Whether a frame has begun and not ended. */
        boolean midFrame() {
            return headFill > 0;
        }
    }
}
