package dev.keyway.tls.handshake;

import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/** Reading and writing TLS presentation-language vectors; a short read is a decode_error alert. */
final class Wire {
    private Wire() {
    }

    /** A bounds-checked reader over one message body. */
    static final class Reader {
        private final byte[] data;
        private int at;

        Reader(byte[] data) {
            this.data = data;
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
            int v = ((data[at] & 0xff) << 8) | (data[at + 1] & 0xff);
            at += 2;
            return v;
        }

        int u24() {
            need(3);
            int v = ((data[at] & 0xff) << 16) | ((data[at + 1] & 0xff) << 8) | (data[at + 2] & 0xff);
            at += 3;
            return v;
        }

        long u32() {
            need(4);
            long v = ((data[at] & 0xffL) << 24) | ((data[at + 1] & 0xffL) << 16) | ((data[at + 2] & 0xffL) << 8) | (data[at + 3] & 0xffL);
            at += 4;
            return v;
        }

        byte[] bytes(int n) {
            need(n);
            byte[] out = Arrays.copyOfRange(data, at, at + n);
            at += n;
            return out;
        }

        byte[] vec8() {
            return bytes(u8());
        }

        byte[] vec16() {
            return bytes(u16());
        }

        byte[] vec24() {
            return bytes(u24());
        }

        void end(String what) {
            if (at != data.length) {
                throw TlsException.fatal(Alert.DECODE_ERROR, what + " has " + (data.length - at) + " trailing bytes");
            }
        }

        private void need(int n) {
            if (n < 0 || data.length - at < n) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "a handshake message is shorter than its fields");
            }
        }
    }

    /** A growing message body. */
    static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Writer u8(int v) {
            out.write(v);
            return this;
        }

        Writer u16(int v) {
            out.write(v >> 8);
            out.write(v);
            return this;
        }

        Writer u24(int v) {
            out.write(v >> 16);
            out.write(v >> 8);
            out.write(v);
            return this;
        }

        Writer u32(long v) {
            out.write((int) (v >> 24));
            out.write((int) (v >> 16));
            out.write((int) (v >> 8));
            out.write((int) v);
            return this;
        }

        Writer bytes(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Writer vec8(byte[] b) {
            return u8(b.length).bytes(b);
        }

        Writer vec16(byte[] b) {
            return u16(b.length).bytes(b);
        }

        Writer vec24(byte[] b) {
            return u24(b.length).bytes(b);
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }

    /** A whole handshake message: type, 24-bit length, body. */
    static byte[] message(int type, byte[] body) {
        return new Writer().u8(type).vec24(body).toByteArray();
    }
}
