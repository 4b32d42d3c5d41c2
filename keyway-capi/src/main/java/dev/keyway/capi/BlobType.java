package dev.keyway.capi;

/** The bType of a BLOBHEADER (wincrypt.h). */
public enum BlobType {
    SIMPLEBLOB(0x1),
    PUBLICKEYBLOB(0x6),
    PRIVATEKEYBLOB(0x7),
    PLAINTEXTKEYBLOB(0x8),
    SYMMETRICWRAPKEYBLOB(0xB);

    private final int code;

    BlobType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    static BlobType ofCode(int code) {
        for (BlobType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new CapiException(CapiError.NTE_BAD_TYPE, String.format("blob type 0x%02X is not one Keyway reads", code),
                "give a SIMPLEBLOB, PLAINTEXTKEYBLOB, PUBLICKEYBLOB, PRIVATEKEYBLOB or SYMMETRICWRAPKEYBLOB");
    }
}
