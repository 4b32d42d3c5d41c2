package dev.keyway.envelope;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.armor.ArmorOutputStream;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.kdf.KdfParams;
import dev.keyway.core.keys.SessionKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static dev.keyway.envelope.Envelopes.decrypt;
import static dev.keyway.envelope.Envelopes.decryptWithPassphrase;
import static dev.keyway.envelope.Envelopes.encrypt;
import static dev.keyway.envelope.Envelopes.expectCode;
import static org.assertj.core.api.Assertions.assertThat;

class RoundTripTest {
    static final int CHUNK = 65536;
    static final KdfParams.Argon2idParams CHEAP = new KdfParams.Argon2idParams(64, 1, 1);
    static final long RANDOM_SIZES_SEED = 0x5EED_0001L;

    static Identity alice;
    static Identity signer;

    @BeforeAll
    static void identities() {
        alice = Identity.generate(KeyType.X25519);
        signer = Identity.generate(KeyType.X25519);
    }

    /** On disk: header, then each chunk is its plaintext plus a 16-byte tag, then the signature if signed. */
    private static long expectedLength(Header h, int size, boolean signed) {
        long chunks = size == 0 ? 1 : (size + CHUNK - 1) / CHUNK;
        return h.length() + size + chunks * 16 + (signed ? 64 : 0);
    }

