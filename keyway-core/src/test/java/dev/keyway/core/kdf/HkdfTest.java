package dev.keyway.core.kdf;

import dev.keyway.core.Vectors;
import dev.keyway.core.kdf.Hkdf.Hash;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Known-answer tests for {@link Hkdf} from RFC 5869, Appendix A (Test Cases 1 to 3, the SHA-256 ones).
 * Vectors: {@code src/test/resources/vectors/rfc5869-hkdf-sha256.txt}.
 */
class HkdfTest {
    private static final Map<String, Map<String, String>> VECTORS = Vectors.load("/vectors/rfc5869-hkdf-sha256.txt");

    // RFC 5869 section 2.2 (HKDF-Extract), checked against the PRK of Appendix A.1, A.2, A.3.
    @ParameterizedTest(name = "RFC 5869 {0}")
    @ValueSource(strings = {"A.1", "A.2", "A.3"})
    void extractGivesThePrkOfAppendixA(String section) {
        Map<String, String> v = VECTORS.get(section);
        assertThat(v.get("Hash")).isEqualTo("SHA-256");
        byte[] prk = Hkdf.extract(Hash.SHA256, hex(v, "salt"), hex(v, "IKM"));
        assertThat(prk).hasSize(32).isEqualTo(hex(v, "PRK"));
    }

    // RFC 5869 section 2.3 (HKDF-Expand), checked against the OKM of Appendix A.1, A.2, A.3.
    @ParameterizedTest(name = "RFC 5869 {0}")
    @ValueSource(strings = {"A.1", "A.2", "A.3"})
    void expandGivesTheOkmOfAppendixA(String section) {
        Map<String, String> v = VECTORS.get(section);
        int length = Integer.parseInt(v.get("L"));
        byte[] okm = Hkdf.expand(Hash.SHA256, hex(v, "PRK"), hex(v, "info"), length);
        assertThat(okm).hasSize(length).isEqualTo(hex(v, "OKM"));
    }

    // RFC 5869 section 2 (extract then expand) end to end, Appendix A.1, A.2, A.3.
    @ParameterizedTest(name = "RFC 5869 {0}")
    @ValueSource(strings = {"A.1", "A.2", "A.3"})
    void deriveGivesTheOkmOfAppendixA(String section) {
        Map<String, String> v = VECTORS.get(section);
        int length = Integer.parseInt(v.get("L"));
        byte[] okm = Hkdf.derive(Hash.SHA256, hex(v, "salt"), hex(v, "IKM"), hex(v, "info"), length);
        assertThat(okm).hasSize(length).isEqualTo(hex(v, "OKM"));
    }

    // RFC 5869 section 2.2: "if not provided, [salt] is set to a string of HashLen zeros"; Appendix A.3
    // has a zero-length salt, so null, empty and 32 zero bytes must all give its PRK and OKM.
    @Test
    void missingSaltMeansHashLenZerosAsInTestCase3() {
        Map<String, String> v = VECTORS.get("A.3");
        byte[] ikm = hex(v, "IKM");
        byte[] prk = hex(v, "PRK");
        byte[] okm = hex(v, "OKM");
        assertThat(hex(v, "salt")).isEmpty();
        assertThat(Hkdf.extract(Hash.SHA256, null, ikm)).isEqualTo(prk);
        assertThat(Hkdf.extract(Hash.SHA256, new byte[0], ikm)).isEqualTo(prk);
        assertThat(Hkdf.extract(Hash.SHA256, new byte[32], ikm)).isEqualTo(prk);
        assertThat(Hkdf.derive(Hash.SHA256, null, ikm, null, 42)).isEqualTo(okm);
        assertThat(Hkdf.derive(Hash.SHA256, new byte[32], ikm, new byte[0], 42)).isEqualTo(okm);
    }

    // RFC 5869 section 2.3: T(1) | T(2) | ... so a shorter output is a prefix of a longer one (Appendix A.2).
    @Test
    void shorterOutputIsAPrefixOfTheLongerOne() {
        Map<String, String> v = VECTORS.get("A.2");
        byte[] okm = hex(v, "OKM");
        for (int length : new int[]{0, 1, 31, 32, 33, 64, 65, 81}) {
            assertThat(Hkdf.expand(Hash.SHA256, hex(v, "PRK"), hex(v, "info"), length))
                    .as("L = %d", length).isEqualTo(Arrays.copyOf(okm, length));
        }
    }

    // RFC 5869 section 2.3: "L length of output keying material in octets (<= 255*HashLen)".
    @Test
    void outputLongerThan255HashLenIsRefused() {
        byte[] prk = hex(VECTORS.get("A.1"), "PRK");
        byte[] ikm = hex(VECTORS.get("A.1"), "IKM");
        int max = 255 * Hash.SHA256.length();
        assertThat(max).isEqualTo(8160);
        assertThat(Hkdf.expand(Hash.SHA256, prk, null, max)).hasSize(max);
        assertThat(Hkdf.derive(Hash.SHA256, null, ikm, null, max)).hasSize(max);
        assertThatThrownBy(() -> Hkdf.expand(Hash.SHA256, prk, null, max + 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Hkdf.derive(Hash.SHA256, null, ikm, null, max + 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Hkdf.expand(Hash.SHA256, prk, null, Integer.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Hkdf.expand(Hash.SHA256, prk, null, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Hkdf.derive(Hash.SHA256, null, ikm, null, -1)).isInstanceOf(IllegalArgumentException.class);
        // The limit scales with HashLen.
        assertThat(Hkdf.derive(Hash.SHA512, null, ikm, null, 255 * 64)).hasSize(255 * 64);
        assertThatThrownBy(() -> Hkdf.derive(Hash.SHA512, null, ikm, null, 255 * 64 + 1)).isInstanceOf(IllegalArgumentException.class);
    }

    // RFC 5869 section 2.3: "PRK a pseudorandom key of at least HashLen octets".
    @Test
    void prkShorterThanHashLenIsRefused() {
        byte[] prk = hex(VECTORS.get("A.1"), "PRK");
        assertThatThrownBy(() -> Hkdf.expand(Hash.SHA256, Arrays.copyOf(prk, 31), null, 32))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static byte[] hex(Map<String, String> v, String key) {
        String s = v.get(key);
        if (s == null) {
            throw new IllegalStateException("vector has no " + key);
        }
        return HexFormat.of().parseHex(s.replaceAll("\\s+", ""));
    }

}
