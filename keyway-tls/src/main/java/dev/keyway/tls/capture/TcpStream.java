package dev.keyway.tls.capture;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The bytes one side of a TCP connection sent, in order, up to the first byte the capture misses.
 * {@link #marks()} says when each part was captured, so a caller can interleave the two directions.
 */
public final class TcpStream {
    /**
     * From {@code offset} on, the stream's bytes were captured at {@code time} (until the next mark).
     * Marks are in offset order; times usually rise but need not, e.g. when a retransmission filled a hole.
     */
    public record Mark(long offset, Instant time) {
        public Mark {
            Objects.requireNonNull(time, "time");
        }
    }

    private final byte[] bytes;
    private final List<Mark> marks;

    TcpStream(byte[] bytes, List<Mark> marks) {
        this.bytes = bytes;
        this.marks = List.copyOf(marks);
    }

    /** A copy of the bytes. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The bytes without copying them. */
    public InputStream newInputStream() {
        return new ByteArrayInputStream(bytes);
    }

    public int length() {
        return bytes.length;
    }

    public List<Mark> marks() {
        return marks;
    }

    @Override
    public String toString() {
        return bytes.length + " bytes in " + marks.size() + " parts";
    }
}
