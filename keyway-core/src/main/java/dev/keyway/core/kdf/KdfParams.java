package dev.keyway.core.kdf;

import dev.keyway.core.KeywayException;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator;
import org.bouncycastle.crypto.generators.SCrypt;
import org.bouncycastle.crypto.params.KeyParameter;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Parameters of a password KDF. Each variant bounds its numbers so that a hostile parameter string
 * (in a PHC string, an encrypted identity or a later file format) cannot make Keyway allocate
 * unbounded memory or loop for hours.
 */
public sealed interface KdfParams permits KdfParams.Argon2idParams, KdfParams.ScryptParams, KdfParams.Pbkdf2Params {

    /** The KDF's name as the CLI and PHC strings spell it: argon2id, scrypt, pbkdf2-sha256. */
    String kdf();

    /** The parameters as {@code key=value,...}, the form {@code --params} takes and PHC strings carry. */
    String encode();

    /** Runs the KDF. No policy on salt or output length here: that is {@link PasswordKdf}'s job. */
    byte[] derive(byte[] password, byte[] salt, int length);

    /** Argon2id (RFC 9106), version 0x13. Memory in KiB. */
    record Argon2idParams(int memoryKiB, int iterations, int parallelism) implements KdfParams {
        public static final int MAX_MEMORY_KIB = 4 * 1024 * 1024;
        public static final int MAX_ITERATIONS = 64;
        public static final int MAX_PARALLELISM = 64;
        /** RFC 9106 section 4, second recommended option: 64 MiB, 3 passes, 4 lanes. */
        public static final Argon2idParams DEFAULT = new Argon2idParams(65536, 3, 4);

        public Argon2idParams {
            bound("argon2id p", parallelism, 1, MAX_PARALLELISM);
            bound("argon2id m (KiB)", memoryKiB, 8 * parallelism, MAX_MEMORY_KIB);
            bound("argon2id t", iterations, 1, MAX_ITERATIONS);
        }

        @Override
        public String kdf() {
            return "argon2id";
        }

        @Override
        public String encode() {
            return "m=" + memoryKiB + ",t=" + iterations + ",p=" + parallelism;
        }

        @Override
        public byte[] derive(byte[] password, byte[] salt, int length) {
            return Argon2id.derive(password, salt, memoryKiB, iterations, parallelism, length);
        }
    }

    /** scrypt (RFC 7914). N is a power of two; PHC strings carry it as ln = log2(N). */
    record ScryptParams(int logN, int r, int p) implements KdfParams {
        /** 2^17 * 8 * 128 bytes = 128 MiB, about half a second here. */
        public static final ScryptParams DEFAULT = new ScryptParams(17, 8, 1);
        /** 1 GiB of memory at most. */
        public static final long MAX_MEMORY_BYTES = 1L << 30;

        public ScryptParams {
            bound("scrypt ln", logN, 1, 24);
            bound("scrypt r", r, 1, 64);
            bound("scrypt p", p, 1, 16);
            long mem = 128L * r * (1L << logN);
            if (mem > MAX_MEMORY_BYTES) {
                throw KeywayException.policy("scrypt parameters need " + (mem >> 20) + " MiB of memory",
                        "keep 128 * r * N at or below " + (MAX_MEMORY_BYTES >> 20) + " MiB");
            }
        }

        public int n() {
            return 1 << logN;
        }

        @Override
        public String kdf() {
            return "scrypt";
        }

        @Override
        public String encode() {
            return "ln=" + logN + ",r=" + r + ",p=" + p;
        }

        @Override
        public byte[] derive(byte[] password, byte[] salt, int length) {
            return SCrypt.generate(password, salt, n(), r, p, length);
        }
    }

    /** PBKDF2 with HMAC-SHA-256 (RFC 8018). */
    record Pbkdf2Params(int iterations) implements KdfParams {
        /** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256. */
        public static final Pbkdf2Params DEFAULT = new Pbkdf2Params(600_000);

        public Pbkdf2Params {
            bound("pbkdf2 i", iterations, 1, 100_000_000);
        }

        @Override
        public String kdf() {
            return "pbkdf2-sha256";
        }

        @Override
        public String encode() {
            return "i=" + iterations;
        }

        @Override
        public byte[] derive(byte[] password, byte[] salt, int length) {
            var gen = new PKCS5S2ParametersGenerator(
                    new SHA256Digest());
            gen.init(password, salt, iterations);
            return ((KeyParameter) gen.generateDerivedParameters(length * 8)).getKey();
        }
    }

