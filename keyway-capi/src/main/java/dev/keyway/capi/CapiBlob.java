package dev.keyway.capi;

import org.bouncycastle.crypto.CipherParameters;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.Wrapper;
import org.bouncycastle.crypto.engines.DESedeWrapEngine;
import org.bouncycastle.crypto.engines.RC2WrapEngine;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.params.RC2Parameters;

import javax.crypto.Cipher;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.SecureRandom;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The CryptoAPI key BLOBs (CryptExportKey/CryptImportKey), little-endian, each starting with a
 * BLOBHEADER {bType, bVersion, reserved, aiKeyAlg}. {@link #parse} reads any of them, bounded by the
 * input's length; each record writes itself back with {@link #encode}.
 */
public sealed interface CapiBlob permits CapiBlob.SimpleBlob, CapiBlob.PlaintextKeyBlob, CapiBlob.RsaPublicKeyBlob,
        CapiBlob.RsaPrivateKeyBlob, CapiBlob.SymmetricWrapKeyBlob {

    /** CUR_BLOB_VERSION. */
    int VERSION = 2;
    int CALG_RSA_KEYX = 0xa400;
    int CALG_RSA_SIGN = 0x2400;
    int RSA1 = 0x31415352;
    int RSA2 = 0x32415352;
    /** Largest blob Keyway reads: a 16384-bit private key is about 5 KiB. */
    int MAX_BLOB = 64 * 1024;

    BlobType type();

    byte[] encode();

    /** Parses one blob; anything malformed is a CapiException naming the Windows error. */
    static CapiBlob parse(byte[] data) {
        if (data.length > MAX_BLOB) {
            throw new CapiException(CapiError.NTE_BAD_LEN, "a key blob of " + data.length + " bytes is larger than any CryptoAPI exports",
                    "check that the file is a key blob");
        }
        LittleEndian in = new LittleEndian(data, "the key blob");
        BlobType type = BlobType.ofCode(in.u8());
        int version = in.u8();
        int reserved = in.u16();
        int algId = (int) in.u32();
        if (reserved != 0) {
            throw new CapiException(CapiError.NTE_BAD_DATA, "the BLOBHEADER's reserved field is not zero", "check that the file is a CryptoAPI key blob");
        }
        if (version != VERSION) {
            throw new CapiException(CapiError.NTE_BAD_VER, "blob version " + version + " (expected 2)", "check that the file is a CryptoAPI key blob");
        }
        CapiBlob blob = switch (type) {
            case SIMPLEBLOB -> {
                CipherAlg alg = CipherAlg.ofAlgId(algId);
                int exchangeAlg = (int) in.u32();
                if (exchangeAlg != CALG_RSA_KEYX) {
                    throw new CapiException(CapiError.NTE_BAD_ALGID, String.format("SIMPLEBLOB encrypted with ALG_ID 0x%04X", exchangeAlg),
                            "Keyway reads SIMPLEBLOBs encrypted with CALG_RSA_KEYX");
                }
                byte[] encrypted = in.bytes(in.remaining());
                if (encrypted.length < 64 || encrypted.length > 2048) {
                    throw new CapiException(CapiError.NTE_BAD_LEN, "the encrypted key is " + encrypted.length + " bytes, not an RSA modulus length",
                            "check that the blob is complete");
                }
                yield new SimpleBlob(alg, LittleEndian.reverse(encrypted));
            }
            case PLAINTEXTKEYBLOB -> {
                CipherAlg alg = CipherAlg.ofAlgId(algId);
                long size = in.u32();
                if (size > in.remaining()) {
                    throw new CapiException(CapiError.NTE_BAD_LEN, "dwKeySize " + size + " is longer than the blob", "check that the blob is complete");
                }
                byte[] key = in.bytes((int) size);
                yield new PlaintextKeyBlob(CapiKey.imported(alg, key));
            }
            case PUBLICKEYBLOB, PRIVATEKEYBLOB -> rsa(type, algId, in);
            case SYMMETRICWRAPKEYBLOB -> {
                CipherAlg alg = CipherAlg.ofAlgId(algId);
                CipherAlg wrapAlg = CipherAlg.ofAlgId((int) in.u32());
                byte[] wrapped = in.bytes(in.remaining());
                if (wrapped.length < 16 || wrapped.length > 512) {
                    throw new CapiException(CapiError.NTE_BAD_LEN, "the wrapped key is " + wrapped.length + " bytes",
                            "check that the blob is complete");
                }
                yield new SymmetricWrapKeyBlob(alg, wrapAlg, wrapped);
            }
        };
        in.end();
        return blob;
    }

    private static CapiBlob rsa(BlobType type, int algId, LittleEndian in) {
        if (algId != CALG_RSA_KEYX && algId != CALG_RSA_SIGN) {
            throw new CapiException(CapiError.NTE_BAD_ALGID, String.format("ALG_ID 0x%04X in an RSA key blob", algId),
                    "RSA key blobs are CALG_RSA_KEYX or CALG_RSA_SIGN");
        }
        long magic = in.u32();
        long expected = type == BlobType.PUBLICKEYBLOB ? RSA1 : RSA2;
        if (magic != expected) {
            throw new CapiException(CapiError.NTE_BAD_DATA, String.format("RSAPUBKEY magic 0x%08X (expected %s)", magic,
                    type == BlobType.PUBLICKEYBLOB ? "'RSA1'" : "'RSA2'"), "check that the blob is an RSA key blob");
        }
        long bits = in.u32();
        if (bits < 512 || bits > 16384 || bits % 16 != 0) {
            throw new CapiException(CapiError.NTE_BAD_LEN, "RSA key of " + bits + " bits", "CryptoAPI RSA keys are 512 to 16384 bits, a multiple of 16");
        }
        BigInteger e = BigInteger.valueOf(in.u32());
        int n8 = (int) bits / 8;
        int n16 = (int) bits / 16;
        BigInteger modulus = in.unsigned(n8);
        try {
            KeyFactory kf = KeyFactory.getInstance("RSA");
            if (type == BlobType.PUBLICKEYBLOB) {
                return new RsaPublicKeyBlob(algId, (RSAPublicKey) kf.generatePublic(new RSAPublicKeySpec(modulus, e)));
            }
            BigInteger p = in.unsigned(n16);
            BigInteger q = in.unsigned(n16);
            BigInteger dp = in.unsigned(n16);
            BigInteger dq = in.unsigned(n16);
            BigInteger qinv = in.unsigned(n16);
            BigInteger d = in.unsigned(n8);
            checkConsistent(modulus, e, d, p, q, dp, dq, qinv);
            return new RsaPrivateKeyBlob(algId, (RSAPrivateCrtKey) kf.generatePrivate(
                    new RSAPrivateCrtKeySpec(modulus, e, d, p, q, dp, dq, qinv)));
        } catch (GeneralSecurityException ex) {
            throw new CapiException(CapiError.NTE_BAD_DATA, "the RSA key is not valid: " + ex.getMessage(), "the blob is damaged");
        }
    }

    /**
     * The relations every RSA private key holds, checked as {@code openssl rsa -check} does: n = p·q,
     * d·e ≡ 1 (mod λ(n)) with λ(n) = lcm(p − 1, q − 1), dp = d mod (p − 1), dq = d mod (q − 1) and
     * qinv·q ≡ 1 (mod p) with qinv < p. A blob that breaks one was damaged or altered: it is refused as
     * NTE_BAD_DATA (exit 3) with every broken relation named, in the blob's field names. (d mod φ(n), as
     * some exporters write it, passes: λ(n) divides φ(n).)
     */
    private static void checkConsistent(BigInteger n, BigInteger e, BigInteger d, BigInteger p, BigInteger q,
                                        BigInteger dp, BigInteger dq, BigInteger qinv) {
        BigInteger one = BigInteger.ONE;
        if (p.compareTo(one) <= 0 || q.compareTo(one) <= 0) {
            throw new CapiException(CapiError.NTE_BAD_DATA, "the private key blob is inconsistent: prime1 or prime2 is 0 or 1",
                    "the blob is damaged or was altered; export the key again");
        }
        List<String> broken = new ArrayList<>();
        if (!p.multiply(q).equals(n)) {
            broken.add("prime1 * prime2 is not the modulus");
        }
        BigInteger p1 = p.subtract(one);
        BigInteger q1 = q.subtract(one);
        BigInteger lambda = p1.divide(p1.gcd(q1)).multiply(q1);
        if (!d.multiply(e).mod(lambda).equals(one)) {
            broken.add("privateExponent * pubexp is not 1 mod lcm(prime1 - 1, prime2 - 1)");
        }
        if (!dp.equals(d.mod(p1))) {
            broken.add("exponent1 is not privateExponent mod (prime1 - 1)");
        }
        if (!dq.equals(d.mod(q1))) {
            broken.add("exponent2 is not privateExponent mod (prime2 - 1)");
        }
        if (qinv.compareTo(p) >= 0 || !qinv.multiply(q).mod(p).equals(one)) {
            broken.add("coefficient is not the inverse of prime2 mod prime1");
        }
        if (!broken.isEmpty()) {
            throw new CapiException(CapiError.NTE_BAD_DATA, "the private key blob is inconsistent: " + String.join("; ", broken),
                    "the blob is damaged or was altered; export the key again");
        }
    }

    private static void header(ByteArrayOutputStream out, BlobType type, int algId) {
        out.write(type.code());
        out.write(VERSION);
        LittleEndian.u16(out, 0);
        LittleEndian.u32(out, algId & 0xffffffffL);
    }

    /**
     * A session key encrypted to an RSA key-exchange key with PKCS #1 v1.5, stored with the bytes of the
     * RSA ciphertext reversed (little-endian), as CryptExportKey writes it.
     *
     * @param encrypted the RSA ciphertext in the usual big-endian order
     */
    record SimpleBlob(CipherAlg alg, byte[] encrypted) implements CapiBlob {
        @Override
        public BlobType type() {
            return BlobType.SIMPLEBLOB;
        }

        /** CryptImportKey: decrypts with the private key. A key of the wrong length for alg is refused. */
        public CapiKey unwrap(RSAPrivateCrtKey exchangeKey) {
            byte[] key;
            try {
                // CryptImportKey reads as many bytes as the exchange key's modulus has; callers often pass a
                // longer buffer (trailing zeros after the little-endian ciphertext: leading zeros here).
                int k = (exchangeKey.getModulus().bitLength() + 7) / 8;
                byte[] c = encrypted;
                if (c.length > k) {
                    for (int i = 0; i < c.length - k; i++) {
                        if (c[i] != 0) {
                            throw new GeneralSecurityException("longer than the modulus");
                        }
                    }
                    c = Arrays.copyOfRange(c, c.length - k, c.length);
                }
                Cipher rsa = Cipher.getInstance("RSA/ECB/PKCS1Padding");
                rsa.init(Cipher.DECRYPT_MODE, exchangeKey);
                key = rsa.doFinal(c);
            } catch (GeneralSecurityException e) {
                throw new CapiException(CapiError.NTE_BAD_DATA, "the SIMPLEBLOB does not decrypt with this private key",
                        "give the private key of the recipient the blob was exported for");
            }
            try {
                return CapiKey.imported(alg, key);
            } finally {
                Arrays.fill(key, (byte) 0);
            }
        }

        /** CryptExportKey(SIMPLEBLOB): RSA PKCS #1 v1.5, a legacy format (no OAEP); callers gate it. */
        public static SimpleBlob wrap(CapiKey key, RSAPublicKey exchangeKey) {
            byte[] material = key.key();
            try {
                Cipher rsa = Cipher.getInstance("RSA/ECB/PKCS1Padding");
                rsa.init(Cipher.ENCRYPT_MODE, exchangeKey, new SecureRandom());
                return new SimpleBlob(key.alg(), rsa.doFinal(material));
            } catch (GeneralSecurityException e) {
                throw new CapiException(CapiError.NTE_BAD_KEY, "RSA encryption failed: " + e.getMessage(), "check the public key");
            } finally {
                Arrays.fill(material, (byte) 0);
            }
        }

        @Override
        public byte[] encode() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            header(out, BlobType.SIMPLEBLOB, alg.algId());
            LittleEndian.u32(out, CALG_RSA_KEYX);
            out.writeBytes(LittleEndian.reverse(encrypted));
            return out.toByteArray();
        }
    }

    /** A session key in the clear: dwKeySize then the key bytes. */
    record PlaintextKeyBlob(CapiKey key) implements CapiBlob {
        @Override
        public BlobType type() {
            return BlobType.PLAINTEXTKEYBLOB;
        }

        @Override
        public byte[] encode() {
            byte[] k = key.key();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            header(out, BlobType.PLAINTEXTKEYBLOB, key.alg().algId());
            LittleEndian.u32(out, k.length);
            out.writeBytes(k);
            Arrays.fill(k, (byte) 0);
            return out.toByteArray();
        }
    }

    /** PUBLICKEYBLOB: RSAPUBKEY ('RSA1', bit length, public exponent) and the modulus. */
    record RsaPublicKeyBlob(int algId, RSAPublicKey key) implements CapiBlob {
        @Override
        public BlobType type() {
            return BlobType.PUBLICKEYBLOB;
        }

        @Override
        public byte[] encode() {
            int bits = bits(key.getModulus());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            header(out, BlobType.PUBLICKEYBLOB, algId);
            LittleEndian.u32(out, RSA1);
            LittleEndian.u32(out, bits);
            LittleEndian.u32(out, pubexp(key.getPublicExponent()));
            out.writeBytes(LittleEndian.unsigned(key.getModulus(), bits / 8));
            return out.toByteArray();
        }
    }

    /**
     * PRIVATEKEYBLOB: RSAPUBKEY ('RSA2', ...), then modulus, prime1, prime2, exponent1, exponent2,
     * coefficient and private exponent, each little-endian, halves of the modulus length for the CRT parts.
     */
    record RsaPrivateKeyBlob(int algId, RSAPrivateCrtKey key) implements CapiBlob {
        @Override
        public BlobType type() {
            return BlobType.PRIVATEKEYBLOB;
        }

        public RSAPublicKey publicKey() {
            try {
                return (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(key.getModulus(), key.getPublicExponent()));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public byte[] encode() {
            int bits = bits(key.getModulus());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            header(out, BlobType.PRIVATEKEYBLOB, algId);
            LittleEndian.u32(out, RSA2);
            LittleEndian.u32(out, bits);
            LittleEndian.u32(out, pubexp(key.getPublicExponent()));
            out.writeBytes(LittleEndian.unsigned(key.getModulus(), bits / 8));
            for (BigInteger half : new BigInteger[] {key.getPrimeP(), key.getPrimeQ(), key.getPrimeExponentP(),
                    key.getPrimeExponentQ(), key.getCrtCoefficient()}) {
                if (half.bitLength() > bits / 2) {
                    throw new CapiException(CapiError.NTE_BAD_KEY, "a PRIVATEKEYBLOB holds each prime in " + bits / 16
                            + " bytes; this key's primes are unbalanced", "use a key whose primes are half the modulus length");
                }
                out.writeBytes(LittleEndian.unsigned(half, bits / 16));
            }
            out.writeBytes(LittleEndian.unsigned(key.getPrivateExponent(), bits / 8));
            return out.toByteArray();
        }
    }

    /**
     * SYMMETRICWRAPKEYBLOB: header (the wrapped key's ALG_ID), the wrapping key's ALG_ID, then the key
     * wrapped with the CMS key wrap of RFC 3217 (Triple-DES or RC2 key-encryption keys, the two it defines).
     */
    record SymmetricWrapKeyBlob(CipherAlg alg, CipherAlg wrapAlg, byte[] wrapped) implements CapiBlob {
        @Override
        public BlobType type() {
            return BlobType.SYMMETRICWRAPKEYBLOB;
        }

        public CapiKey unwrap(CapiKey kek) {
            if (kek.alg() != wrapAlg) {
                throw new CapiException(CapiError.NTE_BAD_KEY, "the blob was wrapped with a " + wrapAlg.cliName() + " key, not "
                        + kek.alg().cliName(), "give the " + wrapAlg.cliName() + " key-encryption key");
            }
            Wrapper w = wrapper(kek);
            byte[] key;
            try {
                w.init(false, kekParameter(kek));
                key = w.unwrap(wrapped, 0, wrapped.length);
            } catch (InvalidCipherTextException | IllegalArgumentException e) {
                throw new CapiException(CapiError.NTE_BAD_DATA, "the wrapped key does not unwrap with this key-encryption key",
                        "give the key the blob was wrapped under");
            }
            try {
                return CapiKey.imported(alg, key);
            } finally {
                Arrays.fill(key, (byte) 0);
            }
        }

        public static SymmetricWrapKeyBlob wrap(CapiKey key, CapiKey kek) {
            Wrapper w = wrapper(kek);
            byte[] k = key.key();
            if (kek.alg().isDesFamily() && k.length % 8 != 0) {
                Arrays.fill(k, (byte) 0);
                throw new CapiException(CapiError.NTE_BAD_LEN, "the Triple-DES key wrap (RFC 3217) takes whole 8-byte blocks, not "
                        + k.length + " bytes", "use an RC2 key-encryption key for this key");
            }
            try {
                w.init(true, new ParametersWithRandom(kekParameter(kek), new SecureRandom()));
                return new SymmetricWrapKeyBlob(key.alg(), kek.alg(), w.wrap(k, 0, k.length));
            } finally {
                Arrays.fill(k, (byte) 0);
            }
        }

        private static CipherParameters kekParameter(CapiKey kek) {
            byte[] m = kek.material();
            try {
                return kek.alg() == CipherAlg.RC2 ? new RC2Parameters(m, kek.effectiveBits())
                        : new KeyParameter(m);
            } finally {
                Arrays.fill(m, (byte) 0);
            }
        }

        private static Wrapper wrapper(CapiKey kek) {
            return switch (kek.alg()) {
                case TRIPLE_DES, TRIPLE_DES_112 -> new DESedeWrapEngine();
                case RC2 -> new RC2WrapEngine();
                default -> throw new CapiException(CapiError.NTE_BAD_ALGID, kek.alg().cliName()
                        + " cannot wrap keys in a SYMMETRICWRAPKEYBLOB (RFC 3217 defines 3DES and RC2 wraps)",
                        "use a 3DES or RC2 key-encryption key");
            };
        }

        @Override
        public byte[] encode() {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            header(out, BlobType.SYMMETRICWRAPKEYBLOB, alg.algId());
            LittleEndian.u32(out, wrapAlg.algId());
            out.writeBytes(wrapped);
            return out.toByteArray();
        }
    }

    /** RSAPUBKEY's pubexp is 32 bits; a key with a wider exponent cannot be written as a blob. */
    private static long pubexp(BigInteger e) {
        if (e.bitLength() > 32) {
            throw new CapiException(CapiError.NTE_BAD_KEY, "the public exponent does not fit RSAPUBKEY's 32-bit pubexp",
                    "CryptoAPI keys use small exponents such as 65537");
        }
        return e.longValue();
    }

    private static int bits(BigInteger modulus) {
        int bits = modulus.bitLength();
        return (bits + 15) / 16 * 16;
    }
}
