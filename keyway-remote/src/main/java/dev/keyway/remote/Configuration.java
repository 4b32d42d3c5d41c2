package dev.keyway.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Durations;
import dev.keyway.core.encoding.Printable;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A session configuration (PowerShell's session configuration, or an OpenSSH {@code Match} block with
 * {@code ForceCommand}): a named endpoint that decides who may open sessions in it, what runs there and within
 * which limits. Stored as {@code configurations/NAME.json} in the host directory; docs/REMOTE.md lists every field.
 * Unknown fields are refused, so a misspelt limit never silently falls back to a default.
 *
 * @param programs restricted configurations: the programs a command may run (absolute paths) with the pattern
 *                 each argument must match as a whole
 */
record Configuration(String name, Kind kind, List<String> allowedClients, Set<String> environment, Path workingDirectory,
                     Duration idleTimeout, Duration maxLifetime, int sessionsPerClient, int jobsPerSession,
                     int outputBuffer, WhenFull whenOutputFull, boolean fileTransfer, List<Program> programs) {
    static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    static final Pattern VARIABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    /** Variables no configuration may let a client set: they change what the loader or the shell runs. */
    static final Set<String> NEVER = Set.of("LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "PATH", "IFS", "ENV", "BASH_ENV",
            "SHELLOPTS", "PS4", "HOME", "USER", "LOGNAME", "SHELL", "KEYWAY_SESSION", "KEYWAY_RUN");
    private static final Set<String> FIELDS = Set.of("kind", "description", "allowedClients", "environment", "workingDirectory",
            "idleTimeout", "maxLifetime", "sessionsPerClient", "jobsPerSession", "outputBuffer", "whenOutputFull",
            "fileTransfer", "programs");

    enum Kind {
        /** A persistent /bin/sh per session. */
        SHELL,
        /** No shell: argv of allowed programs only; the host keeps the working directory and variables. */
        RESTRICTED
    }

    enum WhenFull {
        /** Stop reading the job's output: the job blocks in its next write until a receive makes room. */
        PAUSE,
        /** Keep the job running and drop what does not fit, counting the bytes dropped. */
        DROP
    }

    /** An allowed program of a restricted configuration. */
    record Program(String path, Pattern args) {
    }

    boolean allows(String clientName) {
        return allowedClients.contains(clientName) || allowedClients.contains("*");
    }

    /** The default configuration {@code keyway remote init} writes: a shell in the service user's home. */
    static ObjectNode defaultJson(Path home) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("kind", "shell");
        o.put("description", "A persistent /bin/sh per session, as the host service's user.");
        o.putArray("allowedClients");
        ArrayNode env = o.putArray("environment");
        for (String v : List.of("LANG", "LC_ALL", "TZ", "TERM")) {
            env.add(v);
        }
        o.put("workingDirectory", home.toString());
        o.put("idleTimeout", "2h");
        o.put("maxLifetime", "7d");
        o.put("sessionsPerClient", 16);
        o.put("jobsPerSession", 16);
        o.put("outputBuffer", 16 << 20);
        o.put("whenOutputFull", "pause");
        o.put("fileTransfer", true);
        return o;
    }

    static Configuration parse(String name, JsonNode o) {
        if (!o.isObject()) {
            throw bad(name, "is not a JSON object");
        }
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) {
                throw bad(name, "has an unknown field '" + Printable.escape(f) + "'");
            }
        }
        Kind kind = switch (text(name, o, "kind", "shell")) {
            case "shell" -> Kind.SHELL;
            case "restricted" -> Kind.RESTRICTED;
            default -> throw bad(name, "has kind '" + Printable.escape(o.get("kind").asText()) + "' (shell or restricted)");
        };
        List<String> clients = strings(name, o, "allowedClients");
        List<String> env = strings(name, o, "environment");
        for (String v : env) {
            if (!VARIABLE.matcher(v).matches() || NEVER.contains(v)) {
                throw bad(name, "lets clients set '" + Printable.escape(v) + "', which no configuration may");
            }
        }
        Path wd = Path.of(text(name, o, "workingDirectory", System.getProperty("user.home")));
        if (!wd.isAbsolute()) {
            throw bad(name, "has a relative workingDirectory");
        }
        WhenFull full = switch (text(name, o, "whenOutputFull", "pause")) {
            case "pause" -> WhenFull.PAUSE;
            case "drop" -> WhenFull.DROP;
            default -> throw bad(name, "has whenOutputFull other than pause or drop");
        };
        List<Program> programs = new ArrayList<>();
        JsonNode ps = o.get("programs");
        if (ps != null) {
            if (!ps.isArray()) {
                throw bad(name, "has programs that are not a list");
            }
            for (JsonNode p : ps) {
                programs.add(program(name, p));
            }
        }
        if (kind == Kind.RESTRICTED && programs.isEmpty()) {
            throw bad(name, "is restricted but allows no programs");
        }
        if (kind == Kind.SHELL && !programs.isEmpty()) {
            throw bad(name, "is a shell configuration with programs (a shell can run anything: use kind restricted)");
        }
        return new Configuration(name, kind, clients, Set.copyOf(env), wd.normalize(),
                duration(name, o, "idleTimeout", "2h"), duration(name, o, "maxLifetime", "7d"),
                count(name, o, "sessionsPerClient", 16, 10_000), count(name, o, "jobsPerSession", 16, 10_000),
                count(name, o, "outputBuffer", 16 << 20, 1 << 30), full,
                o.path("fileTransfer").asBoolean(true), List.copyOf(programs));
    }

    private static Program program(String name, JsonNode p) {
        String path = p.path("path").asText("");
        if (!path.startsWith("/") || !Path.of(path).normalize().toString().equals(path) || path.contains("/./")) {
            throw bad(name, "allows a program that is not a plain absolute path: " + Printable.escape(path));
        }
        try {
            return new Program(path, Pattern.compile(p.path("args").asText("")));
        } catch (PatternSyntaxException e) {
            throw bad(name, "has a bad args pattern for " + path + " (" + Printable.escape(e.getDescription()) + ")");
        }
    }

    private static String text(String name, JsonNode o, String field, String dflt) {
        JsonNode n = o.get(field);
        if (n == null) {
            return dflt;
        }
        if (!n.isTextual()) {
            throw bad(name, "has a " + field + " that is not text");
        }
        return n.asText();
    }

    private static List<String> strings(String name, JsonNode o, String field) {
        JsonNode n = o.get(field);
        List<String> out = new ArrayList<>();
        if (n == null) {
            return out;
        }
        if (!n.isArray()) {
            throw bad(name, "has a " + field + " that is not a list");
        }
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw bad(name, "has a " + field + " entry that is not text");
            }
            out.add(e.asText());
        }
        return List.copyOf(out);
    }

    private static Duration duration(String name, JsonNode o, String field, String dflt) {
        return Durations.parse(text(name, o, field, dflt), "configuration " + name + ": " + field);
    }

    private static int count(String name, JsonNode o, String field, int dflt, int max) {
        JsonNode n = o.get(field);
        if (n == null) {
            return dflt;
        }
        if (!n.canConvertToInt() || n.asInt() < 1 || n.asInt() > max) {
            throw bad(name, "has a " + field + " outside 1.." + max);
        }
        return n.asInt();
    }

    private static KeywayException bad(String name, String what) {
        return KeywayException.malformed("configuration " + name + " " + what, "fix configurations/" + name + ".json (docs/REMOTE.md lists the fields)");
    }
}
