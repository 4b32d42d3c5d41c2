package dev.keyway.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.io.AtomicFile;
import dev.keyway.tls.params.Ticket;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The client's session registry: which sessions it made, by friendly name, on which hosts, with the newest TLS
 * session ticket for each (to reattach with a resumed handshake). A JSON file of mode 0600 (a ticket holds a
 * resumption secret; without the identity it opens nothing, see {@link RemoteKeys}), at {@link #defaultPath()}
 * unless {@code --registry} says otherwise. Copy it, with the identity, to another machine to reattach from there.
 * Every change is a locked read-modify-write, so several {@code keyway remote} processes may share it.
 */
public final class Registry {
    /** Hint id: the registry file cannot be written (the CLI names its flag). */
    public static final String HINT_REGISTRY_FILE = "remote.registry-file";

    /** One session on one host. */
    public record Entry(String name, String host, String id, String config, String kind, Instant created, boolean disconnected,
                        String hostKey, String ticket) {
        public RemoteClient.HostAddress address() {
            return RemoteClient.HostAddress.parse(host);
        }

        /** The saved ticket, or null (none, or unreadable: then a full handshake). */
        public Ticket savedTicket() {
            if (ticket == null || ticket.isEmpty()) {
                return null;
            }
            try {
                return Ticket.decode(ticket);
            } catch (KeywayException e) {
                return null;
            }
        }

        public Entry withTicket(Ticket t) {
            return new Entry(name, host, id, config, kind, created, disconnected, hostKey, t == null ? ticket : t.encode());
        }

        public Entry withDisconnected(boolean d) {
            return new Entry(name, host, id, config, kind, created, d, hostKey, ticket);
        }
    }

    private final Path file;
    private final List<Entry> entries;

    private Registry(Path file, List<Entry> entries) {
        this.file = file;
        this.entries = entries;
    }

    /**
     * {@code $KEYWAY_REMOTE_REGISTRY}, else {@code $XDG_STATE_HOME/keyway/remote-sessions.json}, else
     * {@code ~/.local/state/keyway/remote-sessions.json}.
     */
    public static Path defaultPath() {
        String env = System.getenv("KEYWAY_REMOTE_REGISTRY");
        if (env != null && !env.isEmpty()) {
            return Path.of(env);
        }
        String state = System.getenv("XDG_STATE_HOME");
        Path base = state != null && !state.isEmpty() ? Path.of(state) : Path.of(System.getProperty("user.home"), ".local", "state");
        return base.resolve("keyway").resolve("remote-sessions.json");
    }

    /** Reads the registry (empty when the file does not exist yet). */
    public static Registry read(Path file) {
        JsonNode root = Json.read(file);
        List<Entry> list = new ArrayList<>();
        if (root != null) {
            if (root.path("version").asInt(0) != 1 || !root.path("sessions").isArray()) {
                throw KeywayException.malformed(file + " is not a Keyway session registry (version 1)", "give the file 'keyway remote new' wrote");
            }
            for (JsonNode n : root.path("sessions")) {
                try {
                    list.add(new Entry(n.path("name").asText(), n.path("host").asText(), n.path("id").asText(), n.path("config").asText(),
                            n.path("kind").asText("shell"), Instant.parse(n.path("created").asText()), n.path("disconnected").asBoolean(false),
                            n.path("hostKey").asText(""), n.path("ticket").asText("")));
                } catch (RuntimeException e) {
                    throw KeywayException.malformed(file + " has a damaged entry (" + Printable.escape(n.path("name").asText()) + ")", "remove it from the file");
                }
            }
        }
        return new Registry(file, list);
    }

    /** Reads, changes and writes the registry under an exclusive lock; returns what {@code change} returned. */
    public static <T> T update(Path file, Function<Registry, T> change) {
        Path abs = file.toAbsolutePath();
        try {
            Path dir = abs.getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            Path lockFile = dir.resolve("." + abs.getFileName() + ".lock");
            try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                Registry r = read(abs);
                T out = change.apply(r);
                r.write();
                return out;
            }
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot update the session registry " + file + " (" + AtomicFile.describe(e) + ")",
                    "check the directory is writable, or use another registry file").hintId(HINT_REGISTRY_FILE);
        }
    }

    private void write() {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("version", 1);
        ArrayNode list = root.putArray("sessions");
        for (Entry e : entries) {
            list.addObject().put("name", e.name()).put("host", e.host()).put("id", e.id()).put("config", e.config()).put("kind", e.kind())
                    .put("created", e.created().toString()).put("disconnected", e.disconnected()).put("hostKey", e.hostKey()).put("ticket", e.ticket());
        }
        Json.replace(file, root, true);
    }

    public Path file() {
        return file;
    }

    public List<Entry> all() {
        return List.copyOf(entries);
    }

    /** The entries named {@code name} (one per host), in the order they were made. */
    public List<Entry> named(String name) {
        return entries.stream().filter(e -> e.name().equals(name)).toList();
    }

    /** Like {@link #named} but refuses an unknown name with a hint. */
    public List<Entry> require(String name) {
        List<Entry> out = named(name);
        if (out.isEmpty()) {
            throw KeywayException.usage("no session named " + Printable.escape(name) + " in " + file,
                    "'keyway remote list' shows them; 'keyway remote new' makes one");
        }
        return out;
    }

    public void add(Entry e) {
        entries.add(e);
    }

    /** Replaces the entry with the same session id (and host). */
    public void replace(Entry e) {
        for (int i = 0; i < entries.size(); i++) {
            Entry x = entries.get(i);
            if (x.id().equals(e.id()) && x.host().equals(e.host())) {
                entries.set(i, e);
                return;
            }
        }
    }

    public void remove(Entry e) {
        entries.removeIf(x -> x.id().equals(e.id()) && x.host().equals(e.host()));
    }
}
