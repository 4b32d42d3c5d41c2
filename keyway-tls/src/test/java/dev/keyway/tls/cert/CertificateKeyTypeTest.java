package dev.keyway.tls.cert;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;

import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CertificateKeyTypeTest {
    @Test
    void generatesTheDocumentedKeys() {
        KeyPair ec = CertificateKeyType.EC.generate();
        assertThat(ec.getPublic()).isInstanceOf(ECPublicKey.class);
        assertThat(((ECPublicKey) ec.getPublic()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
        assertThat(CertificateKeyType.describe(ec.getPublic())).isEqualTo("EC P-256");
        assertThat(CertificateKeyType.of(ec.getPrivate())).isEqualTo(CertificateKeyType.EC);

        KeyPair ed = CertificateKeyType.ED25519.generate();
        assertThat(CertificateKeyType.of(ed.getPublic())).isEqualTo(CertificateKeyType.ED25519);
        assertThat(CertificateKeyType.describe(ed.getPublic())).isEqualTo("Ed25519");

        KeyPair rsa = CertificatesTest.keys(CertificateKeyType.RSA);
        assertThat(((RSAPublicKey) rsa.getPublic()).getModulus().bitLength()).isEqualTo(2048);
        assertThat(CertificateKeyType.describe(rsa.getPublic())).isEqualTo("RSA 2048");
        assertThat(CertificateKeyType.of(rsa.getPrivate())).isEqualTo(CertificateKeyType.RSA);
    }

    @Test
    void rsa3072IsAllowedOtherLengthsAreNot() {
        assertThat(((RSAPublicKey) CertificateKeyType.RSA.generate(3072).getPublic()).getModulus().bitLength()).isEqualTo(3072);
        assertThatThrownBy(() -> CertificateKeyType.RSA.generate(1024)).isInstanceOf(KeywayException.class)
                .satisfies(e -> assertThat(((KeywayException) e).code()).isEqualTo(ErrorCode.POLICY));
        assertThatThrownBy(() -> CertificateKeyType.EC.generate(384)).isInstanceOf(KeywayException.class)
                .satisfies(e -> assertThat(((KeywayException) e).code()).isEqualTo(ErrorCode.USAGE));
    }

    @Test
    void parsesCliNames() {
        assertThat(CertificateKeyType.parse("ec")).isEqualTo(CertificateKeyType.EC);
        assertThat(CertificateKeyType.parse("Ed25519")).isEqualTo(CertificateKeyType.ED25519);
        assertThat(CertificateKeyType.parse("RSA")).isEqualTo(CertificateKeyType.RSA);
        assertThatThrownBy(() -> CertificateKeyType.parse("dsa")).isInstanceOf(KeywayException.class).hasMessageContaining("dsa");
        assertThatThrownBy(() -> CertificateKeyType.parse(null)).isInstanceOf(KeywayException.class);
    }

    @Test
    void otherKeyKindsAreUnsupported() throws Exception {
        KeyPair x = java.security.KeyPairGenerator.getInstance("X25519").generateKeyPair();
        assertThatThrownBy(() -> CertificateKeyType.of(x.getPublic())).isInstanceOf(KeywayException.class)
                .satisfies(e -> assertThat(((KeywayException) e).code()).isEqualTo(ErrorCode.UNSUPPORTED));
        assertThat(CertificateKeyType.describe(x.getPublic())).isEqualTo("XDH");
        var g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp384r1"));
        assertThat(CertificateKeyType.describe(g.generateKeyPair().getPublic())).isEqualTo("EC P-384");
    }
}
