package dev.keyway.core.kdf;

import dev.keyway.core.Vectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Published known answers for {@link Prf12#prf}: the TLS 1.2 PRF vectors posted to the IETF TLS mailing
 * list (SHA-256, 100 bytes; SHA-384, 148 bytes; label "test label") and the TLS 1.0 PRF vector from the
 * ietf-tls list (MD5 XOR SHA-1, 104 bytes, label "PRF Testvector"). The same vectors check the test-side
 * {@link IndependentTlsKdf}, which the cross-checks in {@link Prf12CrossCheckTest} rely on.
 * Vectors: {@code src/test/resources/vectors/tls-prf.txt}.
 */
class Prf12VectorsTest {
    private static final Map<String, Map<String, String>> VECTORS = Vectors.load("/vectors/tls-prf.txt");

    private static Prf12.Hash hashOf(Map<String, String> v) {
        return switch (v.get("hash")) {
            case "SHA-256" -> Prf12.Hash.SHA256;
            case "SHA-384" -> Prf12.Hash.SHA384;
            case "MD5 XOR SHA-1" -> Prf12.Hash.MD5_SHA1;
            default -> throw new IllegalStateException(v.get("hash"));
        };
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLS 1.2 PRF SHA-256", "TLS 1.2 PRF SHA-384", "TLS 1.0 PRF"})
    void prfGivesThePublishedOutput(String section) {
        Map<String, String> v = VECTORS.get(section);
        int length = Integer.parseInt(v.get("length"));
        byte[] out = Prf12.prf(hashOf(v), hex(v, "secret"), v.get("label"), hex(v, "seed"), length);
        assertThat(out).hasSize(length).isEqualTo(hex(v, "output"));
    }

    // P_hash output is a stream: any shorter request is a prefix (RFC 5246 section 5), also across
    // the HMAC block boundaries (32 for SHA-256, 48 for SHA-384, 16/20 for MD5/SHA-1).
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLS 1.2 PRF SHA-256", "TLS 1.2 PRF SHA-384", "TLS 1.0 PRF"})
    void shorterOutputsArePrefixes(String section) {
        Map<String, String> v = VECTORS.get(section);
        byte[] full = hex(v, "output");
        for (int length : new int[] {0, 1, 12, 16, 19, 20, 21, 31, 32, 33, 47, 48, 49, 64, 99, full.length}) {
            if (length <= full.length) {
                assertThat(Prf12.prf(hashOf(v), hex(v, "secret"), v.get("label"), hex(v, "seed"), length))
                        .as("%d bytes", length).isEqualTo(Arrays.copyOf(full, length));
            }
        }
    }

    // The label is part of the PRF's seed: label + seed as one string gives the same answer with an empty label.
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLS 1.2 PRF SHA-256", "TLS 1.2 PRF SHA-384", "TLS 1.0 PRF"})
    void labelIsPrependedToTheSeed(String section) {
        Map<String, String> v = VECTORS.get(section);
        byte[] labelAndSeed = IndependentTlsKdf.concat(v.get("label").getBytes(StandardCharsets.US_ASCII), hex(v, "seed"));
        int length = Integer.parseInt(v.get("length"));
        assertThat(Prf12.prf(hashOf(v), hex(v, "secret"), "", labelAndSeed, length)).isEqualTo(hex(v, "output"));
    }

    // The test-side implementation agrees with the published vectors too, so it can stand in as a reference.
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"TLS 1.2 PRF SHA-256", "TLS 1.2 PRF SHA-384", "TLS 1.0 PRF"})
    void independentImplementationAgreesWithThePublishedOutput(String section) {
        Map<String, String> v = VECTORS.get(section);
        int length = Integer.parseInt(v.get("length"));
        assertThat(IndependentTlsKdf.prf(hashOf(v).name(), hex(v, "secret"), v.get("label"), hex(v, "seed"), length))
                .isEqualTo(hex(v, "output"));
    }

    // The 1.0 vector's secret is 48 bytes, so its halves do not overlap; the 1.2 PRF on the same input
    // must not give the 1.0 answer (and vice versa): the version's PRF is not interchangeable.
    @Test
    void prfsAreNotInterchangeable() {
        Map<String, String> v = VECTORS.get("TLS 1.0 PRF");
        byte[] out = Prf12.prf(Prf12.Hash.SHA256, hex(v, "secret"), v.get("label"), hex(v, "seed"), 104);
        assertThat(out).isNotEqualTo(hex(v, "output"));
        Map<String, String> w = VECTORS.get("TLS 1.2 PRF SHA-256");
        assertThat(Prf12.prf(Prf12.Hash.SHA384, hex(w, "secret"), w.get("label"), hex(w, "seed"), 100))
                .isNotEqualTo(hex(w, "output"));
    }

    @Test
    void outputLengthOutOfRangeIsRefused() {
        Map<String, String> v = VECTORS.get("TLS 1.2 PRF SHA-256");
        assertThatThrownBy(() -> Prf12.prf(Prf12.Hash.SHA256, hex(v, "secret"), "x", hex(v, "seed"), -1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Prf12.prf(Prf12.Hash.SHA256, hex(v, "secret"), "x", hex(v, "seed"), (1 << 16) + 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(Prf12.prf(Prf12.Hash.SHA256, hex(v, "secret"), "x", hex(v, "seed"), 0)).isEmpty();
    }

    private static byte[] hex(Map<String, String> v, String key) {
        String s = v.get(key);
        if (s == null) {
            throw new IllegalStateException("vector has no " + key);
        }
        return HexFormat.of().parseHex(s.replaceAll("\\s+", ""));
    }
}
