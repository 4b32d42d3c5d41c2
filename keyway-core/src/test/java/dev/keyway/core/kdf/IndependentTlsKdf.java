package dev.keyway.core.kdf;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Test-side reimplementations of the TLS key derivations, written straight from the RFCs on top of
 * the JDK ({@link Mac}, {@link MessageDigest}) and sharing no code with {@link Prf12}, {@link Hkdf} or
 * {@link KeySchedule13}, so that agreement between the two is evidence rather than tautology.
 *
 * <ul>
 *   <li>HMAC: RFC 2104 (through {@code javax.crypto.Mac}; an empty key, which JCE refuses, is done by hand).</li>
 *   <li>P_hash and the TLS 1.2 PRF: RFC 5246 section 5; the TLS 1.0/1.1 PRF: RFC 2246 section 5.</li>
 *   <li>HKDF-Extract / HKDF-Expand: RFC 5869 section 2; HKDF-Expand-Label and Derive-Secret: RFC 8446 7.1.</li>
 * </ul>
 */
final class IndependentTlsKdf {
    private IndependentTlsKdf() {
    }

    // ---- hashes and HMAC ------------------------------------------------------------------------

    /** JCA digest name for an HMAC name: HmacSHA256 -> SHA-256, HmacMD5 -> MD5. */
    static String digestOf(String hmac) {
        String h = hmac.substring("Hmac".length());
        return h.equals("MD5") ? "MD5" : h.replace("SHA", "SHA-");
    }

