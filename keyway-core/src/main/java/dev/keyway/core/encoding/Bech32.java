package dev.keyway.core.encoding;

import dev.keyway.core.KeywayException;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Locale;

/**
 * Bech32m (BIP 350) text encoding: a human-readable prefix, the separator '1', 5-bit data and a 6-character
 * checksum that catches typos and truncation. As in age, the 90-character limit of BIP 173 is lifted,
 * because post-quantum and RSA keys are long; the checksum still makes an undetected random error a
 * one-in-a-billion event. Strings are all lower case or all upper case, never mixed.
 */
public final class Bech32 {
    private static final String CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    private static final int BECH32M_CONST = 0x2bc830a3;
    private static final int[] GEN = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
    private static final int[] REV = new int[128];

    static {
        Arrays.fill(REV, -1);
        for (int i = 0; i < CHARSET.length(); i++) {
            REV[CHARSET.charAt(i)] = i;
        }
    }

    /** A decoded string: its prefix (always lower case) and its bytes. */
    public record Decoded(String hrp, byte[] data) {
    }

    private Bech32() {
    }

    /** Encodes in lower case. */
    public static String encode(String hrp, byte[] data) {
        String h = hrp.toLowerCase(Locale.ROOT);
        checkHrp(h);
        byte[] values = toFiveBits(data);
        byte[] checksum = checksum(h, values);
        StringBuilder sb = new StringBuilder(h.length() + 1 + values.length + 6);
        sb.append(h).append('1');
        for (byte v : values) {
            sb.append(CHARSET.charAt(v));
        }
        for (byte v : checksum) {
            sb.append(CHARSET.charAt(v));
        }
        return sb.toString();
    }

    /** Encodes in upper case, as secret keys are written. */
    public static String encodeUpper(String hrp, byte[] data) {
        return encode(hrp, data).toUpperCase(Locale.ROOT);
    }

    /**
     * Decodes and verifies the checksum.
     *
     * @param maxLength bound on the whole string, checked before any work
     * @param what      names the value in error messages, e.g. "recipient"
     */
    public static Decoded decode(String s, int maxLength, String what) {
        if (s.length() > maxLength) {
            throw KeywayException.malformed(what + " is too long (" + s.length() + " characters, at most " + maxLength + ")",
                    "check that you copied the right value");
        }
        boolean lower = false;
        boolean upper = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 33 || c > 126) {
                throw KeywayException.malformed(what + " contains a character that cannot be in it (position " + (i + 1) + ")",
                        "copy the whole value again, without spaces or line breaks");
            }
            lower |= Character.isLowerCase(c);
            upper |= Character.isUpperCase(c);
        }
        if (lower && upper) {
            throw KeywayException.malformed(what + " mixes upper and lower case", "copy the value exactly as it was printed");
        }
        String str = s.toLowerCase(Locale.ROOT);
        int sep = str.lastIndexOf('1');
        if (sep < 1 || sep + 7 > str.length()) {
            throw KeywayException.malformed(what + " is not a Bech32 string (no separator or too short)",
                    "copy the whole value again");
        }
        String hrp = str.substring(0, sep);
        byte[] values = new byte[str.length() - sep - 1];
        for (int i = 0; i < values.length; i++) {
            char c = str.charAt(sep + 1 + i);
            int v = c < 128 ? REV[c] : -1;
            if (v < 0) {
                throw KeywayException.malformed(what + " contains '" + c + "', which Bech32 never uses",
                        "copy the value again; it cannot contain 1, b, i or o after the prefix");
            }
            values[i] = (byte) v;
        }
        if (polymod(hrp, values, values.length) != BECH32M_CONST) {
            throw KeywayException.malformed(what + " has a bad checksum (a typo or a truncated copy)",
                    "copy the whole value again");
        }
        byte[] data = fromFiveBits(values, values.length - 6, what);
        return new Decoded(hrp, data);
    }

    private static void checkHrp(String hrp) {
        if (hrp.isEmpty()) {
            throw new IllegalArgumentException("empty Bech32 prefix");
        }
        for (int i = 0; i < hrp.length(); i++) {
            char c = hrp.charAt(i);
            if (c < 33 || c > 126) {
                throw new IllegalArgumentException("bad Bech32 prefix character");
            }
        }
    }

    private static int polymod(String hrp, byte[] values, int count) {
        int chk = 1;
        for (int i = 0; i < hrp.length(); i++) {
            chk = step(chk, hrp.charAt(i) >> 5);
        }
        chk = step(chk, 0);
        for (int i = 0; i < hrp.length(); i++) {
            chk = step(chk, hrp.charAt(i) & 31);
        }
        for (int i = 0; i < count; i++) {
            chk = step(chk, values[i]);
        }
        return chk;
    }

    private static int step(int chk, int value) {
        int top = chk >>> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ value;
        for (int i = 0; i < 5; i++) {
            if (((top >>> i) & 1) != 0) {
                chk ^= GEN[i];
            }
        }
        return chk;
    }

    private static byte[] checksum(String hrp, byte[] values) {
        byte[] padded = Arrays.copyOf(values, values.length + 6);
        int mod = polymod(hrp, padded, padded.length) ^ BECH32M_CONST;
        byte[] out = new byte[6];
        for (int i = 0; i < 6; i++) {
            out[i] = (byte) ((mod >>> (5 * (5 - i))) & 31);
        }
        return out;
    }

    private static byte[] toFiveBits(byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length * 8 / 5 + 1);
        int acc = 0;
        int bits = 0;
        for (byte b : data) {
            acc = (acc << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                bits -= 5;
                out.write((acc >>> bits) & 31);
            }
        }
        if (bits > 0) {
            out.write((acc << (5 - bits)) & 31);
        }
        return out.toByteArray();
    }

    private static byte[] fromFiveBits(byte[] values, int count, String what) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(count * 5 / 8);
        int acc = 0;
        int bits = 0;
        for (int i = 0; i < count; i++) {
            acc = ((acc << 5) | values[i]) & 0xfff;
            bits += 5;
            if (bits >= 8) {
                bits -= 8;
                out.write((acc >>> bits) & 0xff);
            }
        }
        if (bits >= 5 || ((acc << (8 - bits)) & 0xff) != 0) {
            throw KeywayException.malformed(what + " has invalid padding", "copy the whole value again");
        }
        return out.toByteArray();
    }
}
