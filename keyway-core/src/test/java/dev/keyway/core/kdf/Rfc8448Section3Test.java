package dev.keyway.core.kdf;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Map;

import static dev.keyway.core.kdf.Rfc8448Vectors.EMPTY;
import static dev.keyway.core.kdf.Rfc8448Vectors.KS;
import static dev.keyway.core.kdf.Rfc8448Vectors.S3;
import static dev.keyway.core.kdf.Rfc8448Vectors.S4;
import static dev.keyway.core.kdf.Rfc8448Vectors.assertInfoIsTheHkdfLabel;
import static dev.keyway.core.kdf.Rfc8448Vectors.hex;
import static dev.keyway.core.kdf.Rfc8448Vectors.x25519;
import static dev.keyway.core.kdf.Rfc8448Vectors.x25519BasePoint;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Known answers for {@link KeySchedule13} from RFC 8448 (Example Handshake Traces for TLS 1.3), section 3
 * "Simple 1-RTT Handshake", step by step: early secret without PSK, the "derived" secrets, the X25519 shared
 * secret as IKM, handshake and master secrets, the handshake, application, exporter and resumption secrets,
 * both sides' handshake and application write keys and IVs, both Finished verify_data and the resumption PSK
 * of the NewSessionTicket. Transcript hashes are computed here from the handshake messages the RFC prints, so
 * a mistyped message shows up as a transcript-hash mismatch before anything downstream is blamed.
 * Vectors: {@code src/test/resources/vectors/rfc8448/section3-simple-1rtt.txt}.
 */
class Rfc8448Section3Test {
    private final byte[] clientHello = msg("ClientHello");
    private final byte[] serverHello = msg("ServerHello");
    private final byte[] encryptedExtensions = msg("EncryptedExtensions");
    private final byte[] certificate = msg("Certificate");
    private final byte[] certificateVerify = msg("CertificateVerify");
    private final byte[] serverFinished = msg("ServerFinished");
    private final byte[] clientFinished = msg("ClientFinished");

