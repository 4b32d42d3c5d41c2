package dev.keyway.envelope;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.kdf.KdfParams;
import dev.keyway.core.keys.SessionKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;

import static dev.keyway.envelope.Envelopes.decrypt;
import static dev.keyway.envelope.Envelopes.encrypt;
import static dev.keyway.envelope.Envelopes.expectCode;
import static org.assertj.core.api.Assertions.assertThat;

class RekeyTest {
    static Identity alice;
    static Identity bob;
    static Identity carol;
    static Identity sender;
    static Identity escrow;
    static final Instant CREATED = Instant.parse("2030-02-03T04:05:06Z");

    @BeforeAll
    static void identities() {
        alice = Identity.generate(KeyType.X25519);
        bob = Identity.generate(KeyType.P256);
        carol = Identity.generate(KeyType.XWING);
        sender = Identity.generate(KeyType.X25519);
        escrow = Identity.generate(KeyType.X25519);
    }

    private static EnvelopeWriter writer(Identity signer, Recipient... to) {
        EnvelopeWriter w = new EnvelopeWriter().recipients(List.of(to)).clock(Clock.fixed(CREATED, ZoneOffset.UTC))
                .expires(CREATED.plus(Duration.ofDays(3))).serial(12).contentType("application/json");
        return signer == null ? w : w.signer(signer);
    }

