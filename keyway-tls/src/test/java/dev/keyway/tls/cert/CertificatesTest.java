package dev.keyway.tls.cert;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.security.KeyPair;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CertificatesTest {
    private static final Duration YEAR = Duration.ofDays(365);

    /** Keys are slow to make (RSA especially): one per type for the whole class. */
    private static final java.util.Map<CertificateKeyType, KeyPair> KEYS = new java.util.EnumMap<>(CertificateKeyType.class);

    static KeyPair keys(CertificateKeyType t) {
        synchronized (KEYS) {
            return KEYS.computeIfAbsent(t, CertificateKeyType::generate);
        }
    }

    @ParameterizedTest
    @EnumSource(CertificateKeyType.class)
    void selfSignedLeafHasSansConstraintsAndUsages(CertificateKeyType type) throws Exception {
        KeyPair kp = keys(type);
        X509Certificate c = Certificates.selfSigned(kp, "localhost", List.of("DNS:localhost,IP:127.0.0.1", "IP:::1"), YEAR);

        assertThat(c.getVersion()).isEqualTo(3);
        assertThat(c.getSubjectX500Principal().getName()).isEqualTo("CN=localhost");
        assertThat(c.getIssuerX500Principal()).isEqualTo(c.getSubjectX500Principal());
        assertThat(Certificates.subjectAltNames(c)).containsExactly("DNS:localhost", "IP:127.0.0.1", "IP:0:0:0:0:0:0:0:1");
        assertThat(c.getBasicConstraints()).isEqualTo(-1);
        assertThat(Certificates.isCa(c)).isFalse();
        assertThat(c.getCriticalExtensionOIDs()).contains(Extension.basicConstraints.getId(), Extension.keyUsage.getId());
        assertThat(c.getExtensionValue(Extension.basicConstraints.getId())).isNotNull();
        boolean[] ku = c.getKeyUsage();
        assertThat(ku[0]).as("digitalSignature").isTrue();
        assertThat(ku[5]).as("keyCertSign").isFalse();
        assertThat(ku[6]).as("cRLSign").isFalse();
        assertThat(ku[2]).as("keyEncipherment, for RSA only").isEqualTo(type == CertificateKeyType.RSA);
        assertThat(c.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
        assertThat(c.getSigAlgName()).isEqualToIgnoringCase(switch (type) {
            case EC -> "SHA256withECDSA";
            case ED25519 -> "Ed25519";
            case RSA -> "SHA256withRSA";
        });
        c.verify(kp.getPublic());
        assertThat(skid(c)).isEqualTo(akid(c)).hasSize(20);
    }

    @Test
    void serialIsRandomPositiveSixteenBytesAndValidityIsBackdated() {
        KeyPair kp = keys(CertificateKeyType.EC);
        Instant before = Instant.now();
        X509Certificate a = Certificates.selfSigned(kp, "a", List.of(), Duration.ofDays(10));
        X509Certificate b = Certificates.selfSigned(kp, "a", List.of(), Duration.ofDays(10));
        assertThat(a.getSerialNumber()).isPositive().isNotEqualTo(b.getSerialNumber());
        assertThat(a.getSerialNumber().toByteArray()).hasSize(16);
        assertThat(a.getNotBefore().toInstant()).isBetween(before.minusSeconds(5 * 60 + 2), before.minusSeconds(5 * 60 - 2));
        assertThat(Duration.between(before, a.getNotAfter().toInstant())).isBetween(Duration.ofDays(10).minusSeconds(2),
                Duration.ofDays(10).plusSeconds(2));
        assertThat(a.getExtensionValue(Extension.subjectAlternativeName.getId())).as("no names, no empty SAN").isNull();
    }

    @Test
    void caCertificateIsCaAndSignsOnlyCertificatesAndCrls() {
        X509Certificate ca = Certificates.selfSigned(keys(CertificateKeyType.EC), "Test CA", List.of(), YEAR, true);
        assertThat(ca.getBasicConstraints()).isEqualTo(Integer.MAX_VALUE);
        assertThat(Certificates.isCa(ca)).isTrue();
        boolean[] ku = ca.getKeyUsage();
        assertThat(ku[5]).isTrue();
        assertThat(ku[6]).isTrue();
        assertThat(ku[0]).isFalse();
        assertThat(ca.getExtensionValue(Extension.extendedKeyUsage.getId())).isNull();
        assertThat(ca.getCriticalExtensionOIDs()).contains(Extension.basicConstraints.getId());
    }

    @ParameterizedTest
    @EnumSource(CertificateKeyType.class)
    void chainFromCaToIssuedLeafPassesPkix(CertificateKeyType caType) throws Exception {
        KeyPair caKeys = keys(caType);
        X509Certificate ca = Certificates.selfSigned(caKeys, "Keyway Test CA " + caType, List.of(), YEAR, true);
        for (CertificateKeyType leafType : CertificateKeyType.values()) {
            X509Certificate leaf = Certificates.issued(keys(leafType).getPublic(), "server.test", List.of("DNS:server.test"),
                    YEAR, ca, caKeys.getPrivate());
            assertThat(leaf.getIssuerX500Principal()).isEqualTo(ca.getSubjectX500Principal());
            assertThat(akid(leaf)).isEqualTo(skid(ca));
            assertThat(leaf.getSigAlgName()).isEqualToIgnoringCase(ca.getPublicKey() instanceof java.security.interfaces.RSAKey
                    ? "SHA256withRSA" : caType == CertificateKeyType.EC ? "SHA256withECDSA" : "Ed25519");
            validate(ca, leaf);
        }
    }

    @Test
    void intermediateCaChainPassesPkix() throws Exception {
        KeyPair rootKeys = keys(CertificateKeyType.EC);
        X509Certificate root = Certificates.selfSigned(rootKeys, "Root", List.of(), YEAR, true);
        KeyPair midKeys = keys(CertificateKeyType.ED25519);
        X509Certificate mid = Certificates.issued(midKeys.getPublic(), "Intermediate", List.of(), YEAR, root,
                rootKeys.getPrivate(), true);
        X509Certificate leaf = Certificates.issued(keys(CertificateKeyType.RSA).getPublic(), "leaf", List.of("DNS:leaf"), YEAR, mid,
                midKeys.getPrivate());
        assertThat(Certificates.isCa(mid)).isTrue();
        validate(root, leaf, mid);
    }

    @Test
    void pkixRejectsALeafFromAnotherCa() throws Exception {
        KeyPair k = keys(CertificateKeyType.EC);
        X509Certificate ca1 = Certificates.selfSigned(k, "CA", List.of(), YEAR, true);
        KeyPair other = CertificateKeyType.EC.generate();
        X509Certificate ca2 = Certificates.selfSigned(other, "CA", List.of(), YEAR, true);
        X509Certificate leaf = Certificates.issued(keys(CertificateKeyType.ED25519).getPublic(), "x", List.of(), YEAR, ca2, other.getPrivate());
        assertThatThrownBy(() -> validate(ca1, leaf)).isInstanceOf(CertPathValidatorException.class);
    }

    @Test
    void issuingRefusesALeafAsCaAndAKeyThatIsNotTheCas() {
        KeyPair k = keys(CertificateKeyType.EC);
        X509Certificate leaf = Certificates.selfSigned(k, "leaf", List.of(), YEAR);
        assertThatThrownBy(() -> Certificates.issued(keys(CertificateKeyType.ED25519).getPublic(), "x", List.of(), YEAR, leaf, k.getPrivate()))
                .isInstanceOf(KeywayException.class).hasMessageContaining("not a CA certificate")
                .extracting(e -> ((KeywayException) e).code()).isEqualTo(ErrorCode.USAGE);

        X509Certificate ca = Certificates.selfSigned(k, "CA", List.of(), YEAR, true);
        for (KeyPair wrong : List.of(CertificateKeyType.EC.generate(), keys(CertificateKeyType.ED25519), keys(CertificateKeyType.RSA))) {
            assertThatThrownBy(() -> Certificates.issued(keys(CertificateKeyType.ED25519).getPublic(), "x", List.of(), YEAR, ca, wrong.getPrivate()))
                    .isInstanceOf(KeywayException.class).hasMessageContaining("CA key does not match");
        }
    }

    @Test
    void selfSignedRefusesMismatchedKeyPair() {
        KeyPair mixed = new KeyPair(keys(CertificateKeyType.EC).getPublic(), CertificateKeyType.EC.generate().getPrivate());
        assertThatThrownBy(() -> Certificates.selfSigned(mixed, "x", List.of(), YEAR))
                .isInstanceOf(KeywayException.class).hasMessageContaining("does not match");
    }

    @ParameterizedTest
    @EnumSource(CertificateKeyType.class)
    void csrIsSignedAndAsksForTheSans(CertificateKeyType type) throws Exception {
        KeyPair kp = keys(type);
        PKCS10CertificationRequest req = Certificates.csr(kp, "api.example.com", List.of("DNS:api.example.com,IP:10.0.0.1"));
        assertThat(req.isSignatureValid(new JcaContentVerifierProviderBuilder().build(kp.getPublic()))).isTrue();
        assertThat(req.getSubject().toString()).isEqualTo("CN=api.example.com");
        assertThat(req.getSubjectPublicKeyInfo().getEncoded()).isEqualTo(kp.getPublic().getEncoded());
        Attribute[] attrs = req.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest);
        assertThat(attrs).hasSize(1);
        Extensions ext = Extensions.getInstance(attrs[0].getAttrValues().getObjectAt(0));
        GeneralName[] names = GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName).getNames();
        assertThat(names).extracting(GeneralName::getTagNo).containsExactly(GeneralName.dNSName, GeneralName.iPAddress);
        assertThat(names[0].getName().toString()).isEqualTo("api.example.com");

        // Tampering with the request breaks its signature.
        byte[] der = req.getEncoded();
        byte[] bad = Arrays.copyOf(der, der.length);
        int at = indexOf(bad, "api.example.com".getBytes());
        bad[at] ^= 1;
        assertThat(new PKCS10CertificationRequest(bad).isSignatureValid(
                new JcaContentVerifierProviderBuilder().build(kp.getPublic()))).isFalse();
    }

    @Test
    void csrWithoutSansHasNoExtensionRequest() {
        PKCS10CertificationRequest req = Certificates.csr(keys(CertificateKeyType.EC), "Some Person", List.of());
        assertThat(req.getAttributes()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"DNS:", "IP:1.2.3", "IP:300.1.1.1", "DNS:exa mple.com", "DNS:-bad.com", "DNS:a..b", "URI:http://x",
            "DNS:a,", ",DNS:a", "email:a@b", "DNS:*.com", "DNS:ex\u00e4mple.com", "IP:localhost"})
    void badSubjectAltNamesAreRefused(String san) {
        assertThatThrownBy(() -> Certificates.selfSigned(keys(CertificateKeyType.EC), "x", List.of(san), YEAR))
                .isInstanceOf(KeywayException.class)
                .satisfies(e -> assertThat(((KeywayException) e).code()).isIn(ErrorCode.MALFORMED, ErrorCode.USAGE));
    }

    @Test
    void subjectAltNamesAreCanonicalAndDeduplicated() {
        X509Certificate c = Certificates.selfSigned(keys(CertificateKeyType.EC), "x",
                List.of("dns:Example.COM.", "example.com", "192.168.1.1", "*.example.com", "IP:192.168.1.1"), YEAR);
        assertThat(Certificates.subjectAltNames(c)).containsExactly("DNS:example.com", "IP:192.168.1.1", "DNS:*.example.com");
    }

    @Test
    void badNamesAndValiditiesAreRefused() {
        KeyPair kp = keys(CertificateKeyType.EC);
        assertThatThrownBy(() -> Certificates.selfSigned(kp, " ", List.of(), YEAR)).isInstanceOf(KeywayException.class);
        assertThatThrownBy(() -> Certificates.selfSigned(kp, "x".repeat(65), List.of(), YEAR)).isInstanceOf(KeywayException.class);
        assertThatThrownBy(() -> Certificates.selfSigned(kp, "a\nb", List.of(), YEAR)).isInstanceOf(KeywayException.class);
        assertThatThrownBy(() -> Certificates.selfSigned(kp, "x", List.of(), Duration.ZERO)).isInstanceOf(KeywayException.class);
        assertThatThrownBy(() -> Certificates.selfSigned(kp, "x", List.of(), Duration.ofDays(-1))).isInstanceOf(KeywayException.class);
        assertThatThrownBy(() -> Certificates.selfSigned(kp, "x", List.of(), Duration.ofDays(40000))).isInstanceOf(KeywayException.class);
        // A CN with commas and quotes stays one RDN value.
        X509Certificate c = Certificates.selfSigned(kp, "Acme, Inc. \"Test\"", List.of(), YEAR);
        assertThat(c.getSubjectX500Principal().getName()).isEqualTo("CN=Acme\\, Inc. \\\"Test\\\"");
    }

    @Test
    void defaultSubjectAltNamesComeFromAHostNameOrAddress() {
        assertThat(Certificates.defaultSubjectAltNames("localhost")).containsExactly("DNS:localhost");
        assertThat(Certificates.defaultSubjectAltNames("127.0.0.1")).containsExactly("IP:127.0.0.1");
        assertThat(Certificates.defaultSubjectAltNames("::1")).containsExactly("IP:::1");
        assertThat(Certificates.defaultSubjectAltNames("My Test CA")).isEmpty();
        assertThat(Certificates.defaultSubjectAltNames(null)).isEmpty();
    }

    @Test
    void fingerprintIsSha256OfDer() throws Exception {
        X509Certificate c = Certificates.selfSigned(keys(CertificateKeyType.EC), "x", List.of(), YEAR);
        byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(c.getEncoded());
        assertThat(Certificates.sha256Fingerprint(c)).matches("([0-9A-F]{2}:){31}[0-9A-F]{2}")
                .isEqualTo(java.util.HexFormat.ofDelimiter(":").withUpperCase().formatHex(d));
    }

    static void validate(X509Certificate anchor, X509Certificate... path) throws Exception {
        CertPath cp = CertificateFactory.getInstance("X.509").generateCertPath(List.of(path));
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(anchor, null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(cp, params);
    }

    static byte[] skid(X509Certificate c) throws Exception {
        ASN1Encodable v = JcaX509ExtensionUtils.parseExtensionValue(c.getExtensionValue(Extension.subjectKeyIdentifier.getId()));
        return org.bouncycastle.asn1.x509.SubjectKeyIdentifier.getInstance(v).getKeyIdentifier();
    }

    static byte[] akid(X509Certificate c) throws Exception {
        ASN1Encodable v = JcaX509ExtensionUtils.parseExtensionValue(c.getExtensionValue(Extension.authorityKeyIdentifier.getId()));
        return org.bouncycastle.asn1.x509.AuthorityKeyIdentifier.getInstance(v).getKeyIdentifier();
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
