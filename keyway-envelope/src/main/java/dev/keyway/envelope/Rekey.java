package dev.keyway.envelope;

import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.SessionKey;

import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Re-keys an envelope: a new stanza set, MAC and signature over the same body bytes (docs/FORMAT.md,
 * "Re-keying"). The old file is verified completely on the way through.
 */
public final class Rekey {
    /** {@link KeywayException#hintId()}: a signed file is re-keyed without a signer. */
    public static final String HINT_SIGN_AGAIN = "envelope.sign-again";
    /** {@link KeywayException#hintId()}: a recipient to add already is one. */
    public static final String HINT_ALREADY_RECIPIENT = "envelope.already-recipient";
    private Rekey() {
    }

    /**
     * @param reader  an envelope whose file key was {@linkplain EnvelopeReader#authenticate authenticated}
     * @param signer  who signs the new file, or null to write it unsigned (refused if the old one was signed)
     * @return the new header
     */
    public static Header rekey(EnvelopeReader reader, SessionKey fileKey, List<Recipient> add, List<Recipient> remove,
                               Identity signer, int maxRecipients, OutputStream out) throws IOException {
        Header old = reader.header();
        if (reader.isPassphraseFile()) {
            throw KeywayException.usage("a passphrase-encrypted file cannot be re-keyed to recipients",
                    "decrypt it and encrypt it again");
        }
        if (old.signed() && signer == null) {
            throw KeywayException.usage("this file is signed by " + old.sender().idHex() + "; re-keying changes the header, "
                    + "so the new file must be signed again", "give a signing identity").hintId(HINT_SIGN_AGAIN);
        }
        List<Stanza> stanzas = new ArrayList<>(old.stanzas());
        for (Recipient r : remove) {
            byte[] id = r.id();
            boolean removed = stanzas.removeIf(s -> s instanceof Stanza.ForRecipient
                    && MessageDigest.isEqual(s.blob().recipientId(), id));
            if (!removed) {
                throw KeywayException.usage(r.idHex() + " is not a recipient of this file",
                        "run 'keyway inspect' to list the recipients");
            }
        }
        List<Stanza> added = new ArrayList<>();
        for (Recipient r : add) {
            byte[] id = r.id();
            boolean present = stanzas.stream().anyMatch(s -> s instanceof Stanza.ForRecipient
                    && MessageDigest.isEqual(s.blob().recipientId(), id))
                    || added.stream().anyMatch(s -> MessageDigest.isEqual(s.blob().recipientId(), id));
            if (present) {
                throw KeywayException.usage(r.idHex() + " is already a recipient of this file",
                        "do not add it again").hintId(HINT_ALREADY_RECIPIENT);
            }
            added.add(new Stanza.ForRecipient(KeyWrap.wrap(fileKey, r)));
        }
        // Recipient stanzas come first in the header; keep them together, escrow after.
        List<Stanza> result = new ArrayList<>();
        stanzas.stream().filter(s -> s instanceof Stanza.ForRecipient).forEach(result::add);
        result.addAll(added);
        stanzas.stream().filter(s -> !(s instanceof Stanza.ForRecipient)).forEach(result::add);
        if (result.isEmpty()) {
            throw KeywayException.usage("that would leave the file with no recipient", "keep or add at least one recipient");
        }
        long count = result.stream().filter(s -> s instanceof Stanza.ForRecipient).count();
        if (count > maxRecipients) {
            throw KeywayException.usage(count + " recipients is more than the limit of " + maxRecipients,
                    "raise the recipient limit").hintId(EnvelopeWriter.HINT_RECIPIENT_LIMIT);
        }
        Header header = old.withStanzas(result, signer == null ? null : signer.recipient()).seal(fileKey);
        byte[] headerBytes = header.encodedWithMac();
        MessageDigest hash = signer == null ? null : Stream.sha256();
        out.write(headerBytes);
        if (hash != null) {
            hash.update(headerBytes);
        }
        reader.readBody(fileKey, (sealed, sealedLength, plain, plainLength) -> {
            out.write(sealed, 0, sealedLength);
            if (hash != null) {
                hash.update(sealed, 0, sealedLength);
            }
        });
        if (hash != null) {
            out.write(signer.sign(Stream.signedMessage(hash.digest())));
        }
        out.flush();
        return header;
    }
}
