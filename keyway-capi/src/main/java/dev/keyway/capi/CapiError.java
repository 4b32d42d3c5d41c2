package dev.keyway.capi;

import dev.keyway.core.ErrorCode;

/**
 * The Windows error a CryptoAPI call would return, with the Keyway error code the CLI maps to an exit
 * status: input Windows would refuse is a usage error (exit 2), data that does not decrypt or a key
 * that does not fit is an authentication failure (exit 3).
 */
public enum CapiError {
    NTE_BAD_HASH(0x80090002, ErrorCode.USAGE),
    NTE_BAD_KEY(0x80090003, ErrorCode.AUTH_FAILED),
    NTE_BAD_LEN(0x80090004, ErrorCode.USAGE),
    NTE_BAD_DATA(0x80090005, ErrorCode.AUTH_FAILED),
    NTE_BAD_VER(0x80090007, ErrorCode.MALFORMED),
    NTE_BAD_ALGID(0x80090008, ErrorCode.USAGE),
    NTE_BAD_FLAGS(0x80090009, ErrorCode.USAGE),
    NTE_BAD_TYPE(0x8009000A, ErrorCode.MALFORMED),
    NTE_BAD_KEY_STATE(0x8009000B, ErrorCode.USAGE);

    private final int hresult;
    private final ErrorCode code;

    CapiError(int hresult, ErrorCode code) {
        this.hresult = hresult;
        this.code = code;
    }

    /** The HRESULT as Windows reports it, e.g. 0x80090008. */
    public int hresult() {
        return hresult;
    }

    public ErrorCode code() {
        return code;
    }

    /** "NTE_BAD_ALGID (0x80090008)". */
    public String label() {
        return name() + String.format(" (0x%08X)", hresult);
    }
}
