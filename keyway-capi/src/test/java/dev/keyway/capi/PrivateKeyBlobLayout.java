package dev.keyway.capi;

import java.math.BigInteger;
import java.util.Arrays;

/**
 * Where a PRIVATEKEYBLOB keeps each number (BLOBHEADER, RSAPUBKEY, then modulus, prime1, prime2,
 * exponent1, exponent2, coefficient, privateExponent, little-endian), read and changed directly: tests
 * make blobs that break one RSA relation without going through the parser that refuses them.
 */
enum PrivateKeyBlobLayout {
    PUBEXP, MODULUS, PRIME1, PRIME2, EXPONENT1, EXPONENT2, COEFFICIENT, PRIVATE_EXPONENT;

    /** Bits of the key in a blob (RSAPUBKEY.bitlen). */
    static int bits(byte[] blob) {
        return le(blob, 12, 4).intValue();
    }

    int offset(byte[] blob) {
        int n8 = bits(blob) / 8;
        int n16 = bits(blob) / 16;
        return switch (this) {
            case PUBEXP -> 16;
            case MODULUS -> 20;
            case PRIME1 -> 20 + n8;
            case PRIME2 -> 20 + n8 + n16;
            case EXPONENT1 -> 20 + n8 + 2 * n16;
            case EXPONENT2 -> 20 + n8 + 3 * n16;
            case COEFFICIENT -> 20 + n8 + 4 * n16;
            case PRIVATE_EXPONENT -> 20 + n8 + 5 * n16;
        };
    }

    int length(byte[] blob) {
        return switch (this) {
            case PUBEXP -> 4;
            case MODULUS, PRIVATE_EXPONENT -> bits(blob) / 8;
            default -> bits(blob) / 16;
        };
    }

    BigInteger read(byte[] blob) {
        return le(blob, offset(blob), length(blob));
    }

    /** A copy of {@code blob} with this field set to {@code value}. */
    byte[] with(byte[] blob, BigInteger value) {
        byte[] b = blob.clone();
        int off = offset(b);
        int len = length(b);
        byte[] be = value.toByteArray();
        Arrays.fill(b, off, off + len, (byte) 0);
        for (int i = 0; i < len && i < be.length; i++) {
            b[off + i] = be[be.length - 1 - i];
        }
        if (value.signum() < 0 || value.bitLength() > 8 * len) {
            throw new IllegalArgumentException(this + " does not fit " + len + " bytes");
        }
        return b;
    }

    private static BigInteger le(byte[] b, int off, int len) {
        byte[] be = new byte[len];
        for (int i = 0; i < len; i++) {
            be[i] = b[off + len - 1 - i];
        }
        return new BigInteger(1, be);
    }
}
