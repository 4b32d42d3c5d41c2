package dev.keyway.envelope;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.SessionKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import static dev.keyway.envelope.Envelopes.concat;
import static dev.keyway.envelope.Envelopes.encrypt;
import static dev.keyway.envelope.Envelopes.expectCode;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The version-2 escrow stanza (docs/FORMAT.md, "Escrow stanza"): bound to its owner and message, derived
 * from the file key, so every recipient recomputes it; a stanza that does not is refused by the check.
 */
class EscrowStanzaTest {
    static final Identity ALICE = Identity.generate(KeyType.X25519);
    static final Identity AUTHORITY = Identity.generate(KeyType.X25519);
    static final byte[] DATA = Envelopes.random(3, 70_000);

    static byte[] escrowed(Recipient authority, String owner) throws IOException {
        return encrypt(new EnvelopeWriter().recipients(List.of(ALICE.recipient())).escrow(authority, owner), DATA);
    }

    static EnvelopeReader opened(byte[] file, Identity id, SessionKey[] key) throws IOException {
        EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(file), Envelopes.MAX);
        key[0] = r.unwrap(List.of(id));
        r.authenticate(key[0]);
        return r;
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void everyRecipientRecomputesTheStanza(KeyType type) throws IOException {
        Identity authority = Identity.generate(type);
        byte[] file = escrowed(authority.recipient(), "\uff41lice ");
        Header h = Envelopes.header(file);
        assertThat(h.version()).isEqualTo(2);
        assertThat(h.escrow().owner()).isEqualTo("alice");
        SessionKey[] k = new SessionKey[1];
        EnvelopeReader r = opened(file, ALICE, k);
        r.checkEscrow(k[0], authority.recipient());
        // And the authority opens it with the binding the stanza names.
        assertThat(Envelopes.decrypt(file, authority).plaintext()).isEqualTo(DATA);
    }

