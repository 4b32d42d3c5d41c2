package dev.keyway.capi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.RSAPrivateCrtKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.bouncycastle.crypto.BlockCipher;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.engines.DESEngine;
import org.bouncycastle.crypto.engines.DESedeEngine;
import org.bouncycastle.crypto.engines.RC2Engine;
import org.bouncycastle.crypto.modes.CBCBlockCipher;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;
import org.bouncycastle.crypto.params.RC2Parameters;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Refusals: each ends in a CapiException naming the Windows error, never in another exception. */
class CapiNegativeTest {
    private static final byte[] MD5_OF_X = HashAlg.MD5.hash("x".getBytes(StandardCharsets.US_ASCII));
    /** Every blob of wine-blobs.txt plus a SYMMETRICWRAPKEYBLOB made once per run, by name. */
    private static final Map<String, byte[]> BLOBS = new LinkedHashMap<>();
    private static RSAPrivateCrtKey exchangeKey;
    private static CapiKey kek;

    @BeforeAll
    static void blobs() {
        for (Map<String, String> b : CapiVectors.load(CapiBlobTest.FILE)) {
            if (b.containsKey("blob") && !b.get("id").equals("blob-plaintextkeyblob-hmac-2")) {
                BLOBS.put(b.get("id"), CapiVectors.hex(b, "blob"));
            }
        }
        exchangeKey = CapiBlobTest.privateBlob("blob-privatekeyblob-1024-keyx").key();
        kek = CapiKey.of(CipherAlg.TRIPLE_DES, CapiVectors.counting(0x40, 24));
        CapiKey aes = CapiKey.of(CipherAlg.AES_256, CapiVectors.counting(0x80, 32));
        BLOBS.put("symmetricwrap-aes256-under-3des", CapiBlob.SymmetricWrapKeyBlob.wrap(aes, kek).encode());
        CapiKey rc2Kek = CapiKey.of(CipherAlg.RC2, CapiVectors.counting(0x10, 16));
        BLOBS.put("symmetricwrap-rc4-under-rc2", CapiBlob.SymmetricWrapKeyBlob.wrap(CapiKey.of(CipherAlg.RC4, CapiVectors.counting(1, 7)), rc2Kek).encode());
        assertThat(BLOBS).hasSize(15);
    }

    static void assertError(ThrowingCallable call, CapiError... allowed) {
        assertThatThrownBy(call).isInstanceOfSatisfying(CapiException.class, e -> {
            assertThat(e.error()).isIn((Object[]) allowed);
            assertThat(e.getMessage()).startsWith(e.error().name());
        });
    }

    /**
     * What CryptImportKey does with the bytes: parse, and for the two blob types whose length only the
     * key tells (SIMPLEBLOB: the modulus; SYMMETRICWRAPKEYBLOB: the wrap), unwrap with the right key.
     */
    static Object importBlob(byte[] bytes) {
        CapiBlob blob = CapiBlob.parse(bytes);
        blob.encode();
        if (blob instanceof CapiBlob.SimpleBlob s) {
            return s.unwrap(exchangeKey);
        }
        if (blob instanceof CapiBlob.SymmetricWrapKeyBlob w) {
            CapiKey k = w.wrapAlg() == CipherAlg.RC2 ? CapiKey.of(CipherAlg.RC2, CapiVectors.counting(0x10, 16)) : kek;
            return w.unwrap(k);
        }
        return blob;
    }

    static Stream<Arguments> blobNames() {
        return BLOBS.keySet().stream().map(Arguments::of);
    }

    // ---------------------------------------------------------------- malformed blobs

    @Test
    void everyVectorBlobImports() {
        for (Map.Entry<String, byte[]> e : BLOBS.entrySet()) {
            assertThat(importBlob(e.getValue())).as(e.getKey()).isNotNull();
        }
    }

    @ParameterizedTest
    @MethodSource("blobNames")
    void everyTruncationIsRefused(String name) {
        byte[] full = BLOBS.get(name);
        for (int len = 0; len < full.length; len++) {
            byte[] cut = Arrays.copyOf(full, len);
            int n = len;
            assertThatThrownBy(() -> importBlob(cut)).as("%s cut to %d bytes", name, n)
                    .isInstanceOfSatisfying(CapiException.class, e -> assertThat(e.error()).isIn(CapiError.NTE_BAD_DATA, CapiError.NTE_BAD_LEN));
        }
    }

    @ParameterizedTest
    @MethodSource("blobNames")
    void trailingBytesAreRefused(String name) {
        for (int extra : new int[] {1, 2, 8, 100}) {
            byte[] longer = Arrays.copyOf(BLOBS.get(name), BLOBS.get(name).length + extra);
            if (name.startsWith("blob-simpleblob")) {
                // Windows reads a SIMPLEBLOB's ciphertext up to the exchange key's modulus length, so callers' padded
                // buffers import (Wine's test passes 148 bytes for a 140-byte blob): trailing zeros are accepted,
                // anything else is refused.
                assertThat(importBlob(longer)).isNotNull();
                longer[longer.length - 1] = 1;
            }
            assertError(() -> importBlob(longer), CapiError.NTE_BAD_DATA, CapiError.NTE_BAD_LEN);
        }
    }

