package dev.keyway.cli;

import dev.keyway.capi.CapiKey;
import dev.keyway.capi.CipherAlg;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

@Command(name = "derive", mixinStandardHelpOptions = true,
        header = "Derive a key exactly as CryptDeriveKey does; print it (and its salt) in hex.",
        description = {"Hash the base data (a password file, hex bytes) or take a finished hash value, and derive the "
                + "session key as Windows' CryptDeriveKey does: the first n bytes of the hash, or the 0x36/0x5C "
                + "expansion when the hash is shorter than the key or the key is AES from a non-SHA-2 hash; odd parity "
                + "on DES keys; 11 salt bytes on 40-bit RC2/RC4 keys (zeros, or from the hash with --create-salt).",
                "",
                "Example (a program that did CryptHashData(\"secret\") with MD5 and CryptDeriveKey(CALG_RC4, 40 bits)):",
                "  keyway capi derive --hash md5 --password-file pw.txt --alg rc4 --bits 40 --provider base"})
final class CapiDeriveCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--alg", required = true, paramLabel = "ALG", description = "rc2, rc4, des, 3des112, 3des, aes128, aes192 or aes256.")
    String alg;

    @Mixin
    CapiKeyOptions source;

    @Option(names = "--json", description = "Print JSON: key, salt, alg, bits, effective_bits, provider.")
    boolean json;

    @Override
    public void run() {
        if (source.keyHex != null || source.keyFile != null) {
            throw KeywayException.usage("capi derive derives a key; --key and --key-file give one", "drop --key/--key-file");
        }
        CipherAlg a = CipherAlg.parse(alg);
        CapiKey key = source.derive(a);
        byte[] k = key.key();
        byte[] salt = key.salt();
        try {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", Hex.encode(k));
            m.put("salt", Hex.encode(salt));
            m.put("alg", a.cliName());
            m.put("alg_id", String.format("0x%04x", a.algId()));
            m.put("bits", key.bits());
            if (a == CipherAlg.RC2) {
                m.put("effective_bits", key.effectiveBits());
            }
            m.put("provider", source.providerFor(a).constant());
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.print(CliIo.json(m));
            } else {
                out.println("key   " + m.get("key"));
                if (salt.length > 0) {
                    out.println("salt  " + m.get("salt"));
                }
            }
            out.flush();
        } finally {
            Arrays.fill(k, (byte) 0);
            Arrays.fill(salt, (byte) 0);
            key.destroy();
        }
    }
}
