package dev.keyway.tls;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.core.kdf.TrafficKeys;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * One direction of TLS 1.3 record protection written out independently for tests (RFC 8446 section 5.2):
 * opens and seals whole records (header included) with a key and IV from a traffic secret, so a test can
 * read or forge what the peer would accept.
 */
final class RecordCrypto {
    private final boolean chacha;
    private final byte[] key;
    private final byte[] iv;
    private long seq;

    RecordCrypto(CipherSuite.Cipher cipher, byte[] key, byte[] iv) {
        this.chacha = cipher == CipherSuite.Cipher.CHACHA20_POLY1305;
        this.key = key.clone();
        this.iv = iv.clone();
    }

    /** The protection a peer derives from {@code secret} for {@code suite}. */
    static RecordCrypto of(CipherSuite suite, byte[] secret) {
        TrafficKeys k = KeySchedule13.of(suite).trafficKeys(secret, suite.cipher().keyLength());
        return new RecordCrypto(suite.cipher(), k.key(), k.iv());
    }

    long sequence() {
        return seq;
    }

    private Cipher init(int mode) throws GeneralSecurityException {
        byte[] nonce = iv.clone();
        for (int i = 0; i < 8; i++) {
            nonce[nonce.length - 1 - i] ^= (byte) (seq >>> (8 * i));
        }
        Cipher c = Cipher.getInstance(chacha ? "ChaCha20-Poly1305" : "AES/GCM/NoPadding");
        SecretKeySpec k = new SecretKeySpec(key, chacha ? "ChaCha20" : "AES");
        c.init(mode, k, chacha ? new IvParameterSpec(nonce) : new GCMParameterSpec(128, nonce));
        return c;
    }

    /** The inner plaintext (content, type, padding) of a protected record, or null if it does not open. */
    byte[] open(byte[] record) {
        if (record.length < 5 + 16 || record[0] != 23) {
            return null;
        }
        try {
            Cipher c = init(Cipher.DECRYPT_MODE);
            c.updateAAD(record, 0, 5);
            byte[] inner = c.doFinal(record, 5, record.length - 5);
            seq++;
            return inner;
        } catch (AEADBadTagException e) {
            return null;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A whole record (type 23, 0x0303, length) sealing {@code inner} (content, type byte, any padding). */
    byte[] seal(byte[] inner) {
        int length = inner.length + 16;
        byte[] header = {23, 3, 3, (byte) (length >> 8), (byte) length};
        try {
            Cipher c = init(Cipher.ENCRYPT_MODE);
            c.updateAAD(header);
            byte[] sealed = c.doFinal(inner);
            seq++;
            byte[] out = Arrays.copyOf(header, 5 + sealed.length);
            System.arraycopy(sealed, 0, out, 5, sealed.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code content} followed by its type byte and {@code padding} zeros. */
    static byte[] inner(byte[] content, int type, int padding) {
        byte[] out = Arrays.copyOf(content, content.length + 1 + padding);
        out[content.length] = (byte) type;
        return out;
    }
}
