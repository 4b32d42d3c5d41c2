package dev.keyway.core.blob;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.armor.Armor;
import dev.keyway.core.encoding.ByteReader;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.keys.Algorithm;
import dev.keyway.core.keys.Algorithms;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * A session key wrapped for one recipient or under one key-encryption key. Binary layout (big-endian):
 *
 * <pre>
 * "KWKB" | version 0x01 | scheme u8 | algorithm id u8 | recipient id (8 bytes)     -- the header
 *        | encapsulation (u16 length, at most 2048) | ciphertext (u16 length, at most 1024)
 * </pre>
 *
 * The header is authenticated: it is the HPKE associated data, the OAEP label; for AES-KWP, whose RFC 5649
 * form has no associated data, the header is not authenticated but the key bytes are. The text form is
 * the binary armored as {@code KEY BLOB}.
 */
public final class KeyBlob {
    public static final String ARMOR_LABEL = "KEY BLOB";
    public static final int VERSION = 1;
    static final byte[] MAGIC = {'K', 'W', 'K', 'B'};
    static final int HEADER_LENGTH = 4 + 1 + 1 + 1 + 8;
    static final int MAX_ENC = 2048;
    static final int MAX_CT = 1024;
    public static final int MAX_SIZE = HEADER_LENGTH + 2 + MAX_ENC + 2 + MAX_CT;

    private final BlobScheme scheme;
    private final Algorithm algorithm;
    private final byte[] recipientId;
    private final byte[] encapsulation;
    private final byte[] ciphertext;

    KeyBlob(BlobScheme scheme, Algorithm algorithm, byte[] recipientId, byte[] encapsulation, byte[] ciphertext) {
        this.scheme = Objects.requireNonNull(scheme);
        this.algorithm = Objects.requireNonNull(algorithm);
        if (recipientId.length != 8) {
            throw new IllegalArgumentException("recipient id must be 8 bytes");
        }
        if (encapsulation.length > MAX_ENC || ciphertext.length > MAX_CT) {
            throw new IllegalArgumentException("blob field too long");
        }
        this.recipientId = recipientId.clone();
        this.encapsulation = encapsulation.clone();
        this.ciphertext = ciphertext.clone();
    }

    public BlobScheme scheme() {
        return scheme;
    }

    /** The algorithm of the wrapped session key. */
    public Algorithm algorithm() {
        return algorithm;
    }

    /** The id of the recipient (or key-encryption key) it was wrapped for. */
    public byte[] recipientId() {
        return recipientId.clone();
    }

    public String recipientIdHex() {
        return Hex.encode(recipientId);
    }

    /** The header bytes that HPKE and OAEP bind the wrapped key to. */
    static byte[] header(BlobScheme scheme, Algorithm algorithm, byte[] recipientId) {
        byte[] h = new byte[HEADER_LENGTH];
        System.arraycopy(MAGIC, 0, h, 0, 4);
        h[4] = VERSION;
        h[5] = (byte) scheme.code();
        h[6] = (byte) algorithm.id();
        System.arraycopy(recipientId, 0, h, 7, 8);
        return h;
    }

    byte[] header() {
        return header(scheme, algorithm, recipientId);
    }

    byte[] encapsulation() {
        return encapsulation.clone();
    }

    byte[] ciphertext() {
        return ciphertext.clone();
    }

    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(HEADER_LENGTH + 4 + encapsulation.length + ciphertext.length);
        out.writeBytes(header());
        out.write(encapsulation.length >>> 8);
        out.write(encapsulation.length);
        out.writeBytes(encapsulation);
        out.write(ciphertext.length >>> 8);
        out.write(ciphertext.length);
        out.writeBytes(ciphertext);
        return out.toByteArray();
    }

    /** The armored text form. */
    public String armor() {
        return Armor.encode(ARMOR_LABEL, encode());
    }

    /** Parses the binary form. */
    public static KeyBlob decode(byte[] data) {
        if (data.length > MAX_SIZE) {
            throw KeywayException.malformed("key blob is too large (" + data.length + " bytes, at most " + MAX_SIZE + ")",
                    "check that this is a key blob");
        }
        ByteReader r = new ByteReader(data, "key blob");
        if (!Arrays.equals(r.bytes(4), MAGIC)) {
            throw KeywayException.malformed("not a Keyway key blob (bad magic)", "give a blob made by 'keyway key wrap'");
        }
        int version = r.u8();
        if (version != VERSION) {
            throw new KeywayException(ErrorCode.UNSUPPORTED, "key blob version " + version + " is not supported",
                    "this Keyway reads version " + VERSION + "; upgrade Keyway to read newer blobs");
        }
        int schemeCode = r.u8();
        BlobScheme scheme = BlobScheme.byCode(schemeCode);
        if (scheme == null) {
            throw new KeywayException(ErrorCode.UNSUPPORTED, "key blob uses unknown wrapping scheme " + schemeCode,
                    "upgrade Keyway to read it");
        }
        int algId = r.u8();
        Algorithm alg = Algorithms.byId(algId).orElseThrow(() -> new KeywayException(ErrorCode.UNSUPPORTED,
                "key blob holds a key for unknown algorithm " + algId, "upgrade Keyway to read it"));
        byte[] id = r.bytes(8);
        byte[] enc = r.bytes16(MAX_ENC, "encapsulation");
        byte[] ct = r.bytes16(MAX_CT, "ciphertext");
        r.end();
        checkSizes(scheme, alg, enc.length, ct.length);
        return new KeyBlob(scheme, alg, id, enc, ct);
    }

    /**
     * Each scheme fixes the size of its fields, so a blob whose fields do not fit its scheme (a changed
     * scheme byte, an extra byte in a field the scheme does not use) is refused before any key is touched.
     */
    private static void checkSizes(BlobScheme scheme, Algorithm alg, int enc, int ct) {
        int minKey = alg.keyBytes(alg.minBits());
        int maxKey = alg.keyBytes(alg.maxBits());
        boolean ok = switch (scheme) {
            case HPKE_X25519 -> enc == 32 && ct >= minKey + 16 && ct <= maxKey + 16;
            case HPKE_XWING -> enc == 1120 && ct >= minKey + 16 && ct <= maxKey + 16;
            case HPKE_P256 -> enc == 65 && ct >= minKey + 16 && ct <= maxKey + 16;
            case RSA_OAEP_SHA256 -> enc == 0 && ct == 384;
            // RFC 5649: the key padded to a multiple of 8, plus the 8-byte integrity block.
            case AES_KWP -> enc == 0 && ct % 8 == 0 && ct >= 16 && ct <= ((maxKey + 7) / 8) * 8 + 8;
        };
        if (!ok) {
            throw KeywayException.malformed("key blob fields do not fit its scheme " + scheme.label()
                    + " (encapsulation " + enc + " bytes, ciphertext " + ct + " bytes)", "the blob is corrupted or was altered");
        }
    }

    /** Parses armored text, or the binary form if {@code data} is not armored. */
    public static KeyBlob parse(byte[] data) {
        if (data.length > 0 && data[0] != 'K') {
            String text = new String(data, StandardCharsets.US_ASCII);
            if (!Armor.isArmored(text, ARMOR_LABEL)) {
                throw KeywayException.malformed("input is not a Keyway key blob", "give a blob made by 'keyway key wrap'");
            }
            return decode(Armor.decode(text, ARMOR_LABEL, MAX_SIZE));
        }
        return decode(data);
    }

    @Override
    public String toString() {
        return "KeyBlob[" + scheme.label() + ", " + algorithm.name() + ", for " + recipientIdHex() + "]";
    }
}
