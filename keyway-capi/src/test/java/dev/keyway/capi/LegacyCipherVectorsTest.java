package dev.keyway.capi;

import static dev.keyway.capi.CapiVectors.field;
import static dev.keyway.capi.CapiVectors.hex;
import static dev.keyway.capi.CapiVectors.hexString;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LegacyCipher (CryptEncrypt/CryptDecrypt) against wine-ciphers.txt, with the keys made the way the Wine
 * test makes them (CryptDeriveKey from an MD2 or MD5 hash), and HashAlg against wine-hashes.txt.
 *
 * <p>Not covered because keyway-capi does not implement them: wine-hmac-md5-rc2key (CALG_HMAC) and
 * wine-mac-rc2-40 (CALG_MAC, RC2 CBC-MAC).
 */
class LegacyCipherVectorsTest {
    private static final String FILE = "wine-ciphers.txt";
    /** MD2 over bytes i mod 256, i = 0..1999: the helper derive_key() hash of the Wine tests. */
    private static final byte[] MD2_2000 = HashAlg.MD2.hash(CapiVectors.counting(0, 2000));

    @Test
    void derivationHashes() {
        assertThat(hexString(MD2_2000)).isEqualTo(hexString(hex(CapiVectors.byId("wine-hashes.txt", "derived-hash-md2-2000"), "hash")));
        assertThat(hexString(MD2_2000)).isEqualTo("d5e1a7e9ac38c127f7731dba811698e0");
    }

    // ---------------------------------------------------------------- DES, 3DES, AES

    @Test
    void desEcb() {
        Map<String, String> b = CapiVectors.byId(FILE, "wine-des-ecb");
        byte[] expectedKey = hex(b, "key"); // raw hash prefix: Keyway sets the parity bits Windows sets
        CryptDeriveKey.setOddParity(expectedKey);
        for (Provider p : CapiVectors.providers(b)) {
            for (int len : new int[] {0, 56, 64}) {
                CapiKey key = CryptDeriveKey.derive(p, CipherAlg.DES, HashAlg.MD2, MD2_2000, len << 16 | CryptDeriveKey.CRYPT_EXPORTABLE);
                assertThat(key.key()).isEqualTo(expectedKey);
                assertThat(key.bits()).isEqualTo(56);
                checkKat(b, key, Mode.ECB);
            }
        }
        // DES ignores the parity bits: the raw prefix encrypts the same way.
        checkKat(b, CapiKey.of(CipherAlg.DES, hex(b, "key")), Mode.ECB);
        assertThat(CapiVectors.providers(b)).containsExactlyInAnyOrder(Provider.BASE, Provider.ENHANCED, Provider.STRONG);
    }

    @ParameterizedTest
    @ValueSource(strings = {"wine-3des112-cbc", "wine-3des-cbc"})
    void tripleDesCbc(String id) {
        Map<String, String> b = CapiVectors.byId(FILE, id);
        CipherAlg alg = CipherAlg.ofAlgId(CapiVectors.algId(b, "cipher_alg"));
        byte[] expectedKey = hex(b, "key");
        CryptDeriveKey.setOddParity(expectedKey);
        Set<Provider> providers = CapiVectors.providers(b);
        assertThat(providers).containsExactlyInAnyOrder(Provider.ENHANCED, Provider.STRONG);
        for (Provider p : Set.of(Provider.ENHANCED, Provider.STRONG, Provider.AES)) {
            CapiKey key = CryptDeriveKey.derive(p, alg, HashAlg.MD2, MD2_2000, CryptDeriveKey.CRYPT_EXPORTABLE);
            assertThat(hexString(key.key())).isEqualTo(hexString(expectedKey));
            checkKat(b, key, Mode.CBC);
        }
        checkKat(b, CapiKey.of(alg, hex(b, "key")), Mode.CBC);
        // "not run on Base": the Base provider has no 3DES.
        CryptDeriveKeyVectorsTest.assertBadAlgId(() -> CryptDeriveKey.derive(Provider.BASE, alg, HashAlg.MD2, MD2_2000, 0));
    }

    @Test
    void tripleDes112IsK1K2K1() {
        Map<String, String> b = CapiVectors.byId(FILE, "wine-3des112-cbc");
        byte[] k = hex(b, "key");
        byte[] k1k2k1 = Arrays.copyOf(k, 24);
        System.arraycopy(k, 0, k1k2k1, 16, 8);
        checkKat(b, CapiKey.of(CipherAlg.TRIPLE_DES, k1k2k1), Mode.CBC);
    }

