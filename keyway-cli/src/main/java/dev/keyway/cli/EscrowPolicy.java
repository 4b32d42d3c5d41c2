package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.OwnerName;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.io.AtomicFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An escrow policy (docs/ENVELOPE.md, "Escrow policy"), what Windows EFS calls a recovery agent policy:
 * with one in force, {@code encrypt} always adds an escrow stanza for the authority it names, bound to
 * its owner, and {@code decrypt} refuses a file whose escrow stanza is missing, for another authority, or
 * does not recompute. The file is a few {@code keyword value} lines:
 *
 * <pre>
 * # comments and blank lines are ignored
 * authority kwxwing1...      the authority's recipient string (required)
 * owner alice                the name you enrolled under with it (needed to encrypt)
 * </pre>
 *
 * Found at {@code --policy FILE}, else {@code $KEYWAY_ESCROW_POLICY} (empty: no policy), else
 * {@code $XDG_CONFIG_HOME/keyway/escrow-policy} (default {@code ~/.config/keyway/escrow-policy}), else
 * {@code /etc/keyway/escrow-policy}.
 */
record EscrowPolicy(Path source, Recipient authority, String owner) {
    static final String ENV = "KEYWAY_ESCROW_POLICY";
    static final int MAX_FILE = 64 * 1024;

    /** The policy in force: the one {@code flag} names, or the first at the documented locations, or none. */
    static Optional<EscrowPolicy> find(String flag, Map<String, String> env) {
        if (flag != null) {
            return Optional.of(read(Path.of(flag)));
        }
        String fromEnv = env.get(ENV);
        if (fromEnv != null) {
            return fromEnv.isBlank() ? Optional.empty() : Optional.of(read(Path.of(fromEnv)));
        }
        for (Path p : defaultLocations(env)) {
            if (Files.exists(p)) {
                return Optional.of(read(p));
            }
        }
        return Optional.empty();
    }

    /** Where a policy is looked for when neither the flag nor the environment names one, in order. */
    static List<Path> defaultLocations(Map<String, String> env) {
        String xdg = env.get("XDG_CONFIG_HOME");
        Path config = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
        return List.of(config.resolve("keyway").resolve("escrow-policy"), Path.of("/etc/keyway/escrow-policy"));
    }

    static EscrowPolicy read(Path file) {
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_FILE) {
                throw KeywayException.usage("escrow policy " + file + " is larger than " + MAX_FILE + " bytes", "check the file");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw KeywayException.usage("cannot read escrow policy " + file + " (no such file)", "check the path");
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read escrow policy " + file + " (" + AtomicFile.describe(e) + ")",
                    "check the path");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw KeywayException.usage("escrow policy " + file + " is not UTF-8 text", "write it as shown in docs/ENVELOPE.md");
        }
        Recipient authority = null;
        String owner = null;
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = file + " line " + (i + 1);
            int sp = line.indexOf(' ');
            String key = sp < 0 ? line : line.substring(0, sp);
            String value = sp < 0 ? "" : line.substring(sp + 1).strip();
            switch (key) {
                case "authority" -> {
                    if (authority != null) {
                        throw KeywayException.usage(where + ": 'authority' is given twice", "name one authority");
                    }
                    try {
                        authority = Recipient.parse(value);
                    } catch (KeywayException e) {
                        throw KeywayException.usage(where + ": the authority is not a recipient string (" + e.getMessage() + ")",
                                "copy the recipient 'keyway authority init' printed");
                    }
                }
                case "owner" -> {
                    if (owner != null) {
                        throw KeywayException.usage(where + ": 'owner' is given twice", "name one owner");
                    }
                    try {
                        owner = OwnerName.normalize(value);
                    } catch (KeywayException e) {
                        throw KeywayException.usage(where + ": " + e.getMessage(), "give the name you enrolled under");
                    }
                }
                default -> throw KeywayException.usage(where + ": unknown keyword '" + Printable.escape(
                        key.length() > 40 ? key.substring(0, 40) + "..." : key) + "'", "the keywords are 'authority' and 'owner'");
            }
        }
        if (authority == null) {
            throw KeywayException.usage("escrow policy " + file + " names no authority", "add a line 'authority RECIPIENT'");
        }
        return new EscrowPolicy(file, authority, owner);
    }
}
