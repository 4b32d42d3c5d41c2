package dev.keyway.core.identity;

import dev.keyway.core.KeywayException;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;

/**
 * An owner name, the person a backup authority keeps keys for, in its one canonical form: Unicode NFKC,
 * trimmed, each run of inner spaces one ASCII space; control and format characters are refused. Two spellings that normalize alike ("ａｌｉｃｅ",
 * "alice ") are the same owner; the escrow binding (docs/AUTHORITY.md) and the authority's store use
 * only this form. Which characters an authority accepts, and which names it refuses as look-alikes of
 * enrolled ones, is the authority's rule on top of this.
 */
public final class OwnerName {
    /** Most characters a normalized name may have. */
    public static final int MAX_CHARS = 128;
    /** Most UTF-8 bytes a normalized name may take (what binary formats bound it by). */
    public static final int MAX_BYTES = 4 * MAX_CHARS;

    private OwnerName() {
    }

    /**
     * The canonical form of {@code name}; refuses (bad input) an empty name, one longer than
     * {@link #MAX_CHARS}, and one holding a control, format or separator character or a lone surrogate.
     */
    public static String normalize(String name) {
        if (name == null) {
            throw KeywayException.usage("no owner name given", "give the name the owner enrolled under");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < name.length() && Character.isLowSurrogate(name.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw KeywayException.usage("an owner name holds a lone surrogate (not valid Unicode text)", "give the name as text");
            }
        }
        String nfkc = Normalizer.normalize(name, Normalizer.Form.NFKC);
        for (int i = 0; i < nfkc.length(); ) {
            int cp = nfkc.codePointAt(i);
            int type = Character.getType(cp);
            if (type == Character.CONTROL || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR || type == Character.UNASSIGNED || type == Character.PRIVATE_USE) {
                throw KeywayException.usage("the owner name holds a control, format or unassigned character (U+"
                        + String.format("%04X", cp) + ")", "use letters, digits, spaces and . _ @ -");
            }
            i += Character.charCount(cp);
        }
        String n = nfkc.replaceAll("\\p{Zs}+", " ").strip();
        if (n.isEmpty()) {
            throw KeywayException.usage("the owner name is empty", "give the name the owner enrolled under");
        }
        if (n.codePointCount(0, n.length()) > MAX_CHARS) {
            throw KeywayException.usage("the owner name is longer than " + MAX_CHARS + " characters", "give a shorter name");
        }
        return n;
    }

    /** Whether {@code name} is already in canonical form (what a reader of a binary format checks). */
    public static boolean isNormalized(String name) {
        try {
            return normalize(name).equals(name);
        } catch (KeywayException e) {
            return false;
        }
    }

    /** The UTF-8 bytes of a normalized name. */
    public static byte[] utf8(String normalized) {
        return normalized.getBytes(StandardCharsets.UTF_8);
    }
}
