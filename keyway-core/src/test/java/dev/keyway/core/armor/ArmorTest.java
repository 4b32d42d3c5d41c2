package dev.keyway.core.armor;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Base64;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ArmorTest {
    private static final String LABEL = "TEST DATA";
    private static final String BEGIN = "-----BEGIN KEYWAY TEST DATA-----";
    private static final String END = "-----END KEYWAY TEST DATA-----";

    @Test
    void randomRoundTrips() {
        long seed = 0x41524d4fL;
        Random rnd = new Random(seed);
        for (int len = 0; len <= 600; len += 1 + (len > 100 ? rnd.nextInt(13) : 0)) {
            byte[] data = new byte[len];
            rnd.nextBytes(data);
            String text = Armor.encode(LABEL, data);
            assertThat(Armor.isArmored(text, LABEL)).isTrue();
            assertThat(Armor.decode(text, LABEL, len)).as("seed %d, length %d", seed, len).isEqualTo(data);
            assertThat(Armor.decode(text, LABEL, 10_000)).as("seed %d, length %d", seed, len).isEqualTo(data);
        }
    }

    @Test
    void layoutIsSixtyFourCharacterLines() {
        byte[] data = new byte[200];
        new Random(1).nextBytes(data);
        String text = Armor.encode(LABEL, data);
        String[] lines = text.split("\n", -1);
        assertThat(lines[0]).isEqualTo(BEGIN);
        assertThat(lines[lines.length - 2]).isEqualTo(END);
        assertThat(lines[lines.length - 1]).isEmpty();
        for (int i = 1; i < lines.length - 3; i++) {
            assertThat(lines[i]).hasSize(64);
        }
        assertThat(lines[lines.length - 3].length()).isBetween(1, 64);
        // a multiple of 48 bytes fills the last line exactly
        String exact = Armor.encode(LABEL, new byte[96]);
        assertThat(exact.split("\n")).hasSize(4);
        assertThat(Armor.decode(exact, LABEL, 96)).hasSize(96);
    }

    @Test
    void crlfAndSurroundingBlankLinesAreAccepted() {
        byte[] data = new byte[150];
        new Random(2).nextBytes(data);
        String text = Armor.encode(LABEL, data);
        assertThat(Armor.decode(text.replace("\n", "\r\n"), LABEL, 1000)).isEqualTo(data);
        assertThat(Armor.decode("\n\n" + text + "\n\n", LABEL, 1000)).isEqualTo(data);
        assertThat(Armor.decode("\r\n" + text.replace("\n", "\r\n") + "\r\n", LABEL, 1000)).isEqualTo(data);
        assertThat(Armor.decode(text.substring(0, text.length() - 1), LABEL, 1000)).as("no final newline").isEqualTo(data);
    }

    @Test
    void wrongLabelIsRefused() {
        String text = Armor.encode("OTHER THING", new byte[10]);
        assertThat(Armor.isArmored(text, LABEL)).isFalse();
        assertMalformed(() -> Armor.decode(text, LABEL, 1000), "does not start with");
        // right BEGIN, wrong END
        String mixed = Armor.encode(LABEL, new byte[10]).replace(END, "-----END KEYWAY OTHER THING-----");
        assertMalformed(() -> Armor.decode(mixed, LABEL, 1000), "does not end with");
        // label case matters
        String lower = Armor.encode(LABEL, new byte[10]).replace("TEST DATA", "test data");
        assertMalformed(() -> Armor.decode(lower, LABEL, 1000), null);
    }

    @Test
    void truncatedInputIsRefused() {
        byte[] data = new byte[300];
        new Random(3).nextBytes(data);
        String text = Armor.encode(LABEL, data);
        // every truncation point: never accepted, always MALFORMED
        for (int cut = 0; cut < text.length() - 1; cut++) {
            String t = text.substring(0, cut);
            int c = cut;
            assertThatThrownBy(() -> Armor.decode(t, LABEL, 1000)).as("cut at %d", c)
                    .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED));
        }
        String noEnd = text.substring(0, text.indexOf(END));
        assertMalformed(() -> Armor.decode(noEnd, LABEL, 1000), "does not end with");
    }

    @Test
    void shortMiddleLineIsRefused() {
        byte[] data = new byte[200];
        new Random(4).nextBytes(data);
        String[] lines = Armor.encode(LABEL, data).split("\n");
        // move the last character of line 1 to the start of line 2: same base64, but a 63-character line
        String l1 = lines[1];
        lines[1] = l1.substring(0, 63);
        lines[2] = l1.charAt(63) + lines[2];
        String moved = String.join("\n", lines) + "\n";
        assertMalformed(() -> Armor.decode(moved, LABEL, 1000), "line 2");
        // a 65-character line
        String[] again = Armor.encode(LABEL, data).split("\n");
        again[1] = again[1] + again[2].charAt(0);
        again[2] = again[2].substring(1);
        assertMalformed(() -> Armor.decode(String.join("\n", again), LABEL, 1000), "line 2");
        // a blank line inside the body
        String[] parts = Armor.encode(LABEL, data).split("\n");
        parts[1] = parts[1] + "\n";
        String blank = String.join("\n", parts) + "\n";
        assertMalformed(() -> Armor.decode(blank, LABEL, 1000), "malformed line");
        // all on one line
        String oneLine = BEGIN + "\n" + Base64.getEncoder().encodeToString(data) + "\n" + END + "\n";
        assertMalformed(() -> Armor.decode(oneLine, LABEL, 1000), "malformed line");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "AB==",     // one byte, trailing bits set (canonical: AA==)
            "AAB=",     // two bytes, trailing bits set (canonical: AAA=)
            "AA",       // padding missing
            "AAA",      // padding missing
            "AA=",      // padding short
            "AAAA====", // padding where none belongs
            "AA==AAAA", // padding in the middle
            "AAA*",     // not base64
            "AA-_",     // URL-safe alphabet
            "AA A",     // space inside a line
    })
    void nonCanonicalBase64IsRefused(String body) {
        String text = BEGIN + "\n" + body + "\n" + END + "\n";
        assertMalformed(() -> Armor.decode(text, LABEL, 1000), "base64");
    }

    @Test
    void junkAroundTheArmorIsRefused() {
        String text = Armor.encode(LABEL, new byte[40]);
        assertMalformed(() -> Armor.decode(text + "junk\n", LABEL, 1000), null);
        assertMalformed(() -> Armor.decode(text + text, LABEL, 1000), null);
        assertMalformed(() -> Armor.decode(text + "\n\n# comment\n", LABEL, 1000), null);
        assertMalformed(() -> Armor.decode("junk\n" + text, LABEL, 1000), null);
        assertMalformed(() -> Armor.decode(text.replace(END, END + "x"), LABEL, 1000), null);
        assertMalformed(() -> Armor.decode(text.replace(BEGIN, "x" + BEGIN), LABEL, 1000), null);
        assertMalformed(() -> Armor.decode("", LABEL, 1000), null);
        assertMalformed(() -> Armor.decode(BEGIN, LABEL, 1000), null);
    }

    @Test
    void oversizeIsRefusedBeforeDecoding() {
        // 10 MB of text that is not even armor: refused for its size, before anything looks at it
        String huge = "x".repeat(10_000_000);
        assertMalformed(() -> Armor.decode(huge, LABEL, 4096), "too large");
        String bigArmor = Armor.encode(LABEL, new byte[100_000]);
        assertMalformed(() -> Armor.decode(bigArmor, LABEL, 4096), "too large");
        // within the character slack but one byte over the decoded bound
        String oneOver = Armor.encode(LABEL, new byte[4097]);
        assertMalformed(() -> Armor.decode(oneOver, LABEL, 4096), "too large");
        assertThat(Armor.decode(Armor.encode(LABEL, new byte[4096]), LABEL, 4096)).hasSize(4096);
        assertThat(Armor.decode(Armor.encode(LABEL, new byte[4096]).replace("\n", "\r\n"), LABEL, 4096)).hasSize(4096);
    }

    @Test
    void randomGarbageBetweenTheLinesIsMalformed() {
        long seed = 99L;
        Random rnd = new Random(seed);
        for (int i = 0; i < 2000; i++) {
            StringBuilder sb = new StringBuilder(BEGIN).append('\n');
            int lines = 1 + rnd.nextInt(4);
            for (int l = 0; l < lines; l++) {
                int n = rnd.nextBoolean() ? 64 : 1 + rnd.nextInt(70);
                for (int k = 0; k < n; k++) {
                    sb.append((char) (32 + rnd.nextInt(95)));
                }
                sb.append('\n');
            }
            sb.append(END).append('\n');
            String text = sb.toString();
            try {
                Armor.decode(text, LABEL, 1000);
            } catch (KeywayException e) {
                assertThat(e.code()).as("seed %d, case %d", seed, i).isEqualTo(ErrorCode.MALFORMED);
                assertThat(e.getMessage()).doesNotContain("\n");
            }
        }
    }

    private static void assertMalformed(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String messagePart) {
        assertThatThrownBy(call).isInstanceOfSatisfying(KeywayException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED);
            assertThat(e.getMessage()).doesNotContain("\n");
            if (messagePart != null) {
                assertThat(e.getMessage()).contains(messagePart);
            }
        });
    }
}
