package dev.keyway.core.encoding;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HexFormat;
import java.util.Locale;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HexTest {

    @Test
    void knownValues() {
        assertThat(Hex.encode(new byte[0])).isEmpty();
        assertThat(Hex.encode(new byte[]{0, 1, 0x7f, (byte) 0x80, (byte) 0xff, (byte) 0xab})).isEqualTo("00017f80ffab");
        assertThat(Hex.decode("", "x")).isEmpty();
        assertThat(Hex.decode("00017f80ffab", "x")).containsExactly(0, 1, 0x7f, 0x80, 0xff, 0xab);
        assertThat(Hex.decode("00017F80FFAB", "x")).containsExactly(0, 1, 0x7f, 0x80, 0xff, 0xab);
        assertThat(Hex.decode("aBcD", "x")).containsExactly(0xab, 0xcd);
    }

    @Test
    void randomRoundTrips() {
        long seed = 0x686578L;
        Random rnd = new Random(seed);
        HexFormat jdk = HexFormat.of();
        for (int i = 0; i < 500; i++) {
            byte[] data = new byte[rnd.nextInt(300)];
            rnd.nextBytes(data);
            String hex = Hex.encode(data);
            assertThat(hex).as("seed %d, case %d", seed, i).isEqualTo(jdk.formatHex(data));
            assertThat(Hex.decode(hex, "x")).as("seed %d, case %d", seed, i).isEqualTo(data);
            assertThat(Hex.decode(hex.toUpperCase(Locale.ROOT), "x")).as("seed %d, case %d", seed, i).isEqualTo(data);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "abc", "0g", "g0", "zz", " 00", "00 ", "0x00", "+1", "-1", "0\n", "\u00e90"})
    void asciiGarbageIsMalformed(String s) {
        assertMalformed(s);
    }

    /**
     * "Hex digits only" means 0-9, a-f, A-F. {@link Character#digit(char, int)} also accepts other Unicode
     * digits and the full-width Latin letters, which must be refused as well.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "\u0661\u0662",        // ARABIC-INDIC DIGIT ONE, TWO
            "\u0966\u0967",        // DEVANAGARI DIGIT ZERO, ONE
            "\uff10\uff11",        // FULLWIDTH DIGIT ZERO, ONE
            "\uff41\uff42",        // FULLWIDTH LATIN SMALL LETTER A, B
            "\uff21\uff26",        // FULLWIDTH LATIN CAPITAL LETTER A, F
            "0\u0661",
    })
    void nonAsciiDigitsAreMalformed(String s) {
        assertMalformed(s);
    }

    @Test
    void errorNamesThePositionAndNeverEchoesTheInput() {
        String secretish = "00112233445566778899aabbccddeeff0g";
        assertThatThrownBy(() -> Hex.decode(secretish, "--key"))
                .isInstanceOfSatisfying(KeywayException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED);
                    assertThat(e.getMessage()).contains("--key").contains("position 34").doesNotContain("00112233");
                });
    }

    @Test
    void everySingleCharacterIsCheckedInRandomInput() {
        long seed = 77L;
        Random rnd = new Random(seed);
        for (int i = 0; i < 2000; i++) {
            char[] cs = new char[2 * (1 + rnd.nextInt(8))];
            boolean valid = true;
            for (int j = 0; j < cs.length; j++) {
                cs[j] = (char) rnd.nextInt(128);
                valid &= Character.digit(cs[j], 16) >= 0;
            }
            String s = new String(cs);
            if (valid) {
                assertThat(Hex.decode(s, "x")).hasSize(cs.length / 2);
            } else {
                try {
                    Hex.decode(s, "x");
                    throw new AssertionError("seed " + seed + ": accepted " + s);
                } catch (KeywayException e) {
                    assertThat(e.code()).as("seed %d", seed).isEqualTo(ErrorCode.MALFORMED);
                }
            }
        }
    }

    private static void assertMalformed(String s) {
        assertThatThrownBy(() -> Hex.decode(s, "value"))
                .as("input %s", s)
                .isInstanceOfSatisfying(KeywayException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED);
                    assertThat(e.getMessage()).doesNotContain("\n");
                });
    }
}