    @ParameterizedTest
    @MethodSource("blobNames")
    void badVersionsAreRefused(String name) {
        // CUR_BLOB_VERSION is 2 for every RSA and session-key blob (FACTS.md f).
        List<Integer> accepted = new ArrayList<>();
        for (int version : new int[] {0, 1, 3, 4, 0x7f, 0xff}) {
            byte[] b = BLOBS.get(name).clone();
            b[1] = (byte) version;
            try {
                CapiBlob.parse(b);
                accepted.add(version);
            } catch (CapiException e) {
                assertThat(e.error()).as("%s with bVersion %d", name, version).isEqualTo(CapiError.NTE_BAD_VER);
            }
        }
        assertThat(accepted).as("bVersion values %s accepted", name).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("blobNames")
    void unknownTypesAreRefused(String name) {
        for (int type : new int[] {0x00, 0x02, 0x03, 0x04, 0x05, 0x09, 0x0a, 0x0c, 0x10, 0xff}) {
            byte[] b = BLOBS.get(name).clone();
            b[0] = (byte) type;
            assertError(() -> CapiBlob.parse(b), CapiError.NTE_BAD_TYPE);
        }
    }

    @Test
    void wrongRsaMagic() {
        for (String name : List.of("blob-privatekeyblob-1024-keyx", "blob-publickeyblob-512-keyx")) {
            byte[] b = BLOBS.get(name).clone();
            b[11] ^= 0x03; // 'RSA1' <-> 'RSA2'
            assertError(() -> CapiBlob.parse(b), CapiError.NTE_BAD_DATA);
            byte[] c = BLOBS.get(name).clone();
            c[8] = 'X';
            assertError(() -> CapiBlob.parse(c), CapiError.NTE_BAD_DATA);
        }
    }

    @Test
    void rsaBitLengthsOutOfRangeOrNotAMultipleOf16() {
        for (String name : List.of("blob-privatekeyblob-1024-keyx", "blob-publickeyblob-1024-sign", "blob-privatekeyblob-512-keyx")) {
            for (int bits : new int[] {0, 8, 504, 1000, 1016, 1020, 1032, 16384 + 16, 0x7fffffff, -16}) {
                byte[] b = BLOBS.get(name).clone();
                b[12] = (byte) bits;
                b[13] = (byte) (bits >> 8);
                b[14] = (byte) (bits >> 16);
                b[15] = (byte) (bits >> 24);
                assertError(() -> CapiBlob.parse(b), CapiError.NTE_BAD_LEN);
            }
        }
    }

    @Test
    void primesThatDoNotMatchTheModulus() {
        for (String name : List.of("blob-privatekeyblob-1024-keyx", "blob-privatekeyblob-512-keyx", "blob-privatekeyblob-1024-sign-roundtrip")) {
            byte[] blob = BLOBS.get(name);
            int n8 = (blob.length - 20) * 2 / 9;
            for (int offset : new int[] {20 + n8, 20 + n8 + n8 / 2, 20 + n8 + n8 / 2 - 1}) { // prime1 low byte, prime2 low byte, prime1 top byte
                byte[] b = blob.clone();
                b[offset] ^= 0x02;
                assertError(() -> CapiBlob.parse(b), CapiError.NTE_BAD_DATA);
            }
            byte[] swapped = blob.clone(); // modulus changed, primes not
            swapped[20] ^= 0x02;
            assertError(() -> CapiBlob.parse(swapped), CapiError.NTE_BAD_DATA);
        }
    }

    /** The relation each change breaks, as the refusal names it (the blob's field names). */
    private static final String N = "prime1 * prime2 is not the modulus";
    private static final String DE = "privateExponent * pubexp is not 1 mod lcm(prime1 - 1, prime2 - 1)";
    private static final String DP = "exponent1 is not privateExponent mod (prime1 - 1)";
    private static final String DQ = "exponent2 is not privateExponent mod (prime2 - 1)";
    private static final String QINV = "coefficient is not the inverse of prime2 mod prime1";

    static Stream<Arguments> brokenRelations() {
        List<Arguments> out = new ArrayList<>();
        for (String name : List.of("blob-privatekeyblob-1024-keyx", "blob-privatekeyblob-512-keyx", "blob-privatekeyblob-1024-sign-roundtrip")) {
            out.add(Arguments.of(name, PrivateKeyBlobLayout.MODULUS, List.of(N)));
            out.add(Arguments.of(name, PrivateKeyBlobLayout.PUBEXP, List.of(DE)));            // openssl: d e not congruent to 1
            out.add(Arguments.of(name, PrivateKeyBlobLayout.EXPONENT1, List.of(DP)));
            out.add(Arguments.of(name, PrivateKeyBlobLayout.EXPONENT2, List.of(DQ)));
            out.add(Arguments.of(name, PrivateKeyBlobLayout.COEFFICIENT, List.of(QINV)));
            out.add(Arguments.of(name, PrivateKeyBlobLayout.PRIVATE_EXPONENT, List.of(DE, DP, DQ)));
        }
        return out.stream();
    }

    /** A small change to one number of a PRIVATEKEYBLOB, breaking the relations listed beside it. */
    static byte[] broken(byte[] blob, PrivateKeyBlobLayout field) {
        java.math.BigInteger v = field.read(blob);
        java.math.BigInteger changed = switch (field) {
            case MODULUS, PUBEXP -> v.add(java.math.BigInteger.TWO);       // stays odd
            case PRIVATE_EXPONENT -> v.flipBit(1);
            default -> v.flipBit(0);
        };
        return field.with(blob, changed);
    }

    /**
     * openssl rsa -check refuses such keys ("d e not congruent to 1" and the like); CryptImportKey here
     * refuses them too: NTE_BAD_DATA (exit 3), one line naming exactly the relations that are broken.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("brokenRelations")
    void inconsistentPrivateKeyBlobsAreRefused(String name, PrivateKeyBlobLayout field, List<String> expected) {
        byte[] blob = broken(BLOBS.get(name), field);
        assertThatThrownBy(() -> CapiBlob.parse(blob)).isInstanceOfSatisfying(CapiException.class, e -> {
            assertThat(e.error()).isEqualTo(CapiError.NTE_BAD_DATA);
            assertThat(e.code()).isEqualTo(dev.keyway.core.ErrorCode.AUTH_FAILED);
            assertThat(e.oneLine()).doesNotContain("\n").contains("the private key blob is inconsistent: ");
            for (String relation : List.of(N, DE, DP, DQ, QINV)) {
                assertThat(e.getMessage().contains(relation)).as("%s in: %s", relation, e.getMessage()).isEqualTo(expected.contains(relation));
            }
        });
    }

    @Test
    void primesOfZeroOrOneAreRefusedNotDividedBy() {
        byte[] blob = BLOBS.get("blob-privatekeyblob-512-keyx");
        for (byte[] b : List.of(PrivateKeyBlobLayout.PRIME1.with(blob, java.math.BigInteger.ONE),
                PrivateKeyBlobLayout.PRIME2.with(blob, java.math.BigInteger.ZERO),
                PrivateKeyBlobLayout.PRIME1.with(PrivateKeyBlobLayout.MODULUS.with(PrivateKeyBlobLayout.PRIME2.with(blob,
                        java.math.BigInteger.ZERO), java.math.BigInteger.ZERO), java.math.BigInteger.ZERO))) {
            assertThatThrownBy(() -> CapiBlob.parse(b)).isInstanceOfSatisfying(CapiException.class, e -> {
                assertThat(e.error()).isEqualTo(CapiError.NTE_BAD_DATA);
                assertThat(e.getMessage()).contains("prime1 or prime2 is 0 or 1");
            });
        }
    }

    /** Exporters that compute d modulo phi(n) = (p-1)(q-1) instead of lambda(n) write consistent keys: they import. */
    @Test
    void aPrivateExponentModuloPhiImports() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(1024, new SecureRandom());
        RSAPrivateCrtKey k = (RSAPrivateCrtKey) g.generateKeyPair().getPrivate();
        java.math.BigInteger one = java.math.BigInteger.ONE;
        java.math.BigInteger phi = k.getPrimeP().subtract(one).multiply(k.getPrimeQ().subtract(one));
        java.math.BigInteger dPhi = k.getPublicExponent().modInverse(phi);
        byte[] blob = PrivateKeyBlobLayout.PRIVATE_EXPONENT.with(new CapiBlob.RsaPrivateKeyBlob(CapiBlob.CALG_RSA_KEYX, k).encode(), dPhi);
        CapiBlob.RsaPrivateKeyBlob back = (CapiBlob.RsaPrivateKeyBlob) CapiBlob.parse(blob);
        assertThat(back.key().getPrivateExponent()).isEqualTo(dPhi);
    }

