package dev.keyway.envelope;

import dev.keyway.core.kdf.Hkdf;
import dev.keyway.core.keys.SessionKey;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;

/** The keys and values a file key determines (docs/FORMAT.md, "Keys derived from the file key"). */
final class FileKeys {
    private static final byte[] PAYLOAD = ascii("keyway payload v1");
    private static final byte[] HEADER_MAC = ascii("keyway header mac v1");
    private static final byte[] COMMITMENT = ascii("keyway key commitment v1");
    static final int FILE_KEY_LENGTH = 32;

    private FileKeys() {
    }

    static byte[] payloadKey(SessionKey fileKey, byte[] payloadNonce) {
        return derive(fileKey, payloadNonce, PAYLOAD);
    }

    static byte[] commitment(SessionKey fileKey) {
        return derive(fileKey, new byte[0], COMMITMENT);
    }

    static byte[] headerMac(SessionKey fileKey, byte[] headerWithoutMac) {
        byte[] key = derive(fileKey, new byte[0], HEADER_MAC);
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(headerWithoutMac);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    /** Constant-time comparison. */
    static boolean same(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    private static byte[] derive(SessionKey fileKey, byte[] salt, byte[] info) {
        byte[] ikm = fileKey.bytes();
        try {
            return Hkdf.derive(Hkdf.Hash.SHA256, salt, ikm, info, 32);
        } finally {
            Arrays.fill(ikm, (byte) 0);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
