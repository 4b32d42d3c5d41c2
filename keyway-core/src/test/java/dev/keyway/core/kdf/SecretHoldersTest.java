package dev.keyway.core.kdf;

import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.Secret;
import dev.keyway.core.keys.SessionKey;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every secret holder in core shares {@link Secret}: destroy() zeroes every byte array it owns, later use is
 * refused with {@link Secret.DestroyedException}, and toString() never shows the bytes.
 */
class SecretHoldersTest {
    private static final byte[] K16 = HexFormat.of().parseHex("a1b2c3d4e5f60718293a4b5c6d7e8f90");

    private record Holder(Secret secret, List<Supplier<byte[]>> uses) {
    }

    private static List<Holder> holders() {
        SessionKey session = SessionKey.of(Algorithms.AES_128_GCM, K16);
        Identity identity = Identity.generate(KeyType.X25519);
        TrafficKeys traffic = new TrafficKeys(K16.clone(), HexFormat.of().parseHex("0102030405060708090a0b0c"));
        KeyBlock12 block = new KeyBlock12(CipherSuites.byCode(0xC014), fill(20, 1), fill(20, 2), fill(32, 3), fill(32, 4),
                fill(16, 5), fill(16, 6));
        return List.of(
                new Holder(session, List.of(session::bytes, () -> session.toSecretKeySpec("AES").getEncoded())),
                new Holder(identity, List.of(identity::kemPrivateKey, identity::signingSeed,
                        () -> identity.encodeSecret().getBytes(), () -> identity.sign(new byte[1]))),
                new Holder(traffic, List.of(traffic::key, traffic::iv)),
                new Holder(block, List.of(block::clientMacKey, block::serverMacKey, block::clientKey, block::serverKey,
                        block::clientIv, block::serverIv)));
    }

    @Test
    void toStringShowsNoSecretBytes() throws Exception {
        for (Holder h : holders()) {
            String s = h.secret().toString().toLowerCase(Locale.ROOT);
            assertThat(s).startsWith(h.secret().getClass().getSimpleName().toLowerCase(Locale.ROOT) + "[");
            for (byte[] part : arrays(h.secret())) {
                if (part.length >= 4) {
                    assertThat(s).doesNotContain(HexFormat.of().formatHex(part, 0, 4));
                }
            }
        }
    }

    @Test
    void destroyZeroesEveryArrayAndLaterUseIsRefused() throws Exception {
        for (Holder h : holders()) {
            List<byte[]> parts = arrays(h.secret());
            assertThat(parts).isNotEmpty();
            assertThat(parts).anySatisfy(p -> assertThat(p).isNotEqualTo(new byte[p.length]));
            assertThat(h.secret().isDestroyed()).isFalse();
            h.secret().destroy();
            assertThat(h.secret().isDestroyed()).isTrue();
            for (byte[] part : parts) {
                assertThat(part).as(h.secret() + " after destroy").isEqualTo(new byte[part.length]);
            }
            for (Supplier<byte[]> use : h.uses()) {
                assertThatThrownBy(use::get).isInstanceOf(Secret.DestroyedException.class)
                        .hasMessageContaining(h.secret().getClass().getSimpleName() + " was destroyed");
            }
            assertThat(h.secret().toString()).startsWith(h.secret().getClass().getSimpleName() + "[");
            h.secret().destroy(); // idempotent
        }
    }

    private static byte[] fill(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }

    /** The byte arrays the holder keeps in its own fields. */
    private static List<byte[]> arrays(Secret s) throws IllegalAccessException {
        List<byte[]> out = new ArrayList<>();
        for (Field f : s.getClass().getDeclaredFields()) {
            if (f.getType() == byte[].class) {
                f.setAccessible(true);
                out.add((byte[]) f.get(s));
            }
        }
        return out;
    }
}
