package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;

import static dev.keyway.cli.Cli.p;
import static dev.keyway.cli.Cli.run;
import static org.assertj.core.api.Assertions.assertThat;

class IdentityAndBlobCommandsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private String keygen(String type, String name) {
        var r = run("keygen", "--type", type, "-o", p(dir.resolve(name)));
        assertThat(r.exit()).as(r.err()).isZero();
        return r.out().strip();
    }

    private Path newKey(String name) throws Exception {
        Path k = dir.resolve(name);
        Files.writeString(k, run("key", "new").out());
        return k;
    }

    @ParameterizedTest
    @ValueSource(strings = {"x25519", "xwing", "p256", "rsa3072"})
    void keygenWrapUnwrapRoundTripForEveryType(String type) throws Exception {
        String recipient = keygen(type, "id.key");
        assertThat(recipient).startsWith("kw" + type + "1");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("id.key")))).isEqualTo("rw-------");
        assertThat(run("pubkey", "-i", p(dir.resolve("id.key"))).out().strip()).isEqualTo(recipient);

        Path key = newKey("session.key");
        Path blob = dir.resolve("session.blob");
        var wrap = run("key", "wrap", "-r", recipient, "-o", p(blob), p(key));
        assertThat(wrap.exit()).as(wrap.err()).isZero();
        assertThat(Files.readString(blob)).startsWith("-----BEGIN KEYWAY KEY BLOB-----");
        var unwrap = run("key", "unwrap", "-i", p(dir.resolve("id.key")), "--json", p(blob));
        assertThat(unwrap.exit()).as(unwrap.err()).isZero();
        JsonNode j = JSON.readTree(unwrap.out());
        assertThat(j.get("key").asText()).isEqualTo(Files.readString(key).strip());
        assertThat(j.get("algorithm").asText()).isEqualTo("AES-256-GCM");
        assertThat(j.get("scheme").asText()).isEqualTo(type.equals("rsa3072") ? "rsa-oaep-sha256" : "hpke-" + type);
    }

    @Test
    void wrongIdentityFailsWithExit3AndSaysSo() throws Exception {
        String alice = keygen("x25519", "alice.key");
        keygen("x25519", "bob.key");
        keygen("xwing", "carol.key");
        Path blob = dir.resolve("b");
        assertThat(run("key", "wrap", "-r", alice, "-o", p(blob), p(newKey("k"))).exit()).isZero();
        var bob = run("key", "unwrap", "-i", p(dir.resolve("bob.key")), p(blob));
        assertThat(bob.exit()).isEqualTo(3);
        assertThat(bob.err()).contains("not wrapped for this identity");
        assertThat(bob.oneLineError()).isTrue();
        var carol = run("key", "unwrap", "-i", p(dir.resolve("carol.key")), p(blob));
        assertThat(carol.exit()).isEqualTo(3);
        assertThat(carol.oneLineError()).isTrue();
        // With several identities the right one is found.
        var both = run("key", "unwrap", "-i", p(dir.resolve("bob.key")), "-i", p(dir.resolve("alice.key")), p(blob));
        assertThat(both.exit()).as(both.err()).isZero();
    }

    @Test
    void tamperedTruncatedAndUnknownVersionBlobs() throws Exception {
        String alice = keygen("x25519", "alice.key");
        Path blob = dir.resolve("b");
        assertThat(run("key", "wrap", "-r", alice, "-o", p(blob), p(newKey("k"))).exit()).isZero();
        String armored = Files.readString(blob);
        byte[] bin = Base64.getDecoder().decode(armored.lines().filter(l -> !l.startsWith("-----")).reduce("", String::concat));

        byte[] flipped = bin.clone();
        flipped[flipped.length - 3] ^= 0x01;
        Path tampered = dir.resolve("tampered");
        Files.write(tampered, flipped);
        var t = run("key", "unwrap", "-i", p(dir.resolve("alice.key")), p(tampered));
        assertThat(t.exit()).isEqualTo(3);
        assertThat(t.err()).contains("corrupted or was altered");
        assertThat(t.oneLineError()).isTrue();

        Path truncated = dir.resolve("truncated");
        Files.writeString(truncated, armored.substring(0, armored.length() / 2));
        var tr = run("key", "unwrap", "-i", p(dir.resolve("alice.key")), p(truncated));
        assertThat(tr.exit()).isEqualTo(2);
        assertThat(tr.oneLineError()).isTrue();

        byte[] v2 = bin.clone();
        v2[4] = 2;
        Path future = dir.resolve("future");
        Files.write(future, v2);
        var f = run("key", "unwrap", "-i", p(dir.resolve("alice.key")), p(future));
        assertThat(f.exit()).isEqualTo(2);
        assertThat(f.err()).contains("version 2");

        Path garbage = dir.resolve("garbage");
        Files.writeString(garbage, "hello world\n");
        var g = run("key", "unwrap", "-i", p(dir.resolve("alice.key")), p(garbage));
        assertThat(g.exit()).isEqualTo(2);
        assertThat(g.oneLineError()).isTrue();
    }

    @Test
    void encryptedIdentityNeedsTheRightPassphrase() throws Exception {
        Path pass = dir.resolve("pass");
        Files.writeString(pass, "open sesame\n");
        var gen = run("keygen", "--type", "x25519", "-o", p(dir.resolve("id.key")), "--passphrase-file", p(pass), "--json");
        assertThat(gen.exit()).as(gen.err()).isZero();
        JsonNode j = JSON.readTree(gen.out());
        assertThat(j.get("encrypted").asBoolean()).isTrue();
        String recipient = j.get("recipient").asText();
        String text = Files.readString(dir.resolve("id.key"));
        assertThat(text).startsWith("-----BEGIN KEYWAY ENCRYPTED IDENTITY-----").doesNotContain("KEYWAY-SECRET-KEY");
        assertThat(run("pubkey", "-i", p(dir.resolve("id.key"))).out().strip()).isEqualTo(recipient);

        Path blob = dir.resolve("b");
        assertThat(run("key", "wrap", "-r", recipient, "-o", p(blob), p(newKey("k"))).exit()).isZero();
        assertThat(run("key", "unwrap", "-i", p(dir.resolve("id.key")), "--passphrase-file", p(pass), p(blob)).exit()).isZero();

        Path wrong = dir.resolve("wrong");
        Files.writeString(wrong, "open sesame!\n");
        var w = run("key", "unwrap", "-i", p(dir.resolve("id.key")), "--passphrase-file", p(wrong), p(blob));
        assertThat(w.exit()).isEqualTo(3);
        assertThat(w.err()).contains("wrong passphrase");
        assertThat(w.oneLineError()).isTrue();
    }

    @Test
    void kekWrapAndUnwrap() throws Exception {
        Path kek = dir.resolve("kek");
        assertThat(run("key", "new", "--alg", "aes-kw", "-o", p(kek)).exit()).isZero();
        Path key = newKey("k");
        Path blob = dir.resolve("b");
        assertThat(run("key", "wrap", "--kek-file", p(kek), "-o", p(blob), p(key)).exit()).isZero();
        assertThat(run("key", "unwrap", "--kek-file", p(kek), p(blob)).out().strip()).isEqualTo(Files.readString(key).strip());
        Path other = dir.resolve("kek2");
        assertThat(run("key", "new", "--alg", "aes-kw", "--bits", "128", "-o", p(other)).exit()).isZero();
        var wrong = run("key", "unwrap", "--kek-file", p(other), p(blob));
        assertThat(wrong.exit()).isEqualTo(3);
        keygen("x25519", "id.key");
        var mixed = run("key", "unwrap", "-i", p(dir.resolve("id.key")), p(blob));
        assertThat(mixed.exit()).isEqualTo(2);
        assertThat(mixed.err()).contains("--kek-file");
    }

    @Test
    void wrapKeepsTheAlgorithmFromJsonAndChecksItsLength() throws Exception {
        String alice = keygen("x25519", "alice.key");
        Path k = dir.resolve("k.json");
        Files.writeString(k, run("key", "new", "--alg", "hmac-sha384", "--json").out());
        Path blob = dir.resolve("b");
        assertThat(run("key", "wrap", "-r", alice, "-o", p(blob), p(k)).exit()).isZero();
        var j = JSON.readTree(run("key", "unwrap", "-i", p(dir.resolve("alice.key")), "--json", p(blob)).out());
        assertThat(j.get("algorithm").asText()).isEqualTo("HMAC-SHA-384");
        Path shortKey = dir.resolve("short");
        Files.writeString(shortKey, "00112233445566778899aabbccddeeff\n");
        var r = run("key", "wrap", "-r", alice, p(shortKey));
        assertThat(r.exit()).isEqualTo(4);
        assertThat(r.err()).contains("--alg");
        assertThat(run("key", "wrap", "-r", alice, "--alg", "aes-128-gcm", p(shortKey)).exit()).isZero();
    }

    @Test
    void badRecipientsAndIdentitiesAreUsageErrors() throws Exception {
        String alice = keygen("x25519", "alice.key");
        Path k = newKey("k");
        String typo = alice.substring(0, 20) + (alice.charAt(20) == 'q' ? 'p' : 'q') + alice.substring(21);
        var r = run("key", "wrap", "-r", typo, p(k));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("checksum");
        String secret = Files.readString(dir.resolve("alice.key")).lines().filter(l -> !l.startsWith("#")).findFirst().orElseThrow();
        var s = run("key", "wrap", "-r", secret, p(k));
        assertThat(s.exit()).isEqualTo(2);
        assertThat(s.err()).contains("secret key, not a recipient").doesNotContain(secret);
        var both = run("key", "wrap", "-r", alice, "--kek-file", p(k), p(k));
        assertThat(both.exit()).isEqualTo(2);
        var exists = run("keygen", "-o", p(dir.resolve("alice.key")));
        assertThat(exists.exit()).isEqualTo(2);
        assertThat(exists.err()).contains("already exists");
        assertThat(Files.readString(dir.resolve("alice.key"))).contains(secret);
    }

    @Test
    void verboseAddsAStackTrace() throws Exception {
        Path k = newKey("k");
        var r = run("--verbose", "key", "wrap", "-r", "kwx255191qqqqqq", p(k));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("\tat ");
    }

    @Test
    void keygenWithoutOutputPrintsTheIdentityAndTheRecipientOnStderr() {
        var r = run("keygen", "--type", "x25519");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("KEYWAY-SECRET-KEY-X25519-1");
        assertThat(r.err()).startsWith("Public key: kwx255191");
        assertThat(r.out()).contains("# recipient: kwx25519");
    }
}
