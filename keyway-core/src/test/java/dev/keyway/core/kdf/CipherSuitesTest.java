package dev.keyway.core.kdf;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * {@link CipherSuites}: lookups by IANA name, OpenSSL name (any case) and code, the usage error for
 * unknown names, and the table's internal consistency. The table against {@code openssl ciphers} is
 * {@link CipherSuitesOpenSslInteropTest}.
 */
class CipherSuitesTest {

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "tls_ecdhe_rsa_with_aes_128_gcm_sha256",
            "ECDHE-RSA-AES128-GCM-SHA256", "ecdhe-rsa-aes128-gcm-sha256", "Ecdhe-Rsa-Aes128-Gcm-Sha256",
            "0xC02F", "0xc02f", "0XC02F", "C02F", "c02f", "  0xC02F  ", " ECDHE-RSA-AES128-GCM-SHA256\t"})
    void parseFindsC02fEveryWay(String text) {
        CipherSuite s = CipherSuites.parse(text);
        assertThat(s.code()).isEqualTo(0xC02F);
        assertThat(s.name()).isEqualTo("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assertThat(s.opensslName()).isEqualTo("ECDHE-RSA-AES128-GCM-SHA256");
        assertThat(s.codeHex()).isEqualTo("0xC02F");
        assertThat(CipherSuites.byCode(0xC02F)).isSameAs(s);
    }

    // Every suite can be found by each of its names and its code.
    @Test
    void everySuiteParsesByEachOfItsNames() {
        for (CipherSuite s : CipherSuites.all()) {
            assertThat(CipherSuites.parse(s.name())).isSameAs(s);
            assertThat(CipherSuites.parse(s.name().toLowerCase(Locale.ROOT))).isSameAs(s);
            assertThat(CipherSuites.parse(s.opensslName())).isSameAs(s);
            assertThat(CipherSuites.parse(s.opensslName().toLowerCase(Locale.ROOT))).isSameAs(s);
            assertThat(CipherSuites.parse(s.codeHex())).isSameAs(s);
            assertThat(CipherSuites.parse(String.format("%04x", s.code()))).isSameAs(s);
            assertThat(CipherSuites.byCode(s.code())).isSameAs(s);
        }
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "   ", "TLS_NOPE", "ECDHE-RSA-AES128-GCM-SHA", "0x0000", "0xFFFF", "0xC02", "0xC02F0",
            "C02G", "0x", "RC4-MD5", "TLS_RSA_WITH_RC4_128_MD5", "0x0005", "TLS_AES_128_CCM_SHA256", "DEFAULT", "ALL"})
    void unknownSuitesAreAUsageError(String text) {
        KeywayException e = catchThrowableOfType(() -> CipherSuites.parse(text), KeywayException.class);
        assertThat(e).as("parse(\"%s\")", text).isNotNull();
        assertThat(e.code()).isEqualTo(ErrorCode.USAGE);
        assertThat(e.getMessage()).contains("unknown cipher suite");
        assertThat(e.hint()).isNotBlank();
    }

    @Test
    void byCodeOfAnUnknownCodeIsNull() {
        assertThat(CipherSuites.byCode(0x0005)).isNull();
        assertThat(CipherSuites.byCode(-1)).isNull();
    }

    @Test
    void tableIsConsistent() {
        Set<Integer> codes = new HashSet<>();
        Set<String> names = new HashSet<>();
        for (CipherSuite s : CipherSuites.all()) {
            assertThat(codes.add(s.code())).as("duplicate code %s", s.codeHex()).isTrue();
            assertThat(names.add(s.name())).as("duplicate name %s", s.name()).isTrue();
            assertThat(names.add(s.opensslName().toUpperCase(Locale.ROOT)) || s.tls13())
                    .as("duplicate OpenSSL name %s", s.opensslName()).isTrue();
            assertThat(s.name()).startsWith("TLS_");
            assertThat(s.tls13()).isEqualTo((s.code() >> 8) == 0x13);
            assertThat(s.tls13()).isEqualTo(!s.name().contains("_WITH_"));
            // The PRF/HKDF hash is named at the end of the IANA name.
            assertThat(s.prfHash()).isEqualTo(s.name().endsWith("_SHA384") ? Prf12.Hash.SHA384 : Prf12.Hash.SHA256);
            // AEAD ciphers go with the AEAD "MAC", CBC ciphers with a real one.
            assertThat(s.cipher().aead()).isEqualTo(s.mac() == CipherSuite.MacAlgorithm.AEAD);
            assertThat(s.mac().jcaName() == null).isEqualTo(s.cipher().aead());
            if (s.tls13()) {
                assertThat(s.keyExchange()).isEqualTo(CipherSuite.KeyExchange.ANY);
                assertThat(s.opensslName()).isEqualTo(s.name());
                assertThat(s.fixedIvLength(TlsVersion.TLS13)).isEqualTo(12);
                assertThat(KeySchedule13.of(s).hash().length()).isEqualTo(s.prfHash() == Prf12.Hash.SHA384 ? 48 : 32);
            } else {
                assertThatThrownBy(s::hkdfHash).isInstanceOf(IllegalStateException.class);
            }
        }
        assertThat(CipherSuites.all()).hasSize(60);
    }

    @Test
    void cipherParameters() {
        assertThat(CipherSuite.Cipher.AES_128_GCM.keyLength()).isEqualTo(16);
        assertThat(CipherSuite.Cipher.AES_128_GCM.fixedIvLength()).isEqualTo(4);
        assertThat(CipherSuite.Cipher.AES_128_GCM.explicitNonceLength()).isEqualTo(8);
        assertThat(CipherSuite.Cipher.AES_256_GCM.keyLength()).isEqualTo(32);
        assertThat(CipherSuite.Cipher.CHACHA20_POLY1305.keyLength()).isEqualTo(32);
        assertThat(CipherSuite.Cipher.CHACHA20_POLY1305.fixedIvLength()).isEqualTo(12);
        assertThat(CipherSuite.Cipher.CHACHA20_POLY1305.explicitNonceLength()).isZero();
        assertThat(CipherSuite.Cipher.AES_128_CBC.blockSize()).isEqualTo(16);
        assertThat(CipherSuite.Cipher.AES_256_CBC.keyLength()).isEqualTo(32);
        assertThat(CipherSuite.MacAlgorithm.SHA1.keyLength()).isEqualTo(20);
        assertThat(CipherSuite.MacAlgorithm.SHA256.keyLength()).isEqualTo(32);
        assertThat(CipherSuite.MacAlgorithm.SHA384.keyLength()).isEqualTo(48);
        assertThat(CipherSuite.MacAlgorithm.AEAD.keyLength()).isZero();
    }

    @Test
    void versions() {
        for (TlsVersion v : TlsVersion.values()) {
            assertThat(TlsVersion.ofCode(v.code())).isSameAs(v);
        }
        assertThat(TlsVersion.TLS10.code()).isEqualTo(0x0301);
        assertThat(TlsVersion.TLS13.code()).isEqualTo(0x0304);
        assertThat(TlsVersion.parse("1.2")).isSameAs(TlsVersion.TLS12);
        assertThat(TlsVersion.parse("TLS 1.0")).isSameAs(TlsVersion.TLS10);
        assertThat(TlsVersion.parse("tls13")).isSameAs(TlsVersion.TLS13);
        assertThat(TlsVersion.parse("1.4")).isNull();
        assertThat(TlsVersion.ofCode(0x0300)).isNull();
    }
}
