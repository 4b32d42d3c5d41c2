package dev.keyway.tls.record;

/**
 * Bytes appended at the back and consumed from the front, for reassembling records and handshake messages.
 * The array is compacted or doubled only when an append does not fit, so reassembly stays linear however
 * the bytes are split. Not thread-safe: each side of a connection has its own.
 */
public final class ByteQueue {
    private byte[] buf;
    private int start;
    private int end;

    public ByteQueue(int capacity) {
        this.buf = new byte[capacity];
    }

    /** Bytes queued. */
    public int size() {
        return end - start;
    }

    /** The backing array: the queued bytes are {@code array()[start(), start() + size())}, valid until the next append. */
    public byte[] array() {
        return buf;
    }

    public int start() {
        return start;
    }

    /** The {@code i}-th queued byte, unsigned. */
    public int at(int i) {
        return buf[start + i] & 0xff;
    }

    public void append(byte[] b, int off, int len) {
        if (end + len > buf.length) {
            int live = end - start;
            byte[] target = buf.length >= live + len ? buf : new byte[Math.max(buf.length * 2, live + len)];
            System.arraycopy(buf, start, target, 0, live);
            buf = target;
            start = 0;
            end = live;
        }
        System.arraycopy(b, off, buf, end, len);
        end += len;
    }

    /** Consumes {@code n} bytes from the front. */
    public void drop(int n) {
        start += n;
        if (start == end) {
            start = 0;
            end = 0;
        }
    }
}
