package dev.keyway.core.blob;

import dev.keyway.core.Vectors;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.kdf.Hkdf;
import dev.keyway.core.keys.Algorithm;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.keys.SessionKeys;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.hpke.HPKE;
import org.bouncycastle.crypto.hpke.HPKEContext;
import org.bouncycastle.crypto.hpke.HPKEContextWithEncapsulation;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.X25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.X25519PublicKeyParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * RFC 9180 known answers for the HPKE suite Keyway wraps keys with: Appendix A.1.1 (DHKEM(X25519,
 * HKDF-SHA256), HKDF-SHA256, AES-128-GCM, mode_base) and A.2.1 (the same with ChaCha20Poly1305, Keyway's
 * AEAD), run through Bouncy Castle's {@link HPKE} configured exactly as {@link KeyWrap} configures it. Then a
 * check that a Keyway key blob for an x25519 identity is plain RFC 9180 HPKE that any implementation can open.
 * Vectors: {@code src/test/resources/vectors/rfc9180-hpke-x25519-base.txt}.
 */
class HpkeVectorsTest {
    static final Map<String, Map<String, String>> VECTORS = Vectors.load("/vectors/rfc9180-hpke-x25519-base.txt");
    private static final byte[] HPKE_V1 = "HPKE-v1".getBytes(StandardCharsets.US_ASCII);

    /** The suite of a vector section, built the way KeyWrap builds its HPKE (only the AEAD differs for A.1.1). */
    private static HPKE hpke(Map<String, String> v) {
        assertThat(dec(v, "mode")).isEqualTo((short) HPKE.mode_base);
        assertThat(dec(v, "kem_id")).isEqualTo(HPKE.kem_X25519_SHA256);
        assertThat(dec(v, "kdf_id")).isEqualTo(HPKE.kdf_HKDF_SHA256);
        short aead = switch (dec(v, "aead_id")) {
            case 1 -> HPKE.aead_AES_GCM128;
            case 3 -> HPKE.aead_CHACHA20_POLY1305;
            default -> throw new IllegalStateException("unexpected aead_id");
        };
        return new HPKE(HPKE.mode_base, HPKE.kem_X25519_SHA256, HPKE.kdf_HKDF_SHA256, aead);
    }

    // ---- RFC 9180 Appendix A.1.1 / A.2.1 through Bouncy Castle's HPKE -------------------------------

    // RFC 9180 section 7.1.3 (DeriveKeyPair for X25519): ikmE -> (skEm, pkEm), ikmR -> (skRm, pkRm) as listed in
    // A.1.1 and A.2.1. The listed skXm are DeriveKeyPair's raw output; section 7.1.2 says "SerializePrivateKey()
    // MUST clamp its output and DeserializePrivateKey() MUST clamp its input" (RFC 7748 section 5
    // decodeScalar25519), which Bouncy Castle does, so its serialization is the clamped skXm.
    @ParameterizedTest(name = "RFC 9180 {0}")
    @ValueSource(strings = {"A.1.1", "A.2.1"})
    void deriveKeyPairGivesTheListedKeys(String section) {
        Map<String, String> v = VECTORS.get(section);
        HPKE hpke = hpke(v);
        for (String role : new String[]{"E", "R"}) {
            byte[] sk = hex(v, "sk" + role + "m");
            byte[] pk = hex(v, "pk" + role + "m");
            AsymmetricCipherKeyPair kp = hpke.deriveKeyPair(hex(v, "ikm" + role));
            assertThat(hpke.serializePublicKey(kp.getPublic())).as("pk%sm", role).isEqualTo(pk);
            assertThat(hpke.serializePrivateKey(kp.getPrivate())).as("sk%sm, clamped", role).isEqualTo(clamp(sk));
            // The key pair rebuilt from the listed halves: same public key, clamped private key.
            AsymmetricCipherKeyPair rebuilt = hpke.deserializePrivateKey(sk, pk);
            assertThat(hpke.serializePublicKey(rebuilt.getPublic())).isEqualTo(pk);
            assertThat(hpke.serializePrivateKey(rebuilt.getPrivate())).isEqualTo(clamp(sk));
            // The listed private key really belongs to the listed public key (RFC 7748 section 5 X25519(k, 9)).
            assertThat(new X25519PrivateKeyParameters(sk, 0).generatePublicKey().getEncoded()).isEqualTo(pk);
        }
    }

