package dev.keyway.core.encoding;

import dev.keyway.core.KeywayException;

import java.util.Arrays;

/**
 * A bounds-checked cursor over a byte array for parsing binary formats. Every read checks the remaining
 * length first, so a truncated or lying length field ends in a {@link KeywayException} (MALFORMED) that
 * names {@code what}, never in an exception from the JDK or a large allocation.
 */
public final class ByteReader {
    private final byte[] data;
    private final String what;
    private int pos;

    public ByteReader(byte[] data, String what) {
        this.data = data;
        this.what = what;
    }

    public int position() {
        return pos;
    }

    public int remaining() {
        return data.length - pos;
    }

    public int u8() {
        need(1);
        return data[pos++] & 0xff;
    }

    public int u16() {
        need(2);
        int v = ((data[pos] & 0xff) << 8) | (data[pos + 1] & 0xff);
        pos += 2;
        return v;
    }

    public long u32() {
        need(4);
        long v = ((long) (data[pos] & 0xff) << 24) | ((data[pos + 1] & 0xff) << 16) | ((data[pos + 2] & 0xff) << 8) | (data[pos + 3] & 0xff);
        pos += 4;
        return v;
    }

    public byte[] bytes(int n) {
        need(n);
        byte[] out = Arrays.copyOfRange(data, pos, pos + n);
        pos += n;
        return out;
    }

    /** A u16 length, checked against {@code max}, then that many bytes. */
    public byte[] bytes16(int max, String field) {
        int n = u16();
        if (n > max) {
            throw KeywayException.malformed(what + " has an impossible " + field + " length (" + n + " bytes, at most " + max + ")",
                    "the data is corrupted or not a Keyway " + what);
        }
        return bytes(n);
    }

    /** Fails unless every byte has been read. */
    public void end() {
        if (pos != data.length) {
            throw KeywayException.malformed(what + " has " + (data.length - pos) + " unexpected bytes at the end",
                    "the data is corrupted or not a Keyway " + what);
        }
    }

    private void need(int n) {
        if (n < 0 || data.length - pos < n) {
            throw KeywayException.malformed(what + " is truncated", "give the complete " + what);
        }
    }
}