    @ParameterizedTest
    @ValueSource(strings = {"wine-aes128-cbc", "wine-aes192-cbc", "wine-aes256-cbc"})
    void aesCbc(String id) {
        Map<String, String> b = CapiVectors.byId(FILE, id);
        CipherAlg alg = CipherAlg.ofAlgId(CapiVectors.algId(b, "cipher_alg"));
        assertThat(CapiVectors.providers(b)).containsExactly(Provider.AES);
        CapiKey key = CryptDeriveKey.derive(Provider.AES, alg, HashAlg.MD2, MD2_2000, CryptDeriveKey.CRYPT_EXPORTABLE);
        assertThat(hexString(key.key())).isEqualTo(hexString(hex(b, "key")));
        byte[] ct = checkKat(b, key, Mode.CBC);
        assertThat(ct).hasSize(48); // 32 bytes in, a whole padding block added
        for (Provider p : Set.of(Provider.BASE, Provider.ENHANCED, Provider.STRONG)) {
            CryptDeriveKeyVectorsTest.assertBadAlgId(() -> CryptDeriveKey.derive(p, alg, HashAlg.MD2, MD2_2000, 0));
        }
    }

    // ---------------------------------------------------------------- RC2

    @Test
    void rc2FortyBitZeroSalt() {
        Map<String, String> b = CapiVectors.byId(FILE, "wine-rc2-40-zero-salt");
        for (Provider p : CapiVectors.providers(b)) {
            CapiKey key = CryptDeriveKey.derive(p, CipherAlg.RC2, HashAlg.MD2, MD2_2000, 40 << 16);
            assertThat(key.key()).isEqualTo(Arrays.copyOf(MD2_2000, 5));
            assertThat(key.salt()).isEqualTo(new byte[11]);
            assertThat(key.bits()).isEqualTo(40);
            assertThat(key.effectiveBits()).isEqualTo(CapiVectors.leadingInt(b, "rc2_effective_bits"));
            assertThat(key.material()).isEqualTo(hex(b, "rc2_key_fed_to_cipher"));
            checkKat(b, key, Mode.CBC);
        }
        assertThat(CapiVectors.providers(b)).containsExactlyInAnyOrder(Provider.BASE, Provider.ENHANCED, Provider.STRONG);
        // The Base provider's default RC2 length is 40: the same key.
        checkKat(b, CryptDeriveKey.derive(Provider.BASE, CipherAlg.RC2, HashAlg.MD2, MD2_2000, 0), Mode.CBC);
        // Without the salt the ciphertext differs (the salt is part of the cipher key).
        CapiKey bare = CryptDeriveKey.derive(Provider.ENHANCED, CipherAlg.RC2, HashAlg.MD2, MD2_2000, 40 << 16 | CryptDeriveKey.CRYPT_NO_SALT);
        assertThat(bare.salt()).isEmpty();
        assertThat(LegacyCipher.encrypt(bare, Mode.CBC, null, hex(b, "plaintext"))).isNotEqualTo(hex(b, "ciphertext"));
    }

    @Test
    void rc2FiftySixBitEffective128() {
        Map<String, String> b = CapiVectors.byId(FILE, "wine-rc2-56-eff128");
        assertThat(CapiVectors.providers(b)).containsExactlyInAnyOrder(Provider.ENHANCED, Provider.STRONG);
        for (Provider p : CapiVectors.providers(b)) {
            CapiKey derived = CryptDeriveKey.derive(p, CipherAlg.RC2, HashAlg.MD2, MD2_2000, 56 << 16);
            assertThat(derived.key()).isEqualTo(hex(b, "key"));
            assertThat(derived.salt()).isEmpty();
            assertThat(derived.effectiveBits()).as("KP_EFFECTIVE_KEYLEN of a derived 56-bit key").isEqualTo(56);
            // CryptSetKeyParam(KP_EFFECTIVE_KEYLEN, 128)
            CapiKey key = new CapiKey(CipherAlg.RC2, derived.key(), derived.salt(), CapiVectors.leadingInt(b, "rc2_effective_bits"));
            checkKat(b, key, Mode.CBC);
        }
    }

    @Test
    void rc2FiftySixBitOnBaseIsEffective40() {
        Map<String, String> b = CapiVectors.byId(FILE, "wine-rc2-56-base-eff40");
        assertThat(CapiVectors.providers(b)).containsExactly(Provider.BASE);
        CapiKey key = CryptDeriveKey.derive(Provider.BASE, CipherAlg.RC2, HashAlg.MD2, MD2_2000, 56 << 16);
        assertThat(key.key()).isEqualTo(hex(b, "key"));
        assertThat(key.effectiveBits()).isEqualTo(CapiVectors.leadingInt(b, "rc2_effective_bits"));
        checkKat(b, key, Mode.CBC);
    }

