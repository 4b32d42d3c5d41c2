package dev.keyway.capi;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.util.Arrays;

/** Bounds-checked little-endian reading and writing, as every CryptoAPI structure is laid out. */
final class LittleEndian {
    private final byte[] data;
    private final String what;
    private int at;

    LittleEndian(byte[] data, String what) {
        this.data = data;
        this.what = what;
    }

    int remaining() {
        return data.length - at;
    }

    int u8() {
        need(1);
        return data[at++] & 0xff;
    }

    int u16() {
        need(2);
        int v = (data[at] & 0xff) | (data[at + 1] & 0xff) << 8;
        at += 2;
        return v;
    }

    long u32() {
        need(4);
        long v = (data[at] & 0xffL) | (data[at + 1] & 0xffL) << 8 | (data[at + 2] & 0xffL) << 16 | (data[at + 3] & 0xffL) << 24;
        at += 4;
        return v;
    }

    byte[] bytes(int n) {
        need(n);
        byte[] out = Arrays.copyOfRange(data, at, at + n);
        at += n;
        return out;
    }

    /** An unsigned little-endian integer of n bytes. */
    BigInteger unsigned(int n) {
        return new BigInteger(1, reverse(bytes(n)));
    }

    void end() {
        if (at != data.length) {
            throw new CapiException(CapiError.NTE_BAD_DATA, what + " has " + (data.length - at) + " unexpected trailing byte(s)",
                    "check that the file holds exactly one blob");
        }
    }

    private void need(int n) {
        if (n < 0 || data.length - at < n) {
            throw new CapiException(CapiError.NTE_BAD_DATA, what + " is truncated (needs " + n + " more byte(s) at offset " + at + ")",
                    "check that the file is complete");
        }
    }

    static byte[] reverse(byte[] b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[b.length - 1 - i];
        }
        return out;
    }

    /** {@code v} as exactly n little-endian bytes; fails if it does not fit. */
    static byte[] unsigned(BigInteger v, int n) {
        byte[] be = v.toByteArray();
        int start = be.length > n && be[0] == 0 ? 1 : 0;
        if (be.length - start > n) {
            throw new IllegalArgumentException("value does not fit in " + n + " bytes");
        }
        byte[] out = new byte[n];
        for (int i = 0; i < be.length - start; i++) {
            out[i] = be[be.length - 1 - i];
        }
        return out;
    }

    static void u16(ByteArrayOutputStream out, int v) {
        out.write(v);
        out.write(v >> 8);
    }

    static void u32(ByteArrayOutputStream out, long v) {
        out.write((int) v);
        out.write((int) (v >> 8));
        out.write((int) (v >> 16));
        out.write((int) (v >> 24));
    }
}
