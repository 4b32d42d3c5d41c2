package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyway.tls.cert.Certificates;
import dev.keyway.tls.cert.CertificateKeyType;
import dev.keyway.tls.cert.Pem;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class CertCommandsTest {
    @TempDir
    Path dir;

    String p(String name) {
        return dir.resolve(name).toString();
    }

    static X509Certificate cert(Path file) throws Exception {
        return Pem.readCertificate(Files.readAllBytes(file));
    }

    static KeyPair key(Path file) throws Exception {
        return Pem.readKeyPair(Files.readAllBytes(file));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ec", "ed25519", "rsa"})
    void newSelfSignedWritesCertAndPrivateKeyAndSummary(String type) throws Exception {
        Cli.Result r = CertCli.run("cert", "new", "--cn", "localhost", "--san", "DNS:localhost,IP:127.0.0.1", "--key-type", type,
                "--days", "30", "-o", p("c.pem"), "--key-out", p("k.pem"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        X509Certificate c = cert(dir.resolve("c.pem"));
        KeyPair k = key(dir.resolve("k.pem"));
        assertThat(c.getPublicKey().getEncoded()).isEqualTo(k.getPublic().getEncoded());
        assertThat(CertificateKeyType.of(k.getPrivate())).isEqualTo(CertificateKeyType.parse(type));
        c.verify(c.getPublicKey());
        assertThat(Certificates.subjectAltNames(c)).containsExactly("DNS:localhost", "IP:127.0.0.1");
        assertThat(Certificates.isCa(c)).isFalse();
        assertThat(Duration.between(Instant.now(), c.getNotAfter().toInstant()).toDays()).isBetween(29L, 30L);
        assertThat(Files.readString(dir.resolve("k.pem"))).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("k.pem")))).isEqualTo("rw-------");
        assertThat(r.out().lines().count()).isEqualTo(1);
        assertThat(r.out()).contains("CN=localhost", "self-signed", Certificates.sha256Fingerprint(c),
                c.getNotAfter().toInstant().toString());
    }

    @Test
    void caSignsALeafThatPkixAccepts() throws Exception {
        Cli.Result ca = CertCli.run("cert", "new", "--is-ca", "--cn", "Keyway Test CA", "-o", p("ca.pem"), "--key-out", p("ca.key"));
        assertThat(ca.exit()).as(ca.err()).isZero();
        assertThat(ca.out()).contains("CA)");
        Cli.Result leaf = CertCli.run("cert", "new", "--cn", "server.test", "--key-type", "ed25519", "--ca", p("ca.pem"),
                "--ca-key", p("ca.key"), "-o", p("leaf.pem"), "--key-out", p("leaf.key"), "--json");
        assertThat(leaf.exit()).as(leaf.err()).isZero();

        X509Certificate caCert = cert(dir.resolve("ca.pem"));
        X509Certificate leafCert = cert(dir.resolve("leaf.pem"));
        assertThat(Certificates.isCa(caCert)).isTrue();
        assertThat(Certificates.subjectAltNames(caCert)).isEmpty();
        assertThat(Certificates.subjectAltNames(leafCert)).as("the CN becomes the SAN").containsExactly("DNS:server.test");
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(caCert, null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(
                CertificateFactory.getInstance("X.509").generateCertPath(List.of(leafCert)), params);

        JsonNode j = new ObjectMapper().readTree(leaf.out());
        assertThat(j.get("subject").asText()).isEqualTo("CN=server.test");
        assertThat(j.get("issuer").asText()).isEqualTo("CN=Keyway Test CA");
        assertThat(j.get("ca").asBoolean()).isFalse();
        assertThat(j.get("key").asText()).isEqualTo("Ed25519");
        assertThat(j.get("sha256").asText()).isEqualTo(Certificates.sha256Fingerprint(leafCert));
        assertThat(j.get("certificate_file").asText()).isEqualTo(p("leaf.pem"));
        assertThat(j.get("key_file").asText()).isEqualTo(p("leaf.key"));
        assertThat(j.get("sans").get(0).asText()).isEqualTo("DNS:server.test");

        // --ca-cert is the same flag; --is-ca with --ca makes an intermediate.
        Cli.Result mid = CertCli.run("cert", "new", "--is-ca", "--cn", "Intermediate", "--ca-cert", p("ca.pem"),
                "--ca-key", p("ca.key"), "-o", p("mid.pem"), "--key-out", p("mid.key"));
        assertThat(mid.exit()).as(mid.err()).isZero();
        assertThat(Certificates.isCa(cert(dir.resolve("mid.pem")))).isTrue();
    }

    @Test
    void signingWithALeafOrTheWrongKeyIsRefused() throws Exception {
        assertThat(CertCli.run("cert", "new", "--cn", "a", "-o", p("a.pem"), "--key-out", p("a.key")).exit()).isZero();
        assertThat(CertCli.run("cert", "new", "--is-ca", "--cn", "CA", "-o", p("ca.pem"), "--key-out", p("ca.key")).exit()).isZero();

        Cli.Result notCa = CertCli.run("cert", "new", "--cn", "b", "--ca", p("a.pem"), "--ca-key", p("a.key"),
                "-o", p("b.pem"), "--key-out", p("b.key"));
        assertThat(notCa.exit()).isEqualTo(2);
        assertThat(notCa.oneLineError()).as(notCa.err()).isTrue();
        assertThat(notCa.err()).contains("not a CA certificate");

        Cli.Result wrongKey = CertCli.run("cert", "new", "--cn", "b", "--ca", p("ca.pem"), "--ca-key", p("a.key"),
                "-o", p("b.pem"), "--key-out", p("b.key"));
        assertThat(wrongKey.exit()).isEqualTo(2);
        assertThat(wrongKey.err()).contains("CA key does not match");
        assertThat(dir.resolve("b.pem")).doesNotExist();
        assertThat(dir.resolve("b.key")).doesNotExist();

        Cli.Result half = CertCli.run("cert", "new", "--cn", "b", "--ca", p("ca.pem"), "-o", p("b.pem"), "--key-out", p("b.key"));
        assertThat(half.exit()).isEqualTo(2);
        assertThat(half.err()).contains("--ca-key");
    }

    @Test
    void existingOutputsAreNeverOverwritten() throws Exception {
        Files.writeString(dir.resolve("c.pem"), "mine");
        Cli.Result r = CertCli.run("cert", "new", "--cn", "x", "-o", p("c.pem"), "--key-out", p("k.pem"));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.oneLineError()).isTrue();
        assertThat(r.err()).contains("already exists");
        assertThat(Files.readString(dir.resolve("c.pem"))).isEqualTo("mine");
        assertThat(dir.resolve("k.pem")).as("no key left behind").doesNotExist();

        Cli.Result same = CertCli.run("cert", "new", "--cn", "x", "-o", p("same.pem"), "--key-out", p("same.pem"));
        assertThat(same.exit()).isEqualTo(2);
        assertThat(dir.resolve("same.pem")).doesNotExist();
    }

    @Test
    void badFlagsAreUsageErrorsOnOneLine() {
        String[][] cases = {
                {"cert", "new", "--cn", "x", "--key-type", "dsa", "-o", p("1.pem"), "--key-out", p("1.key")},
                {"cert", "new", "--cn", "x", "--days", "0", "-o", p("2.pem"), "--key-out", p("2.key")},
                {"cert", "new", "--cn", "x", "--san", "DNS:bad name", "-o", p("3.pem"), "--key-out", p("3.key")},
                {"cert", "new", "--cn", "x", "--san", "IP:1.2.3.400", "-o", p("4.pem"), "--key-out", p("4.key")},
                {"cert", "new", "--cn", "x", "--bits", "3072", "-o", p("5.pem"), "--key-out", p("5.key")},
                {"cert", "new", "--cn", "x", "-o", p("6.pem")},
                {"cert", "new", "--key-out", p("7.key"), "-o", p("7.pem")},
                {"cert", "csr", "--cn", "x"},
        };
        for (String[] args : cases) {
            Cli.Result r = CertCli.run(args);
            assertThat(r.exit()).as(String.join(" ", args) + "\n" + r.err()).isEqualTo(2);
            assertThat(r.oneLineError()).as(r.err()).isTrue();
        }
        Cli.Result shortRsa = CertCli.run("cert", "new", "--cn", "x", "--key-type", "rsa", "--bits", "1024",
                "-o", p("8.pem"), "--key-out", p("8.key"));
        assertThat(shortRsa.exit()).as(shortRsa.err()).isEqualTo(4);
        assertThat(dir).isEmptyDirectory();
    }

    @Test
    void rsa3072() throws Exception {
        Cli.Result r = CertCli.run("cert", "new", "--cn", "x", "--key-type", "rsa", "--bits", "3072", "-o", p("c.pem"),
                "--key-out", p("k.pem"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("RSA 3072");
    }

    @Test
    void csrFromEachKindOfKeyFileVerifies() throws Exception {
        assertThat(CertCli.run("cert", "new", "--cn", "x", "-o", p("c.pem"), "--key-out", p("k.pem")).exit()).isZero();
        Cli.Result r = CertCli.run("cert", "csr", "--key", p("k.pem"), "--cn", "www.example.com",
                "--san", "DNS:www.example.com", "--san", "DNS:example.com", "-o", p("req.pem"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEmpty();
        PKCS10CertificationRequest req = Pem.readCsr(Files.readAllBytes(dir.resolve("req.pem")));
        KeyPair k = key(dir.resolve("k.pem"));
        assertThat(req.isSignatureValid(new JcaContentVerifierProviderBuilder().build(k.getPublic()))).isTrue();
        assertThat(req.getSubject().toString()).isEqualTo("CN=www.example.com");

        // To standard output without -o.
        Cli.Result stdout = CertCli.run("cert", "csr", "--key", p("k.pem"), "--cn", "x");
        assertThat(stdout.exit()).as(stdout.err()).isZero();
        assertThat(stdout.out()).startsWith("-----BEGIN CERTIFICATE REQUEST-----");

        Cli.Result noKey = CertCli.run("cert", "csr", "--key", p("c.pem"), "--cn", "x");
        assertThat(noKey.exit()).isEqualTo(2);
        assertThat(noKey.err()).contains("no private key found");
        Cli.Result missing = CertCli.run("cert", "csr", "--key", p("nope.pem"), "--cn", "x");
        assertThat(missing.exit()).isEqualTo(2); // issue 19: a missing input is exit 2 (it was 1)
        assertThat(missing.oneLineError()).isTrue();
    }

    @Test
    void showPrintsFieldsAndJsonForAChain() throws Exception {
        assertThat(CertCli.run("cert", "new", "--is-ca", "--cn", "CA", "-o", p("ca.pem"), "--key-out", p("ca.key")).exit()).isZero();
        assertThat(CertCli.run("cert", "new", "--cn", "h", "--san", "DNS:h,IP:10.1.2.3", "--key-type", "rsa", "--ca", p("ca.pem"),
                "--ca-key", p("ca.key"), "-o", p("leaf.pem"), "--key-out", p("leaf.key")).exit()).isZero();
        X509Certificate leaf = cert(dir.resolve("leaf.pem"));

        Cli.Result text = CertCli.run("cert", "show", p("leaf.pem"));
        assertThat(text.exit()).as(text.err()).isZero();
        assertThat(text.out()).contains("subject        CN=h", "issuer         CN=CA", "sans           DNS:h, IP:10.1.2.3",
                "key            RSA 2048", "ca             no", "status         valid",
                "sha256         " + Certificates.sha256Fingerprint(leaf), "not after      " + leaf.getNotAfter().toInstant());

        Files.writeString(dir.resolve("chain.pem"), Files.readString(dir.resolve("leaf.pem")) + Files.readString(dir.resolve("ca.pem")));
        Cli.Result json = CertCli.run("cert", "show", "--json", p("chain.pem"));
        assertThat(json.exit()).as(json.err()).isZero();
        JsonNode certs = new ObjectMapper().readTree(json.out()).get("certificates");
        assertThat(certs).hasSize(2);
        assertThat(certs.get(0).get("subject").asText()).isEqualTo("CN=h");
        assertThat(certs.get(0).get("signature").asText()).isEqualTo("SHA256withECDSA");
        assertThat(certs.get(1).get("ca").asBoolean()).isTrue();
        assertThat(certs.get(1).get("self_issued").asBoolean()).isTrue();
        assertThat(certs.get(1).get("key").asText()).isEqualTo("EC P-256");
        assertThat(certs.get(1).get("sans")).isEmpty();
    }

    @Test
    void showRefusesWhatIsNotACertificate() throws Exception {
        Files.writeString(dir.resolve("junk.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        Files.writeString(dir.resolve("text.txt"), "hello\n");
        for (String f : List.of("junk.pem", "text.txt")) {
            Cli.Result r = CertCli.run("cert", "show", p(f));
            assertThat(r.exit()).as(r.err()).isEqualTo(2);
            assertThat(r.oneLineError()).as(r.err()).isTrue();
        }
        Files.write(dir.resolve("big.pem"), new byte[Pem.MAX_BYTES + 1]);
        Cli.Result big = CertCli.run("cert", "show", p("big.pem"));
        assertThat(big.exit()).isEqualTo(2);
        assertThat(big.err()).contains("too large");
    }

    @Test
    void helpListsTheSubcommands() {
        Cli.Result r = CertCli.run("cert", "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("new", "csr", "show");
    }

    /** The library refuses a non-CA issuer and an empty common name without naming flags; the command names them. */
    @Test
    void refusalsNameTheFlags() {
        assertThat(CertCli.run("cert", "new", "--cn", "leaf", "-o", p("leaf.pem"), "--key-out", p("leaf.key")).exit()).isZero();
        Cli.Result notCa = CertCli.run("cert", "new", "--cn", "x", "--ca", p("leaf.pem"), "--ca-key", p("leaf.key"),
                "-o", p("x.pem"), "--key-out", p("x.key"));
        assertThat(notCa.exit()).isEqualTo(2);
        assertThat(notCa.err()).contains("is not a CA certificate").contains("'keyway cert new --is-ca'");
        assertThat(Files.exists(dir.resolve("x.key"))).isFalse();
        Cli.Result blank = CertCli.run("cert", "new", "--cn", " ", "-o", p("y.pem"), "--key-out", p("y.key"));
        assertThat(blank.exit()).isEqualTo(2);
        assertThat(blank.err()).contains("the common name is empty").contains("--cn localhost");
    }
}