    @ParameterizedTest
    @ValueSource(strings = {"wine-rc2-40-create-salt-enhanced", "wine-rc2-40-create-salt-strong", "wine-rc2-40-create-salt-base"})
    void rc2FortyBitCreateSalt(String id) {
        Map<String, String> b = CapiVectors.byId(FILE, id);
        // The Wine test hashes its 2000-byte buffer after the previous step encrypted its first 16 bytes in place.
        String base = field(b, "base_data");
        byte[] previous = CapiVectors.hexOf(base.replaceAll(".*\\(previous ciphertext = ([0-9a-f]+)\\).*", "$1"));
        byte[] buffer = CapiVectors.counting(0, 2000);
        System.arraycopy(previous, 0, buffer, 0, 16);
        byte[] hash = HashAlg.MD5.hash(buffer);
        assertThat(hexString(hash)).isEqualTo(hexString(hex(b, "hash")));

        Set<Provider> providers = CapiVectors.providers(b);
        assertThat(providers).hasSize(1);
        Provider p = providers.iterator().next();
        CapiKey key = CryptDeriveKey.derive(p, CipherAlg.RC2, HashAlg.MD5, hash, 40 << 16 | CryptDeriveKey.CRYPT_CREATE_SALT);
        assertThat(key.key()).isEqualTo(Arrays.copyOf(hash, 5));
        if (p == Provider.ENHANCED) {
            assertThat(key.salt()).as("Enhanced: no salt at all").isEmpty();
        } else {
            assertThat(key.salt()).as("Base/Strong: salt = hash bytes 5..15").isEqualTo(Arrays.copyOfRange(hash, 5, 16));
        }
        assertThat(key.material()).isEqualTo(hex(b, "key"));
        assertThat(key.effectiveBits()).isEqualTo(CapiVectors.leadingInt(b, "rc2_effective_bits"));
        checkKat(b, key, Mode.CBC);
    }

    /** The "previous ciphertext" the create-salt vectors name is the first 16 bytes of the eff128 / base-eff40 KATs. */
    @Test
    void createSaltInputsChainFromEarlierKats() {
        assertThat(hexString(hex(CapiVectors.byId(FILE, "wine-rc2-56-eff128"), "ciphertext"))).isEqualTo("8281f7ffddd7888c2a2ac0ce4c89b666");
        assertThat(hexString(hex(CapiVectors.byId(FILE, "wine-rc2-56-base-eff40"), "ciphertext"))).isEqualTo("23c87013422ea8985cdf7a9beadb961b");
    }

    // ---------------------------------------------------------------- RC4

    @Test
    void rc4FiftySix() {
        Map<String, String> b = CapiVectors.byId(FILE, "wine-rc4-56");
        for (Provider p : CapiVectors.providers(b)) {
            CapiKey key = CryptDeriveKey.derive(p, CipherAlg.RC4, HashAlg.MD2, MD2_2000, 56 << 16);
            assertThat(key.key()).isEqualTo(hex(b, "key"));
            assertThat(key.salt()).isEmpty();
            assertThat(key.bits()).isEqualTo(56);
            byte[] ct = checkKat(b, key, Mode.CBC);
            assertThat(ct).hasSameSizeAs(hex(b, "plaintext"));
        }
        assertThat(CapiVectors.providers(b)).hasSize(3);
    }

    @ParameterizedTest
    @ValueSource(strings = {"wine-rc4-40-create-salt-enhanced", "wine-rc4-40-create-salt-base-strong"})
    void rc4FortyBitCreateSalt(String id) {
        Map<String, String> b = CapiVectors.byId(FILE, id);
        byte[] hash = HashAlg.MD5.hash(CapiVectors.counting(0, 2000));
        assertThat(hexString(hash)).isEqualTo(hexString(hex(b, "hash")));
        assertThat(hash).isEqualTo(hex(CapiVectors.byId("wine-hashes.txt", "derived-hash-md5-2000"), "hash"));
        Set<Provider> providers = CapiVectors.providers(b);
        assertThat(providers).isNotEmpty();
        for (Provider p : providers) {
            CapiKey key = CryptDeriveKey.derive(p, CipherAlg.RC4, HashAlg.MD5, hash, 40 << 16 | CryptDeriveKey.CRYPT_CREATE_SALT);
            assertThat(key.salt()).hasSize(p == Provider.ENHANCED ? 0 : 11);
            assertThat(key.material()).isEqualTo(hex(b, "key"));
            checkKat(b, key, Mode.CBC);
        }
    }

