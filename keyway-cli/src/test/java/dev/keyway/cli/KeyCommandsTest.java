package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyway.core.encoding.Hex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.keyway.cli.Cli.p;
import static dev.keyway.cli.Cli.run;
import static org.assertj.core.api.Assertions.assertThat;

class KeyCommandsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void algorithmsListsTheRegistryAsTableAndJson() throws Exception {
        var table = run("algorithms");
        assertThat(table.exit()).isZero();
        assertThat(table.out()).contains("AES-256-GCM", "ChaCha20-Poly1305", "AES-KW", "HMAC-SHA-384", "3DES-112", "legacy");
        var json = run("algorithms", "--json");
        JsonNode algs = JSON.readTree(json.out()).get("algorithms");
        assertThat(algs).hasSize(12);
        JsonNode rc4 = null;
        for (JsonNode a : algs) {
            if (a.get("name").asText().equals("RC4")) {
                rc4 = a;
            }
        }
        assertThat(rc4).isNotNull();
        assertThat(rc4.get("status").asText()).isEqualTo("legacy");
        assertThat(rc4.get("minBits").asInt()).isEqualTo(40);
        assertThat(rc4.get("maxBits").asInt()).isEqualTo(128);
    }

    @Test
    void keyNewPrintsRandomKeysOfTheDefaultLength() {
        var a = run("key", "new");
        var b = run("key", "new");
        assertThat(a.exit()).isZero();
        assertThat(a.out().strip()).matches("[0-9a-f]{64}");
        assertThat(a.out()).isNotEqualTo(b.out());
        assertThat(run("key", "new", "--alg", "hmac-sha256", "--bits", "136").out().strip()).matches("[0-9a-f]{34}");
    }

    @Test
    void keyNewRefusesLengthsOutsideThePolicyWithExit4AndTheRange() {
        var r = run("key", "new", "--alg", "rc2", "--legacy", "--bits", "32");
        assertThat(r.exit()).isEqualTo(4);
        assertThat(r.err()).contains("40 to 128 bits");
        assertThat(r.oneLineError()).isTrue();
        assertThat(run("key", "new", "--alg", "aes-128-gcm", "--bits", "256").exit()).isEqualTo(4);
    }

    @Test
    void legacyAlgorithmsNeedTheLegacyFlag() {
        var refused = run("key", "new", "--alg", "3des");
        assertThat(refused.exit()).isEqualTo(4);
        assertThat(refused.err()).contains("legacy", "--legacy");
        var des = run("key", "new", "--alg", "des", "--legacy");
        assertThat(des.exit()).isZero();
        byte[] key = Hex.decode(des.out().strip(), "key");
        assertThat(key).hasSize(8);
        for (byte b : key) {
            assertThat(Integer.bitCount(b & 0xff) % 2).as("odd parity").isEqualTo(1);
        }
    }

    @Test
    void unknownAlgorithmIsAUsageError() {
        var r = run("key", "new", "--alg", "rot13");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("unknown algorithm", "keyway algorithms");
    }

    @Test
    void keyNewJsonAndOutputFile() throws Exception {
        JsonNode j = JSON.readTree(run("key", "new", "--alg", "chacha20-poly1305", "--json").out());
        assertThat(j.get("algorithm").asText()).isEqualTo("ChaCha20-Poly1305");
        assertThat(j.get("bits").asInt()).isEqualTo(256);
        assertThat(j.get("key").asText()).matches("[0-9a-f]{64}");
        Path f = dir.resolve("k.key");
        assertThat(run("key", "new", "-o", p(f)).exit()).isZero();
        assertThat(Files.getPosixFilePermissions(f)).containsExactlyInAnyOrder(
                java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        String before = Files.readString(f);
        var again = run("key", "new", "-o", p(f));
        assertThat(again.exit()).isEqualTo(2);
        assertThat(again.err()).contains("already exists");
        assertThat(Files.readString(f)).isEqualTo(before);
    }

    @Test
    void deriveIsDeterministicForAGivenSaltAndRecipe() throws Exception {
        Path pw = dir.resolve("pw.txt");
        Files.writeString(pw, "hunter2\n");
        var r = run("key", "derive", "--password-file", p(pw), "--salt", "000102030405060708090a0b0c0d0e0f",
                "--params", "m=1024,t=2,p=2", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = JSON.readTree(r.out());
        assertThat(j.get("kdf").asText()).isEqualTo("argon2id");
        assertThat(j.get("salt").asText()).isEqualTo("000102030405060708090a0b0c0d0e0f");
        assertThat(j.get("params").get("m").asInt()).isEqualTo(1024);
        assertThat(j.get("key").asText()).matches("[0-9a-f]{64}");
        String phc = j.get("phc").asText();
        assertThat(phc).isEqualTo("$argon2id$v=19$m=1024,t=2,p=2$AAECAwQFBgcICQoLDA0ODw");

        // The trailing newline is ignored: printf and echo give the same key.
        Path pw2 = dir.resolve("pw2.txt");
        Files.writeString(pw2, "hunter2");
        var again = run("key", "derive", "--password-file", p(pw2), "--phc", phc, "--json");
        assertThat(JSON.readTree(again.out()).get("key").asText()).isEqualTo(j.get("key").asText());

        Files.writeString(pw2, "hunter3");
        var other = run("key", "derive", "--password-file", p(pw2), "--phc", phc, "--json");
        assertThat(JSON.readTree(other.out()).get("key").asText()).isNotEqualTo(j.get("key").asText());
    }

    @Test
    void deriveWithScryptAndPbkdf2() throws Exception {
        Path pw = dir.resolve("pw.txt");
        Files.writeString(pw, "password");
        var s = run("key", "derive", "--password-file", p(pw), "--kdf", "scrypt", "--params", "ln=10,r=8,p=1", "--length", "64");
        assertThat(s.exit()).as(s.err()).isZero();
        assertThat(s.out()).contains("$scrypt$ln=10,r=8,p=1$");
        assertThat(s.out().lines().findFirst().orElseThrow()).matches("key: +[0-9a-f]{128}");
        var b = run("key", "derive", "--password-file", p(pw), "--kdf", "pbkdf2", "--params", "i=1000", "--json");
        assertThat(JSON.readTree(b.out()).get("phc").asText()).startsWith("$pbkdf2-sha256$i=1000$");
    }

    @Test
    void deriveRejectsBadInputWithClearExitCodes() throws Exception {
        Path pw = dir.resolve("pw.txt");
        Files.writeString(pw, "pw");
        var badHex = run("key", "derive", "--password-file", p(pw), "--salt", "zz00");
        assertThat(badHex.exit()).isEqualTo(2);
        assertThat(badHex.oneLineError()).isTrue();
        var shortSalt = run("key", "derive", "--password-file", p(pw), "--salt", "0011");
        assertThat(shortSalt.exit()).isEqualTo(4);
        assertThat(shortSalt.err()).contains("8 to 64 bytes");
        var shortKey = run("key", "derive", "--password-file", p(pw), "--length", "8", "--params", "m=64,t=1,p=1");
        assertThat(shortKey.exit()).isEqualTo(4);
        var hugeMemory = run("key", "derive", "--password-file", p(pw), "--params", "m=999999999");
        assertThat(hugeMemory.exit()).isEqualTo(4);
        var unknownParam = run("key", "derive", "--password-file", p(pw), "--params", "x=1");
        assertThat(unknownParam.exit()).isEqualTo(2);
        var both = run("key", "derive", "--password-file", p(pw), "--phc", "$scrypt$ln=10,r=8,p=1$AAAAAAAAAAA", "--kdf", "scrypt");
        assertThat(both.exit()).isEqualTo(2);
        var missing = run("key", "derive", "--password-file", p(dir.resolve("nope")));
        assertThat(missing.exit()).isEqualTo(2); // issue 19's rule: a missing input is exit 2 (it was 1)
        assertThat(missing.err()).contains("no such file");
        var noFlag = run("key", "derive");
        assertThat(noFlag.exit()).isEqualTo(2);
        assertThat(noFlag.err()).contains("--password-file");
    }
}
