package dev.keyway.core;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the known-answer vector files under src/test/resources/vectors: {@code [section]} headers,
 * {@code key = value} lines, indented continuation lines and {@code #} comments.
 */
public final class Vectors {
    private Vectors() {
    }

    public static Map<String, Map<String, String>> load(String resource) {
        try (InputStream in = Vectors.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + resource);
            }
            Map<String, Map<String, String>> sections = new LinkedHashMap<>();
            Map<String, String> current = null;
            String lastKey = null;
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\r?\n")) {
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#")) {
                    continue;
                }
                if (t.startsWith("[") && t.endsWith("]")) {
                    current = new LinkedHashMap<>();
                    sections.put(t.substring(1, t.length() - 1), current);
                    lastKey = null;
                } else if (Character.isWhitespace(line.charAt(0)) && lastKey != null) {
                    current.merge(lastKey, " " + t, String::concat);
                } else {
                    int eq = t.indexOf('=');
                    if (current == null || eq <= 0) {
                        throw new IllegalStateException("bad line in " + resource + ": " + line);
                    }
                    lastKey = t.substring(0, eq).strip();
                    if (current.put(lastKey, t.substring(eq + 1).strip()) != null) {
                        throw new IllegalStateException("duplicate key " + lastKey + " in " + resource);
                    }
                }
            }
            return sections;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
