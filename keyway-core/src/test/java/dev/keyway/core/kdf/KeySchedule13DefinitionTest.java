package dev.keyway.core.kdf;

import dev.keyway.core.Vectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The parts of the TLS 1.3 key schedule that have no published vector, tested by their definition
 * against {@link IndependentTlsKdf} (HKDF written from RFC 5869 on {@code javax.crypto.Mac}):
 * KeyUpdate (RFC 8446 section 7.2, "traffic upd") and the exporter (RFC 8446 section 7.5).
 * OpenSSL's exporter is compared in {@link OpenSslTls13InteropTest}.
 */
class KeySchedule13DefinitionTest {
    /** RFC 8448 section 3 client application traffic secret, as a realistic starting point. */
    private static final byte[] RFC8448_C_AP_TRAFFIC = HexFormat.of().parseHex(
            "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5");
    /** RFC 8448 section 3 exporter master secret. */
    private static final byte[] RFC8448_EXP_MASTER = HexFormat.of().parseHex(
            "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50");
    private static final Random RANDOM = new Random(0x7e57_8446L);

    static String hmacOf(Hkdf.Hash hash) {
        return "Hmac" + hash.name();
    }

    private static byte[] random(int length) {
        byte[] b = new byte[length];
        RANDOM.nextBytes(b);
        return b;
    }

    // ---- KeyUpdate: RFC 8446 section 7.2 -----------------------------------------------------------

    // application_traffic_secret_N+1 = HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length)
    @ParameterizedTest(name = "{0}")
    @EnumSource(Hkdf.Hash.class)
    void nextTrafficSecretIsExpandLabelTrafficUpd(Hkdf.Hash hash) {
        KeySchedule13 ks = KeySchedule13.of(hash);
        for (int i = 0; i < 8; i++) {
            byte[] secret = random(hash.length());
            byte[] next = ks.nextApplicationTrafficSecret(secret);
            assertThat(next).hasSize(hash.length())
                    .isEqualTo(ks.expandLabel(secret, "traffic upd", new byte[0], hash.length()))
                    .isEqualTo(IndependentTlsKdf.expandLabel(hmacOf(hash), secret, "traffic upd", new byte[0], hash.length()))
                    .isNotEqualTo(secret);
        }
    }

    // The HkdfLabel behind it, spelled out byte by byte from RFC 8446 section 7.1: uint16 length = Hash.length,
    // opaque label<7..255> = "tls13 traffic upd" (17 octets), opaque context<0..255> = empty.
    @ParameterizedTest(name = "{0}")
    @EnumSource(Hkdf.Hash.class)
    void trafficUpdInfoBytes(Hkdf.Hash hash) {
        ByteArrayOutputStream info = new ByteArrayOutputStream();
        info.write(0);
        info.write(hash.length());
        info.write(17);
        info.writeBytes("tls13 traffic upd".getBytes(StandardCharsets.US_ASCII));
        info.write(0);
        byte[] secret = random(hash.length());
        assertThat(KeySchedule13.of(hash).nextApplicationTrafficSecret(secret))
                .isEqualTo(IndependentTlsKdf.hkdfExpand(hmacOf(hash), secret, info.toByteArray(), hash.length()))
                .isEqualTo(Hkdf.expand(hash, secret, info.toByteArray(), hash.length()));
    }

    // A chain of updates from a real secret (RFC 8448's c ap traffic): each generation matches the
    // independent chain, no generation repeats, and the traffic keys change with every update.
    @Test
    void chainOfUpdatesFromTheRfc8448ClientApplicationSecret() {
        KeySchedule13 ks = KeySchedule13.of(Hkdf.Hash.SHA256);
        byte[] ours = RFC8448_C_AP_TRAFFIC;
        byte[] theirs = RFC8448_C_AP_TRAFFIC;
        List<String> seen = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        for (int n = 0; n < 16; n++) {
            assertThat(ours).as("generation %d", n).isEqualTo(theirs);
            seen.add(HexFormat.of().formatHex(ours));
            TrafficKeys tk = ks.trafficKeys(ours, 16);
            assertThat(tk.key()).isEqualTo(IndependentTlsKdf.expandLabel("HmacSHA256", ours, "key", new byte[0], 16));
            assertThat(tk.iv()).isEqualTo(IndependentTlsKdf.expandLabel("HmacSHA256", ours, "iv", new byte[0], 12));
            keys.add(HexFormat.of().formatHex(tk.key()));
            ours = ks.nextApplicationTrafficSecret(ours);
            theirs = IndependentTlsKdf.expandLabel("HmacSHA256", theirs, "traffic upd", new byte[0], 32);
        }
        assertThat(seen).doesNotHaveDuplicates();
        assertThat(keys).doesNotHaveDuplicates();
    }

