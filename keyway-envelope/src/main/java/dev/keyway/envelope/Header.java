package dev.keyway.envelope;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.BlobScheme;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.encoding.ByteReader;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.identity.OwnerName;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.SessionKey;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An envelope header (docs/FORMAT.md): the stanzas, the payload parameters, the metadata, the key
 * commitment and, once written or read, its encoding and MAC. Immutable.
 */
public final class Header {
    static final byte[] MAGIC = {'K', 'W', 'E', 'N'};
    /** The newest version this Keyway reads and writes (docs/FORMAT.md): 2, version 1 with a bound escrow stanza. */
    public static final int VERSION = 2;
    /** The first version, still read; written when a header has no escrow stanza, so such files stay readable by older Keyway. */
    public static final int VERSION_1 = 1;
    public static final int DEFAULT_MAX_RECIPIENTS = 256;
    /** {@link KeywayException#hintId()}: a header longer than the recipient limit allows. */
    public static final String HINT_RECIPIENT_LIMIT_OR_DAMAGED = "envelope.recipient-limit-or-damaged";
    /** {@link KeywayException#hintId()}: a file with more recipients than the limit. */
    public static final String HINT_RECIPIENT_LIMIT_EXPECTED = "envelope.recipient-limit-expected";
    static final int PREFIX_LENGTH = 4 + 1 + 4;
    static final int MAC_LENGTH = 32;
    static final int CHUNK_SHIFT = 16;
    static final int MAX_CONTENT_TYPE = 255;
    static final int MAX_SENDER = 4096;
    static final int MAX_RECIPE = 256;

    static final int T_RECIPIENT = 0x0001;
    static final int T_PASSPHRASE = 0x0002;
    static final int T_ESCROW = 0x0003;
    static final int T_PAYLOAD = 0x0010;
    static final int T_MESSAGE_ID = 0x0011;
    static final int T_CREATED = 0x0012;
    static final int T_EXPIRES = 0x0013;
    static final int T_SERIAL = 0x0014;
    static final int T_CONTENT_TYPE = 0x0015;
    static final int T_SENDER = 0x0016;
    static final int T_COMMITMENT = 0x0017;
    static final int NON_CRITICAL = 0x8000;

    /** A non-critical field this version does not know, kept verbatim so re-keying preserves it. */
    record Extension(int type, byte[] value) {
    }

    private final int version;
    private final List<Stanza> stanzas;
    private final PayloadAead aead;
    private final byte[] payloadNonce;
    private final byte[] messageId;
    private final Instant created;
    private final Instant expires;
    private final Long serial;
    private final String contentType;
    private final Recipient sender;
    private final byte[] commitment;
    private final List<Extension> extensions;
    private final byte[] encoded;
    private final byte[] mac;

    Header(HeaderBuilder b) {
        this.version = b.version;
        for (Stanza s : b.stanzas) {
            if (s instanceof Stanza.Escrow e && (e.owner() == null) != (version == VERSION_1)) {
                throw new IllegalArgumentException("a version " + version + " escrow stanza " + (version == VERSION_1
                        ? "names no owner" : "names its owner"));
            }
        }
        this.stanzas = List.copyOf(b.stanzas);
        this.aead = Objects.requireNonNull(b.aead);
        this.payloadNonce = b.payloadNonce.clone();
        this.messageId = b.messageId.clone();
        this.created = Objects.requireNonNull(b.created);
        this.expires = b.expires;
        this.serial = b.serial;
        this.contentType = b.contentType;
        this.sender = b.sender;
        this.commitment = b.commitment.clone();
        this.extensions = List.copyOf(b.extensions);
        this.encoded = b.encoded;
        this.mac = b.mac;
    }

    /** A builder holding this header's fields, without its encoding and MAC (so the result is not sealed). */
    HeaderBuilder toBuilder() {
        return new HeaderBuilder().version(version).stanzas(stanzas).aead(aead).payloadNonce(payloadNonce).messageId(messageId)
                .created(created).expires(expires).serial(serial).contentType(contentType).sender(sender).commitment(commitment)
                .extensions(extensions);
    }

    /** The format version: 1, or 2 for a header with a bound escrow stanza. */
    public int version() {
        return version;
    }

    public List<Stanza> stanzas() {
        return stanzas;
    }

    /** The escrow stanza, or null when the file has none. */
    public Stanza.Escrow escrow() {
        for (Stanza s : stanzas) {
            if (s instanceof Stanza.Escrow e) {
                return e;
            }
        }
        return null;
    }

    /** The escrow stanza's blob (for the authority, bound to the owner and this message), or null when the file has none. */
    public KeyBlob escrowBlob() {
        Stanza.Escrow e = escrow();
        return e == null ? null : e.blob();
    }

