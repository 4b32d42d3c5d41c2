package dev.keyway.capi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.bouncycastle.crypto.BlockCipher;
import org.bouncycastle.crypto.BufferedBlockCipher;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.engines.DESEngine;
import org.bouncycastle.crypto.engines.DESedeEngine;
import org.bouncycastle.crypto.engines.RC2Engine;
import org.bouncycastle.crypto.engines.RC4Engine;
import org.bouncycastle.crypto.modes.CBCBlockCipher;
import org.bouncycastle.crypto.modes.CFBBlockCipher;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;
import org.bouncycastle.crypto.params.RC2Parameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * LegacyCipher fed in random-sized pieces gives what one call gives, for every algorithm and mode and
 * lengths 0..70, and both agree with an independent Bouncy Castle reference (PKCS #5 padding in every mode).
 */
class LegacyCipherStreamingTest {
    private static final int MAX_LEN = 70;

    static List<CapiKey> keys() {
        List<CapiKey> keys = new ArrayList<>();
        keys.add(CapiKey.of(CipherAlg.DES, CapiVectors.counting(0x11, 8)));
        keys.add(CapiKey.of(CipherAlg.TRIPLE_DES_112, CapiVectors.counting(0x21, 16)));
        keys.add(CapiKey.of(CipherAlg.TRIPLE_DES, CapiVectors.counting(0x31, 24)));
        keys.add(CapiKey.of(CipherAlg.AES_128, CapiVectors.counting(0x41, 16)));
        keys.add(CapiKey.of(CipherAlg.AES_192, CapiVectors.counting(0x51, 24)));
        keys.add(CapiKey.of(CipherAlg.AES_256, CapiVectors.counting(0x61, 32)));
        keys.add(CapiKey.of(CipherAlg.RC2, CapiVectors.counting(0x71, 16)));
        keys.add(new CapiKey(CipherAlg.RC2, CapiVectors.counting(0x81, 5), new byte[11], 40));
        keys.add(new CapiKey(CipherAlg.RC2, CapiVectors.counting(0x91, 7), new byte[0], 128));
        keys.add(CapiKey.of(CipherAlg.RC4, CapiVectors.counting(0xa1, 16)));
        keys.add(new CapiKey(CipherAlg.RC4, CapiVectors.counting(0xb1, 5), new byte[11], 40));
        keys.add(CapiKey.of(CipherAlg.RC4, CapiVectors.counting(0xc1, 128)));
        return keys;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (CapiKey key : keys()) {
            for (Mode mode : key.alg().isBlock() ? List.of(Mode.values()) : List.of(Mode.CBC)) {
                out.add(Arguments.of(key + " " + mode, key, mode));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void piecesGiveTheOneShotResult(String name, CapiKey key, Mode mode) {
        long seed = Long.getLong("capi.stream.seed", System.nanoTime());
        Random rnd = new Random(seed);
        int bs = key.alg().blockSize();
        for (int len = 0; len <= MAX_LEN; len++) {
            byte[] pt = new byte[len];
            rnd.nextBytes(pt);
            byte[] iv = null;
            if (bs > 0 && rnd.nextBoolean()) {
                iv = new byte[bs];
                rnd.nextBytes(iv);
            }
            String where = "seed " + seed + " (rerun with -Dcapi.stream.seed=" + seed + "), " + name + ", length " + len;

            byte[] oneShot = LegacyCipher.encrypt(key, mode, iv, pt);
            assertThat(oneShot).as(where).isEqualTo(reference(key, mode, iv, pt));
            if (bs == 0) {
                assertThat(oneShot).as(where).hasSize(len);
            } else {
                assertThat(oneShot).as(where + ": padded to the block, a whole block when aligned").hasSize((len / bs + 1) * bs);
            }
            for (int round = 0; round < 4; round++) {
                byte[] streamed = inPieces(LegacyCipher.encrypting(key, mode, iv), pt, rnd);
                assertThat(streamed).as(where + " encrypt in pieces").isEqualTo(oneShot);
                byte[] back = inPieces(LegacyCipher.decrypting(key, mode, iv), oneShot, rnd);
                assertThat(back).as(where + " decrypt in pieces").isEqualTo(pt);
            }
            assertThat(LegacyCipher.decrypt(key, mode, iv, oneShot)).as(where).isEqualTo(pt);
            assertThat(LegacyCipher.run(LegacyCipher.encrypting(key, mode, iv), pt)).as(where).isEqualTo(oneShot);
        }
    }

    /** Feeds data in random pieces (including empty ones and offsets into a larger array), then doFinal. */
    private static byte[] inPieces(LegacyCipher c, byte[] data, Random rnd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int at = 0;
        while (at < data.length || rnd.nextInt(4) == 0) {
            int n = Math.min(data.length - at, rnd.nextInt(4) == 0 ? 0 : 1 + rnd.nextInt(20));
            byte[] padded = new byte[n + 10];
            int off = rnd.nextInt(5);
            System.arraycopy(data, at, padded, off, n);
            out.writeBytes(c.update(padded, off, n));
            at += n;
            if (at >= data.length && rnd.nextBoolean()) {
                break;
            }
        }
        out.writeBytes(c.doFinal());
        return out.toByteArray();
    }

    /** Independent reference: Bouncy Castle with the PKCS #5 padding appended by hand (also in CFB-8). */
    private static byte[] reference(CapiKey key, Mode mode, byte[] iv, byte[] pt) {
        byte[] m = key.material();
        if (key.alg() == CipherAlg.RC4) {
            RC4Engine rc4 = new RC4Engine();
            rc4.init(true, new KeyParameter(m));
            byte[] out = new byte[pt.length];
            rc4.processBytes(pt, 0, pt.length, out, 0);
            return out;
        }
        int bs = key.alg().blockSize();
        int pad = bs - pt.length % bs;
        byte[] data = Arrays.copyOf(pt, pt.length + pad);
        Arrays.fill(data, pt.length, data.length, (byte) pad);
        BlockCipher engine = switch (key.alg()) {
            case DES -> new DESEngine();
            case TRIPLE_DES, TRIPLE_DES_112 -> new DESedeEngine();
            case RC2 -> new RC2Engine();
            default -> AESEngine.newInstance();
        };
        var params = key.alg() == CipherAlg.RC2 ? new RC2Parameters(m, key.effectiveBits()) : new KeyParameter(m);
        byte[] theIv = iv == null ? new byte[bs] : iv;
        BlockCipher moded = switch (mode) {
            case ECB -> engine;
            case CBC -> CBCBlockCipher.newInstance(engine);
            case CFB8 -> CFBBlockCipher.newInstance(engine, 8);
        };
        moded.init(true, mode == Mode.ECB ? params : new ParametersWithIV(params, theIv));
        byte[] out = new byte[data.length];
        for (int i = 0; i < data.length; i += moded.getBlockSize()) {
            moded.processBlock(data, i, out, i);
        }
        return out;
    }

    @Test
    void cfb8CiphertextIsBlockAlignedAndRc4IsNot() {
        CapiKey aes = CapiKey.of(CipherAlg.AES_128, new byte[16]);
        CapiKey des = CapiKey.of(CipherAlg.DES, new byte[8]);
        CapiKey rc4 = CapiKey.of(CipherAlg.RC4, new byte[16]);
        for (int len = 0; len <= MAX_LEN; len++) {
            assertThat(LegacyCipher.encrypt(aes, Mode.CFB8, null, new byte[len])).hasSize((len / 16 + 1) * 16);
            assertThat(LegacyCipher.encrypt(des, Mode.CFB8, null, new byte[len])).hasSize((len / 8 + 1) * 8);
            assertThat(LegacyCipher.encrypt(rc4, Mode.CFB8, null, new byte[len])).hasSize(len);
            assertThat(LegacyCipher.encrypt(rc4, Mode.ECB, new byte[3], new byte[len])).hasSize(len);
        }
        // CFB-8 releases bytes as they come, not a block at a time
        LegacyCipher c = LegacyCipher.encrypting(aes, Mode.CFB8, null);
        assertThat(c.update(new byte[5], 0, 5)).hasSize(5);
        assertThat(c.doFinal()).hasSize(11);
    }

    @Test
    void finishedCipherRefusesMoreData() {
        LegacyCipher c = LegacyCipher.encrypting(CapiKey.of(CipherAlg.AES_128, new byte[16]), Mode.CBC, null);
        c.doFinal();
        assertThatThrownBy(() -> c.update(new byte[1], 0, 1)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(c::doFinal).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void rc4KeyWithAndWithoutSaltDiffer() {
        byte[] k = CapiVectors.counting(9, 5);
        byte[] salted = LegacyCipher.encrypt(new CapiKey(CipherAlg.RC4, k, new byte[11], 40), Mode.CBC, null, new byte[16]);
        byte[] bare = LegacyCipher.encrypt(CapiKey.of(CipherAlg.RC4, k), Mode.CBC, null, new byte[16]);
        assertThat(salted).isNotEqualTo(bare);
        assertThat(salted).isEqualTo(LegacyCipher.encrypt(CapiKey.of(CipherAlg.RC4, Arrays.copyOf(k, 16)), Mode.CBC, null, new byte[16]));
    }
}
