package dev.keyway.core.kdf;

import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.digests.SHA384Digest;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;

import java.util.function.Supplier;

/** HKDF (RFC 5869): extract-then-expand, on Bouncy Castle's implementation. */
public final class Hkdf {

    /** The hash HKDF runs on. */
    public enum Hash {
        SHA256(32, SHA256Digest::new), SHA384(48, SHA384Digest::new), SHA512(64, SHA512Digest::new);

        private final int length;
        private final Supplier<Digest> digest;

        Hash(int length, Supplier<Digest> digest) {
            this.length = length;
            this.digest = digest;
        }

        /** Output length of the hash in bytes. */
        public int length() {
            return length;
        }

        Digest newDigest() {
            return digest.get();
        }
    }

    private Hkdf() {
    }

    /** HKDF-Extract (RFC 5869 section 2.2); an empty or null salt means HashLen zero bytes. */
    public static byte[] extract(Hash hash, byte[] salt, byte[] ikm) {
        HKDFBytesGenerator g = new HKDFBytesGenerator(hash.newDigest());
        return g.extractPRK(salt == null || salt.length == 0 ? new byte[hash.length()] : salt, ikm);
    }

    /** HKDF-Expand (RFC 5869 section 2.3); {@code length} at most 255 * HashLen. */
    public static byte[] expand(Hash hash, byte[] prk, byte[] info, int length) {
        checkLength(hash, length);
        if (prk.length < hash.length()) {
            throw new IllegalArgumentException("HKDF PRK must be at least HashLen bytes");
        }
        HKDFBytesGenerator g = new HKDFBytesGenerator(hash.newDigest());
        g.init(HKDFParameters.skipExtractParameters(prk, info));
        byte[] out = new byte[length];
        g.generateBytes(out, 0, length);
        return out;
    }

    /** Extract then expand. */
    public static byte[] derive(Hash hash, byte[] salt, byte[] ikm, byte[] info, int length) {
        checkLength(hash, length);
        HKDFBytesGenerator g = new HKDFBytesGenerator(hash.newDigest());
        g.init(new HKDFParameters(ikm, salt == null || salt.length == 0 ? null : salt, info));
        byte[] out = new byte[length];
        g.generateBytes(out, 0, length);
        return out;
    }

    private static void checkLength(Hash hash, int length) {
        if (length < 0 || length > 255 * hash.length()) {
            throw new IllegalArgumentException("HKDF output length must be 0.." + 255 * hash.length() + " bytes, not " + length);
        }
    }
}
