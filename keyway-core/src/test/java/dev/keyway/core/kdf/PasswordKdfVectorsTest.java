package dev.keyway.core.kdf;

import dev.keyway.core.Vectors;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.kdf.KdfParams.Argon2idParams;
import dev.keyway.core.kdf.KdfParams.Pbkdf2Params;
import dev.keyway.core.kdf.KdfParams.ScryptParams;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * RFC 7914 known answers for the password KDFs (section 11: PBKDF2-HMAC-SHA-256, section 12: scrypt) through
 * {@link KdfParams}, and the {@link PasswordKdf} policy, parameter parsing and PHC strings around them.
 * Vectors: {@code src/test/resources/vectors/rfc7914-scrypt-pbkdf2.txt}. The RFC 9106 section 5.3 Argon2id
 * vector needs a secret and associated data, which {@link KdfParams} cannot pass; {@code Argon2idTest} covers it.
 */
class PasswordKdfVectorsTest {
    private static final Map<String, Map<String, String>> VECTORS = Vectors.load("/vectors/rfc7914-scrypt-pbkdf2.txt");
    /** Small Argon2id parameters for fast tests. */
    private static final Argon2idParams SMALL_ARGON2 = new Argon2idParams(256, 1, 2);
    private static final byte[] PASSWORD = "correct horse battery staple".getBytes(StandardCharsets.UTF_8);
    private static final byte[] SALT16 = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f");

    // ---- RFC 7914 section 12: scrypt -------------------------------------------------------------

    // RFC 7914 section 12, first three vectors (the fourth, N = 1048576, needs 1 GiB and is not run).
    @ParameterizedTest(name = "RFC 7914 section {0}")
    @ValueSource(strings = {"12.1", "12.2", "12.3"})
    void scryptMatchesRfc7914Section12(String section) {
        Map<String, String> v = VECTORS.get(section);
        assertThat(v.get("kdf")).isEqualTo("scrypt");
        int n = Integer.parseInt(v.get("N"));
        assertThat(Integer.bitCount(n)).isEqualTo(1);
        ScryptParams params = new ScryptParams(Integer.numberOfTrailingZeros(n),
                Integer.parseInt(v.get("r")), Integer.parseInt(v.get("p")));
        assertThat(params.n()).isEqualTo(n);
        int dkLen = Integer.parseInt(v.get("dkLen"));
        byte[] dk = params.derive(ascii(v, "P"), ascii(v, "S"), dkLen);
        assertThat(dk).hasSize(dkLen).isEqualTo(hex(v, "DK"));
    }

    // RFC 7914 section 12, fourth vector (N = 2^20, r = 8): 128 * r * N = 1 GiB, exactly the cap. Only the
    // parameter bound is checked here; deriving would allocate 1 GiB.
    @Test
    void scryptFourthVectorParametersSitExactlyAtTheMemoryCap() {
        Map<String, String> v = VECTORS.get("12.4");
        assertThat(v.get("skip")).isNotNull();
        int n = Integer.parseInt(v.get("N"));
        int r = Integer.parseInt(v.get("r"));
        assertThat(128L * r * n).isEqualTo(ScryptParams.MAX_MEMORY_BYTES);
        ScryptParams atCap = new ScryptParams(Integer.numberOfTrailingZeros(n), r, Integer.parseInt(v.get("p")));
        assertThat(atCap.n()).isEqualTo(1_048_576);
        assertThatThrownBy(() -> new ScryptParams(21, 8, 1)).satisfies(code(ErrorCode.POLICY));
        assertThatThrownBy(() -> new ScryptParams(20, 9, 1)).satisfies(code(ErrorCode.POLICY));
    }

    // ---- RFC 7914 section 11: PBKDF2-HMAC-SHA-256 ---------------------------------------------------

