package dev.keyway.core.armor;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Reads {@link Armor}'s text form as a stream of the bytes it encodes, with the same strictness as
 * {@link Armor#decode}: the BEGIN line first (blank lines before it are allowed), data lines of exactly 64
 * characters but the last, canonical base64, the END line, then nothing but blank lines. A stream that
 * ends before the END line is reported as truncated (AUTH_FAILED), any other deviation as MALFORMED.
 */
public final class ArmorInputStream extends InputStream {
    private static final int MAX_LINE = 128;

    private final InputStream in;
    private final String label;
    private final String what;
    private final byte[] line = new byte[MAX_LINE + 2];
    private final byte[] rawBuf = new byte[64 * 1024];
    private int rawPos;
    private int rawLen;
    private int lineNumber;
    private byte[] decoded = new byte[0];
    private int decodedPos;
    private boolean sawShortLine;
    private boolean ended;

    public ArmorInputStream(InputStream in, String label, String what) {
        this.in = in;
        this.label = label;
        this.what = what;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (decodedPos == decoded.length) {
            if (ended || !nextDataLine()) {
                return -1;
            }
        }
        int n = Math.min(len, decoded.length - decodedPos);
        System.arraycopy(decoded, decodedPos, b, off, n);
        decodedPos += n;
        return n;
    }

    /** Reads the next line; false at the END line (after checking what follows it). */
    private boolean nextDataLine() throws IOException {
        if (lineNumber == 0) {
            int n;
            do {
                n = readLine();
                if (n < 0) {
                    throw KeywayException.malformed(what + " is empty", "give the file exactly as Keyway wrote it");
                }
            } while (n == 0);
            if (!new String(line, 0, n, StandardCharsets.US_ASCII).equals(Armor.begin(label))) {
                throw KeywayException.malformed(what + " does not start with '" + Armor.begin(label) + "'",
                        "give the file exactly as Keyway wrote it");
            }
        }
        int n = readLine();
        if (n < 0) {
            throw new KeywayException(ErrorCode.AUTH_FAILED, what + " is truncated (no END line)", "give the whole file");
        }
        String text = new String(line, 0, n, StandardCharsets.US_ASCII);
        if (text.equals(Armor.end(label))) {
            ended = true;
            int rest;
            while ((rest = readLine()) == 0) {
                // blank lines after the END line are tolerated
            }
            if (rest > 0) {
                throw KeywayException.malformed(what + " has data after its END line (line " + lineNumber + ")",
                        "give the file exactly as Keyway wrote it");
            }
            return false;
        }
        if (sawShortLine || n == 0 || n > Armor.LINE) {
            throw malformedLine();
        }
        if (n < Armor.LINE) {
            sawShortLine = true;
        }
        try {
            decoded = Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw KeywayException.malformed(what + " is not valid base64 (line " + lineNumber + ")",
                    "give the file exactly as Keyway wrote it");
        }
        if ((n == Armor.LINE && text.indexOf('=') >= 0) || !Base64.getEncoder().encodeToString(decoded).equals(text)) {
            throw KeywayException.malformed(what + " is not in canonical base64 (line " + lineNumber + ")",
                    "give the file exactly as Keyway wrote it");
        }
        decodedPos = 0;
        return true;
    }

    private KeywayException malformedLine() {
        return KeywayException.malformed(what + " has a malformed line " + lineNumber + " (lines must be " + Armor.LINE
                + " characters, the last may be shorter)", "give the file exactly as Keyway wrote it");
    }

    /** Reads one line (LF or CRLF) into {@link #line}; its length, or -1 at the end of input. */
    private int readLine() throws IOException {
        int n = 0;
        boolean any = false;
        while (true) {
            if (rawPos == rawLen) {
                rawLen = in.read(rawBuf, 0, rawBuf.length);
                rawPos = 0;
                if (rawLen <= 0) {
                    rawLen = 0;
                    if (!any) {
                        return -1;
                    }
                    lineNumber++;
                    return stripCr(n);
                }
            }
            byte c = rawBuf[rawPos++];
            any = true;
            if (c == '\n') {
                lineNumber++;
                return stripCr(n);
            }
            if (n == line.length) {
                lineNumber++;
                throw malformedLine();
            }
            line[n++] = c;
        }
    }

    private int stripCr(int n) {
        return n > 0 && line[n - 1] == '\r' ? n - 1 : n;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
