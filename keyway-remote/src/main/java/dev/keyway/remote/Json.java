package dev.keyway.remote;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.io.AtomicFile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/** The module's JSON files: strict reading with bounded sizes, and atomic replacement on write. */
final class Json {
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();
    /** No file of this module is near this size; a larger one is not ours. */
    static final int MAX_FILE = 16 << 20;

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(32).build());
    }

    private Json() {
    }

    /** The file's JSON, or null when it does not exist. */
    static JsonNode read(Path file) {
        byte[] bytes = readBytes(file);
        return bytes == null ? null : parse(file, bytes);
    }

    /** The file's bytes (at most {@link #MAX_FILE}), or null when it does not exist. */
    static byte[] readBytes(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(MAX_FILE + 1);
            if (bytes.length > MAX_FILE) {
                throw KeywayException.malformed(file + " is over " + MAX_FILE + " bytes, too large to be ours", "check the path");
            }
            return bytes;
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read " + file + " (" + AtomicFile.describe(e) + ")", "check its permissions");
        }
    }

    /** {@code bytes} (read from {@code file}, named in errors) as JSON. */
    static JsonNode parse(Path file, byte[] bytes) {
        try {
            return MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw KeywayException.malformed(file + " is not valid JSON (line " + e.getLocation().getLineNr() + ")",
                    "fix or restore the file");
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read " + file + " (" + AtomicFile.describe(e) + ")", "check its permissions");
        }
    }

    /** Replaces {@code file} with {@code node} (pretty-printed) at once: a reader sees the old file or the new, never half. */
    static void replace(Path file, JsonNode node, boolean privateFile) {
        try {
            replaceBytes(file, MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(node), privateFile);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always writes", e);
        }
    }

    static void replaceBytes(Path file, byte[] bytes, boolean privateFile) {
        Path abs = file.toAbsolutePath();
        Path tmp = null;
        try {
            tmp = privateFile
                    ? Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp",
                    PosixFilePermissions.asFileAttribute(AtomicFile.PRIVATE))
                    : Files.createTempFile(abs.getParent(), "." + abs.getFileName(), ".tmp");
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot write " + file + " (" + AtomicFile.describe(e) + ")",
                    "check the directory exists and is writable");
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the temporary file stays; it is never read
                }
            }
        }
    }
}
