package dev.keyway.capi;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the CryptoAPI known-answer files under src/test/resources/vectors/cryptoapi: {@code #} comments,
 * then blocks of {@code key = value} lines, each block starting with {@code id = ...} (blank lines between
 * blocks are optional). Values often carry a note after the data ("d5e1... (computed)"); the helpers
 * below take the data part.
 */
final class CapiVectors {
    private static final String DIR = "/vectors/cryptoapi/";
    private static final Pattern ALG_ID = Pattern.compile("\\(0x([0-9a-fA-F]{8})\\)");

    private CapiVectors() {
    }

    /** All blocks of one file, in file order, each a map from key to raw value. */
    static List<Map<String, String>> load(String file) {
        try (InputStream in = CapiVectors.class.getResourceAsStream(DIR + file)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + DIR + file);
            }
            List<Map<String, String>> blocks = new ArrayList<>();
            Map<String, String> current = null;
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\r?\n")) {
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#")) {
                    continue;
                }
                int eq = t.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalStateException("bad line in " + file + ": " + line);
                }
                String key = t.substring(0, eq).strip();
                String value = t.substring(eq + 1).strip();
                if (key.equals("id")) {
                    current = new LinkedHashMap<>();
                    blocks.add(current);
                } else if (current == null) {
                    throw new IllegalStateException("line before the first id in " + file + ": " + line);
                }
                if (current.put(key, value) != null) {
                    throw new IllegalStateException("duplicate key " + key + " in " + file + " block " + current.get("id"));
                }
            }
            return Collections.unmodifiableList(blocks);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The block with this id. */
    static Map<String, String> byId(String file, String id) {
        return load(file).stream().filter(b -> id.equals(b.get("id"))).findFirst()
                .orElseThrow(() -> new IllegalStateException("no block " + id + " in " + file));
    }

    /** A required field. */
    static String field(Map<String, String> block, String key) {
        String v = block.get(key);
        if (v == null) {
            throw new IllegalStateException("block " + block.get("id") + " has no " + key);
        }
        return v;
    }

    /**
     * The hex bytes of a field: the first token, or for {@code "text" + NUL = 4145...} the token after the
     * last {@code "= "}.
     */
    static byte[] hex(Map<String, String> block, String key) {
        return hexOf(field(block, key));
    }

    static byte[] hexOf(String value) {
        String v = value.strip();
        if (v.startsWith("\"")) {
            v = v.substring(v.lastIndexOf("= ") + 2).strip();
        }
        int space = v.indexOf(' ');
        String token = space < 0 ? v : v.substring(0, space);
        return HexFormat.of().parseHex(token);
    }

    /** The ALG_ID written as "(0x0000660e)" in a field such as cipher_alg. */
    static int algId(Map<String, String> block, String key) {
        Matcher m = ALG_ID.matcher(field(block, key));
        if (!m.find()) {
            throw new IllegalStateException("no (0x........) ALG_ID in " + key + " of " + block.get("id"));
        }
        return Integer.parseInt(m.group(1), 16);
    }

    /** The leading integer of a field such as "key_bits = 128 (provider default)". */
    static int leadingInt(Map<String, String> block, String key) {
        String v = field(block, key).strip();
        int end = 0;
        while (end < v.length() && Character.isDigit(v.charAt(end))) {
            end++;
        }
        return Integer.parseInt(v.substring(0, end));
    }

    /**
     * The providers a vector names, before any parenthesised note: wincrypt constants (MS_ENHANCED_PROV)
     * or the words Base, Enhanced, Strong.
     */
    static Set<Provider> providers(Map<String, String> block) {
        String v = field(block, "providers");
        int paren = v.indexOf('(');
        String head = (paren < 0 ? v : v.substring(0, paren)).toLowerCase(Locale.ROOT);
        Set<Provider> out = EnumSet.noneOf(Provider.class);
        for (Provider p : Provider.values()) {
            if (head.contains(p.constant().toLowerCase(Locale.ROOT))
                    || Pattern.compile("(^|[^a-z_])" + p.cliName() + "($|[^a-z_])").matcher(head).find()) {
                out.add(p);
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("no provider named in " + block.get("id") + ": " + v);
        }
        return out;
    }

    /** Bytes (i + start) mod 256 for i = 0..n-1, the test buffers of Wine's rsaenh tests. */
    static byte[] counting(int start, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i + start);
        }
        return b;
    }

    static String hexString(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
