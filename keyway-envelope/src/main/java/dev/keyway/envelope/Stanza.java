package dev.keyway.envelope;

import dev.keyway.core.blob.KeyBlob;

/** One way to the file key, as a header carries it. */
public sealed interface Stanza {
    /** The wrapped file key. */
    KeyBlob blob();

    /** The file key wrapped for a recipient's key-exchange public key. */
    record ForRecipient(KeyBlob blob) implements Stanza {
    }

    /** The file key wrapped under a key derived from a passphrase by the Argon2id {@code recipe}. */
    record ForPassphrase(String recipe, KeyBlob blob) implements Stanza {
    }

    /** The file key wrapped for a backup authority, so it can be recovered if every identity is lost. */
    record Escrow(KeyBlob blob) implements Stanza {
    }
}
