package dev.keyway.core.kdf;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Bench-only launcher for {@code bench/argon2-vs-cli.sh}: times {@link Argon2id} in one JVM after a
 * warm-up, so the numbers show steady-state (JIT-compiled) cost rather than JVM start-up.
 *
 * <p>Usage: {@code Argon2Timing [--runs N] [--warmup W] [--m KiB] [--t T] [--p P] [--l LEN]
 * [--password TEXT] [--salt TEXT] [--bc]}. Prints {@code key=value} lines for the script to parse.
 */
public final class Argon2Timing {
    private Argon2Timing() {}

    public static void main(String[] args) {
        int runs = 10;
        int warmup = 5;
        int m = 1 << 16;
        int t = 3;
        int p = 4;
        int l = 32;
        String password = "password";
        String salt = "somesalt";
        boolean bouncyCastle = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs": runs = Integer.parseInt(args[++i]); break;
                case "--warmup": warmup = Integer.parseInt(args[++i]); break;
                case "--m": m = Integer.parseInt(args[++i]); break;
                case "--t": t = Integer.parseInt(args[++i]); break;
                case "--p": p = Integer.parseInt(args[++i]); break;
                case "--l": l = Integer.parseInt(args[++i]); break;
                case "--password": password = args[++i]; break;
                case "--salt": salt = args[++i]; break;
                case "--bc": bouncyCastle = true; break;
                default: throw new IllegalArgumentException("unknown argument: " + args[i]);
            }
        }
        byte[] pw = password.getBytes(StandardCharsets.UTF_8);
        byte[] s = salt.getBytes(StandardCharsets.UTF_8);

        byte[] tag = null;
        for (int i = 0; i < warmup; i++) {
            tag = Argon2id.derive(pw, s, m, t, p, l);
        }
        double[] ms = new double[runs];
        for (int i = 0; i < runs; i++) {
            long start = System.nanoTime();
            tag = Argon2id.derive(pw, s, m, t, p, l);
            ms[i] = (System.nanoTime() - start) / 1e6;
        }
        report("keyway", ms);
        System.out.println("keyway_hash=" + (tag == null ? "" : HexFormat.of().formatHex(tag)));

        if (bouncyCastle) {
            Argon2Parameters params = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                    .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                    .withIterations(t).withMemoryAsKB(m).withParallelism(p).withSalt(s).build();
            byte[] out = new byte[l];
            for (int i = 0; i < warmup; i++) {
                Argon2BytesGenerator g = new Argon2BytesGenerator();
                g.init(params);
                g.generateBytes(pw, out);
            }
            double[] bc = new double[runs];
            for (int i = 0; i < runs; i++) {
                long start = System.nanoTime();
                Argon2BytesGenerator g = new Argon2BytesGenerator();
                g.init(params);
                g.generateBytes(pw, out);
                bc[i] = (System.nanoTime() - start) / 1e6;
            }
            report("bouncycastle", bc);
        }
    }

    private static void report(String name, double[] ms) {
        double sum = 0;
        double min = Double.MAX_VALUE;
        double max = 0;
        for (double v : ms) {
            sum += v;
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        System.out.printf("%s_mean_ms=%.1f%n%s_min_ms=%.1f%n%s_max_ms=%.1f%n",
                name, sum / ms.length, name, min, name, max);
    }
}
