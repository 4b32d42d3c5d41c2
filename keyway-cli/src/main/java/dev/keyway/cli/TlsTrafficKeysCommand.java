package dev.keyway.cli;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.core.kdf.TrafficKeys;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

@Command(name = "traffic-keys", mixinStandardHelpOptions = true,
        header = "Derive a TLS 1.3 write key and IV from a traffic secret.",
        description = {"Derive the write key and IV (RFC 8446 section 7.3: HKDF-Expand-Label with \"key\" and \"iv\") "
                + "from a TLS 1.3 traffic secret, such as the third field of a CLIENT_TRAFFIC_SECRET_0 key-log line. "
                + "--updates N applies N KeyUpdate steps first (section 7.2).",
                "",
                "A value given with --secret is visible to other users in the process list; --secret-file is not."})
final class TlsTrafficKeysCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--suite", required = true, paramLabel = "NAME",
            description = "TLS 1.3 suite: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 or TLS_CHACHA20_POLY1305_SHA256 (or 0x1301..0x1303).")
    String suite;

    @ArgGroup(multiplicity = "1")
    SecretSource secret;

    static final class SecretSource {
        @Option(names = "--secret", paramLabel = "HEX", description = "The traffic secret in hex.")
        String hex;

        @Option(names = "--secret-file", paramLabel = "FILE", description = "Read the traffic secret (hex) from FILE, or - for stdin.")
        String file;
    }

    @Option(names = "--updates", paramLabel = "N", defaultValue = "0", description = "KeyUpdate steps to apply first (default: 0).")
    int updates;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public void run() {
        CipherSuite s = CipherSuites.parse(suite);
        if (!s.tls13()) {
            throw KeywayException.usage(s.name() + " is not a TLS 1.3 suite", "for TLS 1.2 use 'keyway tls key-block'");
        }
        if (updates < 0 || updates > 1_000_000) {
            throw KeywayException.usage("--updates must be 0 to 1000000", "count the KeyUpdate messages of one direction");
        }
        byte[] ts = TlsKeyBlockCommand.hexFromFlagOrFile(secret.hex, "--secret", secret.file, "secret file");
        KeySchedule13 ks = KeySchedule13.of(s);
        if (ts.length != ks.hash().length()) {
            throw KeywayException.malformed("the traffic secret is " + ts.length + " bytes; " + s.name() + " needs "
                    + ks.hash().length(), "check that the suite matches the connection (SHA-384 suites have 48-byte secrets)");
        }
        for (int i = 0; i < updates; i++) {
            byte[] next = ks.nextApplicationTrafficSecret(ts);
            Arrays.fill(ts, (byte) 0);
            ts = next;
        }
        TrafficKeys keys = ks.trafficKeys(ts, s.cipher().keyLength());
        try {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("suite", s.name());
            if (updates > 0) {
                m.put("updates", updates);
                m.put("secret", Hex.encode(ts));
            }
            m.put("key", Hex.encode(keys.key()));
            m.put("iv", Hex.encode(keys.iv()));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.print(CliIo.json(m));
            } else {
                m.forEach((k, v) -> out.printf("%-7s %s%n", k, v));
            }
            out.flush();
        } finally {
            keys.destroy();
            Arrays.fill(ts, (byte) 0);
        }
    }
}
