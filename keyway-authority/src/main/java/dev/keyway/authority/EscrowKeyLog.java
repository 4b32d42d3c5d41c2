package dev.keyway.authority;

import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keylog.KeyLog;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A key-log sink that escrows each TLS 1.3 traffic secret with a backup authority instead of writing it to a file:
 * the secret, as an HMAC key of its length (a traffic secret is an HKDF key), wrapped for the authority and bound to
 * the owner the signing identity is enrolled as, with the key-log label and client random in the description and a
 * serial to recover it by. An auditor who may recover them rebuilds the SSLKEYLOGFILE lines of one connection
 * (docs/REMOTE.md, "Escrowing session secrets"), and no transcript is stored anywhere.
 *
 * <p>Escrow runs on one background thread with a bounded queue: a handshake never waits for the authority, and a
 * secret that cannot be queued or sent is reported (label and client random only) to {@code log}.
 *
 * <p>Any {@code TlsConfig} takes it as its key log; so does the JSSE provider ({@code new KeywayProvider(escrow)}), so
 * a Java application can escrow its own TLS secrets. {@link #close()} waits for the queue to drain.
 */
public final class EscrowKeyLog implements KeyLog, AutoCloseable {
    private static final Set<String> LABELS = Set.of("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
            "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0");
    private final AuthorityClient client;
    private final Identity identity;
    private final String owner;
    private final Recipient authority;
    private final String where;
    private final Consumer<String> log;
    private final ThreadPoolExecutor executor;
    private final AtomicLong counter = new AtomicLong();

    /**
     * Checks now that the identity is enrolled (the owner name) and the authority answers.
     *
     * @param where what the connections are, for the escrows' descriptions (e.g. "remote host 0.0.0.0:5986")
     * @param log   where problems go, one line each (never a secret)
     */
    public EscrowKeyLog(AuthorityClient client, Identity identity, String where, Consumer<String> log) {
        this.client = client;
        this.identity = identity;
        this.owner = client.enrolledName(identity);
        this.authority = Recipient.parse(client.authorityRecipient());
        this.where = where;
        this.log = log;
        this.executor = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(10_000), r -> {
            Thread t = new Thread(r, "keyway-escrow-keylog");
            t.setDaemon(true);
            return t;
        });
    }

    /** The owner name the escrows are bound to (the identity's enrolled name). */
    public String owner() {
        return owner;
    }

    @Override
    public void log(String label, byte[] clientRandom, byte[] secret) {
        if (!LABELS.contains(label)) {
            return;
        }
        String cr = HexFormat.of().formatHex(clientRandom);
        byte[] copy = secret.clone();
        long serial = System.currentTimeMillis() * 1000 + counter.getAndIncrement() % 1000;
        try {
            executor.execute(() -> escrow(label, cr, copy, serial));
        } catch (RejectedExecutionException e) {
            Arrays.fill(copy, (byte) 0);
            log.accept("escrow queue full: " + label + " " + cr + " was not escrowed");
        }
    }

    private void escrow(String label, String cr, byte[] secret, long serial) {
        try (SessionKey key = SessionKey.of(Algorithms.byName(secret.length == 48 ? "hmac-sha384" : "hmac-sha256"), secret)) {
            KeyBlob blob = KeyWrap.wrapForEscrow(key, authority, EscrowBinding.owner(owner));
            client.escrow(identity, blob, "TLS " + label + " " + cr + " " + where, serial, null, null);
        } catch (KeywayException | IllegalStateException e) {
            log.accept("escrow of " + label + " " + cr + " failed: " + e.getMessage());
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
    }

    /** Waits (bounded) for queued escrows to go out. */
    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
                log.accept("escrow: " + executor.getQueue().size() + " secrets were still queued at shutdown");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
