package dev.keyway.envelope;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.armor.Armor;
import dev.keyway.core.armor.ArmorInputStream;
import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.kdf.KdfParams;
import dev.keyway.core.kdf.PasswordKdf;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads an envelope (binary or armored): the header first, then, once a file key is found and
 * {@linkplain #authenticate authenticated}, the body chunk by chunk and the signature at the end.
 */
public final class EnvelopeReader {
    /** {@link KeywayException#hintId()}: a passphrase file was given identities. */
    public static final String HINT_USE_PASSPHRASE = "envelope.use-passphrase";
    /** {@link KeywayException#hintId()}: a file for identities was given a passphrase. */
    public static final String HINT_USE_IDENTITY = "envelope.use-identity";
    /** {@link KeywayException#hintId()}: no identity given is a recipient. */
    public static final String HINT_GIVE_RECIPIENT = "envelope.give-recipient";
    /** {@link KeywayException#hintId()}: no identity given is a recipient, and not all recipients were named. */
    public static final String HINT_GIVE_RECIPIENT_OF_MANY = "envelope.give-recipient-of-many";
    /** {@link KeywayException#hintId()}: the escrow policy refused a file without escrow. */
    public static final String HINT_NO_ESCROW = "envelope.no-escrow";
    /** {@link KeywayException#hintId()}: the escrow policy refused a version 1 escrow stanza. */
    public static final String HINT_OLD_ESCROW = "envelope.old-escrow";
    /** The armor label of an encrypted file. */
    public static final String ARMOR_LABEL = "ENCRYPTED FILE";
    /** Argon2 memory a passphrase stanza may ask for, checked before deriving (the header is not yet authenticated). */
    static final int MAX_PASSPHRASE_MEMORY_KIB = 1024 * 1024;
    /** How many recipient ids the "not a recipient" error names. */
    static final int SHOWN_RECIPIENTS = 4;

    private final InputStream in;
    private final Header header;
    private boolean authenticated;
    private boolean bodyRead;

    private EnvelopeReader(InputStream in, Header header) {
        this.in = in;
        this.header = header;
    }

    /** What a successful decrypt found. */
    public record Result(long plaintextBytes, long chunks, Recipient signer) {
    }

    /** Receives each authenticated chunk: its ciphertext as it was in the file, and its plaintext. */
    interface ChunkSink {
        void accept(byte[] sealed, int sealedLength, byte[] plain, int plainLength) throws IOException;
    }

    /** Reads the header from {@code input}, which may be binary or armored. */
    public static EnvelopeReader open(InputStream input, int maxRecipients) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(input, 8192);
        buffered.mark(256); // more than the peek below reads
        byte[] start = buffered.readNBytes(Armor.begin(ARMOR_LABEL).length() + 40);
        buffered.reset();
        InputStream body = buffered;
        if (start.length > 0 && start[0] != Header.MAGIC[0] && looksArmored(start)) {
            body = new ArmorInputStream(buffered, ARMOR_LABEL, "armored encrypted file");
        }
        try {
            return new EnvelopeReader(body, Header.read(body, maxRecipients));
        } catch (KeywayException e) {
            throw asDamage(e);
        }
    }

    private static boolean looksArmored(byte[] start) {
        String s = new String(start, StandardCharsets.US_ASCII).stripLeading();
        return s.startsWith("-----BEGIN KEYWAY");
    }

    public Header header() {
        return header;
    }

    /**
     * Finds the file key with one of {@code identities}: the stanzas made for them (recipient or escrow)
     * are tried in order. No matching stanza, or none that opens, is AUTH_FAILED.
     */
    public SessionKey unwrap(List<Identity> identities) {
        if (isPassphraseFile()) {
            throw KeywayException.usage("this file is encrypted with a passphrase, not to an identity",
                    "open it with its passphrase").hintId(HINT_USE_PASSPHRASE);
        }
        KeywayException failure = null;
        for (Identity id : identities) {
            byte[] rid = id.recipient().id();
            for (Stanza s : header.stanzas()) {
                if (!MessageDigest.isEqual(s.blob().recipientId(), rid)) {
                    continue;
                }
                try {
                    // A bound escrow stanza opens only with its binding (the owner it names and this message).
                    return s instanceof Stanza.Escrow e && e.owner() != null
                            ? KeyWrap.unwrapEscrow(s.blob(), id, EscrowBinding.message(e.owner(), header.messageId()))
                            : KeyWrap.unwrap(s.blob(), id);
                } catch (KeywayException e) {
                    // The stanza is authenticated data (by the MAC, checked next): any refusal is damage.
                    failure = e;
                }
            }
        }
        if (failure != null) {
            throw new KeywayException(ErrorCode.AUTH_FAILED, "the stanza for this identity does not open: the file was altered",
                    "get an intact copy of the file", failure);
        }
        // Name a few recipients, not all: a header may hold thousands, and the message must stay one short line.
        List<String> ids = new ArrayList<>();
        for (Stanza s : header.stanzas()) {
            if (ids.size() == SHOWN_RECIPIENTS) {
                break;
            }
            ids.add(s.blob().recipientIdHex());
        }
        int more = header.stanzas().size() - ids.size();
        throw new KeywayException(ErrorCode.AUTH_FAILED, "no identity given is a recipient of this file (it is for "
                + String.join(", ", ids) + (more > 0 ? " and " + more + " more" : "") + ")",
                "give the identity it was encrypted to" + (more > 0 ? " (the header lists all its recipients)" : ""))
                .hintId(more > 0 ? HINT_GIVE_RECIPIENT_OF_MANY : HINT_GIVE_RECIPIENT);
    }

    /**
     * Checks the escrow stanza against {@code authority} with this file's key (docs/FORMAT.md, "Escrow
     * stanza"): it must be there, be made for that authority, and recompute byte for byte from the file key,
     * the authority, the owner it names and the message id, which proves the authority can open it for that
     * owner. Any failure is a POLICY refusal. Call after {@link #authenticate}.
     */
    public void checkEscrow(SessionKey fileKey, Recipient authority) {
        if (!authenticated) {
            throw new IllegalStateException("authenticate the file key first");
        }
        Stanza.Escrow e = header.escrow();
        if (e == null) {
            throw KeywayException.policy("the file has no escrow stanza (it was encrypted without escrow)",
                    "ask the sender to encrypt with the escrow policy, or decrypt without the escrow check if you accept that")
                    .hintId(HINT_NO_ESCROW);
        }
        if (e.owner() == null) {
            throw KeywayException.policy("the file's escrow stanza is from format version 1: it names no owner and cannot be checked",
                    "ask the sender to re-encrypt with this Keyway, or decrypt without the escrow check if you accept that")
                    .hintId(HINT_OLD_ESCROW);
        }
        if (!MessageDigest.isEqual(e.blob().recipientId(), authority.id())) {
            throw KeywayException.policy("the file's escrow stanza is for authority " + e.blob().recipientIdHex() + ", not "
                    + authority.idHex(), "the file was escrowed with another authority; ask the sender");
        }
        byte[] expected = KeyWrap.wrapForEscrow(fileKey, authority, EscrowBinding.message(e.owner(), header.messageId())).encode();
        if (!MessageDigest.isEqual(expected, e.blob().encode())) {
            throw KeywayException.policy("the file's escrow stanza does not recompute from the file key: the authority could not "
                    + "open it for owner '" + Printable.escape(e.owner()) + "'", "do not rely on this file's escrow; ask the sender");
        }
    }

    public boolean isPassphraseFile() {
        return header.stanzas().size() == 1 && header.stanzas().get(0) instanceof Stanza.ForPassphrase;
    }

    /** Finds the file key of a passphrase-encrypted file. The passphrase array is not kept. */
    public SessionKey unwrapWithPassphrase(byte[] passphrase) {
        if (!isPassphraseFile()) {
            throw KeywayException.usage("this file is not encrypted with a passphrase", "open it with an identity")
                    .hintId(HINT_USE_IDENTITY);
        }
        Stanza.ForPassphrase stanza = (Stanza.ForPassphrase) header.stanzas().get(0);
        PasswordKdf.Recipe recipe;
        try {
            recipe = PasswordKdf.parsePhc(stanza.recipe());
        } catch (KeywayException e) {
            throw Header.damaged("the passphrase stanza's recipe is damaged: " + e.getMessage(), "get an intact copy of the file");
        }
        if (!(recipe.params() instanceof KdfParams.Argon2idParams a)) {
            throw Header.damaged("the passphrase stanza names a KDF other than Argon2id", "get an intact copy of the file");
        }
        if (a.memoryKiB() > MAX_PASSPHRASE_MEMORY_KIB) {
            throw KeywayException.policy("the passphrase stanza asks for " + a.memoryKiB() / 1024 + " MiB of Argon2 memory",
                    "Keyway allows at most " + MAX_PASSPHRASE_MEMORY_KIB / 1024 + " MiB; the file may have been altered");
        }
        PasswordKdf.DerivedKey derived;
        try {
            derived = PasswordKdf.derive(passphrase, recipe.salt(), a, 32);
        } catch (KeywayException e) {
            throw Header.damaged("the passphrase stanza's recipe is damaged: " + e.getMessage(), "get an intact copy of the file");
        }
        try (SessionKey kek = SessionKey.of(Algorithms.AES_KW, derived.key())) {
            return KeyWrap.unwrap(stanza.blob(), kek);
        } catch (KeywayException e) {
            if (e.code() == ErrorCode.AUTH_FAILED) {
                throw new KeywayException(ErrorCode.AUTH_FAILED, "wrong passphrase (or the file was altered)",
                        "check the passphrase", e);
            }
            throw e;
        } finally {
            derived.destroy();
        }
    }

    /**
     * Checks that {@code fileKey} is this file's key (the commitment) and that the header is intact (the
     * MAC), both in constant time. Nothing of the body is read before this passes.
     */
    public void authenticate(SessionKey fileKey) {
        if (fileKey.algorithm() != header.aead().algorithm() || fileKey.length() != FileKeys.FILE_KEY_LENGTH) {
            throw new KeywayException(ErrorCode.AUTH_FAILED, "the file key is not a " + header.aead().id() + " key",
                    "give this file's session key (" + FileKeys.FILE_KEY_LENGTH * 2 + " hex digits)");
        }
        if (!FileKeys.same(FileKeys.commitment(fileKey), header.commitment())) {
            throw new KeywayException(ErrorCode.AUTH_FAILED, "the file key does not match the file's key commitment",
                    "give this file's session key, or get an intact copy of the file");
        }
        if (!FileKeys.same(FileKeys.headerMac(fileKey, header.encodedWithoutMac()), header.mac())) {
            throw new KeywayException(ErrorCode.AUTH_FAILED, "the header MAC does not verify: the header was altered",
                    "get an intact copy of the file");
        }
        authenticated = true;
    }

    /**
     * Decrypts the body to {@code out}, chunk by chunk, then checks the signature if the file is signed.
     * Plaintext reaches {@code out} before the signature is checked; a caller that must not release
     * unverified data writes to a temporary file (see docs/FORMAT.md, "Signature").
     */
    public Result decrypt(SessionKey fileKey, OutputStream out) throws IOException {
        return readBody(fileKey, (sealed, sealedLength, plain, plainLength) -> out.write(plain, 0, plainLength));
    }

    /** The body's shape, as the file's length implies it (nothing is authenticated). */
    public record BodyLayout(long chunks, long ciphertextBytes, long plaintextBytes) {
    }

    /** Reads past the rest of the file without decrypting it, and says how its body is laid out. */
    public BodyLayout measureBody() throws IOException {
        bodyRead = true;
        long rest;
        try {
            rest = in.transferTo(OutputStream.nullOutputStream());
        } catch (KeywayException e) {
            throw asDamage(e);
        }
        long body = Math.max(0, rest - (header.signed() ? Stream.SIGNATURE : 0));
        long chunks = (body + Stream.SEALED_CHUNK - 1) / Stream.SEALED_CHUNK;
        return new BodyLayout(chunks, body, Math.max(0, body - chunks * PayloadAead.TAG));
    }

    /** Reads and verifies the whole body, handing each chunk to {@code sink}. */
    Result readBody(SessionKey fileKey, ChunkSink sink) throws IOException {
        if (!authenticated) {
            throw new IllegalStateException("authenticate the file key first");
        }
        if (bodyRead) {
            throw new IllegalStateException("the body was already read");
        }
        bodyRead = true;
        try (ChunkHasher hash = header.signed() ? new ChunkHasher(Stream.sha256()) : null) {
            if (hash != null) {
                byte[] h = header.encodedWithMac();
                hash.update(h, 0, h.length);
            }
            return readBody(fileKey, sink, hash);
        }
    }

    private Result readBody(SessionKey fileKey, ChunkSink sink, ChunkHasher hash) throws IOException {
        Stream stream = new Stream(header.aead(), FileKeys.payloadKey(fileKey, header.payloadNonce()));
        int trailer = header.signed() ? Stream.SIGNATURE : 0;
        // One sealed chunk plus the signature plus one byte: if the file ends before that, this is the last chunk.
        byte[] buf = new byte[Stream.SEALED_CHUNK + trailer + 1];
        byte[] plain = new byte[Stream.CHUNK];
        byte[] signature = null;
        int have = 0;
        long total = 0;
        long index = 0;
        try {
            while (true) {
                have += Stream.readFully(in, buf, have, buf.length - have);
                boolean last = have < buf.length;
                int len = last ? have - trailer : Stream.SEALED_CHUNK;
                if (len < PayloadAead.TAG) {
                    throw new KeywayException(ErrorCode.AUTH_FAILED, "the file is truncated (chunk " + index + " is incomplete)",
                            "get the whole file");
                }
                int n;
                try {
                    n = stream.open(index, last, buf, len, plain);
                } catch (GeneralSecurityException e) {
                    throw new KeywayException(ErrorCode.AUTH_FAILED, "chunk " + index
                            + " failed authentication: the file was altered, truncated or reordered", "get an intact copy of the file");
                }
                if (last && n == 0 && index > 0) {
                    throw new KeywayException(ErrorCode.AUTH_FAILED, "the file ends with an empty chunk: it was altered",
                            "get an intact copy of the file");
                }
                if (hash != null) {
                    hash.update(buf, 0, len);
                }
                sink.accept(buf, len, plain, n);
                total += n;
                index++;
                if (last) {
                    signature = Arrays.copyOfRange(buf, len, have);
                    break;
                }
                have -= Stream.SEALED_CHUNK;
                System.arraycopy(buf, Stream.SEALED_CHUNK, buf, 0, have);
            }
        } catch (KeywayException e) {
            throw asDamage(e);
        } finally {
            Arrays.fill(plain, (byte) 0);
        }
        Recipient signer = null;
        if (hash != null) {
            if (!header.sender().verify(Stream.signedMessage(hash.digest()), signature)) {
                throw new KeywayException(ErrorCode.AUTH_FAILED, "the sender's signature does not verify: the file was "
                        + "altered after it was signed", "do not trust this file; get an intact copy from the sender");
            }
            signer = header.sender();
        }
        return new Result(total, index, signer);
    }

    /** Armor and format errors in what should be an envelope are damage: exit 3, as docs/FORMAT.md says. */
    private static KeywayException asDamage(KeywayException e) {
        if (e.code() == ErrorCode.MALFORMED || e.code() == ErrorCode.UNSUPPORTED) {
            return new KeywayException(ErrorCode.AUTH_FAILED, e.getMessage(), e.hint(), e).hintId(e.hintId());
        }
        return e;
    }
}
