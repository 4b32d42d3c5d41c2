package dev.keyway.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.keylog.KeyLog;
import dev.keyway.tls.params.NamedGroup;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A host for the attack tests: a host directory in a temporary directory, alice and bob allowed, mallory not; the
 * default configuration is a shell whose working directory is {@code wd} under the temporary directory (not the
 * home of whoever runs the tests); x25519 only, to keep handshakes cheap.
 */
final class AttackHost implements AutoCloseable {
    final Path root;
    final Path wd;
    final HostDir dir;
    final Identity alice = Identity.generate(KeyType.X25519);
    final Identity bob = Identity.generate(KeyType.X25519);
    final Identity mallory = Identity.generate(KeyType.X25519);
    final X509Certificate cert;
    final List<String> log = Collections.synchronizedList(new ArrayList<>());
    RemoteHost host;

    private AttackHost(Path tmp) throws IOException {
        root = tmp.resolve("host");
        wd = Files.createDirectories(tmp.resolve("wd"));
        cert = HostDir.init(root, null, null, List.of("IP:127.0.0.1", "DNS:localhost"));
        dir = HostDir.open(root);
        dir.allow("alice", alice.recipient(), "default");
        dir.allow("bob", bob.recipient(), "default");
        config("default", c -> { });
    }

    /** A host with the default configuration only, started with a connection idle timeout of {@code idle}. */
    static AttackHost start(Path tmp, Duration idle) throws IOException {
        AttackHost h = new AttackHost(tmp);
        h.start(idle);
        return h;
    }

    static AttackHost start(Path tmp) throws IOException {
        return start(tmp, Duration.ofMinutes(10));
    }

    /** A host not started yet: write configurations first. */
    static AttackHost prepare(Path tmp) throws IOException {
        return new AttackHost(tmp);
    }

    void start(Duration idle) throws IOException {
        RemoteHost.Options o = new RemoteHost.Options(KeyLog.NONE, Clock.systemUTC(), Duration.ofSeconds(5), idle,
                List.of(NamedGroup.X25519), log::add);
        host = RemoteHost.start(dir, new InetSocketAddress("127.0.0.1", 0), o);
    }

    /**
     * Writes configuration {@code name}: a shell in {@code wd} that alice and bob may use, changed by {@code tweak}.
     */
    void config(String name, Consumer<ObjectNode> tweak) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("kind", "shell");
        ArrayNode clients = o.putArray("allowedClients");
        clients.add("alice");
        clients.add("bob");
        o.putArray("environment").add("GREETING");
        o.put("workingDirectory", wd.toString());
        o.put("fileTransfer", true);
        tweak.accept(o);
        Json.replace(dir.configurationFile(name), o, false);
    }

    int port() {
        return host.address().getPort();
    }

    RawClient connect(Identity id) throws IOException {
        return RawClient.authenticated(port(), cert, id);
    }

    HostSession session(String id) {
        return host.sessions().get(id);
    }

    /** The audit log's entries, each parsed (the log must parse line by line). */
    List<JsonNode> audit() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(dir.auditFile(), StandardCharsets.UTF_8)) {
            out.add(Json.MAPPER.readTree(line));
        }
        return out;
    }

    /**
     * {@code audit verify} once the host has stopped appending (connections that just closed are still being
     * audited). Verifying while an entry is being appended can fail: the line is written before the signed head
     * that covers it (see the report of this suite: a live {@code audit verify} may say entries were added without
     * the host's key).
     */
    long verifyAuditWhenQuiet() throws IOException, InterruptedException {
        long size = -1;
        for (int i = 0; i < 50; i++) {
            long now = Files.size(dir.auditFile()) + Files.size(dir.auditHead());
            if (now == size) {
                break;
            }
            size = now;
            Thread.sleep(100);
        }
        return dir.verifyAudit();
    }

    /** Entries of {@code event}. */
    List<JsonNode> audit(String event) throws IOException {
        return audit().stream().filter(e -> e.path("event").asText().equals(event)).toList();
    }

    /** An entry's detail object (stored as JSON text). */
    static JsonNode detail(JsonNode entry) {
        try {
            return Json.MAPPER.readTree(entry.path("detail").asText());
        } catch (IOException e) {
            throw new AssertionError("an audit detail is not JSON: " + entry, e);
        }
    }

    /** Waits (bounded) for {@code check}; false if it never held. */
    static boolean eventually(Duration d, BooleanSupplier check) throws InterruptedException {
        long deadline = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < deadline) {
            if (check.getAsBoolean()) {
                return true;
            }
            Thread.sleep(20);
        }
        return check.getAsBoolean();
    }

    @Override
    public void close() {
        if (host != null) {
            host.close();
        }
        alice.destroy();
        bob.destroy();
        mallory.destroy();
    }
}
