package dev.keyway.capi;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.interfaces.RSAPrivateCrtKey;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * PRIVATEKEYBLOB consistency against OpenSSL: a blob made from an {@code openssl genrsa} key imports, and
 * each blob we break (one RSA relation at a time) is refused both by CapiBlob.parse and, written as PEM
 * with the same numbers, by {@code openssl rsa -check}.
 */
@Tag("interop")
class RsaBlobOpenSslInteropTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void openssl() {
        boolean found = false;
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            found |= Files.isExecutable(Path.of(d, "openssl"));
        }
        if (!found) {
            System.err.println("SKIPPED RsaBlobOpenSslInteropTest: openssl not installed (apt-get install openssl)");
        }
        Assumptions.assumeTrue(found, "openssl not installed");
    }

    record Run(int exit, String output) {
    }

    static Run run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out);
    }

    /** The numbers of a PRIVATEKEYBLOB as a PKCS #1 "RSA PRIVATE KEY" PEM, without any check, for openssl to judge. */
    static String pem(byte[] blob) throws IOException {
        byte[] der = new org.bouncycastle.asn1.pkcs.RSAPrivateKey(PrivateKeyBlobLayout.MODULUS.read(blob),
                PrivateKeyBlobLayout.PUBEXP.read(blob), PrivateKeyBlobLayout.PRIVATE_EXPONENT.read(blob),
                PrivateKeyBlobLayout.PRIME1.read(blob), PrivateKeyBlobLayout.PRIME2.read(blob),
                PrivateKeyBlobLayout.EXPONENT1.read(blob), PrivateKeyBlobLayout.EXPONENT2.read(blob),
                PrivateKeyBlobLayout.COEFFICIENT.read(blob)).getEncoded();
        return "-----BEGIN RSA PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END RSA PRIVATE KEY-----\n";
    }

    Run check(byte[] blob, String name) throws Exception {
        Path file = dir.resolve(name + ".pem");
        Files.writeString(file, pem(blob), StandardCharsets.US_ASCII);
        return run("openssl", "rsa", "-check", "-noout", "-in", file.toString());
    }

    @Test
    void aGenrsaKeyImportsAndEveryBrokenRelationIsRefusedByBoth() throws Exception {
        Path key = dir.resolve("genrsa.pem");
        Run gen = run("openssl", "genrsa", "-out", key.toString(), "2048");
        assertThat(gen.exit()).as(gen.output()).isZero();
        RSAPrivateCrtKey k = RsaPem.readPrivate(Files.readString(key, StandardCharsets.US_ASCII));
        byte[] blob = new CapiBlob.RsaPrivateKeyBlob(CapiBlob.CALG_RSA_KEYX, k).encode();

        CapiBlob.RsaPrivateKeyBlob imported = (CapiBlob.RsaPrivateKeyBlob) CapiBlob.parse(blob);
        assertThat(imported.key().getModulus()).isEqualTo(k.getModulus());
        assertThat(imported.key().getPrivateExponent()).isEqualTo(k.getPrivateExponent());
        Run good = check(blob, "good");
        assertThat(good.exit()).as(good.output()).isZero();
        assertThat(good.output()).contains("RSA key ok");

        // What openssl says about each change (OpenSSL 3 rsa_validate_keypair messages).
        Map<PrivateKeyBlobLayout, String> openssl = Map.of(
                PrivateKeyBlobLayout.MODULUS, "n does not equal p q",
                PrivateKeyBlobLayout.PUBEXP, "d e not congruent to 1",
                PrivateKeyBlobLayout.EXPONENT1, "dmp1 not congruent to d",
                PrivateKeyBlobLayout.EXPONENT2, "dmq1 not congruent to d",
                PrivateKeyBlobLayout.COEFFICIENT, "iqmp not inverse of q",
                PrivateKeyBlobLayout.PRIVATE_EXPONENT, "d e not congruent to 1");
        for (PrivateKeyBlobLayout field : List.of(PrivateKeyBlobLayout.MODULUS, PrivateKeyBlobLayout.PUBEXP,
                PrivateKeyBlobLayout.EXPONENT1, PrivateKeyBlobLayout.EXPONENT2, PrivateKeyBlobLayout.COEFFICIENT,
                PrivateKeyBlobLayout.PRIVATE_EXPONENT)) {
            byte[] bad = CapiNegativeTest.broken(blob, field);
            assertThat(bad).isNotEqualTo(blob);
            assertThatThrownBy(() -> CapiBlob.parse(bad)).as(field.name()).isInstanceOfSatisfying(CapiException.class,
                    e -> assertThat(e.error()).isEqualTo(CapiError.NTE_BAD_DATA));
            // OpenSSL 3.0 exits 0 even here: its verdict is the text
            Run r = check(bad, field.name());
            assertThat(r.output()).as("openssl rsa -check on a blob with %s changed", field)
                    .contains("RSA key not ok", openssl.get(field)).doesNotContain("RSA key ok");
        }
        assertThat(PrivateKeyBlobLayout.PUBEXP.read(CapiNegativeTest.broken(blob, PrivateKeyBlobLayout.PUBEXP)))
                .isEqualTo(BigInteger.valueOf(65539));
    }
}