    // RFC 7914 section 11, both vectors (c = 1 and c = 80000).
    @ParameterizedTest(name = "RFC 7914 section {0}")
    @ValueSource(strings = {"11.1", "11.2"})
    void pbkdf2MatchesRfc7914Section11(String section) {
        Map<String, String> v = VECTORS.get(section);
        assertThat(v.get("kdf")).isEqualTo("pbkdf2-hmac-sha256");
        int dkLen = Integer.parseInt(v.get("dkLen"));
        byte[] dk = new Pbkdf2Params(Integer.parseInt(v.get("c"))).derive(ascii(v, "P"), ascii(v, "S"), dkLen);
        assertThat(dk).hasSize(dkLen).isEqualTo(hex(v, "DK"));
    }

    // RFC 8018 section 5.2: DK = T_1 || T_2 || ..., so a shorter dkLen is a prefix (RFC 7914 section 11, c = 1).
    @Test
    void pbkdf2ShorterOutputIsAPrefix() {
        Map<String, String> v = VECTORS.get("11.1");
        byte[] full = hex(v, "DK");
        byte[] dk = new Pbkdf2Params(1).derive(ascii(v, "P"), ascii(v, "S"), 20);
        assertThat(dk).isEqualTo(java.util.Arrays.copyOf(full, 20));
    }

    // ---- Argon2id through PasswordKdf, cross-checked against Bouncy Castle's independent generator ----

    // RFC 9106 section 3.1 inputs (P, S, p, T, m, t, v = 0x13, no K, no X): Keyway's Argon2id must equal Bouncy
    // Castle's Argon2BytesGenerator byte for byte, at small parameters and at Keyway's defaults.
    @Test
    void argon2idSmallParametersMatchBouncyCastle() {
        PasswordKdf.DerivedKey key = PasswordKdf.derive(PASSWORD, SALT16, SMALL_ARGON2, 32);
        assertThat(key.key()).isEqualTo(bouncyCastleArgon2id(PASSWORD, SALT16, 256, 1, 2, 32));
        assertThat(key.salt()).isEqualTo(SALT16);
        assertThat(key.params()).isEqualTo(SMALL_ARGON2);
    }

    @Test
    void argon2idDefaultParametersMatchBouncyCastle() {
        KdfParams defaults = PasswordKdf.defaults("argon2id");
        assertThat(defaults).isEqualTo(new Argon2idParams(65536, 3, 4));
        PasswordKdf.DerivedKey key = PasswordKdf.derive(PASSWORD, SALT16, defaults, PasswordKdf.DEFAULT_LENGTH);
        assertThat(key.key()).hasSize(32).isEqualTo(bouncyCastleArgon2id(PASSWORD, SALT16, 65536, 3, 4, 32));
    }

    // ---- determinism --------------------------------------------------------------------------------

