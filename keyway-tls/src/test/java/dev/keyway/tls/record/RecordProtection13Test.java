package dev.keyway.tls.record;

import dev.keyway.core.kdf.CipherSuite;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class RecordProtection13Test {

    private static RecordProtection13 protection(CipherSuite.Cipher kind, int keySeed) {
        byte[] key = new byte[kind.keyLength()];
        Arrays.fill(key, (byte) keySeed);
        byte[] iv = new byte[12];
        Arrays.fill(iv, (byte) 7);
        return new RecordProtection13(kind, key, iv);
    }

    /**
     * Records that do not decrypt leave the sequence number alone, however many come in a row, and the next
     * one that does still opens: a server skipping 0-RTT data and a passive reader both rely on it. The JDK's
     * ChaCha20-Poly1305 refuses a second init with the same key and nonce, so this once failed for that suite.
     */
    @ParameterizedTest
    @EnumSource(value = CipherSuite.Cipher.class, names = {"AES_128_GCM", "AES_256_GCM", "CHACHA20_POLY1305"})
    void recordsThatDoNotOpenCanBeTriedAgainAndAgain(CipherSuite.Cipher kind) {
        byte[] plain = "after the skipped records".getBytes(StandardCharsets.US_ASCII);
        byte[] sealed = new byte[plain.length + protection(kind, 1).expansion()];
        int n = protection(kind, 1).seal(RecordLayer.APPLICATION_DATA, plain, 0, plain.length, sealed, 0);
        byte[] other = new byte[n];
        protection(kind, 2).seal(RecordLayer.APPLICATION_DATA, plain, 0, plain.length, other, 0);

        RecordProtection13 reader = protection(kind, 1);
        for (int i = 0; i < 3; i++) {
            assertThat(reader.tryOpen(other, 0, n - RecordLayer.HEADER)).isNull();
        }
        assertThat(reader.sequence()).isZero();
        RecordLayer.Record r = reader.tryOpen(sealed, 0, n - RecordLayer.HEADER);
        assertThat(r).isNotNull();
        assertThat(r.type()).isEqualTo(RecordLayer.APPLICATION_DATA);
        assertThat(r.data()).isEqualTo(plain);
        assertThat(reader.sequence()).isOne();
    }
}
