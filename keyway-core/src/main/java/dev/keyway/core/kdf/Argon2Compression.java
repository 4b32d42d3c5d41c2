package dev.keyway.core.kdf;

import static dev.keyway.core.kdf.Argon2id.BLOCK_WORDS;
import static dev.keyway.core.kdf.Argon2id.LOW32;

/** Argon2's compression function G and its BlaMka-based permutation P (RFC 9106 sections 3.5 and 3.6). */
final class Argon2Compression {
    private Argon2Compression() {
    }

    /**
     * dst = G(prev, ref), or G(prev, ref) XOR dst on passes after the first (version 0x13).
     * r becomes P applied to prev XOR ref; z keeps the value the result is XORed with, so the old
     * dst block can be folded in before dst is overwritten.
     */
    static void compress(long[] mem, int prevOff, int refOff, int dstOff, boolean xorOld,
                                 long[] r, long[] z) {
        if (xorOld) {
            for (int w = 0; w < BLOCK_WORDS; w++) {
                long v = mem[prevOff + w] ^ mem[refOff + w];
                r[w] = v;
                z[w] = v ^ mem[dstOff + w];
            }
        } else {
            for (int w = 0; w < BLOCK_WORDS; w++) {
                long v = mem[prevOff + w] ^ mem[refOff + w];
                r[w] = v;
                z[w] = v;
            }
        }
        permuteBlock(r);
        for (int w = 0; w < BLOCK_WORDS; w++) {
            mem[dstOff + w] = r[w] ^ z[w];
        }
    }

    /**
     * The block as an 8x8 matrix of 16-byte registers: P on each row, then on each column. Register
     * k holds words 2k and 2k+1, so a row is 16 consecutive words and a column is word pairs 16
     * words apart.
     */
    static void permuteBlock(long[] r) {
        for (int row = 0; row < 128; row += 16) {
            permuteRow(r, row);
        }
        for (int col = 0; col < 16; col += 2) {
            permuteColumn(r, col);
        }
    }

    /*
     * P (RFC 9106 section 3.6) on the 16 words v0..v15 of one row or column: GB down the four
     * columns of the 4x4 word matrix, then along its four diagonals. Rows and columns get separate
     * copies so every index is base + constant, which lets C2 merge the bounds checks; GB works on
     * array slots because 16 live longs plus temporaries spill registers anyway. In a
     * microbenchmark this was about 1.8x faster than one stride-parameterised P over locals.
     */

    private static void permuteRow(long[] v, int b) {
        gb(v, b, b + 4, b + 8, b + 12);
        gb(v, b + 1, b + 5, b + 9, b + 13);
        gb(v, b + 2, b + 6, b + 10, b + 14);
        gb(v, b + 3, b + 7, b + 11, b + 15);
        gb(v, b, b + 5, b + 10, b + 15);
        gb(v, b + 1, b + 6, b + 11, b + 12);
        gb(v, b + 2, b + 7, b + 8, b + 13);
        gb(v, b + 3, b + 4, b + 9, b + 14);
    }

    /** Word k of the column sits at b + 16 * (k / 2) + k % 2. */
    private static void permuteColumn(long[] v, int b) {
        gb(v, b, b + 32, b + 64, b + 96);
        gb(v, b + 1, b + 33, b + 65, b + 97);
        gb(v, b + 16, b + 48, b + 80, b + 112);
        gb(v, b + 17, b + 49, b + 81, b + 113);
        gb(v, b, b + 33, b + 80, b + 113);
        gb(v, b + 1, b + 48, b + 81, b + 96);
        gb(v, b + 16, b + 49, b + 64, b + 97);
        gb(v, b + 17, b + 32, b + 65, b + 112);
    }

    /** GB(a, b, c, d) of RFC 9106 section 3.6, in place. */
    private static void gb(long[] v, int ia, int ib, int ic, int id) {
        long a = v[ia];
        long b = v[ib];
        long c = v[ic];
        long d = v[id];
        a = fBlaMka(a, b);
        d = Long.rotateRight(d ^ a, 32);
        c = fBlaMka(c, d);
        b = Long.rotateRight(b ^ c, 24);
        a = fBlaMka(a, b);
        d = Long.rotateRight(d ^ a, 16);
        c = fBlaMka(c, d);
        b = Long.rotateRight(b ^ c, 63);
        v[ia] = a;
        v[ib] = b;
        v[ic] = c;
        v[id] = d;
    }

    /** a + b + 2 * trunc(a) * trunc(b) mod 2^64: BlaMka's multiplication makes GB costlier to shortcut in hardware. */
    private static long fBlaMka(long a, long b) {
        return a + b + 2 * ((a & LOW32) * (b & LOW32));
    }
}
