package dev.keyway.capi;

import org.bouncycastle.crypto.BlockCipher;
import org.bouncycastle.crypto.BufferedBlockCipher;
import org.bouncycastle.crypto.CipherParameters;
import org.bouncycastle.crypto.DataLengthException;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.StreamCipher;
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

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * CryptEncrypt and CryptDecrypt for one key, as a stream of updates and a final call. Block ciphers pad
 * the final block the way CryptEncrypt does (PKCS #5: n bytes of value n, a whole block when the data
 * is already aligned), in every mode, so CFB-8 ciphertext is block-aligned too; RC4 is a plain stream.
 * The IV defaults to zeros, as for a key fresh from CryptDeriveKey or CryptImportKey.
 */
public final class LegacyCipher {
    private final boolean encrypt;
    private final int padBlock;
    private final BufferedBlockCipher block;
    private final StreamCipher stream;
    /** Decryption keeps the last block back until it knows whether it is the padded final one. */
    private byte[] held = new byte[0];
    /** Bytes given to update so far: the padding depends on it, whatever the mode buffers. */
    private long total;
    private boolean finished;

    private LegacyCipher(boolean encrypt, CapiKey key, Mode mode, byte[] iv) {
        this.encrypt = encrypt;
        CipherAlg alg = key.alg();
        byte[] material = key.material();
        try {
            if (alg == CipherAlg.RC4) {
                RC4Engine rc4 = new RC4Engine();
                rc4.init(encrypt, new KeyParameter(material));
                this.stream = rc4;
                this.block = null;
                this.padBlock = 0;
                return;
            }
            BlockCipher engine = switch (alg) {
                case RC2 -> new RC2Engine();
                case DES -> new DESEngine();
                case TRIPLE_DES_112, TRIPLE_DES -> new DESedeEngine();
                default -> AESEngine.newInstance();
            };
            CipherParameters keyParams = alg == CipherAlg.RC2 ? new RC2Parameters(material, key.effectiveBits())
                    : new KeyParameter(material);
            byte[] theIv = iv == null ? new byte[alg.blockSize()] : iv.clone();
            if (mode.usesIv() && theIv.length != alg.blockSize()) {
                throw new CapiException(CapiError.NTE_BAD_DATA, "the IV of " + alg.cliName() + " is " + alg.blockSize()
                        + " bytes, not " + theIv.length, "give " + 2 * alg.blockSize() + " hex digits, or leave it out for zeros");
            }
            BlockCipher moded = switch (mode) {
                case ECB -> engine;
                case CBC -> CBCBlockCipher.newInstance(engine);
                case CFB8 -> CFBBlockCipher.newInstance(engine, 8);
            };
            this.block = new BufferedBlockCipher(moded);
            block.init(encrypt, mode == Mode.ECB ? keyParams : new ParametersWithIV(keyParams, theIv));
            this.stream = null;
            this.padBlock = alg.blockSize();
        } catch (IllegalArgumentException e) {
            throw new CapiException(CapiError.NTE_BAD_KEY, "the key does not fit " + alg.cliName() + ": " + e.getMessage(),
                    "check the key length");
        } finally {
            Arrays.fill(material, (byte) 0);
        }
    }

    /** CryptEncrypt with this key; {@code iv} null means zeros (ignored in ECB and for RC4). */
    public static LegacyCipher encrypting(CapiKey key, Mode mode, byte[] iv) {
        return new LegacyCipher(true, key, mode, iv);
    }

    /** CryptDecrypt with this key; {@code iv} null means zeros. */
    public static LegacyCipher decrypting(CapiKey key, Mode mode, byte[] iv) {
        return new LegacyCipher(false, key, mode, iv);
    }

    /** One-shot encryption with the final padding. */
    public static byte[] encrypt(CapiKey key, Mode mode, byte[] iv, byte[] plaintext) {
        LegacyCipher c = encrypting(key, mode, iv);
        return concat(c.update(plaintext, 0, plaintext.length), c.doFinal());
    }

    /** One-shot decryption, checking and removing the final padding. */
    public static byte[] decrypt(CapiKey key, Mode mode, byte[] iv, byte[] ciphertext) {
        LegacyCipher c = decrypting(key, mode, iv);
        return concat(c.update(ciphertext, 0, ciphertext.length), c.doFinal());
    }

    /** Processes more data; returns what can be released now. */
    public byte[] update(byte[] in, int off, int len) {
        if (finished) {
            throw new IllegalStateException("cipher already finished");
        }
        total += len;
        if (stream != null) {
            byte[] out = new byte[len];
            stream.processBytes(in, off, len, out, 0);
            return out;
        }
        byte[] out = new byte[block.getUpdateOutputSize(len)];
        int n = block.processBytes(in, off, len, out, 0);
        byte[] produced = n == out.length ? out : Arrays.copyOf(out, n);
        if (encrypt) {
            return produced;
        }
        // Hold back the last whole block: it may be the padded final one.
        byte[] all = concat(held, produced);
        int keep = Math.min(all.length, padBlock);
        held = Arrays.copyOfRange(all, all.length - keep, all.length);
        return Arrays.copyOf(all, all.length - keep);
    }

    /** Ends the data: adds the padding (encrypt) or checks and strips it (decrypt). */
    public byte[] doFinal() {
        if (finished) {
            throw new IllegalStateException("cipher already finished");
        }
        finished = true;
        if (stream != null) {
            return new byte[0];
        }
        try {
            if (encrypt) {
                int pad = padBlock - (int) (total % padBlock);
                byte[] padding = new byte[pad];
                Arrays.fill(padding, (byte) pad);
                byte[] out = new byte[block.getUpdateOutputSize(pad) + padBlock];
                int n = block.processBytes(padding, 0, pad, out, 0);
                n += block.doFinal(out, n);
                return Arrays.copyOf(out, n);
            }
            if (total % padBlock != 0) {
                throw new CapiException(CapiError.NTE_BAD_DATA, "the ciphertext is not a whole number of "
                        + padBlock + "-byte blocks", "check that the file is complete and the algorithm is right");
            }
            byte[] rest = new byte[block.getOutputSize(0)];
            int n = block.doFinal(rest, 0);
            byte[] all = concat(held, Arrays.copyOf(rest, n));
            if (all.length < padBlock) {
                throw new CapiException(CapiError.NTE_BAD_DATA, "the ciphertext is shorter than one block",
                        "check that the file is complete");
            }
            int pad = all[all.length - 1] & 0xff;
            boolean ok = pad >= 1 && pad <= padBlock;
            for (int i = all.length - (ok ? pad : 1); i < all.length; i++) {
                ok &= (all[i] & 0xff) == pad;
            }
            if (!ok) {
                throw new CapiException(CapiError.NTE_BAD_DATA, "the final block's padding is wrong",
                        "the key, algorithm, mode or IV is not the one the data was encrypted with");
            }
            return Arrays.copyOf(all, all.length - pad);
        } catch (DataLengthException | InvalidCipherTextException e) {
            throw new CapiException(CapiError.NTE_BAD_DATA, e.getMessage(), "check that the file is complete");
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Collects a whole run through the cipher, for callers that want one array. */
    static byte[] run(LegacyCipher c, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length + 16);
        out.writeBytes(c.update(data, 0, data.length));
        out.writeBytes(c.doFinal());
        return out.toByteArray();
    }
}