    /** RFC 7748 section 5, decodeScalar25519: clear the low 3 bits, clear bit 255, set bit 254. */
    private static byte[] clamp(byte[] k) {
        byte[] c = k.clone();
        c[0] &= (byte) 248;
        c[31] &= 127;
        c[31] |= 64;
        return c;
    }

    // RFC 9180 section 5.1.1 (SetupBaseS / SetupBaseR), 5.2 (ContextS.Seal / ContextR.Open with the sequence
    // number), 5.3 (Context.Export): enc, the encryptions of A.x.1.1 and the exported values of A.x.1.2.
    @ParameterizedTest(name = "RFC 9180 {0}")
    @ValueSource(strings = {"A.1.1", "A.2.1"})
    void baseModeSetupSealOpenAndExportMatchTheVectors(String section) throws InvalidCipherTextException {
        Map<String, String> v = VECTORS.get(section);
        HPKE hpke = hpke(v);
        AsymmetricCipherKeyPair recipient = hpke.deserializePrivateKey(hex(v, "skRm"), hex(v, "pkRm"));
        AsymmetricCipherKeyPair ephemeral = hpke.deserializePrivateKey(hex(v, "skEm"), hex(v, "pkEm"));
        AsymmetricKeyParameter pkR = hpke.deserializePublicKey(hex(v, "pkRm"));
        byte[] info = hex(v, "info");
        byte[] pt = hex(v, "pt");

        HPKEContextWithEncapsulation sender = hpke.setupBaseS(pkR, info, ephemeral);
        assertThat(sender.getEncapsulation()).isEqualTo(hex(v, "enc")).isEqualTo(hex(v, "pkEm"));
        HPKEContext receiver = hpke.setupBaseR(hex(v, "enc"), recipient, info);

        // The vectors list sequence numbers 0, 1, 2, 4, 255 and 256; seal (and open) every number up to 256 so
        // that both contexts reach each listed one, and compare the listed ones byte for byte.
        Map<Integer, byte[][]> listed = encryptions(v);
        assertThat(listed.keySet()).containsExactly(0, 1, 2, 4, 255, 256);
        int checked = 0;
        for (int seq = 0; seq <= 256; seq++) {
            byte[][] aadCt = listed.get(seq);
            byte[] aad = aadCt != null ? aadCt[0] : ("Count-" + seq).getBytes(StandardCharsets.US_ASCII);
            if (aadCt != null) {
                assertThat(aad).isEqualTo(("Count-" + seq).getBytes(StandardCharsets.US_ASCII));
            }
            byte[] ct = sender.seal(aad, pt);
            if (aadCt != null) {
                assertThat(ct).as("%s ct of sequence number %d", section, seq).isEqualTo(aadCt[1]);
                checked++;
            }
            assertThat(receiver.open(aad, ct)).as("%s open of sequence number %d", section, seq).isEqualTo(pt);
        }
        assertThat(checked).isEqualTo(6);

        List<byte[][]> exports = exports(v);
        assertThat(exports).hasSize(3);
        for (byte[][] e : exports) {
            int length = ByteBuffer.wrap(e[1]).getInt();
            assertThat(sender.export(e[0], length)).as("%s sender export(%s)", section, HexFormat.of().formatHex(e[0])).isEqualTo(e[2]);
            assertThat(receiver.export(e[0], length)).as("%s receiver export(%s)", section, HexFormat.of().formatHex(e[0])).isEqualTo(e[2]);
        }
    }

