package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyway.capi.RsaPem;
import dev.keyway.core.encoding.Hex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateCrtKey;

import static org.assertj.core.api.Assertions.assertThat;

/** keyway capi, as a user runs it, against known answers from Windows (via Wine's and .NET's tests). */
class CapiCommandsTest {
    /** wine-blobs.txt blob-simpleblob-rc4-56: a SIMPLEBLOB holding the 56-bit RC4 key d5e1a7e9ac38c1. */
    static final String SIMPLEBLOB = "010200000168000000a40000b8a4df5e9eb1bf853d242d1e69b767138e78f2dfc669ce467ef2f233206fa1a5598325cb3ab18a1263023cfb4afaef8ef72957b19ea7f302fdcadf5a1f71b626092439dac0de2a0ecd1fe5b64f82a0a990d3d96a43142af7acd5a05493c4b9e724844d695ecc2a32b5fbe4b408d536585940fb297fa71725c40d7837048c4992";
    /** wine-blobs.txt blob-privatekeyblob-1024-keyx: the exchange key it was encrypted to. */
    static final String PRIVATEKEYBLOB = "0702000000a400005253413200040000010001009b64efce317cad56e21e9b96b3f029886ea8c21133d6cc8c69b21afdfc2321304d2945b63a6711801a91f29f01acc011505fcdb9ad769f6e915571da9796962275b48344899ef844407cd6cd9d88d688bc56b764e92c242f0d78551cb267b15ebc0ccf1ce9d39ea2152473d6db6f83b2f8bce7473b01ef490898d6a3f92557e9393c53301bf2c96231435d842430219aaddb6291c807d92fd6b5376ffe7a12bcd9d22bbfd7b1fa7dc048dd74dd5504a18bc10ac4a55762ee088bf9196c5206f8730f24c9719fc545173eae0681a2964006bfeb9e802b27208f38cfebff3b3841356966131d3c013bf637ca9c617498cfc96ee890c7b733c0073cf8c8f6f2d7f02162588a55bfa12d3da669c5021931f0940f455c951b53bcf5b01a8fbf40e0c773e7726eebb10f38c5f8ee04ed341a10f95334f33ee65cd14765cdbdf106cbb4b126399f71fe3df862ab228b0edcb9e87406fc8c25a1a9cf07f9ac21017b1cdc94bd47e1a08659356a6fb970267c3cfdbd81393642c2bdbe84279a6981da9927c24f6233f47930c5635471f14722259b6c002f1cf41f85bcf6676ae3f6558aefd00bd3a2c55170150af0984cb719620e2d2a4a7d7a0ac417e35d2052a998c3aa11f6bf4c94998189f07f66aac888d7318471b66409760b7f1a1f2efecd592a541184d46a61dfaa76669d8211563dd252e6425a77929834f3566c9610405916cb7761e3bf4bd439fbb14ec174ec7aea3d68bb0be6c606bfdd7f9442c00fe492336c6e1bba73f97984df4500e494889d0889cff2a4c547458586a5cca8f25d5807";
    /** "Wine rocks!" and NUL under that RC4 key (asserted on Windows by Wine's test_import_private). */
    static final String WINE_CIPHERTEXT = "406428e88ae7a4d41cfdde71";

    @TempDir
    Path dir;

    static JsonNode json(Cli.Result r) throws Exception {
        assertThat(r.exit()).as(r.err()).isZero();
        return new ObjectMapper().readTree(r.out());
    }