    // ---------------------------------------------------------------- block cipher modes

    @ParameterizedTest
    @ValueSource(strings = {"wine-modes-rc2-40-ecb", "wine-modes-rc2-40-cbc", "wine-modes-rc2-40-cfb"})
    void rc2FortyBitModes(String id) {
        Map<String, String> b = CapiVectors.byId(FILE, id);
        Mode mode = Mode.parse(field(b, "mode"));
        byte[] pt = hex(b, "plaintext");
        byte[] expected = hex(b, "ciphertext");
        for (Provider p : CapiVectors.providers(b)) {
            CapiKey key = CryptDeriveKey.derive(p, CipherAlg.RC2, HashAlg.MD2, MD2_2000, 40 << 16 | CryptDeriveKey.CRYPT_EXPORTABLE);
            assertThat(key.material()).isEqualTo(hex(b, "rc2_key_fed_to_cipher"));
            assertThat(key.effectiveBits()).isEqualTo(CapiVectors.leadingInt(b, "rc2_effective_bits"));
            checkKat(b, key, mode);
            if (mode == Mode.CFB8) {
                // As the Wine test calls it: 16 bytes with Final = FALSE, then 7 bytes with Final = TRUE.
                LegacyCipher c = LegacyCipher.encrypting(key, mode, hex(b, "iv"));
                byte[] first = c.update(pt, 0, 16);
                byte[] rest = concat(c.update(pt, 16, 7), c.doFinal());
                assertThat(first).hasSize(16);
                assertThat(rest).hasSize(8);
                assertThat(hexString(concat(first, rest))).isEqualTo(hexString(expected));
            }
        }
        assertThat(expected).hasSize(24);
    }

    // ---------------------------------------------------------------- hashes

    static Stream<org.junit.jupiter.params.provider.Arguments> hashVectors() {
        List<Map<String, String>> all = CapiVectors.load("wine-hashes.txt");
        assertThat(all).hasSize(10);
        return all.stream().map(b -> org.junit.jupiter.params.provider.Arguments.of(b.get("id"), b));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hashVectors")
    void wineHashes(String id, Map<String, String> b) {
        HashAlg alg = HashAlg.parse(field(b, "hash_alg"));
        byte[] data;
        if (b.containsKey("data_rule")) {
            String rule = field(b, "data_rule");
            int last = Integer.parseInt(rule.replaceAll(".*i = 0\\.\\.(\\d+).*", "$1"));
            data = CapiVectors.counting(0, last + 1);
        } else {
            assertThat(field(b, "data")).startsWith("(none");
            data = new byte[0];
        }
        byte[] expected = hex(b, "hash");
        assertThat(hexString(alg.hash(data))).isEqualTo(hexString(expected));
        assertThat(alg.length()).isEqualTo(expected.length);
    }

    // ---------------------------------------------------------------- helpers

    /** Encrypts the vector's plaintext with Final padding, compares, and decrypts back; returns the ciphertext. */
    private static byte[] checkKat(Map<String, String> b, CapiKey key, Mode mode) {
        byte[] iv = b.containsKey("iv") ? hex(b, "iv") : null;
        byte[] pt = hex(b, "plaintext");
        byte[] ct = LegacyCipher.encrypt(key, mode, iv, pt);
        assertThat(hexString(ct)).as("%s ciphertext", b.get("id")).isEqualTo(hexString(hex(b, "ciphertext")));
        assertThat(LegacyCipher.decrypt(key, mode, iv, ct)).as("%s decrypts back", b.get("id")).isEqualTo(pt);
        return ct;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void unimplementedVectorsAreOnlyTheMacs() {
        // Every block of wine-ciphers.txt is exercised above except the two MACs keyway-capi does not implement.
        long macs = CapiVectors.load(FILE).stream().filter(b -> b.containsKey("mac")).count();
        assertThat(macs).isEqualTo(2);
        assertThat(CapiVectors.load(FILE)).hasSize(20);
        assertThatThrownBy(() -> CipherAlg.parse("CALG_HMAC")).isInstanceOf(CapiException.class);
        assertThatThrownBy(() -> CipherAlg.parse("CALG_MAC")).isInstanceOf(CapiException.class);
    }
}