    // RFC 9180 section 5.2: a recipient context opens the listed ciphertexts in order, and rejects a ciphertext
    // under the wrong sequence number (nonce), the wrong aad, or with a flipped bit.
    @ParameterizedTest(name = "RFC 9180 {0}")
    @ValueSource(strings = {"A.1.1", "A.2.1"})
    void recipientContextRejectsOutOfOrderAndAlteredCiphertexts(String section) throws InvalidCipherTextException {
        Map<String, String> v = VECTORS.get(section);
        HPKE hpke = hpke(v);
        AsymmetricCipherKeyPair recipient = hpke.deserializePrivateKey(hex(v, "skRm"), hex(v, "pkRm"));
        Map<Integer, byte[][]> listed = encryptions(v);
        byte[] pt = hex(v, "pt");

        HPKEContext inOrder = hpke.setupBaseR(hex(v, "enc"), recipient, hex(v, "info"));
        assertThat(inOrder.open(listed.get(0)[0], listed.get(0)[1])).isEqualTo(pt);
        assertThat(inOrder.open(listed.get(1)[0], listed.get(1)[1])).isEqualTo(pt);
        assertThat(inOrder.open(listed.get(2)[0], listed.get(2)[1])).isEqualTo(pt);

        // Sequence number 1 given to a fresh context (which expects 0): wrong nonce.
        HPKEContext fresh = hpke.setupBaseR(hex(v, "enc"), recipient, hex(v, "info"));
        assertThatThrownBy(() -> fresh.open(listed.get(1)[0], listed.get(1)[1])).isInstanceOf(InvalidCipherTextException.class);

        HPKEContext wrongAad = hpke.setupBaseR(hex(v, "enc"), recipient, hex(v, "info"));
        assertThatThrownBy(() -> wrongAad.open(listed.get(1)[0], listed.get(0)[1])).isInstanceOf(InvalidCipherTextException.class);

        byte[] flipped = listed.get(0)[1].clone();
        flipped[3] ^= 0x01;
        HPKEContext altered = hpke.setupBaseR(hex(v, "enc"), recipient, hex(v, "info"));
        assertThatThrownBy(() -> altered.open(listed.get(0)[0], flipped)).isInstanceOf(InvalidCipherTextException.class);

        // Another info string gives another key schedule.
        HPKEContext otherInfo = hpke.setupBaseR(hex(v, "enc"), recipient, "keyway key blob v1".getBytes(StandardCharsets.US_ASCII));
        assertThatThrownBy(() -> otherInfo.open(listed.get(0)[0], listed.get(0)[1])).isInstanceOf(InvalidCipherTextException.class);
    }

    // RFC 9180 section 6.1 (single-shot Open = SetupBaseR + Open with sequence number 0), the call KeyWrap uses.
    @ParameterizedTest(name = "RFC 9180 {0}")
    @ValueSource(strings = {"A.1.1", "A.2.1"})
    void singleShotOpenOfSequenceNumberZero(String section) throws InvalidCipherTextException {
        Map<String, String> v = VECTORS.get(section);
        HPKE hpke = hpke(v);
        AsymmetricCipherKeyPair recipient = hpke.deserializePrivateKey(hex(v, "skRm"), hex(v, "pkRm"));
        byte[][] first = encryptions(v).get(0);
        byte[] pt = hpke.open(hex(v, "enc"), recipient, hex(v, "info"), first[0], first[1], null, null, null);
        assertThat(pt).isEqualTo(hex(v, "pt"));
    }

    // RFC 9180 section 4.1 (DHKEM Encap/Decap with ExtractAndExpand), section 4 (LabeledExtract/LabeledExpand)
    // and section 5.1 (KeySchedule) recomputed with Keyway's own Hkdf: shared_secret, key_schedule_context,
    // secret, key, base_nonce, exporter_secret, and section 5.3 (Export) for the exported values.
    @ParameterizedTest(name = "RFC 9180 {0}")
    @ValueSource(strings = {"A.1.1", "A.2.1"})
    void keyScheduleRecomputedWithKeywayHkdf(String section) {
        Map<String, String> v = VECTORS.get(section);
        byte[] kemSuite = concat("KEM".getBytes(StandardCharsets.US_ASCII), u16(dec(v, "kem_id")));
        byte[] hpkeSuite = concat("HPKE".getBytes(StandardCharsets.US_ASCII), u16(dec(v, "kem_id")), u16(dec(v, "kdf_id")),
                u16(dec(v, "aead_id")));

        // Encap side: DH(skE, pkR); Decap side: DH(skR, pkE). Both must agree.
        byte[] dhSender = new byte[32];
        new X25519PrivateKeyParameters(hex(v, "skEm"), 0).generateSecret(new X25519PublicKeyParameters(hex(v, "pkRm"), 0), dhSender, 0);
        byte[] dhRecipient = new byte[32];
        new X25519PrivateKeyParameters(hex(v, "skRm"), 0).generateSecret(new X25519PublicKeyParameters(hex(v, "enc"), 0), dhRecipient, 0);
        assertThat(dhRecipient).isEqualTo(dhSender);
        byte[] kemContext = concat(hex(v, "enc"), hex(v, "pkRm"));
        byte[] eaePrk = labeledExtract(kemSuite, new byte[0], "eae_prk", dhSender);
        byte[] sharedSecret = labeledExpand(kemSuite, eaePrk, "shared_secret", kemContext, 32);
        assertThat(sharedSecret).isEqualTo(hex(v, "shared_secret"));

        byte[] pskIdHash = labeledExtract(hpkeSuite, new byte[0], "psk_id_hash", new byte[0]);
        byte[] infoHash = labeledExtract(hpkeSuite, new byte[0], "info_hash", hex(v, "info"));
        byte[] context = concat(new byte[]{HPKE.mode_base}, pskIdHash, infoHash);
        assertThat(context).isEqualTo(hex(v, "key_schedule_context"));
        byte[] secret = labeledExtract(hpkeSuite, sharedSecret, "secret", new byte[0]);
        assertThat(secret).isEqualTo(hex(v, "secret"));
        int nk = dec(v, "aead_id") == 1 ? 16 : 32;
        assertThat(labeledExpand(hpkeSuite, secret, "key", context, nk)).isEqualTo(hex(v, "key"));
        assertThat(labeledExpand(hpkeSuite, secret, "base_nonce", context, 12)).isEqualTo(hex(v, "base_nonce"));
        byte[] exporterSecret = labeledExpand(hpkeSuite, secret, "exp", context, 32);
        assertThat(exporterSecret).isEqualTo(hex(v, "exporter_secret"));

        for (byte[][] e : exports(v)) {
            int length = ByteBuffer.wrap(e[1]).getInt();
            assertThat(labeledExpand(hpkeSuite, exporterSecret, "sec", e[0], length)).isEqualTo(e[2]);
        }
    }

