package dev.keyway.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.io.AtomicFile;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The host's audit log: one JSON object per line, each carrying the SHA-256 of its fields and its predecessor's
 * hash, so changing, removing or reordering an entry breaks every hash after it; and a head file with the last
 * entry's number and hash signed by the host's identity, so cutting entries off the end, or rewriting the whole
 * chain, is found too (only the host's key can sign a new head). {@code keyway remote audit verify} checks both.
 *
 * <p>Every value is text that a client may have chosen (a command line, a session name): it is stored as JSON
 * strings, which escape control characters, and printed by {@code verify} only escaped.
 */
final class AuditLog {
    static final String GENESIS = "0".repeat(64);
    private static final String DOMAIN = "keyway remote audit v1";
    private static final byte[] HEAD_CONTEXT = "keyway remote audit head v1\0".getBytes(StandardCharsets.US_ASCII);
    private static final String[] FIELDS = {"seq", "at", "event", "client", "session", "config", "outcome", "detail"};

    private final Path file;
    private final Path head;
    private final Identity signer;
    private final Clock clock;
    private long seq;
    private String last = GENESIS;
    private boolean closed;

    private AuditLog(Path file, Path head, Identity signer, Clock clock) {
        this.file = file;
        this.head = head;
        this.signer = signer;
        this.clock = clock;
    }

    /** Opens the log for appending after checking it (a log that does not verify is not appended to). */
    static AuditLog open(Path file, Path head, Identity signer, Clock clock) {
        AuditLog log = new AuditLog(file, head, signer, clock);
        Verified v = verify(file, head, signer.recipient());
        log.seq = v.entries();
        log.last = v.lastHash();
        return log;
    }

    /**
     * One entry. {@code detail} values are strings (a command line, byte counts, digests). Refused once the log is
     * {@link #close closed}: the host's key is gone then, and an entry no signed head covers would make the whole log
     * look tampered with (and the service, which verifies it at start, would not start again).
     */
    synchronized void append(String event, String client, String session, String config, String outcome, Map<String, String> detail) {
        if (closed) {
            throw new KeywayException(ErrorCode.IO, "the audit log is closed (the service has stopped): not recorded: " + event,
                    "nothing to do; entries after the service-stop entry cannot be signed");
        }
        ObjectNode d = Json.MAPPER.createObjectNode();
        detail.forEach(d::put);
        String at = clock.instant().toString();
        long n = seq + 1;
        String[] values = {Long.toString(n), at, event, nz(client), nz(session), nz(config), outcome, d.toString()};
        String hash = hash(last, values);
        ObjectNode o = Json.MAPPER.createObjectNode();
        for (int i = 0; i < FIELDS.length; i++) {
            o.put(FIELDS[i], values[i]);
        }
        o.put("prev", last);
        o.put("hash", hash);
        byte[] line = (o.toString() + "\n").getBytes(StandardCharsets.UTF_8);
        withLock(file, () -> {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE)) {
                ByteBuffer bb = ByteBuffer.wrap(line);
                while (bb.hasRemaining()) {
                    ch.write(bb);
                }
            } catch (IOException e) {
                throw new KeywayException(ErrorCode.IO, "cannot append to the audit log " + file + " (" + AtomicFile.describe(e) + ")",
                        "check the disk and the file's permissions");
            }
            seq = n;
            last = hash;
            writeHead();
            return null;
        });
    }

    /** Guards each log's entry-and-head pair in this JVM; the file lock below guards it from other processes. */
    private static final ConcurrentHashMap<Path, Object> GUARDS = new ConcurrentHashMap<>();

    /**
     * Runs {@code body} while no other append or verify of the log at {@code file} runs, in this process or another
     * ({@code audit.lock} beside it): a verify never sees an entry without its signed head ("entries were added").
     */
    static <T> T withLock(Path file, Supplier<T> body) {
        Path abs = file.toAbsolutePath().normalize();
        synchronized (GUARDS.computeIfAbsent(abs, k -> new Object())) {
            Path lock = abs.resolveSibling("audit.lock");
            try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = ch.lock()) {
                return body.get();
            } catch (IOException e) {
                throw new KeywayException(ErrorCode.IO, "cannot lock " + lock + " (" + AtomicFile.describe(e) + ")",
                        "check the host directory's permissions");
            }
        }
    }

    /** No entry after this one: the caller is about to destroy the key that signs the head. */
    synchronized void close() {
        closed = true;
    }

    private void writeHead() {
        ObjectNode h = Json.MAPPER.createObjectNode();
        h.put("seq", seq);
        h.put("hash", last);
        h.put("signature", Base64.getEncoder().encodeToString(signer.sign(headMessage(seq, last))));
        Json.replace(head, h, false);
    }

    private static byte[] headMessage(long seq, String hash) {
        byte[] tail = (seq + "\0" + hash).getBytes(StandardCharsets.US_ASCII);
        byte[] out = Arrays.copyOf(HEAD_CONTEXT, HEAD_CONTEXT.length + tail.length);
        System.arraycopy(tail, 0, out, HEAD_CONTEXT.length, tail.length);
        return out;
    }

    static String hash(String prev, String[] values) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            update(md, DOMAIN);
            update(md, prev);
            for (String v : values) {
                update(md, v);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static void update(MessageDigest md, String field) {
        byte[] b = field.getBytes(StandardCharsets.UTF_8);
        md.update(ByteBuffer.allocate(4).putInt(b.length).array());
        md.update(b);
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    /** What a verified log holds. */
    record Verified(long entries, String lastHash) {
    }

    /**
     * Checks every entry's chain link and hash, then the signed head against the last entry. Any break is an
     * AUTH_FAILED error naming the first line that does not hold.
     */
    static Verified verify(Path file, Path head, Recipient host) {
        return withLock(file, () -> verifyLocked(file, head, host));
    }

    private static Verified verifyLocked(Path file, Path head, Recipient host) {
        long n = 0;
        String prev = GENESIS;
        if (Files.exists(file)) {
            try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                String line;
                while ((line = r.readLine()) != null) {
                    n++;
                    if (line.length() > Json.MAX_FILE) {
                        throw broken(file, n, "is too long");
                    }
                    JsonNode o;
                    try {
                        o = Json.MAPPER.readTree(line);
                    } catch (IOException e) {
                        throw broken(file, n, "is not a JSON object");
                    }
                    String[] values = new String[FIELDS.length];
                    for (int i = 0; i < FIELDS.length; i++) {
                        JsonNode v = o == null ? null : o.get(FIELDS[i]);
                        if (v == null || !v.isTextual()) {
                            throw broken(file, n, "has no " + FIELDS[i]);
                        }
                        values[i] = v.asText();
                    }
                    if (!values[0].equals(Long.toString(n))) {
                        throw broken(file, n, "is numbered " + Printable.escape(values[0]) + " (entries were removed or reordered)");
                    }
                    if (!prev.equals(o.path("prev").asText())) {
                        throw broken(file, n, "does not follow the entry before it");
                    }
                    String expect = hash(prev, values);
                    if (!MessageDigest.isEqual(expect.getBytes(StandardCharsets.US_ASCII), o.path("hash").asText().getBytes(StandardCharsets.US_ASCII))) {
                        throw broken(file, n, "was changed (its hash does not match its fields)");
                    }
                    prev = expect;
                }
            } catch (MalformedInputException e) {
                throw broken(file, n + 1, "is not UTF-8");
            } catch (IOException e) {
                throw new KeywayException(ErrorCode.IO, "cannot read " + file + " (" + AtomicFile.describe(e) + ")", "check its permissions");
            }
        }
        JsonNode h = Json.read(head);
        if (h == null) {
            if (n == 0) {
                return new Verified(0, GENESIS);
            }
            throw KeywayException.authFailed("the audit log's signed head " + head + " is missing", "the log cannot be trusted; restore the head from a backup");
        }
        long hs = h.path("seq").asLong(-1);
        byte[] sig;
        try {
            sig = Base64.getDecoder().decode(h.path("signature").asText(""));
        } catch (IllegalArgumentException e) {
            sig = new byte[0];
        }
        if (!RemoteKeys.verify(host.signingPublicKey(), headMessage(hs, h.path("hash").asText("")), sig)) {
            throw KeywayException.authFailed("the audit log's head is not signed by this host", "the log cannot be trusted");
        }
        if (hs != n || !h.path("hash").asText("").equals(prev)) {
            throw KeywayException.authFailed("the audit log has " + n + " entries but its signed head says " + hs
                    + (hs > n ? " (entries were cut off the end)" : " (entries were added without the host's key)"), "the log cannot be trusted");
        }
        return new Verified(n, prev);
    }

    private static KeywayException broken(Path file, long line, String what) {
        return KeywayException.authFailed("the audit log " + file + " is broken: line " + line + " " + what, "the log cannot be trusted");
    }
}
