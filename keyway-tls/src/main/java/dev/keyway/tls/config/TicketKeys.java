package dev.keyway.tls.config;

import dev.keyway.core.kdf.Hkdf;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;

/**
 * The keys that protect session tickets (a server's resumption state, sealed so only it can read it).
 * AES-256-GCM; a new key every {@code rotation}, and the previous one kept for reading, so a ticket
 * lives at most two rotation periods. Ticket = key id (4) || nonce (12) || ciphertext and tag.
 * One instance can be shared by several servers in a process; state never leaves it unsealed.
 */
public final class TicketKeys {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int ID = 4;
    private static final int NONCE = 12;
    private static final int TAG = 16;

    private record Key(int id, SecretKeySpec key, Instant created) {
    }

    private final Duration rotation;
    private final Clock clock;
    /** When set, the key of rotation period n is HKDF-Expand(secret, "keyway ticket key" || n): servers sharing it agree. */
    private final byte[] secret;
    private Key current;
    private Key previous;

    private TicketKeys(Duration rotation, Clock clock, byte[] secret) {
        if (rotation.isNegative() || rotation.isZero()) {
            throw new IllegalArgumentException("rotation must be positive");
        }
        this.rotation = rotation;
        this.clock = clock;
        this.secret = secret;
        this.current = fresh();
        if (secret != null) {
            this.previous = derived(period() - 1); // a restarted server still opens the last period's tickets
        }
    }

    /**
     * Keys derived from a shared secret (at least 32 bytes, e.g. a file of random bytes): every server given
     * the same secret derives the same key for each rotation period, so they open each other's tickets and
     * sealed session-cache entries, also after a restart. Still rotated: a period's key opens only that
     * period's and the next period's tickets.
     */
    public static TicketKeys fromSecret(byte[] secret, Duration rotation) {
        if (secret.length < 32) {
            throw new IllegalArgumentException("a ticket-key secret of at least 32 bytes (it has " + secret.length + ")");
        }
        return new TicketKeys(rotation, Clock.systemUTC(), secret.clone());
    }

    static TicketKeys fromSecret(byte[] secret, Duration rotation, Clock clock) {
        return new TicketKeys(rotation, clock, secret.clone());
    }

    /** Fresh random keys, rotated every {@code rotation}. */
    public static TicketKeys rotatingEvery(Duration rotation) {
        return new TicketKeys(rotation, Clock.systemUTC(), null);
    }

    static TicketKeys rotatingEvery(Duration rotation, Clock clock) {
        return new TicketKeys(rotation, clock, null);
    }

    public Duration rotation() {
        return rotation;
    }

    private long period() {
        return Math.floorDiv(clock.millis(), rotation.toMillis());
    }

    private Key fresh() {
        if (secret != null) {
            return derived(period());
        }
        byte[] k = new byte[32];
        RANDOM.nextBytes(k);
        try {
            return new Key(RANDOM.nextInt(), new SecretKeySpec(k, "AES"), clock.instant());
        } finally {
            Arrays.fill(k, (byte) 0);
        }
    }

    private Key derived(long period) {
        byte[] info = ByteBuffer.allocate(17 + 8).put("keyway ticket key".getBytes(StandardCharsets.US_ASCII))
                .putLong(period).array();
        byte[] k = Hkdf.expand(Hkdf.Hash.SHA256, secret, info, 32);
        try {
            return new Key((int) period, new SecretKeySpec(k, "AES"), Instant.ofEpochMilli(period * rotation.toMillis()));
        } finally {
            Arrays.fill(k, (byte) 0);
        }
    }

    private synchronized Key rotate() {
        if (secret != null) {
            long p = period();
            if (current.id() != (int) p) {
                previous = current.id() == (int) (p - 1) ? current : derived(p - 1);
                current = derived(p);
            }
            return current;
        }
        if (Duration.between(current.created(), clock.instant()).compareTo(rotation) >= 0) {
            previous = current;
            current = fresh();
        }
        return current;
    }

    /** Seals a server's resumption state into a ticket. */
    public byte[] seal(byte[] state) {
        Key k = rotate();
        byte[] nonce = new byte[NONCE];
        RANDOM.nextBytes(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, k.key(), new GCMParameterSpec(TAG * 8, nonce));
            byte[] id = ByteBuffer.allocate(ID).putInt(k.id()).array();
            c.updateAAD(id);
            byte[] sealed = c.doFinal(state);
            return ByteBuffer.allocate(ID + NONCE + sealed.length).put(id).put(nonce).put(sealed).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ticket sealing failed", e);
        }
    }

    /** The state in a ticket, or null when it is not ours, too old (its key rotated out) or damaged. */
    public byte[] open(byte[] ticket) {
        if (ticket.length < ID + NONCE + TAG) {
            return null;
        }
        rotate();
        int id = ByteBuffer.wrap(ticket, 0, ID).getInt();
        Key k;
        synchronized (this) {
            k = current.id() == id ? current : previous != null && previous.id() == id ? previous : null;
        }
        if (k == null) {
            return null;
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, k.key(), new GCMParameterSpec(TAG * 8, ticket, ID, NONCE));
            c.updateAAD(ticket, 0, ID);
            return c.doFinal(ticket, ID + NONCE, ticket.length - ID - NONCE);
        } catch (AEADBadTagException e) {
            return null;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ticket opening failed", e);
        }
    }
}
