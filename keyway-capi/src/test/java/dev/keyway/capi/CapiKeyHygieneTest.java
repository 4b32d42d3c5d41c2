package dev.keyway.capi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Field;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import dev.keyway.core.keys.Secret;
import org.junit.jupiter.api.Test;

/** CapiKey never prints its bytes, copies what it is given and hands out copies, and destroy() zeroes it. */
class CapiKeyHygieneTest {
    private static final byte[] KEY_BYTES = HexFormat.of().parseHex("a1b2c3d4e5f60718293a4b5c6d7e8f90");
    private static final byte[] SALT = HexFormat.of().parseHex("0102030405060708090a0b");

    private static List<CapiKey> keys() {
        return List.of(
                CapiKey.of(CipherAlg.AES_128, KEY_BYTES),
                CapiKey.of(CipherAlg.TRIPLE_DES_112, KEY_BYTES),
                new CapiKey(CipherAlg.RC2, KEY_BYTES, SALT, 128),
                new CapiKey(CipherAlg.RC4, KEY_BYTES, SALT, 0),
                CryptDeriveKey.deriveFromData(Provider.BASE, CipherAlg.RC4, HashAlg.MD5, KEY_BYTES, 40 << 16 | CryptDeriveKey.CRYPT_CREATE_SALT));
    }

    @Test
    void toStringShowsNoKeyOrSaltBytes() {
        for (CapiKey k : keys()) {
            String s = k.toString();
            String lower = s.toLowerCase(Locale.ROOT);
            for (byte[] secret : List.of(k.key(), k.salt(), k.material())) {
                if (secret.length == 0) {
                    continue;
                }
                String hex = HexFormat.of().formatHex(secret);
                assertThat(lower).doesNotContain(hex).doesNotContain(hex.substring(0, 8));
                assertThat(s).doesNotContain(java.util.Arrays.toString(secret));
                assertThat(s).doesNotContain(java.util.Base64.getEncoder().encodeToString(secret).substring(0, 6));
            }
            assertThat(s).startsWith("CapiKey[").contains(k.alg().cliName()).contains(k.bits() + " bits");
        }
        // Records holding a key print the key's toString, not its bytes.
        CapiKey aes = CapiKey.of(CipherAlg.AES_128, KEY_BYTES);
        assertThat(new CapiBlob.PlaintextKeyBlob(aes).toString().toLowerCase(Locale.ROOT)).doesNotContain("a1b2c3d4");
    }

    @Test
    void keysAreCopiedInAndOut() {
        byte[] given = KEY_BYTES.clone();
        byte[] salt = SALT.clone();
        CapiKey k = new CapiKey(CipherAlg.RC4, given, salt, 0);
        given[0] ^= 1;
        salt[0] ^= 1;
        assertThat(k.key()).isEqualTo(KEY_BYTES);
        assertThat(k.salt()).isEqualTo(SALT);
        k.key()[1] ^= 1;
        k.salt()[1] ^= 1;
        k.material()[2] ^= 1;
        assertThat(k.key()).isEqualTo(KEY_BYTES);
        assertThat(k.salt()).isEqualTo(SALT);
    }

    @Test
    void destroyZeroesAndLaterUseThrows() throws Exception {
        for (CapiKey k : keys()) {
            assertThat(k.isDestroyed()).isFalse();
            byte[] keyField = field(k, "key");
            byte[] saltField = field(k, "salt");
            assertThat(keyField).isNotEqualTo(new byte[keyField.length]);
            k.destroy();
            assertThat(k.isDestroyed()).isTrue();
            assertThat(keyField).as("key bytes after destroy").containsOnly(0);
            assertThat(saltField).as("salt bytes after destroy").isEqualTo(new byte[saltField.length]);
            assertThatThrownBy(k::key).isInstanceOf(Secret.DestroyedException.class);
            assertThatThrownBy(k::salt).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(k::material).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> LegacyCipher.encrypt(k, Mode.CBC, null, new byte[4])).isInstanceOf(IllegalStateException.class);
            assertThat(k.toString()).startsWith("CapiKey[");
            k.destroy(); // idempotent
        }
    }

    @Test
    void plaintextBlobOfADestroyedKeyCannotBeEncoded() {
        CapiKey k = CapiKey.of(CipherAlg.AES_256, new byte[32]);
        CapiBlob.PlaintextKeyBlob blob = new CapiBlob.PlaintextKeyBlob(k);
        k.destroy();
        assertThatThrownBy(blob::encode).isInstanceOf(IllegalStateException.class);
    }

    private static byte[] field(CapiKey k, String name) throws Exception {
        Field f = CapiKey.class.getDeclaredField(name);
        f.setAccessible(true);
        return (byte[]) f.get(k);
    }
}