    public PayloadAead aead() {
        return aead;
    }

    /** The 16 random bytes that make this file's id. */
    public byte[] messageId() {
        return messageId.clone();
    }

    public String messageIdHex() {
        return Hex.encode(messageId);
    }

    public Instant created() {
        return created;
    }

    /** When the message expires, or null. */
    public Instant expires() {
        return expires;
    }

    /** The sender's serial number, or null. */
    public Long serial() {
        return serial;
    }

    /** The content type, or null when absent (application/octet-stream). */
    public String contentType() {
        return contentType;
    }

    /** The signer's recipient, or null for an unsigned message. */
    public Recipient sender() {
        return sender;
    }

    public boolean signed() {
        return sender != null;
    }

    byte[] payloadNonce() {
        return payloadNonce.clone();
    }

    byte[] commitment() {
        return commitment.clone();
    }

    /** The header bytes from the magic to the end of the fields (what the MAC covers). */
    byte[] encodedWithoutMac() {
        return encoded.clone();
    }

    /** The whole header as it appears in the file, MAC included. */
    byte[] encodedWithMac() {
        byte[] out = Arrays.copyOf(encoded, encoded.length + MAC_LENGTH);
        System.arraycopy(mac, 0, out, encoded.length, MAC_LENGTH);
        return out;
    }

    byte[] mac() {
        return mac.clone();
    }

    /** The number of bytes the header takes in the file. */
    public int length() {
        return encoded.length + MAC_LENGTH;
    }

    /** The same metadata with another stanza set and sender, to be sealed again with {@link #seal}. */
    Header withStanzas(List<Stanza> newStanzas, Recipient newSender) {
        return toBuilder().stanzas(newStanzas).sender(newSender).build();
    }

    /** Encodes the fields and computes the MAC with the file key's MAC key. */
    Header seal(SessionKey fileKey) {
        byte[] enc = encodeWithoutMac();
        return toBuilder().sealed(enc, FileKeys.headerMac(fileKey, enc)).build();
    }

    private byte[] encodeWithoutMac() {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        for (Stanza s : stanzas) {
            if (s instanceof Stanza.ForRecipient r) {
                field(f, T_RECIPIENT, r.blob().encode());
            }
        }
        for (Stanza s : stanzas) {
            if (s instanceof Stanza.ForPassphrase p) {
                field(f, T_PASSPHRASE, prefixed(p.recipe().getBytes(StandardCharsets.US_ASCII), p.blob().encode()));
            }
        }
        for (Stanza s : stanzas) {
            if (s instanceof Stanza.Escrow e) {
                if (e.owner() == null) {
                    field(f, T_ESCROW, e.blob().encode());
                } else {
                    field(f, T_ESCROW, prefixed(OwnerName.utf8(e.owner()), e.blob().encode()));
                }
            }
        }
        byte[] payload = new byte[2 + payloadNonce.length];
        payload[0] = (byte) aead.code();
        payload[1] = CHUNK_SHIFT;
        System.arraycopy(payloadNonce, 0, payload, 2, payloadNonce.length);
        field(f, T_PAYLOAD, payload);
        field(f, T_MESSAGE_ID, messageId);
        field(f, T_CREATED, be64(created.toEpochMilli()));
        if (expires != null) {
            field(f, T_EXPIRES, be64(expires.toEpochMilli()));
        }
        if (serial != null) {
            field(f, T_SERIAL, be64(serial));
        }
        if (contentType != null) {
            field(f, T_CONTENT_TYPE, contentType.getBytes(StandardCharsets.UTF_8));
        }
        if (sender != null) {
            field(f, T_SENDER, sender.encode().getBytes(StandardCharsets.US_ASCII));
        }
        field(f, T_COMMITMENT, commitment);
        for (Extension e : extensions) {
            field(f, e.type(), e.value());
        }
        byte[] fields = f.toByteArray();
        ByteArrayOutputStream out = new ByteArrayOutputStream(PREFIX_LENGTH + fields.length);
        out.writeBytes(MAGIC);
        out.write(version);
        out.writeBytes(be32(fields.length));
        out.writeBytes(fields);
        return out.toByteArray();
    }

    /** {@code length:u16 head rest}: how a stanza carries a recipe or an owner before its key blob. */
    private static byte[] prefixed(byte[] head, byte[] rest) {
        byte[] v = new byte[2 + head.length + rest.length];
        v[0] = (byte) (head.length >>> 8);
        v[1] = (byte) head.length;
        System.arraycopy(head, 0, v, 2, head.length);
        System.arraycopy(rest, 0, v, 2 + head.length, rest.length);
        return v;
    }

    private static void field(ByteArrayOutputStream f, int type, byte[] value) {
        f.write(type >>> 8);
        f.write(type);
        f.writeBytes(be32(value.length));
        f.writeBytes(value);
    }