    Path file(String name, byte[] content) throws Exception {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    static String baseData2000() {
        byte[] b = new byte[2000];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) i;
        }
        return Hex.encode(b);
    }

    @Test
    void deriveMatchesWindows() throws Exception {
        // .NET's Windows-only PasswordDeriveBytes tests (dotnet-cryptderivekey.txt): keys as Windows exports them.
        Path pw = file("pw.txt", "PasswordGoesHere".getBytes(StandardCharsets.US_ASCII));
        assertThat(json(Cli.run("capi", "derive", "--hash", "sha1", "--password-file", pw.toString(), "--alg", "rc2", "--bits", "128",
                "--provider", "aes", "--json")).get("key").asText()).isEqualTo("b0695d8d98f5844b9650a9f68eff105b");
        assertThat(json(Cli.run("capi", "derive", "--hash", "sha1", "--password-file", pw.toString(), "--alg", "des", "--bits", "64",
                "--json")).get("key").asText()).isEqualTo("b0685d8c98f4854a");
        assertThat(json(Cli.run("capi", "derive", "--hash", "sha1", "--password-file", pw.toString(), "--alg", "3des", "--bits", "192",
                "--json")).get("key").asText()).isEqualTo("97628a641949d99dced35db0abce20f21ff4da9b46e00bce");
        // Wine's test_rc4 (wine-ciphers.txt): 40-bit RC4 with CRYPT_CREATE_SALT: salt from the hash on Base, none on Enhanced.
        JsonNode base = json(Cli.run("capi", "derive", "--hash", "md5", "--data-hex", baseData2000(), "--alg", "rc4", "--bits", "40",
                "--provider", "base", "--create-salt", "--json"));
        assertThat(base.get("key").asText() + base.get("salt").asText()).isEqualTo("9be5897a856106bf8fc9ef292366a3ac");
        JsonNode enh = json(Cli.run("capi", "derive", "--hash", "md5", "--data-hex", baseData2000(), "--alg", "rc4", "--bits", "40",
                "--provider", "enhanced", "--create-salt", "--json"));
        assertThat(enh.get("key").asText()).isEqualTo("9be5897a85");
        assertThat(enh.get("salt").asText()).isEmpty();
    }

    @Test
    void refusalsNameTheWindowsError() {
        String[][] cases = {
                {"capi", "derive", "--hash", "sha256", "--data-hex", "00", "--alg", "aes128", "--provider", "enhanced"},
                {"capi", "derive", "--hash", "md5", "--data-hex", "00", "--alg", "3des", "--provider", "base"},
                {"capi", "derive", "--hash", "md5", "--data-hex", "00", "--alg", "rc5"},
                {"capi", "derive", "--hash", "sha3", "--data-hex", "00", "--alg", "rc4"},
                {"capi", "derive", "--hash", "md5", "--data-hex", "00", "--alg", "rc4", "--bits", "64", "--provider", "base"},
        };
        String[] names = {"NTE_BAD_ALGID", "NTE_BAD_ALGID", "NTE_BAD_ALGID", "NTE_BAD_ALGID", "NTE_BAD_FLAGS"};
        for (int i = 0; i < cases.length; i++) {
            Cli.Result r = Cli.run(cases[i]);
            assertThat(r.exit()).as(String.join(" ", cases[i]) + "\n" + r.err()).isEqualTo(2);
            assertThat(r.oneLineError()).as(r.err()).isTrue();
            assertThat(r.err()).contains(names[i]);
        }
    }

    @Test
    void simpleBlobOpensWithThePrivateKeyBlobAndTheKeyDecryptsWinesMessage() throws Exception {
        Path blob = file("session.blob", Hex.decode(SIMPLEBLOB, "blob"));
        Path priv = file("exchange.blob", Hex.decode(PRIVATEKEYBLOB, "blob"));
        JsonNode j = json(Cli.run("capi", "import-blob", blob.toString(), "--private-key-blob", priv.toString(), "--json"));
        assertThat(j.get("type").asText()).isEqualTo("SIMPLEBLOB");
        assertThat(j.get("alg").asText()).isEqualTo("rc4");
        assertThat(j.get("key").asText()).isEqualTo("d5e1a7e9ac38c1");
        Path ct = file("msg.bin", Hex.decode(WINE_CIPHERTEXT, "ct"));
        Path out = dir.resolve("msg.txt");
        Cli.Result d = Cli.run("capi", "decrypt", "--key", j.get("key").asText(), "--alg", "rc4", ct.toString(), "-o", out.toString());
        assertThat(d.exit()).as(d.err()).isZero();
        assertThat(Files.readAllBytes(out)).isEqualTo("Wine rocks!\0".getBytes(StandardCharsets.US_ASCII));

        // The same exchange key as PEM (converted by import-blob) opens the SIMPLEBLOB too.
        Path pem = dir.resolve("exchange.pem");
        assertThat(Cli.run("capi", "import-blob", priv.toString(), "-o", pem.toString()).exit()).isZero();
        assertThat(Files.readString(pem)).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(json(Cli.run("capi", "import-blob", blob.toString(), "-i", pem.toString(), "--json")).get("key").asText())
                .isEqualTo("d5e1a7e9ac38c1");
        // and a PRIVATEKEYBLOB made from that PEM is the original blob, byte for byte.
        Path again = dir.resolve("again.blob");
        assertThat(Cli.run("capi", "export-blob", "--type", "privatekeyblob", "-i", pem.toString(), "-o", again.toString()).exit()).isZero();
        assertThat(Hex.encode(Files.readAllBytes(again))).isEqualTo(PRIVATEKEYBLOB);

        // The wrong private key: NTE_BAD_DATA, exit 3.
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(1024);
        Path other = file("other.pem", RsaPem.writePrivate((RSAPrivateCrtKey) g.generateKeyPair().getPrivate()).getBytes(StandardCharsets.US_ASCII));
        Cli.Result wrong = Cli.run("capi", "import-blob", blob.toString(), "-i", other.toString());
        assertThat(wrong.exit()).isEqualTo(3);
        assertThat(wrong.err()).contains("NTE_BAD_DATA");
    }

    /**
     * Issue 14, point 11: a PRIVATEKEYBLOB whose numbers do not fit together (here pubexp 65537 changed to
     * 65539, so d·e is not 1 mod lambda(n); openssl rsa -check: "d e not congruent to 1") is refused with
     * exit 3 and one line naming the broken relation; no PEM is written, and it cannot open a SIMPLEBLOB.
     */
    @Test
    void anInconsistentPrivateKeyBlobIsRefused() throws Exception {
        byte[] bytes = Hex.decode(PRIVATEKEYBLOB, "blob");
        assertThat(bytes[16]).isEqualTo((byte) 0x01); // pubexp 0x00010001, little-endian
        bytes[16] = 0x03;
        Path priv = file("altered.blob", bytes);
        Path pem = dir.resolve("altered.pem");
        Cli.Result r = Cli.run("capi", "import-blob", priv.toString(), "-o", pem.toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(3);
        assertThat(r.oneLineError()).as(r.err()).isTrue();
        assertThat(r.err()).contains("NTE_BAD_DATA", "the private key blob is inconsistent: privateExponent * pubexp is not 1 mod lcm(prime1 - 1, prime2 - 1)");
        assertThat(r.out()).isEmpty();
        assertThat(pem).doesNotExist();

        Path blob = file("session.blob", Hex.decode(SIMPLEBLOB, "blob"));
        Cli.Result s = Cli.run("capi", "import-blob", blob.toString(), "--private-key-blob", priv.toString());
        assertThat(s.exit()).isEqualTo(3);
        assertThat(s.oneLineError()).as(s.err()).isTrue();
        assertThat(s.err()).contains("inconsistent");
    }

    @Test
    void exportedBlobsImportBack() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        Path pem = file("k.pem", RsaPem.writePrivate((RSAPrivateCrtKey) g.generateKeyPair().getPrivate()).getBytes(StandardCharsets.US_ASCII));
        String key = "00112233445566778899aabbccddeeff0011223344556677";
        Path simple = dir.resolve("s.blob");
        Cli.Result refused = Cli.run("capi", "export-blob", "--type", "simpleblob", "--alg", "3des", "--key", key, "-i", pem.toString(), "-o", simple.toString());
        assertThat(refused.exit()).isEqualTo(4);
        assertThat(Files.exists(simple)).isFalse();
        assertThat(Cli.run("capi", "export-blob", "--type", "simpleblob", "--legacy", "--alg", "3des", "--key", key, "-i", pem.toString(),
                "-o", simple.toString()).exit()).isZero();
        assertThat(json(Cli.run("capi", "import-blob", simple.toString(), "-i", pem.toString(), "--json")).get("key").asText()).isEqualTo(key);

        Path plain = dir.resolve("p.blob");
        assertThat(Cli.run("capi", "export-blob", "--type", "plaintextkeyblob", "--alg", "rc4", "--key", "0102030405", "-o", plain.toString()).exit()).isZero();
        JsonNode p = json(Cli.run("capi", "import-blob", plain.toString(), "--json"));
        assertThat(p.get("key").asText()).isEqualTo("0102030405");
        assertThat(p.get("salt").asText()).isEqualTo("0000000000000000000000");

        Path wrapped = dir.resolve("w.blob");
        String kek = "0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a09080";
        assertThat(Cli.run("capi", "export-blob", "--type", "symmetricwrapkeyblob", "--alg", "aes128", "--key", "000102030405060708090a0b0c0d0e0f",
                "--kek", kek, "--kek-alg", "3des", "-o", wrapped.toString()).exit()).isZero();
        assertThat(json(Cli.run("capi", "import-blob", wrapped.toString(), "--kek", kek, "--json")).get("key").asText())
                .isEqualTo("000102030405060708090a0b0c0d0e0f");
        Cli.Result badKek = Cli.run("capi", "import-blob", wrapped.toString(), "--kek", kek.replace('f', 'e'));
        assertThat(badKek.exit()).isEqualTo(3);
        assertThat(badKek.oneLineError()).isTrue();

        Path pub = dir.resolve("pub.blob");
        assertThat(Cli.run("capi", "export-blob", "--type", "publickeyblob", "-i", pem.toString(), "-o", pub.toString()).exit()).isZero();
        assertThat(Cli.run("capi", "import-blob", pub.toString()).out()).startsWith("-----BEGIN PUBLIC KEY-----");

        Path junk = file("junk.blob", new byte[] {0x01, 0x02, 0, 0, 0x01, 0x68});
        Cli.Result bad = Cli.run("capi", "import-blob", junk.toString());
        assertThat(bad.exit()).isEqualTo(3);
        assertThat(bad.oneLineError()).as(bad.err()).isTrue();
        assertThat(bad.err()).contains("truncated");
    }

    @Test
    void encryptDecryptRoundTripsAndAWrongKeyWritesNothing() throws Exception {
        Path pw = file("pw.txt", "correct horse\n".getBytes(StandardCharsets.US_ASCII));
        byte[] data = new byte[100_003];
        new java.util.Random(7).nextBytes(data);
        Path in = file("data.bin", data);
        for (String[] a : new String[][] {{"rc2", "cbc"}, {"rc4", "cbc"}, {"des", "ecb"}, {"3des112", "cfb8"}, {"3des", "cbc"}, {"aes256", "cbc"}}) {
            Path ct = dir.resolve(a[0] + a[1] + ".ct");
            Path back = dir.resolve(a[0] + a[1] + ".back");
            Cli.Result e = Cli.run("capi", "encrypt", "--hash", "sha1", "--password-file", pw.toString(), "--alg", a[0], "--mode", a[1],
                    in.toString(), "-o", ct.toString());
            assertThat(e.exit()).as(e.err()).isZero();
            Cli.Result d = Cli.run("capi", "decrypt", "--hash", "sha1", "--password-file", pw.toString(), "--alg", a[0], "--mode", a[1],
                    ct.toString(), "-o", back.toString());
            assertThat(d.exit()).as(d.err()).isZero();
            assertThat(Files.readAllBytes(back)).isEqualTo(data);
        }
        Path wrong = file("wrong.txt", "incorrect horse\n".getBytes(StandardCharsets.US_ASCII));
        Path out = dir.resolve("never.bin");
        Cli.Result r = Cli.run("capi", "decrypt", "--hash", "sha1", "--password-file", wrong.toString(), "--alg", "aes256",
                dir.resolve("aes256cbc.ct").toString(), "-o", out.toString());
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("NTE_BAD_DATA");
        assertThat(Files.exists(out)).isFalse();
    }

    @Test
    void convertMakesAnEnvelopeTheRecipientOpens() throws Exception {
        Path id = dir.resolve("alice.key");
        assertThat(Cli.run("keygen", "--type", "x25519", "-o", id.toString()).exit()).isZero();
        String recipient = Cli.run("pubkey", "-i", id.toString()).out().strip();
        Path pw = file("pw.txt", "legacy secret".getBytes(StandardCharsets.US_ASCII));
        byte[] data = "quarterly numbers, 1999\n".repeat(5000).getBytes(StandardCharsets.US_ASCII);
        Path plain = file("old.txt", data);
        Path legacy = dir.resolve("old.bin");
        assertThat(Cli.run("capi", "encrypt", "--hash", "md5", "--password-file", pw.toString(), "--alg", "rc4", "--bits", "40",
                "--provider", "base", plain.toString(), "-o", legacy.toString()).exit()).isZero();
        Path kw = dir.resolve("old.kw");
        Cli.Result c = Cli.run("capi", "convert", legacy.toString(), "--hash", "md5", "--password-file", pw.toString(), "--alg", "rc4",
                "--bits", "40", "--provider", "base", "-r", recipient, "-o", kw.toString());
        assertThat(c.exit()).as(c.err()).isZero();
        Path back = dir.resolve("back.txt");
        Cli.Result d = Cli.run("decrypt", "-i", id.toString(), "-o", back.toString(), kw.toString());
        assertThat(d.exit()).as(d.err()).isZero();
        assertThat(Files.readAllBytes(back)).isEqualTo(data);

        // A block cipher with the wrong key fails at the final padding: no envelope is left behind.
        Path legacyAes = dir.resolve("old-aes.bin");
        assertThat(Cli.run("capi", "encrypt", "--hash", "sha256", "--password-file", pw.toString(), "--alg", "aes128",
                plain.toString(), "-o", legacyAes.toString()).exit()).isZero();
        Path never = dir.resolve("never.kw");
        Path wrong = file("wrong.txt", "not it".getBytes(StandardCharsets.US_ASCII));
        Cli.Result bad = Cli.run("capi", "convert", legacyAes.toString(), "--hash", "sha256", "--password-file", wrong.toString(),
                "--alg", "aes128", "-r", recipient, "-o", never.toString());
        assertThat(bad.exit()).isEqualTo(3);
        assertThat(bad.oneLineError()).as(bad.err()).isTrue();
        assertThat(Files.exists(never)).isFalse();
    }
}
