package dev.keyway.remote;

import dev.keyway.core.KeywayException;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The fields inside a frame's payload: big-endian integers, strings as a 2-byte length and UTF-8 (checked), byte
 * strings as a 4-byte length, lists as a 2-byte count. Every length is checked against what is left before anything
 * is allocated; a payload with bytes left over after its last field is malformed.
 */
final class Fields {
    private Fields() {
    }

    static final class Writer {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(64);

        Writer u8(int v) {
            out.write(v);
            return this;
        }

        Writer u32(long v) {
            out.write((int) (v >>> 24));
            out.write((int) (v >>> 16));
            out.write((int) (v >>> 8));
            out.write((int) v);
            return this;
        }

        Writer i64(long v) {
            u32(v >>> 32);
            return u32(v & 0xFFFFFFFFL);
        }

        Writer str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            if (b.length > 0xFFFF) {
                throw KeywayException.usage("a text field of " + b.length + " bytes (the limit is 65535)", "shorten it");
            }
            out.write(b.length >>> 8);
            out.write(b.length);
            out.writeBytes(b);
            return this;
        }

        Writer bytes(byte[] b) {
            return bytes(b, 0, b.length);
        }

        Writer bytes(byte[] b, int off, int len) {
            u32(len);
            out.write(b, off, len);
            return this;
        }

        Writer strs(List<String> list) {
            if (list.size() > 0xFFFF) {
                throw KeywayException.usage("a list of " + list.size() + " items (the limit is 65535)", "give fewer");
            }
            out.write(list.size() >>> 8);
            out.write(list.size());
            for (String s : list) {
                str(s);
            }
            return this;
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }

    static final class Reader {
        private final byte[] b;
        private int pos;

        Reader(byte[] b) {
            this.b = b;
        }

        private void need(long n) {
            if (n > b.length - pos) {
                throw malformed("a field runs past the end of its frame");
            }
        }

        int u8() {
            need(1);
            return b[pos++] & 0xFF;
        }

        long u32() {
            need(4);
            long v = ((b[pos] & 0xFFL) << 24) | ((b[pos + 1] & 0xFF) << 16) | ((b[pos + 2] & 0xFF) << 8) | (b[pos + 3] & 0xFF);
            pos += 4;
            return v;
        }

        long i64() {
            return (u32() << 32) | u32();
        }

        String str() {
            need(2);
            int n = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
            pos += 2;
            need(n);
            try {
                String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, pos, n)).toString();
                pos += n;
                return s;
            } catch (CharacterCodingException e) {
                throw malformed("a text field is not UTF-8");
            }
        }

        byte[] bytes() {
            long n = u32();
            need(n);
            byte[] out = Arrays.copyOfRange(b, pos, pos + (int) n);
            pos += (int) n;
            return out;
        }

        List<String> strs() {
            need(2);
            int n = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
            pos += 2;
            need(2L * n);
            List<String> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(str());
            }
            return out;
        }

        /** Ends the payload: bytes left over are malformed. */
        void end() {
            if (pos != b.length) {
                throw malformed("a frame has " + (b.length - pos) + " bytes after its last field");
            }
        }

        private static KeywayException malformed(String what) {
            return KeywayException.malformed(what, "the peer does not speak this protocol version");
        }
    }
}