    private static void roundTrip(int size, PayloadAead aead, boolean signed, long seed) throws Exception {
        String ctx = "size " + size + ", " + aead + ", signed " + signed + ", seed " + seed;
        byte[] data = Envelopes.random(seed, size);
        EnvelopeWriter w = new EnvelopeWriter().recipients(List.of(alice.recipient())).aead(aead);
        if (signed) {
            w.signer(signer);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Header written = w.encrypt(new ByteArrayInputStream(data), out);
        byte[] file = out.toByteArray();
        assertThat((long) file.length).as(ctx).isEqualTo(expectedLength(written, size, signed));

        Envelopes.Decrypted d = decrypt(file, alice);
        assertThat(d.plaintext()).as(ctx).isEqualTo(data);
        assertThat(d.result().plaintextBytes()).as(ctx).isEqualTo(size);
        assertThat(d.result().chunks()).as(ctx).isEqualTo(size == 0 ? 1 : (size + CHUNK - 1) / CHUNK);
        assertThat(d.result().signer()).as(ctx).isEqualTo(signed ? signer.recipient() : null);
        assertThat(d.header().aead()).as(ctx).isEqualTo(aead);
        assertThat(d.header().signed()).as(ctx).isEqualTo(signed);
        assertThat(d.header().messageIdHex()).as(ctx).isEqualTo(written.messageIdHex());
    }

    static Stream<Arguments> edgeSizes() {
        List<Arguments> args = new ArrayList<>();
        for (int size : new int[] {0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK}) {
            for (PayloadAead aead : PayloadAead.values()) {
                for (boolean signed : new boolean[] {false, true}) {
                    args.add(Arguments.of(size, aead, signed));
                }
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} bytes, {1}, signed={2}")
    @MethodSource("edgeSizes")
    void chunkBoundarySizesRoundTrip(int size, PayloadAead aead, boolean signed) throws Exception {
        roundTrip(size, aead, signed, size);
    }

    @Test
    void randomSizesRoundTrip() throws Exception {
        Random rnd = new Random(RANDOM_SIZES_SEED);
        for (int i = 0; i < 20; i++) {
            int size = rnd.nextInt(300_001);
            PayloadAead aead = PayloadAead.values()[rnd.nextInt(2)];
            boolean signed = rnd.nextBoolean();
            roundTrip(size, aead, signed, RANDOM_SIZES_SEED * 31 + i);
        }
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void eachRecipientTypeRoundTrips(KeyType type) throws Exception {
        Identity id = Identity.generate(type);
        byte[] data = Envelopes.random(type.ordinal(), 1000);
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(id.recipient())), data);
        Envelopes.Decrypted d = decrypt(file, id);
        assertThat(d.plaintext()).isEqualTo(data);
        assertThat(d.header().stanzas()).singleElement().isInstanceOf(Stanza.ForRecipient.class);
        assertThat(d.header().stanzas().get(0).blob().recipientIdHex()).isEqualTo(id.recipient().idHex());
        // Another identity of the same type is not a recipient.
        if (type != KeyType.RSA3072) {
            Identity other = Identity.generate(type);
            KeywayException e = expectCode(ErrorCode.AUTH_FAILED, type.id(), () -> decrypt(file, other));
            assertThat(e.getMessage()).contains("no identity given is a recipient");
        }
    }

    @Test
    void everyRecipientOfAMultiRecipientFileCanDecrypt() throws Exception {
        Identity x = Identity.generate(KeyType.X25519);
        Identity p = Identity.generate(KeyType.P256);
        Identity w = Identity.generate(KeyType.XWING);
        byte[] data = Envelopes.random(7, 70_000);
        for (PayloadAead aead : PayloadAead.values()) {
            byte[] file = encrypt(new EnvelopeWriter().aead(aead)
                    .recipients(List.of(x.recipient(), p.recipient(), w.recipient())).signer(signer), data);
            for (Identity id : List.of(x, p, w)) {
                Envelopes.Decrypted d = decrypt(file, id);
                assertThat(d.plaintext()).as(id + " " + aead).isEqualTo(data);
                assertThat(d.result().signer()).isEqualTo(signer.recipient());
            }
            assertThat(Envelopes.header(file).stanzas()).hasSize(3).allMatch(s -> s instanceof Stanza.ForRecipient);
            // A list of identities where only the last one is a recipient also works.
            assertThat(decrypt(file, alice, w).plaintext()).isEqualTo(data);
            KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "non-recipient", () -> decrypt(file, alice));
            assertThat(e.getMessage()).contains("no identity given is a recipient")
                    .contains(x.recipient().idHex()).contains(p.recipient().idHex()).contains(w.recipient().idHex());
        }
    }

    @Test
    void duplicateRecipientsGetOneStanza() throws Exception {
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient(), alice.recipient())), new byte[3]);
        assertThat(Envelopes.header(file).stanzas()).hasSize(1);
        assertThat(decrypt(file, alice).plaintext()).isEqualTo(new byte[3]);
    }

    @Test
    void passphraseFileRoundTrips() throws Exception {
        byte[] pass = "correct horse battery staple".getBytes(StandardCharsets.UTF_8);
        byte[] data = Envelopes.random(11, 100_000);
        for (PayloadAead aead : PayloadAead.values()) {
            byte[] file = encrypt(new EnvelopeWriter().passphrase(pass, CHEAP).aead(aead), data);
            EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(file), Envelopes.MAX);
            assertThat(r.isPassphraseFile()).isTrue();
            Stanza.ForPassphrase st = (Stanza.ForPassphrase) r.header().stanzas().get(0);
            assertThat(st.recipe()).startsWith("$argon2id$v=19$m=64,t=1,p=1$");

            assertThat(decryptWithPassphrase(file, pass).plaintext()).isEqualTo(data);

            KeywayException wrong = expectCode(ErrorCode.AUTH_FAILED, "wrong passphrase",
                    () -> decryptWithPassphrase(file, "Correct horse battery staple".getBytes(StandardCharsets.UTF_8)));
            assertThat(wrong.getMessage()).contains("wrong passphrase");
            KeywayException withId = expectCode(ErrorCode.USAGE, "identity on a passphrase file", () -> decrypt(file, alice));
            assertThat(withId.getMessage()).contains("passphrase");
        }
        // The writer must not keep using the caller's array: changing it after configuring has no effect.
        byte[] mutable = pass.clone();
        EnvelopeWriter w = new EnvelopeWriter().passphrase(mutable, CHEAP);
        mutable[0] ^= 1;
        byte[] file = encrypt(w, data);
        assertThat(decryptWithPassphrase(file, pass).plaintext()).isEqualTo(data);
    }

    @Test
    void passphraseMustBeAlone() {
        byte[] pass = "pw".getBytes(StandardCharsets.UTF_8);
        KeywayException e = expectCode(ErrorCode.USAGE, "passphrase + recipient",
                () -> encrypt(new EnvelopeWriter().passphrase(pass, CHEAP).recipients(List.of(alice.recipient())), new byte[1]));
        assertThat(e.getMessage()).contains("passphrase must be the only recipient");
        expectCode(ErrorCode.USAGE, "passphrase + escrow",
                () -> encrypt(new EnvelopeWriter().passphrase(pass, CHEAP).escrow(signer.recipient(), "alice"), new byte[1]));
        KeywayException none = expectCode(ErrorCode.USAGE, "nobody", () -> encrypt(new EnvelopeWriter(), new byte[1]));
        assertThat(none.getMessage()).contains("no recipient");
    }

    @Test
    void identityFileIsNotAPassphraseFile() throws Exception {
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())), new byte[1]);
        EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(file), Envelopes.MAX);
        assertThat(r.isPassphraseFile()).isFalse();
        expectCode(ErrorCode.USAGE, "passphrase on identity file", () -> r.unwrapWithPassphrase(new byte[] {1}));
    }

    @Test
    void escrowStanzaIsDecryptableByTheEscrowIdentity() throws Exception {
        Identity escrow = Identity.generate(KeyType.P256);
        byte[] data = Envelopes.random(13, 5000);
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())).escrow(escrow.recipient(), "alice")
                .signer(signer), data);
        Header h = Envelopes.header(file);
        assertThat(h.stanzas()).hasSize(2);
        assertThat(h.stanzas().get(0)).isInstanceOf(Stanza.ForRecipient.class);
        assertThat(h.stanzas().get(1)).isInstanceOf(Stanza.Escrow.class);
        assertThat(h.stanzas().get(1).blob().recipientIdHex()).isEqualTo(escrow.recipient().idHex());

        assertThat(decrypt(file, escrow).plaintext()).isEqualTo(data);
        assertThat(decrypt(file, alice).plaintext()).isEqualTo(data);

        // Escrow alone is enough to make a file.
        byte[] escrowOnly = encrypt(new EnvelopeWriter().escrow(escrow.recipient(), "alice"), data);
        assertThat(Envelopes.header(escrowOnly).stanzas()).singleElement().isInstanceOf(Stanza.Escrow.class);
        assertThat(decrypt(escrowOnly, escrow).plaintext()).isEqualTo(data);
        expectCode(ErrorCode.AUTH_FAILED, "alice on escrow-only file", () -> decrypt(escrowOnly, alice));
    }

    @Test
    void metadataRoundTripsThroughTheHeader() throws Exception {
        Instant created = Instant.parse("2031-05-06T07:08:09.123Z");
        Clock clock = Clock.fixed(created, ZoneOffset.UTC);
        Instant expires = created.plus(Duration.ofHours(2));
        String type = "text/plain; charset=utf-8 \u00e9";
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())).clock(clock).expires(expires)
                .serial(-2L).contentType(type).signer(signer).aead(PayloadAead.CHACHA20_POLY1305), new byte[] {42});
        Header h = decrypt(file, alice).header();
        assertThat(h.created()).isEqualTo(created);
        assertThat(h.expires()).isEqualTo(expires);
        assertThat(h.serial()).isEqualTo(-2L); // u64 2^64-2
        assertThat(h.contentType()).isEqualTo(type);
        assertThat(h.sender()).isEqualTo(signer.recipient());
        assertThat(h.aead()).isEqualTo(PayloadAead.CHACHA20_POLY1305);
        assertThat(h.messageId()).hasSize(16);
        assertThat(h.length()).isEqualTo(Envelopes.headerLength(file));

        // Absent optional fields read back as null.
        byte[] plain = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())).clock(clock), new byte[0]);
        Header p = Envelopes.header(plain);
        assertThat(p.created()).isEqualTo(created);
        assertThat(p.expires()).isNull();
        assertThat(p.serial()).isNull();
        assertThat(p.contentType()).isNull();
        assertThat(p.sender()).isNull();
        assertThat(p.signed()).isFalse();
        assertThat(p.aead()).isEqualTo(PayloadAead.DEFAULT);

        // Two files never share a message id or payload nonce.
        Header q = Envelopes.header(encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())).clock(clock), new byte[0]));
        assertThat(q.messageIdHex()).isNotEqualTo(p.messageIdHex());
        assertThat(q.payloadNonce()).isNotEqualTo(p.payloadNonce());
    }

    @Test
    void writerRefusesBadMetadata() {
        Instant now = Instant.parse("2030-01-01T00:00:00Z");
        Clock clock = Clock.fixed(now, ZoneOffset.UTC);
        KeywayException e = expectCode(ErrorCode.USAGE, "expires == created",
                () -> encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())).clock(clock).expires(now), new byte[1]));
        assertThat(e.getMessage()).contains("expiry");
        expectCode(ErrorCode.USAGE, "empty content type", () -> new EnvelopeWriter().contentType(""));
        expectCode(ErrorCode.USAGE, "long content type", () -> new EnvelopeWriter().contentType("x".repeat(256)));
        new EnvelopeWriter().contentType("x".repeat(255));
        List<Recipient> three = List.of(alice.recipient(), signer.recipient(), Identity.generate(KeyType.X25519).recipient());
        KeywayException many = expectCode(ErrorCode.USAGE, "too many recipients",
                () -> encrypt(new EnvelopeWriter().recipients(three).maxRecipients(2), new byte[1]));
        assertThat(many.getMessage()).contains("3 recipients");
    }

    @Test
    void readerRefusesMoreRecipientsThanItsLimit() throws Exception {
        List<Recipient> three = List.of(alice.recipient(), signer.recipient(), Identity.generate(KeyType.X25519).recipient());
        byte[] file = encrypt(new EnvelopeWriter().recipients(three), new byte[1]);
        KeywayException e = expectCode(ErrorCode.POLICY, "max 2",
                () -> EnvelopeReader.open(new ByteArrayInputStream(file), 2));
        assertThat(e.getMessage()).contains("more than 2 recipients");
        assertThat(EnvelopeReader.open(new ByteArrayInputStream(file), 3).header().stanzas()).hasSize(3);
    }

    @Test
    void armoredRoundTripIsAutoDetected() throws Exception {
        byte[] data = Envelopes.random(17, 2 * CHUNK + 5);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ArmorOutputStream armor = new ArmorOutputStream(out, EnvelopeReader.ARMOR_LABEL);
        new EnvelopeWriter().recipients(List.of(alice.recipient())).signer(signer).encrypt(new ByteArrayInputStream(data), armor);
        armor.finish();
        String text = out.toString(StandardCharsets.US_ASCII);
        assertThat(text).startsWith("-----BEGIN KEYWAY ENCRYPTED FILE-----\n").endsWith("-----END KEYWAY ENCRYPTED FILE-----\n");
        String[] lines = text.split("\n");
        for (int i = 1; i < lines.length - 2; i++) {
            assertThat(lines[i]).as("line " + i).hasSize(64);
        }
        assertThat(lines[lines.length - 2].length()).isBetween(1, 64);

        Envelopes.Decrypted d = decrypt(out.toByteArray(), alice);
        assertThat(d.plaintext()).isEqualTo(data);
        assertThat(d.result().signer()).isEqualTo(signer.recipient());

        // CRLF line endings and blank lines around the armor are accepted too.
        byte[] crlf = ("\n\n" + text.replace("\n", "\r\n") + "\r\n").getBytes(StandardCharsets.US_ASCII);
        assertThat(decrypt(crlf, alice).plaintext()).isEqualTo(data);

        // Anything after the END line is refused, as damage.
        byte[] trailing = (text + "junk\n").getBytes(StandardCharsets.US_ASCII);
        expectCode(ErrorCode.AUTH_FAILED, "data after END", () -> decrypt(trailing, alice));
        // A truncated armor (no END line) is refused.
        byte[] cut = text.substring(0, text.length() - 40).getBytes(StandardCharsets.US_ASCII);
        expectCode(ErrorCode.AUTH_FAILED, "no END line", () -> decrypt(cut, alice));
    }

    @Test
    void armoredEmptyAndTinyPayloadsViaClose() throws Exception {
        for (int size : new int[] {0, 1, 47, 48, 49}) {
            byte[] data = Envelopes.random(size, size);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (ArmorOutputStream armor = new ArmorOutputStream(out, EnvelopeReader.ARMOR_LABEL)) {
                new EnvelopeWriter().recipients(List.of(alice.recipient())).encrypt(new ByteArrayInputStream(data), armor);
            }
            assertThat(decrypt(out.toByteArray(), alice).plaintext()).as("size " + size).isEqualTo(data);
        }
    }

    @Test
    void sessionKeyFromAnotherFileIsRefused() throws Exception {
        byte[] a = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())), new byte[10]);
        byte[] b = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())), new byte[10]);
        try (SessionKey keyB = Envelopes.fileKey(b, alice)) {
            EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(a), Envelopes.MAX);
            KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "foreign key", () -> r.authenticate(keyB));
            assertThat(e.getMessage()).contains("commitment");
        }
        byte[] chacha = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())).aead(PayloadAead.CHACHA20_POLY1305),
                new byte[10]);
        try (SessionKey keyA = Envelopes.fileKey(a, alice)) {
            EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(chacha), Envelopes.MAX);
            KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "AES key for ChaCha file", () -> r.authenticate(keyA));
            assertThat(e.getMessage()).contains("chacha20-poly1305");
        }
    }

    @Test
    void decryptNeedsAuthenticationFirstAndReadsTheBodyOnce() throws Exception {
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())), new byte[10]);
        EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(file), Envelopes.MAX);
        try (SessionKey fk = r.unwrap(List.of(alice))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.decrypt(fk, new ByteArrayOutputStream()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("authenticate");
            r.authenticate(fk);
            assertThat(r.decrypt(fk, new ByteArrayOutputStream()).plaintextBytes()).isEqualTo(10);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> r.decrypt(fk, new ByteArrayOutputStream()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("already");
        }
    }

    @ParameterizedTest
    @EnumSource(PayloadAead.class)
    void theFileFollowsTheFormatDocument(PayloadAead aead) throws Exception {
        // Everything recomputed from docs/FORMAT.md with the JDK, not with the code under test.
        byte[] data = Envelopes.random(aead.ordinal(), 2 * CHUNK + 100);
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())).signer(signer).aead(aead)
                .serial(3).contentType("text/plain"), data);
        int h = Envelopes.headerLength(file);
        assertThat(Arrays.copyOf(file, 5)).containsExactly('K', 'W', 'E', 'N', 1);
        List<Envelopes.Field> fields = Envelopes.fields(file);
        assertThat(fields).extracting(Envelopes.Field::type)
                .containsExactly(0x0001, 0x0010, 0x0011, 0x0012, 0x0014, 0x0015, 0x0016, 0x0017);
        byte[] payload = fields.get(1).value();
        assertThat(payload).hasSize(18);
        assertThat(payload[0]).isEqualTo((byte) (aead == PayloadAead.AES_256_GCM ? 1 : 2));
        assertThat(payload[1]).isEqualTo((byte) 16);
        byte[] nonce = Arrays.copyOfRange(payload, 2, 18);
        assertThat(new String(fields.get(6).value(), StandardCharsets.US_ASCII)).isEqualTo(signer.recipient().encode());
        // The key blob wraps a key tagged AES-256-GCM (3) or ChaCha20-Poly1305 (4).
        assertThat(fields.get(0).value()[6]).isEqualTo((byte) (aead == PayloadAead.AES_256_GCM ? 3 : 4));

        try (SessionKey fk = Envelopes.fileKey(file, alice)) {
            assertThat(fk.length()).isEqualTo(32);
            assertThat(fields.get(7).value()).isEqualTo(Envelopes.hkdf(fk, new byte[0], "keyway key commitment v1"));
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(Envelopes.hkdf(fk, new byte[0], "keyway header mac v1"), "HmacSHA256"));
            assertThat(mac.doFinal(Arrays.copyOf(file, h - 32))).isEqualTo(Arrays.copyOfRange(file, h - 32, h));

            byte[] payloadKey = Envelopes.hkdf(fk, nonce, "keyway payload v1");
            List<byte[]> chunks = Envelopes.chunks(file, true);
            assertThat(chunks).hasSize(3);
            ByteArrayOutputStream plain = new ByteArrayOutputStream();
            for (int i = 0; i < chunks.size(); i++) {
                plain.writeBytes(Envelopes.chunk(Cipher.DECRYPT_MODE, aead, payloadKey, i, i == chunks.size() - 1, chunks.get(i)));
            }
            assertThat(plain.toByteArray()).isEqualTo(data);
        }
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(Arrays.copyOf(file, file.length - 64));
        byte[] signed = Envelopes.concat("keyway envelope signature v1".getBytes(StandardCharsets.US_ASCII), new byte[] {0}, digest);
        assertThat(signer.recipient().verify(signed, Arrays.copyOfRange(file, file.length - 64, file.length))).isTrue();
    }

    @Test
    void payloadAeadNames() {
        assertThat(PayloadAead.byId("AES-256-GCM")).isEqualTo(PayloadAead.AES_256_GCM);
        assertThat(PayloadAead.byId("chacha20-poly1305")).isEqualTo(PayloadAead.CHACHA20_POLY1305);
        assertThat(PayloadAead.byId("rot13")).isNull();
        assertThat(PayloadAead.byCode(1)).isEqualTo(PayloadAead.AES_256_GCM);
        assertThat(PayloadAead.byCode(2)).isEqualTo(PayloadAead.CHACHA20_POLY1305);
        assertThat(PayloadAead.byCode(3)).isNull();
    }
}
