package dev.keyway.envelope;

import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The body's STREAM construction (docs/FORMAT.md, "Body: STREAM"): chunk {@code i} is sealed under the
 * payload key with the nonce {@code i || last}, one after another on the calling thread. (Sealing on
 * worker threads was tried and measured: on a 2-core machine the hand-offs cost what the second core
 * gained; see docs/BENCHMARKS.md.)
 */
final class Stream {
    static final int CHUNK = 1 << Header.CHUNK_SHIFT;
    static final int SEALED_CHUNK = CHUNK + PayloadAead.TAG;
    static final int SIGNATURE = 64;
    private static final byte[] SIGNATURE_CONTEXT = "keyway envelope signature v1\0".getBytes(StandardCharsets.US_ASCII);

    private final PayloadAead aead;
    private final Cipher cipher;
    private final SecretKeySpec key;

    Stream(PayloadAead aead, byte[] payloadKey) {
        this.aead = aead;
        this.cipher = aead.newCipher();
        this.key = aead.keySpec(payloadKey);
        Arrays.fill(payloadKey, (byte) 0);
    }

    /** Seals chunk {@code index}; returns the sealed length. */
    int seal(long index, boolean last, byte[] in, int len, byte[] out) throws GeneralSecurityException {
        aead.init(cipher, Cipher.ENCRYPT_MODE, key, nonce(index, last));
        return cipher.doFinal(in, 0, len, out, 0);
    }

    /** Opens chunk {@code index}; throws AEADBadTagException (a GeneralSecurityException) if it does not authenticate. */
    int open(long index, boolean last, byte[] in, int len, byte[] out) throws GeneralSecurityException {
        aead.init(cipher, Cipher.DECRYPT_MODE, key, nonce(index, last));
        return cipher.doFinal(in, 0, len, out, 0);
    }

    static byte[] nonce(long index, boolean last) {
        byte[] nonce = new byte[PayloadAead.NONCE];
        // An 11-byte big-endian counter: the top three bytes stay zero below 2^64 chunks.
        for (int i = 0; i < 8; i++) {
            nonce[3 + i] = (byte) (index >>> (56 - 8 * i));
        }
        nonce[11] = (byte) (last ? 1 : 0);
        return nonce;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the sender signs, given the SHA-256 of every byte before the signature. */
    static byte[] signedMessage(byte[] digest) {
        byte[] m = Arrays.copyOf(SIGNATURE_CONTEXT, SIGNATURE_CONTEXT.length + digest.length);
        System.arraycopy(digest, 0, m, SIGNATURE_CONTEXT.length, digest.length);
        return m;
    }

    /** Reads until {@code len} bytes or the end of input; the count read. */
    static int readFully(InputStream in, byte[] b, int off, int len) throws IOException {
        int total = 0;
        while (total < len) {
            int n = in.read(b, off + total, len - total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }
}
