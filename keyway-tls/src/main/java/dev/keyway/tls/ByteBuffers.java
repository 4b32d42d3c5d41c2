package dev.keyway.tls;

import java.nio.ByteBuffer;

/** The {@link ByteBuffer} forms of the engine's byte-array calls: the buffer's array when it has one, else a copy. */
final class ByteBuffers {
    /** A call that takes {@code b[off, off + len)}: receive, write. */
    interface Sink {
        void take(byte[] b, int off, int len);
    }

    /** A call that fills up to {@code len} bytes of {@code b} and returns how many (or -1): read. */
    interface Source {
        int fill(byte[] b, int off, int len);
    }

    private ByteBuffers() {
    }

    /** Hands all of {@code src}'s remaining bytes to {@code sink}. */
    static void drain(ByteBuffer src, Sink sink) {
        if (src.hasArray()) {
            sink.take(src.array(), src.arrayOffset() + src.position(), src.remaining());
            src.position(src.limit());
            return;
        }
        byte[] copy = new byte[src.remaining()];
        src.get(copy);
        sink.take(copy, 0, copy.length);
    }

    /**
     * Lets {@code source} fill {@code dst} (a direct one through a bounce array of at most {@code bounceMax} bytes, not
     * one as large as the buffer on every call); returns what the source returned.
     */
    static int fill(ByteBuffer dst, Source source, int bounceMax) {
        if (dst.hasArray()) {
            int n = source.fill(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            if (n > 0) {
                dst.position(dst.position() + n);
            }
            return n;
        }
        byte[] chunk = new byte[Math.min(dst.remaining(), bounceMax)];
        int n = source.fill(chunk, 0, chunk.length);
        if (n > 0) {
            dst.put(chunk, 0, n);
        }
        return n;
    }
}