    // A SHA-384 suite (TLS_AES_256_GCM_SHA384) updates with SHA-384 and keeps 48-byte secrets, 32-byte keys.
    @Test
    void sha384SuiteUpdatesWithSha384() {
        KeySchedule13 ks = KeySchedule13.of(CipherSuites.parse("TLS_AES_256_GCM_SHA384"));
        assertThat(ks.hash()).isEqualTo(Hkdf.Hash.SHA384);
        byte[] secret = random(48);
        byte[] next = ks.nextApplicationTrafficSecret(secret);
        assertThat(next).hasSize(48)
                .isEqualTo(IndependentTlsKdf.expandLabel("HmacSHA384", secret, "traffic upd", new byte[0], 48));
        assertThat(ks.trafficKeys(next, 32).key()).hasSize(32);
    }

    // ---- Exporter: RFC 8446 section 7.5 -----------------------------------------------------------

    static Stream<Arguments> exporterCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Hkdf.Hash hash : Hkdf.Hash.values()) {
            for (String label : new String[] {"EXPORTER-Channel-Binding", "EXPERIMENTAL keyway", "a",
                    "x".repeat(249)}) {
                for (int length : new int[] {1, 16, 32, 48, 100, 1000}) {
                    cases.add(Arguments.of(hash, label, length));
                }
            }
        }
        return cases.stream();
    }

    // TLS-Exporter(label, context_value, key_length) =
    //   HKDF-Expand-Label(Derive-Secret(Secret, label, ""), "exporter", Hash(context_value), key_length)
    @ParameterizedTest(name = "{0} label length {1} -> {2} bytes")
    @MethodSource("exporterCases")
    void exporterMatchesTheDefinition(Hkdf.Hash hash, String label, int length) {
        KeySchedule13 ks = KeySchedule13.of(hash);
        byte[] ems = random(hash.length());
        byte[] context = random(length % 40);
        assertThat(ks.exporter(ems, label, context, length)).hasSize(length)
                .isEqualTo(IndependentTlsKdf.exporter(hmacOf(hash), ems, label, context, length));
    }

    // RFC 8446 section 7.5: "the value computed without a context is the same as with an empty context".
    @ParameterizedTest(name = "{0}")
    @EnumSource(Hkdf.Hash.class)
    void noContextIsTheEmptyContext(Hkdf.Hash hash) {
        KeySchedule13 ks = KeySchedule13.of(hash);
        byte[] ems = random(hash.length());
        byte[] withNull = ks.exporter(ems, "EXPERIMENTAL keyway", null, 32);
        assertThat(withNull).isEqualTo(ks.exporter(ems, "EXPERIMENTAL keyway", new byte[0], 32))
                .isEqualTo(IndependentTlsKdf.exporter(hmacOf(hash), ems, "EXPERIMENTAL keyway", new byte[0], 32))
                .isNotEqualTo(ks.exporter(ems, "EXPERIMENTAL keyway", new byte[1], 32));
    }

    // The exporter from RFC 8448's exporter master secret, step by step as section 7.5 writes it.
    @Test
    void exporterFromTheRfc8448ExporterMasterSecretStepByStep() {
        KeySchedule13 ks = KeySchedule13.of(Hkdf.Hash.SHA256);
        byte[] context = "context value".getBytes(StandardCharsets.US_ASCII);
        byte[] derived = ks.deriveSecret(RFC8448_EXP_MASTER, "EXPORTER-Channel-Binding", ks.transcriptHash());
        byte[] expected = ks.expandLabel(derived, "exporter", ks.transcriptHash(context), 32);
        assertThat(ks.exporter(RFC8448_EXP_MASTER, "EXPORTER-Channel-Binding", context, 32))
                .isEqualTo(expected)
                .isEqualTo(IndependentTlsKdf.exporter("HmacSHA256", RFC8448_EXP_MASTER, "EXPORTER-Channel-Binding",
                        context, 32));
    }

    // The requested length is inside the HkdfLabel, so unlike the TLS 1.2 exporter a shorter output is
    // not a prefix of a longer one; and different labels or contexts give unrelated outputs.
    @Test
    void lengthLabelAndContextAllBindTheOutput() {
        KeySchedule13 ks = KeySchedule13.of(Hkdf.Hash.SHA256);
        byte[] ems = RFC8448_EXP_MASTER;
        byte[] long32 = ks.exporter(ems, "EXPERIMENTAL a", null, 32);
        assertThat(ks.exporter(ems, "EXPERIMENTAL a", null, 16)).isNotEqualTo(Arrays.copyOf(long32, 16));
        assertThat(ks.exporter(ems, "EXPERIMENTAL b", null, 32)).isNotEqualTo(long32);
        assertThat(ks.exporter(ems, "EXPERIMENTAL a", new byte[] {0}, 32)).isNotEqualTo(long32);
    }

    // ---- expandLabel and the RFC 8448 section 3 exporter master secret's neighbours ------------------

    // expandLabel against the independent HKDF for every label the schedule uses, both hashes, several contexts.
    @Test
    void expandLabelMatchesTheIndependentHkdfForEveryScheduleLabel() {
        String[] labels = {KeySchedule13.EXT_BINDER, KeySchedule13.RES_BINDER, KeySchedule13.CLIENT_EARLY_TRAFFIC,
                KeySchedule13.EARLY_EXPORTER_MASTER, KeySchedule13.CLIENT_HANDSHAKE_TRAFFIC,
                KeySchedule13.SERVER_HANDSHAKE_TRAFFIC, KeySchedule13.CLIENT_APPLICATION_TRAFFIC,
                KeySchedule13.SERVER_APPLICATION_TRAFFIC, KeySchedule13.EXPORTER_MASTER, KeySchedule13.RESUMPTION_MASTER,
                "derived", "key", "iv", "finished", "resumption", "traffic upd", "exporter"};
        for (Hkdf.Hash hash : new Hkdf.Hash[] {Hkdf.Hash.SHA256, Hkdf.Hash.SHA384}) {
            KeySchedule13 ks = KeySchedule13.of(hash);
            for (String label : labels) {
                for (byte[] context : new byte[][] {new byte[0], random(2), random(hash.length())}) {
                    byte[] secret = random(hash.length());
                    for (int length : new int[] {12, 16, 32, hash.length()}) {
                        assertThat(ks.expandLabel(secret, label, context, length)).as("%s %s %d", hash, label, length)
                                .isEqualTo(IndependentTlsKdf.expandLabel(hmacOf(hash), secret, label, context, length));
                    }
                }
            }
        }
    }

    // The vector file names the labels the RFC uses; make sure the constants spell them that way.
    @Test
    void labelConstantsAreTheRfc8446Labels() {
        var s3 = Vectors.load("/vectors/rfc8448/section3-simple-1rtt.txt");
        assertThat(s3).containsKeys("derive secret \"tls13 " + KeySchedule13.CLIENT_HANDSHAKE_TRAFFIC + "\"",
                "derive secret \"tls13 " + KeySchedule13.SERVER_HANDSHAKE_TRAFFIC + "\"",
                "derive secret \"tls13 " + KeySchedule13.CLIENT_APPLICATION_TRAFFIC + "\"",
                "derive secret \"tls13 " + KeySchedule13.SERVER_APPLICATION_TRAFFIC + "\"",
                "derive secret \"tls13 " + KeySchedule13.EXPORTER_MASTER + "\"",
                "derive secret \"tls13 " + KeySchedule13.RESUMPTION_MASTER + "\"");
        var s4 = Vectors.load("/vectors/rfc8448/section4-resumed-0rtt.txt");
        assertThat(s4).containsKeys("derive secret \"tls13 " + KeySchedule13.CLIENT_EARLY_TRAFFIC + "\"",
                "derive secret \"tls13 " + KeySchedule13.EARLY_EXPORTER_MASTER + "\"");
        assertThat(KeySchedule13.RES_BINDER).isEqualTo("res binder");
        assertThat(KeySchedule13.EXT_BINDER).isEqualTo("ext binder");
    }
}
