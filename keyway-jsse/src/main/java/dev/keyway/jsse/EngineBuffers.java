package dev.keyway.jsse;

import dev.keyway.tls.TlsEngine;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;

/**
 * The buffer bookkeeping of {@link KeywaySslEngine}'s {@code wrap} and {@code unwrap}: the argument checks the
 * {@code SSLEngine} contract asks for, how much the caller's buffers hold or can take, and the copies between the
 * caller's buffer arrays and the {@link TlsEngine}.
 */
final class EngineBuffers {
    private EngineBuffers() {
    }

    static void checkArguments(ByteBuffer[] buffers, int offset, int length, ByteBuffer other) {
        if (buffers == null || other == null) {
            throw new IllegalArgumentException("buffers must not be null");
        }
        if (offset < 0 || length < 0 || offset > buffers.length - length) {
            throw new IndexOutOfBoundsException("offset " + offset + ", length " + length + " for " + buffers.length + " buffers");
        }
        for (int i = offset; i < offset + length; i++) {
            if (buffers[i] == null) {
                throw new IllegalArgumentException("buffer " + i + " is null");
            }
        }
    }

    /** A destination must be writable: {@link ReadOnlyBufferException} as JSSE's engine throws. */
    static void checkWritable(ByteBuffer[] buffers, int offset, int length) {
        for (int i = offset; i < offset + length; i++) {
            if (buffers[i].isReadOnly()) {
                throw new ReadOnlyBufferException();
            }
        }
    }

    /** The bytes remaining in {@code buffers[offset .. offset + length)}. */
    static long remaining(ByteBuffer[] buffers, int offset, int length) {
        long total = 0;
        for (int i = offset; i < offset + length; i++) {
            total += buffers[i].remaining();
        }
        return total;
    }

    /** The next {@code take} bytes of the sources, in order, in a new array (which the caller wipes). */
    static byte[] gather(ByteBuffer[] srcs, int offset, int length, int take) {
        byte[] plain = new byte[take];
        int got = 0;
        for (int i = offset; i < offset + length && got < take; i++) {
            int n = Math.min(srcs[i].remaining(), take - got);
            srcs[i].get(plain, got, n);
            got += n;
        }
        return plain;
    }

    /** Hands the engine's opened plaintext to the destinations, in order, as far as they take it. */
    static int deliver(TlsEngine t, ByteBuffer[] dsts, int offset, int length) {
        int total = 0;
        for (int i = offset; i < offset + length && t.readable() > 0; i++) {
            while (dsts[i].hasRemaining() && t.readable() > 0) {
                int n = t.read(dsts[i]);
                if (n <= 0) {
                    break;
                }
                total += n;
            }
        }
        return total;
    }
}