    static byte[] digest(String algorithm, byte[]... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance(algorithm);
            for (byte[] p : parts) {
                md.update(p);
            }
            return md.digest();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    /** HMAC(key, data) per RFC 2104. */
    static byte[] hmac(String algorithm, byte[] key, byte[]... data) {
        if (key.length == 0) {
            return hmacByHand(algorithm, key, data);
        }
        try {
            Mac mac = Mac.getInstance(algorithm);
            mac.init(new SecretKeySpec(key, algorithm));
            for (byte[] d : data) {
                mac.update(d);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    /** RFC 2104 section 2 spelled out: H(K XOR opad, H(K XOR ipad, text)), for keys JCE will not take. */
    static byte[] hmacByHand(String algorithm, byte[] key, byte[]... data) {
        String digest = digestOf(algorithm);
        int block = digest.equals("SHA-384") || digest.equals("SHA-512") ? 128 : 64;
        byte[] k = key.length > block ? digest(digest, key) : key;
        byte[] ipad = new byte[block];
        byte[] opad = new byte[block];
        for (int i = 0; i < block; i++) {
            byte b = i < k.length ? k[i] : 0;
            ipad[i] = (byte) (b ^ 0x36);
            opad[i] = (byte) (b ^ 0x5c);
        }
        byte[][] inner = new byte[data.length + 1][];
        inner[0] = ipad;
        System.arraycopy(data, 0, inner, 1, data.length);
        return digest(digest, opad, digest(digest, inner));
    }

    // ---- TLS 1.0-1.2 PRF ------------------------------------------------------------------------

    /**
     * RFC 5246 section 5: P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) + HMAC_hash(secret, A(2) + seed) + ...
     * with A(0) = seed and A(i) = HMAC_hash(secret, A(i-1)), truncated to {@code length}.
     */
    static byte[] pHash(String hmac, byte[] secret, byte[] seed, int length) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] a = seed; // A(0)
        while (out.size() < length) {
            a = hmac(hmac, secret, a); // A(i)
            out.writeBytes(hmac(hmac, secret, a, seed));
        }
        return Arrays.copyOf(out.toByteArray(), length);
    }

    /** RFC 5246 section 5: PRF(secret, label, seed) = P_<hash>(secret, label + seed). */
    static byte[] prf12(String hmac, byte[] secret, String label, byte[] seed, int length) {
        return pHash(hmac, secret, concat(label.getBytes(StandardCharsets.US_ASCII), seed), length);
    }

    /**
     * RFC 2246 section 5: S1 is the first and S2 the last ceil(len/2) bytes of the secret (so an odd-length
     * secret puts its middle byte in both); PRF = P_MD5(S1, label + seed) XOR P_SHA-1(S2, label + seed).
     */
    static byte[] prf10(byte[] secret, String label, byte[] seed, int length) {
        int ls = (secret.length + 1) / 2;
        byte[] s1 = Arrays.copyOfRange(secret, 0, ls);
        byte[] s2 = Arrays.copyOfRange(secret, secret.length - ls, secret.length);
        byte[] labelSeed = concat(label.getBytes(StandardCharsets.US_ASCII), seed);
        byte[] md5 = pHash("HmacMD5", s1, labelSeed, length);
        byte[] sha = pHash("HmacSHA1", s2, labelSeed, length);
        byte[] out = new byte[length];
        for (int i = 0; i < length; i++) {
            out[i] = (byte) (md5[i] ^ sha[i]);
        }
        return out;
    }

    /** The PRF a TLS 1.0-1.2 connection uses: "MD5_SHA1" (1.0/1.1), "SHA256" or "SHA384" (1.2). */
    static byte[] prf(String which, byte[] secret, String label, byte[] seed, int length) {
        switch (which) {
            case "MD5_SHA1":
                return prf10(secret, label, seed, length);
            case "SHA256":
                return prf12("HmacSHA256", secret, label, seed, length);
            case "SHA384":
                return prf12("HmacSHA384", secret, label, seed, length);
            default:
                throw new IllegalArgumentException(which);
        }
    }

    /**
     * The handshake hash that goes with a PRF: MD5(m) || SHA-1(m) for TLS 1.0/1.1 (RFC 2246 section 7.4.9,
     * RFC 7627 section 3), the PRF hash for TLS 1.2.
     */
    static byte[] handshakeHash(String which, byte[]... messages) {
        switch (which) {
            case "MD5_SHA1":
                return concat(digest("MD5", messages), digest("SHA-1", messages));
            case "SHA256":
                return digest("SHA-256", messages);
            case "SHA384":
                return digest("SHA-384", messages);
            default:
                throw new IllegalArgumentException(which);
        }
    }

    // ---- HKDF and the TLS 1.3 schedule -------------------------------------------------------------

    /** RFC 5869 section 2.2: PRK = HMAC-Hash(salt, IKM), a missing salt being HashLen zeros. */
    static byte[] hkdfExtract(String hmac, byte[] salt, byte[] ikm) {
        byte[] s = salt == null || salt.length == 0 ? new byte[hmac(hmac, new byte[1]).length] : salt;
        return hmac(hmac, s, ikm);
    }

    /** RFC 5869 section 2.3: T(0) = empty, T(i) = HMAC-Hash(PRK, T(i-1) | info | i); OKM = first L octets. */
    static byte[] hkdfExpand(String hmac, byte[] prk, byte[] info, int length) {
        ByteArrayOutputStream okm = new ByteArrayOutputStream();
        byte[] t = new byte[0];
        for (int i = 1; okm.size() < length; i++) {
            t = hmac(hmac, prk, t, info, new byte[] {(byte) i});
            okm.writeBytes(t);
        }
        return Arrays.copyOf(okm.toByteArray(), length);
    }

    /** RFC 8446 section 7.1: the HkdfLabel structure: uint16 length, opaque label<7..255>, opaque context<0..255>. */
    static byte[] hkdfLabel(String label, byte[] context, int length) {
        byte[] full = ("tls13 " + label).getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream info = new ByteArrayOutputStream();
        info.write((length >>> 8) & 0xff);
        info.write(length & 0xff);
        info.write(full.length);
        info.writeBytes(full);
        info.write(context.length);
        info.writeBytes(context);
        return info.toByteArray();
    }

    /** HKDF-Expand-Label(Secret, Label, Context, Length) = HKDF-Expand(Secret, HkdfLabel, Length). */
    static byte[] expandLabel(String hmac, byte[] secret, String label, byte[] context, int length) {
        return hkdfExpand(hmac, secret, hkdfLabel(label, context, length), length);
    }

    /** Derive-Secret(Secret, Label, Messages) = HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length). */
    static byte[] deriveSecret(String hmac, byte[] secret, String label, byte[]... messages) {
        byte[] th = digest(digestOf(hmac), messages);
        return expandLabel(hmac, secret, label, th, th.length);
    }

    /**
     * RFC 8446 section 7.5: TLS-Exporter(label, context_value, key_length) =
     * HKDF-Expand-Label(Derive-Secret(Secret, label, ""), "exporter", Hash(context_value), key_length).
     */
    static byte[] exporter(String hmac, byte[] exporterMasterSecret, String label, byte[] context, int length) {
        byte[] secret = deriveSecret(hmac, exporterMasterSecret, label);
        return expandLabel(hmac, secret, "exporter", digest(digestOf(hmac), context), length);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
