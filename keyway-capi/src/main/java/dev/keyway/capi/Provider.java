package dev.keyway.capi;

import java.util.Locale;

/**
 * The Microsoft RSA cryptographic providers whose key-length rules CryptDeriveKey follows (minimum,
 * default, maximum bits per algorithm; see docs/CRYPTOAPI.md for sources). Base knows RC2, RC4 and DES;
 * Enhanced and Strong add 3DES; only the AES provider has AES and the SHA-2 hashes.
 */
public enum Provider {
    BASE("base", "MS_DEF_PROV", "Microsoft Base Cryptographic Provider v1.0"),
    ENHANCED("enhanced", "MS_ENHANCED_PROV", "Microsoft Enhanced Cryptographic Provider v1.0"),
    STRONG("strong", "MS_STRONG_PROV", "Microsoft Strong Cryptographic Provider"),
    AES("aes", "MS_ENH_RSA_AES_PROV", "Microsoft Enhanced RSA and AES Cryptographic Provider");

    /** {@link dev.keyway.core.KeywayException#hintId()}: a SHA-2 hash asked of a provider other than AES. */
    public static final String HINT_SHA2_NEEDS_AES = "capi.sha2-needs-aes";
    /** {@link dev.keyway.core.KeywayException#hintId()}: an AES cipher asked of a provider other than AES. */
    public static final String HINT_AES_NEEDS_AES = "capi.aes-needs-aes";
    /** {@link dev.keyway.core.KeywayException#hintId()}: a cipher the base provider lacks. */
    public static final String HINT_NEEDS_STRONGER = "capi.needs-stronger";

    /** Key lengths in bits. */
    public record KeyLengths(int min, int defaultBits, int max) {
    }

    private final String cliName;
    private final String constant;
    private final String windowsName;

    Provider(String cliName, String constant, String windowsName) {
        this.cliName = cliName;
        this.constant = constant;
        this.windowsName = windowsName;
    }

    public String cliName() {
        return cliName;
    }

    /** The wincrypt.h constant, e.g. MS_ENHANCED_PROV. */
    public String constant() {
        return constant;
    }

    public String windowsName() {
        return windowsName;
    }

    /** Lengths for {@code alg}; NTE_BAD_ALGID when this provider does not have it. */
    public KeyLengths lengths(CipherAlg alg) {
        return switch (alg) {
            case RC2, RC4 -> this == BASE ? new KeyLengths(40, 40, 56) : new KeyLengths(40, 128, 128);
            case DES -> new KeyLengths(56, 56, 56);
            case TRIPLE_DES_112 -> require(this != BASE, alg, new KeyLengths(112, 112, 112));
            case TRIPLE_DES -> require(this != BASE, alg, new KeyLengths(168, 168, 168));
            case AES_128 -> require(this == AES, alg, new KeyLengths(128, 128, 128));
            case AES_192 -> require(this == AES, alg, new KeyLengths(192, 192, 192));
            case AES_256 -> require(this == AES, alg, new KeyLengths(256, 256, 256));
        };
    }

    /** NTE_BAD_ALGID when this provider has no such hash (the SHA-2 hashes need the AES provider). */
    public void requireHash(HashAlg hash) {
        if (hash.isSha2() && this != AES) {
            throw new CapiException(CapiError.NTE_BAD_ALGID, constant + " has no " + hash.cliName(),
                    "use the AES provider (MS_ENH_RSA_AES_PROV) for SHA-2 hashes").hintId(HINT_SHA2_NEEDS_AES);
        }
    }

    private KeyLengths require(boolean has, CipherAlg alg, KeyLengths lengths) {
        if (!has) {
            throw new CapiException(CapiError.NTE_BAD_ALGID, constant + " has no " + alg.cliName(),
                    alg.isAes() ? "use the AES provider (MS_ENH_RSA_AES_PROV)" : "use the enhanced, strong or AES provider")
                    .hintId(alg.isAes() ? HINT_AES_NEEDS_AES : HINT_NEEDS_STRONGER);
        }
        return lengths;
    }

    /**
     * The provider a command uses when none is named: Windows' default for PROV_RSA_FULL (Strong), or the
     * AES provider when the algorithm or hash needs it.
     */
    public static Provider defaultFor(CipherAlg alg, HashAlg hash) {
        return alg.isAes() || (hash != null && hash.isSha2()) ? AES : STRONG;
    }

    public static Provider parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        for (Provider p : values()) {
            if (p.cliName.equals(t) || p.constant.equalsIgnoreCase(t)) {
                return p;
            }
        }
        throw new CapiException(CapiError.NTE_BAD_FLAGS, "'" + text + "' is not a provider Keyway knows",
                "use base, enhanced, strong or aes");
    }
}
