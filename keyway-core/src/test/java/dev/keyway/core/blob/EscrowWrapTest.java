package dev.keyway.core.blob;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.Vectors;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.keys.SessionKeys;
import org.bouncycastle.crypto.hpke.HPKE;
import org.bouncycastle.crypto.hpke.HPKEContextWithEncapsulation;
import org.bouncycastle.pqc.crypto.xwing.XWingKEMExtractor;
import org.bouncycastle.pqc.crypto.xwing.XWingPrivateKeyParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.HexFormat;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Escrow blobs: bound to an owner (and message), derandomized so anyone with the key recomputes them. */
class EscrowWrapTest {
    private static final Map<KeyType, Identity> AUTHORITIES = new java.util.EnumMap<>(KeyType.class);
    private static final byte[] MESSAGE = HexFormat.of().parseHex("00112233445566778899aabbccddeeff");

    private static synchronized Identity authority(KeyType type) {
        return AUTHORITIES.computeIfAbsent(type, Identity::generate);
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void boundBlobOpensOnlyForItsOwnerAndMessage(KeyType type) {
        Identity authority = authority(type);
        try (SessionKey key = SessionKeys.generate(Algorithms.AES_256_GCM, 256)) {
            EscrowBinding alice = EscrowBinding.message("alice", MESSAGE);
            KeyBlob blob = KeyWrap.wrapForEscrow(key, authority.recipient(), alice);
            try (SessionKey back = KeyWrap.unwrapEscrow(blob, authority, alice)) {
                assertThat(back.bytes()).isEqualTo(key.bytes());
            }
            // Re-labelled: another owner, another message, no message, or as a plain blob.
            for (EscrowBinding other : new EscrowBinding[] {EscrowBinding.message("bob", MESSAGE),
                    EscrowBinding.message("alice", new byte[16]), EscrowBinding.owner("alice")}) {
                assertThatThrownBy(() -> KeyWrap.unwrapEscrow(blob, authority, other)).as(other.toString())
                        .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_FAILED));
            }
            assertThatThrownBy(() -> KeyWrap.unwrap(blob, authority)).isInstanceOf(KeywayException.class);
            // And a plain blob does not open as an escrow of anyone.
            KeyBlob plain = KeyWrap.wrap(key, authority.recipient());
            assertThatThrownBy(() -> KeyWrap.unwrapEscrow(plain, authority, alice))
                    .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_FAILED));
        }
    }

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void sameInputsGiveTheSameBytesAndAnyChangeChangesThem(KeyType type) {
        Identity authority = authority(type);
        byte[] k = new byte[32];
        new Random(7).nextBytes(k);
        try (SessionKey key = SessionKey.of(Algorithms.AES_256_GCM, k); SessionKey key2 = SessionKey.of(Algorithms.AES_256_GCM, k);
             SessionKey other = SessionKeys.generate(Algorithms.AES_256_GCM, 256)) {
            EscrowBinding b = EscrowBinding.message("alice", MESSAGE);
            byte[] first = KeyWrap.wrapForEscrow(key, authority.recipient(), b).encode();
            assertThat(KeyWrap.wrapForEscrow(key2, authority.recipient(), EscrowBinding.message("alice", MESSAGE)).encode())
                    .isEqualTo(first);
            assertThat(KeyWrap.wrapForEscrow(key, authority.recipient(), EscrowBinding.message("bob", MESSAGE)).encode()).isNotEqualTo(first);
            assertThat(KeyWrap.wrapForEscrow(key, authority.recipient(), EscrowBinding.owner("alice")).encode()).isNotEqualTo(first);
            assertThat(KeyWrap.wrapForEscrow(other, authority.recipient(), b).encode()).isNotEqualTo(first);
            assertThat(KeyWrap.wrapForEscrow(key, Identity.generate(type).recipient(), b).encode()).isNotEqualTo(first);
        }
    }

    @Test
    void ownerNamesAreBoundInCanonicalForm() {
        Identity authority = authority(KeyType.X25519);
        try (SessionKey key = SessionKeys.generate(Algorithms.AES_256_GCM, 256)) {
            KeyBlob blob = KeyWrap.wrapForEscrow(key, authority.recipient(), EscrowBinding.owner("\uff41\uff4c\uff49\uff43\uff45 "));
            assertThat(KeyWrap.unwrapEscrow(blob, authority, EscrowBinding.owner("alice")).bytes()).isEqualTo(key.bytes());
            // A Cyrillic a is another name: it does not normalize to "alice".
            assertThatThrownBy(() -> KeyWrap.unwrapEscrow(blob, authority, EscrowBinding.owner("\u0430lice")))
                    .isInstanceOf(KeywayException.class);
        }
    }

    /**
     * X-Wing's derandomized encapsulation, as Keyway uses it through HPKE, against the draft's vector
     * (draft-connolly-cfrg-xwing-kem-08, Appendix C): the eseed gives the listed ciphertext and shared secret.
     */
    @Test
    void xwingEncapsulationFromAnEseedIsTheDrafts() {
        Map<String, String> v = Vectors.load("/vectors/xwing-draft-08.txt").get("C.1");
        HPKE hpke = KeyType.XWING.hpke();
        HPKEContextWithEncapsulation ctx = hpke.setupBaseS(hpke.deserializePublicKey(hex(v.get("pk"))), new byte[0], hex(v.get("eseed")));
        assertThat(ctx.getEncapsulation()).isEqualTo(hex(v.get("ct")));
        byte[] ss = new XWingKEMExtractor(new XWingPrivateKeyParameters(hex(v.get("sk")))).extractSecret(hex(v.get("ct")));
        assertThat(ss).isEqualTo(hex(v.get("ss")));
    }

    /** Property: for random owners A != B, a blob bound to A never opens as B's. */
    @Test
    void randomOwnersNeverOpenEachOthersBlobs() {
        long seed = new Random().nextLong();
        System.out.println("EscrowWrapTest seed " + seed);
        Random r = new Random(seed);
        Identity authority = authority(KeyType.X25519);
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ._@-\u00e9\u0430\uff41";
        for (int i = 0; i < 200; i++) {
            String a = randomName(r, alphabet);
            String b = randomName(r, alphabet);
            if (EscrowBinding.owner(a).equals(EscrowBinding.owner(b))) {
                continue;
            }
            try (SessionKey key = SessionKeys.generate(Algorithms.AES_256_GCM, 256)) {
                KeyBlob blob = KeyWrap.wrapForEscrow(key, authority.recipient(), EscrowBinding.owner(a));
                assertThatThrownBy(() -> KeyWrap.unwrapEscrow(blob, authority, EscrowBinding.owner(b)))
                        .as("seed %d: '%s' vs '%s'", seed, a, b).isInstanceOf(KeywayException.class);
            }
        }
    }

    private static String randomName(Random r, String alphabet) {
        StringBuilder sb = new StringBuilder("x");
        int n = r.nextInt(6);
        for (int i = 0; i < n; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replaceAll("\\s", ""));
    }
}
