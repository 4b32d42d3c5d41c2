package dev.keyway.tls.decrypt;

import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.keylog.ParsedKeyLog;
import dev.keyway.tls.decrypt.DecryptedConnection.Direction;
import dev.keyway.tls.decrypt.DecryptedConnection.Status;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real OpenSSL 3.0 connections recorded byte for byte by tls-streams/make.sh (a relay between
 * s_client and s_server -www), decrypted with the key log s_client wrote: the request and the response
 * must come back exactly.
 */
class TrafficDecryptorTest {

    static byte[] resource(String name) throws IOException {
        try (InputStream in = TrafficDecryptorTest.class.getResourceAsStream("/tls-streams/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            return in.readAllBytes();
        }
    }

    static ParsedKeyLog keyLog() throws IOException {
        return ParsedKeyLog.read(new ByteArrayInputStream(resource("keylog.txt")));
    }

    static byte[] joined(DecryptedConnection c, Direction d) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        c.data().stream().filter(a -> a.direction() == d).forEach(a -> out.writeBytes(a.bytes()));
        return out.toByteArray();
    }

    @ParameterizedTest
    @CsvSource({
            "tls13-aes128, TLS13, TLS_AES_128_GCM_SHA256",
            "tls13-aes256, TLS13, TLS_AES_256_GCM_SHA384",
            "tls13-chacha, TLS13, TLS_CHACHA20_POLY1305_SHA256",
            "tls13-hrr, TLS13, TLS_AES_256_GCM_SHA384",
            "tls12-ecdsa-aes128gcm, TLS12, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "tls12-rsa-aes256gcm, TLS12, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "tls12-rsa-chacha, TLS12, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            "tls12-aes128sha-etm, TLS12, TLS_RSA_WITH_AES_128_CBC_SHA",
            "tls12-aes128sha-mte, TLS12, TLS_RSA_WITH_AES_128_CBC_SHA",
            "tls10-aes128sha, TLS10, TLS_RSA_WITH_AES_128_CBC_SHA",
    })
    void recoversRequestAndResponse(String name, TlsVersion version, String suite) throws IOException {
        DecryptedConnection c = new TrafficDecryptor(keyLog()).decrypt(resource(name + ".c2s"), resource(name + ".s2c"));
        assertThat(c.status()).as(String.join("; ", c.notes())).isEqualTo(Status.DECRYPTED);
        assertThat(c.version()).isEqualTo(version);
        assertThat(c.suite().name()).isEqualTo(suite);
        assertThat(joined(c, Direction.CLIENT_TO_SERVER)).isEqualTo(resource(name + ".request"));
        assertThat(joined(c, Direction.SERVER_TO_CLIENT)).isEqualTo(resource(name + ".response"));
        assertThat(c.resumed()).isFalse();
    }

    @Test
    void encryptThenMacIsNoticed() throws IOException {
        DecryptedConnection etm = new TrafficDecryptor(keyLog()).decrypt(resource("tls12-aes128sha-etm.c2s"),
                resource("tls12-aes128sha-etm.s2c"));
        DecryptedConnection mte = new TrafficDecryptor(keyLog()).decrypt(resource("tls12-aes128sha-mte.c2s"),
                resource("tls12-aes128sha-mte.s2c"));
        assertThat(etm.notes()).anyMatch(n -> n.contains("encrypt-then-MAC"));
        assertThat(mte.notes()).noneMatch(n -> n.contains("encrypt-then-MAC"));
    }

    @Test
    void aSuiteKeywayDoesNotKnowIsReportedNotGuessed() throws IOException {
        byte[] s2c = resource("tls12-rsa-aes256gcm.s2c");
        // ServerHello body: version(2) random(32) session_id_len(1) session_id cipher_suite(2) ...
        int sidLen = s2c[5 + 4 + 2 + 32] & 0xff;
        int at = 5 + 4 + 2 + 32 + 1 + sidLen;
        s2c[at] = 0x00;
        s2c[at + 1] = 0x05; // TLS_RSA_WITH_RC4_128_SHA
        DecryptedConnection c = new TrafficDecryptor(keyLog()).decrypt(resource("tls12-rsa-aes256gcm.c2s"), s2c);
        assertThat(c.status()).isEqualTo(Status.FAILED);
        assertThat(c.suite()).isNull();
        assertThat(c.notes()).anyMatch(n -> n.contains("0x0005"));
    }

    @Test
    void withoutSecretsSaysSo() throws IOException {
        ParsedKeyLog empty = ParsedKeyLog.read(new ByteArrayInputStream(new byte[0]));
        DecryptedConnection c = new TrafficDecryptor(empty).decrypt(resource("tls13-aes128.c2s"), resource("tls13-aes128.s2c"));
        assertThat(c.status()).isEqualTo(Status.NO_SECRETS);
        assertThat(c.data()).isEmpty();
        assertThat(c.notes()).anyMatch(n -> n.contains("no line for client random"));
    }

    @Test
    void tls13WithoutHandshakeSecretsStillReadsApplicationData() throws IOException {
        String kept = new String(resource("keylog.txt"), StandardCharsets.US_ASCII).lines()
                .filter(l -> !l.contains("HANDSHAKE")).reduce("", (a, b) -> a + b + "\n");
        ParsedKeyLog log = ParsedKeyLog.read(new ByteArrayInputStream(kept.getBytes(StandardCharsets.US_ASCII)));
        DecryptedConnection c = new TrafficDecryptor(log).decrypt(resource("tls13-aes128.c2s"), resource("tls13-aes128.s2c"));
        assertThat(c.status()).isEqualTo(Status.DECRYPTED);
        assertThat(joined(c, Direction.CLIENT_TO_SERVER)).isEqualTo(resource("tls13-aes128.request"));
        assertThat(joined(c, Direction.SERVER_TO_CLIENT)).isEqualTo(resource("tls13-aes128.response"));
    }