    static Stream<Arguments> smallParams() {
        return Stream.of(
                Arguments.of(SMALL_ARGON2),
                Arguments.of(new ScryptParams(10, 8, 1)),
                Arguments.of(new Pbkdf2Params(1000)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("smallParams")
    void sameInputsGiveTheSameKeyAndADifferentSaltADifferentOne(KdfParams params) {
        byte[] a = PasswordKdf.derive(PASSWORD, SALT16, params, 32).key();
        byte[] b = PasswordKdf.derive(PASSWORD.clone(), SALT16.clone(), params, 32).key();
        assertThat(b).isEqualTo(a);

        byte[] otherSalt = SALT16.clone();
        otherSalt[15] ^= 1;
        assertThat(PasswordKdf.derive(PASSWORD, otherSalt, params, 32).key()).isNotEqualTo(a);
        byte[] otherPassword = "correct horse battery stapler".getBytes(StandardCharsets.UTF_8);
        assertThat(PasswordKdf.derive(otherPassword, SALT16, params, 32).key()).isNotEqualTo(a);
        // Same parameters, the raw KDF: PasswordKdf adds policy, not a different derivation.
        assertThat(params.derive(PASSWORD, SALT16, 32)).isEqualTo(a);
    }

    @Test
    void derivedKeyIsNotPrintedAndCanBeZeroed() {
        PasswordKdf.DerivedKey key = PasswordKdf.derive(PASSWORD, SALT16, new Pbkdf2Params(1), 16);
        assertThat(key.key()).isNotEqualTo(new byte[16]);
        assertThat(key.toString()).isEqualTo("DerivedKey[$pbkdf2-sha256$i=1$AAECAwQFBgcICQoLDA0ODw, 16 bytes]");
        key.destroy();
        assertThat(key.key()).isEqualTo(new byte[16]);
    }

    // ---- salt and length policy ---------------------------------------------------------------------

    @ParameterizedTest(name = "salt of {0} bytes")
    @ValueSource(ints = {0, 1, 7, 65, 128})
    void saltOutside8To64BytesIsRefusedByPolicy(int saltLength) {
        assertThatThrownBy(() -> PasswordKdf.derive(PASSWORD, new byte[saltLength], new Pbkdf2Params(1), 32))
                .satisfies(code(ErrorCode.POLICY));
    }

    @ParameterizedTest(name = "salt of {0} bytes")
    @ValueSource(ints = {8, 16, 64})
    void saltOf8To64BytesIsAccepted(int saltLength) {
        assertThat(PasswordKdf.derive(PASSWORD, new byte[saltLength], new Pbkdf2Params(1), 32).key()).hasSize(32);
    }

    @ParameterizedTest(name = "{0}-byte key")
    @ValueSource(ints = {-1, 0, 1, 15, 65, 1024})
    void lengthOutside16To64IsRefusedByPolicy(int length) {
        assertThatThrownBy(() -> PasswordKdf.derive(PASSWORD, SALT16, new Pbkdf2Params(1), length))
                .satisfies(code(ErrorCode.POLICY));
    }

    @ParameterizedTest(name = "{0}-byte key")
    @ValueSource(ints = {16, 32, 64})
    void lengthOf16To64IsAccepted(int length) {
        assertThat(PasswordKdf.derive(PASSWORD, SALT16, new Pbkdf2Params(1), length).key()).hasSize(length);
    }

    // ---- PHC strings ------------------------------------------------------------------------------

    static Stream<Arguments> phcExamples() {
        return Stream.of(
                Arguments.of(SMALL_ARGON2, "$argon2id$v=19$m=256,t=1,p=2$AAECAwQFBgcICQoLDA0ODw"),
                Arguments.of(Argon2idParams.DEFAULT, "$argon2id$v=19$m=65536,t=3,p=4$AAECAwQFBgcICQoLDA0ODw"),
                Arguments.of(new ScryptParams(10, 8, 1), "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw"),
                Arguments.of(ScryptParams.DEFAULT, "$scrypt$ln=17,r=8,p=1$AAECAwQFBgcICQoLDA0ODw"),
                Arguments.of(new Pbkdf2Params(1000), "$pbkdf2-sha256$i=1000$AAECAwQFBgcICQoLDA0ODw"),
                Arguments.of(Pbkdf2Params.DEFAULT, "$pbkdf2-sha256$i=600000$AAECAwQFBgcICQoLDA0ODw"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("phcExamples")
    void phcFormatsAndParsesBack(KdfParams params, String expected) {
        String phc = PasswordKdf.phc(params, SALT16);
        assertThat(phc).isEqualTo(expected);
        PasswordKdf.Recipe recipe = PasswordKdf.parsePhc(phc);
        assertThat(recipe.params()).isEqualTo(params);
        assertThat(recipe.salt()).isEqualTo(SALT16);
        // Surrounding whitespace (a pasted line) is tolerated.
        assertThat(PasswordKdf.parsePhc("  " + phc + "\n").params()).isEqualTo(params);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("smallParams")
    void derivedKeyPhcReDerivesTheSameKey(KdfParams params) {
        byte[] salt = PasswordKdf.randomSalt();
        assertThat(salt).hasSize(PasswordKdf.DEFAULT_SALT);
        PasswordKdf.DerivedKey key = PasswordKdf.derive(PASSWORD, salt, params, 32);
        String phc = key.phc();
        assertThat(phc).startsWith("$" + params.kdf() + "$").endsWith("$" + Base64.getEncoder().withoutPadding().encodeToString(salt));
        assertThat(key.toString()).contains(phc).contains("32 bytes");

        PasswordKdf.Recipe recipe = PasswordKdf.parsePhc(phc);
        assertThat(recipe.params()).isEqualTo(params);
        assertThat(recipe.salt()).isEqualTo(salt);
        assertThat(PasswordKdf.derive(PASSWORD, recipe.salt(), recipe.params(), 32).key()).isEqualTo(key.key());
    }

    @Test
    void phcSaltIsUnpaddedStandardBase64() {
        byte[] salt = new byte[10];
        java.util.Arrays.fill(salt, (byte) 0xfb);
        String phc = PasswordKdf.phc(new Pbkdf2Params(1), salt);
        assertThat(phc).isEqualTo("$pbkdf2-sha256$i=1$" + Base64.getEncoder().withoutPadding().encodeToString(salt));
        // 10 bytes of 0xfb: both non-alphanumeric base64 digits and no '=' padding
        assertThat(phc).endsWith("$+/v7+/v7+/v7+w");
        assertThat(PasswordKdf.parsePhc(phc).salt()).isEqualTo(salt);
    }

    static Stream<Arguments> badPhcStrings() {
        return Stream.of(
                // not PHC at all
                Arguments.of("", ErrorCode.MALFORMED),
                Arguments.of("hello", ErrorCode.MALFORMED),
                Arguments.of("$", ErrorCode.MALFORMED),
                Arguments.of("$argon2id", ErrorCode.MALFORMED),
                Arguments.of("argon2id$v=19$m=256,t=1,p=2$AAECAwQFBgcICQoLDA0ODw", ErrorCode.MALFORMED),
                Arguments.of("$argon2id$v=19$m=256,t=1,p=2$", ErrorCode.MALFORMED),
                Arguments.of("$argon2id$v=19$m=256,t=1,p=2$AAEC AwQF", ErrorCode.MALFORMED),
                Arguments.of("$ARGON2ID$v=19$m=256,t=1,p=2$AAECAwQFBgcICQoLDA0ODw", ErrorCode.MALFORMED),
                // a trailing hash field: Keyway PHC strings carry no hash (it would be the key)
                Arguments.of("$argon2id$v=19$m=256,t=1,p=2$AAECAwQFBgcICQoLDA0ODw$c29tZWhhc2g", ErrorCode.MALFORMED),
                Arguments.of("$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$c29tZWhhc2g", ErrorCode.MALFORMED),
                Arguments.of("$pbkdf2-sha256$i=1000$AAECAwQFBgcICQoLDA0ODw$c29tZWhhc2g", ErrorCode.MALFORMED),
                // Argon2 version 16 (0x10) and a missing version
                Arguments.of("$argon2id$v=16$m=256,t=1,p=2$AAECAwQFBgcICQoLDA0ODw", ErrorCode.UNSUPPORTED),
                Arguments.of("$argon2id$m=256,t=1,p=2$AAECAwQFBgcICQoLDA0ODw", ErrorCode.MALFORMED),
                // a version field on a KDF that has none
                Arguments.of("$scrypt$v=19$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw", ErrorCode.MALFORMED),
                // non-canonical KDF names
                Arguments.of("$pbkdf2$i=1000$AAECAwQFBgcICQoLDA0ODw", ErrorCode.MALFORMED),
                Arguments.of("$argon2$m=256,t=1,p=2$AAECAwQFBgcICQoLDA0ODw", ErrorCode.MALFORMED),
                // unknown KDF: reported as KdfParams.canonicalKdf reports it
                Arguments.of("$bcrypt$i=1000$AAECAwQFBgcICQoLDA0ODw", ErrorCode.MALFORMED),
                Arguments.of("$argon2i$m=256,t=1,p=2$AAECAwQFBgcICQoLDA0ODw", ErrorCode.MALFORMED),
                // parameters: unknown key, out of range
                Arguments.of("$pbkdf2-sha256$x=1000$AAECAwQFBgcICQoLDA0ODw", ErrorCode.USAGE),
                Arguments.of("$pbkdf2-sha256$i=0$AAECAwQFBgcICQoLDA0ODw", ErrorCode.POLICY),
                Arguments.of("$argon2id$v=19$m=4194305,t=1,p=2$AAECAwQFBgcICQoLDA0ODw", ErrorCode.POLICY),
                Arguments.of("$scrypt$ln=25,r=8,p=1$AAECAwQFBgcICQoLDA0ODw", ErrorCode.POLICY),
                // salt that is not valid base64 (length 1 mod 4)
                Arguments.of("$pbkdf2-sha256$i=1000$AAECA", ErrorCode.MALFORMED));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("badPhcStrings")
    void parsePhcRejects(String text, ErrorCode expected) {
        assertThatThrownBy(() -> PasswordKdf.parsePhc(text)).satisfies(code(expected));
    }

    @Test
    void parsePhcDoesNotEchoHugeInput() {
        String huge = "$argon2id$" + "x".repeat(10_000);
        assertThatThrownBy(() -> PasswordKdf.parsePhc(huge))
                .isInstanceOfSatisfying(KeywayException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED);
                    assertThat(e.getMessage().length()).isLessThan(200);
                });
    }

    // ---- --params parsing -------------------------------------------------------------------------

    @Test
    void paramsParsesArgon2idText() {
        assertThat(PasswordKdf.params("argon2id", "m=65536,t=3,p=4")).isEqualTo(new Argon2idParams(65536, 3, 4));
        assertThat(PasswordKdf.params("argon2id", "m=256,t=1,p=2")).isEqualTo(SMALL_ARGON2);
        assertThat(PasswordKdf.params("argon2id", " p = 2 , m = 256 , t = 1 ")).isEqualTo(SMALL_ARGON2);
        assertThat(PasswordKdf.params("ARGON2", "M=256,T=1,P=2")).isEqualTo(SMALL_ARGON2);
        // missing keys take the defaults
        assertThat(PasswordKdf.params("argon2id", "t=1")).isEqualTo(new Argon2idParams(65536, 1, 4));
        assertThat(PasswordKdf.params("argon2id", "")).isEqualTo(Argon2idParams.DEFAULT);
        assertThat(PasswordKdf.params("argon2id", null)).isEqualTo(Argon2idParams.DEFAULT);
        // bounds are inclusive
        assertThat(PasswordKdf.params("argon2id", "m=8,t=1,p=1")).isEqualTo(new Argon2idParams(8, 1, 1));
        assertThat(PasswordKdf.params("argon2id", "m=4194304,t=64,p=64"))
                .isEqualTo(new Argon2idParams(Argon2idParams.MAX_MEMORY_KIB, Argon2idParams.MAX_ITERATIONS, Argon2idParams.MAX_PARALLELISM));
    }

    @Test
    void paramsParsesScryptAndPbkdf2Text() {
        assertThat(PasswordKdf.params("scrypt", "ln=10,r=8,p=1")).isEqualTo(new ScryptParams(10, 8, 1));
        assertThat(PasswordKdf.params("scrypt", "n=1024,r=8,p=1")).isEqualTo(new ScryptParams(10, 8, 1));
        assertThat(PasswordKdf.params("scrypt", "")).isEqualTo(ScryptParams.DEFAULT);
        assertThat(PasswordKdf.params("pbkdf2", "i=1000")).isEqualTo(new Pbkdf2Params(1000));
        assertThat(PasswordKdf.params("pbkdf2-hmac-sha256", "")).isEqualTo(Pbkdf2Params.DEFAULT);
    }

    static Stream<Arguments> badParams() {
        return Stream.of(
                Arguments.of("argon2id", "m=256,m=512", ErrorCode.USAGE),          // duplicate key
                Arguments.of("argon2id", "m=256,M=512", ErrorCode.USAGE),          // duplicate, case-folded
                Arguments.of("argon2id", "m=256,x=1", ErrorCode.USAGE),            // unknown key
                Arguments.of("argon2id", "ln=10", ErrorCode.USAGE),                // another KDF's key
                Arguments.of("argon2id", "m=abc", ErrorCode.USAGE),                // not a number
                Arguments.of("argon2id", "m=-1", ErrorCode.USAGE),                 // sign
                Arguments.of("argon2id", "m=+1", ErrorCode.USAGE),
                Arguments.of("argon2id", "m=1.5", ErrorCode.USAGE),
                Arguments.of("argon2id", "m=0x100", ErrorCode.USAGE),
                Arguments.of("argon2id", "m=", ErrorCode.USAGE),                   // empty value
                Arguments.of("argon2id", "m", ErrorCode.USAGE),                    // no '='
                Arguments.of("argon2id", "=256", ErrorCode.USAGE),                 // no key
                Arguments.of("argon2id", "m=256,", ErrorCode.USAGE),               // trailing comma
                Arguments.of("argon2id", "m=256;t=1", ErrorCode.USAGE),            // wrong separator
                Arguments.of("argon2id", "m=99999999999", ErrorCode.USAGE),        // 11 digits
                Arguments.of("argon2id", "m=4294967295", ErrorCode.USAGE),         // 10 digits, above int
                Arguments.of("argon2id", "m=256,t=1,p=2," + "t".repeat(200) + "=1", ErrorCode.USAGE), // too long
                Arguments.of("argon2id", "m=16,t=1,p=4", ErrorCode.POLICY),        // m < 8p
                Arguments.of("argon2id", "m=7,t=1,p=1", ErrorCode.POLICY),
                Arguments.of("argon2id", "m=4194305,t=1,p=1", ErrorCode.POLICY),   // above 4 GiB
                Arguments.of("argon2id", "m=2147483647,t=1,p=1", ErrorCode.POLICY),
                Arguments.of("argon2id", "t=0", ErrorCode.POLICY),
                Arguments.of("argon2id", "t=65", ErrorCode.POLICY),
                Arguments.of("argon2id", "p=0", ErrorCode.POLICY),
                Arguments.of("argon2id", "p=65,m=65536", ErrorCode.POLICY),
                Arguments.of("scrypt", "n=1000", ErrorCode.USAGE),                 // not a power of two
                Arguments.of("scrypt", "n=1", ErrorCode.USAGE),
                Arguments.of("scrypt", "n=1024,ln=10", ErrorCode.USAGE),           // both
                Arguments.of("scrypt", "ln=0", ErrorCode.POLICY),
                Arguments.of("scrypt", "ln=21,r=8,p=1", ErrorCode.POLICY),         // 2 GiB
                Arguments.of("scrypt", "r=65", ErrorCode.POLICY),
                Arguments.of("scrypt", "p=17", ErrorCode.POLICY),
                Arguments.of("pbkdf2", "i=0", ErrorCode.POLICY),
                Arguments.of("pbkdf2", "i=100000001", ErrorCode.POLICY),
                Arguments.of("pbkdf2", "c=1000", ErrorCode.USAGE),
                Arguments.of("bcrypt", "", ErrorCode.USAGE),                       // unknown KDF
                Arguments.of("argon2d", "m=256", ErrorCode.USAGE));
    }

    @ParameterizedTest(name = "{0} \"{1}\" -> {2}")
    @MethodSource("badParams")
    void paramsRejects(String kdf, String text, ErrorCode expected) {
        assertThatThrownBy(() -> PasswordKdf.params(kdf, text)).satisfies(code(expected));
    }

    // ---- helpers ----------------------------------------------------------------------------------

    private static java.util.function.Consumer<Throwable> code(ErrorCode expected) {
        return t -> assertThat(t).isInstanceOfSatisfying(KeywayException.class,
                e -> assertThat(e.code()).as("error code of: %s", e.getMessage()).isEqualTo(expected));
    }

    private static byte[] bouncyCastleArgon2id(byte[] password, byte[] salt, int m, int t, int p, int length) {
        Argon2BytesGenerator g = new Argon2BytesGenerator();
        g.init(new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withMemoryAsKB(m).withIterations(t).withParallelism(p).withSalt(salt).build());
        byte[] out = new byte[length];
        g.generateBytes(password, out);
        return out;
    }

    private static byte[] ascii(Map<String, String> v, String key) {
        String s = v.get(key);
        if (s == null || s.length() < 2 || !s.startsWith("\"") || !s.endsWith("\"")) {
            throw new IllegalStateException("vector " + key + " is not a quoted string: " + s);
        }
        return s.substring(1, s.length() - 1).getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] hex(Map<String, String> v, String key) {
        return HexFormat.of().parseHex(v.get(key).replaceAll("\\s+", ""));
    }
}
