package dev.keyway.envelope;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.kdf.KdfParams;
import dev.keyway.core.keys.SessionKey;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

import static dev.keyway.envelope.Envelopes.concat;
import static dev.keyway.envelope.Envelopes.decrypt;
import static dev.keyway.envelope.Envelopes.encrypt;
import static dev.keyway.envelope.Envelopes.expectCode;
import static dev.keyway.envelope.Envelopes.unlessAuthFailed;
import static org.assertj.core.api.Assertions.assertThat;

class TamperTest {
    static final int SEALED = Stream.SEALED_CHUNK;

    static Identity alice;
    static Identity bob;
    static Identity sender;
    static Identity escrow;

    @BeforeAll
    static void identities() {
        alice = Identity.generate(KeyType.X25519);
        bob = Identity.generate(KeyType.X25519);
        sender = Identity.generate(KeyType.X25519);
        escrow = Identity.generate(KeyType.X25519);
    }

    /** Flips every bit of {@code file} in turn; every copy must fail with AUTH_FAILED and nothing else. */
    private static void everyBitFlipIsAuthFailed(byte[] file, String what, java.util.function.Function<byte[], String> attempt) {
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < file.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] copy = file.clone();
                copy[i] ^= (byte) (1 << bit);
                String outcome = attempt.apply(copy);
                if (outcome != null) {
                    wrong.add("byte " + i + " bit " + bit + ": " + outcome);
                }
            }
        }
        assertThat(wrong).as(what + " (" + file.length + " bytes, header " + Envelopes.headerLength(file)
                + "): bit flips that did not fail with AUTH_FAILED; first ones").isEmpty();
    }

    @ParameterizedTest(name = "signed={0}, {1}")
    @CsvSource({"false, AES_256_GCM", "true, AES_256_GCM", "false, CHACHA20_POLY1305", "true, CHACHA20_POLY1305"})
    void everySingleBitFlipFailsAuthentication(boolean signed, PayloadAead aead) throws Exception {
        byte[] data = Envelopes.random(100, 100);
        EnvelopeWriter w = new EnvelopeWriter().recipients(List.of(alice.recipient())).aead(aead);
        if (signed) {
            w.signer(sender);
        }
        byte[] file = encrypt(w, data);
        assertThat(decrypt(file, alice).plaintext()).isEqualTo(data);
        everyBitFlipIsAuthFailed(file, "signed=" + signed + " " + aead, copy -> unlessAuthFailed(copy, alice));
    }

    @Test
    void everySingleBitFlipOfAPassphraseFileFailsAuthentication() throws Exception {
        byte[] pass = "pw".getBytes(StandardCharsets.US_ASCII);
        byte[] data = Envelopes.random(101, 40);
        byte[] file = encrypt(new EnvelopeWriter().passphrase(pass, new KdfParams.Argon2idParams(64, 1, 1)), data);
        assertThat(Envelopes.decryptWithPassphrase(file, pass).plaintext()).isEqualTo(data);
        everyBitFlipIsAuthFailed(file, "passphrase file", copy -> {
            try {
                Envelopes.decryptWithPassphrase(copy, pass);
                return "decrypted successfully";
            } catch (KeywayException e) {
                return e.code() == ErrorCode.AUTH_FAILED ? null : e.code() + ": " + e.getMessage();
            } catch (Throwable t) {
                return t.toString();
            }
        });
    }

    // --- a multi-chunk file: truncation, reordering, splicing ---

    private static byte[] threeAndAHalfChunks(boolean signed, long seed) throws Exception {
        EnvelopeWriter w = new EnvelopeWriter().recipients(List.of(alice.recipient()));
        if (signed) {
            w.signer(sender);
        }
        return encrypt(w, Envelopes.random(seed, 3 * 65536 + 32768));
    }

    /**
     * A signed file of several chunks, whose hash runs on a second thread: every bit of the header and of the
     * signature, 64 bytes at each end of every chunk, and every 509th byte between, flipped in turn, all fail.
     */
    @Test
    void bitFlipsAcrossASignedMultiChunkFileFail() throws Exception {
        byte[] file = threeAndAHalfChunks(true, 77);
        assertThat(file.length).isGreaterThan(ChunkHasher.INLINE_BYTES);
        int header = Envelopes.headerLength(file);
        int signature = file.length - Stream.SIGNATURE;
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < file.length; i++) {
            int inBody = (i - header) % SEALED;
            boolean take = i < header || i >= signature || inBody < 64 || inBody >= SEALED - 64 || i % 509 == 0;
            for (int bit = 0; take && bit < 8; bit++) {
                byte[] copy = file.clone();
                copy[i] ^= (byte) (1 << bit);
                String outcome = unlessAuthFailed(copy, alice);
                if (outcome != null) {
                    wrong.add("byte " + i + " bit " + bit + ": " + outcome);
                }
            }
        }
        assertThat(wrong).as("bit flips of a signed multi-chunk file that did not fail with AUTH_FAILED").isEmpty();
    }

    @ParameterizedTest(name = "signed={0}")
    @CsvSource({"false", "true"})
    void truncationAnywhereFails(boolean signed) throws Exception {
        byte[] file = threeAndAHalfChunks(signed, 1);
        int h = Envelopes.headerLength(file);
        TreeSet<Integer> cuts = new TreeSet<>();
        for (int k = 0; k <= 4; k++) {
            int boundary = h + k * SEALED;
            for (int d : new int[] {-1, 0, 1, 16, 17, 64, 65}) {
                cuts.add(boundary + d);
            }
        }
        for (int c : new int[] {1, 3, 4, 5, 8, 9, 10, h / 2, h - 32, h - 1, file.length - 1, file.length - 16,
                file.length - 17, file.length - 64, file.length - 65, file.length - 80}) {
            cuts.add(c);
        }
        cuts.removeIf(c -> c <= 0 || c >= file.length);
        List<String> wrong = new ArrayList<>();
        for (int c : cuts) {
            String outcome = unlessAuthFailed(Arrays.copyOf(file, c), alice);
            if (outcome != null) {
                wrong.add("cut at " + c + ": " + outcome);
            }
        }
        assertThat(wrong).as("header " + h + ", file " + file.length).isEmpty();
        // At exactly a chunk boundary (the first three chunks intact), the reader treats the last full chunk
        // as the last one, and its nonce says otherwise.
        KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "cut after chunk 3",
                () -> decrypt(Arrays.copyOf(file, h + 3 * SEALED), alice));
        assertThat(e.getMessage()).contains("chunk 2 failed authentication");
    }

    @Test
    void emptyInputIsAUsageError() {
        expectCode(ErrorCode.USAGE, "empty input", () -> decrypt(new byte[0], alice));
    }

    @ParameterizedTest(name = "signed={0}")
    @CsvSource({"false", "true"})
    void reorderingDroppingAndAppendingFail(boolean signed) throws Exception {
        byte[] file = threeAndAHalfChunks(signed, 2);
        int h = Envelopes.headerLength(file);
        byte[] header = Arrays.copyOf(file, h);
        List<byte[]> c = Envelopes.chunks(file, signed);
        assertThat(c).hasSize(4);
        byte[] sig = signed ? Arrays.copyOfRange(file, file.length - 64, file.length) : new byte[0];

        KeywayException swapped = expectCode(ErrorCode.AUTH_FAILED, "swap 0 and 1",
                () -> decrypt(concat(header, c.get(1), c.get(0), c.get(2), c.get(3), sig), alice));
        assertThat(swapped.getMessage()).contains("chunk 0 failed authentication");

        KeywayException dropped = expectCode(ErrorCode.AUTH_FAILED, "drop chunk 1",
                () -> decrypt(concat(header, c.get(0), c.get(2), c.get(3), sig), alice));
        assertThat(dropped.getMessage()).contains("chunk 1 failed authentication");

        KeywayException droppedLast = expectCode(ErrorCode.AUTH_FAILED, "drop the last chunk",
                () -> decrypt(concat(header, c.get(0), c.get(1), c.get(2), sig), alice));
        assertThat(droppedLast.getMessage()).contains("failed authentication");

        expectCode(ErrorCode.AUTH_FAILED, "duplicate chunk 0",
                () -> decrypt(concat(header, c.get(0), c.get(0), c.get(1), c.get(2), c.get(3), sig), alice));

        for (byte[] extra : List.of(new byte[1], new byte[16], new byte[64], c.get(3), c.get(0))) {
            expectCode(ErrorCode.AUTH_FAILED, "append " + extra.length + " bytes",
                    () -> decrypt(concat(file, extra), alice));
        }
    }

    @Test
    void aDamagedChunkIsNamedAndNothingAfterItIsReleased() throws Exception {
        int chunks = 8;
        byte[] data = Envelopes.random(12, chunks * 65536 - 1000);
        for (boolean signed : new boolean[] {false, true}) {
            EnvelopeWriter w = new EnvelopeWriter().recipients(List.of(alice.recipient()));
            byte[] file = encrypt(signed ? w.signer(sender) : w, data);
            int h = Envelopes.headerLength(file);
            for (int k = 0; k < chunks; k++) {
                byte[] copy = file.clone();
                copy[h + k * SEALED + 100] ^= 0x40;
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                String ctx = "signed=" + signed + ", chunk " + k + " damaged";
                KeywayException e = expectCode(ErrorCode.AUTH_FAILED, ctx, () -> {
                    EnvelopeReader r = EnvelopeReader.open(new java.io.ByteArrayInputStream(copy), Envelopes.MAX);
                    try (SessionKey fk = r.unwrap(List.of(alice))) {
                        r.authenticate(fk);
                        r.decrypt(fk, out);
                    }
                });
                assertThat(e.getMessage()).as(ctx).contains("chunk " + k + " failed authentication");
                byte[] released = out.toByteArray();
                assertThat(released.length).as(ctx + ": plaintext released").isLessThanOrEqualTo(k * 65536);
                assertThat(released).as(ctx).isEqualTo(Arrays.copyOf(data, released.length));
            }
        }
    }

    @Test
    void chunksFromAnotherFileToTheSameRecipientFail() throws Exception {
        for (boolean signed : new boolean[] {false, true}) {
            byte[] f1 = threeAndAHalfChunks(signed, 3);
            byte[] f2 = threeAndAHalfChunks(signed, 3); // same plaintext, same recipient, other file key
            int h1 = Envelopes.headerLength(f1);
            byte[] header1 = Arrays.copyOf(f1, h1);
            List<byte[]> a = Envelopes.chunks(f1, signed);
            List<byte[]> b = Envelopes.chunks(f2, signed);
            byte[] sig1 = signed ? Arrays.copyOfRange(f1, f1.length - 64, f1.length) : new byte[0];
            for (int k = 0; k < 4; k++) {
                List<byte[]> mixed = new ArrayList<>(a);
                mixed.set(k, b.get(k));
                byte[] forged = concat(header1, concat(mixed.toArray(new byte[0][])), sig1);
                KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "signed=" + signed + " chunk " + k + " from file 2",
                        () -> decrypt(forged, alice));
                assertThat(e.getMessage()).contains("chunk " + k + " failed authentication");
            }
            // The whole body of file 2 under the header of file 1.
            byte[] body2 = Envelopes.body(f2, signed);
            expectCode(ErrorCode.AUTH_FAILED, "body of file 2", () -> decrypt(concat(header1, body2, sig1), alice));
        }
    }

    @Test
    void anEmptyLastChunkAfterAFullOneIsRefusedEvenWhenCorrectlySealed() throws Exception {
        // A key holder (any recipient) can seal chunks. Plaintext of exactly one chunk must be written as one
        // last chunk, never as a full chunk followed by an empty last one.
        byte[] data = Envelopes.random(5, 65536);
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())), data);
        Header h;
        byte[] forged;
        try (SessionKey fk = Envelopes.fileKey(file, alice)) {
            h = Envelopes.header(file);
            byte[] payloadKey = Envelopes.hkdf(fk, h.payloadNonce(), "keyway payload v1");
            byte[] c0 = Envelopes.chunk(javax.crypto.Cipher.ENCRYPT_MODE, h.aead(), payloadKey, 0, false, data);
            byte[] c1 = Envelopes.chunk(javax.crypto.Cipher.ENCRYPT_MODE, h.aead(), payloadKey, 1, true, new byte[0]);
            assertThat(c0).hasSize(SEALED);
            assertThat(c1).hasSize(16);
            forged = concat(Arrays.copyOf(file, h.length()), c0, c1);
        }
        KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "empty last chunk", () -> decrypt(forged, alice));
        assertThat(e.getMessage()).contains("empty chunk");
    }

    // --- a recipient forging a signed file ---

    private record Signed(byte[] file, byte[] data) {
    }

    private static Signed signedForAliceBobAndEscrow() throws Exception {
        byte[] data = Envelopes.random(9, 1000);
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient(), bob.recipient()))
                .escrow(escrow.recipient(), "alice").signer(sender), data);
        return new Signed(file, data);
    }

    /** Alice rebuilds the header with {@code stanzas}, with a correct MAC; the body stays. */
    private static byte[] rebuiltHeader(byte[] file, List<Stanza> stanzas, dev.keyway.core.identity.Recipient senderField)
            throws Exception {
        Header h = Envelopes.header(file);
        try (SessionKey fk = Envelopes.fileKey(file, alice)) {
            return h.withStanzas(stanzas, senderField).seal(fk).encodedWithMac();
        }
    }

    private static List<Stanza> without(Header h, Identity who, boolean dropEscrow) {
        List<Stanza> out = new ArrayList<>();
        for (Stanza s : h.stanzas()) {
            if (s instanceof Stanza.Escrow && dropEscrow) {
                continue;
            }
            if (who != null && Arrays.equals(s.blob().recipientId(), who.recipient().id())) {
                continue;
            }
            out.add(s);
        }
        return out;
    }

    @Test
    void recipientCannotStripAStanzaFromASignedFile() throws Exception {
        Signed s = signedForAliceBobAndEscrow();
        Header h = Envelopes.header(s.file());
        byte[] body = Envelopes.body(s.file(), true);
        byte[] signature = Arrays.copyOfRange(s.file(), s.file().length - 64, s.file().length);

        for (boolean dropBob : new boolean[] {true, false}) {
            List<Stanza> stanzas = without(h, dropBob ? bob : null, !dropBob);
            assertThat(stanzas).hasSize(2);
            byte[] header = rebuiltHeader(s.file(), stanzas, sender.recipient());
            String what = dropBob ? "without Bob's stanza" : "without the escrow stanza";

            // 1. The original signature kept at the end.
            byte[] keepSig = concat(header, body, signature);
            assertForgeryRefusedBySignature(keepSig, what + ", original signature");

            // 2. Signed by Alice, but the sender field still names the real sender.
            byte[] aliceSig = concat(header, body, Envelopes.sign(alice, concat(header, body)));
            assertForgeryRefusedBySignature(aliceSig, what + ", signed by Alice as the sender");
        }
    }

    private static void assertForgeryRefusedBySignature(byte[] forged, String what) throws Exception {
        // The forged header itself is sound: the MAC verifies, so it is the signature that stops it.
        try (SessionKey fk = Envelopes.fileKey(forged, alice)) {
            assertThat(fk.length()).isEqualTo(32);
        }
        KeywayException e = expectCode(ErrorCode.AUTH_FAILED, what, () -> decrypt(forged, alice));
        assertThat(e.getMessage()).as(what).contains("signature does not verify");
    }

    @Test
    void theSameStrippingOfAnUnsignedFileIsUndetectable() throws Exception {
        // The control for the test above: the forging code makes files that verify when nothing is signed.
        byte[] data = Envelopes.random(10, 1000);
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient(), bob.recipient()))
                .escrow(escrow.recipient(), "alice"), data);
        Header h = Envelopes.header(file);
        byte[] forged = concat(rebuiltHeader(file, without(h, bob, true), null), Envelopes.body(file, false));
        Envelopes.Decrypted d = decrypt(forged, alice);
        assertThat(d.plaintext()).isEqualTo(data);
        assertThat(d.header().stanzas()).hasSize(1);
        expectCode(ErrorCode.AUTH_FAILED, "bob was stripped", () -> decrypt(forged, bob));
    }

    @Test
    void reSigningUnderItsOwnNameMakesAliceTheReportedSigner() throws Exception {
        // Alice may make a file signed by herself: then the signer is Alice, which --expect-signer catches.
        Signed s = signedForAliceBobAndEscrow();
        Header h = Envelopes.header(s.file());
        byte[] header = rebuiltHeader(s.file(), without(h, bob, false), alice.recipient());
        byte[] body = Envelopes.body(s.file(), true);
        byte[] forged = concat(header, body, Envelopes.sign(alice, concat(header, body)));
        Envelopes.Decrypted d = decrypt(forged, alice);
        assertThat(d.plaintext()).isEqualTo(s.data());
        assertThat(d.result().signer()).isEqualTo(alice.recipient()).isNotEqualTo(sender.recipient());
        assertThat(d.header().sender()).isEqualTo(alice.recipient());
    }

    @Test
    void replacingTheSenderFieldFails() throws Exception {
        Signed s = signedForAliceBobAndEscrow();
        Header h = Envelopes.header(s.file());
        byte[] body = Envelopes.body(s.file(), true);
        byte[] sig = Arrays.copyOfRange(s.file(), s.file().length - 64, s.file().length);
        byte[] header = rebuiltHeader(s.file(), h.stanzas(), bob.recipient());
        KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "sender swapped", () -> decrypt(concat(header, body, sig), alice));
        assertThat(e.getMessage()).contains("signature");
    }

    @Test
    void strippingTheSignatureLeavesAnUnsignedFileNeverOneFromTheSender() throws Exception {
        Signed s = signedForAliceBobAndEscrow();
        Header h = Envelopes.header(s.file());
        // Dropping only the signature bytes: the reader still expects one.
        byte[] noSig = Arrays.copyOf(s.file(), s.file().length - 64);
        expectCode(ErrorCode.AUTH_FAILED, "signature cut off", () -> decrypt(noSig, alice));
        // Dropping the sender field too (with a new MAC) gives an unsigned file: no signer is reported.
        byte[] forged = concat(rebuiltHeader(s.file(), h.stanzas(), null), Envelopes.body(s.file(), true));
        Envelopes.Decrypted d = decrypt(forged, alice);
        assertThat(d.plaintext()).isEqualTo(s.data());
        assertThat(d.result().signer()).isNull();
    }

    @Test
    void signedFileReportsItsSigner() throws Exception {
        Identity x = Identity.generate(KeyType.XWING);
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())).signer(x), new byte[5]);
        Envelopes.Decrypted d = decrypt(file, alice);
        assertThat(d.result().signer()).isEqualTo(x.recipient());
        assertThat(d.result().signer().encode()).isEqualTo(x.recipient().encode());
        assertThat(d.header().sender()).isEqualTo(x.recipient());
        assertThat(d.header().signed()).isTrue();

        byte[] unsigned = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())), new byte[5]);
        assertThat(decrypt(unsigned, alice).result().signer()).isNull();
    }

    @Test
    void otherIdentitiesFailWithAuthFailed() throws Exception {
        Signed s = signedForAliceBobAndEscrow();
        Identity stranger = Identity.generate(KeyType.X25519);
        KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "stranger", () -> decrypt(s.file(), stranger));
        assertThat(e.getMessage()).contains("no identity given is a recipient");
        // The signer is not a recipient either, unless made one.
        expectCode(ErrorCode.AUTH_FAILED, "sender", () -> decrypt(s.file(), sender));
        assertThat(decrypt(s.file(), bob).plaintext()).isEqualTo(s.data());
        assertThat(decrypt(s.file(), escrow).plaintext()).isEqualTo(s.data());
    }
}
