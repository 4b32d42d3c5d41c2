package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.cert.CertificateKeyType;
import dev.keyway.tls.cert.Pem;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.TlsException;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import static dev.keyway.cli.Cli.p;
import static dev.keyway.cli.EnvelopeFixtures.keygen;
import static dev.keyway.cli.EnvelopeFixtures.ok;
import static dev.keyway.cli.EnvelopeFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Text from files and peers (content types, certificate names, key-log labels, what a TLS peer offers)
 * is printed with its control characters escaped, so it cannot fake Keyway's own lines or drive the
 * terminal; --json keeps it exact (issue 14, point 10).
 */
class TerminalSafeOutputTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A content type that ends its line, erases it and fakes the lines of a signed file. */
    private static final String FORGED = "text/plain\u001b[2K\r\nsigned:       true\nsender:       kwx255191fakefakefake";
    private static final String FORGED_SHOWN = "text/plain\\x1b[2K\\r\\nsigned:       true\\nsender:       kwx255191fakefakefake";
    /** A certificate common name that tries the same on 'cert show'. */
    private static final String EVIL_CN = "evil\u001b[31m\r\nissuer         Trusted Root\u0000";
    private static final String EVIL_CN_SHOWN = "evil\\x1b[31m\\r\\nissuer         Trusted Root";
    private static final String EVIL_DNS = "a\u001b[2K\nb.example";

    @TempDir
    Path dir;

    /** Characters that move the cursor, end a line or start a terminal escape: none may reach the output raw. */
    private static void assertNoRawControls(String text) {
        for (char c : text.toCharArray()) {
            if (c != '\n') {
                assertThat(c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029')
                        .as("raw U+%04X in output:\n%s", (int) c, text).isFalse();
            }
        }
    }

    private static long lines(String text) {
        return text.chars().filter(c -> c == '\n').count();
    }

    // ---- (a) inspect: a forged content type ----

    @Test
    void inspectShowsAForgedContentTypeOnItsOwnLineAndJsonKeepsItExact() throws Exception {
        String alice = keygen(dir, "alice.key");
        Path plain = write(dir.resolve("plain.txt"), "hello".getBytes(StandardCharsets.US_ASCII));
        Path forged = dir.resolve("forged.kw");
        Path honest = dir.resolve("honest.kw");
        // encrypt refuses such a content type, so the attacker (any sender) writes the header with their own tool:
        // here, a file with a placeholder of the same length, patched and given a new header MAC (unsigned).
        forge(dir, alice, plain, forged, FORGED);
        ok("encrypt", "-r", alice, "--content-type", "text/plain", "-o", p(honest), p(plain));
        assertThat(Cli.run("encrypt", "-r", alice, "--content-type", FORGED, "-o", p(dir.resolve("refused.kw")), p(plain)).exit())
                .isEqualTo(2);

        String text = ok("inspect", p(forged)).out();
        String reference = ok("inspect", p(honest)).out();
        assertNoRawControls(text);
        assertThat(lines(text)).as(text).isEqualTo(lines(reference));
        assertThat(text.lines().filter(l -> l.startsWith("signed")).toList()).containsExactly("signed: false");
        assertThat(text.lines().filter(l -> l.startsWith("sender"))).isEmpty();
        assertThat(text).contains("\ncontent type: " + FORGED_SHOWN + "\n");

        JsonNode j = JSON.readTree(ok("inspect", "--json", p(forged)).out());
        assertThat(j.get("content_type").asText()).isEqualTo(FORGED);
        assertThat(j.get("signed").asBoolean()).isFalse();
        assertThat(j.has("sender")).isFalse();
    }

    /**
     * Writes an unsigned file for {@code recipient} whose content type is {@code contentType}, as a sender with
     * their own tool could: encrypt with a placeholder of the same length, patch it, and compute the header MAC
     * again with the file key (docs/FORMAT.md: mac_key = HKDF(salt = "", file_key, "keyway header mac v1")).
     */
    private void forge(Path dir, String recipient, Path plain, Path out, String contentType) throws Exception {
        byte[] wanted = contentType.getBytes(StandardCharsets.UTF_8);
        String placeholder = "x".repeat(wanted.length);
        Path tmp = dir.resolve("placeholder.kw");
        ok("encrypt", "-r", recipient, "--content-type", placeholder, "-o", p(tmp), p(plain));
        Cli.Result shown = ok("decrypt", "-i", p(dir.resolve("alice.key")), "--show-session-key", "-o",
                p(dir.resolve("placeholder.out")), p(tmp));
        byte[] fileKey = java.util.HexFormat.of().parseHex(shown.err().lines().filter(l -> l.matches("[0-9a-f]{64}")).findFirst()
                .orElseThrow());
        byte[] file = Files.readAllBytes(tmp);
        String asText = new String(file, StandardCharsets.ISO_8859_1);
        int at = asText.indexOf(placeholder);
        assertThat(at).isPositive();
        System.arraycopy(wanted, 0, file, at, wanted.length);
        int fieldsLength = java.nio.ByteBuffer.wrap(file, 5, 4).getInt();
        int macAt = 9 + fieldsLength;
        byte[] macKey = dev.keyway.core.kdf.Hkdf.derive(dev.keyway.core.kdf.Hkdf.Hash.SHA256, new byte[0], fileKey,
                "keyway header mac v1".getBytes(StandardCharsets.US_ASCII), 32);
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(macKey, "HmacSHA256"));
        mac.update(file, 0, macAt);
        System.arraycopy(mac.doFinal(), 0, file, macAt, 32);
        Files.write(out, file);
        // The forged file is a valid file: it decrypts.
        ok("decrypt", "-i", p(dir.resolve("alice.key")), "-o", p(dir.resolve("forged.out")), p(out));
    }

    // ---- (b) tls keylog check: a label with control bytes ----

    @Test
    void keylogCheckShowsABadLabelEscapedAndJsonExact() throws Exception {
        // A line break itself ends a key-log line; CR, VT and NEL (0x85, "next line") are what can hide inside one.
        String label = "X\u0000Y\u001b[2K\rCLIENT_RANDOM\u000b\u0085Z";
        String shown = "X\\x00Y\\x1b[2K\\rCLIENT_RANDOM\\x0b\\x85Z";
        Path log = dir.resolve("keys.txt");
        Files.write(log, (label + " " + TlsKeyCommandsTest.CLIENT_RANDOM + " " + TlsKeyCommandsTest.MASTER + "\n")
                .getBytes(StandardCharsets.ISO_8859_1));

        Cli.Result r = Cli.run("tls", "keylog", "check", p(log));
        assertThat(r.exit()).isEqualTo(2);
        assertNoRawControls(r.out());
        assertThat(r.out()).contains("bad line 1: unknown label '" + shown + "'\n");
        assertNoRawControls(r.err());
        assertThat(r.oneLineError()).as(r.err()).isTrue();
        assertThat(r.err()).contains("first: line 1: unknown label '" + shown + "'");

        Cli.Result json = Cli.run("tls", "keylog", "check", "--json", p(log));
        assertThat(JSON.readTree(json.out()).get("bad_lines").get(0).get("problem").asText())
                .isEqualTo("unknown label '" + label + "'");
    }

    /** tls decrypt refuses the same key log with one escaped line (the message is built in keyway-core). */
    @Test
    void tlsDecryptRefusesABadLabelInOneEscapedLine() throws Exception {
        Path log = dir.resolve("keys.txt");
        Files.write(log, ("A\u001b]0;owned\u0007\rB " + TlsKeyCommandsTest.CLIENT_RANDOM + " " + TlsKeyCommandsTest.MASTER + "\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        Cli.Result r = Cli.run("tls", "decrypt", "--keylog", p(log), "--pcap", p(dir.resolve("none.pcap")));
        assertThat(r.exit()).isEqualTo(2);
        assertNoRawControls(r.err());
        assertThat(r.oneLineError()).as(r.err()).isTrue();
        assertThat(r.err()).contains("line 1: unknown label 'A\\x1b]0;owned\\x07\\rB'");
    }

    // ---- (c) cert show / cert new: names with control characters ----

    @Test
    void certShowEscapesSubjectIssuerAndNamesAndJsonKeepsThemExact() throws Exception {
        KeyPair keys = CertificateKeyType.EC.generate();
        X509Certificate evil = certificate(keys, EVIL_CN, EVIL_DNS, false);
        Path file = write(dir.resolve("evil.pem"), Pem.writeCertificate(evil).getBytes(StandardCharsets.US_ASCII));

        Cli.Result r = Cli.run("cert", "show", p(file));
        assertThat(r.exit()).as(r.err()).isZero();
        assertNoRawControls(r.out());
        assertThat(lines(r.out())).as(r.out()).isEqualTo(CertShowCommand.describe(evil).size());
        assertThat(r.out().lines().filter(l -> l.startsWith("issuer")).toList()).hasSize(1);
        assertThat(r.out()).contains("subject        CN=" + EVIL_CN_SHOWN, "issuer         CN=" + EVIL_CN_SHOWN,
                "sans           DNS:a\\x1b[2K\\nb.example\n");

        JsonNode c = JSON.readTree(Cli.run("cert", "show", "--json", p(file)).out()).get("certificates").get(0);
        assertThat(c.get("subject").asText()).isEqualTo(evil.getSubjectX500Principal().getName()).contains(EVIL_CN.substring(0, 20));
        assertThat(c.get("sans").get(0).asText()).isEqualTo("DNS:" + EVIL_DNS);
    }

    @Test
    void certNewNamesAnEvilIssuerEscapedAndRefusesANonCaInOneLine() throws Exception {
        KeyPair caKeys = CertificateKeyType.EC.generate();
        Path ca = write(dir.resolve("ca.pem"), Pem.writeCertificate(certificate(caKeys, EVIL_CN, null, true))
                .getBytes(StandardCharsets.US_ASCII));
        Path caKey = write(dir.resolve("ca.key"), Pem.writePrivateKey(caKeys.getPrivate()).getBytes(StandardCharsets.US_ASCII));
        Cli.Result r = Cli.run("cert", "new", "--cn", "leaf", "--ca", p(ca), "--ca-key", p(caKey),
                "-o", p(dir.resolve("leaf.pem")), "--key-out", p(dir.resolve("leaf.key")));
        assertThat(r.exit()).as(r.err()).isZero();
        assertNoRawControls(r.out());
        assertThat(lines(r.out())).isEqualTo(1);
        assertThat(r.out()).contains("(issued by CN=" + EVIL_CN_SHOWN);

        KeyPair leafKeys = CertificateKeyType.EC.generate();
        Path notCa = write(dir.resolve("notca.pem"), Pem.writeCertificate(certificate(leafKeys, EVIL_CN, null, false))
                .getBytes(StandardCharsets.US_ASCII));
        Path notCaKey = write(dir.resolve("notca.key"), Pem.writePrivateKey(leafKeys.getPrivate()).getBytes(StandardCharsets.US_ASCII));
        Cli.Result refused = Cli.run("cert", "new", "--cn", "leaf2", "--ca", p(notCa), "--ca-key", p(notCaKey),
                "-o", p(dir.resolve("leaf2.pem")), "--key-out", p(dir.resolve("leaf2.key")));
        assertThat(refused.exit()).isEqualTo(2);
        assertNoRawControls(refused.err());
        assertThat(refused.oneLineError()).as(refused.err()).isTrue();
        assertThat(refused.err()).contains("the certificate CN=" + EVIL_CN_SHOWN);
    }

    /** A PEM block label is quoted by the parser's message: escaped, one line. */
    @Test
    void aBadPemLabelIsQuotedEscaped() throws Exception {
        Path file = write(dir.resolve("odd.pem"), "-----BEGIN EVIL\u001b[2K\u0007-----\nAAAA\n-----END EVIL\u001b[2K\u0007-----\n"
                .getBytes(StandardCharsets.ISO_8859_1));
        Cli.Result r = Cli.run("cert", "show", p(file));
        assertThat(r.exit()).isEqualTo(2);
        assertNoRawControls(r.err());
        assertThat(r.oneLineError()).as(r.err()).isTrue();
        assertThat(r.err()).contains("EVIL\\x1b[2K\\x07");
    }

    // ---- (d) error messages that carry outside text stay one line ----

    /** Main's last line of defence: a message nobody escaped (here picocli's, quoting an argument) is escaped whole. */
    @Test
    void mainKeepsEveryErrorMessageOnOneLine() {
        Cli.Result r = Cli.run("inspect", "--bogus\u001b[2K\r\nkeyway: all good");
        assertThat(r.exit()).isEqualTo(2);
        assertNoRawControls(r.err());
        assertThat(r.oneLineError()).as(r.err()).isTrue();
        assertThat(r.err()).contains("--bogus\\x1b[2K\\r\\nkeyway: all good");
    }

    /** An algorithm named in a key file (JSON) is file text: quoted escaped in the refusal. */
    @Test
    void anUnknownAlgorithmFromAKeyFileIsQuotedEscaped() throws Exception {
        Path keyFile = write(dir.resolve("key.json"), ("{\"key\":\"" + "00".repeat(32) + "\",\"algorithm\":\"AES\\u001b[2K\\nfake\"}")
                .getBytes(StandardCharsets.US_ASCII));
        Path kek = write(dir.resolve("kek.hex"), "11".repeat(32).getBytes(StandardCharsets.US_ASCII));
        Cli.Result r = Cli.run("key", "wrap", "--kek-file", p(kek), p(keyFile));
        assertThat(r.exit()).isEqualTo(2);
        assertNoRawControls(r.err());
        assertThat(r.oneLineError()).as(r.err()).isTrue();
        assertThat(r.err()).contains("unknown algorithm 'AES\\x1b[2K\\nfake'");
    }

    // ---- tls serve and tls connect: what a peer sends ----

    /** A client offers ALPN protocols with control characters: the server's log line for it stays one escaped line. */
    @Test
    void tlsServeLogsWhatAClientOfferedEscaped() throws Exception {
        KeyPair keys = CertificateKeyType.EC.generate();
        Path cert = write(dir.resolve("srv.pem"), Pem.writeCertificate(certificate(keys, "localhost", "localhost", false))
                .getBytes(StandardCharsets.US_ASCII));
        Path key = write(dir.resolve("srv.key"), Pem.writePrivateKey(keys.getPrivate()).getBytes(StandardCharsets.US_ASCII));
        InProcessServer server = InProcessServer.start("tls", "serve", "--cert", p(cert), "--key", p(key), "--listen", "127.0.0.1:0",
                "--echo", "--naccept", "1", "--alpn", "h2");
        TlsConfig config = TlsConfig.builder().insecure(true).serverName("localhost")
                .alpn(List.of("evil\u001b[2K\r\nkeyway: 127.0.0.1: all good")).build();
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            assertThatThrownBy(() -> TlsConnection.connect(s, config).close()).isInstanceOf(TlsException.class);
        }
        Cli.Result served = server.result();
        assertThat(served.exit()).as(served.err()).isZero();
        assertNoRawControls(served.err());
        assertThat(served.err().lines().toList()).as(served.err()).hasSize(2);   // "listening on", then the client's line
        assertThat(served.err()).contains("client offered [evil\\x1b[2K\\r\\nkeyway: 127.0.0.1: all good]");
    }

    /** A server's certificate subject is peer text: the refusal names it escaped, on one line. */
    @Test
    void tlsConnectNamesAnUntrustedSubjectEscaped() throws Exception {
        KeyPair keys = CertificateKeyType.EC.generate();
        Path cert = write(dir.resolve("srv.pem"), Pem.writeCertificate(certificate(keys, EVIL_CN, "localhost", false))
                .getBytes(StandardCharsets.US_ASCII));
        Path key = write(dir.resolve("srv.key"), Pem.writePrivateKey(keys.getPrivate()).getBytes(StandardCharsets.US_ASCII));
        Path otherCa = write(dir.resolve("other.pem"), Pem.writeCertificate(certificate(CertificateKeyType.EC.generate(), "Other CA", null, true))
                .getBytes(StandardCharsets.US_ASCII));
        InProcessServer server = InProcessServer.start("tls", "serve", "--cert", p(cert), "--key", p(key), "--listen", "127.0.0.1:0",
                "--echo", "--naccept", "1");
        Cli.Result r = Cli.run("tls", "connect", "127.0.0.1:" + server.port(), "--servername", "localhost", "--cafile", p(otherCa));
        server.result();
        assertThat(r.exit()).isEqualTo(5);
        assertNoRawControls(r.err());
        assertThat(r.oneLineError()).as(r.err()).isTrue();
        assertThat(r.err()).contains("the certificate chain of CN=" + EVIL_CN_SHOWN);
    }

    /** A certificate made directly with Bouncy Castle: 'keyway cert new' refuses control characters in names. */
    static X509Certificate certificate(KeyPair keys, String cn, String dnsName, boolean ca) throws Exception {
        X500Name name = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, cn).build();
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minusSeconds(300)), Date.from(now.plus(Duration.ofDays(1))), name, keys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        if (ca) {
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } else {
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        }
        if (dnsName != null) {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
        }
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }
}