    // Every handshake message has the length the RFC states and a handshake header that agrees.
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"ClientHello", "ServerHello", "EncryptedExtensions", "Certificate", "CertificateVerify",
            "ServerFinished", "ClientFinished", "NewSessionTicket"})
    void handshakeMessagesAreWhatTheRfcSays(String name) {
        byte[] m = msg(name);
        assertThat(m).hasSize(Integer.parseInt(S3.get("handshake messages").get(name + ".octets")));
        int bodyLength = (m[1] & 0xff) << 16 | (m[2] & 0xff) << 8 | (m[3] & 0xff);
        assertThat(bodyLength).as("handshake header length of %s", name).isEqualTo(m.length - 4);
    }

    // Section 3, "{client}/{server} create an ephemeral x25519 key pair" and "extract secret handshake":
    // the IKM of the handshake secret is X25519(client private, server public) = X25519(server private, client public).
    @Test
    void ecdheSharedSecretIsTheX25519OfTheRfcKeyPairs() {
        Map<String, String> c = S3.get("client ephemeral x25519 key pair");
        Map<String, String> s = S3.get("server ephemeral x25519 key pair");
        byte[] ikm = hex(S3, "extract secret \"handshake\"", "IKM");
        assertThat(x25519(hex(c, "private key"), x25519BasePoint())).isEqualTo(hex(c, "public key"));
        assertThat(x25519(hex(s, "private key"), x25519BasePoint())).isEqualTo(hex(s, "public key"));
        assertThat(x25519(hex(c, "private key"), hex(s, "public key"))).isEqualTo(ikm);
        assertThat(x25519(hex(s, "private key"), hex(c, "public key"))).isEqualTo(ikm);
    }

    // "{server}  extract secret "early"": no PSK, so HKDF-Extract(0, 32 zero octets).
    @Test
    void earlySecretWithoutPsk() {
        Map<String, String> v = S3.get("extract secret \"early\"");
        assertThat(hex(v, "IKM")).isEqualTo(new byte[32]);
        assertThat(KS.earlySecret(null)).isEqualTo(hex(v, "secret"));
        assertThat(KS.earlySecret(new byte[32])).isEqualTo(hex(v, "secret"));
    }

    // "{server}  derive secret for handshake "tls13 derived"": Derive-Secret(early, "derived", "").
    @Test
    void derivedSecretForHandshake() {
        Map<String, String> v = S3.get("derive secret for handshake \"tls13 derived\"");
        assertThat(KS.transcriptHash()).isEqualTo(hex(v, "hash"));
        assertThat(KS.deriveSecret(hex(v, "PRK"), "derived", KS.transcriptHash())).isEqualTo(hex(v, "expanded"));
        assertInfoIsTheHkdfLabel(v, "derived", KS.transcriptHash(), 32);
    }

    // "{server}  extract secret "handshake"": HKDF-Extract(derived, (EC)DHE shared secret).
    @Test
    void handshakeSecret() {
        Map<String, String> v = S3.get("extract secret \"handshake\"");
        byte[] early = hex(S3, "extract secret \"early\"", "secret");
        assertThat(KS.handshakeSecret(early, hex(v, "IKM"))).isEqualTo(hex(v, "secret"));
        assertThat(Hkdf.extract(Hkdf.Hash.SHA256, hex(v, "salt"), hex(v, "IKM"))).isEqualTo(hex(v, "secret"));
    }

    // "{server}  derive secret "tls13 c hs traffic"" and "... s hs traffic", over ClientHello..ServerHello.
    @Test
    void handshakeTrafficSecrets() {
        Map<String, String> c = S3.get("derive secret \"tls13 c hs traffic\"");
        Map<String, String> s = S3.get("derive secret \"tls13 s hs traffic\"");
        byte[] th = KS.transcriptHash(clientHello, serverHello);
        assertThat(th).isEqualTo(hex(c, "hash")).isEqualTo(hex(s, "hash"));
        byte[] hs = hex(S3, "extract secret \"handshake\"", "secret");
        assertThat(hex(c, "PRK")).isEqualTo(hs);
        assertThat(KS.deriveSecret(hs, KeySchedule13.CLIENT_HANDSHAKE_TRAFFIC, th)).isEqualTo(hex(c, "expanded"));
        assertThat(KS.deriveSecret(hs, KeySchedule13.SERVER_HANDSHAKE_TRAFFIC, th)).isEqualTo(hex(s, "expanded"));
        assertInfoIsTheHkdfLabel(c, "c hs traffic", th, 32);
        assertInfoIsTheHkdfLabel(s, "s hs traffic", th, 32);
    }

    // "{server}  derive secret for master "tls13 derived"" and "{server}  extract secret "master"".
    @Test
    void masterSecret() {
        Map<String, String> d = S3.get("derive secret for master \"tls13 derived\"");
        Map<String, String> m = S3.get("extract secret \"master\"");
        byte[] hs = hex(S3, "extract secret \"handshake\"", "secret");
        assertThat(KS.deriveSecret(hs, "derived", KS.transcriptHash())).isEqualTo(hex(d, "expanded"));
        assertThat(hex(m, "salt")).isEqualTo(hex(d, "expanded"));
        assertThat(hex(m, "IKM")).isEqualTo(new byte[32]);
        assertThat(KS.masterSecret(hs)).isEqualTo(hex(m, "secret"));
    }

    // The whole schedule in one pass, from nothing but the RFC's inputs (no PSK, the ECDHE secret, the messages).
    @Test
    void wholeScheduleFromTheInputsAlone() {
        byte[] early = KS.earlySecret(null);
        byte[] hs = KS.handshakeSecret(early, hex(S3, "extract secret \"handshake\"", "IKM"));
        byte[] master = KS.masterSecret(hs);
        byte[] helloHash = KS.transcriptHash(clientHello, serverHello);
        byte[] serverFinishedHash = KS.transcriptHash(clientHello, serverHello, encryptedExtensions, certificate,
                certificateVerify, serverFinished);
        byte[] clientFinishedHash = KS.transcriptHash(clientHello, serverHello, encryptedExtensions, certificate,
                certificateVerify, serverFinished, clientFinished);
        assertThat(KS.deriveSecret(hs, KeySchedule13.CLIENT_HANDSHAKE_TRAFFIC, helloHash))
                .isEqualTo(hex(S3, "derive secret \"tls13 c hs traffic\"", "expanded"));
        assertThat(KS.deriveSecret(hs, KeySchedule13.SERVER_HANDSHAKE_TRAFFIC, helloHash))
                .isEqualTo(hex(S3, "derive secret \"tls13 s hs traffic\"", "expanded"));
        assertThat(KS.deriveSecret(master, KeySchedule13.CLIENT_APPLICATION_TRAFFIC, serverFinishedHash))
                .isEqualTo(hex(S3, "derive secret \"tls13 c ap traffic\"", "expanded"));
        assertThat(KS.deriveSecret(master, KeySchedule13.SERVER_APPLICATION_TRAFFIC, serverFinishedHash))
                .isEqualTo(hex(S3, "derive secret \"tls13 s ap traffic\"", "expanded"));
        assertThat(KS.deriveSecret(master, KeySchedule13.EXPORTER_MASTER, serverFinishedHash))
                .isEqualTo(hex(S3, "derive secret \"tls13 exp master\"", "expanded"));
        assertThat(KS.deriveSecret(master, KeySchedule13.RESUMPTION_MASTER, clientFinishedHash))
                .isEqualTo(hex(S3, "derive secret \"tls13 res master\"", "expanded"));
    }

    // "{server}  derive write traffic keys for handshake data" and the client's (printed as the server's
    // "derive read traffic keys for handshake data"): 16-byte key, 12-byte IV (TLS_AES_128_GCM_SHA256).
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"server derive write traffic keys for handshake data",
            "client derive write traffic keys for handshake data",
            "server derive write traffic keys for application data",
            "client derive write traffic keys for application data"})
    void writeKeysAndIvs(String section) {
        Map<String, String> v = S3.get(section);
        TrafficKeys keys = KS.trafficKeys(hex(v, "PRK"), 16);
        assertThat(keys.key()).hasSize(16).isEqualTo(hex(v, "key expanded"));
        assertThat(keys.iv()).hasSize(KeySchedule13.IV_LENGTH).isEqualTo(hex(v, "iv expanded"));
        assertThat(Hkdf.expand(Hkdf.Hash.SHA256, hex(v, "PRK"), hex(v, "key info"), 16)).isEqualTo(keys.key());
        assertThat(Hkdf.expand(Hkdf.Hash.SHA256, hex(v, "PRK"), hex(v, "iv info"), 12)).isEqualTo(keys.iv());
        assertInfoIsTheHkdfLabel(v.get("key info"), "key", EMPTY, 16);
        assertInfoIsTheHkdfLabel(v.get("iv info"), "iv", EMPTY, 12);
    }

    // The traffic keys come from the traffic secrets the schedule derived (not only from the RFC's PRK lines).
    @Test
    void trafficKeyPrksAreTheTrafficSecrets() {
        assertThat(hex(S3, "server derive write traffic keys for handshake data", "PRK"))
                .isEqualTo(hex(S3, "derive secret \"tls13 s hs traffic\"", "expanded"));
        assertThat(hex(S3, "client derive write traffic keys for handshake data", "PRK"))
                .isEqualTo(hex(S3, "derive secret \"tls13 c hs traffic\"", "expanded"));
        assertThat(hex(S3, "server derive write traffic keys for application data", "PRK"))
                .isEqualTo(hex(S3, "derive secret \"tls13 s ap traffic\"", "expanded"));
        assertThat(hex(S3, "client derive write traffic keys for application data", "PRK"))
                .isEqualTo(hex(S3, "derive secret \"tls13 c ap traffic\"", "expanded"));
    }

    // "{server}  calculate finished "tls13 finished"": finished_key from the server handshake traffic secret,
    // verify_data = HMAC(finished_key, Transcript-Hash(ClientHello..CertificateVerify)), which is also
    // the body of the server's Finished message.
    @Test
    void serverFinished() {
        Map<String, String> v = S3.get("server calculate finished \"tls13 finished\"");
        byte[] th = KS.transcriptHash(clientHello, serverHello, encryptedExtensions, certificate, certificateVerify);
        assertThat(KS.finishedKey(hex(v, "PRK"))).isEqualTo(hex(v, "expanded"));
        assertThat(KS.finishedVerifyData(hex(v, "PRK"), th)).isEqualTo(hex(v, "finished"));
        assertThat(Arrays.copyOfRange(serverFinished, 4, serverFinished.length)).isEqualTo(hex(v, "finished"));
        assertInfoIsTheHkdfLabel(v, "finished", EMPTY, 32);
    }

    // "{client}  calculate finished "tls13 finished"", over ClientHello..server Finished.
    @Test
    void clientFinished() {
        Map<String, String> v = S3.get("client calculate finished \"tls13 finished\"");
        byte[] th = KS.transcriptHash(clientHello, serverHello, encryptedExtensions, certificate, certificateVerify,
                serverFinished);
        assertThat(KS.finishedKey(hex(v, "PRK"))).isEqualTo(hex(v, "expanded"));
        assertThat(KS.finishedVerifyData(hex(v, "PRK"), th)).isEqualTo(hex(v, "finished"));
        assertThat(Arrays.copyOfRange(clientFinished, 4, clientFinished.length)).isEqualTo(hex(v, "finished"));
    }

    // "{server}  derive secret "tls13 c ap traffic"", "s ap traffic" and "exp master", over ClientHello..server Finished.
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"c ap traffic", "s ap traffic", "exp master"})
    void applicationAndExporterSecrets(String label) {
        Map<String, String> v = S3.get("derive secret \"tls13 " + label + "\"");
        byte[] th = KS.transcriptHash(clientHello, serverHello, encryptedExtensions, certificate, certificateVerify,
                serverFinished);
        assertThat(th).isEqualTo(hex(v, "hash"));
        assertThat(hex(v, "PRK")).isEqualTo(hex(S3, "extract secret \"master\"", "secret"));
        assertThat(KS.deriveSecret(hex(v, "PRK"), label, th)).isEqualTo(hex(v, "expanded"));
        assertInfoIsTheHkdfLabel(v, label, th, 32);
    }

    // "{client}  derive secret "tls13 res master"", over ClientHello..client Finished.
    @Test
    void resumptionMasterSecret() {
        Map<String, String> v = S3.get("derive secret \"tls13 res master\"");
        byte[] th = KS.transcriptHash(clientHello, serverHello, encryptedExtensions, certificate, certificateVerify,
                serverFinished, clientFinished);
        assertThat(th).isEqualTo(hex(v, "hash"));
        assertThat(KS.deriveSecret(hex(v, "PRK"), KeySchedule13.RESUMPTION_MASTER, th)).isEqualTo(hex(v, "expanded"));
        assertInfoIsTheHkdfLabel(v, "res master", th, 32);
    }

    // "{server}  generate resumption secret "tls13 resumption"": the PSK for the ticket, with the
    // ticket_nonce read out of the NewSessionTicket message the RFC prints (RFC 8446 section 4.6.1).
    @Test
    void resumptionPskFromTheTicketNonce() {
        Map<String, String> v = S3.get("generate resumption secret \"tls13 resumption\"");
        byte[] nst = msg("NewSessionTicket");
        assertThat(nst[0]).isEqualTo((byte) 4); // new_session_ticket
        // uint32 ticket_lifetime, uint32 ticket_age_add, opaque ticket_nonce<0..255>
        int nonceLength = nst[4 + 8] & 0xff;
        byte[] nonce = Arrays.copyOfRange(nst, 4 + 9, 4 + 9 + nonceLength);
        assertThat(nonce).isEqualTo(hex(v, "hash"));
        byte[] rms = hex(S3, "derive secret \"tls13 res master\"", "expanded");
        assertThat(hex(v, "PRK")).isEqualTo(rms);
        byte[] psk = KS.resumptionPsk(rms, nonce);
        assertThat(psk).isEqualTo(hex(v, "expanded"));
        assertInfoIsTheHkdfLabel(v, "resumption", nonce, 32);
        // ... which is the PSK section 4 resumes with.
        assertThat(psk).isEqualTo(hex(S4, "extract secret \"early\"", "IKM"));
    }

    private byte[] msg(String name) {
        return hex(S3, "handshake messages", name);
    }
}
