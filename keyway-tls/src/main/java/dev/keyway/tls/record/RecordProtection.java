package dev.keyway.tls.record;

import dev.keyway.core.kdf.CipherSuite;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * One direction's TLS 1.3 record protection (RFC 8446 section 5.2-5.3): an AEAD key, the IV and the
 * sequence number; the nonce is the IV XOR the sequence number, the additional data the record header.
 */
public final class RecordProtection {
    static final int TAG = 16;

    private final CipherSuite.Cipher kind;
    private final SecretKeySpec key;
    private final byte[] iv;
    private final Cipher cipher;
    private long seq;

    public RecordProtection(CipherSuite.Cipher kind, byte[] key, byte[] iv) {
        this.kind = kind;
        boolean chacha = kind == CipherSuite.Cipher.CHACHA20_POLY1305;
        this.key = new SecretKeySpec(key, chacha ? "ChaCha20" : "AES");
        this.iv = iv.clone();
        Arrays.fill(key, (byte) 0);
        try {
            this.cipher = Cipher.getInstance(chacha ? "ChaCha20-Poly1305" : "AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks " + kind, e);
        }
    }

    private byte[] nonce() {
        byte[] n = iv.clone();
        for (int i = 0; i < 8; i++) {
            n[n.length - 1 - i] ^= (byte) (seq >>> (8 * i));
        }
        return n;
    }

    private void init(int mode) throws GeneralSecurityException {
        byte[] n = nonce();
        if (kind == CipherSuite.Cipher.CHACHA20_POLY1305) {
            cipher.init(mode, key, new IvParameterSpec(n));
        } else {
            cipher.init(mode, key, new GCMParameterSpec(TAG * 8, n));
        }
    }

    /** Seals an inner plaintext under the given header (type 23, 0x0303, the ciphertext length). */
    byte[] seal(byte[] header, byte[] inner) {
        try {
            init(Cipher.ENCRYPT_MODE);
            cipher.updateAAD(header);
            byte[] out = cipher.doFinal(inner);
            seq++;
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("record encryption failed", e);
        }
    }

    /** Opens a record; null when the tag does not verify. */
    byte[] open(byte[] header, byte[] fragment) {
        if (fragment.length < TAG) {
            return null;
        }
        try {
            init(Cipher.DECRYPT_MODE);
            cipher.updateAAD(header);
            byte[] out = cipher.doFinal(fragment);
            seq++;
            return out;
        } catch (AEADBadTagException e) {
            return null;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("record decryption failed", e);
        }
    }

    /** Records sealed or opened so far. */
    public long sequence() {
        return seq;
    }
}
