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

    /**
     * The file key wrapped for a backup authority, so it can be recovered if every identity is lost. In
     * version 2 it names the {@code owner} it is bound to (with the message id) and is derived from the file
     * key, so every recipient can recompute it (docs/FORMAT.md, "Escrow stanza"); in version 1 it names no
     * owner ({@code owner} is null) and cannot be checked.
     */
    record Escrow(KeyBlob blob, String owner) implements Stanza {
    }
}
