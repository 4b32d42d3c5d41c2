package dev.keyway.core.identity;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.io.AtomicFile;

import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Resolves recipients given on a command line: recipient strings ({@code -r}) and recipients files
 * ({@code -R}), one recipient per line, blank lines and lines starting with {@code #} ignored, as age does.
 * Duplicates collapse to one; the order of first appearance is kept.
 */
public final class Recipients {
    /** A recipients file larger than this is refused before reading. */
    public static final int MAX_FILE = 4 * 1024 * 1024;

    private Recipients() {
    }

    /** Parses recipient strings, naming the offending one in an error. */
    public static List<Recipient> parse(List<String> strings) {
        Set<Recipient> out = new LinkedHashSet<>();
        for (String s : strings) {
            out.add(parseOne(s, "recipient '" + shorten(s) + "'"));
        }
        return new ArrayList<>(out);
    }

    /** Reads a recipients file. */
    public static List<Recipient> readFile(Path file) {
        List<String> lines;
        try {
            if (Files.size(file) > MAX_FILE) {
                throw KeywayException.malformed("recipients file " + file + " is too large (at most " + MAX_FILE + " bytes)",
                        "check that this is a recipients file");
            }
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw KeywayException.usage("cannot read recipients file " + file + " (no such file)", "check the path");
        } catch (MalformedInputException e) {
            throw KeywayException.malformed("recipients file " + file + " is not UTF-8 text", "one recipient string per line");
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read recipients file " + file + " (" + AtomicFile.describe(e) + ")",
                    "check the path and its permissions");
        }
        Set<Recipient> out = new LinkedHashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            out.add(parseOne(line, "recipients file " + file + " line " + (i + 1)));
        }
        if (out.isEmpty()) {
            throw KeywayException.usage("recipients file " + file + " names no recipient", "put one recipient string per line");
        }
        return new ArrayList<>(out);
    }

    private static Recipient parseOne(String s, String where) {
        try {
            return Recipient.parse(s);
        } catch (KeywayException e) {
            throw new KeywayException(e.code(), where + ": " + e.getMessage(), e.hint(), e).hintId(e.hintId());
        }
    }

    private static String shorten(String s) {
        String t = s.strip();
        return t.length() > 24 ? t.substring(0, 24) + "..." : t;
    }
}
