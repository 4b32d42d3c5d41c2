package dev.keyway.core.identity;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Bech32;
import dev.keyway.core.encoding.Hex;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IdentityTest {
    private static final String CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    /** One identity per type for the whole class: RSA-3072 generation takes a while. */
    private static final Map<KeyType, Identity> IDS = new EnumMap<>(KeyType.class);

    @BeforeAll
    static void generate() {
        for (KeyType t : KeyType.values()) {
            IDS.put(t, Identity.generate(t));
        }
    }

    @AfterAll
    static void destroy() {
        IDS.values().forEach(Identity::destroy);
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void secretKeyStringRoundTrip(KeyType type) {
        Identity id = IDS.get(type);
        String secret = id.encodeSecret();
        assertThat(secret).startsWith(type.secretPrefix() + "1").isEqualTo(secret.toUpperCase(Locale.ROOT));
        try (Identity back = Identity.parse(secret)) {
            assertThat(back.type()).isEqualTo(type);
            assertThat(back.recipient()).isEqualTo(id.recipient());
            assertThat(back.recipient().encode()).isEqualTo(id.recipient().encode());
            assertThat(back.kemPrivateKey()).isEqualTo(id.kemPrivateKey());
            assertThat(back.signingSeed()).isEqualTo(id.signingSeed());
            assertThat(back.encodeSecret()).isEqualTo(secret);
        }
        // surrounding whitespace and lower case are accepted
        try (Identity back = Identity.parse("  " + secret.toLowerCase(Locale.ROOT) + "\n")) {
            assertThat(back.recipient()).isEqualTo(id.recipient());
        }
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void recipientStringRoundTrip(KeyType type) {
        Recipient r = IDS.get(type).recipient();
        String s = r.encode();
        assertThat(s).startsWith(type.recipientPrefix() + "1").isEqualTo(s.toLowerCase(Locale.ROOT));
        assertThat(r.toString()).isEqualTo(s);
        Recipient back = Recipient.parse(s);
        assertThat(back).isEqualTo(r).hasSameHashCodeAs(r);
        assertThat(back.type()).isEqualTo(type);
        assertThat(back.kemPublicKey()).isEqualTo(r.kemPublicKey());
        assertThat(back.signingPublicKey()).isEqualTo(r.signingPublicKey()).hasSize(32);
        assertThat(back.id()).isEqualTo(r.id()).hasSize(8);
        assertThat(back.idHex()).isEqualTo(Hex.encode(r.id()));
        assertThat(Recipient.parse(" " + s.toUpperCase(Locale.ROOT) + "\r\n")).isEqualTo(r);
        if (type.publicLength() > 0) {
            assertThat(r.kemPublicKey()).hasSize(type.publicLength());
        }
    }

    @Test
    void differentIdentitiesHaveDifferentRecipients() {
        try (Identity a = Identity.generate(KeyType.X25519); Identity b = Identity.generate(KeyType.X25519)) {
            assertThat(a.recipient()).isNotEqualTo(b.recipient());
            assertThat(a.recipient().id()).isNotEqualTo(b.recipient().id());
        }
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void secretKeyGivenAsRecipientIsAClearUsageError(KeyType type) {
        String secret = IDS.get(type).encodeSecret();
        assertCode(() -> Recipient.parse(secret), ErrorCode.USAGE, "secret key, not a recipient", secret);
        assertCode(() -> Recipient.parse(secret.toLowerCase(Locale.ROOT)), ErrorCode.USAGE, "secret key, not a recipient", secret);
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void recipientGivenAsIdentityIsAClearUsageError(KeyType type) {
        String r = IDS.get(type).recipient().encode();
        assertCode(() -> Identity.parse(r), ErrorCode.USAGE, "recipient (public key), not an identity", null);
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void corruptedRecipientIsMalformed(KeyType type) {
        String good = IDS.get(type).recipient().encode();
        long seed = 17L * type.code();
        Random rnd = new Random(seed);
        int sep = good.lastIndexOf('1');
        for (int n = 0; n < 40; n++) {
            int i = n < 8 ? n : sep + 1 + rnd.nextInt(good.length() - sep - 1);
            char c;
            do {
                c = CHARSET.charAt(rnd.nextInt(32));
            } while (c == good.charAt(i));
            String bad = good.substring(0, i) + c + good.substring(i + 1);
            int pos = i;
            char ch = c;
            assertThatThrownBy(() -> Recipient.parse(bad)).as("seed %d, position %d -> %c", seed, pos, ch)
                    .isInstanceOfSatisfying(KeywayException.class, e -> {
                        assertThat(e.code()).isIn(ErrorCode.MALFORMED);
                        assertThat(e.getMessage()).doesNotContain("\n");
                    });
        }
        assertCode(() -> Recipient.parse(good.substring(0, good.length() - 1)), ErrorCode.MALFORMED, "checksum", null);
        assertCode(() -> Recipient.parse(good + "q"), ErrorCode.MALFORMED, "checksum", null);
        assertCode(() -> Recipient.parse(""), ErrorCode.MALFORMED, null, null);
        assertCode(() -> Recipient.parse("x".repeat(5000)), ErrorCode.MALFORMED, "too long", null);
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void corruptedSecretKeyIsMalformed(KeyType type) {
        String good = IDS.get(type).encodeSecret();
        int i = good.length() - 10;
        char c = good.charAt(i) == 'Q' ? 'P' : 'Q';
        String bad = good.substring(0, i) + c + good.substring(i + 1);
        assertCode(() -> Identity.parse(bad), ErrorCode.MALFORMED, "checksum", good);
        assertCode(() -> Identity.parse(good.substring(0, good.length() - 3)), ErrorCode.MALFORMED, null, good);
    }

    @Test
    void wrongLengthDataUnderAValidChecksumIsMalformed() {
        for (KeyType type : new KeyType[]{KeyType.X25519, KeyType.XWING, KeyType.P256}) {
            String hrp = type.recipientPrefix();
            for (int len : new int[]{0, 1, 32, 33, 31 + 32, type.publicLength() + 31, type.publicLength() + 33, 3000}) {
                byte[] data = new byte[len];
                new Random(len).nextBytes(data);
                String s = Bech32.encode(hrp, data);
                assertCode(() -> Recipient.parse(s), ErrorCode.MALFORMED, null, null);
            }
            String secretHrp = type.secretPrefix();
            for (int len : new int[]{0, 32, 33, 32 + type.privateLength() - 1, 32 + type.privateLength() + 1}) {
                String s = Bech32.encodeUpper(secretHrp, new byte[len]);
                assertCode(() -> Identity.parse(s), ErrorCode.MALFORMED, "wrong length", null);
            }
        }
        // the brief's example: one byte short for x25519
        String x = Bech32.encode("kwx25519", new byte[63]);
        assertCode(() -> Recipient.parse(x), ErrorCode.MALFORMED, "wrong length", null);
        // RSA: variable-length DER, so garbage of any length must be refused as an invalid key
        for (int len : new int[]{33, 40, 300, 454, 1000}) {
            byte[] junk = new byte[len];
            new Random(len).nextBytes(junk);
            String s = Bech32.encode("kwrsa3072", junk);
            assertCode(() -> Recipient.parse(s), ErrorCode.MALFORMED, null, null);
            String sec = Bech32.encodeUpper(KeyType.RSA3072.secretPrefix(), junk);
            assertCode(() -> Identity.parse(sec), ErrorCode.MALFORMED, null, null);
        }
        // unknown prefixes
        assertCode(() -> Recipient.parse(Bech32.encode("kwed448", new byte[90])), ErrorCode.MALFORMED, "unknown recipient type", null);
        assertCode(() -> Identity.parse(Bech32.encode("age-secret-key-", new byte[32])), ErrorCode.MALFORMED, "unknown secret key type", null);
    }

    @Test
    void p256PointNotOnTheCurveIsMalformed() {
        Recipient good = IDS.get(KeyType.P256).recipient();
        byte[] point = good.kemPublicKey();
        byte[] sig = good.signingPublicKey();
        assertThat(point[0]).isEqualTo((byte) 4);
        byte[] offCurve = point.clone();
        offCurve[64] ^= 1; // y changed: (x, y') is not on the curve
        assertP256Malformed(offCurve, sig);
        byte[] zeros = new byte[65];
        zeros[0] = 4;
        assertP256Malformed(zeros, sig);
        byte[] compressedTag = point.clone();
        compressedTag[0] = 2; // compressed tag with an uncompressed length
        assertP256Malformed(compressedTag, sig);
        byte[] infinity = new byte[65]; // 0x00 tag
        assertP256Malformed(infinity, sig);
        byte[] bigX = point.clone();
        Arrays.fill(bigX, 1, 33, (byte) 0xff); // x >= p
        assertP256Malformed(bigX, sig);
    }

    private static void assertP256Malformed(byte[] point, byte[] sig) {
        String s = Bech32.encode("kwp256", Recipient.concat(point, sig));
        assertCode(() -> Recipient.parse(s), ErrorCode.MALFORMED, "not valid", null);
    }

    @Test
    void p256SecretScalarOutOfRangeIsMalformed() {
        byte[] seed = new byte[32];
        for (byte[] scalar : new byte[][]{new byte[32], filled(32, 0xff)}) {
            String s = Bech32.encodeUpper(KeyType.P256.secretPrefix(), Recipient.concat(seed, scalar));
            assertCode(() -> Identity.parse(s), ErrorCode.MALFORMED, "malformed", null);
        }
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void toStringDoesNotContainTheSecret(KeyType type) {
        Identity id = IDS.get(type);
        String s = id.toString();
        String secret = id.encodeSecret();
        assertThat(s).contains(type.id()).doesNotContainIgnoringCase(secret.substring(secret.lastIndexOf('1') + 1, secret.lastIndexOf('1') + 21));
        String kemHex = Hex.encode(id.kemPrivateKey());
        String seedHex = Hex.encode(id.signingSeed());
        for (int i = 0; i + 16 <= seedHex.length(); i += 2) {
            assertThat(s).doesNotContain(seedHex.substring(i, i + 16));
        }
        for (int i = 0; i + 16 <= Math.min(kemHex.length(), 400); i += 2) {
            assertThat(s).doesNotContain(kemHex.substring(i, i + 16));
        }
    }

    @Test
    void destroyedIdentityRefusesToHandOutSecrets() {
        Identity id = Identity.generate(KeyType.X25519);
        Recipient r = id.recipient();
        id.close();
        assertThat(id.isDestroyed()).isTrue();
        assertThatThrownBy(id::encodeSecret).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(id::kemPrivateKey).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(id::signingSeed).isInstanceOf(IllegalStateException.class);
        assertThat(id.recipient()).isEqualTo(r);
    }

    @Test
    void keyTypeByIdIsAUsageErrorWhenUnknown() {
        assertThat(KeyType.byId(" XWing ")).isEqualTo(KeyType.XWING);
        assertCode(() -> KeyType.byId("ed448"), ErrorCode.USAGE, "unknown key type", null);
    }

    @Test
    void randomStringsNeverEscapeAsAnotherException() {
        long seed = 31337L;
        Random rnd = new Random(seed);
        String[] prefixes = {"kwx25519", "kwxwing", "kwp256", "kwrsa3072", "KEYWAY-SECRET-KEY-X25519-", "KEYWAY-SECRET-KEY-P256-",
                "KEYWAY-SECRET-KEY-XWING-", "KEYWAY-SECRET-KEY-RSA3072-"};
        for (int i = 0; i < 300; i++) {
            byte[] data = new byte[rnd.nextInt(120)];
            rnd.nextBytes(data);
            String hrp = prefixes[rnd.nextInt(prefixes.length)];
            String s = hrp.startsWith("kw") ? Bech32.encode(hrp, data) : Bech32.encodeUpper(hrp, data);
            int n = i;
            for (ThrowingCallable call : new ThrowingCallable[]{() -> Recipient.parse(s), () -> Identity.parse(s)}) {
                try {
                    call.call();
                } catch (KeywayException e) {
                    assertThat(e.code()).as("seed %d, case %d", seed, n).isIn(ErrorCode.MALFORMED, ErrorCode.USAGE);
                } catch (Throwable t) {
                    throw new AssertionError("seed " + seed + ", case " + n + ": " + s + " escaped as " + t, t);
                }
            }
        }
    }

    /** RFC 8032 section 7.1, TEST 1 and TEST 2: an identity whose signing seed is the vector's secret key signs as the vector says. */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60, d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a, '', "
                    + "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb, 3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c, 72, "
                    + "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"})
    void signMatchesRfc8032Vectors(String seedHex, String publicHex, String messageHex, String signatureHex) {
        Identity id = withSigningSeed(IDS.get(KeyType.X25519), Hex.decode(seedHex, "seed"));
        try {
            assertThat(Hex.encode(id.recipient().signingPublicKey())).isEqualTo(publicHex);
            byte[] message = messageHex == null ? new byte[0] : Hex.decode(messageHex, "message");
            byte[] sig = id.sign(message);
            assertThat(Hex.encode(sig)).isEqualTo(signatureHex);
            assertThat(id.recipient().verify(message, sig)).isTrue();
            message = Arrays.copyOf(message, message.length + 1);
            assertThat(id.recipient().verify(message, sig)).as("another message").isFalse();
        } finally {
            id.destroy();
        }
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void signaturesVerifyUnderTheRecipientAndMatchBouncyCastlesSigner(KeyType type) {
        Identity id = IDS.get(type);
        byte[] message = "keyway signs this".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        org.bouncycastle.crypto.signers.Ed25519Signer bc = new org.bouncycastle.crypto.signers.Ed25519Signer();
        bc.init(true, new org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters(id.signingSeed(), 0));
        bc.update(message, 0, message.length);
        assertThat(id.sign(message)).isEqualTo(bc.generateSignature());
        assertThat(id.recipient().verify(message, id.sign(message))).isTrue();
        assertThat(IDS.get(type == KeyType.X25519 ? KeyType.XWING : KeyType.X25519).recipient().verify(message, id.sign(message)))
                .as("another identity's key").isFalse();
    }

    /** {@code base} with its signing seed replaced (through the secret key string, as a file would hold it). */
    private static Identity withSigningSeed(Identity base, byte[] seed) {
        Bech32.Decoded d = Bech32.decode(base.encodeSecret(), 10_000, "secret key");
        byte[] data = d.data();
        System.arraycopy(seed, 0, data, 0, seed.length);
        return Identity.parse(Bech32.encodeUpper(d.hrp(), data));
    }

    private static byte[] filled(int n, int v) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) v);
        return b;
    }

    private static void assertCode(ThrowingCallable call, ErrorCode code, String messagePart, String secret) {
        assertThatThrownBy(call).isInstanceOfSatisfying(KeywayException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.oneLine()).doesNotContain("\n").doesNotContain("\r");
            if (messagePart != null) {
                assertThat(e.getMessage()).contains(messagePart);
            }
            if (secret != null) {
                String body = secret.substring(secret.lastIndexOf('1') + 1);
                assertThat(e.oneLine().toUpperCase(Locale.ROOT)).doesNotContain(body.substring(0, Math.min(16, body.length())));
            }
        });
    }
}
