package dev.keyway.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * capi encrypt against OpenSSL's enc (which pads CBC the same PKCS #5 way CryptEncrypt does), and the PEM
 * that capi import-blob makes from a PRIVATEKEYBLOB checked by openssl rsa -check.
 */
@Tag("interop")
class CapiOpenSslInteropTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void openssl() {
        boolean found = false;
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            found |= Files.isExecutable(Path.of(d, "openssl"));
        }
        if (!found) {
            System.err.println("SKIPPED CapiOpenSslInteropTest: openssl not installed (apt-get install openssl)");
        }
        Assumptions.assumeTrue(found, "openssl not installed");
    }

    static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "aes128, aes-128-cbc, 000102030405060708090a0b0c0d0e0f, 00000000000000000000000000000000",
            "aes256, aes-256-cbc, 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f, 00000000000000000000000000000000",
            "3des, des-ede3-cbc, 000102030405060708090a0b0c0d0e0f1011121314151617, 0000000000000000",
            "des, des-cbc, 0001020304050607, 0000000000000000",
            "rc2, rc2-cbc, 000102030405060708090a0b0c0d0e0f, 0000000000000000",
            "rc4, rc4, 000102030405060708090a0b0c0d0e0f, ''",
    })
    void capiEncryptEqualsOpensslEnc(String alg, String opensslCipher, String key, String iv) throws Exception {
        for (int length : new int[] {0, 1, 15, 16, 17, 1000}) {
            byte[] data = new byte[length];
            new java.util.Random(length).nextBytes(data);
            Path in = dir.resolve(alg + length + ".in");
            Files.write(in, data);
            Path ours = dir.resolve(alg + length + ".kw");
            Path theirs = dir.resolve(alg + length + ".ossl");
            Cli.Result r = Cli.run("capi", "encrypt", "--alg", alg, "--key", key, in.toString(), "-o", ours.toString());
            assertThat(r.exit()).as(r.err()).isZero();
            List<String> cmd = new ArrayList<>(List.of("openssl", "enc", "-provider", "legacy", "-provider", "default",
                    "-" + opensslCipher, "-K", key));
            if (!iv.isEmpty()) {
                cmd.addAll(List.of("-iv", iv));
            }
            cmd.addAll(List.of("-in", in.toString(), "-out", theirs.toString()));
            run(cmd);
            assertThat(Files.readAllBytes(ours)).as(alg + " " + length + " bytes").isEqualTo(Files.readAllBytes(theirs));
        }
    }

    @Test
    void privateKeyBlobBecomesAPemOpensslAccepts() throws Exception {
        Path pem = dir.resolve("k.pem");
        run(List.of("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", pem.toString()));
        Path blob = dir.resolve("k.blob");
        assertThat(Cli.run("capi", "export-blob", "--type", "privatekeyblob", "-i", pem.toString(), "-o", blob.toString()).exit()).isZero();
        assertThat(Files.size(blob)).isEqualTo(20 + 9 * 2048 / 16);
        Path back = dir.resolve("back.pem");
        assertThat(Cli.run("capi", "import-blob", blob.toString(), "-o", back.toString()).exit()).isZero();
        assertThat(run(List.of("openssl", "rsa", "-in", back.toString(), "-check", "-noout"))).contains("RSA key ok");
        String a = run(List.of("openssl", "rsa", "-in", pem.toString(), "-modulus", "-noout"));
        String b = run(List.of("openssl", "rsa", "-in", back.toString(), "-modulus", "-noout"));
        assertThat(b).isEqualTo(a);
    }
}
