package dev.keyway.authority;

import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.keys.SessionKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Rotating the authority key: every stored blob re-wrapped for the new key, resumable after a crash. */
class RotationTest {
    @TempDir
    Path dir;

    @Test
    void everyBlobIsRewrappedAndStillOpensToTheSameKey() {
        AuthorityHome home = new AuthorityHome(dir.resolve("a"));
        home.init(KeyType.X25519, null);
        Identity old = home.identity(f -> null);
        List<SessionKey> keys = new ArrayList<>();
        try (AuthorityStore store = AuthorityStore.open(home.databaseUrl(), old)) {
            Client c = store.enroll("alice", Identity.generate(KeyType.X25519).recipient(), true, Instant.now());
            for (int i = 0; i < 1203; i++) { // more than two pages of 500
                SessionKey k = SessionKeys.generate(Algorithms.AES_256_GCM);
                keys.add(k);
                store.escrow(c, KeyWrap.wrap(k, old.recipient()).encode(), "k" + i, (long) i, null, Instant.now());
            }
            Identity rotated = home.rotate(store, old, KeyType.XWING, null, Instant.now());
            Identity fresh = home.identity(f -> null);
            assertThat(fresh.recipient()).isEqualTo(rotated.recipient());
            assertThat(fresh.type()).isEqualTo(KeyType.XWING);
            assertThat(Files.exists(home.dir().resolve(AuthorityHome.IDENTITY + ".new"))).isFalse();
            for (EscrowRecord r : store.find(new AuthorityStore.Query("alice", null, null, null, null, null, 10_000))) {
                KeyBlob blob = KeyBlob.decode(r.blob());
                assertThat(blob.recipientId()).isEqualTo(fresh.recipient().id());
                // Escrowed as plain blobs (before owner binding): bound to their owner by the rotation.
                try (SessionKey k = KeyWrap.unwrapEscrow(blob, fresh, EscrowBinding.owner("alice"))) {
                    assertThat(k.sameKeyAs(keys.get(r.serial().intValue()))).isTrue();
                }
            }
            // The head is signed by the new key from the rotation's last entry on.
            assertThat(store.verifyAudit(fresh.recipient()).intact()).isTrue();
            assertThat(store.verifyAudit(old.recipient()).intact()).isFalse();
            assertThat(store.auditEntries(0, 10_000)).filteredOn(e -> e.action().equals("rotate")).hasSize(4); // 3 pages + the summary
        }
    }

    @Test
    void anInterruptedRotationResumesWithTheNewKeyItAlreadyWrote() {
        AuthorityHome home = new AuthorityHome(dir.resolve("b"));
        home.init(KeyType.X25519, null);
        Identity old = home.identity(f -> null);
        try (AuthorityStore store = AuthorityStore.open(home.databaseUrl(), old)) {
            Client c = store.enroll("bob", Identity.generate(KeyType.X25519).recipient(), true, Instant.now());
            SessionKey k1 = SessionKeys.generate(Algorithms.AES_256_GCM);
            SessionKey k2 = SessionKeys.generate(Algorithms.AES_256_GCM);
            store.escrow(c, KeyWrap.wrap(k1, old.recipient()).encode(), "one", 1L, null, Instant.now());
            // A crash after the new identity was written and one blob re-wrapped:
            Identity fresh = Identity.generate(KeyType.X25519);
            dev.keyway.core.identity.IdentityFile.write(home.dir().resolve(AuthorityHome.IDENTITY + ".new"), fresh, null);
            store.escrow(c, KeyWrap.wrapForEscrow(k2, fresh.recipient(), EscrowBinding.owner("bob")).encode(), "two", 2L, null, Instant.now());

            home.rotate(store, old, KeyType.XWING, null, Instant.now());
            Identity now = home.identity(f -> null);
            assertThat(now.recipient()).isEqualTo(fresh.recipient()); // resumed with the key on disk, not a third one
            for (EscrowRecord r : store.find(new AuthorityStore.Query("bob", null, null, null, null, null, 10))) {
                try (SessionKey k = KeyWrap.unwrapEscrow(KeyBlob.decode(r.blob()), now, EscrowBinding.owner("bob"))) {
                    assertThat(k.sameKeyAs(r.serial() == 1 ? k1 : k2)).isTrue();
                }
            }
        }
    }


    /** An upgrade: plain blobs stored before owner binding are bound, for the same key; bound ones are left alone. */
    @Test
    void bindLegacyBindsPlainBlobsToTheirOwnersAndIsIdempotent() {
        AuthorityHome home = new AuthorityHome(dir.resolve("c"));
        home.init(KeyType.X25519, null);
        Identity authority = home.identity(f -> null);
        try (AuthorityStore store = AuthorityStore.open(home.databaseUrl(), authority)) {
            Client c = store.enroll("carol", Identity.generate(KeyType.X25519).recipient(), true, Instant.now());
            SessionKey legacy = SessionKeys.generate(Algorithms.AES_256_GCM);
            SessionKey bound = SessionKeys.generate(Algorithms.AES_256_GCM);
            byte[] boundBlob = KeyWrap.wrapForEscrow(bound, authority.recipient(), EscrowBinding.owner("carol")).encode();
            String legacyId = store.escrow(c, KeyWrap.wrap(legacy, authority.recipient()).encode(), "old", 1L, null, Instant.now())
                    .record().id();
            String boundId = store.escrow(c, boundBlob, "new", 2L, null, Instant.now()).record().id();
            assertThat(home.bindLegacy(store, authority, Instant.now())).isEqualTo(1);
            try (SessionKey k = KeyWrap.unwrapEscrow(KeyBlob.decode(store.escrow(legacyId).orElseThrow().blob()), authority,
                    EscrowBinding.owner("carol"))) {
                assertThat(k.sameKeyAs(legacy)).isTrue();
            }
            assertThat(store.escrow(boundId).orElseThrow().blob()).isEqualTo(boundBlob);
            assertThat(home.bindLegacy(store, authority, Instant.now())).isZero();
            assertThat(store.verifyAudit(authority.recipient()).intact()).isTrue();
            assertThat(store.auditEntries(0, 100)).filteredOn(e -> e.action().equals("bind")).hasSize(3); // one page, two summaries
        }
    }
}
