package dev.keyway.core.blob;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.identity.OwnerName;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * What an escrow blob is bound to: the owner the key belongs to and, for an envelope's escrow stanza,
 * the envelope's message id. The binding is part of what the authority decrypts (the HPKE info, or the
 * OAEP label), so a blob escrowed by anyone but its owner, or presented for another message, does not
 * open: nobody can re-label an escrowed key (docs/KEYS.md, "Escrow blobs").
 *
 * <pre>
 * context = owner_length:u16 owner (UTF-8, {@link OwnerName} canonical form) || id_length:u8 message_id (0 or 16 bytes)
 * </pre>
 */
public final class EscrowBinding {
    public static final int MESSAGE_ID_LENGTH = 16;

    private final String owner;
    private final byte[] messageId;

    private EscrowBinding(String owner, byte[] messageId) {
        this.owner = owner;
        this.messageId = messageId;
    }

    /** A binding to {@code owner} (normalized here) alone: a session key escrowed on its own. */
    public static EscrowBinding owner(String owner) {
        return new EscrowBinding(OwnerName.normalize(owner), new byte[0]);
    }

    /** A binding to {@code owner} and the 16-byte id of the message whose file key is escrowed. */
    public static EscrowBinding message(String owner, byte[] messageId) {
        if (messageId == null || messageId.length != MESSAGE_ID_LENGTH) {
            throw KeywayException.usage("a message id is " + MESSAGE_ID_LENGTH + " bytes", "give the id keyway inspect shows");
        }
        return new EscrowBinding(OwnerName.normalize(owner), messageId.clone());
    }

    /** The same binding from a message id in hex, or for no message when {@code messageIdHex} is null. */
    public static EscrowBinding of(String owner, String messageIdHex) {
        return messageIdHex == null ? owner(owner) : message(owner, Hex.decode(messageIdHex, "message id"));
    }

    /** The owner's canonical name. */
    public String owner() {
        return owner;
    }

    /** The message id, or null for a key escrowed on its own. */
    public byte[] messageId() {
        return messageId.length == 0 ? null : messageId.clone();
    }

    /** The encoded context (above), as bound into the blob. */
    byte[] context() {
        byte[] name = OwnerName.utf8(owner);
        ByteArrayOutputStream out = new ByteArrayOutputStream(3 + name.length + messageId.length);
        out.write(name.length >>> 8);
        out.write(name.length);
        out.writeBytes(name);
        out.write(messageId.length);
        out.writeBytes(messageId);
        return out.toByteArray();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EscrowBinding b && b.owner.equals(owner) && Arrays.equals(b.messageId, messageId);
    }

    @Override
    public int hashCode() {
        return owner.hashCode() * 31 + Arrays.hashCode(messageId);
    }

    @Override
    public String toString() {
        return "EscrowBinding[" + owner + (messageId.length == 0 ? "" : ", message " + Hex.encode(messageId)) + "]";
    }
}
