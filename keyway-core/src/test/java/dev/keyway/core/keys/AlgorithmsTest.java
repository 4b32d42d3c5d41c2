package dev.keyway.core.keys;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.reflect.Field;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AlgorithmsTest {

    static Stream<Algorithm> all() {
        return Algorithms.all().stream();
    }

    @Test
    void registryHoldsExactlyTheModernAndLegacyAlgorithms() {
        assertThat(Algorithms.all()).extracting(Algorithm::name).containsExactlyInAnyOrder(
                "AES-128-GCM", "AES-192-GCM", "AES-256-GCM", "ChaCha20-Poly1305", "AES-KW", "HMAC-SHA-256", "HMAC-SHA-384",
                "RC2", "RC4", "DES", "3DES-112", "3DES");
        assertThat(Algorithms.all().stream().filter(a -> !a.isLegacy())).extracting(Algorithm::name).containsExactly(
                "AES-128-GCM", "AES-192-GCM", "AES-256-GCM", "ChaCha20-Poly1305", "AES-KW", "HMAC-SHA-256", "HMAC-SHA-384");
        assertThat(Algorithms.all().stream().filter(Algorithm::isLegacy)).extracting(Algorithm::name).containsExactly(
                "RC2", "RC4", "DES", "3DES-112", "3DES");
        // "modern first"
        List<Algorithm> all = Algorithms.all();
        int firstLegacy = IntStream.range(0, all.size()).filter(i -> all.get(i).isLegacy()).findFirst().orElseThrow();
        assertThat(all.subList(firstLegacy, all.size())).allMatch(Algorithm::isLegacy);
        assertThat(Algorithms.DEFAULT).isSameAs(Algorithms.AES_256_GCM);
        assertThat(Algorithms.DEFAULT.isLegacy()).isFalse();
    }

    @Test
    void expectedPolicies() {
        assertPolicy(Algorithms.AES_128_GCM, 128, 128, 128, 16);
        assertPolicy(Algorithms.AES_192_GCM, 192, 192, 192, 24);
        assertPolicy(Algorithms.AES_256_GCM, 256, 256, 256, 32);
        assertPolicy(Algorithms.CHACHA20_POLY1305, 256, 256, 256, 32);
        assertPolicy(Algorithms.AES_KW, 128, 256, 256, 32);
        assertPolicy(Algorithms.HMAC_SHA256, 128, 256, 512, 32);
        assertPolicy(Algorithms.HMAC_SHA384, 192, 384, 1024, 48);
        assertPolicy(Algorithms.RC2, 40, 128, 128, 16);
        assertPolicy(Algorithms.RC4, 40, 128, 128, 16);
        assertPolicy(Algorithms.DES, 56, 56, 56, 8);
        assertPolicy(Algorithms.DES3_112, 112, 112, 112, 16);
        assertPolicy(Algorithms.DES3, 168, 168, 168, 24);
        assertThat(Algorithms.AES_KW.allows(192)).isTrue();
        assertThat(Algorithms.AES_KW.allows(160)).isFalse();
    }

    private static void assertPolicy(Algorithm a, int min, int def, int max, int defaultBytes) {
        assertThat(a.minBits()).as(a.name()).isEqualTo(min);
        assertThat(a.defaultBits()).as(a.name()).isEqualTo(def);
        assertThat(a.maxBits()).as(a.name()).isEqualTo(max);
        assertThat(a.keyBytes(def)).as(a.name()).isEqualTo(defaultBytes);
    }

    @Test
    void idsAndNamesAreUnique() {
        Set<Integer> ids = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (Algorithm a : Algorithms.all()) {
            assertThat(ids.add(a.id())).as("id %d of %s", a.id(), a.name()).isTrue();
            assertThat(a.id()).as(a.name()).isBetween(1, 255);
            assertThat(names.add(a.name().toLowerCase(Locale.ROOT))).as(a.name()).isTrue();
            for (String alias : a.aliases()) {
                assertThat(names.add(alias.toLowerCase(Locale.ROOT))).as("alias %s of %s", alias, a.name()).isTrue();
            }
            assertThat(Algorithms.byId(a.id())).contains(a);
            assertThat(Algorithms.find(a.name())).contains(a);
            assertThat(Algorithms.find(" " + a.name().toUpperCase(Locale.ROOT) + " ")).contains(a);
            for (String alias : a.aliases()) {
                assertThat(Algorithms.find(alias)).as(alias).contains(a);
            }
        }
        assertThat(Algorithms.byId(0)).isEmpty();
        assertThat(Algorithms.byId(255)).isEmpty();
        assertThatThrownBy(() -> Algorithms.byName("blowfish"))
                .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE));
    }

    @ParameterizedTest
    @MethodSource("all")
    void everyDefaultAndEveryStepIsAllowedAndGenerates(Algorithm a) {
        assertThat(a.allows(a.defaultBits())).as(a.name()).isTrue();
        assertThat(a.allows(a.minBits())).isTrue();
        assertThat(a.allows(a.maxBits())).isTrue();
        assertThat((a.defaultBits() - a.minBits()) % a.stepBits()).isZero();
        for (int bits = a.minBits(); bits <= a.maxBits(); bits += a.stepBits()) {
            try (SessionKey k = SessionKeys.generate(a, bits)) {
                assertThat(k.algorithm()).isSameAs(a);
                assertThat(k.bits()).as("%s %d", a.name(), bits).isEqualTo(bits);
                assertThat(k.length()).isEqualTo(a.keyBytes(bits));
                assertThat(a.bitsForBytes(k.length())).isEqualTo(bits);
                try (SessionKey copy = SessionKey.of(a, k.bytes())) {
                    assertThat(copy.sameKeyAs(k)).isTrue();
                }
            }
        }
        try (SessionKey k = SessionKeys.generate(a)) {
            assertThat(k.bits()).isEqualTo(a.defaultBits());
        }
    }

    @ParameterizedTest
    @MethodSource("all")
    void lengthsOutsideThePolicyAreRefusedWithTheRangeInTheMessage(Algorithm a) {
        List<Integer> bad = new java.util.ArrayList<>(List.of(0, -8, a.minBits() - a.stepBits(), a.maxBits() + a.stepBits(),
                a.minBits() - 1, a.maxBits() + 1, Integer.MAX_VALUE, Integer.MIN_VALUE));
        if (a.stepBits() > 1 && a.minBits() != a.maxBits()) {
            bad.add(a.minBits() + 1);
        }
        for (int bits : bad) {
            assertThatThrownBy(() -> SessionKeys.generate(a, bits)).as("%s, %d bits", a.name(), bits)
                    .isInstanceOfSatisfying(KeywayException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.POLICY);
                        // the range is in the hint, which the CLI prints on the same line
                        assertThat(e.oneLine()).contains(a.allowedRange()).doesNotContain("\n");
                        assertThat(e.getMessage()).contains(a.name()).contains(String.valueOf(bits));
                    });
        }
    }

    @ParameterizedTest
    @MethodSource("all")
    void keysOfTheWrongSizeAreRefused(Algorithm a) {
        for (int n : new int[]{0, 1, 7, a.keyBytes(a.minBits()) - 1, a.keyBytes(a.maxBits()) + 1, 1000}) {
            if (n >= 0 && a.bitsForBytes(n) > 0 && a.allows(a.bitsForBytes(n))) {
                continue;
            }
            byte[] key = new byte[Math.max(n, 0)];
            assertThatThrownBy(() -> SessionKey.of(a, key)).as("%s, %d bytes", a.name(), n)
                    .isInstanceOfSatisfying(KeywayException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.POLICY);
                        assertThat(e.oneLine()).contains(a.allowedRange());
                    });
        }
    }

    @Test
    void desFamilyKeysHaveOddParityAndEightSixteenTwentyFourBytes() {
        assertDes(Algorithms.DES, 8);
        assertDes(Algorithms.DES3_112, 16);
        assertDes(Algorithms.DES3, 24);
        assertThat(Algorithms.DES.keyBytes(56)).isEqualTo(8);
        assertThat(Algorithms.DES3_112.keyBytes(112)).isEqualTo(16);
        assertThat(Algorithms.DES3.keyBytes(168)).isEqualTo(24);
    }

    private static void assertDes(Algorithm a, int bytes) {
        for (int i = 0; i < 200; i++) {
            try (SessionKey k = SessionKeys.generate(a)) {
                byte[] b = k.bytes();
                assertThat(b).hasSize(bytes);
                for (byte x : b) {
                    assertThat(Integer.bitCount(x & 0xff) % 2).as("%s byte %02x", a.name(), x & 0xff).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void setOddParityFixesEveryByteValue() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        SessionKeys.setOddParity(all);
        for (int i = 0; i < 256; i++) {
            assertThat(Integer.bitCount(all[i] & 0xff) % 2).isEqualTo(1);
            assertThat(all[i] & 0xfe).as("the 7 key bits are kept").isEqualTo(i & 0xfe);
        }
    }

    /** {@link SessionKey#of} accepts DES keys whatever their parity bits, as DES itself does. */
    @Test
    void desKeyParityIsNotEnforcedOnImport() {
        // DES ignores parity bits and old software often left them wrong; keys of old data must still load.
        byte[] even = Hex.decode("0000000000000000", "key"); // every byte has even parity
        try (SessionKey k = SessionKey.of(Algorithms.DES, even)) {
            assertThat(k.length()).isEqualTo(8);
        }
        byte[] good = Hex.decode("0101010101010101", "key");
        try (SessionKey k = SessionKey.of(Algorithms.DES, good)) {
            assertThat(k.bits()).isEqualTo(56);
        }
    }

    @ParameterizedTest
    @MethodSource("all")
    void toStringNeverShowsTheKey(Algorithm a) {
        try (SessionKey k = SessionKeys.generate(a, a.maxBits())) {
            String hex = Hex.encode(k.bytes());
            String s = k.toString();
            assertThat(s).contains(a.name()).doesNotContainIgnoringCase(hex);
            // not even a fragment of it
            for (int i = 0; i + 8 <= hex.length(); i += 2) {
                assertThat(s.toLowerCase(Locale.ROOT)).doesNotContain(hex.substring(i, i + 8));
            }
        }
    }

    @Test
    void destroyZeroesTheKeyAndMakesItUnusable() throws Exception {
        SessionKey k = SessionKeys.generate(Algorithms.HMAC_SHA384, 1024);
        Field f = SessionKey.class.getDeclaredField("key");
        f.setAccessible(true);
        byte[] inside = (byte[]) f.get(k);
        assertThat(inside).isNotEqualTo(new byte[128]);
        assertThat(k.isDestroyed()).isFalse();
        k.destroy();
        assertThat(k.isDestroyed()).isTrue();
        assertThat(inside).isEqualTo(new byte[128]);
        assertThatThrownBy(k::bytes).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> k.toSecretKeySpec("HmacSHA384")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> k.sameKeyAs(k)).isInstanceOf(IllegalStateException.class);
        assertThat(k.toString()).contains("HMAC-SHA-384");

        SessionKey c = SessionKeys.generate(Algorithms.AES_256_GCM);
        c.close();
        assertThat(c.isDestroyed()).isTrue();
        assertThatThrownBy(c::bytes).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void ofCopiesTheCallersArray() {
        byte[] raw = new byte[32];
        raw[0] = 1;
        try (SessionKey k = SessionKey.of(Algorithms.AES_256_GCM, raw)) {
            raw[0] = 2;
            assertThat(k.bytes()[0]).isEqualTo((byte) 1);
            byte[] out = k.bytes();
            out[1] = 9;
            assertThat(k.bytes()[1]).isZero();
        }
    }

    @ParameterizedTest
    @MethodSource("all")
    void randomKeysDiffer(Algorithm a) {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            try (SessionKey k = SessionKeys.generate(a)) {
                assertThat(seen.add(Hex.encode(k.bytes()))).as("%s key %d repeated", a.name(), i).isTrue();
            }
        }
    }

    @Test
    void sameKeyAsComparesAlgorithmAndBytes() {
        byte[] raw = new byte[32];
        try (SessionKey a = SessionKey.of(Algorithms.AES_256_GCM, raw);
             SessionKey b = SessionKey.of(Algorithms.CHACHA20_POLY1305, raw);
             SessionKey c = SessionKey.of(Algorithms.AES_256_GCM, raw)) {
            assertThat(a.sameKeyAs(c)).isTrue();
            assertThat(a.sameKeyAs(b)).isFalse();
        }
    }
}
