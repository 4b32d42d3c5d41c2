package dev.keyway.core.kdf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link Prf12}'s derivations (master secret, RFC 7627 extended master secret, Finished verify_data and
 * the key block) against the test-side {@link IndependentTlsKdf}: RFC 7627 has no vectors and the key
 * block split depends on suite and version, so these are checked by recomputation. The expected
 * lengths are worked out here from the IANA suite name alone, not from {@link CipherSuite}'s fields:
 * <ul>
 *   <li>MAC keys: none for AEAD suites; 20/32/48 bytes for CBC *_SHA/*_SHA256/*_SHA384 (RFC 5246 6.2.3.1);</li>
 *   <li>IVs: 16 for CBC in TLS 1.0 (RFC 2246 6.3), none for CBC in 1.1/1.2 (explicit IVs, RFC 4346 6.2.3.2);
 *       4 for GCM (RFC 5288 section 3), 12 for ChaCha20-Poly1305 (RFC 7905 section 2);</li>
 *   <li>PRF: MD5/SHA-1 in 1.0/1.1, SHA-384 for *_SHA384 suites in 1.2, SHA-256 otherwise (RFC 5246 5, RFC 5289 3).</li>
 * </ul>
 * OpenSSL agreement is in {@link OpenSslTls12InteropTest}.
 */
class Prf12CrossCheckTest {
    private static final Random RANDOM = new Random(0x7627L);
    private static final TlsVersion[] OLD_VERSIONS = {TlsVersion.TLS10, TlsVersion.TLS11, TlsVersion.TLS12};

    private static byte[] random(int length) {
        byte[] b = new byte[length];
        RANDOM.nextBytes(b);
        return b;
    }

    // ---- master secret, extended master secret, verify_data ----------------------------------------

    // RFC 5246 section 8.1: master_secret = PRF(pre_master_secret, "master secret", ClientHello.random +
    // ServerHello.random)[0..47]; RFC 2246 section 8.1 for the MD5/SHA-1 PRF.
    @ParameterizedTest(name = "{0}")
    @EnumSource(Prf12.Hash.class)
    void masterSecret(Prf12.Hash hash) {
        for (int pmsLength : new int[] {48, 32, 56, 97, 128, 256}) { // RSA is 48; (EC)DHE varies; PSK adds more
            byte[] pms = random(pmsLength);
            byte[] cr = random(32);
            byte[] sr = random(32);
            byte[] ms = Prf12.masterSecret(hash, pms, cr, sr);
            assertThat(ms).hasSize(48)
                    .isEqualTo(IndependentTlsKdf.prf(hash.name(), pms, "master secret", IndependentTlsKdf.concat(cr, sr), 48));
            // The randoms are ordered client first; swapping them changes the answer.
            assertThat(Prf12.masterSecret(hash, pms, sr, cr)).isNotEqualTo(ms);
        }
    }

    // RFC 7627 section 4: master_secret = PRF(pre_master_secret, "extended master secret", session_hash)[0..47],
    // session_hash being MD5||SHA-1 (36 bytes) in 1.0/1.1 and the PRF hash in 1.2 (section 3).
    @ParameterizedTest(name = "{0}")
    @EnumSource(Prf12.Hash.class)
    void extendedMasterSecret(Prf12.Hash hash) {
        assertThat(hash.handshakeHashLength()).isEqualTo(switch (hash) {
            case MD5_SHA1 -> 16 + 20;
            case SHA256 -> 32;
            case SHA384 -> 48;
        });
        for (int i = 0; i < 5; i++) {
            byte[] pms = random(48);
            byte[] sessionHash = IndependentTlsKdf.handshakeHash(hash.name(), random(100 + i), random(i));
            assertThat(sessionHash).hasSize(hash.handshakeHashLength());
            byte[] ems = Prf12.extendedMasterSecret(hash, pms, sessionHash);
            assertThat(ems).hasSize(48)
                    .isEqualTo(IndependentTlsKdf.prf(hash.name(), pms, "extended master secret", sessionHash, 48));
            // Not the classic derivation with the session hash in place of the randoms.
            assertThat(ems).isNotEqualTo(IndependentTlsKdf.prf(hash.name(), pms, "master secret", sessionHash, 48));
        }
    }