    /**
     * Without handshake secrets every encrypted handshake record is tried under the first traffic key, at the
     * same sequence number, until one opens: the JDK's ChaCha20-Poly1305 refuses a second init with one key and
     * nonce, which the record protection must work around.
     */
    @ParameterizedTest
    @CsvSource({"tls13-aes256", "tls13-chacha"})
    void tls13WithoutHandshakeSecretsTriesEveryRecord(String name) throws IOException {
        String kept = new String(resource("keylog.txt"), StandardCharsets.US_ASCII).lines()
                .filter(l -> !l.contains("HANDSHAKE")).reduce("", (a, b) -> a + b + "\n");
        ParsedKeyLog log = ParsedKeyLog.read(new ByteArrayInputStream(kept.getBytes(StandardCharsets.US_ASCII)));
        DecryptedConnection c = new TrafficDecryptor(log).decrypt(resource(name + ".c2s"), resource(name + ".s2c"));
        assertThat(c.status()).as(String.join("; ", c.notes())).isEqualTo(Status.DECRYPTED);
        assertThat(c.notes()).anyMatch(n -> n.contains("handshake records skipped"));
        assertThat(joined(c, Direction.CLIENT_TO_SERVER)).isEqualTo(resource(name + ".request"));
        assertThat(joined(c, Direction.SERVER_TO_CLIENT)).isEqualTo(resource(name + ".response"));
    }

    @Test
    void secretsOfAnotherConnectionFail() throws IOException {
        // Give the aes128 connection the secrets of the chacha one (same suite family, wrong keys).
        String log = new String(resource("keylog.txt"), StandardCharsets.US_ASCII);
        ParsedKeyLog good = keyLog();
        DecryptedConnection chacha = new TrafficDecryptor(good).decrypt(resource("tls13-chacha.c2s"), resource("tls13-chacha.s2c"));
        DecryptedConnection aes = new TrafficDecryptor(good).decrypt(resource("tls13-aes128.c2s"), resource("tls13-aes128.s2c"));
        String swapped = log.replace(dev.keyway.core.encoding.Hex.encode(aes.clientRandom()), "x")
                .replace(dev.keyway.core.encoding.Hex.encode(chacha.clientRandom()), dev.keyway.core.encoding.Hex.encode(aes.clientRandom()));
        ParsedKeyLog wrong = ParsedKeyLog.read(new ByteArrayInputStream(swapped.getBytes(StandardCharsets.US_ASCII)));
        DecryptedConnection c = new TrafficDecryptor(wrong).decrypt(resource("tls13-aes128.c2s"), resource("tls13-aes128.s2c"));
        assertThat(c.status()).isEqualTo(Status.FAILED);
        assertThat(c.data()).isEmpty();
    }

    @Test
    void tamperedRecordStopsThatDirection() throws IOException {
        byte[] s2c = resource("tls12-rsa-aes256gcm.s2c");
        s2c[s2c.length - 40] ^= 1; // inside the last records
        DecryptedConnection c = new TrafficDecryptor(keyLog()).decrypt(resource("tls12-rsa-aes256gcm.c2s"), s2c);
        assertThat(c.status()).isEqualTo(Status.FAILED);
        assertThat(c.notes()).anyMatch(n -> n.contains("did not decrypt"));
    }

    @Test
    void truncatedStreamsDecryptWhatIsThereAndSaySo() throws IOException {
        byte[] s2c = resource("tls13-aes128.s2c");
        byte[] response = resource("tls13-aes128.response");
        for (int cut = 0; cut < s2c.length; cut += 97) {
            DecryptedConnection c = new TrafficDecryptor(keyLog()).decrypt(resource("tls13-aes128.c2s"), Arrays.copyOf(s2c, cut));
            byte[] got = joined(c, Direction.SERVER_TO_CLIENT);
            assertThat(Arrays.copyOf(response, got.length)).isEqualTo(got);
        }
        DecryptedConnection c = new TrafficDecryptor(keyLog()).decrypt(resource("tls13-aes128.c2s"), Arrays.copyOf(s2c, s2c.length - 3));
        assertThat(c.notes()).anyMatch(n -> n.contains("capture truncated"));
    }

    @Test
    void randomDamageNeverThrows() throws IOException {
        long seed = new Random().nextLong();
        Random rnd = new Random(seed);
        ParsedKeyLog log = keyLog();
        String[] names = {"tls13-aes128", "tls12-aes128sha-mte", "tls10-aes128sha", "tls13-hrr"};
        for (int i = 0; i < 400; i++) {
            String name = names[rnd.nextInt(names.length)];
            byte[] c2s = resource(name + ".c2s");
            byte[] s2c = resource(name + ".s2c");
            byte[] victim = rnd.nextBoolean() ? c2s : s2c;
            for (int k = 0, n = 1 + rnd.nextInt(4); k < n; k++) {
                victim[rnd.nextInt(victim.length)] = (byte) rnd.nextInt(256);
            }
            try {
                DecryptedConnection c = new TrafficDecryptor(log).decrypt(c2s, s2c);
                assertThat(c.status()).isNotNull();
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + seed + " iteration " + i + " (" + name + ")", e);
            }
        }
    }
}
