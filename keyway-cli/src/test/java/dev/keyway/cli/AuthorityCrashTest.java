package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyway.authority.AuditEntry;
import dev.keyway.authority.AuthorityClient;
import dev.keyway.authority.AuthorityHome;
import dev.keyway.authority.AuthorityStore;
import dev.keyway.authority.EscrowRecord;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.keys.SessionKeys;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Load and crash (issue 4): 32 concurrent clients x 1,000 escrows against {@code keyway authority serve}
 * in a child JVM; the server is killed with SIGKILL ({@link Process#destroyForcibly()}) once about half
 * the escrows have receipts, restarted on the same directory and port, and the clients resend every
 * escrow that did not get a receipt. Then: every receipted escrow is in the database with the receipt's
 * escrow id, owner, serial and blob; there are exactly clients x escrows rows (none duplicated); the
 * audit chain is intact with one escrow entry per row; and the restarted server's log has no stack trace.
 *
 * <p>Scale with {@code -Dkeyway.crash.clients=N -Dkeyway.crash.escrows=M} (default 32 x 1,000) and the
 * load phase's time limit with {@code -Dkeyway.crash.budgetSeconds=S} (default 170).
 */
@Tag("slow")
class AuthorityCrashTest {
    private static final int CLIENTS = Integer.getInteger("keyway.crash.clients", 32);
    private static final int ESCROWS = Integer.getInteger("keyway.crash.escrows", 1000);
    private static final long BUDGET_MILLIS = Long.getLong("keyway.crash.budgetSeconds", 170) * 1000;
    private static final long START_TIMEOUT_MILLIS = 60_000;

    @TempDir
    Path dir;

    /** What one client thread sends and what it got back. */
    static final class Sender {
        final int index;
        final String name;
        final Identity identity;
        final byte[][] blobs;
        final JsonNode[] receipts;
        final int[] answeredAfterError; // 0: first try; else the status of the resend that got the receipt
        volatile Throwable died;

        Sender(int index, Identity identity, int escrows) {
            this.index = index;
            this.name = String.format("client-%02d", index);
            this.identity = identity;
            this.blobs = new byte[escrows][];
            this.receipts = new JsonNode[escrows];
            this.answeredAfterError = new int[escrows];
        }
    }

    private final AtomicInteger receipts = new AtomicInteger();
    private final AtomicInteger connectionErrors = new AtomicInteger();
    private final AtomicInteger resends = new AtomicInteger();
    private final AtomicInteger resentAnswered200 = new AtomicInteger();
    private final AtomicInteger resentAnswered201 = new AtomicInteger();
    private final AtomicInteger firstTry200 = new AtomicInteger();
    private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    /** Closed while the server is down; clients that lose the connection wait on it before resending. */
    private final AtomicReference<CountDownLatch> serverUp = new AtomicReference<>(new CountDownLatch(0));
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Process> processes = new ArrayList<>();

    @Test
    void killNineInTheMiddleLosesNoReceiptedEscrowAndDuplicatesNone() throws Exception {
        int total = CLIENTS * ESCROWS;
        long testStart = System.nanoTime();
        Path auth = dir.resolve("auth");
        AuthorityHome home = new AuthorityHome(auth);
        home.init(KeyType.X25519, null);
        Identity authority = home.identity(f -> null);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        URI base = URI.create("https://127.0.0.1:" + port);
        Path log1 = dir.resolve("serve-1.log");
        Path log2 = dir.resolve("serve-2.log");
        try {
            Process server = serve(auth, port, log1);

            // While the server starts: the clients' identities and every blob, wrapped for the authority's
            // recipient (checked below against what the server says it is).
            Recipient authorityKey = authority.recipient();
            List<Sender> senders = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                senders.add(new Sender(c, Identity.generate(KeyType.X25519), ESCROWS));
            }
            senders.parallelStream().forEach(s -> {
                for (int i = 0; i < ESCROWS; i++) {
                    try (SessionKey k = SessionKeys.generate(Algorithms.AES_256_GCM)) {
                        s.blobs[i] = KeyWrap.wrapForEscrow(k, authorityKey, EscrowBinding.owner(s.name)).encode();
                    }
                }
            });
            waitHealthy(base, home, server, log1);
            AuthorityClient setup = new AuthorityClient(base, home.certificate());
            assertThat(setup.authorityRecipient()).isEqualTo(authorityKey.encode());
            for (Sender s : senders) {
                AuthorityClient.Response r = setup.signed(s.identity, "POST", "/v1/enroll",
                        Map.of("name", s.name, "recipient", s.identity.recipient().encode()));
                assertThat(r.status()).as("enroll %s: %s", s.name, r.error()).isEqualTo(201);
            }

            // The load: one thread per client, each with its own HTTPS client (its own connections).
            long loadStart = System.nanoTime();
            long setupMillis = (loadStart - testStart) / 1_000_000;
            long deadline = loadStart + BUDGET_MILLIS * 1_000_000;
            List<Thread> threads = new ArrayList<>();
            for (Sender s : senders) {
                AuthorityClient client = new AuthorityClient(base, home.certificate());
                Thread t = new Thread(() -> {
                    try {
                        send(s, client, deadline);
                    } catch (Throwable e) {
                        s.died = e;
                    }
                }, s.name);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }

            // Kill -9 once about half the receipts are in.
            while (receipts.get() < total / 2 && System.nanoTime() < deadline && threads.stream().anyMatch(Thread::isAlive)) {
                Thread.sleep(2);
            }
            for (Sender s : senders) {
                if (s.died != null) {
                    throw new AssertionError(s.name + " died before the kill", s.died);
                }
            }
            assertThat(failures).as("unexpected answers before the kill").isEmpty();
            assertThat(receipts.get()).as("receipts before the load phase's time limit (%d ms)", BUDGET_MILLIS)
                    .isGreaterThanOrEqualTo(total / 2);
            serverUp.set(new CountDownLatch(1));
            long killAt = System.nanoTime();
            server.destroyForcibly();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).as("the killed server exits").isTrue();
            int receiptsBeforeKill = receipts.get();
            double rateBeforeKill = receiptsBeforeKill / ((killAt - loadStart) / 1e9);

            // Restart on the same directory and port; the clients resend what has no receipt.
            Process restarted = serve(auth, port, log2);
            waitHealthy(base, home, restarted, log2);
            long downMillis = (System.nanoTime() - killAt) / 1_000_000;
            long upAt = System.nanoTime();
            serverUp.get().countDown();
            for (Thread t : threads) {
                t.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000 + 5_000));
            }
            stop.set(true);
            long loadEnd = System.nanoTime();
            double seconds = (loadEnd - loadStart) / 1e9;
            double rateAfterRestart = (receipts.get() - receiptsBeforeKill) / ((loadEnd - upAt) / 1e9);
            System.out.printf("AuthorityCrashTest: %d clients x %d escrows: %d receipts in %.1f s (%.0f escrows/s overall, server down "
                            + "%d ms); %.0f escrows/s before the kill, %.0f after the restart; setup %d ms%n",
                    CLIENTS, ESCROWS, receipts.get(), seconds, receipts.get() / seconds, downMillis, rateBeforeKill, rateAfterRestart,
                    setupMillis);
            System.out.printf("AuthorityCrashTest: %d receipts before the kill, %d connection errors, %d resends "
                            + "(%d answered 200 with the receipt the crash lost, %d answered 201), %d first sends answered 200%n",
                    receiptsBeforeKill, connectionErrors.get(), resends.get(), resentAnswered200.get(), resentAnswered201.get(),
                    firstTry200.get());
            for (Sender s : senders) {
                if (s.died != null) {
                    throw new AssertionError(s.name + " died", s.died);
                }
            }
            assertThat(threads).as("client threads still running at the time limit (%d receipts of %d)", receipts.get(), total)
                    .noneMatch(Thread::isAlive);
            assertThat(failures).as("unexpected answers").isEmpty();
            assertThat(receipts.get()).as("receipts within the load phase's time limit of %d ms", BUDGET_MILLIS).isEqualTo(total);
            assertThat(connectionErrors.get()).as("the kill cut some requests").isPositive();
            assertThat(firstTry200.get()).as("first sends answered 200 (a fresh blob is never a duplicate)").isZero();

            // Retrievable over HTTP from the restarted server: per client, the first escrow and one that was resent.
            AuthorityClient check = new AuthorityClient(base, home.certificate());
            for (Sender s : senders) {
                recoverAndCompare(check, s, 0, authority);
                for (int i = 0; i < ESCROWS; i++) {
                    if (s.answeredAfterError[i] != 0) {
                        recoverAndCompare(check, s, i, authority);
                        break;
                    }
                }
                AuthorityClient.Response list = check.signed(s.identity, "GET", "/v1/escrows?limit=10000", null);
                assertThat(list.status()).as(list.error()).isEqualTo(200);
                assertThat(list.body().get("escrows")).as("escrows listed for %s", s.name).hasSize(ESCROWS);
            }

            // Stop the restarted server (SIGTERM, its shutdown hook closes the store) and read the database.
            restarted.destroy();
            assertThat(restarted.waitFor(30, TimeUnit.SECONDS)).as("the restarted server stops on SIGTERM").isTrue();
            String log = Files.readString(log2, StandardCharsets.UTF_8);
            assertThat(log).as("the restarted server's log").contains("serving https://127.0.0.1:" + port);
            assertNoStackTrace("the restarted server's log", log);
            assertNoStackTrace("the first server's log (before the kill)", Files.readString(log1, StandardCharsets.UTF_8));

            long receiptSignatures = verifyInStore(home, senders, authorityKey, total);
            System.out.printf("AuthorityCrashTest: all %d receipted escrows stored once with their blobs, %d receipt signatures "
                    + "verified, audit chain intact; checks %d ms, test %d ms%n", total, receiptSignatures,
                    (System.nanoTime() - loadEnd) / 1_000_000, (System.nanoTime() - testStart) / 1_000_000);
        } finally {
            stop.set(true);
            serverUp.get().countDown();
            synchronized (processes) {
                processes.forEach(Process::destroyForcibly);
            }
        }
    }

    /** One client: escrows 0..n-1 in order, resending after a lost connection until each has a receipt. */
    private void send(Sender s, AuthorityClient client, long deadline) throws InterruptedException {
        Base64.Encoder b64 = Base64.getEncoder();
        for (int i = 0; i < s.blobs.length; i++) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("blob", b64.encodeToString(s.blobs[i]));
            body.put("description", "crash test " + s.name + " #" + i);
            body.put("serial", i);
            boolean resend = false;
            int tries = 0;
            while (true) {
                if (stop.get() || System.nanoTime() > deadline) {
                    return;
                }
                if (++tries > 50) {
                    failures.add(s.name + " escrow " + i + ": no receipt after 50 tries");
                    return;
                }
                if (resend) {
                    resends.incrementAndGet();
                }
                AuthorityClient.Response r;
                try {
                    r = client.signed(s.identity, "POST", "/v1/escrow", body);
                } catch (KeywayException e) {
                    if (e.code() != ErrorCode.PEER) {
                        throw e;
                    }
                    connectionErrors.incrementAndGet();
                    resend = true;
                    CountDownLatch up = serverUp.get();
                    if (up.getCount() == 0) {
                        Thread.sleep(50); // not our kill: a short pause before trying again
                    } else {
                        up.await(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
                    }
                    continue;
                }
                if (r.status() == 201 || r.status() == 200) {
                    s.receipts[i] = r.body();
                    if (resend) {
                        s.answeredAfterError[i] = r.status();
                        (r.status() == 200 ? resentAnswered200 : resentAnswered201).incrementAndGet();
                    } else if (r.status() == 200) {
                        firstTry200.incrementAndGet();
                    }
                    receipts.incrementAndGet();
                    break;
                }
                failures.add(s.name + " escrow " + i + (resend ? " (resent)" : "") + ": HTTP " + r.status() + " " + r.error());
                if (r.status() < 500) {
                    return;
                }
                Thread.sleep(100);
            }
        }
    }

    /** Every receipt names a stored escrow with its owner, serial and blob; no extra rows; the audit chain holds. */
    private long verifyInStore(AuthorityHome home, List<Sender> senders, Recipient authorityKey, int total) throws Exception {
        long signatures = 0;
        Set<String> ids = new HashSet<>();
        try (AuthorityStore store = AuthorityStore.open(home.databaseUrl())) {
            for (Sender s : senders) {
                for (int i = 0; i < ESCROWS; i++) {
                    JsonNode receipt = s.receipts[i];
                    String id = receipt.get("escrow_id").asText();
                    String where = s.name + " escrow " + i + " (" + id + ")";
                    assertThat(ids.add(id)).as("%s: escrow id given twice", where).isTrue();
                    EscrowRecord rec = store.escrow(id).orElseThrow(() -> new AssertionError(where + " got a receipt but is not stored"));
                    assertThat(rec.owner()).as(where).isEqualTo(s.name).isEqualTo(receipt.get("owner").asText());
                    assertThat(rec.serial()).as(where).isEqualTo((long) i).isEqualTo(receipt.get("serial").asLong());
                    assertThat(Arrays.equals(rec.blob(), s.blobs[i])).as("%s: stored blob", where).isTrue();
                    assertThat(receipt.get("blob_sha256").asText()).as(where).isEqualTo(sha256(s.blobs[i]));
                    assertThat(receipt.get("created_at").asText()).as(where).isEqualTo(rec.createdAt().toString());
                }
            }
            // The receipts' signatures by the authority's Ed25519 key (in parallel: 32,000 verifications).
            signatures = senders.parallelStream().mapToLong(s -> IntStream.range(0, ESCROWS).filter(i -> {
                JsonNode r = s.receipts[i];
                String canonical = "keyway-authority-receipt-v1\n" + r.get("escrow_id").asText() + "\n" + r.get("owner").asText() + "\n"
                        + r.get("serial").asLong() + "\n" + Instant.parse(r.get("created_at").asText()).toEpochMilli() + "\n"
                        + r.get("blob_sha256").asText();
                return authorityKey.verify(canonical.getBytes(StandardCharsets.UTF_8),
                        Base64.getDecoder().decode(r.get("signature").asText()));
            }).count()).sum();
            assertThat(signatures).as("receipts whose signature verifies").isEqualTo(total);
            assertThat(ids).hasSize(total);
            assertThat(store.escrowCount()).as("escrows stored (none lost, none duplicated)").isEqualTo(total);
            AuthorityStore.AuditCheck audit = store.verifyAudit(authorityKey);
            assertThat(audit.intact()).as("audit chain: %s", audit.problem()).isTrue();
            long escrowEntries = 0;
            Set<String> audited = new HashSet<>();
            long after = 0;
            for (List<AuditEntry> page; !(page = store.auditEntries(after, 5000)).isEmpty(); after = page.get(page.size() - 1).seq()) {
                for (AuditEntry e : page) {
                    if (e.action().equals("escrow") && e.outcome().equals("ok")) {
                        escrowEntries++;
                        audited.add(e.subject());
                    }
                }
            }
            assertThat(escrowEntries).as("audit entries for stored escrows").isEqualTo(total);
            assertThat(audited).as("audited escrow ids").isEqualTo(ids);
        }
        return signatures;
    }

    /** Recovers escrow {@code i} of {@code s} by its receipt's escrow id and checks it is the key that was escrowed. */
    private static void recoverAndCompare(AuthorityClient client, Sender s, int i, Identity authority) {
        String id = s.receipts[i].get("escrow_id").asText();
        AuthorityClient.Response r = client.signed(s.identity, "POST", "/v1/recover", Map.of("escrow_id", id));
        assertThat(r.status()).as("recover %s escrow %d: %s", s.name, i, r.error()).isEqualTo(200);
        KeyBlob rewrapped = KeyBlob.decode(Base64.getDecoder().decode(r.body().get("blob").asText()));
        try (SessionKey got = KeyWrap.unwrap(rewrapped, s.identity);
             SessionKey sent = KeyWrap.unwrapEscrow(KeyBlob.decode(s.blobs[i]), authority, EscrowBinding.owner(s.name))) {
            assertThat(got.sameKeyAs(sent)).as("%s escrow %d recovers the key that was escrowed", s.name, i).isTrue();
        }
    }

    private static void assertNoStackTrace(String what, String log) {
        assertThat(log).as(what).doesNotContain("\tat ").doesNotContain("Exception").doesNotContain(" ERROR ");
    }

    /** Starts {@code java -cp <the test class path> dev.keyway.cli.Main authority serve ...}, output to a file. */
    private Process serve(Path auth, int port, Path logFile) throws IOException {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), "dev.keyway.cli.Main",
                "authority", "serve", "--dir", auth.toString(), "--listen", "127.0.0.1:" + port, "--auto-approve");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile());
        synchronized (processes) {
            Process p = pb.start();
            processes.add(p);
            return p;
        }
    }

    private static void waitHealthy(URI base, AuthorityHome home, Process server, Path logFile) throws Exception {
        AuthorityClient health = new AuthorityClient(base, home.certificate());
        long until = System.nanoTime() + START_TIMEOUT_MILLIS * 1_000_000;
        while (true) {
            if (!server.isAlive()) {
                throw new AssertionError("the server exited with " + server.exitValue() + ":\n" + Files.readString(logFile));
            }
            try {
                AuthorityClient.Response r = health.send("GET", "/healthz", new byte[0], Map.of());
                if (r.status() == 200 && r.body() != null && "ok".equals(r.body().path("status").asText())) {
                    return;
                }
            } catch (KeywayException e) {
                // not listening yet
            }
            if (System.nanoTime() > until) {
                throw new AssertionError("the server did not answer /healthz within " + START_TIMEOUT_MILLIS + " ms:\n"
                        + Files.readString(logFile));
            }
            Thread.sleep(100);
        }
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
