package dev.keyway.core.encoding;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;

import java.util.Base64;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PemTest {
    @Test
    void encodesBase64In64ColumnLinesBetweenBeginAndEnd() {
        byte[] der = new byte[60];
        new Random(1).nextBytes(der);
        String text = Pem.encode("CERTIFICATE", der);
        String[] lines = text.split("\n", -1);
        assertThat(lines[0]).isEqualTo("-----BEGIN CERTIFICATE-----");
        assertThat(lines[1]).hasSize(64);
        assertThat(lines[2]).hasSize(Base64.getEncoder().encodeToString(der).length() - 64);
        assertThat(lines[3]).isEqualTo("-----END CERTIFICATE-----");
        assertThat(lines[4]).isEmpty();
        assertThat(Pem.decode(text, "CERTIFICATE", "test")).isEqualTo(der);
        assertThat(Pem.encode("X", new byte[0])).isEqualTo("-----BEGIN X-----\n-----END X-----\n");
    }

    @Test
    void readsSeveralBlocksInOrderWithTextAroundAndCrlf() {
        String text = "Bag Attributes: junk\r\n" + Pem.encode("CERTIFICATE", new byte[] {1}).replace("\n", "\r\n")
                + "subject=CN=x\n" + Pem.encode("PRIVATE KEY", new byte[] {2, 3});
        List<Pem.Block> blocks = Pem.decodeAll(text, "test");
        assertThat(blocks).extracting(Pem.Block::label).containsExactly("CERTIFICATE", "PRIVATE KEY");
        assertThat(blocks.get(1).der()).containsExactly(2, 3);
        assertThat(Pem.find(text, "PRIVATE KEY", Pem.MAX_CHARS, "test").der()).containsExactly(2, 3);
        assertThat(Pem.find(text, "PUBLIC KEY", Pem.MAX_CHARS, "test")).isNull();
        assertThat(Pem.decodeAll("no pem here", "test")).isEmpty();
    }

    @Test
    void keepsEncryptionHeaders() {
        String text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAQID\n"
                + "-----END RSA PRIVATE KEY-----\n";
        Pem.Block b = Pem.decodeAll(text, "test").get(0);
        assertThat(b.encrypted()).isTrue();
        assertThat(b.headers()).containsEntry("DEK-Info", "AES-128-CBC,00");
        assertThat(b.der()).containsExactly(1, 2, 3);
        assertThat(Pem.decodeAll(Pem.encode("X", new byte[3]), "test").get(0).encrypted()).isFalse();
    }

    @Test
    void refusesMalformedInputWithKeywayException() {
        String good = Pem.encode("CERTIFICATE", new byte[40]);
        for (String bad : List.of(
                good.replace("-----END CERTIFICATE-----", "-----END PRIVATE KEY-----"),
                good.replace("-----END CERTIFICATE-----\n", ""),
                good.replace("AAAA", "AA*A"),
                "-----BEGIN -----\nAAAA\n-----END -----\n")) {
            assertThatThrownBy(() -> Pem.decodeAll(bad, "test")).isInstanceOf(KeywayException.class)
                    .satisfies(e -> assertThat(((KeywayException) e).code()).isEqualTo(ErrorCode.MALFORMED));
        }
        assertThatThrownBy(() -> Pem.decode(good, "PUBLIC KEY", "key file"))
                .isInstanceOf(KeywayException.class).hasMessageContaining("no PUBLIC KEY block");
    }

    @Test
    void boundsTheInputBeforeParsing() {
        String big = Pem.encode("X", new byte[3000]);
        assertThatThrownBy(() -> Pem.decodeAll(big, 1000, "test")).isInstanceOf(KeywayException.class)
                .hasMessageContaining("too large");
        assertThat(Pem.decodeAll(big, big.length(), "test")).hasSize(1);
    }

    @Test
    void randomInputNeverEndsInAnotherException() {
        long seed = new Random().nextLong();
        System.out.println("PemTest seed " + seed);
        Random random = new Random(seed);
        String good = Pem.encode("CERTIFICATE", new byte[200]) + Pem.encode("PRIVATE KEY", new byte[50]);
        for (int i = 0; i < 2000; i++) {
            char[] c = good.toCharArray();
            for (int k = 0; k < 1 + random.nextInt(4); k++) {
                c[random.nextInt(c.length)] = (char) random.nextInt(128);
            }
            String mutated = new String(c);
            try {
                Pem.decodeAll(mutated, "test");
            } catch (KeywayException expected) {
                // fine
            }
        }
    }
}
