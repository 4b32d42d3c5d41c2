package dev.keyway.core.encoding;

import dev.keyway.core.KeywayException;

/** Lower-case hex, strict on input (even length, hex digits only; whitespace is the caller's job). */
public final class Hex {
    private static final char[] DIGITS = "0123456789abcdef".toCharArray();

    private Hex() {
    }

    public static String encode(byte[] bytes) {
        char[] out = new char[bytes.length * 2];
        for (int i = 0; i < bytes.length; i++) {
            out[2 * i] = DIGITS[(bytes[i] >> 4) & 0xf];
            out[2 * i + 1] = DIGITS[bytes[i] & 0xf];
        }
        return new String(out);
    }

    /**
     * Decodes hex, accepting either case.
     *
     * @param what names the value in the error message, e.g. "--salt"
     */
    public static byte[] decode(CharSequence hex, String what) {
        int n = hex.length();
        if (n % 2 != 0) {
            throw KeywayException.malformed(what + " is not valid hex (odd number of digits)",
                    "give two hex digits per byte");
        }
        byte[] out = new byte[n / 2];
        for (int i = 0; i < n; i += 2) {
            int hi = digit(hex.charAt(i));
            int lo = digit(hex.charAt(i + 1));
            if (hi < 0 || lo < 0) {
                throw KeywayException.malformed(what + " is not valid hex (bad character at position " + (hi < 0 ? i + 1 : i + 2) + ")",
                        "use only the digits 0-9 and a-f");
            }
            out[i / 2] = (byte) ((hi << 4) | lo);
        }
        return out;
    }

    /** ASCII hex only: Character.digit would also accept other scripts' digits. */
    private static int digit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}
