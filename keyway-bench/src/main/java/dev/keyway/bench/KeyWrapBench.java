package dev.keyway.bench;

import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.keys.SessionKeys;
import org.bouncycastle.crypto.agreement.X25519Agreement;
import org.bouncycastle.crypto.params.X25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.X25519PublicKeyParameters;
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

import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;

/**
 * Wrapping a 32-byte AES-256-GCM session key for one recipient and unwrapping it again, per recipient
 * type, plus AES-KWP under a 256-bit key-encryption key. Everything that is per-identity (key
 * generation) happens once per trial; everything {@link KeyWrap} does per call is measured, since that
 * is what each recipient of a file costs.
 *
 * <p>Run through {@code bench/jmh KeyWrapBench}. The target is stated for one core, so run
 * with {@code -t 1}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class KeyWrapBench {

    /** One identity per recipient type, and a blob already wrapped for it so {@link #unwrap} measures unwrapping only. */
    @State(Scope.Benchmark)
    public static class Recipients {
        @Param({"x25519", "xwing", "p256", "rsa3072"})
        public String type;

        Identity identity;
        Recipient recipient;
        SessionKey sessionKey;
        KeyBlob blob;

        @Setup(Level.Trial)
        public void setUp() {
            identity = Identity.generate(KeyType.byId(type));
            recipient = identity.recipient();
            sessionKey = SessionKeys.generate(Algorithms.AES_256_GCM);
            blob = KeyWrap.wrap(sessionKey, recipient);
            try (SessionKey back = KeyWrap.unwrap(blob, identity)) {
                if (!back.sameKeyAs(sessionKey)) {
                    throw new IllegalStateException(type + ": unwrap did not return the wrapped key");
                }
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            identity.destroy();
            sessionKey.destroy();
        }
    }

    /** A 256-bit key-encryption key and a blob wrapped under it. */
    @State(Scope.Benchmark)
    public static class Kek {
        SessionKey kek;
        SessionKey sessionKey;
        KeyBlob blob;

        @Setup(Level.Trial)
        public void setUp() {
            kek = SessionKeys.generate(Algorithms.AES_KW, 256);
            sessionKey = SessionKeys.generate(Algorithms.AES_256_GCM);
            blob = KeyWrap.wrap(sessionKey, kek);
            try (SessionKey back = KeyWrap.unwrap(blob, kek)) {
                if (!back.sameKeyAs(sessionKey)) {
                    throw new IllegalStateException("aes-kwp: unwrap did not return the wrapped key");
                }
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            kek.destroy();
            sessionKey.destroy();
        }
    }

    /** Two fixed X25519 keys, for the baseline below. */
    @State(Scope.Benchmark)
    public static class RawX25519 {
        X25519PrivateKeyParameters privateKey;
        X25519PublicKeyParameters peerKey;

        @Setup(Level.Trial)
        public void setUp() {
            SecureRandom random = new SecureRandom();
            privateKey = new X25519PrivateKeyParameters(random);
            peerKey = new X25519PrivateKeyParameters(random).generatePublicKey();
        }
    }

    /** One wrap and one unwrap: the score is pairs per second. */
    @Benchmark
    public SessionKey wrapUnwrap(Recipients r) {
        KeyBlob blob = KeyWrap.wrap(r.sessionKey, r.recipient);
        return KeyWrap.unwrap(blob, r.identity);
    }

    @Benchmark
    public KeyBlob wrap(Recipients r) {
        return KeyWrap.wrap(r.sessionKey, r.recipient);
    }

    @Benchmark
    public SessionKey unwrap(Recipients r) {
        return KeyWrap.unwrap(r.blob, r.identity);
    }

    /** AES-KWP (RFC 5649) under a 256-bit KEK: one wrap and one unwrap. */
    @Benchmark
    public SessionKey kwpWrapUnwrap(Kek k) {
        KeyBlob blob = KeyWrap.wrap(k.sessionKey, k.kek);
        return KeyWrap.unwrap(blob, k.kek);
    }

    /**
     * Baseline, not a Keyway operation: one Bouncy Castle X25519 agreement (a single scalar
     * multiplication with fixed keys, no key generation, no HKDF, no AEAD). It is what
     * {@code openssl speed ecdhx25519} counts, so bench/wrap-vs-openssl.sh sets the two side by side;
     * an x25519 {@link #unwrap} is one of these plus the HPKE key schedule and a ChaCha20-Poly1305 open,
     * a {@link #wrap} is one of these plus an ephemeral key generation (a fixed-base multiplication) and
     * the same symmetric work.
     */
    @Benchmark
    public byte[] baselineX25519Agreement(RawX25519 k) {
        X25519Agreement agreement = new X25519Agreement();
        agreement.init(k.privateKey);
        byte[] secret = new byte[agreement.getAgreementSize()];
        agreement.calculateAgreement(k.peerKey, secret, 0);
        return secret;
    }
}
