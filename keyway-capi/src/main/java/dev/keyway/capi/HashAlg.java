package dev.keyway.capi;

import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.digests.MD2Digest;
import org.bouncycastle.crypto.digests.MD4Digest;
import org.bouncycastle.crypto.digests.MD5Digest;
import org.bouncycastle.crypto.digests.SHA1Digest;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.digests.SHA384Digest;
import org.bouncycastle.crypto.digests.SHA512Digest;

import java.util.Locale;
import java.util.function.Supplier;

/** The CryptoAPI hash algorithms CryptDeriveKey takes, with their ALG_IDs (wincrypt.h). */
public enum HashAlg {
    MD2(0x8001, "md2", MD2Digest::new),
    MD4(0x8002, "md4", MD4Digest::new),
    MD5(0x8003, "md5", MD5Digest::new),
    SHA1(0x8004, "sha1", SHA1Digest::new),
    SHA_256(0x800c, "sha256", SHA256Digest::new),
    SHA_384(0x800d, "sha384", SHA384Digest::new),
    SHA_512(0x800e, "sha512", SHA512Digest::new);

    private final int algId;
    private final String cliName;
    private final Supplier<Digest> digest;

    HashAlg(int algId, String cliName, Supplier<Digest> digest) {
        this.algId = algId;
        this.cliName = cliName;
        this.digest = digest;
    }

    public int algId() {
        return algId;
    }

    public String cliName() {
        return cliName;
    }

    /** Output length in bytes. */
    public int length() {
        return digest.get().getDigestSize();
    }

    public boolean isSha2() {
        return this == SHA_256 || this == SHA_384 || this == SHA_512;
    }

    /** The hash of {@code data} (CryptHashData then HP_HASHVAL). */
    public byte[] hash(byte[] data) {
        Digest d = digest.get();
        d.update(data, 0, data.length);
        byte[] out = new byte[d.getDigestSize()];
        d.doFinal(out, 0);
        return out;
    }

    /** By command-line name ("md5", "sha1", "sha256", ...), CALG name ("CALG_SHA_256") or hex ALG_ID ("0x8004"). */
    public static HashAlg parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("calg_", "").replace("_", "");
        if (t.equals("sha")) {
            return SHA1; // CALG_SHA is CALG_SHA1 in wincrypt.h
        }
        for (HashAlg h : values()) {
            if (h.cliName.equals(t) || String.format("0x%04x", h.algId).equals(t) || String.format("0x%08x", h.algId).equals(t)) {
                return h;
            }
        }
        throw new CapiException(CapiError.NTE_BAD_ALGID, "'" + text + "' is not a CryptoAPI hash",
                "use md2, md4, md5, sha1, sha256, sha384 or sha512");
    }

    /** The hash with this ALG_ID, or a refusal as Windows gives it. */
    public static HashAlg ofAlgId(int algId) {
        for (HashAlg h : values()) {
            if (h.algId == algId) {
                return h;
            }
        }
        throw new CapiException(CapiError.NTE_BAD_ALGID, String.format("ALG_ID 0x%04X is not a hash", algId),
                "use a CALG_MD*/CALG_SHA* algorithm");
    }
}
