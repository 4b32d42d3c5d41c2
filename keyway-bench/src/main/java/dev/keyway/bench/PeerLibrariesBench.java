package dev.keyway.bench;

import com.amazonaws.encryptionsdk.AwsCrypto;
import com.amazonaws.encryptionsdk.CommitmentPolicy;
import com.amazonaws.encryptionsdk.CryptoAlgorithm;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.StreamingAead;
import com.google.crypto.tink.streamingaead.PredefinedStreamingAeadParameters;
import com.google.crypto.tink.streamingaead.StreamingAeadConfig;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.envelope.EnvelopeReader;
import dev.keyway.envelope.EnvelopeWriter;
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

import software.amazon.cryptography.materialproviders.IKeyring;
import software.amazon.cryptography.materialproviders.MaterialProviders;
import software.amazon.cryptography.materialproviders.model.AesWrappingAlg;
import software.amazon.cryptography.materialproviders.model.CreateRawAesKeyringInput;
import software.amazon.cryptography.materialproviders.model.MaterialProvidersConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Keyway's envelope next to the Java libraries a user would pick instead, in one JMH run: Google Tink's streaming
 * AEAD ({@code AES256_GCM_HKDF_1MB}) and the AWS Encryption SDK for Java (a raw AES keyring, the committing suite
 * without signatures, {@code ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY}, 64 KiB frames like Keyway's chunks; its
 * default frame is 4 KiB). One whole message per operation, from a byte array to {@link OutputStream#nullOutputStream()}
 * (encrypt) or from the message to the same (decrypt), so per-message work counts: Keyway wraps its file key for one
 * X25519 recipient (one HPKE encapsulation or decapsulation), Tink and the AWS SDK derive it from a symmetric key.
 *
 * <p>Score: milliseconds per message; MB/s = size / score / 1000.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class PeerLibrariesBench {
    @Param({"keyway", "tink", "aws"})
    public String library;

    /** Message size in bytes: 1 MiB and 256 MiB. */
    @Param({"1048576", "268435456"})
    public int size;

    private static final byte[] AAD = new byte[0];

    byte[] plaintext;
    byte[] message;
    Identity identity;
    StreamingAead tink;
    AwsCrypto aws;
    IKeyring keyring;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        plaintext = new byte[size];
        new SplittableRandom(7).nextBytes(plaintext);
        switch (library) {
            case "keyway" -> identity = Identity.generate(KeyType.X25519);
            case "tink" -> {
                StreamingAeadConfig.register();
                tink = KeysetHandle.generateNew(PredefinedStreamingAeadParameters.AES256_GCM_HKDF_1MB)
                        .getPrimitive(RegistryConfiguration.get(), StreamingAead.class);
            }
            case "aws" -> {
                aws = AwsCrypto.builder()
                        .withCommitmentPolicy(CommitmentPolicy.RequireEncryptRequireDecrypt)
                        .withEncryptionAlgorithm(CryptoAlgorithm.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY)
                        .withEncryptionFrameSize(64 << 10)
                        .build();
                byte[] key = new byte[32];
                new SecureRandom().nextBytes(key);
                MaterialProviders mpl = MaterialProviders.builder()
                        .MaterialProvidersConfig(MaterialProvidersConfig.builder().build()).build();
                keyring = mpl.CreateRawAesKeyring(CreateRawAesKeyringInput.builder()
                        .keyNamespace("keyway-bench").keyName("aes-256")
                        .wrappingKey(ByteBuffer.wrap(key)).wrappingAlg(AesWrappingAlg.ALG_AES256_GCM_IV12_TAG16).build());
            }
            default -> throw new IllegalArgumentException("unknown library " + library);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(size + (size >> 6) + 4096);
        encryptTo(out);
        message = out.toByteArray();
        // The round trip once, so that a benchmark measuring a failure cannot go unnoticed.
        ByteArrayOutputStream back = new ByteArrayOutputStream(size);
        decryptTo(back);
        if (!Arrays.equals(back.toByteArray(), plaintext)) {
            throw new IllegalStateException(library + " did not give the plaintext back");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (identity != null) {
            identity.destroy();
        }
    }

    @Benchmark
    public void encrypt() throws Exception {
        encryptTo(OutputStream.nullOutputStream());
    }

    @Benchmark
    public void decrypt() throws Exception {
        decryptTo(OutputStream.nullOutputStream());
    }

    private void encryptTo(OutputStream out) throws IOException, GeneralSecurityException {
        switch (library) {
            case "keyway" -> new EnvelopeWriter().recipients(List.of(identity.recipient()))
                    .encrypt(new ByteArrayInputStream(plaintext), out);
            case "tink" -> {
                try (OutputStream enc = tink.newEncryptingStream(nonClosing(out), AAD)) {
                    enc.write(plaintext);
                }
            }
            default -> {
                try (OutputStream enc = aws.createEncryptingStream(keyring, nonClosing(out))) {
                    enc.write(plaintext);
                }
            }
        }
    }

    private void decryptTo(OutputStream out) throws IOException, GeneralSecurityException {
        switch (library) {
            case "keyway" -> {
                EnvelopeReader reader = EnvelopeReader.open(new ByteArrayInputStream(message), 256);
                try (SessionKey key = reader.unwrap(List.of(identity))) {
                    reader.authenticate(key);
                    reader.decrypt(key, out);
                }
            }
            case "tink" -> {
                try (InputStream dec = tink.newDecryptingStream(new ByteArrayInputStream(message), AAD)) {
                    dec.transferTo(out);
                }
            }
            default -> {
                try (InputStream dec = aws.createDecryptingStream(keyring, new ByteArrayInputStream(message))) {
                    dec.transferTo(out);
                }
            }
        }
    }

    /** The libraries close the stream they write to when their own is closed; the sink here must stay open. */
    private static OutputStream nonClosing(OutputStream out) {
        return new FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }
}