    /** Runs Rekey as {@code as}; returns the new file. */
    private static byte[] rekey(byte[] file, Identity as, List<Recipient> add, List<Recipient> remove, Identity signer)
            throws Exception {
        EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(file), Envelopes.MAX);
        try (SessionKey fk = r.unwrap(List.of(as))) {
            r.authenticate(fk);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Header h = Rekey.rekey(r, fk, add, remove, signer, Envelopes.MAX, out);
            byte[] result = out.toByteArray();
            assertThat(h.length()).isEqualTo(Envelopes.headerLength(result));
            return result;
        }
    }

    private static void assertSameMessage(byte[] before, byte[] after, boolean signedBefore, boolean signedAfter) throws Exception {
        Header a = Envelopes.header(before);
        Header b = Envelopes.header(after);
        assertThat(b.messageIdHex()).isEqualTo(a.messageIdHex());
        assertThat(b.created()).isEqualTo(a.created());
        assertThat(b.expires()).isEqualTo(a.expires());
        assertThat(b.serial()).isEqualTo(a.serial());
        assertThat(b.contentType()).isEqualTo(a.contentType());
        assertThat(b.aead()).isEqualTo(a.aead());
        assertThat(b.payloadNonce()).isEqualTo(a.payloadNonce());
        assertThat(b.commitment()).isEqualTo(a.commitment());
        // The body bytes are copied untouched.
        assertThat(Envelopes.body(after, signedAfter)).isEqualTo(Envelopes.body(before, signedBefore));
    }

    @Test
    void addARecipient() throws Exception {
        byte[] data = Envelopes.random(1, 150_000);
        byte[] file = encrypt(writer(null, alice.recipient(), bob.recipient()), data);
        byte[] rekeyed = rekey(file, alice, List.of(carol.recipient()), List.of(), null);
        assertSameMessage(file, rekeyed, false, false);
        for (Identity id : List.of(alice, bob, carol)) {
            assertThat(decrypt(rekeyed, id).plaintext()).as(id.toString()).isEqualTo(data);
        }
        assertThat(Envelopes.header(rekeyed).stanzas()).extracting(s -> s.blob().recipientIdHex())
                .containsExactly(alice.recipient().idHex(), bob.recipient().idHex(), carol.recipient().idHex());
        // Carol could not read the original.
        expectCode(ErrorCode.AUTH_FAILED, "carol on the original", () -> decrypt(file, carol));
    }

    @Test
    void removeARecipient() throws Exception {
        byte[] data = Envelopes.random(2, 70_000);
        byte[] file = encrypt(writer(null, alice.recipient(), bob.recipient()).escrow(escrow.recipient(), "alice"), data);
        byte[] rekeyed = rekey(file, alice, List.of(), List.of(bob.recipient()), null);
        assertSameMessage(file, rekeyed, false, false);
        assertThat(decrypt(rekeyed, alice).plaintext()).isEqualTo(data);
        assertThat(decrypt(rekeyed, escrow).plaintext()).isEqualTo(data);
        KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "removed bob", () -> decrypt(rekeyed, bob));
        assertThat(e.getMessage()).contains("no identity given is a recipient");
        // The escrow stanza stays, after the recipients.
        List<Stanza> stanzas = Envelopes.header(rekeyed).stanzas();
        assertThat(stanzas).hasSize(2);
        assertThat(stanzas.get(0)).isInstanceOf(Stanza.ForRecipient.class);
        assertThat(stanzas.get(1)).isInstanceOf(Stanza.Escrow.class);
    }

    @Test
    void addAndRemoveAtOnceAsTheEscrowAuthority() throws Exception {
        byte[] data = Envelopes.random(3, 10);
        byte[] file = encrypt(writer(null, alice.recipient()).escrow(escrow.recipient(), "alice"), data);
        byte[] rekeyed = rekey(file, escrow, List.of(bob.recipient()), List.of(alice.recipient()), null);
        assertSameMessage(file, rekeyed, false, false);
        assertThat(decrypt(rekeyed, bob).plaintext()).isEqualTo(data);
        expectCode(ErrorCode.AUTH_FAILED, "removed alice", () -> decrypt(rekeyed, alice));
    }

    @Test
    void signedFileIsReSignedWithTheGivenIdentity() throws Exception {
        byte[] data = Envelopes.random(4, 140_000);
        byte[] file = encrypt(writer(sender, alice.recipient(), bob.recipient()), data);
        Identity resigner = Identity.generate(KeyType.X25519);
        byte[] rekeyed = rekey(file, alice, List.of(carol.recipient()), List.of(bob.recipient()), resigner);
        assertSameMessage(file, rekeyed, true, true);
        Envelopes.Decrypted d = decrypt(rekeyed, carol);
        assertThat(d.plaintext()).isEqualTo(data);
        assertThat(d.result().signer()).isEqualTo(resigner.recipient());
        assertThat(d.header().sender()).isEqualTo(resigner.recipient());
        assertThat(Arrays.copyOfRange(rekeyed, rekeyed.length - 64, rekeyed.length))
                .isNotEqualTo(Arrays.copyOfRange(file, file.length - 64, file.length));
        expectCode(ErrorCode.AUTH_FAILED, "removed bob", () -> decrypt(rekeyed, bob));

        // The original sender re-signing keeps it signed by the sender.
        byte[] again = rekey(file, alice, List.of(carol.recipient()), List.of(), sender);
        assertThat(decrypt(again, carol).result().signer()).isEqualTo(sender.recipient());
    }

    @Test
    void unsignedFileCanBecomeSigned() throws Exception {
        byte[] data = Envelopes.random(5, 1000);
        byte[] file = encrypt(writer(null, alice.recipient()), data);
        byte[] rekeyed = rekey(file, alice, List.of(bob.recipient()), List.of(), sender);
        assertSameMessage(file, rekeyed, false, true);
        Envelopes.Decrypted d = decrypt(rekeyed, bob);
        assertThat(d.plaintext()).isEqualTo(data);
        assertThat(d.result().signer()).isEqualTo(sender.recipient());
    }

    @Test
    void signedFileWithoutSignerIsRefusedBeforeWritingAnything() throws Exception {
        byte[] file = encrypt(writer(sender, alice.recipient()), new byte[100]);
        EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(file), Envelopes.MAX);
        try (SessionKey fk = r.unwrap(List.of(alice))) {
            r.authenticate(fk);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            KeywayException e = expectCode(ErrorCode.USAGE, "signed, no signer",
                    () -> Rekey.rekey(r, fk, List.of(bob.recipient()), List.of(), null, Envelopes.MAX, out));
            assertThat(e.getMessage()).contains("signed by " + sender.recipient().idHex());
            // The library names no flag: it says what is needed, and names the hint so the CLI can add its flag.
            assertThat(e.hint()).contains("signing identity").doesNotContain("--");
            assertThat(e.hintId()).isEqualTo(Rekey.HINT_SIGN_AGAIN);
            assertThat(out.size()).isZero();
        }
    }

    @Test
    void removingANonRecipientIsAUsageError() throws Exception {
        byte[] file = encrypt(writer(null, alice.recipient()).escrow(escrow.recipient(), "alice"), new byte[10]);
        for (Identity notThere : List.of(bob, escrow)) { // escrow is not a *recipient* stanza
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            KeywayException e = expectCode(ErrorCode.USAGE, "remove " + notThere, () -> {
                EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(file), Envelopes.MAX);
                SessionKey fk = r.unwrap(List.of(alice));
                r.authenticate(fk);
                Rekey.rekey(r, fk, List.of(), List.of(notThere.recipient()), null, Envelopes.MAX, out);
            });
            assertThat(e.getMessage()).contains(notThere.recipient().idHex()).contains("is not a recipient");
            assertThat(out.size()).isZero();
        }
    }

    @Test
    void otherRefusals() throws Exception {
        byte[] file = encrypt(writer(null, alice.recipient(), bob.recipient()), new byte[10]);
        KeywayException dup = expectCode(ErrorCode.USAGE, "add existing",
                () -> rekey(file, alice, List.of(bob.recipient()), List.of(), null));
        assertThat(dup.getMessage()).contains("already a recipient");
        KeywayException twice = expectCode(ErrorCode.USAGE, "add twice",
                () -> rekey(file, alice, List.of(carol.recipient(), carol.recipient()), List.of(), null));
        assertThat(twice.getMessage()).contains("already a recipient");
        KeywayException empty = expectCode(ErrorCode.USAGE, "remove all",
                () -> rekey(file, alice, List.of(), List.of(alice.recipient(), bob.recipient()), null));
        assertThat(empty.getMessage()).contains("no recipient");
        KeywayException many = expectCode(ErrorCode.USAGE, "over the limit", () -> {
            EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(file), Envelopes.MAX);
            SessionKey fk = r.unwrap(List.of(alice));
            r.authenticate(fk);
            Rekey.rekey(r, fk, List.of(carol.recipient()), List.of(), null, 2, new ByteArrayOutputStream());
        });
        assertThat(many.getMessage()).contains("3 recipients");

        byte[] pass = "pw".getBytes(StandardCharsets.US_ASCII);
        byte[] pfile = encrypt(new EnvelopeWriter().passphrase(pass, new KdfParams.Argon2idParams(64, 1, 1)), new byte[10]);
        KeywayException p = expectCode(ErrorCode.USAGE, "passphrase file", () -> {
            EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(pfile), Envelopes.MAX);
            SessionKey fk = r.unwrapWithPassphrase(pass);
            r.authenticate(fk);
            Rekey.rekey(r, fk, List.of(alice.recipient()), List.of(), null, Envelopes.MAX, new ByteArrayOutputStream());
        });
        assertThat(p.getMessage()).contains("passphrase");
    }

    @Test
    void rekeyVerifiesTheWholeOldFile() throws Exception {
        byte[] data = Envelopes.random(6, 100_000);
        for (boolean signed : new boolean[] {false, true}) {
            byte[] file = encrypt(writer(signed ? sender : null, alice.recipient()), data);
            // A changed byte in the second chunk, and (signed) a changed signature.
            byte[] body = file.clone();
            body[Envelopes.headerLength(file) + 70_000] ^= 1;
            KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "body, signed=" + signed,
                    () -> rekey(body, alice, List.of(bob.recipient()), List.of(), signed ? sender : null));
            assertThat(e.getMessage()).contains("chunk 1 failed authentication");
            if (signed) {
                byte[] sig = file.clone();
                sig[sig.length - 1] ^= 1;
                KeywayException s = expectCode(ErrorCode.AUTH_FAILED, "signature",
                        () -> rekey(sig, alice, List.of(bob.recipient()), List.of(), sender));
                assertThat(s.getMessage()).contains("signature");
            }
        }
    }

    @Test
    void nonCriticalExtensionsSurviveRekeying() throws Exception {
        byte[] data = Envelopes.random(7, 500);
        byte[] file = encrypt(writer(null, alice.recipient()), data);
        Header h = Envelopes.header(file);
        byte[] withExt;
        try (SessionKey fk = Envelopes.fileKey(file, alice)) {
            withExt = Envelopes.concat(Envelopes.withExtensions(h, List.of(new Header.Extension(0x8042, new byte[] {9, 8, 7})))
                    .seal(fk).encodedWithMac(), Envelopes.body(file, false));
        }
        byte[] rekeyed = rekey(withExt, alice, List.of(bob.recipient()), List.of(), null);
        List<Envelopes.Field> fields = Envelopes.fields(rekeyed);
        Envelopes.Field last = fields.get(fields.size() - 1);
        assertThat(last.type()).isEqualTo(0x8042);
        assertThat(last.value()).containsExactly(9, 8, 7);
        assertThat(decrypt(rekeyed, bob).plaintext()).isEqualTo(data);
    }

    @Test
    void rekeyedFileIsTheSameMessageForTheReplayGuard(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        byte[] file = encrypt(writer(null, alice.recipient()), new byte[10]);
        byte[] rekeyed = rekey(file, alice, List.of(bob.recipient()), List.of(), null);
        try (ReplayGuard g = ReplayGuard.open(dir.resolve("replay.db"))) {
            g.accept(Envelopes.header(file), null, CREATED);
            KeywayException e = expectCode(ErrorCode.POLICY, "rekeyed replay",
                    () -> g.check(Envelopes.header(rekeyed), CREATED, ReplayGuard.DEFAULT_MAX_AGE));
            assertThat(e.getMessage()).contains("replayed message " + Envelopes.header(file).messageIdHex());
        }
    }
}
