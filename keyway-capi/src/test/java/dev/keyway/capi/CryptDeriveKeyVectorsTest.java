package dev.keyway.capi;

import static dev.keyway.capi.CapiVectors.algId;
import static dev.keyway.capi.CapiVectors.field;
import static dev.keyway.capi.CapiVectors.hex;
import static dev.keyway.capi.CapiVectors.hexString;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.bouncycastle.crypto.BufferedBlockCipher;
import org.bouncycastle.crypto.digests.SHA1Digest;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.params.KeyParameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * CryptDeriveKey against wine-key-derivation.txt (Wine's test_key_derivation, run on Windows),
 * dotnet-cryptderivekey.txt (keys exported by real Windows CSPs) and office-msoffcrypto.txt.
 */
class CryptDeriveKeyVectorsTest {
    private static final String KD = "wine-key-derivation.txt";
    private static final String NET = "dotnet-cryptderivekey.txt";
    private static final String OFFICE = "office-msoffcrypto.txt";

    // ---------------------------------------------------------------- wine-key-derivation: KATs

    static Stream<Arguments> derivationKats() {
        List<Arguments> out = new ArrayList<>();
        for (Map<String, String> b : CapiVectors.load(KD)) {
            if (b.containsKey("ciphertext")) {
                for (Provider p : CapiVectors.providers(b)) {
                    out.add(Arguments.of(b.get("id"), p, b));
                }
            }
        }
        assertThat(out).isNotEmpty();
        return out.stream();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("derivationKats")
    void wineDerivationKat(String id, Provider provider, Map<String, String> b) {
        HashAlg hash = HashAlg.ofAlgId(algId(b, "hash_alg"));
        CipherAlg alg = CipherAlg.ofAlgId(algId(b, "cipher_alg"));
        byte[] baseData = hex(b, "base_data");
        int start = Integer.parseInt(field(b, "base_data_rule").replaceAll(".*\\(j \\+ (\\d+)\\).*", "$1"));
        assertThat(baseData).as("base_data follows its rule").isEqualTo(CapiVectors.counting(start, 512));
        byte[] h = hash.hash(baseData);
        assertThat(hexString(h)).as("hash of base_data").isEqualTo(hexString(hex(b, "hash")));

        if (hash.isSha2() && provider != Provider.AES) {
            // The Wine source runs these entries on every provider, but they are skipped there
            // (old_broken[]); on Windows only MS_ENH_RSA_AES_PROV has SHA-2 hashes (FACTS.md b, asserted).
            assertThatThrownBy(() -> CryptDeriveKey.derive(provider, alg, hash, h, 0))
                    .isInstanceOfSatisfying(CapiException.class, e -> assertThat(e.error()).isEqualTo(CapiError.NTE_BAD_ALGID));
            return;
        }

        CapiKey key = CryptDeriveKey.deriveFromData(provider, alg, hash, baseData, 0);
        CapiKey fromHash = CryptDeriveKey.derive(provider, alg, hash, h, 0);
        assertThat(fromHash.key()).isEqualTo(key.key());

        int keyBits = CapiVectors.leadingInt(b, "key_bits");
        String expectedKey = alg.isDesFamily() ? field(b, "derived_key_odd_parity") : field(b, "derived_key");
        assertThat(hexString(key.key())).as("derived key").isEqualTo(hexString(CapiVectors.hexOf(expectedKey)));
        assertThat(key.key().length * 8).isEqualTo(keyBits);
        assertThat(key.salt()).as("no salt for %d-bit keys", keyBits).isEmpty();
        if (alg.isDesFamily()) {
            // The raw value (Wine exports it without parity) must differ only in the parity bits.
            byte[] raw = hex(b, "derived_key");
            CryptDeriveKey.setOddParity(raw);
            assertThat(raw).isEqualTo(key.key());
        }
        if (b.containsKey("rc2_effective_bits")) {
            assertThat(key.effectiveBits()).isEqualTo(CapiVectors.leadingInt(b, "rc2_effective_bits"));
        }
        if (field(b, "derivation").startsWith("0x36/0x5C")) {
            assertThat(Arrays.copyOf(CryptDeriveKey.expand(hash, h), alg.fixedKeyBytes())).isEqualTo(hex(b, "derived_key"));
        } else {
            assertThat(Arrays.copyOf(h, key.key().length)).isEqualTo(hex(b, "derived_key"));
        }

        Mode mode = alg.isBlock() ? Mode.parse(field(b, "mode").split(" ")[0]) : Mode.CBC;
        byte[] iv = alg.isBlock() ? hex(b, "iv") : null;
        byte[] plaintext = hex(b, "plaintext");
        byte[] ct = LegacyCipher.encrypt(key, mode, iv, plaintext);
        assertThat(hexString(ct)).as("ciphertext").isEqualTo(hexString(hex(b, "ciphertext")));
        assertThat(LegacyCipher.decrypt(key, mode, iv, ct)).isEqualTo(plaintext);
        // The default IV is zeros.
        assertThat(LegacyCipher.encrypt(key, mode, null, plaintext)).isEqualTo(ct);
    }

    @Test
    void vectorFileHasFortyKatsAndTwentyRefusals() {
        long kats = CapiVectors.load(KD).stream().filter(b -> b.containsKey("ciphertext")).count();
        long errors = CapiVectors.load(KD).stream().filter(b -> b.containsKey("expected_error")).count();
        assertThat(kats).isEqualTo(40);
        assertThat(errors).isEqualTo(20);
    }

    // ---------------------------------------------------------------- wine-key-derivation: NTE_BAD_ALGID

    static Stream<Arguments> badAlgIdCases() {
        List<Arguments> out = new ArrayList<>();
        for (Map<String, String> b : CapiVectors.load(KD)) {
            if (b.containsKey("expected_error")) {
                out.add(Arguments.of(b.get("id"), b));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badAlgIdCases")
    void wineBadAlgId(String id, Map<String, String> b) {
        assertThat(field(b, "expected_error")).startsWith("NTE_BAD_ALGID");
        int cipherAlgId = algId(b, "cipher_alg");
        String calgName = field(b, "cipher_alg").split(" ")[0];
        // RC5, RSA_SIGN, RSA_KEYX and CALG_AES are not session-key algorithms Keyway derives.
        assertBadAlgId(() -> CipherAlg.ofAlgId(cipherAlgId));
        assertBadAlgId(() -> CipherAlg.parse(calgName));
        assertBadAlgId(() -> CipherAlg.parse(String.format("0x%04x", cipherAlgId)));
        // The hash itself is fine (on the providers that have it).
        HashAlg hash = HashAlg.ofAlgId(algId(b, "hash_alg"));
        assertThat(hash.hash(hex(b, "base_data"))).isEqualTo(hex(b, "hash"));
    }

    /** kd 9-11, 21-23, 33-35, 45-47, 57-59: AES keys fail with NTE_BAD_ALGID outside MS_ENH_RSA_AES_PROV. */
    @Test
    void aesOutsideTheAesProviderIsBadAlgId() {
        int checked = 0;
        for (Map<String, String> b : CapiVectors.load(KD)) {
            if (!b.containsKey("ciphertext")) {
                continue;
            }
            CipherAlg alg = CipherAlg.ofAlgId(algId(b, "cipher_alg"));
            if (!alg.isAes()) {
                continue;
            }
            assertThat(CapiVectors.providers(b)).containsExactly(Provider.AES);
            HashAlg hash = HashAlg.ofAlgId(algId(b, "hash_alg"));
            for (Provider p : Set.of(Provider.BASE, Provider.ENHANCED, Provider.STRONG)) {
                assertBadAlgId(() -> CryptDeriveKey.derive(p, alg, hash, hex(b, "hash"), 0));
                checked++;
            }
        }
        assertThat(checked).isEqualTo(15 * 3);
    }

    // ---------------------------------------------------------------- .NET (real Windows, PROV_RSA_AES)

    static Stream<Arguments> dotnetKeys() {
        List<Arguments> out = new ArrayList<>();
        for (Map<String, String> b : CapiVectors.load(NET)) {
            if (b.containsKey("derived_key")) {
                out.add(Arguments.of(b.get("id"), b));
            }
        }
        assertThat(out).hasSize(6);
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dotnetKeys")
    void dotnetWindowsKeys(String id, Map<String, String> b) {
        byte[] password = hex(b, "password");
        assertThat(password).isEqualTo("PasswordGoesHere".getBytes(StandardCharsets.UTF_8));
        HashAlg hash = HashAlg.parse(field(b, "hash_alg"));
        CipherAlg alg = CipherAlg.parse(field(b, "cipher_alg").split(" ")[0]);
        int bits = CapiVectors.leadingInt(b, "key_size_bits");
        int flags = bits << 16 | CryptDeriveKey.CRYPT_EXPORTABLE;
        CapiKey key = CryptDeriveKey.deriveFromData(Provider.AES, alg, hash, password, flags);
        assertThat(hexString(key.key())).isEqualTo(hexString(hex(b, "derived_key")));
        if (alg.isDesFamily()) {
            // Windows' parity-adjusted key; the effective length gives the same key (KB331367).
            CapiKey effective = CryptDeriveKey.deriveFromData(Provider.AES, alg, hash, password,
                    alg.fixedKeyBytes() * 7 << 16 | CryptDeriveKey.CRYPT_EXPORTABLE);
            assertThat(effective.key()).isEqualTo(key.key());
        }
        if (alg == CipherAlg.RC2) {
            assertThat(key.effectiveBits()).isEqualTo(bits);
            assertThat(key.salt()).isEmpty();
        }
    }

    @Test
    void dotnetTripleDesCbc() {
        Map<String, String> b = CapiVectors.byId(NET, "dotnet-3des-sha1-cbc");
        CapiKey key = CapiKey.of(CipherAlg.TRIPLE_DES, hex(b, "key"));
        byte[] pt = hex(b, "plaintext");
        byte[] ct = LegacyCipher.encrypt(key, Mode.CBC, new byte[8], pt);
        // The .NET test uses PaddingMode.None: CryptEncrypt adds one padding block after the 24 bytes.
        assertThat(ct).hasSize(pt.length + 8);
        assertThat(hexString(Arrays.copyOf(ct, pt.length))).isEqualTo(hexString(hex(b, "ciphertext")));
        assertThat(LegacyCipher.decrypt(key, Mode.CBC, null, ct)).isEqualTo(pt);
        // The same key derived by Keyway encrypts the same way.
        CapiKey derived = CryptDeriveKey.deriveFromData(Provider.AES, CipherAlg.TRIPLE_DES, HashAlg.SHA1,
                "PasswordGoesHere".getBytes(StandardCharsets.UTF_8), 0);
        assertThat(LegacyCipher.encrypt(derived, Mode.CBC, null, pt)).isEqualTo(ct);
    }

    // ---------------------------------------------------------------- MS-OFFCRYPTO Standard encryption

    @Test
    void officeStandardAes128() {
        Map<String, String> b = CapiVectors.byId(OFFICE, "office-standard-aes128-sha1");
        byte[] password = hex(b, "password");
        assertThat(new String(password, StandardCharsets.UTF_16LE)).isEqualTo("Password1234_");
        byte[] salt = hex(b, "salt");

        // [MS-OFFCRYPTO] 2.3.4.7: H0 = SHA1(salt || password); Hn = SHA1(LE32(i) || Hn-1) 50000 times;
        // Hfinal = SHA1(Hn || LE32(block 0)). Hfinal is the hash value CryptDeriveKey gets.
        byte[] h = sha1(salt, password);
        assertThat(hexString(h)).isEqualTo(hexString(hex(b, "h0")));
        for (int i = 0; i < 50000; i++) {
            h = sha1(le32(i), h);
        }
        assertThat(hexString(h)).isEqualTo(hexString(hex(b, "hn")));
        byte[] hfinal = sha1(h, le32(0));
        assertThat(hexString(hfinal)).isEqualTo(hexString(hex(b, "hfinal")));

        byte[] x = CryptDeriveKey.expand(HashAlg.SHA1, hfinal);
        assertThat(hexString(Arrays.copyOfRange(x, 0, 20))).isEqualTo(hexString(hex(b, "x1")));
        assertThat(hexString(Arrays.copyOfRange(x, 20, 40))).isEqualTo(hexString(hex(b, "x2")));

        assertThat(HashAlg.ofAlgId(0x8004)).isEqualTo(HashAlg.parse(field(b, "alg_id_hash").split(" ")[0]));
        CipherAlg alg = CipherAlg.parse(field(b, "alg_id").split(" ")[0]);
        assertThat(alg).isEqualTo(CipherAlg.AES_128);
        CapiKey key = CryptDeriveKey.derive(Provider.AES, alg, HashAlg.SHA1, hfinal, 128 << 16);
        assertThat(hexString(key.key())).isEqualTo(hexString(hex(b, "derived_key")));
        assertThat(CryptDeriveKey.derive(Provider.AES, alg, HashAlg.SHA1, hfinal, 0).key()).isEqualTo(key.key());

        // The password verifier: AES-128-ECB without padding (test side, Bouncy Castle directly).
        byte[] verifier = aesEcbDecrypt(key.key(), hex(b, "encrypted_verifier"));
        assertThat(hexString(verifier)).isEqualTo(hexString(hex(b, "verifier")));
        byte[] verifierHash = aesEcbDecrypt(key.key(), hex(b, "encrypted_verifier_hash"));
        assertThat(hexString(Arrays.copyOf(verifierHash, 20))).isEqualTo(hexString(hex(b, "verifier_hash")));
        assertThat(Arrays.copyOf(verifierHash, 20)).isEqualTo(HashAlg.SHA1.hash(verifier));
        // ECB through LegacyCipher (which pads): the first block of verifier || padding is the encrypted verifier.
        byte[] reEncrypted = LegacyCipher.encrypt(key, Mode.ECB, null, verifier);
        assertThat(Arrays.copyOf(reEncrypted, 16)).isEqualTo(hex(b, "encrypted_verifier"));
    }

    /** [MS-OFFCRYPTO] 2.3.5.2: a 40-bit RC4 CryptoAPI key is Hfinal[0..4] || 11 zero bytes, a Base-provider 40-bit RC4 key. */
    @Test
    void officeRc4FortyBitRule() {
        Map<String, String> b = CapiVectors.byId(OFFICE, "office-rc4-cryptoapi-40bit-rule");
        assertThat(field(b, "rule")).contains("11 x 00");
        byte[] hfinal = sha1("some salt".getBytes(StandardCharsets.UTF_8), le32(0));
        for (Provider p : Provider.values()) {
            CapiKey key = CryptDeriveKey.derive(p, CipherAlg.RC4, HashAlg.SHA1, hfinal, 40 << 16);
            byte[] expected = Arrays.copyOf(Arrays.copyOf(hfinal, 5), 16);
            assertThat(key.material()).isEqualTo(expected);
        }
        CapiKey baseDefault = CryptDeriveKey.derive(Provider.BASE, CipherAlg.RC4, HashAlg.SHA1, hfinal, 0);
        assertThat(baseDefault.material()).isEqualTo(Arrays.copyOf(Arrays.copyOf(hfinal, 5), 16));
    }

    // ---------------------------------------------------------------- helpers

    static void assertBadAlgId(org.assertj.core.api.ThrowableAssert.ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(CapiException.class,
                e -> assertThat(e.error()).isEqualTo(CapiError.NTE_BAD_ALGID));
    }

    private static byte[] sha1(byte[] a, byte[] b) {
        SHA1Digest d = new SHA1Digest();
        d.update(a, 0, a.length);
        d.update(b, 0, b.length);
        byte[] out = new byte[20];
        d.doFinal(out, 0);
        return out;
    }

    private static byte[] le32(int i) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(i).array();
    }

    private static byte[] aesEcbDecrypt(byte[] key, byte[] ct) {
        BufferedBlockCipher c = new BufferedBlockCipher(AESEngine.newInstance());
        c.init(false, new KeyParameter(key));
        byte[] out = new byte[ct.length];
        int n = c.processBytes(ct, 0, ct.length, out, 0);
        try {
            c.doFinal(out, n);
        } catch (org.bouncycastle.crypto.InvalidCipherTextException e) {
            throw new AssertionError(e);
        }
        return out;
    }
}