    // ---- Keyway key blobs are RFC 9180 HPKE -----------------------------------------------------------

    // RFC 9180 section 6.1 single-shot Open, done independently of KeyWrap: a blob made by KeyWrap.wrap for an
    // x25519 identity is HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, with info
    // "keyway key blob v1" and the 15-byte blob header as aad (layout from KeyBlob's javadoc).
    @ParameterizedTest(name = "{0}")
    @MethodSource("blobAlgorithms")
    void keywayBlobIsOpenedByPlainHpke(Algorithm algorithm) throws InvalidCipherTextException {
        try (Identity identity = Identity.generate(KeyType.X25519); SessionKey key = SessionKeys.generate(algorithm)) {
            byte[] blob = KeyWrap.wrap(key, identity.recipient()).encode();

            BlobLayout p = BlobLayout.parse(blob);
            assertThat(p.header()).hasSize(15);
            assertThat(Arrays.copyOfRange(p.header(), 0, 4)).isEqualTo("KWKB".getBytes(StandardCharsets.US_ASCII));
            assertThat(p.header()[4]).isEqualTo((byte) 1);                                  // version
            assertThat(p.header()[5]).isEqualTo((byte) 1);                                  // scheme hpke-x25519
            assertThat(p.header()[6] & 0xff).isEqualTo(algorithm.id());                    // key algorithm
            assertThat(Arrays.copyOfRange(p.header(), 7, 15)).isEqualTo(identity.recipient().id());
            assertThat(p.enc()).hasSize(32);                                                // X25519 Nenc
            assertThat(p.ct()).hasSize(key.length() + 16);                                  // Poly1305 tag

            HPKE hpke = new HPKE(HPKE.mode_base, HPKE.kem_X25519_SHA256, HPKE.kdf_HKDF_SHA256, HPKE.aead_CHACHA20_POLY1305);
            byte[] sk = identity.kemPrivateKey();
            AsymmetricCipherKeyPair kp = hpke.deserializePrivateKey(sk, identity.recipient().kemPublicKey());
            byte[] info = "keyway key blob v1".getBytes(StandardCharsets.US_ASCII);

            byte[] pt = hpke.open(p.enc(), kp, info, p.header(), p.ct(), null, null, null);
            assertThat(pt).isEqualTo(key.bytes());
            // The same through an explicit context (sequence number 0).
            assertThat(hpke.setupBaseR(p.enc(), kp, info).open(p.header(), p.ct())).isEqualTo(key.bytes());

            // The header really is the aad and the info string really is the one above.
            byte[] otherHeader = p.header().clone();
            otherHeader[6] ^= 0x01;
            assertThatThrownBy(() -> hpke.open(p.enc(), kp, info, otherHeader, p.ct(), null, null, null))
                    .isInstanceOf(InvalidCipherTextException.class);
            assertThatThrownBy(() -> hpke.open(p.enc(), kp, "keyway key blob v2".getBytes(StandardCharsets.US_ASCII), p.header(), p.ct(),
                    null, null, null)).isInstanceOf(InvalidCipherTextException.class);
            // And it is not AES-128-GCM (the A.1 suite).
            HPKE aesGcm = new HPKE(HPKE.mode_base, HPKE.kem_X25519_SHA256, HPKE.kdf_HKDF_SHA256, HPKE.aead_AES_GCM128);
            assertThatThrownBy(() -> aesGcm.open(p.enc(), aesGcm.deserializePrivateKey(sk, identity.recipient().kemPublicKey()), info,
                    p.header(), p.ct(), null, null, null)).isInstanceOf(InvalidCipherTextException.class);
        }
    }

