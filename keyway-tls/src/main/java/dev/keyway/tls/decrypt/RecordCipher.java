package dev.keyway.tls.decrypt;

import dev.keyway.core.kdf.CipherSuite;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/** AEAD record opening with the JDK's AES-GCM and ChaCha20-Poly1305 (RFC 8446 section 5.2/5.3, RFC 5288, RFC 7905). */
final class RecordCipher {
    static final int TAG = 16;

    private final CipherSuite.Cipher kind;
    private final SecretKeySpec key;
    private final byte[] iv;

    RecordCipher(CipherSuite.Cipher kind, byte[] key, byte[] iv) {
        if (!kind.aead()) {
            throw new IllegalArgumentException(kind + " is not an AEAD");
        }
        this.kind = kind;
        this.key = new SecretKeySpec(key, kind == CipherSuite.Cipher.CHACHA20_POLY1305 ? "ChaCha20" : "AES");
        this.iv = iv;
        Arrays.fill(key, (byte) 0);
    }

    /** The per-record nonce: the IV XOR the 64-bit sequence number, left-padded (RFC 8446 section 5.3). */
    static byte[] xorNonce(byte[] iv, long seq) {
        byte[] nonce = iv.clone();
        for (int i = 0; i < 8; i++) {
            nonce[nonce.length - 1 - i] ^= (byte) (seq >>> (8 * i));
        }
        return nonce;
    }

    /** TLS 1.3: the record header is the additional data; returns null when the tag does not verify. */
    byte[] openTls13(long seq, byte[] header, byte[] fragment) {
        if (fragment.length < TAG) {
            return null;
        }
        return open(xorNonce(iv, seq), header, fragment, 0, fragment.length);
    }

    /** Opens {@code fragment[from..to)} with a given nonce and additional data; null on a bad tag. */
    byte[] open(byte[] nonce, byte[] aad, byte[] fragment, int from, int to) {
        try {
            Cipher c;
            if (kind == CipherSuite.Cipher.CHACHA20_POLY1305) {
                c = Cipher.getInstance("ChaCha20-Poly1305");
                c.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(nonce));
            } else {
                c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG * 8, nonce));
            }
            c.updateAAD(aad);
            return c.doFinal(fragment, from, to - from);
        } catch (AEADBadTagException e) {
            return null;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK refused " + kind + ": " + e.getMessage(), e);
        }
    }
}
