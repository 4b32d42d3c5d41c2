package dev.keyway.capi;

import static dev.keyway.capi.CapiVectors.hex;
import static dev.keyway.capi.CapiVectors.hexString;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** CapiBlob against wine-blobs.txt, and round trips of every blob type with fresh keys. */
class CapiBlobTest {
    static final String FILE = "wine-blobs.txt";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static KeyPair rsa1024;
    private static KeyPair rsa2048;

    @BeforeAll
    static void keys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(1024);
        rsa1024 = g.generateKeyPair();
        g.initialize(2048);
        rsa2048 = g.generateKeyPair();
    }

    static byte[] blob(String id) {
        return hex(CapiVectors.byId(FILE, id), "blob");
    }

    static CapiBlob.RsaPrivateKeyBlob privateBlob(String id) {
        return (CapiBlob.RsaPrivateKeyBlob) CapiBlob.parse(blob(id));
    }

    /** A little-endian unsigned integer of the blob, the way the layout comment lays it out (test-side reading). */
    static BigInteger le(byte[] blob, int offset, int length) {
        byte[] be = new byte[length];
        for (int i = 0; i < length; i++) {
            be[i] = blob[offset + length - 1 - i];
        }
        return new BigInteger(1, be);
    }

    /** A non-negative integer as exactly n big-endian bytes. */
    static byte[] toFixed(BigInteger v, int n) {
        byte[] be = v.toByteArray();
        byte[] out = new byte[n];
        int len = Math.min(be.length, n);
        System.arraycopy(be, be.length - len, out, n - len, len);
        return out;
    }

    // ---------------------------------------------------------------- RSA key blobs from the vectors

    @ParameterizedTest
    @ValueSource(strings = {"blob-privatekeyblob-1024-keyx", "blob-privatekeyblob-1024-sign-roundtrip", "blob-privatekeyblob-512-keyx"})
    void privateKeyBlobs(String id) {
        byte[] bytes = blob(id);
        int bits = (int) le(bytes, 12, 4).longValue();
        int n8 = bits / 8;
        int n16 = bits / 16;
        assertThat(bytes).hasSize(20 + 9 * n16);
        CapiBlob parsed = CapiBlob.parse(bytes);
        assertThat(parsed.type()).isEqualTo(BlobType.PRIVATEKEYBLOB);
        CapiBlob.RsaPrivateKeyBlob priv = (CapiBlob.RsaPrivateKeyBlob) parsed;
        assertThat(priv.algId()).isEqualTo((int) le(bytes, 4, 4).longValue());
        RSAPrivateCrtKey k = priv.key();
        int at = 20;
        assertThat(k.getModulus()).isEqualTo(le(bytes, at, n8));
        assertThat(k.getModulus().bitLength()).isBetween(bits - 15, bits);
        assertThat(k.getPublicExponent()).isEqualTo(BigInteger.valueOf(65537));
        at += n8;
        assertThat(k.getPrimeP()).isEqualTo(le(bytes, at, n16));
        assertThat(k.getPrimeQ()).isEqualTo(le(bytes, at += n16, n16));
        assertThat(k.getPrimeExponentP()).isEqualTo(le(bytes, at += n16, n16));
        assertThat(k.getPrimeExponentQ()).isEqualTo(le(bytes, at += n16, n16));
        assertThat(k.getCrtCoefficient()).isEqualTo(le(bytes, at += n16, n16));
        assertThat(k.getPrivateExponent()).isEqualTo(le(bytes, at += n16, n8));
        // The relations the vector file states.
        BigInteger p = k.getPrimeP();
        BigInteger q = k.getPrimeQ();
        assertThat(p.multiply(q)).isEqualTo(k.getModulus());
        assertThat(k.getPrivateExponent().mod(p.subtract(BigInteger.ONE))).isEqualTo(k.getPrimeExponentP());
        assertThat(q.modInverse(p)).isEqualTo(k.getCrtCoefficient());
        assertThat(hexString(priv.encode())).isEqualTo(hexString(bytes));
        assertThat(priv.publicKey().getModulus()).isEqualTo(k.getModulus());
    }

    @Test
    void signRoundtripBlobHasAShortCoefficient() {
        RSAPrivateCrtKey k = privateBlob("blob-privatekeyblob-1024-sign-roundtrip").key();
        assertThat(k.getCrtCoefficient().bitLength()).isLessThanOrEqualTo(504);
        assertThat(privateBlob("blob-privatekeyblob-1024-sign-roundtrip").algId()).isEqualTo(CapiBlob.CALG_RSA_SIGN);
    }

    @ParameterizedTest
    @ValueSource(strings = {"blob-publickeyblob-512-keyx", "blob-publickeyblob-1024-sign", "blob-publickeyblob-512-roundtrip"})
    void publicKeyBlobs(String id) {
        byte[] bytes = blob(id);
        CapiBlob parsed = CapiBlob.parse(bytes);
        assertThat(parsed.type()).isEqualTo(BlobType.PUBLICKEYBLOB);
        CapiBlob.RsaPublicKeyBlob pub = (CapiBlob.RsaPublicKeyBlob) parsed;
        int bits = (int) le(bytes, 12, 4).longValue();
        assertThat(bytes).hasSize(20 + bits / 8);
        assertThat(pub.key().getModulus()).isEqualTo(le(bytes, 20, bits / 8));
        assertThat(pub.key().getPublicExponent()).isEqualTo(BigInteger.valueOf(65537));
        assertThat(hexString(pub.encode())).isEqualTo(hexString(bytes));
    }

    @Test
    void publicBlobMatchesItsPrivateBlob() {
        RSAPublicKey pub = ((CapiBlob.RsaPublicKeyBlob) CapiBlob.parse(blob("blob-publickeyblob-512-keyx"))).key();
        CapiBlob.RsaPrivateKeyBlob priv = privateBlob("blob-privatekeyblob-512-keyx");
        assertThat(pub.getModulus()).isEqualTo(priv.key().getModulus());
        assertThat(new CapiBlob.RsaPublicKeyBlob(CapiBlob.CALG_RSA_KEYX, priv.publicKey()).encode()).isEqualTo(blob("blob-publickeyblob-512-keyx"));
    }

    /**
     * The four little-endian signatures check the parsed 1024-bit public key: raw RSA on the reversed
     * signature gives a PKCS #1 type 1 block ending in the message hash (test-side, BigInteger).
     */
    @ParameterizedTest
    @ValueSource(strings = {"sig-md5-oid", "sig-md5-nooid", "sig-sha1-oid", "sig-sha1-nooid"})
    void signaturesVerifyWithTheParsedPublicKey(String id) {
        Map<String, String> v = CapiVectors.byId(FILE, id);
        RSAPublicKey pub = ((CapiBlob.RsaPublicKeyBlob) CapiBlob.parse(blob(CapiVectors.field(v, "public_key")))).key();
        byte[] sigLe = hex(v, "signature_little_endian");
        BigInteger s = le(sigLe, 0, sigLe.length);
        byte[] block = toFixed(s.modPow(pub.getPublicExponent(), pub.getModulus()), 128);
        HashAlg hash = HashAlg.parse(CapiVectors.field(v, "hash_alg"));
        byte[] digest = hash.hash(hex(v, "message"));
        assertThat(hexString(digest)).isEqualTo(hexString(hex(v, "hash")));
        assertThat(block[0]).isZero();
        assertThat(block[1]).isEqualTo((byte) 1);
        assertThat(Arrays.copyOfRange(block, 128 - digest.length, 128)).isEqualTo(digest);
        int zero = 2;
        while (block[zero] == (byte) 0xff) {
            zero++;
        }
        assertThat(block[zero]).isZero();
        int tail = 128 - zero - 1;
        if (id.endsWith("nooid")) {
            assertThat(tail).isEqualTo(digest.length);
        } else {
            assertThat(tail).isGreaterThan(digest.length); // DigestInfo prefix
        }
    }

    // ---------------------------------------------------------------- SIMPLEBLOB from the vectors

    @Test
    void simpleBlobUnwrapsToTheRc4KeyThatDecryptsWineRocks() {
        Map<String, String> v = CapiVectors.byId(FILE, "blob-simpleblob-rc4-56");
        byte[] bytes = hex(v, "blob");
        assertThat(bytes).hasSize(140);
        CapiBlob parsed = CapiBlob.parse(bytes);
        assertThat(parsed.type()).isEqualTo(BlobType.SIMPLEBLOB);
        CapiBlob.SimpleBlob simple = (CapiBlob.SimpleBlob) parsed;
        assertThat(simple.alg()).isEqualTo(CipherAlg.RC4);
        assertThat(hexString(simple.encode())).isEqualTo(hexString(bytes));
        // The stored encrypted key is little-endian; the record holds it big-endian.
        assertThat(simple.encrypted()).isEqualTo(LittleEndian.reverse(Arrays.copyOfRange(bytes, 12, 140)));

        RSAPrivateCrtKey exchange = privateBlob(CapiVectors.field(v, "unwrap_key")).key();
        CapiKey key = simple.unwrap(exchange);
        assertThat(hexString(key.key())).isEqualTo(hexString(hex(v, "session_key")));
        assertThat(key.salt()).isEmpty();
        assertThat(key.bits()).isEqualTo(56);

        byte[] plaintext = LegacyCipher.decrypt(key, Mode.CBC, null, hex(v, "ciphertext"));
        assertThat(plaintext).isEqualTo(hex(v, "plaintext"));
        assertThat(new String(plaintext, StandardCharsets.US_ASCII)).isEqualTo("Wine rocks!\0");
        // and it is the key CryptDeriveKey(CALG_RC4, 56 bits) gives from MD2(0..1999)
        CapiKey derived = CryptDeriveKey.deriveFromData(Provider.ENHANCED, CipherAlg.RC4, HashAlg.MD2, CapiVectors.counting(0, 2000), 56 << 16);
        assertThat(derived.key()).isEqualTo(key.key());
    }

    @Test
    void simpleBlobWithTheWrongPrivateKeyIsBadData() {
        CapiBlob.SimpleBlob simple = (CapiBlob.SimpleBlob) CapiBlob.parse(blob("blob-simpleblob-rc4-56"));
        for (String other : List.of("blob-privatekeyblob-1024-sign-roundtrip", "blob-privatekeyblob-512-keyx")) {
            RSAPrivateCrtKey wrong = privateBlob(other).key();
            assertThatThrownBy(() -> simple.unwrap(wrong)).isInstanceOfSatisfying(CapiException.class,
                    e -> assertThat(e.error()).isEqualTo(CapiError.NTE_BAD_DATA));
        }
    }

    // ---------------------------------------------------------------- PLAINTEXTKEYBLOB from the vectors

    @ParameterizedTest
    @ValueSource(strings = {"blob-plaintextkeyblob-hmac-1", "blob-plaintextkeyblob-hmac-3", "blob-plaintextkeyblob-hmac-4",
            "blob-plaintextkeyblob-hmac-5", "blob-plaintextkeyblob-hmac-6", "blob-plaintextkeyblob-hmac-7"})
    void plaintextKeyBlobsRoundTrip(String id) {
        // HMAC itself (CRYPT_IPSEC_HMAC_KEY) is not implemented; the blob is an RC2 PLAINTEXTKEYBLOB.
        byte[] bytes = blob(id);
        CapiBlob parsed = CapiBlob.parse(bytes);
        assertThat(parsed.type()).isEqualTo(BlobType.PLAINTEXTKEYBLOB);
        CapiKey key = ((CapiBlob.PlaintextKeyBlob) parsed).key();
        assertThat(key.alg()).isEqualTo(CipherAlg.RC2);
        int size = (int) le(bytes, 8, 4).longValue();
        assertThat(key.key()).isEqualTo(Arrays.copyOfRange(bytes, 12, 12 + size));
        assertThat(bytes).hasSize(12 + size);
        assertThat(hexString(parsed.encode())).isEqualTo(hexString(bytes));
    }

    @Test
    void fourByteHmacKeyIsNoRc2Key() {
        // RFC 2202 case 2's key "Jefe" imports on Windows only with CRYPT_IPSEC_HMAC_KEY, which Keyway does
        // not model; as an RC2 session key it is below the 40-bit minimum.
        assertThatThrownBy(() -> CapiBlob.parse(blob("blob-plaintextkeyblob-hmac-2"))).isInstanceOfSatisfying(CapiException.class,
                e -> assertThat(e.error()).isEqualTo(CapiError.NTE_BAD_LEN));
    }

    // ---------------------------------------------------------------- fresh keys: RSA blobs

    @ParameterizedTest
    @ValueSource(ints = {1024, 2048})
    void freshRsaBlobsRoundTrip(int bits) {
        KeyPair kp = bits == 1024 ? rsa1024 : rsa2048;
        RSAPrivateCrtKey priv = (RSAPrivateCrtKey) kp.getPrivate();
        RSAPublicKey pub = (RSAPublicKey) kp.getPublic();
        for (int algId : new int[] {CapiBlob.CALG_RSA_KEYX, CapiBlob.CALG_RSA_SIGN}) {
            byte[] privBytes = new CapiBlob.RsaPrivateKeyBlob(algId, priv).encode();
            assertThat(privBytes).hasSize(20 + 9 * bits / 16);
            assertThat(le(privBytes, 8, 4).intValue()).isEqualTo(CapiBlob.RSA2);
            assertThat(le(privBytes, 12, 4).intValue()).isEqualTo(bits);
            CapiBlob.RsaPrivateKeyBlob back = (CapiBlob.RsaPrivateKeyBlob) CapiBlob.parse(privBytes);
            assertThat(back.algId()).isEqualTo(algId);
            assertThat(back.key().getModulus()).isEqualTo(priv.getModulus());
            assertThat(back.key().getPrivateExponent()).isEqualTo(priv.getPrivateExponent());
            assertThat(back.key().getPrimeP()).isEqualTo(priv.getPrimeP());
            assertThat(back.key().getPrimeQ()).isEqualTo(priv.getPrimeQ());
            assertThat(back.key().getCrtCoefficient()).isEqualTo(priv.getCrtCoefficient());
            assertThat(back.encode()).isEqualTo(privBytes);

            byte[] pubBytes = new CapiBlob.RsaPublicKeyBlob(algId, pub).encode();
            assertThat(pubBytes).hasSize(20 + bits / 8);
            assertThat(le(pubBytes, 8, 4).intValue()).isEqualTo(CapiBlob.RSA1);
            CapiBlob.RsaPublicKeyBlob pubBack = (CapiBlob.RsaPublicKeyBlob) CapiBlob.parse(pubBytes);
            assertThat(pubBack.key().getModulus()).isEqualTo(pub.getModulus());
            assertThat(pubBack.encode()).isEqualTo(pubBytes);
            assertThat(back.publicKey().getModulus()).isEqualTo(pub.getModulus());
        }
    }

    /**
     * RSAPUBKEY.pubexp is a DWORD: a key whose public exponent needs more than 32 bits cannot be written.
     * Encoding must refuse it (CapiException), not write the low 32 bits of the exponent.
     */
    @Test
    void publicExponentWiderThan32BitsIsRefusedNotTruncated() throws Exception {
        RSAPrivateCrtKey k = (RSAPrivateCrtKey) rsa1024.getPrivate();
        BigInteger wideE = BigInteger.ONE.shiftLeft(32).add(BigInteger.valueOf(15)); // 0x1_0000_000F
        java.security.KeyFactory kf = java.security.KeyFactory.getInstance("RSA");
        RSAPublicKey pub = (RSAPublicKey) kf.generatePublic(new java.security.spec.RSAPublicKeySpec(k.getModulus(), wideE));
        RSAPrivateCrtKey priv = (RSAPrivateCrtKey) kf.generatePrivate(new java.security.spec.RSAPrivateCrtKeySpec(k.getModulus(), wideE,
                k.getPrivateExponent(), k.getPrimeP(), k.getPrimeQ(), k.getPrimeExponentP(), k.getPrimeExponentQ(), k.getCrtCoefficient()));
        for (CapiBlob blob : List.of(new CapiBlob.RsaPublicKeyBlob(CapiBlob.CALG_RSA_KEYX, pub), new CapiBlob.RsaPrivateKeyBlob(CapiBlob.CALG_RSA_KEYX, priv))) {
            byte[] encoded;
            try {
                encoded = blob.encode();
            } catch (CapiException refused) {
                continue; // the right outcome
            }
            BigInteger back = blob instanceof CapiBlob.RsaPublicKeyBlob
                    ? ((CapiBlob.RsaPublicKeyBlob) CapiBlob.parse(encoded)).key().getPublicExponent()
                    : ((CapiBlob.RsaPrivateKeyBlob) CapiBlob.parse(encoded)).key().getPublicExponent();
            assertThat(back).as("%s exponent after encode/parse", blob.type()).isEqualTo(wideE);
        }
    }

    /**
     * PRIVATEKEYBLOB gives each prime bitlen/16 bytes; a key with unbalanced primes does not fit and must be
     * refused with a CapiException (not an IllegalArgumentException from the byte writer).
     */
    @Test
    void unbalancedPrimesAreRefusedWithACapiException() throws Exception {
        SecureRandom r = new SecureRandom();
        BigInteger e = BigInteger.valueOf(65537);
        BigInteger p;
        BigInteger q;
        BigInteger n;
        do {
            p = BigInteger.probablePrime(400, r);
            q = BigInteger.probablePrime(624, r);
            n = p.multiply(q);
        } while (n.bitLength() != 1024 || !e.gcd(p.subtract(BigInteger.ONE).multiply(q.subtract(BigInteger.ONE))).equals(BigInteger.ONE));
        BigInteger d = e.modInverse(p.subtract(BigInteger.ONE).multiply(q.subtract(BigInteger.ONE)));
        RSAPrivateCrtKey key = (RSAPrivateCrtKey) java.security.KeyFactory.getInstance("RSA").generatePrivate(new java.security.spec.RSAPrivateCrtKeySpec(
                n, e, d, p, q, d.mod(p.subtract(BigInteger.ONE)), d.mod(q.subtract(BigInteger.ONE)), q.modInverse(p)));
        CapiBlob.RsaPrivateKeyBlob blob = new CapiBlob.RsaPrivateKeyBlob(CapiBlob.CALG_RSA_KEYX, key);
        assertThatThrownBy(blob::encode).isInstanceOf(CapiException.class);
    }

    @Test
    void sessionKeyTooLongForTheRsaKeyIsRefused() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(512);
        RSAPublicKey small = (RSAPublicKey) g.generateKeyPair().getPublic();
        CapiKey rc4 = CapiKey.of(CipherAlg.RC4, new byte[64]); // more than 64 - 11 bytes
        assertThatThrownBy(() -> CapiBlob.SimpleBlob.wrap(rc4, small)).isInstanceOfSatisfying(CapiException.class,
                ex -> assertThat(ex.error()).isEqualTo(CapiError.NTE_BAD_KEY));
        assertThat(CapiBlob.SimpleBlob.wrap(CapiKey.of(CipherAlg.RC4, new byte[53]), small).encode()).hasSize(12 + 64);
    }

    // ---------------------------------------------------------------- fresh keys: session key blobs

    /** One fresh session key per algorithm and notable length. */
    static List<CapiKey> freshKeys() {
        List<CapiKey> keys = new ArrayList<>();
        keys.add(random(CipherAlg.DES, 8));
        keys.add(random(CipherAlg.TRIPLE_DES_112, 16));
        keys.add(random(CipherAlg.TRIPLE_DES, 24));
        keys.add(random(CipherAlg.AES_128, 16));
        keys.add(random(CipherAlg.AES_192, 24));
        keys.add(random(CipherAlg.AES_256, 32));
        for (int n : new int[] {5, 7, 8, 16}) {
            keys.add(random(CipherAlg.RC2, n));
            keys.add(random(CipherAlg.RC4, n));
        }
        return keys;
    }

    static CapiKey random(CipherAlg alg, int n) {
        byte[] k = new byte[n];
        RANDOM.nextBytes(k);
        if (alg.isDesFamily()) {
            CryptDeriveKey.setOddParity(k);
        }
        return CapiKey.of(alg, k);
    }

    static Stream<Arguments> freshKeyArgs() {
        return freshKeys().stream().map(k -> Arguments.of(k.alg() + "/" + k.key().length, k));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("freshKeyArgs")
    void plaintextKeyBlobRoundTrip(String name, CapiKey key) {
        byte[] bytes = new CapiBlob.PlaintextKeyBlob(key).encode();
        assertThat(bytes).hasSize(12 + key.key().length);
        assertThat(bytes[0]).isEqualTo((byte) 0x08);
        assertThat(bytes[1]).isEqualTo((byte) 2);
        assertThat(le(bytes, 4, 4).intValue()).isEqualTo(key.alg().algId());
        CapiKey back = ((CapiBlob.PlaintextKeyBlob) CapiBlob.parse(bytes)).key();
        assertThat(back.alg()).isEqualTo(key.alg());
        assertThat(back.key()).isEqualTo(key.key());
        assertThat(CapiBlob.parse(bytes).encode()).isEqualTo(bytes);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("freshKeyArgs")
    void simpleBlobRoundTrip(String name, CapiKey key) {
        for (KeyPair kp : List.of(rsa1024, rsa2048)) {
            CapiBlob.SimpleBlob wrapped = CapiBlob.SimpleBlob.wrap(key, (RSAPublicKey) kp.getPublic());
            byte[] bytes = wrapped.encode();
            int modulusBytes = ((RSAPublicKey) kp.getPublic()).getModulus().bitLength() / 8;
            assertThat(bytes).hasSize(12 + modulusBytes);
            assertThat(le(bytes, 8, 4).intValue()).isEqualTo(CapiBlob.CALG_RSA_KEYX);
            CapiBlob.SimpleBlob parsed = (CapiBlob.SimpleBlob) CapiBlob.parse(bytes);
            assertThat(parsed.alg()).isEqualTo(key.alg());
            assertThat(parsed.encode()).isEqualTo(bytes);
            CapiKey back = parsed.unwrap((RSAPrivateCrtKey) kp.getPrivate());
            assertThat(back.alg()).isEqualTo(key.alg());
            assertThat(back.key()).isEqualTo(key.key());
        }
    }

    /**
     * FACTS.md f ([WT] test_RC4_salt, asserted on Windows): a SIMPLEBLOB carries only the key bytes, and a
     * 40-bit RC2/RC4 key imported from it gets an 11-byte zero salt. So a derived 40-bit key (zero salt)
     * that goes through CryptExportKey/CryptImportKey still decrypts what it encrypted.
     */
    @ParameterizedTest
    @ValueSource(strings = {"RC2", "RC4"})
    void fortyBitKeyThroughSimpleBlobKeepsItsZeroSalt(String algName) {
        CipherAlg alg = CipherAlg.valueOf(algName);
        CapiKey derived = CryptDeriveKey.deriveFromData(Provider.BASE, alg, HashAlg.MD5, "forty".getBytes(StandardCharsets.US_ASCII), 0);
        assertThat(derived.salt()).isEqualTo(new byte[11]);
        byte[] pt = "exported and imported".getBytes(StandardCharsets.US_ASCII);
        byte[] ct = LegacyCipher.encrypt(derived, Mode.CBC, null, pt);
        CapiBlob.SimpleBlob blob = CapiBlob.SimpleBlob.wrap(derived, (RSAPublicKey) rsa1024.getPublic());
        CapiKey imported = ((CapiBlob.SimpleBlob) CapiBlob.parse(blob.encode())).unwrap((RSAPrivateCrtKey) rsa1024.getPrivate());
        assertThat(imported.key()).isEqualTo(derived.key());
        assertThat(imported.salt()).as("salt of an imported 40-bit key").isEqualTo(new byte[11]);
        assertThat(LegacyCipher.decrypt(imported, Mode.CBC, null, ct)).isEqualTo(pt);
    }

    static Stream<Arguments> wrapCases() {
        List<Arguments> out = new ArrayList<>();
        List<CapiKey> keks = List.of(random(CipherAlg.TRIPLE_DES, 24), random(CipherAlg.TRIPLE_DES_112, 16), random(CipherAlg.RC2, 16),
                random(CipherAlg.RC2, 5),
                CryptDeriveKey.deriveFromData(Provider.STRONG, CipherAlg.RC2, HashAlg.SHA1, "kek".getBytes(StandardCharsets.US_ASCII), 40 << 16));
        for (CapiKey kek : keks) {
            for (CapiKey key : freshKeys()) {
                out.add(Arguments.of(key.alg() + "/" + key.key().length + " under " + kek, key, kek));
            }
        }
        return out.stream();
    }

    /**
     * SYMMETRICWRAPKEYBLOB round trips. RFC 3217's Triple-DES key wrap is defined for keys that fill whole
     * 8-byte blocks, RC2's for any key: a key the KEK cannot wrap must be refused with a CapiException.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("wrapCases")
    void symmetricWrapKeyBlobRoundTrip(String name, CapiKey key, CapiKey kek) {
        boolean desWrap = kek.alg().isDesFamily();
        if (desWrap && key.key().length % 8 != 0) {
            assertThatThrownBy(() -> CapiBlob.SymmetricWrapKeyBlob.wrap(key, kek)).isInstanceOf(CapiException.class);
            return;
        }
        CapiBlob.SymmetricWrapKeyBlob wrapped = CapiBlob.SymmetricWrapKeyBlob.wrap(key, kek);
        assertThat(wrapped.alg()).isEqualTo(key.alg());
        assertThat(wrapped.wrapAlg()).isEqualTo(kek.alg());
        byte[] bytes = wrapped.encode();
        assertThat(bytes[0]).isEqualTo((byte) 0x0b);
        assertThat(le(bytes, 4, 4).intValue()).isEqualTo(key.alg().algId());
        assertThat(le(bytes, 8, 4).intValue()).isEqualTo(kek.alg().algId());
        CapiBlob.SymmetricWrapKeyBlob parsed = (CapiBlob.SymmetricWrapKeyBlob) CapiBlob.parse(bytes);
        assertThat(parsed.encode()).isEqualTo(bytes);
        CapiKey back = parsed.unwrap(kek);
        assertThat(back.alg()).isEqualTo(key.alg());
        assertThat(back.key()).isEqualTo(key.key());
        // Wrapping is randomised (fresh IV): two wraps differ but both unwrap.
        CapiBlob.SymmetricWrapKeyBlob again = CapiBlob.SymmetricWrapKeyBlob.wrap(key, kek);
        assertThat(again.wrapped()).isNotEqualTo(wrapped.wrapped());
        assertThat(again.unwrap(kek).key()).isEqualTo(key.key());
    }

    @Test
    void symmetricWrapWithTheWrongKek() {
        CapiKey key = random(CipherAlg.TRIPLE_DES, 24);
        for (CipherAlg kekAlg : List.of(CipherAlg.TRIPLE_DES, CipherAlg.TRIPLE_DES_112, CipherAlg.RC2)) {
            CapiKey kek = random(kekAlg, 16 + (kekAlg == CipherAlg.TRIPLE_DES ? 8 : 0));
            CapiBlob.SymmetricWrapKeyBlob blob = (CapiBlob.SymmetricWrapKeyBlob) CapiBlob.parse(CapiBlob.SymmetricWrapKeyBlob.wrap(key, kek).encode());
            // same algorithm, other key bytes: the CMS key checksum fails
            CapiKey other = random(kekAlg, kek.key().length);
            assertThatThrownBy(() -> blob.unwrap(other)).isInstanceOfSatisfying(CapiException.class,
                    e -> assertThat(e.error()).isIn(CapiError.NTE_BAD_DATA, CapiError.NTE_BAD_KEY));
            // another algorithm altogether
            CapiKey otherAlg = kekAlg == CipherAlg.RC2 ? random(CipherAlg.TRIPLE_DES, 24) : random(CipherAlg.RC2, 16);
            assertThatThrownBy(() -> blob.unwrap(otherAlg)).isInstanceOfSatisfying(CapiException.class,
                    e -> assertThat(e.error()).isIn(CapiError.NTE_BAD_DATA, CapiError.NTE_BAD_KEY));
            // RC2 with the same bytes but another effective length is another key
            if (kekAlg == CipherAlg.RC2) {
                CapiKey otherEffective = new CapiKey(CipherAlg.RC2, kek.key(), new byte[0], 40);
                assertThatThrownBy(() -> blob.unwrap(otherEffective)).isInstanceOfSatisfying(CapiException.class,
                        e -> assertThat(e.error()).isIn(CapiError.NTE_BAD_DATA, CapiError.NTE_BAD_KEY));
            }
        }
    }

    @Test
    void onlyTripleDesAndRc2KeysWrap() {
        CapiKey key = random(CipherAlg.AES_128, 16);
        for (CapiKey kek : List.of(random(CipherAlg.AES_256, 32), random(CipherAlg.DES, 8), random(CipherAlg.RC4, 16))) {
            assertThatThrownBy(() -> CapiBlob.SymmetricWrapKeyBlob.wrap(key, kek)).isInstanceOfSatisfying(CapiException.class,
                    e -> assertThat(e.error()).isEqualTo(CapiError.NTE_BAD_ALGID));
        }
    }
}
