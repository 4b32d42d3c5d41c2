package dev.keyway.core.encoding;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Locale;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

class Bech32Test {
    private static final String CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    /** BIP 173's limit; the BIP 350 vectors are written against it. */
    private static final int BIP_LIMIT = 90;

    /**
     * BIP 350, "Test vectors for Bech32m", the valid strings whose 5-bit data is a whole number of bytes
     * (Keyway's decoder returns bytes, so it applies BIP 173's convertbits(pad=False) rule).
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "A1LQFN3A",
            "a1lqfn3a",
            "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
            "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
            "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
            "?1v759aa",
    })
    void bip350ValidStringsRoundTrip(String s) {
        Bech32.Decoded d = Bech32.decode(s, BIP_LIMIT, "test string");
        String lower = s.toLowerCase(Locale.ROOT);
        assertThat(d.hrp()).isEqualTo(lower.substring(0, lower.lastIndexOf('1')));
        assertThat(Bech32.encode(d.hrp(), d.data())).isEqualTo(lower);
    }

    /**
     * BIP 350's valid vector "11lll...ludsr8" has a valid checksum but 82 data characters = 410 bits, so
     * 2 padding bits, both set: as bytes it is invalid (BIP 173, convertbits with pad=False). The decoder
     * must say padding, not checksum.
     */
    @Test
    void bip350ValidStringWithNonByteDataIsRefusedForItsPadding() {
        String s = "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8";
        assertMalformed(() -> Bech32.decode(s, BIP_LIMIT, "test string"), "padding");
    }

    /** BIP 350, the strings that are not valid Bech32m. */
    @ParameterizedTest
    @ValueSource(strings = {
            "\u00201xj0phk",          // HRP character out of range
            "\u007f1g6xzxy",          // HRP character out of range
            "\u00801vctc34",          // HRP character out of range
            "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4", // too long
            "qyrz8wqd2c9m",           // no separator
            "1qyrz8wqd2c9m",          // empty HRP
            "y1b0jsk6g",              // invalid data character
            "lt1igcx5c0",             // invalid data character
            "in1muywd",               // too short checksum
            "mm1crxm3i",              // invalid character in checksum
            "au1s5cgom",              // invalid character in checksum
            "M1VUXWEZ",               // checksum calculated with upper-case HRP
            "16plkw9",                // empty HRP
            "1p2gdwpf",               // empty HRP
            // BIP 350 segwit section: mixed case, and Bech32 checksums where Bech32m is expected
            "tb1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq47Zagq",
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",
            "tb1z0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqglt7rf",
            "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",
            // BIP 173's valid Bech32 (not -m) strings: valid bech32 is never valid bech32m
            "A12UEL5L",
            "a12uel5l",
            "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
            "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
            "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
            "?1ezyfcl",
            "",
            "1",
            "a1",
    })
    void bip350InvalidStringsAreMalformed(String s) {
        assertMalformed(() -> Bech32.decode(s, BIP_LIMIT, "test string"), null);
    }

    @Test
    void namedFailuresSayWhatIsWrong() {
        String good = Bech32.encode("kwtest", new byte[]{1, 2, 3, 4, 5});
        String mixed = good.substring(0, 3).toUpperCase(Locale.ROOT) + good.substring(3);
        assertMalformed(() -> Bech32.decode(mixed, 100, "recipient"), "mixes upper and lower case");
        assertMalformed(() -> Bech32.decode(good.replace("1", ""), 100, "recipient"), "no separator");
        assertMalformed(() -> Bech32.decode("1" + good.substring(good.indexOf('1') + 1), 100, "recipient"), "no separator");
        assertMalformed(() -> Bech32.decode(good.substring(0, good.length() - 1) + "b", 100, "recipient"), "'b'");
        assertMalformed(() -> Bech32.decode(good + "q", 100, "recipient"), "checksum");
        assertMalformed(() -> Bech32.decode(good.substring(0, good.length() - 1), 100, "recipient"), "checksum");
        assertMalformed(() -> Bech32.decode(good + " ", 100, "recipient"), "character");
        assertMalformed(() -> Bech32.decode("kw\u00e9" + good.substring(2), 100, "recipient"), "character");
        // a Bech32 (constant 1) checksum over the same data
        assertMalformed(() -> Bech32.decode("a12uel5l", 100, "recipient"), "checksum");
    }

    @Test
    void upperCaseEncodingDecodesToTheSameBytes() {
        byte[] data = {0, 1, 2, (byte) 0xff, (byte) 0x80};
        String upper = Bech32.encodeUpper("kwtest", data);
        assertThat(upper).isEqualTo(upper.toUpperCase(Locale.ROOT));
        Bech32.Decoded d = Bech32.decode(upper, 200, "x");
        assertThat(d.hrp()).isEqualTo("kwtest");
        assertThat(d.data()).isEqualTo(data);
    }

