package dev.keyway.envelope;

import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.OwnerName;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.kdf.KdfParams;
import dev.keyway.core.kdf.PasswordKdf;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.keys.SessionKeys;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * Encrypts a stream into an envelope (docs/FORMAT.md). Configure with the setters, then call
 * {@link #encrypt}; the file key, nonces and message id are always fresh and never chosen by the caller.
 */
public final class EnvelopeWriter {
    /** {@link KeywayException#hintId()}: a passphrase was given together with recipients. */
    public static final String HINT_PASSPHRASE_ALONE = "envelope.passphrase-alone";
    /** {@link KeywayException#hintId()}: neither a recipient nor a passphrase was given. */
    public static final String HINT_NO_RECIPIENT = "envelope.no-recipient";
    /** {@link KeywayException#hintId()}: more recipients than the limit (when writing or re-keying). */
    public static final String HINT_RECIPIENT_LIMIT = "envelope.recipient-limit";
    /** {@link KeywayException#hintId()}: the expiry time is not after the creation time. */
    public static final String HINT_EXPIRY = "envelope.expiry";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final List<Recipient> recipients = new ArrayList<>();
    private byte[] passphrase;
    private KdfParams.Argon2idParams passphraseParams = KdfParams.Argon2idParams.DEFAULT;
    private Recipient escrow;
    private String escrowOwner;
    private Identity signer;
    private Instant expires;
    private Long serial;
    private String contentType;
    private PayloadAead aead = PayloadAead.DEFAULT;
    private int maxRecipients = Header.DEFAULT_MAX_RECIPIENTS;
    private Clock clock = Clock.systemUTC();

    public EnvelopeWriter recipients(List<Recipient> list) {
        recipients.addAll(list);
        return this;
    }

    /** Encrypts to a passphrase (Argon2id); then there must be no other recipient. The array is copied. */
    public EnvelopeWriter passphrase(byte[] value, KdfParams.Argon2idParams params) {
        this.passphrase = value.clone();
        this.passphraseParams = Objects.requireNonNull(params);
        return this;
    }

    /**
     * Adds an escrow stanza for a backup authority, bound to {@code owner} (the name the owner enrolled under
     * with that authority) and this file's message id, and derived from the file key so that every
     * recipient can check it (docs/FORMAT.md, "Escrow stanza"). The file is then format version 2.
     */
    public EnvelopeWriter escrow(Recipient authority, String owner) {
        this.escrowOwner = OwnerName.normalize(owner);
        this.escrow = Objects.requireNonNull(authority);
        return this;
    }

    public EnvelopeWriter signer(Identity identity) {
        this.signer = identity;
        return this;
    }

    public EnvelopeWriter expires(Instant when) {
        this.expires = when;
        return this;
    }

    public EnvelopeWriter serial(long value) {
        this.serial = value;
        return this;
    }

    public EnvelopeWriter contentType(String value) {
        byte[] b = value.getBytes(StandardCharsets.UTF_8);
        if (b.length == 0 || b.length > Header.MAX_CONTENT_TYPE) {
            throw KeywayException.usage("a content type must be 1 to 255 bytes", "give a short media type such as text/plain");
        }
        if (!Printable.isPrintable(value)) {
            // A media type has no control or layout characters; whatever a reader prints, none goes in.
            throw KeywayException.usage("a content type must not hold control or layout characters",
                    "give a media type such as text/plain");
        }
        this.contentType = value;
        return this;
    }

    public EnvelopeWriter aead(PayloadAead value) {
        this.aead = Objects.requireNonNull(value);
        return this;
    }

    public EnvelopeWriter maxRecipients(int value) {
        this.maxRecipients = value;
        return this;
    }

    public EnvelopeWriter clock(Clock value) {
        this.clock = Objects.requireNonNull(value);
        return this;
    }

    /** Why a file cannot be encrypted to what was given (see {@link #recipientProblem}). */
    public enum RecipientProblem {
        /** A passphrase-encrypted file has no other stanza: no recipient, no escrow. */
        PASSPHRASE_NOT_ALONE,
        /** Nothing to encrypt to: no recipient, no escrow stanza, no passphrase. */
        NONE_GIVEN
    }

    /**
     * The one rule for what a file may be encrypted to, which {@link #encrypt} enforces: a passphrase alone, or
     * recipients and/or an escrow stanza. A caller that must refuse before anything else happens (the CLI, before
     * it asks an authority) asks here and words the refusal in its own terms; null when the set is fine.
     */
    public static RecipientProblem recipientProblem(int recipients, boolean passphrase, boolean escrow) {
        if (passphrase && (recipients > 0 || escrow)) {
            return RecipientProblem.PASSPHRASE_NOT_ALONE;
        }
        return !passphrase && recipients == 0 && !escrow ? RecipientProblem.NONE_GIVEN : null;
    }

    /** Encrypts all of {@code in} to {@code out} (binary; wrap {@code out} for armor); returns the header written. */
    public Header encrypt(InputStream in, OutputStream out) throws IOException {
        List<Recipient> unique = new ArrayList<>(new LinkedHashSet<>(recipients));
        RecipientProblem problem = recipientProblem(unique.size(), passphrase != null, escrow != null);
        if (problem == RecipientProblem.PASSPHRASE_NOT_ALONE) {
            throw KeywayException.usage("a passphrase must be the only recipient",
                    "encrypt either to a passphrase or to recipients (with or without escrow), not both").hintId(HINT_PASSPHRASE_ALONE);
        }
        if (problem == RecipientProblem.NONE_GIVEN) {
            throw KeywayException.usage("no recipient given", "add a recipient or a passphrase").hintId(HINT_NO_RECIPIENT);
        }
        if (unique.size() > maxRecipients) {
            throw KeywayException.usage(unique.size() + " recipients is more than the limit of " + maxRecipients,
                    "raise the recipient limit (readers must raise it too)").hintId(HINT_RECIPIENT_LIMIT);
        }
        Instant created = Instant.ofEpochMilli(clock.millis());
        if (expires != null && !expires.isAfter(created)) {
            throw KeywayException.usage("the expiry time is not in the future", "give an expiry time after now")
                    .hintId(HINT_EXPIRY);
        }
        try (SessionKey fileKey = SessionKeys.generate(aead.algorithm(), aead.algorithm().defaultBits())) {
            List<Stanza> stanzas = new ArrayList<>();
            for (Recipient r : unique) {
                stanzas.add(new Stanza.ForRecipient(KeyWrap.wrap(fileKey, r)));
            }
            if (passphrase != null) {
                stanzas.add(passphraseStanza(fileKey));
            }
            byte[] messageId = random(16);
            if (escrow != null) {
                stanzas.add(new Stanza.Escrow(KeyWrap.wrapForEscrow(fileKey, escrow, EscrowBinding.message(escrowOwner, messageId)),
                        escrowOwner));
            }
            byte[] nonce = random(16);
            Header header = new HeaderBuilder().version(escrow != null ? Header.VERSION : Header.VERSION_1).stanzas(stanzas)
                    .aead(aead).payloadNonce(nonce).messageId(messageId).created(created).expires(expires).serial(serial)
                    .contentType(contentType).sender(signer == null ? null : signer.recipient())
                    .commitment(FileKeys.commitment(fileKey)).build().seal(fileKey);
            byte[] headerBytes = header.encodedWithMac();
            out.write(headerBytes);
            try (ChunkHasher hash = signer == null ? null : new ChunkHasher(Stream.sha256())) {
                if (hash != null) {
                    hash.update(headerBytes, 0, headerBytes.length);
                }
                writeBody(aead, FileKeys.payloadKey(fileKey, nonce), in, out, hash);
                if (hash != null) {
                    out.write(signer.sign(Stream.signedMessage(hash.digest())));
                }
            }
            out.flush();
            return header;
        } finally {
            if (passphrase != null) {
                Arrays.fill(passphrase, (byte) 0);
            }
        }
    }

    private Stanza passphraseStanza(SessionKey fileKey) {
        byte[] salt = PasswordKdf.randomSalt();
        PasswordKdf.DerivedKey derived = PasswordKdf.derive(passphrase, salt, passphraseParams, 32);
        try (SessionKey kek = SessionKey.of(Algorithms.AES_KW, derived.key())) {
            return new Stanza.ForPassphrase(PasswordKdf.phc(passphraseParams, salt), KeyWrap.wrap(fileKey, kek));
        } finally {
            derived.destroy();
        }
    }

    private static void writeBody(PayloadAead aead, byte[] payloadKey, InputStream in, OutputStream out, ChunkHasher hash)
            throws IOException {
        Stream stream = new Stream(aead, payloadKey);
        byte[] plain = new byte[Stream.CHUNK];
        byte[] sealed = new byte[Stream.SEALED_CHUNK];
        try {
            int n = Stream.readFully(in, plain, 0, Stream.CHUNK);
            for (long index = 0; ; index++) {
                // Look one byte ahead: a full chunk is the last one only if nothing follows it.
                int next = n == Stream.CHUNK ? in.read() : -1;
                boolean last = next < 0;
                int m = stream.seal(index, last, plain, n, sealed);
                out.write(sealed, 0, m);
                if (hash != null) {
                    hash.update(sealed, 0, m);
                }
                if (last) {
                    return;
                }
                plain[0] = (byte) next;
                n = 1 + Stream.readFully(in, plain, 1, Stream.CHUNK - 1);
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("sealing a chunk failed", e);
        } finally {
            Arrays.fill(plain, (byte) 0);
        }
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
