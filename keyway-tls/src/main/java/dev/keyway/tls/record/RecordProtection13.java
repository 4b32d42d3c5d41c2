package dev.keyway.tls.record;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.core.kdf.TrafficKeys;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * One direction's TLS 1.3 record protection (RFC 8446 section 5.2-5.4): an AEAD key, the IV and the
 * sequence number; the nonce is the IV XOR the sequence number, the additional data the record header,
 * and the real content type travels inside the ciphertext, after the content and before any padding.
 */
public final class RecordProtection13 implements RecordProtection {
    static final int TAG = 16;

    private final CipherSuite.Cipher kind;
    private final SecretKeySpec key;
    private final byte[] iv;
    private final byte[] nonce;
    private Cipher cipher;
    private long seq;

    /** The protection for one traffic secret of {@code ks} (RFC 8446 section 7.3): its key and IV, derived and then wiped here. */
    public static RecordProtection13 of(KeySchedule13 ks, CipherSuite suite, byte[] secret) {
        TrafficKeys keys = ks.trafficKeys(secret, suite.cipher().keyLength());
        try {
            return new RecordProtection13(suite.cipher(), keys.key(), keys.iv());
        } finally {
            keys.destroy();
        }
    }

    public RecordProtection13(CipherSuite.Cipher kind, byte[] key, byte[] iv) {
        this.kind = kind;
        boolean chacha = kind == CipherSuite.Cipher.CHACHA20_POLY1305;
        this.key = new SecretKeySpec(key, chacha ? "ChaCha20" : "AES");
        this.iv = iv.clone();
        this.nonce = new byte[iv.length];
        Arrays.fill(key, (byte) 0);
        this.cipher = newCipher(kind);
    }

    private static Cipher newCipher(CipherSuite.Cipher kind) {
        try {
            return Cipher.getInstance(kind == CipherSuite.Cipher.CHACHA20_POLY1305 ? "ChaCha20-Poly1305" : "AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks " + kind, e);
        }
    }

    @Override
    public int expansion() {
        return RecordLayer.HEADER + 1 + TAG;
    }

    @Override
    public int maxCiphertext() {
        return RecordLayer.MAX_FRAGMENT + 256;
    }

    private void init(int mode) throws GeneralSecurityException {
        System.arraycopy(iv, 0, nonce, 0, iv.length);
        for (int i = 0; i < 8; i++) {
            nonce[nonce.length - 1 - i] ^= (byte) (seq >>> (8 * i));
        }
        if (kind == CipherSuite.Cipher.CHACHA20_POLY1305) {
            cipher.init(mode, key, new IvParameterSpec(nonce));
        } else {
            cipher.init(mode, key, new GCMParameterSpec(TAG * 8, nonce));
        }
    }

    @Override
    public int seal(int type, byte[] src, int off, int len, byte[] dst, int at) {
        int length = len + 1 + TAG;
        RecordLayer.header(dst, at, RecordLayer.APPLICATION_DATA, 0x0303, length);
        try {
            init(Cipher.ENCRYPT_MODE);
            cipher.updateAAD(dst, at, RecordLayer.HEADER);
            int n = cipher.update(src, off, len, dst, at + RecordLayer.HEADER);
            n += cipher.doFinal(new byte[] {(byte) type}, 0, 1, dst, at + RecordLayer.HEADER + n);
            if (n != length) {
                throw new IllegalStateException("sealed " + n + " bytes, expected " + length);
            }
            seq++;
            return RecordLayer.HEADER + length;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("record encryption failed", e);
        }
    }

    @Override
    public RecordLayer.Record open(byte[] buf, int off, int fragmentLength) {
        if ((buf[off] & 0xff) != RecordLayer.APPLICATION_DATA) {
            // An unprotected record once keys are in place: only the handshake's plaintext alert is let through
            // by the record layer; anything else here is the peer out of step.
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "unprotected record of type " + (buf[off] & 0xff) + " after the keys changed");
        }
        RecordLayer.Record r = tryOpen(buf, off, fragmentLength);
        if (r == null) {
            throw TlsException.fatal(Alert.BAD_RECORD_MAC, "a record did not decrypt (tampered, or keys out of step)");
        }
        return r;
    }

    /**
     * {@link #open}, except that a record that does not decrypt is null and leaves the sequence number as it
     * was: a server skipping rejected 0-RTT data tries each record (RFC 8446 section 4.2.10), and a passive reader
     * of a capture tries a record under each key it may be under.
     */
    public RecordLayer.Record tryOpen(byte[] buf, int off, int fragmentLength) {
        if (fragmentLength < TAG) {
            return null;
        }
        byte[] inner;
        try {
            init(Cipher.DECRYPT_MODE);
            cipher.updateAAD(buf, off, RecordLayer.HEADER);
            inner = cipher.doFinal(buf, off + RecordLayer.HEADER, fragmentLength);
        } catch (AEADBadTagException e) {
            if (kind == CipherSuite.Cipher.CHACHA20_POLY1305) {
                // The JDK refuses to init ChaCha20-Poly1305 twice in a row with one key and nonce, decryption
                // included; the sequence number has not moved, so the next try would (as in RecordProtection12).
                cipher = newCipher(kind);
            }
            return null;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("record decryption failed", e);
        }
        seq++;
        if (inner.length > RecordLayer.MAX_FRAGMENT + 1) {
            throw TlsException.fatal(Alert.RECORD_OVERFLOW, "inner plaintext (with padding) over 2^14 + 1 bytes");
        }
        int end = inner.length - 1;
        while (end >= 0 && inner[end] == 0) {
            end--;
        }
        if (end < 0) {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "a protected record with no content type");
        }
        return new RecordLayer.Record(inner[end] & 0xff, inner, end);
    }

    @Override
    public long sequence() {
        return seq;
    }
}
