package dev.keyway.core.kdf;

import org.bouncycastle.crypto.Digest;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;

/**
 * The TLS 1.3 key schedule (RFC 8446 section 7.1) for one hash, read top to bottom as the RFC draws it:
 *
 * <pre>
 *  0 -> HKDF-Extract(0, PSK) = Early Secret -> binder key, c e traffic, e exp master
 *  Derive-Secret(., "derived", "") -> HKDF-Extract(., (EC)DHE) = Handshake Secret -> c/s hs traffic
 *  Derive-Secret(., "derived", "") -> HKDF-Extract(., 0) = Master Secret -> c/s ap traffic, exp master, res master
 * </pre>
 *
 * Transcript hashes are passed in (callers hash their own transcripts, see {@link #transcriptHash}).
 */
public final class KeySchedule13 {
    public static final String EXT_BINDER = "ext binder";
    public static final String RES_BINDER = "res binder";
    public static final String CLIENT_EARLY_TRAFFIC = "c e traffic";
    public static final String EARLY_EXPORTER_MASTER = "e exp master";
    public static final String CLIENT_HANDSHAKE_TRAFFIC = "c hs traffic";
    public static final String SERVER_HANDSHAKE_TRAFFIC = "s hs traffic";
    public static final String CLIENT_APPLICATION_TRAFFIC = "c ap traffic";
    public static final String SERVER_APPLICATION_TRAFFIC = "s ap traffic";
    public static final String EXPORTER_MASTER = "exp master";
    public static final String RESUMPTION_MASTER = "res master";
    /** Every record in TLS 1.3 uses a 12-byte IV (RFC 8446 section 5.3). */
    public static final int IV_LENGTH = 12;

    private final Hkdf.Hash hash;

    private KeySchedule13(Hkdf.Hash hash) {
        this.hash = hash;
    }

    public static KeySchedule13 of(Hkdf.Hash hash) {
        return new KeySchedule13(hash);
    }

    /** The schedule for a TLS 1.3 suite (SHA-384 for TLS_AES_256_GCM_SHA384, SHA-256 otherwise). */
    public static KeySchedule13 of(CipherSuite suite) {
        return new KeySchedule13(suite.hkdfHash());
    }

    public Hkdf.Hash hash() {
        return hash;
    }

    /** Hash of the concatenated handshake messages (each with its 4-byte header). */
    public byte[] transcriptHash(byte[]... messages) {
        Digest d = hash.newDigest();
        for (byte[] m : messages) {
            d.update(m, 0, m.length);
        }
        byte[] out = new byte[d.getDigestSize()];
        d.doFinal(out, 0);
        return out;
    }

    /** HKDF-Expand-Label(Secret, Label, Context, Length) with the "tls13 " prefix (section 7.1). */
    public byte[] expandLabel(byte[] secret, String label, byte[] context, int length) {
        byte[] full = ("tls13 " + label).getBytes(StandardCharsets.US_ASCII);
        if (full.length > 255 || context.length > 255 || length > 0xFFFF) {
            throw new IllegalArgumentException("HKDF-Expand-Label field too long");
        }
        ByteArrayOutputStream info = new ByteArrayOutputStream(4 + full.length + context.length);
        info.write(length >> 8);
        info.write(length);
        info.write(full.length);
        info.writeBytes(full);
        info.write(context.length);
        info.writeBytes(context);
        return Hkdf.expand(hash, secret, info.toByteArray(), length);
    }

    /** Derive-Secret(Secret, Label, Messages), with Transcript-Hash(Messages) already computed. */
    public byte[] deriveSecret(byte[] secret, String label, byte[] transcriptHash) {
        return expandLabel(secret, label, transcriptHash, hash.length());
    }

    /** Early Secret = HKDF-Extract(0, PSK); a null PSK means HashLen zeros (no PSK). */
    public byte[] earlySecret(byte[] psk) {
        return Hkdf.extract(hash, null, psk == null ? new byte[hash.length()] : psk);
    }

    /** binder_key: "res binder" for a resumption PSK, "ext binder" for an external one. */
    public byte[] binderKey(byte[] earlySecret, boolean resumption) {
        return deriveSecret(earlySecret, resumption ? RES_BINDER : EXT_BINDER, transcriptHash());
    }

    /** Handshake Secret = HKDF-Extract(Derive-Secret(early, "derived", ""), (EC)DHE); null means psk_ke (zeros). */
    public byte[] handshakeSecret(byte[] earlySecret, byte[] sharedSecret) {
        byte[] salt = deriveSecret(earlySecret, "derived", transcriptHash());
        return Hkdf.extract(hash, salt, sharedSecret == null ? new byte[hash.length()] : sharedSecret);
    }

    /** Master Secret = HKDF-Extract(Derive-Secret(handshake, "derived", ""), 0). */
    public byte[] masterSecret(byte[] handshakeSecret) {
        byte[] salt = deriveSecret(handshakeSecret, "derived", transcriptHash());
        return Hkdf.extract(hash, salt, new byte[hash.length()]);
    }

    /** [sender]_write_key and [sender]_write_iv from a traffic secret (section 7.3). */
    public TrafficKeys trafficKeys(byte[] trafficSecret, int keyLength) {
        return new TrafficKeys(expandLabel(trafficSecret, "key", new byte[0], keyLength),
                expandLabel(trafficSecret, "iv", new byte[0], IV_LENGTH));
    }

    /** finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length) (section 4.4.4). */
    public byte[] finishedKey(byte[] baseKey) {
        return expandLabel(baseKey, "finished", new byte[0], hash.length());
    }

    /** verify_data = HMAC(finished_key, Transcript-Hash(...)) (section 4.4.4); also a PSK binder's value. */
    public byte[] finishedVerifyData(byte[] baseKey, byte[] transcriptHash) {
        String alg = hash == Hkdf.Hash.SHA256 ? "HmacSHA256" : hash == Hkdf.Hash.SHA384 ? "HmacSHA384" : "HmacSHA512";
        try {
            Mac mac = Mac.getInstance(alg);
            mac.init(new SecretKeySpec(finishedKey(baseKey), alg));
            return mac.doFinal(transcriptHash);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks " + alg, e);
        }
    }

    /** application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length) (7.2). */
    public byte[] nextApplicationTrafficSecret(byte[] secret) {
        return expandLabel(secret, "traffic upd", new byte[0], hash.length());
    }

    /** The PSK of a ticket: HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length) (4.6.1). */
    public byte[] resumptionPsk(byte[] resumptionMasterSecret, byte[] ticketNonce) {
        return expandLabel(resumptionMasterSecret, "resumption", ticketNonce, hash.length());
    }

    /**
     * TLS-Exporter(label, context_value, key_length) (section 7.5) from the exporter master secret:
     * HKDF-Expand-Label(Derive-Secret(Secret, label, ""), "exporter", Hash(context_value), key_length).
     */
    public byte[] exporter(byte[] exporterMasterSecret, String label, byte[] context, int length) {
        byte[] secret = deriveSecret(exporterMasterSecret, label, transcriptHash());
        return expandLabel(secret, "exporter", transcriptHash(context == null ? new byte[0] : context), length);
    }
}