    // RFC 5246 section 7.4.9: verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))[0..11].
    @ParameterizedTest(name = "{0}")
    @EnumSource(Prf12.Hash.class)
    void verifyData(Prf12.Hash hash) {
        byte[] ms = random(48);
        byte[] handshakeHash = IndependentTlsKdf.handshakeHash(hash.name(), random(300));
        byte[] client = Prf12.verifyData(hash, ms, true, handshakeHash);
        byte[] server = Prf12.verifyData(hash, ms, false, handshakeHash);
        assertThat(client).hasSize(Prf12.VERIFY_DATA_LENGTH)
                .isEqualTo(IndependentTlsKdf.prf(hash.name(), ms, "client finished", handshakeHash, 12));
        assertThat(server).hasSize(12)
                .isEqualTo(IndependentTlsKdf.prf(hash.name(), ms, "server finished", handshakeHash, 12))
                .isNotEqualTo(client);
    }

    // ---- the TLS 1.0/1.1 PRF's halves --------------------------------------------------------------

    // RFC 2246 section 5: "S1 and S2 are the two halves of the secret and each is the same length. S1 is
    // taken from the first half of the secret, S2 from the second half. Their length is created by rounding
    // up the length of the overall secret divided by two; thus, if the original secret is an odd number of
    // bytes long, the last byte of S1 will be the same as the first byte of S2."
    @ParameterizedTest(name = "{0}-byte secret")
    @ValueSource(ints = {1, 3, 5, 47, 49, 97, 2, 48, 0})
    void md5Sha1PrfSplitsTheSecretIntoOverlappingHalves(int secretLength) {
        byte[] secret = random(secretLength);
        byte[] seed = random(64);
        byte[] ours = Prf12.prf(Prf12.Hash.MD5_SHA1, secret, "odd label", seed, 80);
        assertThat(ours).isEqualTo(IndependentTlsKdf.prf10(secret, "odd label", seed, 80));
        if (secretLength % 2 == 1 && secretLength > 1) {
            // A split that does not share the middle byte gives something else.
            int half = secretLength / 2;
            byte[] labelSeed = IndependentTlsKdf.concat("odd label".getBytes(), seed);
            byte[] md5 = IndependentTlsKdf.pHash("HmacMD5", Arrays.copyOfRange(secret, 0, half), labelSeed, 80);
            byte[] sha = IndependentTlsKdf.pHash("HmacSHA1", Arrays.copyOfRange(secret, half, secretLength), labelSeed, 80);
            byte[] wrong = new byte[80];
            for (int i = 0; i < 80; i++) {
                wrong[i] = (byte) (md5[i] ^ sha[i]);
            }
            assertThat(ours).isNotEqualTo(wrong);
            // And the middle byte reaches both halves: flipping it changes both the P_MD5 and the P_SHA-1 part.
            byte[] flipped = secret.clone();
            flipped[half] ^= 1;
            byte[] other = Prf12.prf(Prf12.Hash.MD5_SHA1, flipped, "odd label", seed, 80);
            byte[] onlyMd5Changed = xor(IndependentTlsKdf.pHash("HmacMD5", Arrays.copyOfRange(flipped, 0, half + 1), labelSeed, 80),
                    IndependentTlsKdf.pHash("HmacSHA1", Arrays.copyOfRange(secret, half, secretLength), labelSeed, 80));
            assertThat(other).isNotEqualTo(ours).isNotEqualTo(onlyMd5Changed);
        }
    }

    // An empty secret is legal (e.g. an empty half); HMAC with an empty key is done by hand on the test side.
    @ParameterizedTest(name = "{0}")
    @EnumSource(Prf12.Hash.class)
    void emptySecret(Prf12.Hash hash) {
        byte[] seed = random(32);
        assertThat(Prf12.prf(hash, new byte[0], "empty", seed, 50))
                .isEqualTo(IndependentTlsKdf.prf(hash.name(), new byte[0], "empty", seed, 50));
    }