    @Test
    void aFileWithoutEscrowIsVersion1AndRefusedByTheCheck() throws IOException {
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(ALICE.recipient())), DATA);
        assertThat(file[4]).isEqualTo((byte) 1);
        SessionKey[] k = new SessionKey[1];
        EnvelopeReader r = opened(file, ALICE, k);
        KeywayException e = expectCode(ErrorCode.POLICY, "no stanza", () -> r.checkEscrow(k[0], AUTHORITY.recipient()));
        assertThat(e.getMessage()).contains("no escrow stanza");
    }

    @Test
    void aStanzaForAnotherAuthorityIsRefused() throws IOException {
        byte[] file = escrowed(Identity.generate(KeyType.X25519).recipient(), "alice");
        SessionKey[] k = new SessionKey[1];
        EnvelopeReader r = opened(file, ALICE, k);
        KeywayException e = expectCode(ErrorCode.POLICY, "other authority", () -> r.checkEscrow(k[0], AUTHORITY.recipient()));
        assertThat(e.getMessage()).contains("is for authority");
    }

    /**
     * A sender who wants a file the authority cannot open for its owner: a stanza bound to another owner,
     * one with fresh randomness, or one holding another key, each under a valid MAC (the sender knows the
     * file key). None recomputes.
     */
    @Test
    void aStanzaThatDoesNotRecomputeIsRefused() throws IOException {
        byte[] file = escrowed(AUTHORITY.recipient(), "alice");
        Header h = Envelopes.header(file);
        SessionKey[] k = new SessionKey[1];
        opened(file, ALICE, k);
        SessionKey fk = k[0];
        byte[] mid = h.messageId();
        List<Stanza.Escrow> forged = List.of(
                new Stanza.Escrow(KeyWrap.wrapForEscrow(fk, AUTHORITY.recipient(), EscrowBinding.message("bob", mid)), "alice"),
                new Stanza.Escrow(KeyWrap.wrapForEscrowFresh(fk, AUTHORITY.recipient(), EscrowBinding.message("alice", mid)), "alice"),
                new Stanza.Escrow(KeyWrap.wrapForEscrow(fk, AUTHORITY.recipient(), EscrowBinding.message("alice", new byte[16])), "alice"),
                new Stanza.Escrow(KeyWrap.wrap(fk, AUTHORITY.recipient()), "alice"));
        for (Stanza.Escrow stanza : forged) {
            List<Stanza> stanzas = new ArrayList<>(h.stanzas());
            stanzas.set(stanzas.size() - 1, stanza);
            byte[] crafted = concat(h.withStanzas(stanzas, null).seal(fk).encodedWithMac(), Envelopes.body(file, false));
            // The file still decrypts for alice (the MAC is right)...
            assertThat(Envelopes.decrypt(crafted, ALICE).plaintext()).isEqualTo(DATA);
            // ...but its escrow is not what it claims.
            SessionKey[] k2 = new SessionKey[1];
            EnvelopeReader r = opened(crafted, ALICE, k2);
            KeywayException e = expectCode(ErrorCode.POLICY, "forged stanza", () -> r.checkEscrow(k2[0], AUTHORITY.recipient()));
            assertThat(e.getMessage()).contains("does not recompute");
        }
    }

    @Test
    void aVersion1StanzaCannotBeChecked() throws IOException {
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(ALICE.recipient())), DATA);
        Header h = Envelopes.header(file);
        SessionKey[] k = new SessionKey[1];
        opened(file, ALICE, k);
        List<Stanza> stanzas = new ArrayList<>(h.stanzas());
        stanzas.add(new Stanza.Escrow(KeyWrap.wrap(k[0], AUTHORITY.recipient()), null));
        byte[] v1 = concat(h.withStanzas(stanzas, null).seal(k[0]).encodedWithMac(), Envelopes.body(file, false));
        assertThat(v1[4]).isEqualTo((byte) 1);
        SessionKey[] k2 = new SessionKey[1];
        EnvelopeReader r = opened(v1, ALICE, k2);
        KeywayException e = expectCode(ErrorCode.POLICY, "v1 stanza", () -> r.checkEscrow(k2[0], AUTHORITY.recipient()));
        assertThat(e.getMessage()).contains("version 1");
        // The authority still opens a version-1 stanza (no binding).
        assertThat(Envelopes.decrypt(v1, AUTHORITY).plaintext()).isEqualTo(DATA);
    }

    @Test
    void anOwnerNotInCanonicalFormIsDamage() throws IOException {
        byte[] file = escrowed(AUTHORITY.recipient(), "alice");
        // Rewrite the stanza's owner bytes ("alice" -> "Alice" is still canonical; "alic\u0065\u0301" is not NFKC).
        List<Envelopes.Field> fields = Envelopes.fields(file);
        for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i).type() == Header.T_ESCROW) {
                byte[] v = fields.get(i).value();
                byte[] owner = "alic\u0065\u0301".getBytes(java.nio.charset.StandardCharsets.UTF_8);
                byte[] nv = new byte[2 + owner.length + v.length - 2 - 5];
                nv[1] = (byte) owner.length;
                System.arraycopy(owner, 0, nv, 2, owner.length);
                System.arraycopy(v, 2 + 5, nv, 2 + owner.length, v.length - 7);
                fields.set(i, new Envelopes.Field(Header.T_ESCROW, nv));
            }
        }
        byte[] bad = concat(Envelopes.headerWithoutMac(fields), new byte[32], Envelopes.body(file, false));
        KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "non-canonical owner",
                () -> EnvelopeReader.open(new ByteArrayInputStream(bad), Envelopes.MAX));
        assertThat(e.getMessage()).contains("canonical");
    }

    @Test
    void rekeyingKeepsTheStanzaAndItStillRecomputes() throws IOException {
        byte[] file = escrowed(AUTHORITY.recipient(), "alice");
        Identity bob = Identity.generate(KeyType.X25519);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        SessionKey[] k0 = new SessionKey[1];
        EnvelopeReader r0 = opened(file, ALICE, k0);
        Rekey.rekey(r0, k0[0], List.of(bob.recipient()), List.of(), null, Envelopes.MAX, out);
        byte[] rekeyed = out.toByteArray();
        assertThat(Envelopes.header(rekeyed).version()).isEqualTo(2);
        SessionKey[] k = new SessionKey[1];
        EnvelopeReader r = opened(rekeyed, bob, k);
        r.checkEscrow(k[0], AUTHORITY.recipient());
    }
}
