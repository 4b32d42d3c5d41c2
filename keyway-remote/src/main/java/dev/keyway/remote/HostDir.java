package dev.keyway.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.IdentityFile;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.io.AtomicFile;
import dev.keyway.tls.cert.Certificates;
import dev.keyway.tls.cert.Pem;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A host directory ({@code keyway remote init --dir D}) and what it holds:
 * <pre>
 *   host.identity              the host's Keyway identity (mode 0600): signs receipts and the audit head
 *   tls.crt, tls.key           the TLS certificate and key (by default self-signed over the identity's Ed25519 key)
 *   ticket.secret              the session-ticket key secret (mode 0600): tickets survive a restart of the service
 *   clients.json               the identities allowed to connect, by name
 *   configurations/NAME.json   the session configurations
 *   audit.jsonl, audit.head    the chained audit log and its signed head
 *   run/                       the sessions' pipes while the service runs (mode 0700)
 * </pre>
 * Methods that change a file replace it atomically; the service reads clients and configurations again on each
 * connection, so {@code allow}, {@code revoke} and edited configurations apply without a restart.
 */
public final class HostDir {
    /** Hint ids (the CLI names its flags for them): not a host directory yet, already one. */
    public static final String HINT_NOT_A_HOST_DIR = "remote.not-a-host-dir";
    public static final String HINT_ALREADY_A_HOST_DIR = "remote.already-a-host-dir";

    private static final Duration CERT_VALIDITY = Duration.ofDays(3650);
    private final Path dir;

    private HostDir(Path dir) {
        this.dir = dir.toAbsolutePath().normalize(); // the shell's pipes are named from here, and the shell runs elsewhere
    }

    /** An existing host directory; refused with a hint when {@code dir} is not one. */
    public static HostDir open(Path dir) {
        HostDir h = new HostDir(dir);
        if (!Files.isRegularFile(h.identityFile())) {
            throw KeywayException.usage(dir + " is not a remote host directory (no host.identity)", "make it a host directory first").hintId(HINT_NOT_A_HOST_DIR);
        }
        return h;
    }

    /**
     * Makes a host directory. With {@code certPem}/{@code keyPem} null, the TLS certificate is self-signed for
     * {@code names} over the host identity's Ed25519 key.
     *
     * @return the TLS certificate
     */
    public static X509Certificate init(Path dir, byte[] certPem, byte[] keyPem, List<String> names) {
        HostDir h = new HostDir(dir);
        if (Files.exists(h.identityFile())) {
            throw KeywayException.usage(dir + " is already a remote host directory", "use it as it is, or choose another directory").hintId(HINT_ALREADY_A_HOST_DIR);
        }
        X509Certificate cert;
        KeyPair tlsKeys;
        try (Identity id = Identity.generate(KeyType.X25519)) {
            if (certPem != null) {
                cert = Pem.readCertificate(certPem);
                tlsKeys = Pem.readKeyPair(keyPem);
                if (!cert.getPublicKey().equals(tlsKeys.getPublic())) {
                    throw KeywayException.usage("the private key does not belong to the certificate", "give the certificate's own private key");
                }
            } else {
                tlsKeys = RemoteKeys.signingKeyPair(id);
                cert = Certificates.selfSigned(tlsKeys, "keyway remote host", names, CERT_VALIDITY);
            }
            Files.createDirectories(dir);
            Files.createDirectories(h.dir.resolve("configurations"));
            byte[] secret = new byte[32];
            new SecureRandom().nextBytes(secret);
            AtomicFile.write(h.dir.resolve("ticket.secret"), HexFormat.of().formatHex(secret).getBytes(StandardCharsets.US_ASCII), true);
            Arrays.fill(secret, (byte) 0);
            AtomicFile.write(h.dir.resolve("tls.crt"), Pem.writeCertificate(cert).getBytes(StandardCharsets.US_ASCII), false);
            AtomicFile.write(h.dir.resolve("tls.key"), Pem.writePrivateKey(tlsKeys.getPrivate()).getBytes(StandardCharsets.US_ASCII), true);
            ObjectNode clients = Json.MAPPER.createObjectNode();
            clients.putArray("clients");
            Json.replace(h.clientsFile(), clients, false);
            Json.replace(h.configurationFile("default"), Configuration.defaultJson(Path.of(System.getProperty("user.home"))), false);
            // last: its presence is what makes the directory a host directory
            IdentityFile.write(h.identityFile(), id, null);
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot make " + dir + " (" + AtomicFile.describe(e) + ")", "check the path is writable");
        }
        return cert;
    }

    public Path path() {
        return dir;
    }

    Path identityFile() {
        return dir.resolve("host.identity");
    }

    Path clientsFile() {
        return dir.resolve("clients.json");
    }

    Path configurationFile(String name) {
        return dir.resolve("configurations").resolve(name + ".json");
    }

    Path auditFile() {
        return dir.resolve("audit.jsonl");
    }

    Path auditHead() {
        return dir.resolve("audit.head");
    }

    /** The directory for the sessions' pipes, made private and emptied of an earlier run's leftovers. */
    Path runDir() {
        Path run = dir.resolve("run");
        try {
            if (Files.isDirectory(run)) {
                try (var walk = Files.walk(run)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        if (!p.equals(run)) {
                            Files.deleteIfExists(p);
                        }
                    }
                }
            } else {
                Files.createDirectory(run, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot prepare " + run + " (" + AtomicFile.describe(e) + ")", "check the host directory's permissions");
        }
        return run;
    }

    /** The host's identity (the caller destroys it): it signs receipts and the audit head, and enrolls with an authority for --escrow. */
    public Identity identity() {
        return IdentityFile.read(identityFile(), f -> {
            throw KeywayException.usage("the host identity is encrypted", "the host service needs an unencrypted host.identity");
        });
    }

    public X509Certificate certificate() {
        return Pem.readCertificate(read(dir.resolve("tls.crt")));
    }

    KeyPair tlsKeys() {
        return Pem.readKeyPair(read(dir.resolve("tls.key")));
    }

    byte[] ticketSecret() {
        String hex = new String(read(dir.resolve("ticket.secret")), StandardCharsets.US_ASCII).strip();
        try {
            return HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            throw KeywayException.malformed("ticket.secret is not hex", "restore it, or write 64 new hex digits");
        }
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read " + p + " (" + AtomicFile.describe(e) + ")", "check the host directory");
        }
    }

    /** An allowed identity. */
    record Client(String name, Recipient recipient) {
    }

    /** clients.json as last parsed: its exact bytes and what they say. */
    private record ParsedClients(byte[] bytes, Map<String, Client> clients) {
    }

    private volatile ParsedClients parsedClients;

    /**
     * The allowed identities, by name, as clients.json says now (a new map the caller may change). The file is read
     * on every call, so a revocation applies to the next request; it is parsed again only when its bytes differ from
     * the last parse (decoding every recipient is most of a host's work per request otherwise).
     */
    Map<String, Client> clients() {
        Path file = clientsFile();
        byte[] bytes = Json.readBytes(file);
        if (bytes == null) {
            return new LinkedHashMap<>();
        }
        ParsedClients last = parsedClients;
        if (last == null || !Arrays.equals(last.bytes(), bytes)) {
            last = new ParsedClients(bytes, Collections.unmodifiableMap(parseClients(Json.parse(file, bytes))));
            parsedClients = last;
        }
        return new LinkedHashMap<>(last.clients());
    }

    private static Map<String, Client> parseClients(JsonNode root) {
        Map<String, Client> out = new LinkedHashMap<>();
        for (JsonNode c : root.path("clients")) {
            String name = c.path("name").asText("");
            try {
                out.put(name, new Client(name, Recipient.parse(c.path("recipient").asText(""))));
            } catch (KeywayException e) {
                throw KeywayException.malformed("clients.json: the recipient of " + Printable.escape(name) + " does not parse", "fix it or revoke the name");
            }
        }
        return out;
    }

    /** Adds or replaces the client {@code name}, and lets it use {@code config}. */
    public void allow(String name, Recipient recipient, String config) {
        checkName(name, "client");
        Configuration.parse(config, configurationJson(config)); // the configuration must exist and be valid
        Map<String, Client> now = clients();
        for (Client c : now.values()) {
            if (c.recipient().equals(recipient) && !c.name().equals(name)) {
                throw KeywayException.usage("that identity is already allowed as " + Printable.escape(c.name()),
                        "one identity has one name: revoke " + Printable.escape(c.name()) + " first, or use that name");
            }
        }
        now.put(name, new Client(name, recipient));
        writeClients(now);
        ObjectNode conf = (ObjectNode) configurationJson(config);
        ArrayNode allowed = conf.withArray("allowedClients");
        boolean present = false;
        for (JsonNode n : allowed) {
            present |= n.asText().equals(name);
        }
        if (!present) {
            allowed.add(name);
            Json.replace(configurationFile(config), conf, false);
        }
    }

    /** Removes the client {@code name} from the list and from every configuration. */
    public boolean revoke(String name) {
        Map<String, Client> now = clients();
        boolean had = now.remove(name) != null;
        writeClients(now);
        for (String conf : configurationNames()) {
            ObjectNode o = (ObjectNode) configurationJson(conf);
            ArrayNode allowed = o.withArray("allowedClients");
            for (int i = allowed.size() - 1; i >= 0; i--) {
                if (allowed.get(i).asText().equals(name)) {
                    allowed.remove(i);
                    had = true;
                }
            }
            Json.replace(configurationFile(conf), o, false);
        }
        return had;
    }

    private void writeClients(Map<String, Client> clients) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        ArrayNode list = root.putArray("clients");
        for (Client c : clients.values()) {
            list.addObject().put("name", c.name()).put("recipient", c.recipient().encode());
        }
        Json.replace(clientsFile(), root, false);
    }

    List<String> configurationNames() {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir.resolve("configurations"), "*.json")) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                n = n.substring(0, n.length() - 5);
                if (Configuration.NAME.matcher(n).matches()) {
                    out.add(n);
                }
            }
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot list the configurations (" + AtomicFile.describe(e) + ")", "check the host directory");
        }
        Collections.sort(out);
        return out;
    }

    private JsonNode configurationJson(String name) {
        checkName(name, "configuration");
        JsonNode o = Json.read(configurationFile(name));
        if (o == null) {
            throw new KeywayException(ErrorCode.POLICY, "the host has no configuration " + Printable.escape(name),
                    "use one of: " + String.join(", ", configurationNames()));
        }
        return o;
    }

    /** The configuration {@code name}, read now. */
    Configuration configuration(String name) {
        return Configuration.parse(name, configurationJson(name));
    }

    static void checkName(String name, String what) {
        if (!Configuration.NAME.matcher(name).matches()) {
            throw KeywayException.usage("a " + what + " name must be 1 to 64 letters, digits, '.', '_' or '-' (got '" + Printable.escape(name) + "')",
                    "choose another name");
        }
    }

    /** Verifies the audit log and its signed head; returns the number of entries (AUTH_FAILED when broken). */
    public long verifyAudit() {
        Recipient host;
        try (Identity id = identity()) {
            host = id.recipient();
        }
        return AuditLog.verify(auditFile(), auditHead(), host).entries();
    }
}
