package dev.keyway.tls;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.cert.CertificateKeyType;
import dev.keyway.tls.cert.Certificates;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;
import org.junit.jupiter.api.Test;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The library says what is wrong and what to check, in its own terms (a TlsConfig setting, a certificate's
 * constraint), never a command-line flag: the CLI adds its flags (TlsOptions, CertInputs, CertNewCommand).
 */
class LibraryHintsTest {
    @Test
    void alertHintsNameNoFlag() {
        for (Alert a : Alert.values()) {
            assertThat(TlsException.fatal(a, "test").oneLine()).as(a.rfcName()).doesNotContain("--");
            assertThat(TlsException.received(a, a.code()).oneLine()).as(a.rfcName()).doesNotContain("--");
        }
    }

    @Test
    void aRefusedSuiteNamesTheBuilderSetting() {
        KeywayException rsa = catchThrowableOfType(KeywayException.class, () -> TlsConfig.builder().versions(List.of(TlsVersion.TLS12))
                .suites(List.of(CipherSuites.parse("AES128-GCM-SHA256"))).build());
        assertThat(rsa.code()).isEqualTo(ErrorCode.USAGE);
        assertThat(rsa.getMessage()).contains("static RSA key transport");
        assertThat(rsa.hint()).contains("legacyRsaKeyExchange").doesNotContain("--");
        KeywayException cbc = catchThrowableOfType(KeywayException.class, () -> TlsConfig.builder().versions(List.of(TlsVersion.TLS12))
                .suites(List.of(CipherSuites.parse("ECDHE-RSA-AES128-SHA"))).build());
        assertThat(cbc.hint()).contains("legacyCbc").doesNotContain("--");
    }

    @Test
    void certificateRefusalsNameNoFlag() {
        KeyPair keys = CertificateKeyType.EC.generate();
        X509Certificate leaf = Certificates.selfSigned(keys, "leaf", List.of(), Duration.ofDays(1));
        assertThatThrownBy(() -> Certificates.issued(keys.getPublic(), "x", List.of(), Duration.ofDays(1), leaf, keys.getPrivate()))
                .isInstanceOf(KeywayException.class).hasMessageContaining("is not a CA certificate")
                .satisfies(e -> assertThat(((KeywayException) e).hint()).doesNotContain("--"));
        assertThatThrownBy(() -> Certificates.selfSigned(keys, " ", List.of(), Duration.ofDays(1)))
                .isInstanceOf(KeywayException.class).hasMessageContaining("common name is empty")
                .satisfies(e -> assertThat(((KeywayException) e).hint()).doesNotContain("--"));
    }
}
