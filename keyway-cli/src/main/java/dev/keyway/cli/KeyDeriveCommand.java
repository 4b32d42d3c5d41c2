package dev.keyway.cli;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.kdf.KdfParams;
import dev.keyway.core.kdf.PasswordKdf;
import dev.keyway.core.kdf.PasswordKdf.DerivedKey;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

@Command(name = "derive", mixinStandardHelpOptions = true,
        header = "Derive a session key from a password; print it with its recipe.",
        description = {"Derive a session key from a password and print it with its recipe: a PHC-style string holding the KDF, its parameters and the salt (never the key), so the same key can be derived again later instead of being stored. Give the recipe back with --phc to re-derive.",
                "",
                "Defaults: Argon2id m=65536 (KiB, i.e. 64 MiB), t=3, p=4 (RFC 9106's second recommendation); scrypt ln=17,r=8,p=1; pbkdf2 (HMAC-SHA-256) i=600000; a random 16-byte salt; 32-byte key. One trailing newline in the password file is ignored."})
final class KeyDeriveCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--password-file", paramLabel = "FILE", required = true, description = "File holding the password ('-' for standard input).")
    String passwordFile;

    @Option(names = "--kdf", paramLabel = "NAME", description = "argon2id (default), scrypt or pbkdf2.")
    String kdf;

    @Option(names = "--salt", paramLabel = "HEX", description = "Salt in hex, 8 to 64 bytes (default: 16 random bytes).")
    String salt;

    @Option(names = "--params", paramLabel = "K=V,...", description = {"KDF parameters; missing ones take defaults. argon2id: m=KiB,t=passes,p=lanes  scrypt: ln=log2(N) or n=N,r,p  pbkdf2: i=iterations"})
    String params;

    @Option(names = "--phc", paramLabel = "RECIPE", description = "Re-derive from a recipe printed earlier (replaces --kdf, --salt and --params).")
    String phc;

    @Option(names = "--length", paramLabel = "BYTES", defaultValue = "32", description = "Key length in bytes, 16 to 64 (default: ${DEFAULT-VALUE}).")
    int length;

    @Option(names = "--json", description = "Print JSON: key, kdf, salt, params, phc, length.")
    boolean json;

    @Override
    public void run() {
        KdfParams p;
        byte[] s;
        if (phc != null) {
            if (kdf != null || salt != null || params != null) {
                throw KeywayException.usage("--phc already holds the KDF, its parameters and the salt",
                        "drop --kdf, --salt and --params");
            }
            PasswordKdf.Recipe recipe = PasswordKdf.parsePhc(phc);
            p = recipe.params();
            s = recipe.salt();
        } else {
            String name = kdf == null ? "argon2id" : kdf;
            p = params == null ? PasswordKdf.defaults(name) : PasswordKdf.params(name, params);
            s = salt == null ? PasswordKdf.randomSalt() : Hex.decode(salt.strip(), "--salt");
        }
        byte[] password = CliIo.readSecret(passwordFile, "password file");
        DerivedKey derived;
        try {
            derived = PasswordKdf.derive(password, s, p, length);
        } finally {
            Arrays.fill(password, (byte) 0);
        }
        try {
            String key = Hex.encode(derived.key());
            var out = spec.commandLine().getOut();
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("key", key);
                m.put("kdf", p.kdf());
                m.put("salt", Hex.encode(derived.salt()));
                m.put("params", paramsObject(p));
                m.put("phc", derived.phc());
                m.put("length", length);
                out.print(CliIo.json(m));
            } else {
                out.println("key:    " + key);
                out.println("recipe: " + derived.phc());
            }
            out.flush();
        } finally {
            derived.destroy();
        }
    }

    static Map<String, Object> paramsObject(KdfParams p) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (p instanceof KdfParams.Argon2idParams a) {
            m.put("m", a.memoryKiB());
            m.put("t", a.iterations());
            m.put("p", a.parallelism());
            m.put("v", 19);
        } else if (p instanceof KdfParams.ScryptParams sc) {
            m.put("ln", sc.logN());
            m.put("n", sc.n());
            m.put("r", sc.r());
            m.put("p", sc.p());
        } else if (p instanceof KdfParams.Pbkdf2Params pb) {
            m.put("i", pb.iterations());
            m.put("hash", "sha256");
        }
        return m;
    }
}
