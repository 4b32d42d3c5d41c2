package dev.keyway.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.IdentityFile;
import dev.keyway.core.io.AtomicFile;
import dev.keyway.core.keys.SessionKey;

import java.io.ByteArrayOutputStream;
import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reading inputs and secrets, writing outputs: the same rules for every command. */
final class CliIo {
    /** Secrets (passwords, passphrases) larger than this are refused before reading. */
    static final int MAX_SECRET = 64 * 1024;

    private CliIo() {
    }

    /**
     * The exit-code rule for inputs (README, "Tour of the commands"): an input that is not what the command needs
     * is exit 2, whether it is missing, a directory, empty or not Keyway's; exit 1 is left to the system failing to
     * read (permission denied, an I/O error), and 3 to a real Keyway input that fails authentication.
     */
    static Path inputFile(String path, String what) {
        Path p = Path.of(path);
        if (Files.isDirectory(p)) {
            throw KeywayException.usage(what + " " + path + " is a directory", "give a file");
        }
        if (!Files.exists(p)) {
            throw KeywayException.usage("cannot read " + what + " " + path + " (no such file)", "check the path");
        }
        return p;
    }

    /** Reads a file, or standard input for "-" or null, refusing more than {@code max} bytes. */
    static byte[] readInput(String path, int max, String what) {
        try {
            if (path == null || path.equals("-")) {
                return readBounded(System.in, max, what + " on standard input");
            }
            Path p = inputFile(path, what);
            if (Files.isRegularFile(p) && Files.size(p) > max) {
                throw KeywayException.malformed(what + " " + path + " is too large (at most " + max + " bytes)",
                        "check that this is the right file");
            }
            try (InputStream in = Files.newInputStream(p)) {
                return readBounded(in, max, what + " " + path);
            }
        } catch (NoSuchFileException e) {
            throw KeywayException.usage("cannot read " + what + " " + path + " (no such file)", "check the path");
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read " + what + " " + path + " (" + AtomicFile.describe(e) + ")",
                    "check the path and its permissions");
        }
    }

    private static byte[] readBounded(InputStream in, int max, String what) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            if (out.size() + n > max) {
                throw KeywayException.malformed(what + " is too large (at most " + max + " bytes)", "check the input");
            }
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    /**
     * Reads a password or passphrase file ("-" for standard input). One trailing newline (LF or CRLF) is
     * removed, so {@code echo secret > file} and {@code printf secret > file} give the same key.
     */
    static byte[] readSecret(String path, String what) {
        byte[] raw = readInput(path, MAX_SECRET, what);
        int n = raw.length;
        if (n > 0 && raw[n - 1] == '\n') {
            n--;
            if (n > 0 && raw[n - 1] == '\r') {
                n--;
            }
        }
        byte[] secret = Arrays.copyOf(raw, n);
        Arrays.fill(raw, (byte) 0);
        if (secret.length == 0) {
            throw KeywayException.usage(what + " " + path + " is empty", "put the secret in the file");
        }
        return secret;
    }

    /** Asks for a passphrase on the terminal, or fails if there is none. */
    static byte[] promptPassphrase(String prompt, String flag, boolean confirm) {
        Console console = System.console();
        if (console == null || !isTerminal(console)) {
            throw KeywayException.usage(prompt + ": no terminal to ask on", "give " + flag);
        }
        char[] first = console.readPassword("%s: ", prompt);
        if (first == null || first.length == 0) {
            throw KeywayException.usage("no passphrase given", "type a passphrase or give " + flag);
        }
        if (confirm) {
            char[] again = console.readPassword("Confirm passphrase: ");
            if (again == null || !Arrays.equals(first, again)) {
                throw KeywayException.usage("the passphrases do not match", "try again");
            }
            Arrays.fill(again, '\0');
        }
        var bb = StandardCharsets.UTF_8.encode(CharBuffer.wrap(first));
        byte[] out = new byte[bb.remaining()];
        bb.get(out);
        Arrays.fill(first, '\0');
        if (bb.hasArray()) {
            Arrays.fill(bb.array(), (byte) 0);
        }
        return out;
    }

    /**
     * The one flag every command that reads a sealed identity takes for its passphrase (issue 19: the hint
     * once said --passphrase-file, which on encrypt and decrypt means a passphrase-encrypted file).
     */
    static final String IDENTITY_PASSPHRASE_FLAG = "--identity-passphrase-file";

    /** JDK 22 and later give a Console without a terminal too; only a terminal is asked (Console.isTerminal, JDK 22+). */
    private static boolean isTerminal(Console console) {
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true; // JDK 17 to 21: a Console exists only on a terminal
        }
    }

    /** Reads an identity file, asking for its passphrase (file or terminal) only if it is encrypted. */
    static Identity readIdentity(String path, String passphraseFile) {
        return IdentityFile.read(inputFile(path, "identity file"), file -> passphraseFile != null
                ? readSecret(passphraseFile, "identity passphrase file")
                : promptPassphrase("Passphrase for identity " + file, IDENTITY_PASSPHRASE_FLAG + " FILE", false));
    }

    /** Reads several identity files; if one fails, those already read are destroyed. */
    static List<Identity> readIdentities(List<String> paths, String passphraseFile) {
        List<Identity> ids = new ArrayList<>();
        try {
            for (String path : paths) {
                ids.add(readIdentity(path, passphraseFile));
            }
            return ids;
        } catch (RuntimeException e) {
            ids.forEach(Identity::destroy);
            throw e;
        }
    }

    /**
     * Writes {@code text} to standard output, or to {@code path} (created atomically; never overwriting;
     * mode 0600 when {@code secret}).
     */
    static void emit(PrintWriter out, String path, String text, boolean secret) {
        if (path == null || path.equals("-")) {
            out.print(text);
            out.flush();
        } else {
            AtomicFile.write(Path.of(path), text.getBytes(StandardCharsets.UTF_8), secret);
        }
    }

    /** Built on first use: most commands print no JSON and should not pay for Jackson at start-up. */
    static ObjectMapper jsonMapper() {
        return JsonHolder.MAPPER;
    }

    private static final class JsonHolder {
        static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }

    /** How every command prints a session key: hex, or a JSON object with its algorithm and length. */
    static String keyText(SessionKey key, boolean json, Map<String, Object> extra) {
        byte[] k = key.bytes();
        try {
            if (!json) {
                return Hex.encode(k) + "\n";
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", Hex.encode(k));
            m.put("algorithm", key.algorithm().name());
            m.put("bits", key.bits());
            if (key.algorithm().isLegacy()) {
                m.put("legacy", true);
            }
            if (extra != null) {
                m.putAll(extra);
            }
            return json(m);
        } finally {
            Arrays.fill(k, (byte) 0);
        }
    }

    /**
     * A message for standard error, made safe as a last line of defence: text from outside should have
     * been escaped where it entered the message, but if a raw control or layout character is left, the
     * whole message is escaped, so it stays one line and cannot drive the terminal.
     */
    static String errorText(String message) {
        return Printable.isPrintable(message) ? message : Printable.escape(message);
    }

    /** A read or write failure in a streaming command, as one line. */
    static KeywayException ioFailure(IOException e) {
        return new KeywayException(ErrorCode.IO, "input/output failed (" + AtomicFile.describe(e) + ")",
                "check the input and output paths, and free disk space");
    }

    static String json(Map<String, ?> value) {
        try {
            return jsonMapper().writeValueAsString(value) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
