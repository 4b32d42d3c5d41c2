package dev.keyway.tls;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
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
    private Key current;
    private Key previous;

    private TicketKeys(Duration rotation, Clock clock) {
        if (rotation.isNegative() || rotation.isZero()) {
            throw new IllegalArgumentException("rotation must be positive");
        }
        this.rotation = rotation;
        this.clock = clock;
        this.current = fresh();
    }

    /** Fresh random keys, rotated every {@code rotation}. */
    public static TicketKeys rotatingEvery(Duration rotation) {
        return new TicketKeys(rotation, Clock.systemUTC());
    }

    static TicketKeys rotatingEvery(Duration rotation, Clock clock) {
        return new TicketKeys(rotation, clock);
    }

    public Duration rotation() {
        return rotation;
    }

    private Key fresh() {
        byte[] k = new byte[32];
        RANDOM.nextBytes(k);
        try {
            return new Key(RANDOM.nextInt(), new SecretKeySpec(k, "AES"), clock.instant());
        } finally {
            Arrays.fill(k, (byte) 0);
        }
    }

    private synchronized Key rotate() {
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
