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
 * TLS 1.0, 1.1 and 1.2 against OpenSSL: real handshakes between {@code openssl s_server} and
 * {@code openssl s_client} on 127.0.0.1. The client's key log gives the master secret (CLIENT_RANDOM)
 * and, for RSA key exchange, the pre-master secret (the "RSA" line); its {@code -msg} trace gives the
 * handshake messages. From those:
 * <ul>
 *   <li>{@link Prf12#masterSecret} (RFC 5246 section 8.1) with extended master secret switched off, and
 *       {@link Prf12#extendedMasterSecret} (RFC 7627 section 4) with it on, must give OpenSSL's master secret;</li>
 *   <li>{@link Prf12#verifyData} (RFC 5246 section 7.4.9) must give both Finished messages;</li>
 *   <li>{@link Prf12#prf} as the RFC 5705 exporter (PRF(master_secret, label, client_random + server_random))
 *       must give the bytes OpenSSL prints for {@code -keymatexport}.</li>
 * </ul>
 * TLS 1.0 and 1.1 use the MD5/SHA-1 PRF; TLS 1.2 the suite's (SHA-384 for *_SHA384 suites).
 * Skipped, with the reason printed, when openssl is not installed.
 */
@Tag("interop")
class OpenSslTls12InteropTest {
    private static final String LABEL = "EXPERIMENTAL keyway";
    private static OpenSslPeer peer;

    @BeforeAll
    static void startPeer() throws Exception {
        if (OpenSslPeer.find() != null) {
            peer = OpenSslPeer.start("OpenSslTls12InteropTest");
        }
    }

    @AfterAll
    static void cleanUp() {
        if (peer != null) {
            peer.close();
        }
    }

    /** Both ends: allow TLS 1.0 and every cipher (security level 0), and optionally refuse extended master secret. */
    private static String config(boolean ems) {
        return String.join("\n",
                "openssl_conf = default_conf",
                "[default_conf]",
                "ssl_conf = ssl_sect",
                "[ssl_sect]",
                "system_default = system_default_sect",
                "[system_default_sect]",
                "MinProtocol = TLSv1",
                "CipherString = ALL:@SECLEVEL=0",
                ems ? "" : "Options = -ExtendedMasterSecret",
                "");
    }

    @ParameterizedTest(name = "{0} {1} extended master secret {2}")
    @CsvSource({
            "TLS10, AES128-SHA, false, 20",
            "TLS10, AES256-SHA, true, 64",
            "TLS10, ECDHE-RSA-AES128-SHA, true, 32",
            "TLS11, AES128-SHA, false, 32",
            "TLS11, AES256-SHA, true, 100",
            "TLS12, AES128-SHA, true, 32",
            "TLS12, AES128-SHA256, false, 32",
            "TLS12, AES256-SHA256, true, 48",
            "TLS12, AES128-GCM-SHA256, false, 16",
            "TLS12, AES128-GCM-SHA256, true, 16",
            "TLS12, AES256-GCM-SHA384, false, 48",
            "TLS12, AES256-GCM-SHA384, true, 150",
            "TLS12, ECDHE-RSA-AES256-GCM-SHA384, true, 48",
            "TLS12, ECDHE-RSA-CHACHA20-POLY1305, true, 32",
            "TLS12, DHE-RSA-AES256-SHA256, false, 32",
    })
    void masterSecretFinishedAndExporterMatchOpenSsl(TlsVersion version, String cipher, boolean ems, int length)
            throws Exception {
        OpenSslPeer.requireOpenSsl("OpenSslTls12InteropTest");
        String versionFlag = versionFlag(version);
        List<String> export = List.of("-keymatexport", LABEL, "-keymatexportlen", Integer.toString(length));
        List<String> server = new ArrayList<>(export);
        List<String> client = new ArrayList<>(List.of(versionFlag, "-cipher", cipher + ":@SECLEVEL=0"));
        client.addAll(export);
        OpenSslPeer.Result r = peer.handshake(config(ems), server, client);
        CipherSuite suite = CipherSuites.parse(cipher);
        byte[] pms = null;
        if (suite.keyExchange() == CipherSuite.KeyExchange.RSA) {
            assertThat(r.clientKeyLog().get("RSA")).as("the key log's RSA pre-master secret line").isNotNull();
            pms = HexFormat.of().parseHex(r.clientKeyLog().get("RSA"));
            assertThat(pms).hasSize(48);
        } else {
            assertThat(r.clientKeyLog().get("RSA")).isNull();
        }
        check(r, version, suite, ems, length, pms);
    }

    // Plain PSK key exchange (RFC 4279 section 2), whose pre-master secret the test can build from the PSK:
    // uint16 N, N zero octets, uint16 N, the PSK. RFC 5487 section 3.2 lets its CBC SHA-256/SHA-384 suites
    // run over TLS 1.0 and 1.1 with that version's PRF, and OpenSSL negotiates them there.
    @ParameterizedTest(name = "{0} {1} extended master secret {2}")
    @CsvSource({
            "TLS10, PSK-AES128-CBC-SHA, false, 32",
            "TLS10, PSK-AES128-CBC-SHA256, false, 32",
            "TLS11, PSK-AES256-CBC-SHA384, true, 48",
            "TLS12, PSK-AES256-CBC-SHA384, false, 48",
            "TLS12, PSK-AES128-GCM-SHA256, true, 16",
    })
    void pskSuitesMatchOpenSsl(TlsVersion version, String cipher, boolean ems, int length) throws Exception {
        OpenSslPeer.requireOpenSsl("OpenSslTls12InteropTest");
        String psk = "0123456789abcdef0123";
        List<String> export = List.of("-keymatexport", LABEL, "-keymatexportlen", Integer.toString(length));
        List<String> server = new ArrayList<>(List.of("-psk", psk));
        server.addAll(export);
        List<String> client = new ArrayList<>(List.of(versionFlag(version), "-cipher", cipher + ":@SECLEVEL=0", "-psk", psk));
        client.addAll(export);
        OpenSslPeer.Result r = peer.handshake(config(ems), server, client);

        byte[] key = HexFormat.of().parseHex(psk);
        byte[] n = {0, (byte) key.length};
        byte[] pms = IndependentTlsKdf.concat(n, new byte[key.length], n, key);
        check(r, version, CipherSuites.parse(cipher), ems, length, pms);
    }

    private static String versionFlag(TlsVersion version) {
        return switch (version) {
            case TLS10 -> "-tls1";
            case TLS11 -> "-tls1_1";
            case TLS12 -> "-tls1_2";
            default -> throw new IllegalArgumentException(version.toString());
        };
    }

    /** The checks every handshake gets; {@code pms} is null when the pre-master secret is not known. */
    private static void check(OpenSslPeer.Result r, TlsVersion version, CipherSuite suite, boolean ems, int length,
                              byte[] pms) {
        assertThat(r.clientSays("Cipher    :")).isEqualTo(suite.opensslName());
        assertThat(r.clientSays("Protocol  :")).isEqualTo(switch (version) {
            case TLS10 -> "TLSv1";
            case TLS11 -> "TLSv1.1";
            default -> "TLSv1.2";
        });
        assertThat(r.clientSays("Extended master secret:")).isEqualTo(ems ? "yes" : "no");
        Prf12.Hash hash = version == TlsVersion.TLS12 ? suite.prfHash() : Prf12.Hash.MD5_SHA1;

        byte[] clientRandom = Arrays.copyOfRange(r.first(true, "ClientHello").bytes(), 6, 38);
        byte[] serverRandom = Arrays.copyOfRange(r.first(false, "ServerHello").bytes(), 6, 38);
        assertThat(r.clientKeyLog().get("CLIENT_RANDOM.id")).isEqualTo(HexFormat.of().formatHex(clientRandom));
        byte[] master = HexFormat.of().parseHex(r.clientKeyLog().get("CLIENT_RANDOM"));
        assertThat(master).hasSize(Prf12.MASTER_SECRET_LENGTH);

        // The master secret from the pre-master secret, when it is known.
        if (pms != null) {
            if (ems) {
                // RFC 7627 section 3: session_hash = Hash(handshake messages through ClientKeyExchange).
                byte[] sessionHash = IndependentTlsKdf.handshakeHash(hash.name(), r.messagesThrough("ClientKeyExchange"));
                assertThat(sessionHash).hasSize(hash.handshakeHashLength());
                assertThat(Prf12.extendedMasterSecret(hash, pms, sessionHash)).isEqualTo(master);
                assertThat(Prf12.masterSecret(hash, pms, clientRandom, serverRandom)).isNotEqualTo(master);
            } else {
                assertThat(Prf12.masterSecret(hash, pms, clientRandom, serverRandom)).isEqualTo(master);
            }
        }

        // RFC 5246 section 7.4.9 (RFC 2246 section 7.4.9 for 1.0/1.1): verify_data over all handshake messages
        // before the Finished (the server's also covers the client's Finished and the NewSessionTicket).
        byte[] clientFinished = r.first(true, "Finished").bytes();
        byte[] serverFinished = r.first(false, "Finished").bytes();
        byte[] clientHash = IndependentTlsKdf.handshakeHash(hash.name(), r.messagesBefore(true, "Finished"));
        byte[] serverHash = IndependentTlsKdf.handshakeHash(hash.name(), r.messagesBefore(false, "Finished"));
        assertThat(Prf12.verifyData(hash, master, true, clientHash))
                .isEqualTo(Arrays.copyOfRange(clientFinished, 4, clientFinished.length));
        assertThat(Prf12.verifyData(hash, master, false, serverHash))
                .isEqualTo(Arrays.copyOfRange(serverFinished, 4, serverFinished.length));

        // RFC 5705 section 4 without a context: PRF(master_secret, label, client_random + server_random).
        byte[] keying = r.keyingMaterial(true);
        assertThat(keying).hasSize(length).isEqualTo(r.keyingMaterial(false));
        assertThat(Prf12.prf(hash, master, LABEL, IndependentTlsKdf.concat(clientRandom, serverRandom), length))
                .isEqualTo(keying);

        // Keyway accepts the suite at the version OpenSSL just used, and the key block splits for it.
        assertThat(suite.usableWith(version)).as("Keyway allows %s with %s, as OpenSSL just did", suite.name(), version)
                .isTrue();
        KeyBlock12 block = Prf12.keyBlock(suite, version, master, clientRandom, serverRandom);
        assertThat(block.clientKey()).hasSize(suite.cipher().keyLength());
        block.destroy();
    }
}
