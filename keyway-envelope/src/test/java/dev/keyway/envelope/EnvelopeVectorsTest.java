package dev.keyway.envelope;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.SessionKey;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Files written by an earlier Keyway stay readable: the committed vectors of docs/FORMAT.md, versions 1 and 2. */
class EnvelopeVectorsTest {
    private static final String DIR = "/vectors/envelope-v1/";

    @Test
    void unsignedX25519() throws IOException {
        EnvelopeReader r = open("unsigned-x25519.kw");
        Header h = r.header();
        assertThat(h.aead()).isEqualTo(PayloadAead.AES_256_GCM);
        assertThat(h.signed()).isFalse();
        assertThat(h.created()).isEqualTo(Instant.parse("2026-11-21T12:00:00Z"));
        assertThat(decrypt(r, identity("alice.key"))).isEqualTo(resource("small.txt"));
    }

    @Test
    void signedTwoRecipientsChaCha() throws IOException {
        byte[] expected = new byte[70000];
        new Random(1).nextBytes(expected);
        Recipient sender = Recipient.parse(text("sender.pub"));
        for (String key : List.of("alice.key", "bob.key")) {
            EnvelopeReader r = open("signed-two-recipients-chacha.kw");
            Header h = r.header();
            assertThat(h.aead()).isEqualTo(PayloadAead.CHACHA20_POLY1305);
            assertThat(h.stanzas()).hasSize(2);
            assertThat(h.sender()).isEqualTo(sender);
            assertThat(h.serial()).isEqualTo(42L);
            assertThat(h.expires()).isEqualTo(Instant.parse("2100-01-01T00:00:00Z"));
            assertThat(h.contentType()).isEqualTo("application/octet-stream");
            try (SessionKey fk = r.unwrap(List.of(identity(key)))) {
                r.authenticate(fk);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                EnvelopeReader.Result result = r.decrypt(fk, out);
                assertThat(out.toByteArray()).as(key).isEqualTo(expected);
                assertThat(result.signer()).isEqualTo(sender);
                assertThat(result.chunks()).isEqualTo(2);
            }
        }
    }

    @Test
    void passphraseArmored() throws IOException {
        EnvelopeReader r = open("passphrase-armored.kw.txt");
        assertThat(r.isPassphraseFile()).isTrue();
        try (SessionKey fk = r.unwrapWithPassphrase("correct horse battery staple".getBytes(StandardCharsets.UTF_8))) {
            r.authenticate(fk);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            r.decrypt(fk, out);
            assertThat(out.toByteArray()).isEqualTo(resource("small.txt"));
        }
        EnvelopeReader wrong = open("passphrase-armored.kw.txt");
        assertThatThrownBy(() -> wrong.unwrapWithPassphrase("Correct horse battery staple".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_FAILED));
    }

    /** Version 2: an escrow stanza bound to its owner, recomputed from the file key by a recipient. */
    @Test
    void escrowedXwingV2() throws IOException {
        Recipient authority = Recipient.parse(new String(v2("authority.pub"), StandardCharsets.US_ASCII));
        EnvelopeReader r = EnvelopeReader.open(new java.io.ByteArrayInputStream(v2("escrowed-xwing.kw")), 256);
        Header h = r.header();
        assertThat(h.version()).isEqualTo(2);
        assertThat(h.escrow().owner()).isEqualTo("Jos\u00e9 M\u00fcller");
        assertThat(h.escrow().blob().recipientId()).isEqualTo(authority.id());
        assertThat(h.serial()).isEqualTo(3L);
        try (SessionKey fk = r.unwrap(List.of(identity("alice.key")))) {
            r.authenticate(fk);
            r.checkEscrow(fk, authority);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            r.decrypt(fk, out);
            assertThat(out.toByteArray()).isEqualTo(resource("small.txt"));
        }
        // The authority opens the stanza with the binding it names.
        EnvelopeReader byAuthority = EnvelopeReader.open(new java.io.ByteArrayInputStream(v2("escrowed-xwing.kw")), 256);
        Identity authorityKey = dev.keyway.core.identity.IdentityFile.read(
                java.nio.file.Path.of(java.net.URI.create(EnvelopeVectorsTest.class.getResource("/vectors/envelope-v2/authority.key").toString())),
                f -> null);
        try (SessionKey fk = byAuthority.unwrap(List.of(authorityKey))) {
            byAuthority.authenticate(fk);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byAuthority.decrypt(fk, out);
            assertThat(out.toByteArray()).isEqualTo(resource("small.txt"));
        }
    }

    @Test
    void aVectorWithOneBodyByteChangedIsRefused() throws IOException {
        byte[] file = resource("unsigned-x25519.kw");
        file[file.length - 20] ^= 1;
        EnvelopeReader r = EnvelopeReader.open(new java.io.ByteArrayInputStream(file), 256);
        try (SessionKey fk = r.unwrap(List.of(identity("alice.key")))) {
            r.authenticate(fk);
            assertThatThrownBy(() -> r.decrypt(fk, java.io.OutputStream.nullOutputStream()))
                    .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_FAILED));
        }
    }

    private static byte[] decrypt(EnvelopeReader r, Identity id) throws IOException {
        try (SessionKey fk = r.unwrap(List.of(id))) {
            r.authenticate(fk);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            r.decrypt(fk, out);
            return out.toByteArray();
        }
    }

    private static EnvelopeReader open(String name) throws IOException {
        return EnvelopeReader.open(new java.io.ByteArrayInputStream(resource(name)), Header.DEFAULT_MAX_RECIPIENTS);
    }

    private static Identity identity(String name) throws IOException {
        return Identity.parse(text(name));
    }

    private static String text(String name) throws IOException {
        return new String(resource(name), StandardCharsets.US_ASCII).strip();
    }

    private static byte[] resource(String name) throws IOException {
        return bytes(DIR + name);
    }

    private static byte[] v2(String name) throws IOException {
        return bytes("/vectors/envelope-v2/" + name);
    }

    private static byte[] bytes(String path) throws IOException {
        try (InputStream in = EnvelopeVectorsTest.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IOException("missing test vector " + path);
            }
            return in.readAllBytes();
        }
    }
}