    static byte[] be32(int v) {
        return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
    }

    static byte[] be64(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (56 - 8 * i));
        }
        return b;
    }

    static long maxFieldsLength(int maxRecipients) {
        return (long) maxRecipients * KeyBlob.MAX_SIZE + 65536;
    }

    /**
     * Reads a header from the start of {@code in}. Everything that is wrong with it is reported as
     * AUTH_FAILED (exit 3): the header is authenticated data, and a damaged header must be reported the
     * same way wherever the damage is. Too many recipients is a POLICY refusal.
     */
    static Header read(InputStream in, int maxRecipients) throws IOException {
        byte[] prefix = in.readNBytes(PREFIX_LENGTH);
        if (prefix.length == 0) {
            throw KeywayException.usage("the input is empty", "give a file made by 'keyway encrypt'");
        }
        if (prefix.length < 4 || !Arrays.equals(Arrays.copyOf(prefix, 4), MAGIC)) {
            throw damaged("this is not a Keyway encrypted file (or its first bytes are damaged)",
                    "give a file made by 'keyway encrypt'");
        }
        if (prefix.length < PREFIX_LENGTH) {
            throw damaged("the encrypted file is truncated inside its header", "give the whole file");
        }
        int version = prefix[4] & 0xff;
        if (version != VERSION && version != VERSION_1) {
            throw damaged("envelope version " + version + " is not supported (a newer format, or a damaged header)",
                    "this Keyway reads versions " + VERSION_1 + " and " + VERSION + "; upgrade Keyway, or get an intact copy");
        }
        long fieldsLength = ((prefix[5] & 0xffL) << 24) | ((prefix[6] & 0xff) << 16) | ((prefix[7] & 0xff) << 8) | (prefix[8] & 0xff);
        long max = maxFieldsLength(maxRecipients);
        if (fieldsLength > max) {
            throw damaged("the header claims " + fieldsLength + " bytes, more than the " + max + " allowed for "
                    + maxRecipients + " recipients", "the file is damaged, or has more recipients: raise the recipient limit")
                    .hintId(HINT_RECIPIENT_LIMIT_OR_DAMAGED);
        }
        byte[] fields = in.readNBytes((int) fieldsLength);
        byte[] mac = in.readNBytes(MAC_LENGTH);
        if (fields.length < fieldsLength || mac.length < MAC_LENGTH) {
            throw damaged("the encrypted file is truncated inside its header", "give the whole file");
        }
        byte[] encoded = Arrays.copyOf(prefix, PREFIX_LENGTH + fields.length);
        System.arraycopy(fields, 0, encoded, PREFIX_LENGTH, fields.length);
        try {
            return parseFields(version, fields, encoded, mac, maxRecipients);
        } catch (TooManyRecipients e) {
            throw e;
        } catch (KeywayException e) {
            // Whatever a field's parser said (malformed, a secret key where a recipient belongs, ...), the
            // header is authenticated data that did not parse: damage.
            throw damaged("the header is damaged or was altered: " + e.getMessage(), "get an intact copy of the file");
        }
    }

    /** The one header refusal that is policy, not damage. */
    private static final class TooManyRecipients extends KeywayException {
        TooManyRecipients(int max) {
            super(ErrorCode.POLICY, "the file has more than " + max + " recipients", "raise the recipient limit if you expect that many");
            hintId(HINT_RECIPIENT_LIMIT_EXPECTED);
        }
    }

    private static Header parseFields(int version, byte[] fields, byte[] encoded, byte[] mac, int maxRecipients) {
        ByteReader r = new ByteReader(fields, "envelope header");
        HeaderBuilder h = new HeaderBuilder().version(version).sealed(encoded, mac);
        int lastType = -1;
        int recipients = 0;
        while (r.remaining() > 0) {
            int type = r.u16();
            long length = r.u32();
            if (length > r.remaining()) {
                throw KeywayException.malformed("field 0x" + hex16(type) + " runs past the end of the header", "");
            }
            byte[] v = r.bytes((int) length);
            if (type < lastType || (type == lastType && type != T_RECIPIENT)) {
                throw KeywayException.malformed("field 0x" + hex16(type) + " is out of order or repeated", "");
            }
            lastType = type;
            switch (type) {
                case T_RECIPIENT -> {
                    if (++recipients > maxRecipients) {
                        throw new TooManyRecipients(maxRecipients);
                    }
                    h.stanza(new Stanza.ForRecipient(publicKeyBlob(v)));
                }
                case T_PASSPHRASE -> h.stanza(passphraseStanza(v));
                case T_ESCROW -> h.stanza(version == VERSION_1 ? new Stanza.Escrow(publicKeyBlob(v), null) : boundEscrow(v));
                case T_PAYLOAD -> payload(h, v);
                case T_MESSAGE_ID -> h.messageId(size(v, 16, "message id"));
                case T_CREATED -> h.created(Instant.ofEpochMilli(be64(size(v, 8, "created"))));
                case T_EXPIRES -> h.expires(Instant.ofEpochMilli(be64(size(v, 8, "expires"))));
                case T_SERIAL -> h.serial(be64(size(v, 8, "serial")));
                case T_CONTENT_TYPE -> {
                    if (v.length == 0 || v.length > MAX_CONTENT_TYPE) {
                        throw KeywayException.malformed("content type has " + v.length + " bytes (1 to 255 allowed)", "");
                    }
                    h.contentType(new String(v, StandardCharsets.UTF_8));
                }
                case T_SENDER -> {
                    if (v.length > MAX_SENDER) {
                        throw KeywayException.malformed("sender field is too long", "");
                    }
                    h.sender(Recipient.parse(new String(v, StandardCharsets.US_ASCII)));
                }
                case T_COMMITMENT -> h.commitment(size(v, 32, "commitment"));
                default -> {
                    if ((type & NON_CRITICAL) == 0) {
                        throw new KeywayException(ErrorCode.UNSUPPORTED, "unsupported critical header field 0x" + hex16(type)
                                + " (written by a newer Keyway?)", "");
                    }
                    h.extension(new Extension(type, v));
                }
            }
        }
        return h.buildParsed();
    }

    /** A passphrase stanza: {@code recipe_length:u16 recipe key_blob}, the blob an AES-KWP one. */
    private static Stanza.ForPassphrase passphraseStanza(byte[] v) {
        ByteReader p = new ByteReader(v, "passphrase stanza");
        byte[] recipe = p.bytes16(MAX_RECIPE, "recipe");
        byte[] blob = p.bytes(p.remaining());
        KeyBlob kb = KeyBlob.decode(blob);
        if (kb.scheme() != BlobScheme.AES_KWP) {
            throw KeywayException.malformed("the passphrase stanza does not hold an AES-KWP key blob", "");
        }
        return new Stanza.ForPassphrase(new String(recipe, StandardCharsets.US_ASCII), kb);
    }

    /** The payload field: {@code aead:u8 chunk_shift:u8 nonce[16]}. */
    private static void payload(HeaderBuilder h, byte[] v) {
        size(v, 2 + 16, "payload");
        PayloadAead aead = PayloadAead.byCode(v[0] & 0xff);
        if (aead == null) {
            throw new KeywayException(ErrorCode.UNSUPPORTED, "unknown payload cipher " + (v[0] & 0xff), "");
        }
        if ((v[1] & 0xff) != CHUNK_SHIFT) {
            throw new KeywayException(ErrorCode.UNSUPPORTED, "unsupported chunk size 2^" + (v[1] & 0xff), "");
        }
        h.aead(aead).payloadNonce(Arrays.copyOfRange(v, 2, v.length));
    }

    /** A version 2 escrow stanza: {@code owner_length:u16 owner key_blob}, the owner in canonical form. */
    private static Stanza.Escrow boundEscrow(byte[] v) {
        ByteReader r = new ByteReader(v, "escrow stanza");
        byte[] ownerBytes = r.bytes16(OwnerName.MAX_BYTES, "owner");
        String owner;
        try {
            owner = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(ownerBytes)).toString();
        } catch (CharacterCodingException e) {
            throw KeywayException.malformed("the escrow stanza's owner is not UTF-8", "");
        }
        if (!OwnerName.isNormalized(owner)) {
            throw KeywayException.malformed("the escrow stanza's owner is not a name in canonical form", "");
        }
        return new Stanza.Escrow(publicKeyBlob(r.bytes(r.remaining())), owner);
    }

    /** A recipient or escrow stanza's blob: wrapped for a public key, never under a key-encryption key. */
    private static KeyBlob publicKeyBlob(byte[] v) {
        KeyBlob kb = KeyBlob.decode(v);
        if (kb.scheme() == BlobScheme.AES_KWP) {
            throw KeywayException.malformed("a recipient stanza holds an AES-KWP key blob", "");
        }
        return kb;
    }

    private static byte[] size(byte[] v, int n, String what) {
        if (v.length != n) {
            throw KeywayException.malformed(what + " field has " + v.length + " bytes, not " + n, "");
        }
        return v;
    }

    private static long be64(byte[] b) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    private static String hex16(int type) {
        return String.format("%04x", type);
    }

    static KeywayException damaged(String message, String hint) {
        return new KeywayException(ErrorCode.AUTH_FAILED, message, hint);
    }

    @Override
    public String toString() {
        return "Header[" + stanzas.size() + " stanzas, message " + messageIdHex() + "]";
    }
}
