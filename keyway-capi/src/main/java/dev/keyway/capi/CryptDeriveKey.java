package dev.keyway.capi;

import java.util.Arrays;

/**
 * CryptDeriveKey as Windows computes it (docs/CRYPTOAPI.md has the sources and the checks):
 * <ul>
 *   <li>n, the key length, comes from the upper 16 bits of dwFlags or the provider's default; DES-family
 *       lengths may be given with or without parity bits (56/64, 112/128, 168/192);</li>
 *   <li>the key is the first n bytes of the hash value, unless the hash is shorter than n or the key is
 *       AES and the hash is not SHA-2: then both 64-byte buffers 0x36.. and 0x5C.. are XORed with the hash
 *       value and hashed, and the key is the first n bytes of the two results concatenated;</li>
 *   <li>DES-family keys get odd parity in every byte, as Windows exports them;</li>
 *   <li>40-bit RC2 and RC4 keys carry 11 salt bytes, which the cipher keys with: zeros, or with
 *       CRYPT_CREATE_SALT the hash bytes after the key (none at all on the Enhanced provider); CRYPT_NO_SALT
 *       drops them;</li>
 *   <li>RC2's effective key length is the key length (40 on the Base provider, whatever the length).</li>
 * </ul>
 */
public final class CryptDeriveKey {
    /** {@link dev.keyway.core.KeywayException#hintId()}: CRYPT_CREATE_SALT for a key longer than 40 bits. */
    public static final String HINT_GIVE_KEY_AND_SALT = "capi.give-key-and-salt";
    public static final int CRYPT_EXPORTABLE = 0x1;
    public static final int CRYPT_CREATE_SALT = 0x4;
    public static final int CRYPT_NO_SALT = 0x10;
    static final int SALT_40_BIT = 11;
    private static final int KNOWN_FLAGS = CRYPT_EXPORTABLE | CRYPT_CREATE_SALT | CRYPT_NO_SALT;

    private CryptDeriveKey() {
    }

    /**
     * Derives a key from a finished hash value.
     *
     * @param hashValue HP_HASHVAL of the hash object (its length must be the hash's)
     * @param flags     dwFlags: key length in bits in the upper 16 bits (0: provider default), plus
     *                  CRYPT_CREATE_SALT, CRYPT_NO_SALT, CRYPT_EXPORTABLE
     */
    public static CapiKey derive(Provider provider, CipherAlg alg, HashAlg hash, byte[] hashValue, int flags) {
        provider.requireHash(hash);
        Provider.KeyLengths lengths = provider.lengths(alg);
        if (hashValue.length != hash.length()) {
            throw new CapiException(CapiError.NTE_BAD_HASH, "a " + hash.cliName() + " value is " + hash.length() + " bytes, not " + hashValue.length,
                    "give the whole hash value");
        }
        if ((flags & 0xffff & ~KNOWN_FLAGS) != 0) {
            throw new CapiException(CapiError.NTE_BAD_FLAGS, String.format("unknown flags 0x%04X", flags & 0xffff & ~KNOWN_FLAGS),
                    "use CRYPT_CREATE_SALT (0x4), CRYPT_NO_SALT (0x10) and CRYPT_EXPORTABLE (0x1)");
        }
        boolean createSalt = (flags & CRYPT_CREATE_SALT) != 0;
        boolean noSalt = (flags & CRYPT_NO_SALT) != 0;
        if (createSalt && noSalt) {
            throw new CapiException(CapiError.NTE_BAD_FLAGS, "CRYPT_CREATE_SALT and CRYPT_NO_SALT together", "give one of them");
        }
        int bits = keyBits(alg, lengths, flags >>> 16);
        int n = alg.fixedKeyBytes() > 0 ? alg.fixedKeyBytes() : bits / 8;

        boolean expand = hash.length() < n || (alg.isAes() && !hash.isSha2());
        byte[] material = expand ? expand(hash, hashValue) : hashValue.clone();
        byte[] key = Arrays.copyOf(material, n);
        if (alg.isDesFamily()) {
            setOddParity(key);
        }

        byte[] salt = new byte[0];
        if (alg == CipherAlg.RC2 || alg == CipherAlg.RC4) {
            if (createSalt && (bits != 40 || expand)) {
                throw new CapiException(CapiError.NTE_BAD_FLAGS, "CRYPT_CREATE_SALT is supported for 40-bit keys only",
                        "Windows' salt for longer derived keys is undocumented: use the key and its salt as they are")
                        .hintId(HINT_GIVE_KEY_AND_SALT);
            }
            if (bits == 40 && !noSalt) {
                if (!createSalt) {
                    salt = new byte[SALT_40_BIT];
                } else if (provider != Provider.ENHANCED) {
                    salt = Arrays.copyOfRange(hashValue, n, n + SALT_40_BIT);
                }
                // The Enhanced provider gives a 40-bit key made with CRYPT_CREATE_SALT no salt at all.
            }
        }
        int effective = alg == CipherAlg.RC2 && provider == Provider.BASE ? 40 : bits;
        try {
            return new CapiKey(alg, key, salt, effective);
        } finally {
            Arrays.fill(material, (byte) 0);
            Arrays.fill(key, (byte) 0);
            Arrays.fill(salt, (byte) 0);
        }
    }

