package dev.keyway.tls.cert;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;

import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CertKeyTypeTest {
    @Test
    void generatesTheDocumentedKeys() {
        KeyPair ec = KeyType.EC.generate();
        assertThat(ec.getPublic()).isInstanceOf(ECPublicKey.class);
        assertThat(((ECPublicKey) ec.getPublic()).getParams().getCurve().getField().getFieldSize()).isEqualTo(256);
        assertThat(KeyType.describe(ec.getPublic())).isEqualTo("EC P-256");
        assertThat(KeyType.of(ec.getPrivate())).isEqualTo(KeyType.EC);

        KeyPair ed = KeyType.ED25519.generate();
        assertThat(KeyType.of(ed.getPublic())).isEqualTo(KeyType.ED25519);
        assertThat(KeyType.describe(ed.getPublic())).isEqualTo("Ed25519");

        KeyPair rsa = CertificatesTest.keys(KeyType.RSA);
        assertThat(((RSAPublicKey) rsa.getPublic()).getModulus().bitLength()).isEqualTo(2048);
        assertThat(KeyType.describe(rsa.getPublic())).isEqualTo("RSA 2048");
        assertThat(KeyType.of(rsa.getPrivate())).isEqualTo(KeyType.RSA);
    }

    @Test
    void rsa3072IsAllowedOtherLengthsAreNot() {
        assertThat(((RSAPublicKey) KeyType.RSA.generate(3072).getPublic()).getModulus().bitLength()).isEqualTo(3072);
        assertThatThrownBy(() -> KeyType.RSA.generate(1024)).isInstanceOf(KeywayException.class)
                .satisfies(e -> assertThat(((KeywayException) e).code()).isEqualTo(ErrorCode.POLICY));
        assertThatThrownBy(() -> KeyType.EC.generate(384)).isInstanceOf(KeywayException.class)
                .satisfies(e -> assertThat(((KeywayException) e).code()).isEqualTo(ErrorCode.USAGE));
    }

    @Test
    void parsesCliNames() {
        assertThat(KeyType.parse("ec")).isEqualTo(KeyType.EC);
        assertThat(KeyType.parse("Ed25519")).isEqualTo(KeyType.ED25519);
        assertThat(KeyType.parse("RSA")).isEqualTo(KeyType.RSA);
        assertThatThrownBy(() -> KeyType.parse("dsa")).isInstanceOf(KeywayException.class).hasMessageContaining("dsa");
        assertThatThrownBy(() -> KeyType.parse(null)).isInstanceOf(KeywayException.class);
    }

    @Test
    void otherKeyKindsAreUnsupported() throws Exception {
        KeyPair x = java.security.KeyPairGenerator.getInstance("X25519").generateKeyPair();
        assertThatThrownBy(() -> KeyType.of(x.getPublic())).isInstanceOf(KeywayException.class)
                .satisfies(e -> assertThat(((KeywayException) e).code()).isEqualTo(ErrorCode.UNSUPPORTED));
        assertThat(KeyType.describe(x.getPublic())).isEqualTo("XDH");
        var g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp384r1"));
        assertThat(KeyType.describe(g.generateKeyPair().getPublic())).isEqualTo("EC P-384");
    }
}
