package dev.keyway.core.kdf;

import dev.keyway.core.Vectors;
import org.bouncycastle.math.ec.rfc7748.X25519;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The RFC 8448 vector files and the helpers {@link Rfc8448Section3Test} and {@link Rfc8448Section4Test} share. */
final class Rfc8448Vectors {
    static final Map<String, Map<String, String>> S3 = Vectors.load("/vectors/rfc8448/section3-simple-1rtt.txt");
    static final Map<String, Map<String, String>> S4 = Vectors.load("/vectors/rfc8448/section4-resumed-0rtt.txt");
    /** Both traces use TLS_AES_128_GCM_SHA256. */
    static final KeySchedule13 KS = KeySchedule13.of(CipherSuites.parse("TLS_AES_128_GCM_SHA256"));
    static final byte[] EMPTY = new byte[0];

    private Rfc8448Vectors() {
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /** The RFC's "info" line is the HkdfLabel (RFC 8446 section 7.1) our expandLabel must have used. */
    static void assertInfoIsTheHkdfLabel(Map<String, String> v, String label, byte[] context, int length) {
        assertInfoIsTheHkdfLabel(v.get("info"), label, context, length);
    }

    static void assertInfoIsTheHkdfLabel(String infoHex, String label, byte[] context, int length) {
        byte[] info = parse(infoHex);
        assertThat(IndependentTlsKdf.hkdfLabel(label, context, length)).as("HkdfLabel for %s", label).isEqualTo(info);
        byte[] prk = new byte[32];
        Arrays.fill(prk, (byte) 0x5a);
        assertThat(KS.expandLabel(prk, label, context, length)).isEqualTo(Hkdf.expand(Hkdf.Hash.SHA256, prk, info, length));
    }

    static byte[] x25519BasePoint() {
        byte[] u = new byte[32];
        u[0] = 9;
        return u;
    }

    static byte[] x25519(byte[] scalar, byte[] u) {
        byte[] out = new byte[32];
        assertThat(X25519.calculateAgreement(scalar, 0, u, 0, out, 0)).isTrue();
        return out;
    }

    static byte[] hex(Map<String, Map<String, String>> file, String section, String key) {
        Map<String, String> v = file.get(section);
        if (v == null) {
            throw new IllegalStateException("vector file has no section [" + section + "]");
        }
        return hex(v, key);
    }

    static byte[] hex(Map<String, String> v, String key) {
        String s = v.get(key);
        if (s == null) {
            throw new IllegalStateException("vector has no " + key);
        }
        return parse(s);
    }

    static byte[] parse(String s) {
        return HexFormat.of().parseHex(s.replaceAll("\\s+", ""));
    }
}
