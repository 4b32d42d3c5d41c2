package dev.keyway.tls.cert;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CertPemTest {
    private static final Duration YEAR = Duration.ofDays(365);

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void certificateChainRoundTripsInOrder() {
        KeyPair caKeys = CertificatesTest.keys(CertificateKeyType.EC);
        X509Certificate ca = Certificates.selfSigned(caKeys, "CA", List.of(), YEAR, true);
        X509Certificate leaf = Certificates.issued(CertificatesTest.keys(CertificateKeyType.ED25519).getPublic(), "leaf", List.of("DNS:leaf"),
                YEAR, ca, caKeys.getPrivate());
        String pem = Pem.writeCertificates(List.of(leaf, ca));
        assertThat(pem).startsWith("-----BEGIN CERTIFICATE-----\n").endsWith("-----END CERTIFICATE-----\n").doesNotContain("\r");
        assertThat(pem.split("-----BEGIN CERTIFICATE-----", -1)).hasSize(3);
        assertThat(Pem.readCertificates(b(pem))).containsExactly(leaf, ca);
        assertThat(Pem.readCertificate(b(pem))).isEqualTo(leaf);
        assertThat(Pem.readCertificate(b(Pem.writeCertificate(ca)))).isEqualTo(ca);
    }

    @Test
    void certificatesAreFoundAmongOtherBlocksAndText() {
        KeyPair kp = CertificatesTest.keys(CertificateKeyType.EC);
        X509Certificate c = Certificates.selfSigned(kp, "x", List.of(), YEAR);
        String combined = "subject=CN = x\r\nsome text before\r\n" + Pem.writePrivateKey(kp.getPrivate())
                + Pem.writeCertificate(c).replace("\n", "\r\n") + "trailing text\n";
        assertThat(Pem.readCertificates(b(combined))).containsExactly(c);
        assertThat(Pem.readKeyPair(b(combined)).getPublic().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
    }

    @ParameterizedTest
    @EnumSource(CertificateKeyType.class)
    void pkcs8PrivateKeyRoundTripsWithItsPublicKey(CertificateKeyType type) {
        KeyPair kp = CertificatesTest.keys(type);
        String pem = Pem.writePrivateKey(kp.getPrivate());
        assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----\n");
        KeyPair back = Pem.readKeyPair(b(pem));
        assertThat(back.getPrivate().getEncoded()).isEqualTo(kp.getPrivate().getEncoded());
        assertThat(back.getPublic().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
        assertThat(CertificateKeyType.of(back.getPrivate())).isEqualTo(type);
        assertThat(Pem.readPrivateKey(b(pem)).getEncoded()).isEqualTo(kp.getPrivate().getEncoded());
        // The key read back can sign a certificate that the original public key verifies.
        X509Certificate c = Certificates.selfSigned(back, "x", List.of(), YEAR);
        assertThat(c.getPublicKey().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
    }

    /** The traditional form OpenSSL writes: "EC PRIVATE KEY" (RFC 5915, with the curve) or "RSA PRIVATE KEY" (PKCS #1). */
    static String traditional(KeyPair kp) throws Exception {
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(kp.getPrivate().getEncoded());
        ASN1Encodable inner = info.parsePrivateKey();
        String type = "RSA";
        if (kp.getPrivate() instanceof java.security.interfaces.ECPrivateKey) {
            type = "EC";
            ECPrivateKey ec = ECPrivateKey.getInstance(inner);
            byte[] point = SubjectPublicKeyInfo.getInstance(kp.getPublic().getEncoded()).getPublicKeyData().getBytes();
            inner = new ECPrivateKey(256, ec.getKey(), new DERBitString(point), info.getPrivateKeyAlgorithm().getParameters());
        }
        String b64 = Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(inner.toASN1Primitive().getEncoded());
        return "-----BEGIN " + type + " PRIVATE KEY-----\n" + b64 + "\n-----END " + type + " PRIVATE KEY-----\n";
    }

    @ParameterizedTest
    @EnumSource(value = CertificateKeyType.class, names = {"EC", "RSA"})
    void traditionalOpensslKeyFormatsAreRead(CertificateKeyType type) throws Exception {
        KeyPair kp = CertificatesTest.keys(type);
        String pem = traditional(kp);
        assertThat(pem).startsWith("-----BEGIN " + type.name() + " PRIVATE KEY-----");
        KeyPair back = Pem.readKeyPair(b(pem));
        assertThat(back.getPublic().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
        assertThat(CertificateKeyType.of(back.getPrivate())).isEqualTo(type);
        Certificates.selfSigned(back, "x", List.of(), YEAR).verify(kp.getPublic());
    }

    @Test
    void ecParametersBlockBeforeTheKeyIsSkipped() throws Exception {
        KeyPair kp = CertificatesTest.keys(CertificateKeyType.EC);
        String params = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n";
        assertThat(Pem.readKeyPair(b(params + traditional(kp))).getPublic().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
    }

    @Test
    void traditionalEcKeyWithoutItsCurveIsMalformed() throws Exception {
        StringWriter s = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(s)) {
            w.writeObject(CertificatesTest.keys(CertificateKeyType.EC).getPrivate()); // the JDK's encoding leaves the curve out here
        }
        assertMalformed(() -> Pem.readKeyPair(b(s.toString())), "which curve");
    }

    @Test
    void csrRoundTrips() throws Exception {
        KeyPair kp = CertificatesTest.keys(CertificateKeyType.ED25519);
        PKCS10CertificationRequest req = Certificates.csr(kp, "x", List.of("DNS:x"));
        String pem = Pem.writeCsr(req);
        assertThat(pem).startsWith("-----BEGIN CERTIFICATE REQUEST-----\n");
        PKCS10CertificationRequest back = Pem.readCsr(b(pem));
        assertThat(back.getEncoded()).isEqualTo(req.getEncoded());
        assertThat(back.isSignatureValid(new JcaContentVerifierProviderBuilder().build(kp.getPublic()))).isTrue();
    }

    @Test
    void missingBlocksAreMalformed() {
        KeyPair kp = CertificatesTest.keys(CertificateKeyType.EC);
        String keyPem = Pem.writePrivateKey(kp.getPrivate());
        String certPem = Pem.writeCertificate(Certificates.selfSigned(kp, "x", List.of(), YEAR));
        assertMalformed(() -> Pem.readCertificates(b(keyPem)), "no certificate found");
        assertMalformed(() -> Pem.readKeyPair(b(certPem)), "no private key found");
        assertMalformed(() -> Pem.readCsr(b(certPem)), "no certificate request found");
        assertMalformed(() -> Pem.readCertificates(new byte[0]), "no certificate found");
        assertMalformed(() -> Pem.readCertificates(b("hello\n")), "no certificate found");
        assertMalformed(() -> Pem.readKeyPair(b(keyPem + keyPem)), "more than one private key");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\nMIIB\n",
            "-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END CERTIFICATE-----\n",
            "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n",
            "-----BEGIN SOMETHING ELSE-----\nMAA=\n-----END SOMETHING ELSE-----\n",
            "-----BEGIN CERTIFICATE-----\nMAA=\n-----END PRIVATE KEY-----\n",
    })
    void malformedCertificatePemIsMalformed(String pem) {
        assertThatThrownBy(() -> Pem.readCertificates(b(pem)))
                .isInstanceOf(KeywayException.class)
                .satisfies(e -> assertThat(((KeywayException) e).code()).isEqualTo(ErrorCode.MALFORMED));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n",
            "-----BEGIN EC PRIVATE KEY-----\nMAMCAQE=\n-----END EC PRIVATE KEY-----\n",
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\n@@@@\n-----END PRIVATE KEY-----\n",
    })
    void malformedKeyPemIsAKeywayException(String pem) {
        assertThatThrownBy(() -> Pem.readKeyPair(b(pem)))
                .isInstanceOf(KeywayException.class)
                .satisfies(e -> assertThat(((KeywayException) e).code()).isIn(ErrorCode.MALFORMED, ErrorCode.UNSUPPORTED));
    }

    @Test
    void encryptedAndUnsupportedKeysAreRefusedWithAHint() throws Exception {
        // Only the structure matters: an encrypted key is refused before anything is decrypted.
        byte[] enc = new org.bouncycastle.asn1.pkcs.EncryptedPrivateKeyInfo(
                new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
                        org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pbeWithSHAAnd3_KeyTripleDES_CBC,
                        new org.bouncycastle.asn1.pkcs.PKCS12PBEParams(new byte[8], 2048)),
                new byte[160]).getEncoded();
        String encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(enc)
                + "\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assertThatThrownBy(() -> Pem.readKeyPair(b(encrypted))).isInstanceOf(KeywayException.class)
                .hasMessageContaining("encrypted");
        String legacyEncrypted = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assertThatThrownBy(() -> Pem.readKeyPair(b(legacyEncrypted))).isInstanceOf(KeywayException.class);

        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("X25519");
        String x25519 = Pem.writePrivateKey(g.generateKeyPair().getPrivate());
        assertThatThrownBy(() -> Pem.readKeyPair(b(x25519))).isInstanceOf(KeywayException.class)
                .satisfies(e -> assertThat(((KeywayException) e).code()).isEqualTo(ErrorCode.UNSUPPORTED));
    }

    @Test
    void oversizedInputIsRefusedBeforeParsing() {
        byte[] big = new byte[Pem.MAX_BYTES + 1];
        assertMalformed(() -> Pem.readCertificates(big), "too large");
        assertMalformed(() -> Pem.readKeyPair(big), "too large");
        assertMalformed(() -> Pem.readCsr(big), "too large");
    }

    /** Fuzz-style: random and mutated inputs end in a KeywayException or a correct parse, never anything else. */
    @Test
    void mutatedPemNeverEscapesAsAnotherException() {
        KeyPair kp = CertificatesTest.keys(CertificateKeyType.EC);
        X509Certificate c = Certificates.selfSigned(kp, "fuzz", List.of("DNS:fuzz"), YEAR);
        List<byte[]> seeds = List.of(b(Pem.writeCertificate(c)), b(Pem.writePrivateKey(kp.getPrivate())),
                b(Pem.writeCsr(Certificates.csr(kp, "fuzz", List.of("DNS:fuzz")))));
        Random rnd = new Random(20240611);
        for (int i = 0; i < 3000; i++) {
            byte[] seed = seeds.get(i % seeds.size());
            byte[] in = mutate(seed, rnd, i);
            for (int which = 0; which < 3; which++) {
                try {
                    switch (which) {
                        case 0 -> Pem.readCertificates(in);
                        case 1 -> Pem.readKeyPair(in);
                        default -> Pem.readCsr(in);
                    }
                } catch (KeywayException expected) {
                    assertThat(expected.getMessage()).isNotBlank().doesNotContain("\n");
                }
            }
        }
    }

    /** Mutations that keep the PEM armour but break the DER inside, as well as raw byte damage. */
    private static byte[] mutate(byte[] seed, Random rnd, int i) {
        String text = new String(seed, StandardCharsets.US_ASCII);
        switch (i % 4) {
            case 0 -> {
                byte[] out = seed.clone();
                for (int k = 0, n = 1 + rnd.nextInt(4); k < n; k++) {
                    out[rnd.nextInt(out.length)] = (byte) rnd.nextInt(256);
                }
                return out;
            }
            case 1 -> {
                return java.util.Arrays.copyOf(seed, rnd.nextInt(seed.length));
            }
            case 2 -> {
                String[] lines = text.split("\n");
                String header = lines[0];
                String footer = lines[lines.length - 1];
                StringBuilder body = new StringBuilder();
                for (int k = 1; k < lines.length - 1; k++) {
                    body.append(lines[k]);
                }
                byte[] der = Base64.getDecoder().decode(body.toString());
                for (int k = 0, n = 1 + rnd.nextInt(3); k < n; k++) {
                    der[rnd.nextInt(der.length)] = (byte) rnd.nextInt(256);
                }
                if (rnd.nextBoolean()) {
                    der = java.util.Arrays.copyOf(der, rnd.nextInt(der.length + 1));
                }
                return b(header + "\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der) + "\n" + footer + "\n");
            }
            default -> {
                byte[] out = new byte[rnd.nextInt(600)];
                rnd.nextBytes(out);
                String header = text.substring(0, text.indexOf('\n') + 1);
                return rnd.nextBoolean() ? out : b(header + Base64.getEncoder().encodeToString(out) + "\n"
                        + header.replace("BEGIN", "END"));
            }
        }
    }

    private static void assertMalformed(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String text) {
        assertThatThrownBy(call).isInstanceOf(KeywayException.class).hasMessageContaining(text)
                .satisfies(e -> assertThat(((KeywayException) e).code()).isEqualTo(ErrorCode.MALFORMED));
    }
}
