package dev.keyway.capi;

import dev.keyway.core.keys.Secret;

import java.util.Arrays;

/**
 * A CryptoAPI session key as the cipher sees it: the key bytes, the salt Windows appends to short RC2
 * and RC4 keys (both go into the cipher's key schedule), and RC2's effective key length. Never printed.
 */
public final class CapiKey extends Secret {
    private final CipherAlg alg;
    private final byte[] key;
    private final byte[] salt;
    private final int effectiveBits;

    /**
     * @param key           the key bytes (for DES-family keys, with their parity bits as given)
     * @param salt          salt bytes appended to the key (RC2/RC4 only; empty for none)
     * @param effectiveBits RC2's effective key length in bits (ignored for other algorithms)
     */
    public CapiKey(CipherAlg alg, byte[] key, byte[] salt, int effectiveBits) {
        this(alg, effectiveBits, key.clone(), salt.clone());
    }

    /** Takes ownership of {@code key} and {@code salt}, which no one else holds. */
    private CapiKey(CipherAlg alg, int effectiveBits, byte[] key, byte[] salt) {
        super(key, salt);
        this.alg = alg;
        this.key = key;
        this.salt = salt;
        this.effectiveBits = effectiveBits;
        check();
    }

    /** A key given as raw bytes (e.g. --key HEX), no salt, RC2 effective length = key length. */
    public static CapiKey of(CipherAlg alg, byte[] key) {
        return new CapiKey(alg, key, new byte[0], key.length * 8);
    }

    /**
     * A key from CryptImportKey (SIMPLEBLOB, PLAINTEXTKEYBLOB, SYMMETRICWRAPKEYBLOB): blobs carry the key
     * bytes only, and Windows gives an imported 40-bit RC2 or RC4 key 11 zero salt bytes.
     */
    public static CapiKey imported(CipherAlg alg, byte[] key) {
        boolean salted = (alg == CipherAlg.RC2 || alg == CipherAlg.RC4) && key.length == 5;
        return new CapiKey(alg, key, salted ? new byte[CryptDeriveKey.SALT_40_BIT] : new byte[0], key.length * 8);
    }

    private void check() {
        if (alg.fixedKeyBytes() > 0 && key.length != alg.fixedKeyBytes()) {
            throw new CapiException(CapiError.NTE_BAD_LEN, alg.cliName() + " keys are " + alg.fixedKeyBytes() + " bytes, not " + key.length,
                    "give " + 2 * alg.fixedKeyBytes() + " hex digits");
        }
        if (alg.fixedKeyBytes() == 0 && (key.length < 5 || key.length + salt.length > 128)) {
            throw new CapiException(CapiError.NTE_BAD_LEN, alg.cliName() + " keys are 5 to 128 bytes (with salt), not " + key.length,
                    "give at least 10 hex digits (a 40-bit key)");
        }
        if (salt.length > 0 && alg != CipherAlg.RC2 && alg != CipherAlg.RC4) {
            throw new CapiException(CapiError.NTE_BAD_KEY, "only RC2 and RC4 keys carry salt", "drop the salt");
        }
        if (alg == CipherAlg.RC2 && (effectiveBits < 1 || effectiveBits > 1024)) {
            throw new CapiException(CapiError.NTE_BAD_LEN, "RC2 effective key length must be 1 to 1024 bits, not " + effectiveBits,
                    "use the key length in bits");
        }
    }

    public CipherAlg alg() {
        return alg;
    }

    /** The key bytes without salt. */
    public byte[] key() {
        return copy(key);
    }

    public byte[] salt() {
        return copy(salt);
    }

    /** What the cipher's key schedule gets: key followed by salt. */
    byte[] material() {
        checkAlive();
        byte[] m = Arrays.copyOf(key, key.length + salt.length);
        System.arraycopy(salt, 0, m, key.length, salt.length);
        return m;
    }

    public int effectiveBits() {
        return effectiveBits;
    }

    /** Key length in bits as CryptGetKeyParam(KP_KEYLEN) says it: DES-family keys count 56 bits per 8 bytes. */
    public int bits() {
        return alg.isDesFamily() ? key.length * 7 : key.length * 8;
    }

    @Override
    protected String describe() {
        return alg.cliName() + ", " + bits() + " bits" + (salt.length > 0 ? ", " + salt.length + " salt bytes" : "");
    }
}
