package dev.keyway.bench;

import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.envelope.EnvelopeReader;
import dev.keyway.envelope.EnvelopeWriter;
import dev.keyway.envelope.Header;
import dev.keyway.envelope.PayloadAead;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Steady-state throughput of the envelope body: encrypting and decrypting an in-memory buffer of
 * {@link #SIZE} = 64 MiB (67,108,864 bytes) through the public API, from a {@link ByteArrayInputStream}
 * to {@link OutputStream#nullOutputStream()}, per payload AEAD, unsigned and signed (Ed25519 over the
 * SHA-256 of the file).
 *
 * <p>The score is milliseconds per 64 MiB. Throughput in MB/s (10^6 bytes) is
 * {@code 67.108864 / (score / 1000)} = {@code 67108.864 / score}; in MiB/s it is {@code 65536 / score}.
 *
 * <p>One X25519 recipient, generated once per trial, as is the file {@link #decrypt} reads. Each
 * operation is one whole file, so it includes the per-file work too (one HPKE wrap or unwrap, the header
 * MAC and key commitment, and when signed one Ed25519 signature or verification): tens of microseconds
 * against a body that takes tens to hundreds of milliseconds.
 *
 * <p>Run through {@code bench/jmh EnvelopeBench}; use {@code -t 1} (the default), since the body is
 * sealed and opened on the calling thread.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class EnvelopeBench {
    /** The plaintext size: 64 MiB. */
    public static final int SIZE = 64 << 20;

    @Param({"aes-256-gcm", "chacha20-poly1305"})
    public String aead;

    @Param({"false", "true"})
    public boolean signed;

    PayloadAead payloadAead;
    Identity identity;
    Recipient recipient;
    byte[] plaintext;
    /** {@link #plaintext} encrypted to {@link #recipient} with these parameters, for {@link #decrypt}. */
    byte[] envelope;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        payloadAead = PayloadAead.byId(aead);
        if (payloadAead == null) {
            throw new IllegalArgumentException("unknown payload AEAD: " + aead);
        }
        identity = Identity.generate(KeyType.X25519);
        recipient = identity.recipient();
        plaintext = new byte[SIZE];
        new SplittableRandom(42).nextBytes(plaintext);

        ByteArrayOutputStream file = new ByteArrayOutputStream(SIZE + (SIZE >> 8) + 4096);
        Header header = writer().encrypt(new ByteArrayInputStream(plaintext), file);
        envelope = file.toByteArray();
        if (header.aead() != payloadAead || header.signed() != signed) {
            throw new IllegalStateException("the header does not say " + aead + ", signed=" + signed);
        }

        // Check the round trip once, so a benchmark that measures a failure cannot go unnoticed.
        MessageDigest digest = sha256();
        EnvelopeReader.Result result = open(new HashingOutputStream(digest));
        if (result.plaintextBytes() != SIZE || (result.signer() != null) != signed
                || !MessageDigest.isEqual(digest.digest(), sha256().digest(plaintext))) {
            throw new IllegalStateException("decrypt did not return the plaintext (" + result + ")");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        identity.destroy();
    }

    /** Encrypts the 64 MiB buffer: header, STREAM body and (if signed) the signature. */
    @Benchmark
    public Header encrypt() throws IOException {
        return writer().encrypt(new ByteArrayInputStream(plaintext), OutputStream.nullOutputStream());
    }

    /** Decrypts the 64 MiB file: header, unwrap, authenticate, STREAM body and (if signed) the signature check. */
    @Benchmark
    public EnvelopeReader.Result decrypt() throws IOException {
        return open(OutputStream.nullOutputStream());
    }

    private EnvelopeWriter writer() {
        EnvelopeWriter w = new EnvelopeWriter().recipients(List.of(recipient)).aead(payloadAead);
        return signed ? w.signer(identity) : w;
    }

    private EnvelopeReader.Result open(OutputStream out) throws IOException {
        EnvelopeReader reader = EnvelopeReader.open(new ByteArrayInputStream(envelope), 256);
        try (SessionKey key = reader.unwrap(List.of(identity))) {
            reader.authenticate(key);
            return reader.decrypt(key, out);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Hashes what is written to it and keeps nothing (setup only). */
    private static final class HashingOutputStream extends OutputStream {
        private final MessageDigest digest;

        HashingOutputStream(MessageDigest digest) {
            this.digest = digest;
        }

        @Override
        public void write(int b) {
            digest.update((byte) b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            digest.update(b, off, len);
        }
    }
}