    static List<Algorithm> blobAlgorithms() {
        return List.of(Algorithms.AES_256_GCM, Algorithms.AES_128_GCM, Algorithms.HMAC_SHA384, Algorithms.DES3);
    }

    // The reverse direction: a blob sealed by plain BC HPKE with the documented info/aad and layout is opened by
    // KeyWrap.unwrap, so the format is fully specified by RFC 9180 plus KeyBlob's layout.
    @Test
    void blobBuiltWithPlainHpkeIsUnwrappedByKeyway() throws InvalidCipherTextException {
        try (Identity identity = Identity.generate(KeyType.X25519)) {
            byte[] keyBytes = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
            byte[] header = new byte[15];
            System.arraycopy("KWKB".getBytes(StandardCharsets.US_ASCII), 0, header, 0, 4);
            header[4] = 1;
            header[5] = 1;
            header[6] = (byte) Algorithms.CHACHA20_POLY1305.id();
            System.arraycopy(identity.recipient().id(), 0, header, 7, 8);

            HPKE hpke = new HPKE(HPKE.mode_base, HPKE.kem_X25519_SHA256, HPKE.kdf_HKDF_SHA256, HPKE.aead_CHACHA20_POLY1305);
            byte[][] sealed = hpke.seal(hpke.deserializePublicKey(identity.recipient().kemPublicKey()),
                    "keyway key blob v1".getBytes(StandardCharsets.US_ASCII), header, keyBytes, null, null, null);
            byte[] blob = concat(header, u16(sealed[1].length), sealed[1], u16(sealed[0].length), sealed[0]);

            try (SessionKey key = KeyWrap.unwrap(KeyBlob.decode(blob), identity)) {
                assertThat(key.algorithm()).isEqualTo(Algorithms.CHACHA20_POLY1305);
                assertThat(key.bytes()).isEqualTo(keyBytes);
            }
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------


    // RFC 9180 section 4: LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm).
    private static byte[] labeledExtract(byte[] suiteId, byte[] salt, String label, byte[] ikm) {
        return Hkdf.extract(Hkdf.Hash.SHA256, salt, concat(HPKE_V1, suiteId, label.getBytes(StandardCharsets.US_ASCII), ikm));
    }

    // RFC 9180 section 4: LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L).
    private static byte[] labeledExpand(byte[] suiteId, byte[] prk, String label, byte[] info, int length) {
        return Hkdf.expand(Hkdf.Hash.SHA256, prk, concat(u16(length), HPKE_V1, suiteId, label.getBytes(StandardCharsets.US_ASCII), info),
                length);
    }

    /** seq.N.aad / seq.N.ct of a section, by sequence number. */
    private static Map<Integer, byte[][]> encryptions(Map<String, String> v) {
        Map<Integer, byte[][]> out = new TreeMap<>();
        for (String k : v.keySet()) {
            if (k.startsWith("seq.") && k.endsWith(".ct")) {
                String n = k.substring(4, k.length() - 3);
                out.put(Integer.parseInt(n), new byte[][]{hex(v, "seq." + n + ".aad"), hex(v, k)});
            }
        }
        return out;
    }

    /** export.I.context / .L / .value of a section: {context, L as 4 bytes, value}. */
    private static List<byte[][]> exports(Map<String, String> v) {
        List<byte[][]> out = new ArrayList<>();
        for (int i = 0; v.containsKey("export." + i + ".value"); i++) {
            int length = Integer.parseInt(v.get("export." + i + ".L"));
            byte[] value = hex(v, "export." + i + ".value");
            assertThat(value).hasSize(length);
            out.add(new byte[][]{hex(v, "export." + i + ".context"), ByteBuffer.allocate(4).putInt(length).array(), value});
        }
        return out;
    }

    static byte[] hex(Map<String, String> v, String key) {
        String s = v.get(key);
        if (s == null) {
            throw new IllegalStateException("vector has no " + key);
        }
        return HexFormat.of().parseHex(s.replaceAll("\\s+", ""));
    }

    private static short dec(Map<String, String> v, String key) {
        return Short.parseShort(v.get(key));
    }

    private static byte[] u16(int n) {
        return new byte[]{(byte) (n >>> 8), (byte) n};
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

}