    @Test
    void randomByteArraysRoundTrip() {
        long seed = 0x6265636833326dL;
        Random rnd = new Random(seed);
        for (int len = 0; len <= 2000; len += (len < 64 ? 1 : 1 + rnd.nextInt(37))) {
            byte[] data = new byte[len];
            rnd.nextBytes(data);
            String hrp = randomHrp(rnd);
            String s = Bech32.encode(hrp, data);
            Bech32.Decoded d = Bech32.decode(s, s.length(), "x");
            assertThat(d.hrp()).as("seed %d, length %d, hrp %s", seed, len, hrp).isEqualTo(hrp);
            assertThat(d.data()).as("seed %d, length %d, hrp %s", seed, len, hrp).isEqualTo(data);
            Bech32.Decoded u = Bech32.decode(s.toUpperCase(Locale.ROOT), s.length(), "x");
            assertThat(u.data()).as("upper case, seed %d, length %d", seed, len).isEqualTo(data);
        }
        // the extremes exactly
        for (int len : new int[]{0, 1, 2, 3, 4, 5, 1999, 2000}) {
            byte[] data = new byte[len];
            rnd.nextBytes(data);
            String s = Bech32.encode("kwx", data);
            assertThat(Bech32.decode(s, s.length(), "x").data()).as("length %d", len).isEqualTo(data);
        }
    }

    /**
     * Every single-character substitution, at every position (prefix, separator, data, checksum), with
     * every character of the alphabet, the separator and an upper-case letter, is refused.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 5, 32, 64, 200})
    void everySingleCharacterChangeIsDetected(int length) {
        long seed = 4242L + length;
        Random rnd = new Random(seed);
        byte[] data = new byte[length];
        rnd.nextBytes(data);
        String good = Bech32.encode(length > 100 ? "kwx25519" : "kwtest", data);
        String alternatives = CHARSET + "1Q";
        for (int i = 0; i < good.length(); i++) {
            for (int j = 0; j < alternatives.length(); j++) {
                char c = alternatives.charAt(j);
                if (c == good.charAt(i)) {
                    continue;
                }
                String bad = good.substring(0, i) + c + good.substring(i + 1);
                try {
                    Bech32.Decoded d = Bech32.decode(bad, 1000, "x");
                    fail("seed %d: changing position %d of %s to '%c' was not detected (decoded to hrp %s, %d bytes)",
                            seed, i, good, c, d.hrp(), d.data().length);
                } catch (KeywayException e) {
                    assertThat(e.code()).as("seed %d, position %d, char %c", seed, i, c).isEqualTo(ErrorCode.MALFORMED);
                    assertOneLine(e);
                }
            }
        }
    }

    @Test
    void deletionsAndInsertionsAreDetected() {
        String good = Bech32.encode("kwtest", new byte[]{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0});
        for (int i = good.indexOf('1') + 1; i < good.length(); i++) {
            String deleted = good.substring(0, i) + good.substring(i + 1);
            assertMalformed(() -> Bech32.decode(deleted, 1000, "x"), null);
            for (char c : new char[]{'q', 'p', 'l'}) {
                String inserted = good.substring(0, i) + c + good.substring(i);
                assertMalformed(() -> Bech32.decode(inserted, 1000, "x"), null);
            }
        }
    }

    @Test
    void lengthBoundIsHonoured() {
        String s = Bech32.encode("kwtest", new byte[100]);
        assertThat(Bech32.decode(s, s.length(), "x").data()).hasSize(100);
        assertMalformed(() -> Bech32.decode(s, s.length() - 1, "recipient"), "too long");
        // checked before any other work: a huge invalid string is refused for its length, not its content
        String huge = "\u0000".repeat(5_000_000);
        assertMalformed(() -> Bech32.decode(huge, 4096, "recipient"), "too long");
    }

    private static String randomHrp(Random rnd) {
        int n = 1 + rnd.nextInt(12);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            char c;
            do {
                c = (char) (33 + rnd.nextInt(94));
            } while (Character.isUpperCase(c));
            sb.append(c);
        }
        return sb.toString();
    }

    static void assertMalformed(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String messagePart) {
        assertThatThrownBy(call)
                .isInstanceOfSatisfying(KeywayException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED);
                    assertOneLine(e);
                    if (messagePart != null) {
                        assertThat(e.getMessage()).contains(messagePart);
                    }
                });
    }

    static void assertOneLine(KeywayException e) {
        assertThat(e.getMessage()).isNotBlank().doesNotContain("\n").doesNotContain("\r");
        assertThat(e.oneLine()).doesNotContain("\n");
    }
}