    /** The default parameters of a KDF named as the CLI names it (argon2id, scrypt, pbkdf2). */
    static KdfParams defaults(String kdf) {
        return switch (canonicalKdf(kdf)) {
            case "argon2id" -> Argon2idParams.DEFAULT;
            case "scrypt" -> ScryptParams.DEFAULT;
            default -> Pbkdf2Params.DEFAULT;
        };
    }

    /**
     * Parses {@code key=value,...} for the named KDF. Keys not given take their defaults.
     * argon2id: m (KiB), t, p. scrypt: ln (log2 N) or n (a power of two), r, p. pbkdf2: i.
     */
    static KdfParams parse(String kdf, String params) {
        String name = canonicalKdf(kdf);
        Map<String, Integer> kv = parseKeyValues(params);
        switch (name) {
            case "argon2id" -> {
                Argon2idParams d = Argon2idParams.DEFAULT;
                checkKeys(name, kv, "m", "t", "p");
                return new Argon2idParams(kv.getOrDefault("m", d.memoryKiB()), kv.getOrDefault("t", d.iterations()),
                        kv.getOrDefault("p", d.parallelism()));
            }
            case "scrypt" -> {
                ScryptParams d = ScryptParams.DEFAULT;
                checkKeys(name, kv, "ln", "n", "r", "p");
                int ln = d.logN();
                if (kv.containsKey("n") && kv.containsKey("ln")) {
                    throw KeywayException.usage("scrypt parameters give both n and ln", "give one of them");
                }
                if (kv.containsKey("n")) {
                    int n = kv.get("n");
                    if (n < 2 || Integer.bitCount(n) != 1) {
                        throw KeywayException.usage("scrypt n must be a power of two greater than 1, not " + n,
                                "for example n=131072 (or ln=17)");
                    }
                    ln = Integer.numberOfTrailingZeros(n);
                } else if (kv.containsKey("ln")) {
                    ln = kv.get("ln");
                }
                return new ScryptParams(ln, kv.getOrDefault("r", d.r()), kv.getOrDefault("p", d.p()));
            }
            default -> {
                checkKeys(name, kv, "i");
                return new Pbkdf2Params(kv.getOrDefault("i", Pbkdf2Params.DEFAULT.iterations()));
            }
        }
    }

    /** Maps the accepted spellings to argon2id, scrypt or pbkdf2-sha256. */
    static String canonicalKdf(String kdf) {
        String k = kdf.trim().toLowerCase(Locale.ROOT);
        return switch (k) {
            case "argon2id", "argon2" -> "argon2id";
            case "scrypt" -> "scrypt";
            case "pbkdf2", "pbkdf2-sha256", "pbkdf2-hmac-sha256" -> "pbkdf2-sha256";
            default -> throw KeywayException.usage("unknown KDF '" + kdf + "'", "use argon2id, scrypt or pbkdf2");
        };
    }

    private static Map<String, Integer> parseKeyValues(String params) {
        Map<String, Integer> kv = new LinkedHashMap<>();
        if (params == null || params.isBlank()) {
            return kv;
        }
        if (params.length() > 200) {
            throw KeywayException.usage("KDF parameters are too long", "give them as m=65536,t=3,p=4");
        }
        for (String part : params.split(",", -1)) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw KeywayException.usage("bad KDF parameter '" + part.strip() + "'", "give key=value pairs separated by commas, e.g. m=65536,t=3,p=4");
            }
            String key = part.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            String value = part.substring(eq + 1).strip();
            if (kv.containsKey(key)) {
                throw KeywayException.usage("KDF parameter '" + key + "' is given twice", "give each parameter once");
            }
            try {
                if (!value.matches("[0-9]{1,10}")) {
                    throw new NumberFormatException();
                }
                kv.put(key, Integer.parseInt(value));
            } catch (NumberFormatException e) {
                throw KeywayException.usage("KDF parameter '" + key + "' is not a whole number: '" + value + "'",
                        "give a decimal number below 2147483648");
            }
        }
        return kv;
    }

    private static void checkKeys(String kdf, Map<String, Integer> kv, String... allowed) {
        for (String k : kv.keySet()) {
            if (!Arrays.asList(allowed).contains(k)) {
                throw KeywayException.usage(kdf + " has no parameter '" + k + "'",
                        "its parameters are " + String.join(", ", allowed));
            }
        }
    }

    private static void bound(String what, int value, int min, int max) {
        if (value < min || value > max) {
            throw KeywayException.policy(what + " = " + value + " is outside the allowed range",
                    "use " + min + " to " + max);
        }
    }
}
