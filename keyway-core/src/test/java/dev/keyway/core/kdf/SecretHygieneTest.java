package dev.keyway.core.kdf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Derived keys are never printed and can be wiped: {@link KeyBlock12#toString()} and
 * {@link TrafficKeys#toString()} show no key bytes, and {@code destroy()} zeroes the arrays (looked at
 * through reflection, since every accessor hands out copies) and makes every later access throw.
 */
class SecretHygieneTest {
    private static final Random RANDOM = new Random(42);

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** Every 4-byte window of a secret, in both hex cases: none may appear in printed text. */
    private static List<String> fragments(byte[]... secrets) {
        List<String> out = new ArrayList<>();
        for (byte[] s : secrets) {
            String hex = HexFormat.of().formatHex(s);
            for (int i = 0; i + 8 <= hex.length(); i += 2) {
                out.add(hex.substring(i, i + 8));
                out.add(hex.substring(i, i + 8).toUpperCase(Locale.ROOT));
            }
        }
        return out;
    }

    private static byte[] field(Object o, String name) throws ReflectiveOperationException {
        Field f = o.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return (byte[]) f.get(o);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"AES128-SHA", "ECDHE-RSA-AES256-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
            "ECDHE-RSA-CHACHA20-POLY1305"})
    void keyBlockIsNeverPrintedAndDestroyWipesIt(String name) throws Exception {
        CipherSuite suite = CipherSuites.parse(name);
        TlsVersion version = suite.usableWith(TlsVersion.TLS10) ? TlsVersion.TLS10 : TlsVersion.TLS12;
        byte[] master = random(48);
        KeyBlock12 block = Prf12.keyBlock(suite, version, master, random(32), random(32));
        String[] parts = {"clientMacKey", "serverMacKey", "clientKey", "serverKey", "clientIv", "serverIv"};
        List<byte[]> values = List.of(block.clientMacKey(), block.serverMacKey(), block.clientKey(), block.serverKey(),
                block.clientIv(), block.serverIv());

        String text = block.toString() + " " + String.valueOf(block);
        assertThat(text).contains(suite.name());
        for (String fragment : fragments(values.toArray(new byte[0][]))) {
            assertThat(text).doesNotContain(fragment);
        }
        for (String fragment : fragments(master)) {
            assertThat(text).doesNotContain(fragment);
        }

        // Accessors hand out copies: scribbling on one does not reach the key block.
        byte[] copy = block.clientKey();
        copy[0] ^= (byte) 0xff;
        assertThat(block.clientKey()).isEqualTo(values.get(2));

        assertThat(block.isDestroyed()).isFalse();
        block.destroy();
        assertThat(block.isDestroyed()).isTrue();
        for (String part : parts) {
            byte[] inside = field(block, part);
            assertThat(inside).as(part).isEqualTo(new byte[inside.length]);
        }
        assertThatThrownBy(block::clientMacKey).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(block::serverMacKey).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(block::clientKey).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(block::serverKey).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(block::clientIv).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(block::serverIv).isInstanceOf(IllegalStateException.class);
        // Still printable, still without key bytes; destroying twice is harmless.
        assertThat(block.toString()).contains(suite.name());
        block.destroy();
        assertThat(block.isDestroyed()).isTrue();
    }

    @Test
    void trafficKeysAreNeverPrintedAndDestroyWipesThem() throws Exception {
        KeySchedule13 ks = KeySchedule13.of(Hkdf.Hash.SHA384);
        byte[] secret = random(48);
        TrafficKeys keys = ks.trafficKeys(secret, 32);
        byte[] key = keys.key();
        byte[] iv = keys.iv();

        String text = keys.toString();
        assertThat(text).contains("256-bit");
        for (String fragment : fragments(key, iv, secret)) {
            assertThat(text).doesNotContain(fragment);
        }

        byte[] copy = keys.key();
        copy[0] ^= (byte) 0xff;
        assertThat(keys.key()).isEqualTo(key);

        assertThat(keys.isDestroyed()).isFalse();
        keys.destroy();
        assertThat(keys.isDestroyed()).isTrue();
        assertThat(field(keys, "key")).isEqualTo(new byte[32]);
        assertThat(field(keys, "iv")).isEqualTo(new byte[12]);
        assertThatThrownBy(keys::key).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(keys::iv).isInstanceOf(IllegalStateException.class);
        assertThat(keys.toString()).doesNotContain(HexFormat.of().formatHex(key));
    }
}
