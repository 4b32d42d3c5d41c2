package dev.keyway.core.encoding;

import dev.keyway.core.KeywayException;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEM (RFC 7468): {@code -----BEGIN <LABEL>-----}, base64 of DER in lines of 64 characters,
 * {@code -----END <LABEL>-----}. The one codec for every PEM-style text Keyway reads or writes (RSA keys,
 * certificates, TLS session files, the authority's files; {@code core.armor.Armor} writes its blocks with it).
 * Writing is exact (LF line ends). Reading takes what OpenSSL writes: text between blocks is ignored, CRLF is
 * accepted, lines may be of any length, RFC 1421 headers ({@code Proc-Type: 4,ENCRYPTED}) are kept for the
 * caller to judge; the END label must match the BEGIN label, the body must be base64, and the input is bounded.
 * Anything wrong is a {@link KeywayException} (MALFORMED).
 */
public final class Pem {
    /** Characters per base64 line when writing. */
    public static final int LINE = 64;
    /** The default bound on PEM text read: far above any real key, certificate chain or session file. */
    public static final int MAX_CHARS = 1 << 20;

    private static final Pattern BEGIN = Pattern.compile("-----BEGIN ([\\x21-\\x2C\\x2E-\\x7E](?:[ \\x21-\\x2C\\x2E-\\x7E]*[\\x21-\\x2C\\x2E-\\x7E])?)-----");
    private static final Pattern END = Pattern.compile("-----END ([^-]*)-----");
    private static final Pattern HEADER = Pattern.compile("([A-Za-z0-9-]+): ?(.*)");

    private Pem() {
    }

    /** One block: its label, its RFC 1421 headers (usually none) and the DER bytes. */
    public record Block(String label, Map<String, String> headers, byte[] der) {
        public Block {
            headers = Map.copyOf(headers);
        }

        /** True for OpenSSL's traditional encrypted keys ({@code Proc-Type: 4,ENCRYPTED}). */
        public boolean encrypted() {
            String type = headers.get("Proc-Type");
            return type != null && type.contains("ENCRYPTED");
        }
    }

    public static String beginLine(String label) {
        return "-----BEGIN " + label + "-----";
    }

    public static String endLine(String label) {
        return "-----END " + label + "-----";
    }

    /** One block: the BEGIN line, base64 in lines of {@value #LINE} characters (the last may be shorter), the END line. */
    public static String encode(String label, byte[] der) {
        String b64 = Base64.getEncoder().encodeToString(der);
        StringBuilder sb = new StringBuilder(b64.length() + b64.length() / LINE + 2 * label.length() + 40);
        sb.append(beginLine(label)).append('\n');
        for (int i = 0; i < b64.length(); i += LINE) {
            sb.append(b64, i, Math.min(b64.length(), i + LINE)).append('\n');
        }
        return sb.append(endLine(label)).append('\n').toString();
    }

    /** Every block in {@code text}, in order; {@code what} names the input in messages (e.g. "certificate file"). */
    public static List<Block> decodeAll(String text, String what) {
        return decodeAll(text, MAX_CHARS, what);
    }

    /** Every block in {@code text}, in order, refusing text longer than {@code maxChars}. */
    public static List<Block> decodeAll(String text, int maxChars, String what) {
        if (text.length() > maxChars) {
            throw KeywayException.malformed("the " + what + " is too large (" + text.length() + " characters, at most "
                    + maxChars + ")", "check that this is the right file");
        }
        List<Block> out = new ArrayList<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            Matcher begin = BEGIN.matcher(lines[i].strip());
            if (begin.matches()) {
                i = block(lines, i + 1, begin.group(1), what, out);
            } else if (lines[i].strip().startsWith("-----BEGIN ")) {
                String line = lines[i].strip();
                throw KeywayException.malformed("the " + what + " has a malformed BEGIN line ("
                        + Printable.escape(line.length() > 80 ? line.substring(0, 80) + "..." : line) + ")", "check that the file is intact");
            }
        }
        return out;
    }

    /** The first block labelled {@code label}, or null when there is none (other blocks are passed over). */
    public static Block find(String text, String label, int maxChars, String what) {
        for (Block b : decodeAll(text, maxChars, what)) {
            if (b.label().equals(label)) {
                return b;
            }
        }
        return null;
    }

    /** The DER of the first block labelled {@code label}, reading at most {@link #MAX_CHARS}. */
    public static byte[] decode(String text, String label, String what) {
        return decode(text, label, MAX_CHARS, what);
    }

    /** The DER of the first block labelled {@code label}; none is an error that names the label. */
    public static byte[] decode(String text, String label, int maxChars, String what) {
        Block b = find(text, label, maxChars, what);
        if (b == null) {
            throw KeywayException.malformed("the " + what + " has no " + label + " block (" + beginLine(label) + ")",
                    "check that this is the right file");
        }
        return b.der();
    }

    /** Reads one block's headers and body from line {@code from}; returns the index of its END line. */
    private static int block(String[] lines, int from, String label, String what, List<Block> out) {
        Map<String, String> headers = new LinkedHashMap<>();
        StringBuilder b64 = new StringBuilder();
        boolean inHeaders = true;
        for (int i = from; i < lines.length; i++) {
            String line = lines[i].strip();
            Matcher end = END.matcher(line);
            if (end.matches()) {
                if (!end.group(1).equals(label)) {
                    throw KeywayException.malformed("the " + what + " has a " + label + " block that ends with END "
                            + Printable.escape(end.group(1)), "check that the file is intact");
                }
                out.add(new Block(label, headers, base64(b64, label, what)));
                return i;
            }
            Matcher header = HEADER.matcher(line);
            if (inHeaders && header.matches()) {
                headers.put(header.group(1), header.group(2));
                continue;
            }
            inHeaders = false;
            b64.append(line);
        }
        throw KeywayException.malformed("the " + what + " has a " + label + " block without its END line (truncated?)",
                "give the whole file");
    }

    private static byte[] base64(StringBuilder b64, String label, String what) {
        try {
            return Base64.getDecoder().decode(b64.toString());
        } catch (IllegalArgumentException e) {
            throw KeywayException.malformed("the " + label + " block of the " + what + " is not valid base64",
                    "check that the file is intact");
        }
    }
}
