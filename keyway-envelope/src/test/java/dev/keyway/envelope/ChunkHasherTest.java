package dev.keyway.envelope;

import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The signature's SHA-256, hashed on a second thread: the same digest as one thread hashing in order, and no thread left behind. */
class ChunkHasherTest {
    private static MessageDigest sha256() {
        return Stream.sha256();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 100, ChunkHasher.INLINE_BYTES - 1, ChunkHasher.INLINE_BYTES, ChunkHasher.INLINE_BYTES + 1,
            5 * Stream.SEALED_CHUNK + 7, 40 * Stream.SEALED_CHUNK})
    void theDigestIsThatOfTheBytesInOrder(int total) throws Exception {
        byte[] data = new byte[total];
        new SplittableRandom(total).nextBytes(data);
        SplittableRandom cuts = new SplittableRandom(~total);
        ChunkHasher h = new ChunkHasher(sha256());
        try (h) {
            int off = 0;
            while (off < total) {
                // pieces of every size up to a sealed chunk, as the reader and writer give them
                int n = Math.min(total - off, 1 + cuts.nextInt(Stream.SEALED_CHUNK));
                byte[] piece = Arrays.copyOfRange(data, off, off + n);
                h.update(piece, 0, n);
                Arrays.fill(piece, (byte) 0xA5); // the caller reuses its buffer at once
                off += n;
            }
            assertThat(h.digest()).isEqualTo(sha256().digest(data));
        }
    }

    @Test
    void closePartWayStopsTheThread() throws Exception {
        ChunkHasher h = new ChunkHasher(sha256());
        byte[] chunk = new byte[Stream.SEALED_CHUNK];
        for (int i = 0; i < 10; i++) {
            h.update(chunk, 0, chunk.length);
        }
        h.close();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (threadAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(threadAlive()).as("a keyway-sha256 thread outlived close()").isFalse();
        assertThatThrownBy(h::digest).isInstanceOf(IllegalStateException.class);
    }

    private static boolean threadAlive() {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("keyway-sha256") && t.isAlive());
    }

    /**
     * A signed file big enough for the second thread (several chunks) carries the signature of the plain SHA-256 of
     * every byte before it, checked here without the envelope code; and the reader accepts it and refuses a wrong one.
     */
    @Test
    void aSignedMultiChunkFileIsSignedOverTheSequentialHash() throws Exception {
        try (Identity alice = Identity.generate(KeyType.X25519); Identity sender = Identity.generate(KeyType.X25519)) {
            byte[] data = Envelopes.random(7, 9 * Stream.CHUNK + 1234);
            byte[] file = Envelopes.encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())).signer(sender), data);
            int body = file.length - Stream.SIGNATURE;
            byte[] digest = sha256().digest(Arrays.copyOf(file, body));
            byte[] signature = Arrays.copyOfRange(file, body, file.length);
            assertThat(sender.recipient().verify(Stream.signedMessage(digest), signature)).isTrue();
            assertThat(Envelopes.decrypt(file, alice).plaintext()).isEqualTo(data);
            // the same body with the signature of another digest (as if one chunk had been hashed twice or not at all)
            byte[] other = sha256().digest(Arrays.copyOf(file, body - 1));
            byte[] forged = file.clone();
            System.arraycopy(sender.sign(Stream.signedMessage(other)), 0, forged, body, Stream.SIGNATURE);
            assertThat(Envelopes.unlessAuthFailed(forged, alice)).isNull();
        }
    }
}
