package dev.keyway.tls.decrypt;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.TlsVersion;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Opens the TLS 1.0-1.2 CBC records of one direction that the live connection's
 * {@link dev.keyway.tls.record.RecordProtection12} does not read: TLS 1.0's, whose IV chains across records
 * (RFC 2246 section 6.2.3.2), and encrypt-then-MAC ones (RFC 7366), which Keyway does not offer. A passive
 * reader, so it needs no timing care: a record either opens or the result is null.
 */
final class RecordCipher12 {
    private final CipherSuite suite;
    private final TlsVersion version;
    private final boolean encryptThenMac;
    private final SecretKeySpec cbcKey;
    private final SecretKeySpec macKey;
    private byte[] chainedIv;
    private long seq;

    RecordCipher12(CipherSuite suite, TlsVersion version, boolean encryptThenMac, byte[] key, byte[] iv, byte[] macKey) {
        if (suite.cipher().aead()) {
            throw new IllegalArgumentException(suite.name() + " is not a CBC suite");
        }
        this.suite = suite;
        this.version = version;
        this.encryptThenMac = encryptThenMac;
        this.cbcKey = new SecretKeySpec(key, "AES");
        this.macKey = new SecretKeySpec(macKey, suite.mac().jcaName());
        this.chainedIv = iv;
        Arrays.fill(key, (byte) 0);
        Arrays.fill(macKey, (byte) 0);
    }

    /** The plaintext of a protected record, or null when it does not open. */
    byte[] open(CapturedRecord r) {
        byte[] plain = openCbc(r);
        if (plain != null) {
            seq++;
        }
        return plain;
    }

    private byte[] additionalData(CapturedRecord r, int length) {
        byte[] ad = new byte[13];
        for (int i = 0; i < 8; i++) {
            ad[i] = (byte) (seq >>> (56 - 8 * i));
        }
        ad[8] = (byte) r.type();
        ad[9] = (byte) (r.version() >> 8);
        ad[10] = (byte) r.version();
        ad[11] = (byte) (length >> 8);
        ad[12] = (byte) length;
        return ad;
    }

    private byte[] openCbc(CapturedRecord r) {
        byte[] f = r.fragment();
        int block = suite.cipher().blockSize();
        int macLength = suite.mac().keyLength();
        boolean explicitIv = version != TlsVersion.TLS10;
        try {
            int end = f.length;
            if (encryptThenMac) {
                if (end < macLength) {
                    return null;
                }
                end -= macLength;
                Mac mac = mac();
                mac.update(additionalData(r, end));
                mac.update(f, 0, end);
                if (!MessageDigest.isEqual(mac.doFinal(), Arrays.copyOfRange(f, end, f.length))) {
                    return null;
                }
            }
            int start = explicitIv ? block : 0;
            if (end - start <= 0 || (end - start) % block != 0) {
                return null;
            }
            byte[] iv = explicitIv ? Arrays.copyOfRange(f, 0, block) : chainedIv;
            Cipher c = Cipher.getInstance("AES/CBC/NoPadding");
            c.init(Cipher.DECRYPT_MODE, cbcKey, new IvParameterSpec(iv));
            byte[] padded = c.doFinal(f, start, end - start);
            int pad = padded[padded.length - 1] & 0xff;
            int contentEnd = padded.length - 1 - pad;
            if (contentEnd < (encryptThenMac ? 0 : macLength)) {
                return null;
            }
            for (int i = contentEnd; i < padded.length; i++) {
                if ((padded[i] & 0xff) != pad) {
                    return null;
                }
            }
            byte[] content;
            if (encryptThenMac) {
                content = Arrays.copyOf(padded, contentEnd);
            } else {
                int length = contentEnd - macLength;
                content = Arrays.copyOf(padded, length);
                Mac mac = mac();
                mac.update(additionalData(r, length));
                mac.update(content);
                if (!MessageDigest.isEqual(mac.doFinal(), Arrays.copyOfRange(padded, length, contentEnd))) {
                    return null;
                }
            }
            if (!explicitIv) {
                chainedIv = Arrays.copyOfRange(f, end - block, end);
            }
            return content;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK refused " + suite.cipher() + ": " + e.getMessage(), e);
        }
    }

    private Mac mac() throws GeneralSecurityException {
        Mac mac = Mac.getInstance(suite.mac().jcaName());
        mac.init(macKey);
        return mac;
    }
}
