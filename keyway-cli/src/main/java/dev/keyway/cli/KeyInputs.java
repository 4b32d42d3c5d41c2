package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.IdentityFile;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.identity.Recipients;
import dev.keyway.core.keys.Algorithm;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Parsing of session-key and key-encryption-key files as the CLI reads them. */
final class KeyInputs {
    static final int MAX_KEY_FILE = 4096;

    private KeyInputs() {
    }

    /** Recipient strings given with -r or --add: a file name among them gets a hint that says what to do. */
    static List<Recipient> recipients(List<String> values) {
        try {
            return Recipients.parse(values);
        } catch (KeywayException e) {
            values.forEach(KeyInputs::refuseFileName);
            throw e;
        }
    }

    /** One recipient string (-r, --expect-signer), with the same hint. */
    static Recipient recipient(String value) {
        try {
            return Recipient.parse(value);
        } catch (KeywayException e) {
            refuseFileName(value);
            throw e;
        }
    }

    /** A file name where a recipient string belongs (an identity file, most likely): say which command helps. */
    private static void refuseFileName(String value) {
        Path p;
        try {
            p = Path.of(value);
        } catch (InvalidPathException e) {
            return;
        }
        if (value.isEmpty() || !Files.isRegularFile(p)) {
            return;
        }
        String shown = Printable.escape(value);
        try {
            IdentityFile.header(p);
        } catch (KeywayException notIdentity) {
            throw KeywayException.usage("'" + shown + "' is a file, not a recipient string",
                    "give a recipient string (kw...), or a file of them with -R " + shown);
        }
        throw KeywayException.usage("'" + shown + "' is a file, not a recipient string: this looks like an identity file",
                "use \"$(keyway pubkey -i " + shown + ")\" (keyway pubkey -i " + shown + " prints its recipient string)");
    }

    /**
     * A session key from a file: hex as 'keyway key new' prints it, or the JSON of 'key new --json'
     * (which also names the algorithm). {@code alg}, when given, wins.
     */
    static SessionKey sessionKey(String path, String alg) {
        byte[] raw = CliIo.readInput(path, MAX_KEY_FILE, "key file");
        String text = new String(raw, StandardCharsets.UTF_8).strip();
        Arrays.fill(raw, (byte) 0);
        String hex = text;
        String named = null;
        if (text.startsWith("{")) {
            try {
                JsonNode node = CliIo.jsonMapper().readTree(text);
                hex = node.path("key").asText("");
                named = node.hasNonNull("algorithm") ? node.get("algorithm").asText() : null;
            } catch (IOException e) {
                throw KeywayException.malformed("key file " + where(path) + " is not valid JSON", "give the key as hex or as 'keyway key new --json' printed it");
            }
        }
        if (hex.isEmpty()) {
            throw KeywayException.malformed("key file " + where(path) + " holds no key", "give the key as hex, as 'keyway key new' prints it");
        }
        Algorithm a = Algorithms.byName(alg != null ? alg : named != null ? named : Algorithms.DEFAULT.name());
        byte[] key = Hex.decode(hex.replaceAll("\\s+", ""), "key in " + where(path));
        try {
            return SessionKey.of(a, key);
        } catch (KeywayException e) {
            if (alg == null && named == null) {
                throw new KeywayException(ErrorCode.POLICY, e.getMessage(), "name its algorithm with --alg (see 'keyway algorithms')");
            }
            throw e;
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** A key-encryption key: hex of 16, 24 or 32 bytes, or those bytes raw. */
    static SessionKey kek(String path) {
        byte[] raw = CliIo.readInput(path, MAX_KEY_FILE, "key-encryption key file");
        byte[] key = null;
        try {
            if (raw.length == 16 || raw.length == 24 || raw.length == 32) {
                boolean allHex = true;
                for (byte b : raw) {
                    allHex &= Character.digit(b, 16) >= 0;
                }
                if (!allHex || raw.length == 24) {
                    key = raw.clone();
                }
            }
            if (key == null) {
                String text = new String(raw, StandardCharsets.US_ASCII).strip();
                if (text.startsWith("{")) {
                    text = CliIo.jsonMapper().readTree(text).path("key").asText("");
                }
                key = Hex.decode(text, "key-encryption key in " + path);
            }
            return SessionKey.of(Algorithms.AES_KW, key);
        } catch (IOException e) {
            throw KeywayException.malformed("key-encryption key file " + path + " is not valid JSON", "give the key as hex");
        } finally {
            Arrays.fill(raw, (byte) 0);
            if (key != null) {
                Arrays.fill(key, (byte) 0);
            }
        }
    }

    static String where(String path) {
        return path == null || path.equals("-") ? "(standard input)" : path;
    }
}
