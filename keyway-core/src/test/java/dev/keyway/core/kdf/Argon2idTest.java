package dev.keyway.core.kdf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;

class Argon2idTest {
    private static final HexFormat HEX = HexFormat.of();

    /** RFC 9106 section 5.3 (Argon2id test vector, version 0x13). */
    @Test
    void rfc9106Section53TestVector() {
        byte[] password = filled(32, 0x01);
        byte[] salt = filled(16, 0x02);
        byte[] secret = filled(8, 0x03);
        byte[] ad = filled(12, 0x04);

        byte[] tag = Argon2id.derive(password, salt, secret, ad, 32, 3, 4, 32);

        assertThat(HEX.formatHex(tag))
                .isEqualTo("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659");
    }

    @Test
    void shortOverloadEqualsNoSecretNoAssociatedData() {
        byte[] password = "correct horse".getBytes();
        byte[] salt = "NaCl-NaCl-NaCl!!".getBytes();
        assertThat(Argon2id.derive(password, salt, 64, 2, 2, 32))
                .isEqualTo(Argon2id.derive(password, salt, null, null, 64, 2, 2, 32))
                .isEqualTo(Argon2id.derive(password, salt, new byte[0], new byte[0], 64, 2, 2, 32))
                .isEqualTo(bouncyCastle(password, salt, new byte[0], new byte[0], 64, 2, 2, 32));
    }

    /**
     * Differential test against Bouncy Castle's sequential Argon2BytesGenerator. The seed is fixed so
     * a failure reproduces; every case name carries its parameters.
     */
    @TestFactory
    Stream<DynamicTest> matchesBouncyCastleOnRandomParameters() {
        Random rnd = new Random(0x4b6579776179L);
        List<DynamicTest> cases = new ArrayList<>();
        // Edges first: m exactly 8p, one word short of the next multiple of 4p, tags around H''s
        // 64-byte switch, several address blocks per segment (segment length > 128), empty password.
        cases.add(differential(rnd, 8, 1, 1, 4, 0));
        cases.add(differential(rnd, 64, 1, 8, 64, 16));
        cases.add(differential(rnd, 63 + 8 * 4, 2, 4, 65, 7));
        cases.add(differential(rnd, 4096, 1, 1, 32, 5));
        cases.add(differential(rnd, 4095, 2, 3, 100, 3));
        cases.add(differential(rnd, 2048 + 5, 3, 2, 96, 1));
        for (int i = 0; i < 300; i++) {
            int p = 1 + rnd.nextInt(8);
            int m = 8 * p + rnd.nextInt(4096 - 8 * p + 1);
            int t = 1 + rnd.nextInt(4);
            int tag = 4 + rnd.nextInt(97);
            int passwordLength = rnd.nextInt(5) == 0 ? 0 : rnd.nextInt(64);
            cases.add(differential(rnd, m, t, p, tag, passwordLength));
        }
        return cases.stream();
    }

    private static DynamicTest differential(Random rnd, int m, int t, int p, int tagLength, int passwordLength) {
        byte[] password = randomBytes(rnd, passwordLength);
        byte[] salt = randomBytes(rnd, 8 + rnd.nextInt(25));
        byte[] secret = randomBytes(rnd, rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(33));
        byte[] ad = randomBytes(rnd, rnd.nextInt(3) == 0 ? 0 : rnd.nextInt(41));
        String name = String.format("m=%d t=%d p=%d T=%d |P|=%d |S|=%d |K|=%d |X|=%d",
                m, t, p, tagLength, password.length, salt.length, secret.length, ad.length);
        return DynamicTest.dynamicTest(name, () -> assertThat(HEX.formatHex(
                        Argon2id.derive(password, salt, secret, ad, m, t, p, tagLength)))
                .isEqualTo(HEX.formatHex(bouncyCastle(password, salt, secret, ad, m, t, p, tagLength))));
    }

    @Test
    void rejectsParametersOutsideRfc9106Section31() {
        byte[] pw = new byte[4];
        byte[] salt = new byte[16];
        assertRejected(() -> Argon2id.derive(pw, salt, 64, 1, 0, 32), "parallelism");
        assertRejected(() -> Argon2id.derive(pw, salt, 64, 1, -1, 32), "parallelism");
        assertRejected(() -> Argon2id.derive(pw, salt, Integer.MAX_VALUE, 1, 1 << 24, 32), "parallelism");
        assertRejected(() -> Argon2id.derive(pw, salt, 31, 1, 4, 32), "memory");
        assertRejected(() -> Argon2id.derive(pw, salt, 0, 1, 1, 32), "memory");
        assertRejected(() -> Argon2id.derive(pw, salt, -8, 1, 1, 32), "memory");
        assertRejected(() -> Argon2id.derive(pw, salt, 64, 0, 1, 32), "iterations");
        assertRejected(() -> Argon2id.derive(pw, salt, 64, -3, 1, 32), "iterations");
        assertRejected(() -> Argon2id.derive(pw, salt, 64, 1, 1, 3), "tag length");
        assertRejected(() -> Argon2id.derive(pw, salt, 64, 1, 1, 0), "tag length");
        assertRejected(() -> Argon2id.derive(pw, new byte[7], 64, 1, 1, 32), "salt");
        assertRejected(() -> Argon2id.derive(pw, null, 64, 1, 1, 32), "salt");
        assertRejected(() -> Argon2id.derive(null, salt, 64, 1, 1, 32), "password");
        // Far beyond one Java array: must be refused before any allocation is attempted.
        assertRejected(() -> Argon2id.derive(pw, salt, Integer.MAX_VALUE, 1, 1, 32), "too large");
    }

