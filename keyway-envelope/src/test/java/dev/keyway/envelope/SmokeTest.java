package dev.keyway.envelope;

import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.keys.SessionKey;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class SmokeTest {
    @Test
    void roundTrip() throws Exception {
        Identity a = Identity.generate(KeyType.X25519);
        Identity s = Identity.generate(KeyType.X25519);
        for (int size : new int[] {0, 1, 65535, 65536, 65537, 200000}) {
            byte[] data = new byte[size];
            new Random(size).nextBytes(data);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new EnvelopeWriter().recipients(List.of(a.recipient())).signer(s).serial(5).encrypt(new ByteArrayInputStream(data), out);
            EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(out.toByteArray()), 256);
            SessionKey fk = r.unwrap(List.of(a));
            r.authenticate(fk);
            ByteArrayOutputStream pt = new ByteArrayOutputStream();
            EnvelopeReader.Result res = r.decrypt(fk, pt);
            assertThat(pt.toByteArray()).isEqualTo(data);
            assertThat(res.signer()).isEqualTo(s.recipient());
        }
    }
}