    // ---- key block -----------------------------------------------------------------------------------

    /** Lengths of one side's MAC key, write key and IV, and the PRF, worked out from the IANA name. */
    record Split(int mac, int key, int iv, String prf) {
        static Split of(String iana, TlsVersion version) {
            boolean gcm = iana.contains("_GCM_");
            boolean chacha = iana.contains("_CHACHA20_POLY1305_");
            int key = iana.contains("_AES_128_") ? 16 : 32;
            int mac;
            if (gcm || chacha) {
                mac = 0;
            } else if (iana.endsWith("_SHA")) {
                mac = 20;
            } else if (iana.endsWith("_SHA256")) {
                mac = 32;
            } else if (iana.endsWith("_SHA384")) {
                mac = 48;
            } else {
                throw new AssertionError("no MAC in " + iana);
            }
            int iv = gcm ? 4 : chacha ? 12 : version == TlsVersion.TLS10 ? 16 : 0;
            String prf = version != TlsVersion.TLS12 ? "MD5_SHA1" : iana.endsWith("_SHA384") ? "SHA384" : "SHA256";
            return new Split(mac, key, iv, prf);
        }
    }

    /**
     * Whether a suite may be negotiated at a version, from the RFCs that define the suites: TLS 1.3 suites
     * only in 1.3 (RFC 8446 B.4); AEAD suites only in 1.2 (RFC 5288 section 4, RFC 5289 section 4, RFC 5487
     * section 3, RFC 7905 section 2); CBC *_SHA suites in 1.0-1.2; CBC *_SHA256/*_SHA384 suites only in 1.2
     * (RFC 5246, RFC 5289) except the PSK ones, which RFC 5487 section 3.2 and RFC 5489 allow before 1.2 with
     * that version's PRF.
     */
    static boolean usable(String iana, TlsVersion version) {
        if (!iana.contains("_WITH_")) {
            return version == TlsVersion.TLS13;
        }
        if (version == TlsVersion.TLS13) {
            return false;
        }
        if (iana.contains("_GCM_") || iana.contains("_CHACHA20_POLY1305_")) {
            return version == TlsVersion.TLS12;
        }
        if (iana.endsWith("_SHA")) {
            return true;
        }
        return version == TlsVersion.TLS12 || iana.contains("PSK_WITH_");
    }

    static Stream<Arguments> suitesAndVersions() {
        List<Arguments> out = new ArrayList<>();
        for (CipherSuite s : CipherSuites.all()) {
            for (TlsVersion v : TlsVersion.values()) {
                out.add(Arguments.of(s.name(), v));
            }
        }
        return out.stream();
    }

    // RFC 5246 section 6.3: key_block = PRF(master_secret, "key expansion", server_random + client_random),
    // cut into client MAC key, server MAC key, client key, server key, client IV, server IV.
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("suitesAndVersions")
    void keyBlockSplitsAsTheSuiteAndVersionSay(String name, TlsVersion version) {
        CipherSuite suite = CipherSuites.parse(name);
        if (suite.tls13() || version == TlsVersion.TLS13 || !suite.usableWith(version)) {
            return; // refusals are checked below
        }
        assertThat(usable(name, version)).as("Keyway allows %s with %s, which its RFC does not", name, version).isTrue();
        Split split = Split.of(name, version);
        byte[] ms = random(48);
        byte[] cr = random(32);
        byte[] sr = random(32);
        int total = 2 * (split.mac() + split.key() + split.iv());
        byte[] expected = IndependentTlsKdf.prf(split.prf(), ms, "key expansion", IndependentTlsKdf.concat(sr, cr), total);

        KeyBlock12 block = Prf12.keyBlock(suite, version, ms, cr, sr);
        int at = 0;
        assertThat(block.suite()).isSameAs(suite);
        assertThat(block.clientMacKey()).as("client MAC key").isEqualTo(Arrays.copyOfRange(expected, at, at += split.mac()));
        assertThat(block.serverMacKey()).as("server MAC key").isEqualTo(Arrays.copyOfRange(expected, at, at += split.mac()));
        assertThat(block.clientKey()).as("client key").isEqualTo(Arrays.copyOfRange(expected, at, at += split.key()));
        assertThat(block.serverKey()).as("server key").isEqualTo(Arrays.copyOfRange(expected, at, at += split.key()));
        assertThat(block.clientIv()).as("client IV").isEqualTo(Arrays.copyOfRange(expected, at, at += split.iv()));
        assertThat(block.serverIv()).as("server IV").isEqualTo(Arrays.copyOfRange(expected, at, at += split.iv()));
        assertThat(at).isEqualTo(total);
    }

