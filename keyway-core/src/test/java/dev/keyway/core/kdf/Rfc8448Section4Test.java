package dev.keyway.core.kdf;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;

import static dev.keyway.core.kdf.Rfc8448Vectors.EMPTY;
import static dev.keyway.core.kdf.Rfc8448Vectors.KS;
import static dev.keyway.core.kdf.Rfc8448Vectors.S3;
import static dev.keyway.core.kdf.Rfc8448Vectors.S4;
import static dev.keyway.core.kdf.Rfc8448Vectors.assertInfoIsTheHkdfLabel;
import static dev.keyway.core.kdf.Rfc8448Vectors.hex;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Known answers for {@link KeySchedule13} from RFC 8448 section 4 "Resumed 0-RTT Handshake", which resumes
 * the section 3 session: the early secret from the resumption PSK, the "res binder" key and the PSK binder
 * over the truncated ClientHello, the client early traffic secret, the early exporter master secret and the
 * early traffic key and IV. Vectors: {@code src/test/resources/vectors/rfc8448/section4-resumed-0rtt.txt}.
 */
class Rfc8448Section4Test {
    private final Map<String, String> binder = S4.get("calculate PSK binder");

    // "{client}  extract secret "early"" with the resumption PSK as IKM.
    @Test
    void earlySecretFromTheResumptionPsk() {
        Map<String, String> v = S4.get("extract secret \"early\"");
        assertThat(KS.earlySecret(hex(v, "IKM"))).isEqualTo(hex(v, "secret"));
    }

    // The RFC's binder input is the ClientHello up to, not including, the binders list: the full
    // ClientHello minus its last 2 + 1 + 32 octets (binders length, binder length, binder).
    @Test
    void truncatedClientHelloIsTheFullOneWithoutItsBinders() {
        byte[] prefix = hex(binder, "ClientHello prefix");
        byte[] full = hex(S4, "send handshake record", "payload");
        assertThat(prefix).hasSize(Integer.parseInt(binder.get("ClientHello prefix.octets")));
        assertThat(full).hasSize(Integer.parseInt(S4.get("send handshake record").get("payload.octets")));
        assertThat(full.length - prefix.length).isEqualTo(2 + 1 + 32);
        assertThat(Arrays.copyOf(full, prefix.length)).isEqualTo(prefix);
        byte[] tail = Arrays.copyOfRange(full, prefix.length, full.length);
        assertThat(Arrays.copyOf(tail, 3)).isEqualTo(new byte[] {0x00, 0x21, 0x20});
        assertThat(Arrays.copyOfRange(tail, 3, tail.length)).isEqualTo(hex(binder, "finished"));
    }

    // "{client}  calculate PSK binder": binder_key = Derive-Secret(early, "res binder", ""), and the
    // binder is the Finished computation with it over Transcript-Hash(truncated ClientHello).
    @Test
    void binderKeyAndBinder() {
        byte[] early = hex(S4, "extract secret \"early\"", "secret");
        byte[] binderKey = KS.binderKey(early, true);
        assertThat(binderKey).isEqualTo(hex(binder, "PRK"));
        byte[] th = KS.transcriptHash(hex(binder, "ClientHello prefix"));
        assertThat(th).isEqualTo(hex(binder, "binder hash"));
        assertThat(KS.finishedKey(binderKey)).isEqualTo(hex(binder, "expanded"));
        assertThat(KS.finishedVerifyData(binderKey, th)).isEqualTo(hex(binder, "finished"));
        assertInfoIsTheHkdfLabel(binder, "finished", EMPTY, 32);
        // An external PSK would use "ext binder", which must give a different key.
        assertThat(KS.binderKey(early, false)).isNotEqualTo(binderKey)
                .isEqualTo(IndependentTlsKdf.deriveSecret("HmacSHA256", early, "ext binder"));
    }

    // The binder chain from section 3's resumption master secret alone.
    @Test
    void binderFromSection3ResumptionMasterSecret() {
        byte[] rms = hex(S3, "derive secret \"tls13 res master\"", "expanded");
        byte[] nst = hex(S3, "handshake messages", "NewSessionTicket");
        byte[] nonce = Arrays.copyOfRange(nst, 13, 13 + (nst[12] & 0xff));
        byte[] early = KS.earlySecret(KS.resumptionPsk(rms, nonce));
        byte[] th = KS.transcriptHash(hex(binder, "ClientHello prefix"));
        assertThat(KS.finishedVerifyData(KS.binderKey(early, true), th)).isEqualTo(hex(binder, "finished"));
    }

    // "{client}  derive secret "tls13 c e traffic"" and "tls13 e exp master", over the full ClientHello,
    // and "{client}  derive write traffic keys for early application data".
    @Test
    void earlyTrafficSecretExporterAndKeys() {
        Map<String, String> v = S4.get("derive secret \"tls13 c e traffic\"");
        byte[] early = hex(S4, "extract secret \"early\"", "secret");
        assertThat(hex(v, "PRK")).isEqualTo(early);
        byte[] th = KS.transcriptHash(hex(S4, "send handshake record", "payload"));
        assertThat(th).isEqualTo(hex(v, "hash"));
        byte[] cet = KS.deriveSecret(early, KeySchedule13.CLIENT_EARLY_TRAFFIC, th);
        assertThat(cet).isEqualTo(hex(v, "expanded"));
        assertInfoIsTheHkdfLabel(v, "c e traffic", th, 32);
        assertThat(KS.deriveSecret(early, KeySchedule13.EARLY_EXPORTER_MASTER, th))
                .isEqualTo(hex(S4, "derive secret \"tls13 e exp master\"", "expanded"));

        Map<String, String> k = S4.get("derive write traffic keys for early application data");
        assertThat(hex(k, "PRK")).isEqualTo(cet);
        TrafficKeys keys = KS.trafficKeys(cet, 16);
        assertThat(keys.key()).isEqualTo(hex(k, "key expanded"));
        assertThat(keys.iv()).isEqualTo(hex(k, "iv expanded"));
    }
}