    /** Hashes {@code data} and derives (CryptCreateHash, CryptHashData, CryptDeriveKey). */
    public static CapiKey deriveFromData(Provider provider, CipherAlg alg, HashAlg hash, byte[] data, int flags) {
        byte[] h = hash.hash(data);
        try {
            return derive(provider, alg, hash, h, flags);
        } finally {
            Arrays.fill(h, (byte) 0);
        }
    }

    /** dwFlags' key length, checked against the provider, in bits without DES parity. */
    static int keyBits(CipherAlg alg, Provider.KeyLengths lengths, int requested) {
        if (requested == 0) {
            return lengths.defaultBits();
        }
        int bits = requested;
        if (alg.isDesFamily() && bits == alg.fixedKeyBytes() * 8) {
            bits = alg.fixedKeyBytes() * 7; // 64/128/192 with parity bits mean 56/112/168
        }
        if (bits % 8 != 0 || bits < lengths.min() || bits > lengths.max()) {
            throw new CapiException(CapiError.NTE_BAD_FLAGS, alg.cliName() + " keys are " + range(lengths) + " bits here, not " + requested,
                    "give a length in that range (a multiple of 8), or none for the default of " + lengths.defaultBits());
        }
        return bits;
    }

    private static String range(Provider.KeyLengths l) {
        return l.min() == l.max() ? String.valueOf(l.min()) : l.min() + " to " + l.max();
    }

    /** The 0x36/0x5C expansion: Hash(0x36^64 XOR H) || Hash(0x5C^64 XOR H). */
    static byte[] expand(HashAlg hash, byte[] h) {
        byte[] b1 = new byte[64];
        byte[] b2 = new byte[64];
        Arrays.fill(b1, (byte) 0x36);
        Arrays.fill(b2, (byte) 0x5c);
        for (int i = 0; i < h.length; i++) {
            b1[i] ^= h[i];
            b2[i] ^= h[i];
        }
        byte[] x1 = hash.hash(b1);
        byte[] x2 = hash.hash(b2);
        byte[] out = Arrays.copyOf(x1, x1.length + x2.length);
        System.arraycopy(x2, 0, out, x1.length, x2.length);
        Arrays.fill(b1, (byte) 0);
        Arrays.fill(b2, (byte) 0);
        Arrays.fill(x1, (byte) 0);
        Arrays.fill(x2, (byte) 0);
        return out;
    }

    static void setOddParity(byte[] key) {
        for (int i = 0; i < key.length; i++) {
            int b = key[i] & 0xfe;
            key[i] = (byte) (b | ((Integer.bitCount(b) & 1) == 0 ? 1 : 0));
        }
    }
}