    // The suites CipherSuite refuses for a version are refused by keyBlock, with IllegalArgumentException.
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("suitesAndVersions")
    void keyBlockRefusesWhatTheSuiteCannotDo(String name, TlsVersion version) {
        CipherSuite suite = CipherSuites.parse(name);
        if (suite.usableWith(version)) {
            return;
        }
        assertThatThrownBy(() -> Prf12.keyBlock(suite, version, random(48), random(32), random(32)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(suite.name());
    }

    // Which suite goes with which version, against the RFCs that define the suites.
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("suitesAndVersions")
    void usableWithFollowsTheSuiteRfcs(String name, TlsVersion version) {
        assertThat(CipherSuites.parse(name).usableWith(version)).as("%s with %s", name, version)
                .isEqualTo(usable(name, version));
    }

    // The named cases from the brief, spelled out.
    @Test
    void namedKeyBlockShapes() {
        byte[] ms = random(48);
        byte[] cr = random(32);
        byte[] sr = random(32);
        // TLS 1.0 CBC: 16-byte IVs from the key block.
        KeyBlock12 cbc10 = Prf12.keyBlock(CipherSuites.parse("AES128-SHA"), TlsVersion.TLS10, ms, cr, sr);
        assertThat(cbc10.clientMacKey()).hasSize(20);
        assertThat(cbc10.clientKey()).hasSize(16);
        assertThat(cbc10.clientIv()).hasSize(16);
        assertThat(cbc10.serverIv()).hasSize(16);
        // TLS 1.1 and 1.2 CBC: no IVs.
        for (TlsVersion v : new TlsVersion[] {TlsVersion.TLS11, TlsVersion.TLS12}) {
            KeyBlock12 cbc = Prf12.keyBlock(CipherSuites.parse("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"), v, ms, cr, sr);
            assertThat(cbc.clientIv()).isEmpty();
            assertThat(cbc.serverIv()).isEmpty();
            assertThat(cbc.clientKey()).hasSize(32);
        }
        // GCM: 4-byte implicit nonces and no MAC keys; ChaCha20-Poly1305: 12-byte IVs and no MAC keys.
        KeyBlock12 gcm = Prf12.keyBlock(CipherSuites.parse("0xC02F"), TlsVersion.TLS12, ms, cr, sr);
        assertThat(gcm.clientMacKey()).isEmpty();
        assertThat(gcm.serverMacKey()).isEmpty();
        assertThat(gcm.clientIv()).hasSize(4);
        KeyBlock12 chacha = Prf12.keyBlock(CipherSuites.parse("ECDHE-RSA-CHACHA20-POLY1305"), TlsVersion.TLS12, ms, cr, sr);
        assertThat(chacha.clientMacKey()).isEmpty();
        assertThat(chacha.clientKey()).hasSize(32);
        assertThat(chacha.clientIv()).hasSize(12);
        assertThat(chacha.serverIv()).hasSize(12);
        // *_SHA384 in 1.2: the SHA-384 PRF, so not what the SHA-256 PRF would give; and a SHA-384 MAC key for CBC.
        CipherSuite sha384 = CipherSuites.parse("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
        KeyBlock12 b384 = Prf12.keyBlock(sha384, TlsVersion.TLS12, ms, cr, sr);
        byte[] viaSha256 = IndependentTlsKdf.prf("SHA256", ms, "key expansion", IndependentTlsKdf.concat(sr, cr), 72);
        byte[] viaSha384 = IndependentTlsKdf.prf("SHA384", ms, "key expansion", IndependentTlsKdf.concat(sr, cr), 72);
        assertThat(b384.clientKey()).isEqualTo(Arrays.copyOf(viaSha384, 32)).isNotEqualTo(Arrays.copyOf(viaSha256, 32));
        KeyBlock12 cbc384 = Prf12.keyBlock(CipherSuites.parse("ECDHE-RSA-AES256-SHA384"), TlsVersion.TLS12, ms, cr, sr);
        assertThat(cbc384.clientMacKey()).hasSize(48);
        // A SHA-1 CBC suite in 1.2 uses the SHA-256 PRF, in 1.1 the MD5/SHA-1 one.
        KeyBlock12 sha1In12 = Prf12.keyBlock(CipherSuites.parse("AES128-SHA"), TlsVersion.TLS12, ms, cr, sr);
        assertThat(sha1In12.clientMacKey()).isEqualTo(Arrays.copyOf(viaSha256, 20));
        KeyBlock12 sha1In11 = Prf12.keyBlock(CipherSuites.parse("AES128-SHA"), TlsVersion.TLS11, ms, cr, sr);
        assertThat(sha1In11.clientMacKey()).isEqualTo(Arrays.copyOf(
                IndependentTlsKdf.prf10(ms, "key expansion", IndependentTlsKdf.concat(sr, cr), 20), 20));
    }

    // ---- refusals ------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}-byte random")
    @ValueSource(ints = {0, 31, 33, 64})
    void randomsMustBe32Bytes(int length) {
        byte[] pms = random(48);
        byte[] ok = random(32);
        byte[] bad = random(length);
        CipherSuite suite = CipherSuites.parse("ECDHE-RSA-AES128-GCM-SHA256");
        assertThatThrownBy(() -> Prf12.masterSecret(Prf12.Hash.SHA256, pms, bad, ok))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("client random");
        assertThatThrownBy(() -> Prf12.masterSecret(Prf12.Hash.SHA256, pms, ok, bad))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("server random");
        assertThatThrownBy(() -> Prf12.keyBlock(suite, TlsVersion.TLS12, pms, bad, ok))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("client random");
        assertThatThrownBy(() -> Prf12.keyBlock(suite, TlsVersion.TLS12, pms, ok, bad))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("server random");
    }

    @Test
    void suiteAndVersionMismatchesAreRefused() {
        byte[] ms = random(48);
        byte[] r = random(32);
        // GCM needs TLS 1.2 (RFC 5288 section 4).
        assertThatThrownBy(() -> Prf12.keyBlock(CipherSuites.parse("ECDHE-RSA-AES128-GCM-SHA256"), TlsVersion.TLS11, ms, r, r))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Prf12.keyBlock(CipherSuites.parse("ECDHE-RSA-CHACHA20-POLY1305"), TlsVersion.TLS10, ms, r, r))
                .isInstanceOf(IllegalArgumentException.class);
        // RFC 5289 SHA-256 CBC suites need TLS 1.2.
        assertThatThrownBy(() -> Prf12.keyBlock(CipherSuites.parse("ECDHE-RSA-AES128-SHA256"), TlsVersion.TLS11, ms, r, r))
                .isInstanceOf(IllegalArgumentException.class);
        // TLS 1.3 suites have no key block, and nothing has one in TLS 1.3.
        assertThatThrownBy(() -> Prf12.keyBlock(CipherSuites.parse("TLS_AES_128_GCM_SHA256"), TlsVersion.TLS12, ms, r, r))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Prf12.keyBlock(CipherSuites.parse("AES128-SHA"), TlsVersion.TLS13, ms, r, r))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static byte[] xor(byte[] a, byte[] b) {
        byte[] out = new byte[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (byte) (a[i] ^ b[i]);
        }
        return out;
    }
}
