package dev.keyway.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What most remote-session tests need: a host directory under the test's temporary directory (its default
 * configuration working in {@code work/}, never in $HOME), a running {@link RemoteHost} on 127.0.0.1 at a free port
 * with a clock the test moves, one allowed identity ({@code alice}) and her client. Further identities and
 * configurations are added with {@link #allowNew} and {@link #writeConfig}; the audit log is read back with {@link #audit}.
 */
final class HostFixture implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    final Path root;
    final Path work;
    final HostDir dir;
    final MutableClock clock = new MutableClock(Instant.now());
    final Identity alice = Identity.generate(KeyType.X25519);
    final RemoteClient client;
    final RemoteHost host;
    private final List<Identity> identities = new ArrayList<>(List.of(alice));

    private HostFixture(Path root) throws IOException {
        this.root = root;
        this.work = Files.createDirectories(root.resolve("work"));
        HostDir.init(root.resolve("host"), null, null, List.of("IP:127.0.0.1", "DNS:localhost"));
        this.dir = HostDir.open(root.resolve("host"));
        writeConfig("default", shellConfig(work));
        dir.allow("alice", alice.recipient(), "default");
        // the reaper runs only when a test calls host.reap(): no background pass races the clock
        this.host = RemoteHost.start(dir, new InetSocketAddress("127.0.0.1", 0),
                RemoteHost.Options.defaults().withClock(clock).withReapEvery(Duration.ofDays(1)));
        this.client = clientOf(alice);
    }

    /** Starts a host in {@code root} (a test's temporary directory). */
    static HostFixture start(Path root) throws IOException {
        return new HostFixture(root);
    }

    /** A shell configuration working in {@code wd}, with the default limits; tests change fields before writing it. */
    static ObjectNode shellConfig(Path wd) {
        ObjectNode o = JSON.createObjectNode();
        o.put("kind", "shell");
        o.putArray("allowedClients");
        o.putArray("environment").add("GREETING");
        o.put("workingDirectory", wd.toString());
        o.put("idleTimeout", "2h");
        o.put("maxLifetime", "7d");
        o.put("sessionsPerClient", 16);
        o.put("jobsPerSession", 16);
        o.put("outputBuffer", 16 << 20);
        o.put("whenOutputFull", "pause");
        o.put("fileTransfer", true);
        return o;
    }

    /** Writes configurations/NAME.json (the host reads it at the next open). */
    void writeConfig(String name, ObjectNode config) {
        try {
            Files.writeString(dir.path().resolve("configurations").resolve(name + ".json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A new identity, allowed as {@code name} in {@code config}. */
    Identity allowNew(String name, String config) {
        Identity id = Identity.generate(KeyType.X25519);
        identities.add(id);
        dir.allow(name, id.recipient(), config);
        return id;
    }

    RemoteClient clientOf(Identity id) {
        return RemoteClient.builder().identity(id).trust(List.of(dir.certificate())).connectTimeout(Duration.ofSeconds(10)).build();
    }

    RemoteClient.HostAddress addr() {
        return new RemoteClient.HostAddress("127.0.0.1", host.address().getPort());
    }

    /** Every audit entry so far, in order. */
    List<JsonNode> audit() {
        try {
            List<JsonNode> out = new ArrayList<>();
            for (String line : Files.readAllLines(dir.auditFile())) {
                out.add(JSON.readTree(line));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The audit entries of one event (open, command, refused, reap, ...). */
    List<JsonNode> audit(String event) {
        return audit().stream().filter(e -> e.path("event").asText().equals(event)).toList();
    }

    /** An entry's detail object (stored as a JSON string inside the entry). */
    static JsonNode detail(JsonNode entry) {
        try {
            return JSON.readTree(entry.path("detail").asText());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        host.close();
        identities.forEach(Identity::destroy);
    }
}