    @Test
    void unknownAlgIdsInBlobs() {
        for (String name : List.of("blob-simpleblob-rc4-56", "blob-plaintextkeyblob-hmac-1", "symmetricwrap-aes256-under-3des",
                "blob-privatekeyblob-512-keyx", "blob-publickeyblob-512-keyx")) {
            for (int algId : new int[] {0x0000, 0x660d, 0x6611, 0x8004, 0x6602 | 0x10000}) {
                byte[] b = BLOBS.get(name).clone();
                b[4] = (byte) algId;
                b[5] = (byte) (algId >> 8);
                b[6] = (byte) (algId >> 16);
                assertError(() -> CapiBlob.parse(b), CapiError.NTE_BAD_ALGID);
            }
        }
        // SIMPLEBLOB: exchange algorithm other than CALG_RSA_KEYX; SYMMETRICWRAPKEYBLOB: unknown wrap algorithm
        byte[] s = BLOBS.get("blob-simpleblob-rc4-56").clone();
        s[9] = 0x24; // CALG_RSA_SIGN
        assertError(() -> CapiBlob.parse(s), CapiError.NTE_BAD_ALGID);
        byte[] w = BLOBS.get("symmetricwrap-aes256-under-3des").clone();
        w[8] = 0x0d; // CALG_RC5
        assertError(() -> CapiBlob.parse(w), CapiError.NTE_BAD_ALGID);
    }

