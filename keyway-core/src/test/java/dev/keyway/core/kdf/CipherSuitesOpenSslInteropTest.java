package dev.keyway.core.kdf;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link CipherSuites#all()} against {@code openssl ciphers -stdname -V} on this machine (the default cipher
 * list, which the table claims to be): same suites in the same order, same codes, IANA and OpenSSL names,
 * key exchange, authentication, cipher and key length, MAC, and the lowest protocol version.
 * Skipped, with the reason printed, when openssl is not installed.
 */
@Tag("interop")
class CipherSuitesOpenSslInteropTest {
    // 0xC0,0x2F - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 - ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 Kx=ECDH Au=RSA Enc=AESGCM(128) Mac=AEAD
    private static final Pattern LINE = Pattern.compile(
            "^\\s*0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\\S+)\\s+- (\\S+)\\s+(\\S+)\\s+Kx=(\\S+)\\s+Au=(\\S+)\\s+Enc=(\\S+)\\s+Mac=(\\S+)\\s*$");

    record OpenSslSuite(int code, String iana, String openssl, String minVersion, String kx, String au, String enc,
                        String mac) {
    }

    private static List<OpenSslSuite> openssl;
    private static String version;

    @BeforeAll
    static void listOpenSslSuites() throws Exception {
        Path bin = OpenSslPeer.find();
        if (bin == null) {
            return;
        }
        version = OpenSslPeer.version(bin);
        openssl = new ArrayList<>();
        for (String line : OpenSslPeer.output(bin, "ciphers", "-stdname", "-V").split("\r?\n")) {
            if (line.isBlank()) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            assertThat(m.matches()).as("unexpected openssl ciphers line: %s", line).isTrue();
            openssl.add(new OpenSslSuite(Integer.parseInt(m.group(1) + m.group(2), 16), m.group(3), m.group(4), m.group(5),
                    m.group(6), m.group(7), m.group(8), m.group(9)));
        }
    }

    @Test
    void sameSuitesInTheSameOrder() {
        OpenSslPeer.requireOpenSsl("CipherSuitesOpenSslInteropTest");
        assertThat(CipherSuites.all().stream().map(CipherSuite::codeHex).toList())
                .as("suites of %s", version)
                .containsExactlyElementsOf(openssl.stream().map(o -> String.format("0x%04X", o.code())).toList());
    }

    @Test
    void sameNamesKeyExchangeCipherAndMac() {
        OpenSslPeer.requireOpenSsl("CipherSuitesOpenSslInteropTest");
        for (OpenSslSuite o : openssl) {
            CipherSuite s = CipherSuites.byCode(o.code());
            assertThat(s).as("0x%04X %s missing from the table", o.code(), o.iana()).isNotNull();
            String what = s.codeHex() + " " + s.name();
            assertThat(s.name()).as(what).isEqualTo(o.iana());
            assertThat(s.opensslName()).as(what).isEqualTo(o.openssl());
            assertThat(CipherSuites.parse(o.openssl())).isSameAs(s);
            assertThat(CipherSuites.parse(o.iana())).isSameAs(s);
            assertThat(s.keyExchange()).as("%s key exchange", what).isEqualTo(switch (o.kx()) {
                case "any" -> CipherSuite.KeyExchange.ANY;
                case "ECDH" -> CipherSuite.KeyExchange.ECDHE;
                case "DH" -> CipherSuite.KeyExchange.DHE;
                case "RSA" -> CipherSuite.KeyExchange.RSA;
                case "PSK" -> CipherSuite.KeyExchange.PSK;
                case "ECDHEPSK" -> CipherSuite.KeyExchange.ECDHE_PSK;
                case "DHEPSK" -> CipherSuite.KeyExchange.DHE_PSK;
                case "RSAPSK" -> CipherSuite.KeyExchange.RSA_PSK;
                case "SRP" -> CipherSuite.KeyExchange.SRP;
                default -> throw new AssertionError("Kx=" + o.kx());
            });
            assertThat(s.auth()).as("%s authentication", what).isEqualTo(o.au().equals("any") ? "ANY" : o.au());
            // Enc=AESGCM(128), AES(256), CHACHA20/POLY1305(256): cipher family and key bits.
            Matcher enc = Pattern.compile("^(AESGCM|AES|CHACHA20/POLY1305)\\((\\d+)\\)$").matcher(o.enc());
            assertThat(enc.matches()).as("%s Enc=%s", what, o.enc()).isTrue();
            int bits = Integer.parseInt(enc.group(2));
            CipherSuite.Cipher expected = switch (enc.group(1)) {
                case "AESGCM" -> bits == 128 ? CipherSuite.Cipher.AES_128_GCM : CipherSuite.Cipher.AES_256_GCM;
                case "AES" -> bits == 128 ? CipherSuite.Cipher.AES_128_CBC : CipherSuite.Cipher.AES_256_CBC;
                default -> CipherSuite.Cipher.CHACHA20_POLY1305;
            };
            assertThat(s.cipher()).as("%s cipher", what).isEqualTo(expected);
            assertThat(s.cipher().keyLength() * 8).as("%s key bits", what).isEqualTo(bits);
            assertThat(s.mac()).as("%s MAC", what).isEqualTo(switch (o.mac()) {
                case "AEAD" -> CipherSuite.MacAlgorithm.AEAD;
                case "SHA1" -> CipherSuite.MacAlgorithm.SHA1;
                case "SHA256" -> CipherSuite.MacAlgorithm.SHA256;
                case "SHA384" -> CipherSuite.MacAlgorithm.SHA384;
                default -> throw new AssertionError("Mac=" + o.mac());
            });
            assertThat(s.tls13()).as(what).isEqualTo(o.minVersion().equals("TLSv1.3"));
        }
    }

    // The version column is the lowest version OpenSSL negotiates the suite at: TLSv1.3 and TLSv1.2 suites
    // only there (and up, for 1.2), SSLv3 and TLSv1 suites from TLS 1.0 on.
    @Test
    void lowestVersionMatchesOpenSsl() {
        OpenSslPeer.requireOpenSsl("CipherSuitesOpenSslInteropTest");
        Map<String, TlsVersion> lowest = Map.of("SSLv3", TlsVersion.TLS10, "TLSv1", TlsVersion.TLS10,
                "TLSv1.2", TlsVersion.TLS12, "TLSv1.3", TlsVersion.TLS13);
        List<String> disagreements = new ArrayList<>();
        for (OpenSslSuite o : openssl) {
            CipherSuite s = CipherSuites.byCode(o.code());
            TlsVersion min = lowest.get(o.minVersion());
            assertThat(min).as("version column %s", o.minVersion()).isNotNull();
            for (TlsVersion v : TlsVersion.values()) {
                boolean openSslSays = min == TlsVersion.TLS13 ? v == TlsVersion.TLS13
                        : v != TlsVersion.TLS13 && v.compareTo(min) >= 0;
                if (s.usableWith(v) != openSslSays) {
                    disagreements.add(s.name() + " with " + v + ": Keyway " + s.usableWith(v) + ", OpenSSL (min "
                            + o.minVersion() + ") " + openSslSays);
                }
            }
        }
        assertThat(disagreements).as("usableWith against %s", version).isEmpty();
    }
}
