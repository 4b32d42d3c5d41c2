package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI names its flags in the hints of TLS failures the library words without them. */
class TlsHintsTest {
    @Test
    void failedChecksNameTheFlagsThatHelp() {
        KeywayException ca = TlsOptions.withFlags(TlsException.fatal(Alert.UNKNOWN_CA, "the chain leads to no trust anchor"));
        assertThat(ca.oneLine()).isEqualTo("TLS unknown_ca: the chain leads to no trust anchor: "
                + "give the CA that issued the peer's certificate (--cafile), or --insecure for a test");
        assertThat(ca.code()).isEqualTo(ErrorCode.PEER);
        assertThat(TlsOptions.withFlags(TlsException.fatal(Alert.BAD_CERTIFICATE, "x")).hint()).contains("--servername");
        assertThat(TlsOptions.withFlags(TlsException.fatal(Alert.DECODE_ERROR, "x")).hint()).contains("--keylog");
    }

    @Test
    void otherHintsAreKept() {
        TlsException expired = TlsException.fatal(Alert.CERTIFICATE_EXPIRED, "x");
        assertThat(TlsOptions.withFlags(expired)).isSameAs(expired);
        TlsException received = TlsException.received(Alert.UNKNOWN_CA, Alert.UNKNOWN_CA.code());
        assertThat(TlsOptions.withFlags(received)).isSameAs(received);
        TlsException refused = TlsException.refused(Alert.HANDSHAKE_FAILURE, "x", "its own hint");
        assertThat(TlsOptions.withFlags(refused).hint()).isEqualTo("its own hint");
    }

    @Test
    void aLegacySuiteHintNamesItsFlag() {
        Cli.Result cbc = Cli.run("tls", "connect", "127.0.0.1:1", "--insecure", "--tls1.2", "--suites", "ECDHE-RSA-AES128-SHA");
        assertThat(cbc.exit()).isEqualTo(2);
        assertThat(cbc.err()).contains("uses CBC with MAC-then-encrypt").contains("allow it with --legacy-cbc").doesNotContain("legacyCbc");
    }
}