    @Test
    void plaintextKeyBlobSizeField() {
        byte[] b = BLOBS.get("blob-plaintextkeyblob-hmac-1").clone(); // 20-byte key
        b[8] = 21;
        assertError(() -> CapiBlob.parse(b), CapiError.NTE_BAD_LEN);
        b[8] = (byte) 0xff;
        b[11] = (byte) 0xff;
        assertError(() -> CapiBlob.parse(b), CapiError.NTE_BAD_LEN);
        b[8] = 19;
        b[11] = 0;
        assertError(() -> CapiBlob.parse(b), CapiError.NTE_BAD_DATA); // one trailing byte
        // DES/3DES/AES keys of the wrong size
        for (CipherAlg alg : List.of(CipherAlg.DES, CipherAlg.TRIPLE_DES_112, CipherAlg.TRIPLE_DES, CipherAlg.AES_128, CipherAlg.AES_192, CipherAlg.AES_256)) {
            byte[] p = BLOBS.get("blob-plaintextkeyblob-hmac-1").clone();
            p[4] = (byte) alg.algId();
            p[5] = (byte) (alg.algId() >> 8);
            assertError(() -> CapiBlob.parse(p), CapiError.NTE_BAD_LEN);
        }
    }

    @Test
    void oversizedInputIsRefusedBeforeParsing() {
        byte[] huge = Arrays.copyOf(BLOBS.get("blob-privatekeyblob-1024-keyx"), CapiBlob.MAX_BLOB + 1);
        assertError(() -> CapiBlob.parse(huge), CapiError.NTE_BAD_LEN);
    }

    // ---------------------------------------------------------------- seeded random mutation

    @Test
    void randomMutationsOnlyEverGiveCapiExceptions() {
        long seed = Long.getLong("capi.fuzz.seed", System.nanoTime());
        Random rnd = new Random(seed);
        List<byte[]> corpus = new ArrayList<>(BLOBS.values());
        int iterations = 6000;
        for (int i = 0; i < iterations; i++) {
            byte[] b = mutate(corpus.get(rnd.nextInt(corpus.size())), rnd);
            try {
                Object imported = importBlob(b);
                if (imported instanceof CapiBlob.RsaPrivateKeyBlob priv) {
                    // a damaged but accepted private key decrypts (or fails to decrypt) the SIMPLEBLOB
                    ((CapiBlob.SimpleBlob) CapiBlob.parse(BLOBS.get("blob-simpleblob-rc4-56"))).unwrap(priv.key());
                }
            } catch (CapiException expected) {
                assertThat(expected.error()).isNotNull();
            } catch (Throwable t) {
                fail("seed " + seed + " (rerun with -Dcapi.fuzz.seed=" + seed + "), iteration " + i + ": " + t + " on "
                        + CapiVectors.hexString(b), t);
            }
        }
        System.out.println("CapiNegativeTest mutation seed " + seed);
    }

