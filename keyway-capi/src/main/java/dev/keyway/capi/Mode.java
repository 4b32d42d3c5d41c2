package dev.keyway.capi;

import java.util.Locale;

/** Block cipher modes of CryptoAPI keys (KP_MODE); CBC is the default, CFB is 8-bit feedback. */
public enum Mode {
    CBC(1), ECB(2), CFB8(4);

    private final int kpMode;

    Mode(int kpMode) {
        this.kpMode = kpMode;
    }

    /** The CRYPT_MODE_* value. */
    public int kpMode() {
        return kpMode;
    }

    public boolean usesIv() {
        return this != ECB;
    }

    public static Mode parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "cbc" -> CBC;
            case "ecb" -> ECB;
            case "cfb", "cfb8" -> CFB8;
            default -> throw new CapiException(CapiError.NTE_BAD_FLAGS,
                    "mode '" + text + "' is not one CryptoAPI has", "use cbc (the default), ecb or cfb8");
        };
    }
}
