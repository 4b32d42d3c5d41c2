package dev.keyway.cli;

import dev.keyway.tls.cert.Certificates;
import dev.keyway.tls.cert.CertificateKeyType;
import dev.keyway.tls.cert.Pem;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * keyway cert against OpenSSL: openssl parses and verifies what we make (certificates, chains, requests),
 * and we read what openssl makes (PKCS #8 and traditional keys, self-signed certificates, a CA we sign with).
 */
@Tag("interop")
class CertOpenSslInteropTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void openssl() {
        boolean found = false;
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            found |= !d.isEmpty() && Files.isExecutable(Path.of(d, "openssl"));
        }
        if (!found) {
            System.err.println("SKIPPED CertOpenSslInteropTest: openssl not installed (apt-get install openssl)");
        }
        Assumptions.assumeTrue(found, "openssl not installed");
    }

    /** Runs openssl; returns standard output and error together; fails unless it exits 0. */
    static String openssl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add("openssl");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
        return out;
    }

    String p(String name) {
        return dir.resolve(name).toString();
    }

    void keyway(String... args) {
        Cli.Result r = CertCli.run(args);
        assertThat(r.exit()).as(String.join(" ", args) + "\n" + r.err()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"ec", "ed25519", "rsa"})
    void opensslParsesOurCertificateAndKey(String type) throws Exception {
        keyway("cert", "new", "--cn", "localhost", "--san", "DNS:localhost,IP:127.0.0.1,IP:::1", "--key-type", type,
                "-o", p("c.pem"), "--key-out", p("k.pem"));
        String text = openssl("x509", "-in", p("c.pem"), "-noout", "-text");
        assertThat(text).contains("Version: 3 (0x2)", "Subject: CN = localhost", "Issuer: CN = localhost",
                "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
                "X509v3 Basic Constraints: critical", "CA:FALSE", "X509v3 Key Usage: critical", "Digital Signature",
                "TLS Web Server Authentication, TLS Web Client Authentication",
                "X509v3 Subject Key Identifier", "X509v3 Authority Key Identifier");
        // The key file is one openssl reads, and it belongs to the certificate.
        String keyPub = openssl("pkey", "-in", p("k.pem"), "-pubout");
        String certPub = openssl("x509", "-in", p("c.pem"), "-noout", "-pubkey");
        assertThat(keyPub).isEqualTo(certPub);
        // Self-signed leaf: openssl accepts it as its own trust anchor.
        assertThat(openssl("verify", "-x509_strict", "-CAfile", p("c.pem"), p("c.pem"))).contains(": OK");
    }

    @ParameterizedTest(name = "CA {0}, intermediate {1}, leaf {2}")
    @CsvSource({"ec, ec, ec", "ed25519, rsa, ec", "rsa, ec, ed25519", "ec, ed25519, rsa"})
    void opensslVerifiesOurChain(String caType, String midType, String leafType) throws Exception {
        keyway("cert", "new", "--is-ca", "--cn", "Keyway Interop CA", "--key-type", caType, "-o", p("ca.pem"), "--key-out", p("ca.key"));
        keyway("cert", "new", "--cn", "server.test", "--key-type", leafType, "--ca", p("ca.pem"), "--ca-key", p("ca.key"),
                "-o", p("leaf.pem"), "--key-out", p("leaf.key"));
        assertThat(openssl("verify", "-CAfile", p("ca.pem"), p("leaf.pem"))).contains("leaf.pem: OK");
        assertThat(openssl("verify", "-x509_strict", "-purpose", "sslserver", "-verify_hostname", "server.test",
                "-CAfile", p("ca.pem"), p("leaf.pem"))).contains("leaf.pem: OK");
        assertThat(openssl("verify", "-purpose", "sslclient", "-CAfile", p("ca.pem"), p("leaf.pem"))).contains("OK");
        assertThat(openssl("x509", "-in", p("ca.pem"), "-noout", "-text")).contains("CA:TRUE", "Certificate Sign, CRL Sign");

        keyway("cert", "new", "--is-ca", "--cn", "Keyway Interop Intermediate", "--key-type", midType, "--ca", p("ca.pem"),
                "--ca-key", p("ca.key"), "-o", p("mid.pem"), "--key-out", p("mid.key"));
        keyway("cert", "new", "--cn", "deep.test", "--key-type", leafType, "--ca", p("mid.pem"), "--ca-key", p("mid.key"),
                "-o", p("deep.pem"), "--key-out", p("deep.key"));
        assertThat(openssl("verify", "-x509_strict", "-CAfile", p("ca.pem"), "-untrusted", p("mid.pem"), p("deep.pem")))
                .contains("deep.pem: OK");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ec", "ed25519", "rsa"})
    void opensslVerifiesOurCsr(String type) throws Exception {
        keyway("cert", "new", "--cn", "x", "--key-type", type, "-o", p("c.pem"), "--key-out", p("k.pem"));
        keyway("cert", "csr", "--key", p("k.pem"), "--cn", "api.example.com", "--san", "DNS:api.example.com,IP:192.0.2.7",
                "-o", p("req.pem"));
        assertThat(openssl("req", "-in", p("req.pem"), "-verify", "-noout")).contains("verify OK");
        assertThat(openssl("req", "-in", p("req.pem"), "-noout", "-text"))
                .contains("Subject: CN = api.example.com", "Requested Extensions", "DNS:api.example.com, IP Address:192.0.2.7");

        // openssl, as a CA, signs our request, and we read what it made.
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=OpenSSL CA",
                "-keyout", p("oca.key"), "-out", p("oca.pem"), "-days", "2");
        openssl("x509", "-req", "-in", p("req.pem"), "-CA", p("oca.pem"), "-CAkey", p("oca.key"), "-CAcreateserial",
                "-copy_extensions", "copy", "-days", "2", "-out", p("signed.pem"));
        X509Certificate signed = Pem.readCertificate(Files.readAllBytes(dir.resolve("signed.pem")));
        assertThat(Certificates.subjectAltNames(signed)).containsExactly("DNS:api.example.com", "IP:192.0.2.7");
        Cli.Result show = CertCli.run("cert", "show", p("signed.pem"));
        assertThat(show.exit()).as(show.err()).isZero();
        assertThat(show.out()).contains("CN=api.example.com", "CN=OpenSSL CA");
    }

    @Test
    void weReadOpensslSelfSignedCertificateAndEcKey() throws Exception {
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=openssl.test",
                "-addext", "subjectAltName=DNS:openssl.test,IP:127.0.0.1", "-days", "3",
                "-keyout", p("k.pem"), "-out", p("c.pem"));
        X509Certificate c = Pem.readCertificate(Files.readAllBytes(dir.resolve("c.pem")));
        KeyPair k = Pem.readKeyPair(Files.readAllBytes(dir.resolve("k.pem")));
        assertThat(CertificateKeyType.of(k.getPrivate())).isEqualTo(CertificateKeyType.EC);
        assertThat(k.getPublic().getEncoded()).isEqualTo(c.getPublicKey().getEncoded());
        assertThat(Certificates.subjectAltNames(c)).containsExactly("DNS:openssl.test", "IP:127.0.0.1");
        assertThat(Certificates.sha256Fingerprint(c)).isEqualTo(
                openssl("x509", "-in", p("c.pem"), "-noout", "-fingerprint", "-sha256").strip().replaceFirst("^.*=", ""));

        Cli.Result show = CertCli.run("cert", "show", "--json", p("c.pem"));
        assertThat(show.exit()).as(show.err()).isZero();
        assertThat(show.out()).contains("\"subject\" : \"CN=openssl.test\"", "\"key\" : \"EC P-256\"");
        // A CSR from openssl's key, which openssl then verifies.
        keyway("cert", "csr", "--key", p("k.pem"), "--cn", "openssl.test", "-o", p("req.pem"));
        assertThat(openssl("req", "-in", p("req.pem"), "-verify", "-noout")).contains("verify OK");
    }

    @Test
    void weReadOpensslEd25519KeyAndDeriveItsPublicKey() throws Exception {
        openssl("genpkey", "-algorithm", "ed25519", "-out", p("ed.pem"));
        assertThat(Files.readString(dir.resolve("ed.pem"))).startsWith("-----BEGIN PRIVATE KEY-----");
        openssl("pkey", "-in", p("ed.pem"), "-pubout", "-outform", "DER", "-out", p("ed.pub.der"));
        KeyPair k = Pem.readKeyPair(Files.readAllBytes(dir.resolve("ed.pem")));
        assertThat(CertificateKeyType.of(k.getPrivate())).isEqualTo(CertificateKeyType.ED25519);
        assertThat(k.getPublic().getEncoded()).isEqualTo(Files.readAllBytes(dir.resolve("ed.pub.der")));
        keyway("cert", "csr", "--key", p("ed.pem"), "--cn", "ed.test", "-o", p("req.pem"));
        assertThat(openssl("req", "-in", p("req.pem"), "-verify", "-noout")).contains("verify OK");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "ecparam -genkey -name prime256v1 -noout|EC PRIVATE KEY",
            "ecparam -genkey -name prime256v1|EC PARAMETERS",
            "ecparam -genkey -name secp384r1 -noout|EC PRIVATE KEY",
            "genrsa -traditional 2048|RSA PRIVATE KEY",
            "genrsa 2048|PRIVATE KEY",
            "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256|PRIVATE KEY",
    })
    void weReadOpensslKeyFormatsAndSignWithThem(String command, String firstBlock) throws Exception {
        List<String> args = new ArrayList<>(List.of(command.split(" ")));
        int bits = args.get(args.size() - 1).matches("\\d+") ? 1 : 0;
        args.addAll(args.size() - bits, List.of("-out", p("k.pem")));
        openssl(args.toArray(new String[0]));
        assertThat(Files.readString(dir.resolve("k.pem"))).startsWith("-----BEGIN " + firstBlock + "-----");
        openssl("pkey", "-in", p("k.pem"), "-pubout", "-outform", "DER", "-out", p("pub.der"));
        KeyPair k = Pem.readKeyPair(Files.readAllBytes(dir.resolve("k.pem")));
        assertThat(k.getPublic().getEncoded()).as("derived public key equals openssl's").isEqualTo(Files.readAllBytes(dir.resolve("pub.der")));

        // The openssl key signs a CA made by openssl; we issue a leaf under it; openssl verifies the leaf.
        openssl("req", "-x509", "-new", "-key", p("k.pem"), "-subj", "/CN=OpenSSL-keyed CA", "-days", "2",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                "-out", p("ca.pem"));
        keyway("cert", "new", "--cn", "leaf.test", "--ca", p("ca.pem"), "--ca-key", p("k.pem"), "-o", p("leaf.pem"),
                "--key-out", p("leaf.key"));
        assertThat(openssl("verify", "-x509_strict", "-CAfile", p("ca.pem"), p("leaf.pem"))).contains("leaf.pem: OK");
    }
}