    private static byte[] mutate(byte[] in, Random rnd) {
        byte[] b = in.clone();
        int rounds = 1 + rnd.nextInt(4);
        for (int r = 0; r < rounds; r++) {
            int kind = rnd.nextInt(9);
            if (b.length == 0) {
                kind = 6;
            }
            switch (kind) {
                case 0 -> b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                case 1 -> b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
                case 2 -> { // a header or RSAPUBKEY field
                    int at = rnd.nextInt(Math.min(b.length, 20));
                    b[at] = (byte) new int[] {0, 1, 2, 3, 0x7f, 0x80, 0xff}[rnd.nextInt(7)];
                }
                case 3 -> { // zero or 0xff a run (for example a whole exponent)
                    int at = rnd.nextInt(b.length);
                    int len = Math.min(b.length - at, 1 + rnd.nextInt(80));
                    Arrays.fill(b, at, at + len, rnd.nextBoolean() ? 0 : (byte) 0xff);
                }
                case 4 -> b = Arrays.copyOf(b, rnd.nextInt(b.length + 1));
                case 5 -> b = Arrays.copyOf(b, b.length + 1 + rnd.nextInt(64));
                case 6 -> { // insert a byte
                    int at = rnd.nextInt(b.length + 1);
                    byte[] c = new byte[b.length + 1];
                    System.arraycopy(b, 0, c, 0, at);
                    c[at] = (byte) rnd.nextInt(256);
                    System.arraycopy(b, at, c, at + 1, b.length - at);
                    b = c;
                }
                case 7 -> { // delete a byte
                    int at = rnd.nextInt(b.length);
                    byte[] c = new byte[b.length - 1];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + 1, c, at, b.length - at - 1);
                    b = c;
                }
                default -> { // a little-endian u32 at a 4-aligned offset
                    if (b.length >= 4) {
                        int at = rnd.nextInt(b.length / 4) * 4;
                        int v = new int[] {0, 1, 16, 512, 1024, 0x7fffffff, -1, rnd.nextInt()}[rnd.nextInt(8)];
                        b[at] = (byte) v;
                        b[at + 1] = (byte) (v >> 8);
                        b[at + 2] = (byte) (v >> 16);
                        b[at + 3] = (byte) (v >> 24);
                    }
                }
            }
        }
        return b;
    }

    @Test
    void randomBytesOnlyEverGiveCapiExceptions() {
        long seed = Long.getLong("capi.fuzz.seed", System.nanoTime());
        Random rnd = new Random(seed);
        for (int i = 0; i < 3000; i++) {
            byte[] b = new byte[rnd.nextInt(700)];
            rnd.nextBytes(b);
            if (b.length > 0 && rnd.nextBoolean()) {
                b[0] = (byte) new int[] {1, 6, 7, 8, 0xb}[rnd.nextInt(5)];
                if (b.length > 1) {
                    b[1] = 2;
                }
            }
            try {
                importBlob(b);
            } catch (CapiException expected) {
                // fine
            } catch (Throwable t) {
                fail("seed " + seed + " (rerun with -Dcapi.fuzz.seed=" + seed + "), iteration " + i + ": " + t, t);
            }
        }
    }

    // ---------------------------------------------------------------- wrong keys

    @Test
    void simpleBlobWithAFreshWrongKey() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(1024);
        RSAPrivateCrtKey other = (RSAPrivateCrtKey) g.generateKeyPair().getPrivate();
        CapiBlob.SimpleBlob simple = (CapiBlob.SimpleBlob) CapiBlob.parse(BLOBS.get("blob-simpleblob-rc4-56"));
        // A random key gives a PKCS #1 block that fails (NTE_BAD_DATA); in about 1 of 2^16 runs the block
        // happens to parse and the key length decides (NTE_BAD_LEN for fewer than 5 bytes).
        assertError(() -> simple.unwrap(other), CapiError.NTE_BAD_DATA, CapiError.NTE_BAD_LEN);
    }

    @Test
    void symmetricWrapWithWrongKeyEncryptionKeys() {
        CapiBlob.SymmetricWrapKeyBlob blob = (CapiBlob.SymmetricWrapKeyBlob) CapiBlob.parse(BLOBS.get("symmetricwrap-aes256-under-3des"));
        assertThat(blob.unwrap(kek).key()).isEqualTo(CapiVectors.counting(0x80, 32));
        assertError(() -> blob.unwrap(CapiKey.of(CipherAlg.TRIPLE_DES, CapiVectors.counting(0x41, 24))), CapiError.NTE_BAD_DATA, CapiError.NTE_BAD_KEY);
        assertError(() -> blob.unwrap(CapiKey.of(CipherAlg.TRIPLE_DES_112, CapiVectors.counting(0x40, 16))), CapiError.NTE_BAD_DATA, CapiError.NTE_BAD_KEY);
        assertError(() -> blob.unwrap(CapiKey.of(CipherAlg.RC2, CapiVectors.counting(0x40, 24))), CapiError.NTE_BAD_DATA, CapiError.NTE_BAD_KEY);
        assertError(() -> blob.unwrap(CapiKey.of(CipherAlg.AES_256, CapiVectors.counting(0x40, 32))), CapiError.NTE_BAD_DATA, CapiError.NTE_BAD_KEY);
        // Damaged wrapped bytes: the CMS checksum fails.
        byte[] damaged = BLOBS.get("symmetricwrap-aes256-under-3des").clone();
        damaged[damaged.length - 1] ^= 1;
        assertError(() -> ((CapiBlob.SymmetricWrapKeyBlob) CapiBlob.parse(damaged)).unwrap(kek), CapiError.NTE_BAD_DATA);
        byte[] tooShort = Arrays.copyOf(BLOBS.get("symmetricwrap-aes256-under-3des"), 12 + 20); // not a multiple of 8
        assertError(() -> ((CapiBlob.SymmetricWrapKeyBlob) CapiBlob.parse(tooShort)).unwrap(kek), CapiError.NTE_BAD_DATA);
    }

    // ---------------------------------------------------------------- decryption failures

    static Stream<Arguments> blockKeys() {
        return Stream.of(
                Arguments.of(CapiKey.of(CipherAlg.DES, CapiVectors.counting(1, 8))),
                Arguments.of(CapiKey.of(CipherAlg.TRIPLE_DES_112, CapiVectors.counting(2, 16))),
                Arguments.of(CapiKey.of(CipherAlg.TRIPLE_DES, CapiVectors.counting(3, 24))),
                Arguments.of(CapiKey.of(CipherAlg.AES_128, CapiVectors.counting(4, 16))),
                Arguments.of(CapiKey.of(CipherAlg.AES_192, CapiVectors.counting(5, 24))),
                Arguments.of(CapiKey.of(CipherAlg.AES_256, CapiVectors.counting(6, 32))),
                Arguments.of(CapiKey.of(CipherAlg.RC2, CapiVectors.counting(7, 16))),
                Arguments.of(new CapiKey(CipherAlg.RC2, CapiVectors.counting(8, 5), new byte[11], 40)));
    }

    /** Raw CBC with a zero IV and no padding, through Bouncy Castle directly. */
    private static byte[] rawCbcEncrypt(CapiKey key, byte[] data) {
        BlockCipher engine = switch (key.alg()) {
            case DES -> new DESEngine();
            case TRIPLE_DES, TRIPLE_DES_112 -> new DESedeEngine();
            case RC2 -> new RC2Engine();
            default -> AESEngine.newInstance();
        };
        byte[] m = key.material();
        BlockCipher cbc = CBCBlockCipher.newInstance(engine);
        cbc.init(true, new ParametersWithIV(key.alg() == CipherAlg.RC2 ? new RC2Parameters(m, key.effectiveBits()) : new KeyParameter(m),
                new byte[key.alg().blockSize()]));
        byte[] out = new byte[data.length];
        for (int i = 0; i < data.length; i += cbc.getBlockSize()) {
            cbc.processBlock(data, i, out, i);
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("blockKeys")
    void badPaddingIsBadData(CapiKey key) {
        int bs = key.alg().blockSize();
        List<byte[]> badFinalBlocks = new ArrayList<>();
        byte[] zero = new byte[bs]; // last byte 0
        badFinalBlocks.add(zero);
        byte[] tooBig = new byte[bs];
        Arrays.fill(tooBig, (byte) (bs + 1)); // pad value above the block size
        badFinalBlocks.add(tooBig);
        byte[] inconsistent = new byte[bs];
        inconsistent[bs - 1] = 3;
        inconsistent[bs - 2] = 3;
        inconsistent[bs - 3] = 2; // "03 03" preceded by 02
        badFinalBlocks.add(inconsistent);
        byte[] ff = new byte[bs];
        Arrays.fill(ff, (byte) 0xff);
        badFinalBlocks.add(ff);
        for (byte[] last : badFinalBlocks) {
            for (int prefixBlocks : new int[] {0, 2}) {
                byte[] data = new byte[prefixBlocks * bs + bs];
                System.arraycopy(last, 0, data, prefixBlocks * bs, bs);
                byte[] ct = rawCbcEncrypt(key, data);
                assertError(() -> LegacyCipher.decrypt(key, Mode.CBC, null, ct), CapiError.NTE_BAD_DATA);
                LegacyCipher streaming = LegacyCipher.decrypting(key, Mode.CBC, null);
                streaming.update(ct, 0, ct.length);
                assertError(streaming::doFinal, CapiError.NTE_BAD_DATA);
            }
        }
        // A good block made the same way decrypts (the raw helper matches LegacyCipher).
        byte[] good = new byte[bs];
        Arrays.fill(good, (byte) bs);
        assertThat(LegacyCipher.decrypt(key, Mode.CBC, null, rawCbcEncrypt(key, good))).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("blockKeys")
    void ciphertextNotAWholeNumberOfBlocks(CapiKey key) {
        int bs = key.alg().blockSize();
        for (Mode mode : Mode.values()) {
            byte[] ct = LegacyCipher.encrypt(key, mode, null, new byte[2 * bs + 3]);
            for (int len : new int[] {1, bs - 1, bs + 1, ct.length - 1, ct.length + 1}) {
                byte[] cut = Arrays.copyOf(ct, len);
                assertError(() -> LegacyCipher.decrypt(key, mode, null, cut), CapiError.NTE_BAD_DATA);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("blockKeys")
    void emptyCiphertext(CapiKey key) {
        // Wine returns NTE_BAD_LEN for a Final decrypt of nothing (FACTS.md e, [WI] only); Keyway says NTE_BAD_DATA.
        for (Mode mode : Mode.values()) {
            assertError(() -> LegacyCipher.decrypt(key, mode, null, new byte[0]), CapiError.NTE_BAD_DATA, CapiError.NTE_BAD_LEN);
        }
    }

    @ParameterizedTest
    @MethodSource("blockKeys")
    void wrongIvLength(CapiKey key) {
        int bs = key.alg().blockSize();
        for (Mode mode : List.of(Mode.CBC, Mode.CFB8)) {
            for (int len : new int[] {0, 1, bs - 1, bs + 1, 32}) {
                if (len == bs) {
                    continue;
                }
                byte[] iv = new byte[len];
                assertError(() -> LegacyCipher.encrypting(key, mode, iv), CapiError.NTE_BAD_DATA, CapiError.NTE_BAD_LEN);
                assertError(() -> LegacyCipher.decrypting(key, mode, iv), CapiError.NTE_BAD_DATA, CapiError.NTE_BAD_LEN);
            }
        }
    }

    // ---------------------------------------------------------------- keys

    @ParameterizedTest
    @EnumSource(value = CipherAlg.class, names = {"DES", "TRIPLE_DES_112", "TRIPLE_DES", "AES_128", "AES_192", "AES_256"})
    void wrongKeyLengthForFixedLengthAlgorithms(CipherAlg alg) {
        for (int n : new int[] {0, 1, 5, 7, 9, 15, 17, 23, 25, 31, 33, 64}) {
            if (n == alg.fixedKeyBytes()) {
                continue;
            }
            assertError(() -> CapiKey.of(alg, new byte[n]), CapiError.NTE_BAD_LEN);
            assertError(() -> new CapiKey(alg, new byte[n], new byte[0], 0), CapiError.NTE_BAD_LEN);
        }
        // DES-family and AES keys carry no salt.
        assertError(() -> new CapiKey(alg, new byte[alg.fixedKeyBytes()], new byte[11], 0), CapiError.NTE_BAD_KEY);
    }

    @ParameterizedTest
    @EnumSource(value = CipherAlg.class, names = {"RC2", "RC4"})
    void variableKeyLengthLimits(CipherAlg alg) {
        for (int n : new int[] {0, 1, 4, 129, 200}) {
            assertError(() -> CapiKey.of(alg, new byte[n]), CapiError.NTE_BAD_LEN);
        }
        assertError(() -> new CapiKey(alg, new byte[120], new byte[11], 40), CapiError.NTE_BAD_LEN); // 131 bytes with salt
        assertThat(CapiKey.of(alg, new byte[128]).bits()).isEqualTo(1024);
        assertThat(CapiKey.of(alg, new byte[5]).bits()).isEqualTo(40);
        if (alg == CipherAlg.RC2) {
            for (int eff : new int[] {0, -1, 1025}) {
                assertError(() -> new CapiKey(alg, new byte[16], new byte[0], eff), CapiError.NTE_BAD_LEN);
            }
        }
    }

    static Stream<Arguments> unsupportedForProvider() {
        List<Arguments> out = new ArrayList<>();
        for (Provider p : List.of(Provider.BASE, Provider.ENHANCED, Provider.STRONG)) {
            for (CipherAlg aes : List.of(CipherAlg.AES_128, CipherAlg.AES_192, CipherAlg.AES_256)) {
                out.add(Arguments.of(p, aes, HashAlg.SHA1));
            }
            for (HashAlg sha2 : List.of(HashAlg.SHA_256, HashAlg.SHA_384, HashAlg.SHA_512)) {
                for (CipherAlg alg : List.of(CipherAlg.RC2, CipherAlg.RC4, CipherAlg.DES)) {
                    out.add(Arguments.of(p, alg, sha2));
                }
            }
        }
        out.add(Arguments.of(Provider.BASE, CipherAlg.TRIPLE_DES, HashAlg.SHA1));
        out.add(Arguments.of(Provider.BASE, CipherAlg.TRIPLE_DES_112, HashAlg.MD5));
        return out.stream();
    }

    @ParameterizedTest(name = "{1} from {2} on {0}")
    @MethodSource("unsupportedForProvider")
    void unsupportedAlgorithmForProvider(Provider provider, CipherAlg alg, HashAlg hash) {
        byte[] h = hash.hash(new byte[3]);
        assertError(() -> CryptDeriveKey.derive(provider, alg, hash, h, 0), CapiError.NTE_BAD_ALGID);
        assertError(() -> CryptDeriveKey.deriveFromData(provider, alg, hash, new byte[3], 0), CapiError.NTE_BAD_ALGID);
    }

    @Test
    void keyLengthsOutOfRange() {
        Map<CipherAlg, int[]> bad = new LinkedHashMap<>();
        bad.put(CipherAlg.RC2, new int[] {8, 32, 39, 41, 44, 127, 129, 136, 256, 0xffff});
        bad.put(CipherAlg.RC4, new int[] {8, 32, 39, 41, 44, 127, 129, 136, 256, 0xffff});
        bad.put(CipherAlg.DES, new int[] {40, 48, 55, 57, 63, 65, 128});
        bad.put(CipherAlg.TRIPLE_DES_112, new int[] {56, 64, 111, 113, 120, 168, 192});
        bad.put(CipherAlg.TRIPLE_DES, new int[] {56, 112, 128, 167, 169, 176, 200});
        for (Map.Entry<CipherAlg, int[]> e : bad.entrySet()) {
            for (Provider p : List.of(Provider.ENHANCED, Provider.STRONG, Provider.AES)) {
                for (int bits : e.getValue()) {
                    assertError(() -> CryptDeriveKey.derive(p, e.getKey(), HashAlg.MD5, MD5_OF_X, bits << 16), CapiError.NTE_BAD_FLAGS);
                }
            }
        }
        // The Base provider's RC2/RC4 maximum is 56 bits.
        for (CipherAlg alg : List.of(CipherAlg.RC2, CipherAlg.RC4)) {
            for (int bits : new int[] {64, 128, 32}) {
                assertError(() -> CryptDeriveKey.derive(Provider.BASE, alg, HashAlg.MD5, MD5_OF_X, bits << 16), CapiError.NTE_BAD_FLAGS);
            }
            assertThat(CryptDeriveKey.derive(Provider.BASE, alg, HashAlg.MD5, MD5_OF_X, 56 << 16).bits()).isEqualTo(56);
            assertThat(CryptDeriveKey.derive(Provider.BASE, alg, HashAlg.MD5, MD5_OF_X, 48 << 16).bits()).isEqualTo(48);
        }
        for (CipherAlg aes : List.of(CipherAlg.AES_128, CipherAlg.AES_192, CipherAlg.AES_256)) {
            for (int bits : new int[] {40, 64, 120, 136, 512}) {
                if (bits == aes.fixedKeyBytes() * 8) {
                    continue;
                }
                assertError(() -> CryptDeriveKey.derive(Provider.AES, aes, HashAlg.SHA1, HashAlg.SHA1.hash(new byte[0]), bits << 16), CapiError.NTE_BAD_FLAGS);
            }
            assertThat(CryptDeriveKey.derive(Provider.AES, aes, HashAlg.SHA1, HashAlg.SHA1.hash(new byte[0]), aes.fixedKeyBytes() * 8 << 16).key())
                    .hasSize(aes.fixedKeyBytes());
        }
    }

    @ParameterizedTest
    @EnumSource(Provider.class)
    void createSaltWithNoSalt(Provider p) {
        for (CipherAlg alg : List.of(CipherAlg.RC2, CipherAlg.RC4)) {
            for (int bits : new int[] {0, 40, 56}) {
                int flags = bits << 16 | CryptDeriveKey.CRYPT_CREATE_SALT | CryptDeriveKey.CRYPT_NO_SALT;
                assertError(() -> CryptDeriveKey.derive(p, alg, HashAlg.MD5, MD5_OF_X, flags), CapiError.NTE_BAD_FLAGS);
            }
        }
    }

    @Test
    void unknownFlagsAndWrongHashLengths() {
        for (int flag : new int[] {0x2, 0x8, 0x20, 0x40, 0x100, 0x8000}) {
            assertError(() -> CryptDeriveKey.derive(Provider.STRONG, CipherAlg.RC4, HashAlg.MD5, MD5_OF_X, flag), CapiError.NTE_BAD_FLAGS);
        }
        for (int n : new int[] {0, 15, 17, 20}) {
            assertError(() -> CryptDeriveKey.derive(Provider.STRONG, CipherAlg.RC4, HashAlg.MD5, new byte[n], 0), CapiError.NTE_BAD_HASH);
        }
        // CRYPT_CREATE_SALT for a key longer than 40 bits: Windows' salt is unknown, so refused.
        assertError(() -> CryptDeriveKey.derive(Provider.STRONG, CipherAlg.RC4, HashAlg.MD5, MD5_OF_X, 56 << 16 | CryptDeriveKey.CRYPT_CREATE_SALT),
                CapiError.NTE_BAD_FLAGS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"sha3", "sha-3", "md6", "", " ", "CALG_MAC", "CALG_HMAC", "0x8005", "0x8009", "0x800f", "sha224", "ripemd160", "shaa1"})
    void unknownHashNames(String name) {
        assertError(() -> HashAlg.parse(name), CapiError.NTE_BAD_ALGID);
    }

    @ParameterizedTest
    @ValueSource(strings = {"rc5", "CALG_RC5", "aes", "CALG_AES", "0x6611", "0x660d", "blowfish", "", "3des168x", "des3", "0x2400", "CALG_RSA_KEYX"})
    void unknownCipherNames(String name) {
        assertError(() -> CipherAlg.parse(name), CapiError.NTE_BAD_ALGID);
    }

    @Test
    void knownNamesParse() {
        for (HashAlg h : HashAlg.values()) {
            assertThat(HashAlg.parse(h.cliName())).isEqualTo(h);
            assertThat(HashAlg.parse(String.format("0x%04x", h.algId()))).isEqualTo(h);
            assertThat(HashAlg.parse(String.format("0x%04X", h.algId()))).isEqualTo(h);
            assertThat(HashAlg.ofAlgId(h.algId())).isEqualTo(h);
        }
        for (CipherAlg c : CipherAlg.values()) {
            assertThat(CipherAlg.parse(c.cliName())).isEqualTo(c);
            assertThat(CipherAlg.parse(String.format("0x%04x", c.algId()))).isEqualTo(c);
            assertThat(CipherAlg.ofAlgId(c.algId())).isEqualTo(c);
        }
        assertThat(HashAlg.parse("CALG_SHA_256")).isEqualTo(HashAlg.SHA_256);
        assertThat(HashAlg.parse("CALG_SHA1")).isEqualTo(HashAlg.SHA1);
        assertThat(HashAlg.parse("SHA-512")).isEqualTo(HashAlg.SHA_512);
        assertThat(CipherAlg.parse("CALG_3DES_112")).isEqualTo(CipherAlg.TRIPLE_DES_112);
        assertThat(CipherAlg.parse("CALG_AES_256")).isEqualTo(CipherAlg.AES_256);
        assertError(() -> HashAlg.ofAlgId(0x8005), CapiError.NTE_BAD_ALGID);
        assertError(() -> Mode.parse("ofb"), CapiError.NTE_BAD_FLAGS);
        assertError(() -> Provider.parse("schannel"), CapiError.NTE_BAD_FLAGS);
    }

    /** wincrypt.h: CALG_SHA is CALG_SHA1 (both 0x8004; FACTS.md g). */
    @Test
    void calgShaIsSha1() {
        assertThat(HashAlg.parse("CALG_SHA")).isEqualTo(HashAlg.SHA1);
    }

    @Test
    void errorsCarryTheirHresult() {
        assertThat(CapiError.NTE_BAD_ALGID.hresult()).isEqualTo(0x80090008);
        assertThat(CapiError.NTE_BAD_ALGID.label()).isEqualTo("NTE_BAD_ALGID (0x80090008)");
        assertThat(CapiError.NTE_BAD_DATA.hresult()).isEqualTo(0x80090005);
        assertThat(CapiError.NTE_BAD_LEN.hresult()).isEqualTo(0x80090004);
        assertThat(CapiError.NTE_BAD_FLAGS.hresult()).isEqualTo(0x80090009);
        assertThat(CapiError.NTE_BAD_TYPE.hresult()).isEqualTo(0x8009000A);
        assertThat(CapiError.NTE_BAD_VER.hresult()).isEqualTo(0x80090007);
        assertThat(CapiError.NTE_BAD_KEY.hresult()).isEqualTo(0x80090003);
        assertThat(CapiError.NTE_BAD_HASH.hresult()).isEqualTo(0x80090002);
        assertThat(CapiError.NTE_BAD_KEY_STATE.hresult()).isEqualTo(0x8009000B);
    }

    @Test
    void everyLegalRc4KeyLengthConstructs() {
        SecureRandom r = new SecureRandom();
        for (int n = 5; n <= 128; n++) {
            byte[] k = new byte[n];
            r.nextBytes(k);
            assertThat(CapiKey.of(CipherAlg.RC4, k).key()).isEqualTo(k);
        }
    }
}
