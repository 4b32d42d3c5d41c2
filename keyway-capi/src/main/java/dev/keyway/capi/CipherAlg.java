package dev.keyway.capi;

import java.util.Locale;

/** The CryptoAPI session-key algorithms Keyway reads, with their ALG_IDs (wincrypt.h). */
public enum CipherAlg {
    RC2(0x6602, "rc2", 8, 0),
    RC4(0x6801, "rc4", 0, 0),
    DES(0x6601, "des", 8, 8),
    TRIPLE_DES_112(0x6609, "3des112", 8, 16),
    TRIPLE_DES(0x6603, "3des", 8, 24),
    AES_128(0x660e, "aes128", 16, 16),
    AES_192(0x660f, "aes192", 16, 24),
    AES_256(0x6610, "aes256", 16, 32);

    private final int algId;
    private final String cliName;
    private final int blockSize;
    private final int fixedKeyBytes;

    CipherAlg(int algId, String cliName, int blockSize, int fixedKeyBytes) {
        this.algId = algId;
        this.cliName = cliName;
        this.blockSize = blockSize;
        this.fixedKeyBytes = fixedKeyBytes;
    }

    public int algId() {
        return algId;
    }

    public String cliName() {
        return cliName;
    }

    /** 8 or 16 for block ciphers, 0 for RC4. */
    public int blockSize() {
        return blockSize;
    }

    public boolean isBlock() {
        return blockSize > 0;
    }

    /** Key bytes for DES, 3DES and AES (DES keys include their parity bits); 0 for RC2 and RC4, which vary. */
    public int fixedKeyBytes() {
        return fixedKeyBytes;
    }

    public boolean isAes() {
        return this == AES_128 || this == AES_192 || this == AES_256;
    }

    public boolean isDesFamily() {
        return this == DES || this == TRIPLE_DES_112 || this == TRIPLE_DES;
    }

    /** By command-line name ("rc2", "3des112", "aes256", ...), CALG name or hex ALG_ID. */
    public static CipherAlg parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("calg_", "").replace("_", "");
        for (CipherAlg c : values()) {
            if (c.cliName.equals(t) || String.format("0x%04x", c.algId).equals(t) || String.format("0x%08x", c.algId).equals(t)) {
                return c;
            }
        }
        throw new CapiException(CapiError.NTE_BAD_ALGID, "'" + text + "' is not a CryptoAPI session-key algorithm",
                "use rc2, rc4, des, 3des112, 3des, aes128, aes192 or aes256");
    }

    /** The algorithm with this ALG_ID, or a refusal as Windows gives it. */
    public static CipherAlg ofAlgId(int algId) {
        for (CipherAlg c : values()) {
            if (c.algId == algId) {
                return c;
            }
        }
        throw new CapiException(CapiError.NTE_BAD_ALGID, String.format("ALG_ID 0x%04X is not a session-key algorithm Keyway reads", algId),
                "the blob or data was made with an algorithm outside RC2, RC4, DES, 3DES and AES");
    }
}
