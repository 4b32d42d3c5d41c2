package dev.keyway.core.encoding;

import java.nio.charset.StandardCharsets;

/**
 * Makes text that came from a file, a database or a peer safe to print on a terminal. Such text must
 * not be able to move the cursor, change colours, start a new line that looks like Keyway's own output,
 * or reorder what follows it, so every character that could is shown as an escape sequence instead:
 * <ul>
 *   <li>{@code \n}, {@code \r}, {@code \t} as those two characters; the backslash as {@code \\} (so an
 *       escape in the output always means Keyway put it there);</li>
 *   <li>other C0 controls, DEL and C1 controls as {@code \xNN} (ESC is {@code \x1b});</li>
 *   <li>Unicode format and separator characters that change layout (bidirectional overrides and
 *       isolates, line and paragraph separators, zero-width characters) and lone surrogates as
 *       a backslash, {@code u}, and the code point in hex in braces (U+202E as {@code \}{@code u{202E}}).</li>
 * </ul>
 * Everything else, including non-ASCII letters, is kept. Use it for human-readable output only;
 * {@code --json} output is escaped by the JSON writer and must stay exact.
 */
public final class Printable {
    private Printable() {
    }

    /** {@code text} with every control or layout character escaped; null stays null. */
    public static String escape(String text) {
        if (text == null) {
            return null;
        }
        if (isClean(text)) {
            return text;
        }
        StringBuilder sb = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, text.charAt(i + 1));
                if (unsafe(cp)) {
                    sb.append(String.format("\\u{%04X}", cp));
                } else {
                    sb.append(c).append(text.charAt(i + 1));
                }
                i++;
                continue;
            }
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else if (Character.isSurrogate(c) || unsafe(c)) {
                        sb.append(String.format("\\u{%04X}", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }

    /**
     * Whether {@code text} can be printed as it is: it holds no character {@link #escape} would escape,
     * backslashes aside. A message that carries text escaped already (or a name such as {@code C:\dir})
     * passes; one with a raw control or layout character does not. Null passes.
     */
    public static boolean isPrintable(String text) {
        if (text == null) {
            return true;
        }
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xD800 && cp <= 0xDFFF) || unsafe(cp)) {
                return false;
            }
            i += Character.charCount(cp);
        }
        return true;
    }

    /** Bytes decoded as UTF-8 (malformed sequences become U+FFFD), then escaped. */
    public static String escape(byte[] utf8) {
        return escape(new String(utf8, StandardCharsets.UTF_8));
    }

    private static boolean isClean(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == '\\' || c >= 0x7f && (c <= 0x9f || Character.isSurrogate(c) || unsafe(c))) {
                return false;
            }
        }
        return true;
    }

    /** Format characters (bidi controls, zero-width joiners, BOM...), line and paragraph separators, unassigned private controls. */
    private static boolean unsafe(int cp) {
        int type = Character.getType(cp);
        return type == Character.FORMAT || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR
                || type == Character.CONTROL;
    }
}
