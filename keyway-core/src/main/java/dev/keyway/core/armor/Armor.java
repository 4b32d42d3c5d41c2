package dev.keyway.core.armor;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Pem;

import java.util.Base64;
import java.util.Locale;

/**
 * Keyway's PEM-like armor: {@code -----BEGIN KEYWAY <LABEL>-----}, standard base64 in lines of exactly 64
 * characters (the last may be shorter), {@code -----END KEYWAY <LABEL>-----}. Strict on input, as age is:
 * one canonical encoding per byte string, so a re-encoded or padded copy is refused rather than guessed at.
 * Line endings LF or CRLF; leading and trailing blank lines are tolerated, nothing else. Written by the shared
 * {@link Pem} codec (the same lines); read here, more strictly than {@link Pem} reads other PEM.
 */
public final class Armor {
    public static final int LINE = Pem.LINE;

    private Armor() {
    }

    public static String encode(String label, byte[] data) {
        return Pem.encode(pemLabel(label), data);
    }

    /** True when the text starts (after blank lines) with this label's BEGIN line. */
    public static boolean isArmored(String text, String label) {
        return text.stripLeading().startsWith(begin(label));
    }

    /**
     * Decodes armored text.
     *
     * @param maxBytes bound on the decoded size, checked before decoding
     */
    public static byte[] decode(String text, String label, int maxBytes) {
        String what = "armored " + label.toLowerCase(Locale.ROOT);
        long maxChars = (maxBytes + 2L) / 3 * 4 + ((maxBytes + 2L) / 3 * 4) / LINE * 2 + 200;
        if (text.length() > maxChars) {
            throw KeywayException.malformed(what + " is too large (at most " + maxBytes + " bytes)",
                    "check that this is the right file");
        }
        String[] lines = text.replace("\r\n", "\n").strip().split("\n", -1);
        if (lines.length < 2 || !lines[0].equals(begin(label))) {
            throw KeywayException.malformed(what + " does not start with '" + begin(label) + "'",
                    "give the file exactly as Keyway wrote it");
        }
        if (!lines[lines.length - 1].equals(end(label))) {
            throw KeywayException.malformed(what + " does not end with '" + end(label) + "' (truncated?)",
                    "give the whole file");
        }
        StringBuilder b64 = new StringBuilder();
        for (int i = 1; i < lines.length - 1; i++) {
            String line = lines[i];
            boolean last = i == lines.length - 2;
            if (line.isEmpty() || line.length() > LINE || (!last && line.length() != LINE)) {
                throw KeywayException.malformed(what + " has a malformed line " + (i + 1)
                        + " (lines must be " + LINE + " characters, the last may be shorter)",
                        "give the file exactly as Keyway wrote it");
            }
            b64.append(line);
        }
        byte[] data;
        try {
            data = Base64.getDecoder().decode(b64.toString());
        } catch (IllegalArgumentException e) {
            throw KeywayException.malformed(what + " is not valid base64", "give the file exactly as Keyway wrote it");
        }
        if (!Base64.getEncoder().encodeToString(data).contentEquals(b64)) {
            throw KeywayException.malformed(what + " is not in canonical base64", "give the file exactly as Keyway wrote it");
        }
        if (data.length > maxBytes) {
            throw KeywayException.malformed(what + " is too large (" + data.length + " bytes, at most " + maxBytes + ")",
                    "check that this is the right file");
        }
        return data;
    }

    public static String begin(String label) {
        return Pem.beginLine(pemLabel(label));
    }

    public static String end(String label) {
        return Pem.endLine(pemLabel(label));
    }

    private static String pemLabel(String label) {
        return "KEYWAY " + label;
    }
}
