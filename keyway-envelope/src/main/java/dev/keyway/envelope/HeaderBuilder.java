package dev.keyway.envelope;

import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Recipient;
import dev.keyway.envelope.Header.Extension;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Collects a {@link Header}'s fields (for the writer, re-keying and the parser) instead of a constructor with a
 * dozen arguments. Starts as version 1 with no stanzas, no optional fields and not sealed.
 */
final class HeaderBuilder {
    int version = Header.VERSION_1;
    final List<Stanza> stanzas = new ArrayList<>();
    PayloadAead aead;
    byte[] payloadNonce;
    byte[] messageId;
    Instant created;
    Instant expires;
    Long serial;
    String contentType;
    Recipient sender;
    byte[] commitment;
    final List<Extension> extensions = new ArrayList<>();
    byte[] encoded;
    byte[] mac;

    HeaderBuilder() {
    }

    HeaderBuilder version(int v) {
        this.version = v;
        return this;
    }

    /** Replaces the stanzas. */
    HeaderBuilder stanzas(List<Stanza> all) {
        stanzas.clear();
        stanzas.addAll(all);
        return this;
    }

    HeaderBuilder stanza(Stanza s) {
        stanzas.add(s);
        return this;
    }

    HeaderBuilder aead(PayloadAead a) {
        this.aead = a;
        return this;
    }

    HeaderBuilder payloadNonce(byte[] nonce) {
        this.payloadNonce = nonce;
        return this;
    }

    HeaderBuilder messageId(byte[] id) {
        this.messageId = id;
        return this;
    }

    HeaderBuilder created(Instant t) {
        this.created = t;
        return this;
    }

    /** Null for a message that does not expire. */
    HeaderBuilder expires(Instant t) {
        this.expires = t;
        return this;
    }

    /** Null for none. */
    HeaderBuilder serial(Long n) {
        this.serial = n;
        return this;
    }

    /** Null for none (application/octet-stream). */
    HeaderBuilder contentType(String type) {
        this.contentType = type;
        return this;
    }

    /** Null for an unsigned message. */
    HeaderBuilder sender(Recipient r) {
        this.sender = r;
        return this;
    }

    HeaderBuilder commitment(byte[] c) {
        this.commitment = c;
        return this;
    }

    /** Replaces the non-critical fields kept verbatim. */
    HeaderBuilder extensions(List<Extension> all) {
        extensions.clear();
        extensions.addAll(all);
        return this;
    }

    HeaderBuilder extension(Extension e) {
        extensions.add(e);
        return this;
    }

    /** The header's bytes without and the MAC over them, as read from a file or computed by {@link Header#seal}. */
    HeaderBuilder sealed(byte[] encodedWithoutMac, byte[] headerMac) {
        this.encoded = encodedWithoutMac;
        this.mac = headerMac;
        return this;
    }

    /**
     * The header of a file being read, once its fields agree with each other; a {@link KeywayException} (MALFORMED)
     * says which do not.
     */
    Header buildParsed() {
        if (aead == null || messageId == null || created == null || commitment == null) {
            throw KeywayException.malformed("a required field (payload, message id, created or commitment) is missing", "");
        }
        if (stanzas.isEmpty()) {
            throw KeywayException.malformed("it has no recipient stanza", "");
        }
        boolean passphrase = stanzas.stream().anyMatch(s -> s instanceof Stanza.ForPassphrase);
        if (passphrase && stanzas.size() > 1) {
            throw KeywayException.malformed("a passphrase stanza must be the only stanza", "");
        }
        if (expires != null && !expires.isAfter(created)) {
            throw KeywayException.malformed("it expires before it was created", "");
        }
        for (Stanza s : stanzas) {
            if (s.blob().algorithm() != aead.algorithm()) {
                throw KeywayException.malformed("a stanza holds a " + s.blob().algorithm().name() + " key, but the payload is "
                        + aead.id(), "");
            }
        }
        return build();
    }

    Header build() {
        return new Header(this);
    }
}