    @Test
    void acceptsTheSmallestLegalParameters() {
        byte[] salt = new byte[8];
        assertThat(Argon2id.derive(new byte[0], salt, 8, 1, 1, 4))
                .isEqualTo(bouncyCastle(new byte[0], salt, new byte[0], new byte[0], 8, 1, 1, 4));
    }

    @Test
    void sameInputSameOutputAndInputsUntouched() {
        byte[] password = "hunter2".getBytes();
        byte[] salt = filled(16, 0x5a);
        byte[] secret = filled(8, 0x33);
        byte[] ad = filled(5, 0x44);
        byte[] first = Argon2id.derive(password, salt, secret, ad, 256, 2, 4, 32);
        // Different work in between must not leak into the next call.
        Argon2id.derive("other".getBytes(), filled(16, 0x11), 512, 3, 3, 48);
        byte[] second = Argon2id.derive(password, salt, secret, ad, 256, 2, 4, 32);
        assertThat(second).isEqualTo(first).isNotSameAs(first);
        assertThat(password).isEqualTo("hunter2".getBytes());
        assertThat(salt).isEqualTo(filled(16, 0x5a));
        assertThat(secret).isEqualTo(filled(8, 0x33));
        assertThat(ad).isEqualTo(filled(5, 0x44));
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void concurrentCallsFromTwoThreadsAreIndependent() throws Exception {
        int rounds = 12;
        byte[][] passwords = new byte[rounds][];
        byte[][] expected = new byte[rounds][];
        Random rnd = new Random(7);
        for (int i = 0; i < rounds; i++) {
            passwords[i] = randomBytes(rnd, 1 + i);
            expected[i] = Argon2id.derive(passwords[i], filled(16, i), 1024 + 8 * i, 2, 1 + i % 5, 32);
        }
        ExecutorService callers = Executors.newFixedThreadPool(2);
        try {
            List<Callable<Void>> jobs = new ArrayList<>();
            for (int thread = 0; thread < 2; thread++) {
                int offset = thread;
                jobs.add(() -> {
                    // The two threads walk the cases in opposite orders, so they overlap with
                    // different parameters in flight at the same time.
                    for (int k = 0; k < rounds; k++) {
                        int i = offset == 0 ? k : rounds - 1 - k;
                        byte[] actual = Argon2id.derive(passwords[i], filled(16, i), 1024 + 8 * i, 2, 1 + i % 5, 32);
                        assertThat(actual).as("case %d on thread %d", i, offset).isEqualTo(expected[i]);
                    }
                    return null;
                });
            }
            for (Future<Void> f : callers.invokeAll(jobs)) {
                f.get();
            }
        } finally {
            callers.shutdownNow();
        }
    }

    @Test
    void helperThreadsAreNamedDaemons() {
        Argon2id.derive(new byte[1], new byte[8], 256, 1, 4, 32);
        if (Runtime.getRuntime().availableProcessors() < 2) {
            return; // inline on one processor: no helpers to look at
        }
        List<Thread> helpers = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("keyway-argon2-"))
                .toList();
        assertThat(helpers).isNotEmpty().allSatisfy(t -> assertThat(t.isDaemon()).isTrue());
    }

    private static void assertRejected(Runnable call, String messagePart) {
        assertThatThrownBy(call::run)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(messagePart);
    }

    static byte[] bouncyCastle(byte[] password, byte[] salt, byte[] secret, byte[] ad,
                               int m, int t, int p, int tagLength) {
        Argon2Parameters params = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withIterations(t)
                .withMemoryAsKB(m)
                .withParallelism(p)
                .withSalt(salt)
                .withSecret(secret)
                .withAdditional(ad)
                .build();
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(params);
        byte[] out = new byte[tagLength];
        generator.generateBytes(password, out);
        return out;
    }

    private static byte[] filled(int length, int value) {
        byte[] b = new byte[length];
        Arrays.fill(b, (byte) value);
        return b;
    }

    private static byte[] randomBytes(Random rnd, int length) {
        byte[] b = new byte[length];
        rnd.nextBytes(b);
        return b;
    }
}
