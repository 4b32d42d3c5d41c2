package dev.keyway.core.encoding;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class PrintableTest {
    @Test
    void plainTextIsUnchanged() {
        assertThat(Printable.escape("text/plain; charset=utf-8")).isEqualTo("text/plain; charset=utf-8");
        assertThat(Printable.escape("José Müller 日本 👍")).isEqualTo("José Müller 日本 👍");
        assertThat(Printable.escape((String) null)).isNull();
    }

    @Test
    void controlsAreShownLiterally() {
        // The forged-output attack: a content type that ends the line and fakes Keyway's next lines.
        String forged = "text/plain\u001b[2K\r\nsigned:       true\nsender:       kwx255191fake";
        String shown = Printable.escape(forged);
        assertThat(shown).doesNotContain("\n", "\r", "\u001b")
                .isEqualTo("text/plain\\x1b[2K\\r\\nsigned:       true\\nsender:       kwx255191fake");
        assertThat(Printable.escape("a\u0000b\tc\u007fd\u0085e")).isEqualTo("a\\x00b\\tc\\x7fd\\x85e");
        assertThat(Printable.escape("C:\\x1b")).isEqualTo("C:\\\\x1b");
    }

    @Test
    void layoutCharactersAndLoneSurrogatesAreEscaped() {
        assertThat(Printable.escape("abc\u202Edef")).isEqualTo("abc\\u{202E}def");      // right-to-left override
        assertThat(Printable.escape("a\u2028b\u2029c")).isEqualTo("a\\u{2028}b\\u{2029}c");
        assertThat(Printable.escape("zero\u200Bwidth\uFEFF")).isEqualTo("zero\\u{200B}width\\u{FEFF}");
        assertThat(Printable.escape("lone\uD800x")).isEqualTo("lone\\u{D800}x");
        assertThat(Printable.escape("tag\uDB40\uDC01")).isEqualTo("tag\\u{E0001}");     // a format character outside the BMP
    }

    @Test
    void invalidUtf8BytesBecomeReplacementCharacters() {
        assertThat(Printable.escape(new byte[] {'a', (byte) 0xff, 0, 'b'})).isEqualTo("a\uFFFD\\x00b");
    }

    @Test
    void isPrintableIgnoresBackslashesOnly() {
        assertThat(Printable.isPrintable("text/plain; charset=utf-8")).isTrue();
        assertThat(Printable.isPrintable("José 日本 👍")).isTrue();
        assertThat(Printable.isPrintable("already escaped: a\\x1bb, C:\\dir")).isTrue();
        assertThat(Printable.isPrintable((String) null)).isTrue();
        assertThat(Printable.isPrintable("a\\nb")).isTrue();             // backslash and n: escaped already
        assertThat(Printable.isPrintable("a\nb")).isFalse();              // a real line break
        assertThat(Printable.isPrintable("text/plain\u001b[2K")).isFalse();
        assertThat(Printable.isPrintable("tab\there")).isFalse();
        assertThat(Printable.isPrintable("nel\u0085")).isFalse();
        assertThat(Printable.isPrintable("abc\u202Edef")).isFalse();
        assertThat(Printable.isPrintable("lone\uD800x")).isFalse();
        assertThat(Printable.isPrintable("tag\uDB40\uDC01")).isFalse();
    }

    /** Property: isPrintable says exactly whether escape changes anything but backslashes. */
    @Test
    void isPrintableAgreesWithEscape() {
        long seed = new Random().nextLong();
        System.out.println("PrintableTest isPrintable seed " + seed);
        Random r = new Random(seed);
        for (int n = 0; n < 20_000; n++) {
            StringBuilder sb = new StringBuilder();
            int len = r.nextInt(6);
            for (int i = 0; i < len; i++) {
                int kind = r.nextInt(4);
                sb.append(kind == 0 ? '\\' : (char) (kind == 1 ? 0x20 + r.nextInt(0x5f) : kind == 2 ? r.nextInt(0x100) : r.nextInt(0x10000)));
            }
            String s = sb.toString();
            assertThat(Printable.isPrintable(s)).as("seed %d, input %s", seed, s)
                    .isEqualTo(Printable.escape(s).equals(s.replace("\\", "\\\\")));
        }
    }

    /** Property: whatever the input, the output holds no control, format or separator character and no lone surrogate. */
    @Test
    void randomStringsNeverKeepAnUnsafeCharacter() {
        long seed = new Random().nextLong();
        System.out.println("PrintableTest seed " + seed);
        Random r = new Random(seed);
        for (int n = 0; n < 20_000; n++) {
            StringBuilder sb = new StringBuilder();
            int len = r.nextInt(12);
            for (int i = 0; i < len; i++) {
                sb.append((char) (r.nextBoolean() ? r.nextInt(0x100) : r.nextInt(0x10000)));
            }
            String out = Printable.escape(sb.toString());
            for (int i = 0; i < out.length(); ) {
                int cp = out.codePointAt(i);
                int type = Character.getType(cp);
                assertThat(cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xD800 && cp <= 0xDFFF)
                        || type == Character.FORMAT || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR)
                        .as("seed %d, input %s", seed, sb).isFalse();
                i += Character.charCount(cp);
            }
        }
    }
}
