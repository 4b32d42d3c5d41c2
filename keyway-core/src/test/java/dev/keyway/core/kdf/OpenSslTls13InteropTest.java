package dev.keyway.core.kdf;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TLS 1.3 against OpenSSL: a real handshake between {@code openssl s_server} and {@code openssl s_client}
 * on 127.0.0.1, with {@code -keymatexport}. From the key log's EXPORTER_SECRET our
 * {@link KeySchedule13#exporter} must give the bytes both OpenSSL ends print (RFC 8446 section 7.5), and
 * from the handshake traffic secrets our Finished verify_data must match the Finished messages in the
 * client's {@code -msg} trace (section 4.4.4), with transcript hashes over the messages OpenSSL sent.
 * Skipped, with the reason printed, when openssl is not installed.
 */
@Tag("interop")
class OpenSslTls13InteropTest {
    private static OpenSslPeer peer;

    @BeforeAll
    static void startPeer() throws Exception {
        if (OpenSslPeer.find() != null) {
            peer = OpenSslPeer.start("OpenSslTls13InteropTest");
        }
    }

    @AfterAll
    static void cleanUp() {
        if (peer != null) {
            peer.close();
        }
    }

    @ParameterizedTest(name = "{0}, label \"{1}\", {2} bytes")
    @CsvSource({
            "TLS_AES_128_GCM_SHA256, EXPERIMENTAL keyway, 32",
            "TLS_AES_256_GCM_SHA384, EXPERIMENTAL keyway, 48",
            "TLS_CHACHA20_POLY1305_SHA256, EXPORTER-Channel-Binding, 32",
            "TLS_AES_128_GCM_SHA256, EXPERIMENTAL long output, 200",
            "TLS_AES_256_GCM_SHA384, EXPERIMENTAL short, 1",
    })
    void exporterAndFinishedMatchOpenSsl(String suiteName, String label, int length) throws Exception {
        OpenSslPeer.requireOpenSsl("OpenSslTls13InteropTest");
        List<String> exportOpts = List.of("-keymatexport", label, "-keymatexportlen", Integer.toString(length));
        List<String> server = new ArrayList<>(List.of("-tls1_3", "-ciphersuites", suiteName));
        server.addAll(exportOpts);
        List<String> client = new ArrayList<>(List.of("-tls1_3", "-ciphersuites", suiteName));
        client.addAll(exportOpts);
        OpenSslPeer.Result r = peer.handshake(null, server, client);

        CipherSuite suite = CipherSuites.parse(suiteName);
        assertThat(r.clientSays("Cipher is")).isEqualTo(suiteName);
        assertThat(r.clientSays("New, ")).startsWith("TLSv1.3,");
        KeySchedule13 ks = KeySchedule13.of(suite);
        String hmac = "Hmac" + ks.hash().name();

        // Both ends logged the same secrets for the same client random.
        byte[] exporterSecret = HexFormat.of().parseHex(r.clientKeyLog().get("EXPORTER_SECRET"));
        assertThat(r.serverKeyLog().get("EXPORTER_SECRET")).isEqualTo(r.clientKeyLog().get("EXPORTER_SECRET"));
        assertThat(exporterSecret).hasSize(ks.hash().length());
        byte[] clientRandom = Arrays.copyOfRange(r.first(true, "ClientHello").bytes(), 6, 38);
        assertThat(r.clientKeyLog().get("EXPORTER_SECRET.id")).isEqualTo(HexFormat.of().formatHex(clientRandom));

        // RFC 8446 section 7.5: OpenSSL's s_client/s_server export without a context.
        byte[] openSslClient = r.keyingMaterial(true);
        byte[] openSslServer = r.keyingMaterial(false);
        assertThat(openSslClient).hasSize(length).isEqualTo(openSslServer);
        assertThat(ks.exporter(exporterSecret, label, null, length)).isEqualTo(openSslClient);
        assertThat(IndependentTlsKdf.exporter(hmac, exporterSecret, label, new byte[0], length)).isEqualTo(openSslClient);

        // RFC 8446 section 4.4.4: Finished verify_data from the handshake traffic secrets.
        byte[] serverHs = HexFormat.of().parseHex(r.clientKeyLog().get("SERVER_HANDSHAKE_TRAFFIC_SECRET"));
        byte[] clientHs = HexFormat.of().parseHex(r.clientKeyLog().get("CLIENT_HANDSHAKE_TRAFFIC_SECRET"));
        byte[] serverFinished = r.first(false, "Finished").bytes();
        byte[] clientFinished = r.first(true, "Finished").bytes();
        assertThat(r.messagesBefore(false, "Finished").length).isEqualTo(5); // CH, SH, EE, Certificate, CertificateVerify
        assertThat(ks.finishedVerifyData(serverHs, ks.transcriptHash(r.messagesBefore(false, "Finished"))))
                .isEqualTo(Arrays.copyOfRange(serverFinished, 4, serverFinished.length));
        assertThat(ks.finishedVerifyData(clientHs, ks.transcriptHash(r.messagesBefore(true, "Finished"))))
                .isEqualTo(Arrays.copyOfRange(clientFinished, 4, clientFinished.length));
    }
}
