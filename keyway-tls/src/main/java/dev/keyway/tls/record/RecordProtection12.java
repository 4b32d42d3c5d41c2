package dev.keyway.tls.record;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * One direction's TLS 1.2 record protection (RFC 5246 section 6.2.3): record version 0x0303, the real
 * content type in the header, and the sequence number inside what is authenticated (so a replayed,
 * dropped or reordered record does not open).
 *
 * <p>AEAD suites (section 6.2.3.3) authenticate seq_num || type || version || plaintext length. AES-GCM
 * (RFC 5288) sends an 8-byte explicit nonce after the header; we send the sequence number there, which
 * never repeats under one key, and take whatever the peer sends. ChaCha20-Poly1305 (RFC 7905) sends no
 * nonce: it is the 12-byte IV XOR the sequence number, as in TLS 1.3.
 *
 * <p>CBC suites (section 6.2.3.2) are MAC-then-encrypt: HMAC over seq_num || type || version || length ||
 * content, then padding, then AES-CBC under a fresh random IV sent in front. Opening them is where the
 * padding-oracle and Lucky Thirteen attacks live, so the check does the same work whatever the padding
 * says (after AlFardan and Paterson's fix, as OpenSSL and s2n do it):
 * <ul>
 * <li>The padding is checked with masks over the last min(256, n) bytes of the n-byte plaintext, the most
 *     a padding can cover, so the loop runs as long for a 0-byte padding as for a 255-byte one. A bad
 *     padding is then treated as no padding (the MAC is computed over everything before the last MAC-sized
 *     bytes), so a bad padding costs a MAC check like a good one.</li>
 * <li>The received MAC sits at a secret offset; it is copied out with masks over every place it could be
 *     (a rotated copy, then a masked rotation back), never with an index or an array copy at that offset.</li>
 * <li>HMAC's cost is its number of compression-function calls, which grows with the content length, and the
 *     content length depends on the padding length: the timing Lucky Thirteen measures. After the real MAC
 *     we MAC filler bytes whose length makes the two HMACs together cost the same number of compression
 *     calls for every padding length, and hash the same number of bytes ({@link #fillerLength}).</li>
 * <li>The MACs are compared with {@link MessageDigest#isEqual} (constant time since JDK 6u17) and every
 *     failure, short or misaligned fragments included, is the same bad_record_mac with the same message:
 *     RFC 5246 forbids decryption_failed, which told the padding from the MAC apart.</li>
 * </ul>
 * Limits: Java promises nothing about timing. The JIT may turn mask arithmetic into branches (it does not
 * today for these shapes); the JCA HMAC and AES are not documented as constant time (AES runs on AES-NI,
 * SHA on its intrinsics; both take time linear in the blocks processed); the two HMAC updates still split
 * at a secret offset, so the bytes buffered between blocks (under one block) and the cache lines touched
 * there differ with the padding; allocation and GC add noise of their own. This removes the remotely
 * measurable differences the papers exploited; it is not a proof against a local cache-timing observer.
 * Keyway does not offer encrypt_then_mac (RFC 7366), which avoids all of this: CBC is a legacy option for
 * peers that predate it, and modern peers get the AEAD suites.
 */
public final class RecordProtection12 implements RecordProtection {
    private static final int TAG = 16;
    private static final int AAD = 13;
    private static final int VERSION = 0x0303;
    /** A padding covers at most 256 bytes: 255 padding bytes and the length byte (RFC 5246 section 6.2.3.2). */
    private static final int MAX_PADDING = 256;
    /** The longest filler {@link #fillerLength} asks for: the padding range plus one hash block. */
    private static final byte[] FILLER = new byte[MAX_PADDING + 128];
    private static final String UNOPENED = "a record did not decrypt (tampered, or keys out of step)";

    private final CipherSuite.Cipher kind;
    private final SecretKeySpec key;
    private final byte[] aad = new byte[AAD];
    private long seq;

    // AEAD: the fixed IV from the key block and the nonce built from it.
    private final byte[] iv;
    private final byte[] nonce;

    // CBC: the MAC, its length and hash block geometry, and where explicit IVs come from.
    private final Mac mac;
    private final int macLength;
    private final int hashBlock;
    private final int hashTrailer;
    private final Consumer<byte[]> explicitIvs;
    private final byte[] cbcIv;
    private final byte[] tail;
    private final byte[] rotated;
    private final byte[] received;

    private Cipher cipher;

    /**
     * Protection for one direction of {@code suite}, from that side's part of the key block (RFC 5246
     * section 6.3): {@code key}, {@code iv} (the AEAD fixed IV; empty for CBC) and {@code macKey} (CBC only;
     * empty for AEAD). The key arrays are zeroed once copied.
     */
    public RecordProtection12(CipherSuite suite, byte[] key, byte[] iv, byte[] macKey) {
        this(suite, key, iv, macKey, new SecureRandom()::nextBytes);
    }

    /** As above, with the source of CBC explicit IVs given: tests make records reproducible with it. */
    RecordProtection12(CipherSuite suite, byte[] key, byte[] iv, byte[] macKey, Consumer<byte[]> explicitIvs) {
        if (suite.tls13() || !suite.usableWith(TlsVersion.TLS12)) {
            throw new IllegalArgumentException(suite.name() + " is not a TLS 1.2 suite");
        }
        this.kind = suite.cipher();
        if (key.length != kind.keyLength() || iv.length != suite.fixedIvLength(TlsVersion.TLS12)) {
            throw new IllegalArgumentException("wrong key or IV length for " + suite.name());
        }
        boolean chacha = kind == CipherSuite.Cipher.CHACHA20_POLY1305;
        this.key = new SecretKeySpec(key, chacha ? "ChaCha20" : "AES");
        Arrays.fill(key, (byte) 0);
        try {
            if (kind.aead()) {
                if (macKey.length != 0) {
                    throw new IllegalArgumentException(suite.name() + " takes no MAC key");
                }
                this.iv = iv.clone();
                this.nonce = new byte[kind.fixedIvLength() + kind.explicitNonceLength()];
                this.cipher = Cipher.getInstance(chacha ? "ChaCha20-Poly1305" : "AES/GCM/NoPadding");
                this.mac = null;
                this.macLength = 0;
                this.hashBlock = 0;
                this.hashTrailer = 0;
                this.explicitIvs = null;
                this.cbcIv = null;
                this.tail = null;
                this.rotated = null;
                this.received = null;
            } else {
                CipherSuite.MacAlgorithm m = suite.mac();
                if (macKey.length != m.keyLength()) {
                    throw new IllegalArgumentException("wrong MAC key length for " + suite.name());
                }
                this.iv = null;
                this.nonce = null;
                this.cipher = Cipher.getInstance("AES/CBC/NoPadding");
                this.mac = Mac.getInstance(m.jcaName());
                this.mac.init(new SecretKeySpec(macKey, m.jcaName()));
                this.macLength = m.keyLength();
                // SHA-384 hashes 128-byte blocks and ends with 0x80 and a 16-byte length; SHA-1 and SHA-256
                // hash 64-byte blocks and end with 0x80 and an 8-byte length.
                boolean wide = m == CipherSuite.MacAlgorithm.SHA384;
                this.hashBlock = wide ? 128 : 64;
                this.hashTrailer = wide ? 17 : 9;
                this.explicitIvs = explicitIvs;
                this.cbcIv = new byte[kind.blockSize()];
                this.tail = new byte[macLength + kind.blockSize()];
                this.rotated = new byte[macLength];
                this.received = new byte[macLength];
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks " + kind + " or " + suite.mac(), e);
        } finally {
            Arrays.fill(macKey, (byte) 0);
        }
    }

    @Override
    public int expansion() {
        if (kind.aead()) {
            return RecordLayer.HEADER + kind.explicitNonceLength() + TAG;
        }
        return RecordLayer.HEADER + kind.blockSize() + macLength + kind.blockSize();
    }

    @Override
    public int maxCiphertext() {
        return RecordLayer.MAX_CIPHERTEXT;
    }

    @Override
    public long sequence() {
        return seq;
    }

    /** seq_num || type || version || length, what both AEAD and MAC authenticate besides the content. */
    private void additionalData(int type, int version, int length) {
        for (int i = 0; i < 8; i++) {
            aad[i] = (byte) (seq >>> (56 - 8 * i));
        }
        aad[8] = (byte) type;
        aad[9] = (byte) (version >> 8);
        aad[10] = (byte) version;
        aad[11] = (byte) (length >> 8);
        aad[12] = (byte) length;
    }

    @Override
    public int seal(int type, byte[] src, int off, int len, byte[] dst, int at) {
        try {
            return kind.aead() ? sealAead(type, src, off, len, dst, at) : sealCbc(type, src, off, len, dst, at);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("record encryption failed", e);
        }
    }

    @Override
    public RecordLayer.Record open(byte[] buf, int off, int fragmentLength) {
        if (fragmentLength > maxCiphertext()) {
            throw TlsException.fatal(Alert.RECORD_OVERFLOW, "record of " + fragmentLength + " bytes (limit " + maxCiphertext() + ")");
        }
        RecordLayer.Record r;
        try {
            r = kind.aead() ? openAead(buf, off, fragmentLength) : openCbc(buf, off, fragmentLength);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("record decryption failed", e);
        }
        if (r == null) {
            throw TlsException.fatal(Alert.BAD_RECORD_MAC, UNOPENED);
        }
        seq++;
        if (r.length() > RecordLayer.MAX_FRAGMENT) {
            throw TlsException.fatal(Alert.RECORD_OVERFLOW, "plaintext over 2^14 bytes");
        }
        return r;
    }

    // ---- AEAD ----

    private void initAead(int mode, byte[] buf, int explicitAt) throws GeneralSecurityException {
        if (kind == CipherSuite.Cipher.CHACHA20_POLY1305) {
            System.arraycopy(iv, 0, nonce, 0, iv.length);
            for (int i = 0; i < 8; i++) {
                nonce[nonce.length - 1 - i] ^= (byte) (seq >>> (8 * i));
            }
            cipher.init(mode, key, new IvParameterSpec(nonce));
        } else {
            System.arraycopy(iv, 0, nonce, 0, iv.length);
            System.arraycopy(buf, explicitAt, nonce, iv.length, kind.explicitNonceLength());
            cipher.init(mode, key, new GCMParameterSpec(TAG * 8, nonce));
        }
        cipher.updateAAD(aad);
    }

    private int sealAead(int type, byte[] src, int off, int len, byte[] dst, int at) throws GeneralSecurityException {
        int explicit = kind.explicitNonceLength();
        int length = explicit + len + TAG;
        RecordLayer.header(dst, at, type, VERSION, length);
        int body = at + RecordLayer.HEADER;
        for (int i = 0; i < explicit; i++) {
            dst[body + i] = (byte) (seq >>> (8 * (explicit - 1 - i)));
        }
        additionalData(type, VERSION, len);
        initAead(Cipher.ENCRYPT_MODE, dst, body);
        int n = cipher.doFinal(src, off, len, dst, body + explicit);
        if (n != len + TAG) {
            throw new IllegalStateException("sealed " + n + " bytes, expected " + (len + TAG));
        }
        seq++;
        return RecordLayer.HEADER + length;
    }

    /** The record, or null when it does not authenticate. */
    private RecordLayer.Record openAead(byte[] buf, int off, int fragmentLength) throws GeneralSecurityException {
        int explicit = kind.explicitNonceLength();
        int length = fragmentLength - explicit - TAG;
        if (length < 0) {
            return null;
        }
        int body = off + RecordLayer.HEADER;
        additionalData(buf[off] & 0xff, ((buf[off + 1] & 0xff) << 8) | (buf[off + 2] & 0xff), length);
        try {
            initAead(Cipher.DECRYPT_MODE, buf, body);
            byte[] plain = cipher.doFinal(buf, body + explicit, fragmentLength - explicit);
            return new RecordLayer.Record(buf[off] & 0xff, plain, plain.length);
        } catch (AEADBadTagException e) {
            if (kind == CipherSuite.Cipher.CHACHA20_POLY1305) {
                // The JDK refuses to init ChaCha20-Poly1305 twice in a row with one key and nonce, decryption
                // included; after a failure the sequence number has not moved, so the next open would.
                cipher = Cipher.getInstance("ChaCha20-Poly1305");
            }
            return null;
        }
    }

    // ---- CBC, MAC-then-encrypt ----

    private int sealCbc(int type, byte[] src, int off, int len, byte[] dst, int at) throws GeneralSecurityException {
        int block = kind.blockSize();
        int padding = block - (len + macLength) % block; // 1 to 16 bytes, each holding padding - 1
        int length = block + len + macLength + padding;
        RecordLayer.header(dst, at, type, VERSION, length);
        additionalData(type, VERSION, len);
        mac.update(aad);
        mac.update(src, off, len);
        mac.doFinal(tail, 0);
        Arrays.fill(tail, macLength, macLength + padding, (byte) (padding - 1));
        explicitIvs.accept(cbcIv);
        int body = at + RecordLayer.HEADER;
        System.arraycopy(cbcIv, 0, dst, body, block);
        cipher.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(cbcIv));
        int n = cipher.update(src, off, len, dst, body + block);
        n += cipher.doFinal(tail, 0, macLength + padding, dst, body + block + n);
        Arrays.fill(tail, (byte) 0);
        if (n != length - block) {
            throw new IllegalStateException("sealed " + n + " bytes, expected " + (length - block));
        }
        seq++;
        return RecordLayer.HEADER + length;
    }

    /**
     * The record, or null when the padding or the MAC is wrong, with the same work either way (see the class
     * comment). Only the fragment length, which the network sees anyway, decides any branch before the end.
     */
    private RecordLayer.Record openCbc(byte[] buf, int off, int fragmentLength) throws GeneralSecurityException {
        int block = kind.blockSize();
        int n = fragmentLength - block; // the plaintext: content, MAC, padding
        if (fragmentLength % block != 0 || n < macLength + 1) {
            return null;
        }
        int body = off + RecordLayer.HEADER;
        cipher.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(buf, body, block));
        byte[] plain = cipher.doFinal(buf, body + block, n);

        // The padding: pad + 1 bytes, each holding pad, after content and MAC; checked over the most it can cover.
        int pad = plain[n - 1] & 0xff;
        int good = ~lessThan(n, macLength + pad + 1);
        int checked = Math.min(MAX_PADDING, n);
        for (int i = 1; i < checked; i++) {
            int inPadding = ~lessThan(pad, i);
            good &= ~(inPadding & ((plain[n - 1 - i] & 0xff) ^ pad));
        }
        good = equal(good & 0xff, 0xff);
        int content = n - macLength - (good & (pad + 1));

        // The received MAC, plain[content, content + macLength), copied out without indexing by content.
        int scanStart = Math.max(0, n - macLength - MAX_PADDING);
        int macEnd = content + macLength;
        Arrays.fill(rotated, (byte) 0);
        int rotation = 0;
        int j = 0;
        for (int i = scanStart; i < n; i++) {
            int inMac = ~lessThan(i, content) & lessThan(i, macEnd);
            rotation |= j & equal(i, content);
            rotated[j] |= (byte) (plain[i] & inMac);
            j++;
            j &= lessThan(j, macLength);
        }
        for (int k = 0; k < macLength; k++) {
            int from = rotation + k;
            from -= macLength & ~lessThan(from, macLength);
            int b = 0;
            for (int i = 0; i < macLength; i++) {
                b |= rotated[i] & equal(i, from);
            }
            received[k] = (byte) b;
        }

        additionalData(buf[off] & 0xff, ((buf[off + 1] & 0xff) << 8) | (buf[off + 2] & 0xff), content);
        mac.update(aad);
        mac.update(plain, 0, content);
        byte[] expected = mac.doFinal();
        mac.update(FILLER, 0, fillerLength(n - macLength, content, hashBlock, hashTrailer));
        mac.doFinal();

        boolean ok = MessageDigest.isEqual(expected, received) & good != 0;
        if (!ok) {
            return null;
        }
        return new RecordLayer.Record(buf[off] & 0xff, plain, content);
    }

    /**
     * Bytes of filler to MAC after the real MAC over {@code content} bytes (of at most {@code maxContent}),
     * so the two HMACs together always hash the same number of bytes and make the same number of
     * compression-function calls, whatever {@code content} is.
     *
     * <p>HMAC's inner hash over an m-byte message compresses ceil((b + m + t) / b) blocks: the key block, the
     * message, the hash's trailer of t bytes (0x80 and the length), for hash block size b. The real MAC
     * hashes m = 13 + c, the filler MAC m = T - c for a total T of our choice; with x and y the two
     * numerators minus one, floor(x / b) + floor(y / b) is the same for every split of x + y exactly when
     * x + y = -1 mod b. So T is the smallest total at or above {@code maxContent} with
     * T = -(2t + 12) mod b. The outer hashes are fixed size.
     */
    static int fillerLength(int maxContent, int content, int hashBlock, int hashTrailer) {
        int total = maxContent + Math.floorMod(-(2 * hashTrailer + 12) - maxContent, hashBlock);
        return total - content;
    }

    // Masks for values in [0, 2^30): all ones when the relation holds, else zero, with no branch.

    private static int lessThan(int a, int b) {
        return (a - b) >> 31;
    }

    private static int equal(int a, int b) {
        return ((a ^ b) - 1) >> 31;
    }
}
