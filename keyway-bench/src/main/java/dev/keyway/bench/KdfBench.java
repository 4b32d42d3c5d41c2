package dev.keyway.bench;

import dev.keyway.core.kdf.PasswordKdf;
import dev.keyway.core.kdf.KdfParams;
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
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Each password KDF at its default parameters, deriving a 32-byte key, in milliseconds per derivation.
 * A derivation takes 0.2 to 1 s, so iterations are few and run for one invocation at least; JMH's
 * iteration time is a minimum, not a cap.
 *
 * <p>Argon2id's default uses 4 lanes: with more than one core free it runs lanes in parallel, so its
 * number depends on how many cores the machine has free (see docs/BENCHMARKS.md).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class KdfBench {
    private static final byte[] PASSWORD = "correct horse battery staple".getBytes(StandardCharsets.UTF_8);
    private static final byte[] SALT = "keyway-bench-salt".getBytes(StandardCharsets.US_ASCII);

    @Param({"argon2id", "scrypt", "pbkdf2"})
    public String kdf;

    KdfParams params;

    @Setup(Level.Trial)
    public void setUp() {
        params = PasswordKdf.defaults(kdf);
    }

    @Benchmark
    public byte[] derive() {
        PasswordKdf.DerivedKey k = PasswordKdf.derive(PASSWORD, SALT, params, 32);
        return k.key();
    }
}
