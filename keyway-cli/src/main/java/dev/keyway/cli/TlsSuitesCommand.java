package dev.keyway.cli;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.TlsVersion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "suites", mixinStandardHelpOptions = true,
        header = "List the cipher suites Keyway derives keys for.",
        description = {"List the cipher-suite table: every suite OpenSSL 3 offers by default, with its code, "
                + "key exchange, cipher, MAC, key/IV/MAC-key lengths and PRF hash."})
final class TlsSuitesCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (CipherSuite s : CipherSuites.all()) {
                rows.add(row(s));
            }
            out.print(CliIo.json(Map.of("suites", rows)));
            out.flush();
            return;
        }
        String fmt = "%-7s %-46s %-30s %-8s %-18s %-6s %3s %3s %3s %s%n";
        out.printf(fmt, "CODE", "NAME", "OPENSSL", "KX", "CIPHER", "MAC", "KEY", "IV", "MAC", "PRF");
        for (CipherSuite s : CipherSuites.all()) {
            out.printf(fmt, s.codeHex(), s.name(), s.tls13() ? "" : s.opensslName(), s.keyExchange(), s.cipher(), s.mac(),
                    s.cipher().keyLength(), s.fixedIvLength(s.tls13() ? TlsVersion.TLS13
                            : TlsVersion.TLS12), s.mac().keyLength(),
                    s.tls13() ? "HKDF-" + s.hkdfHash() : s.prfHash());
        }
        out.println();
        out.println("Lengths in bytes. IV: the TLS 1.3 IV, or the TLS 1.2 implicit IV from the key block.");
        out.flush();
    }

    static Map<String, Object> row(CipherSuite s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("code", s.codeHex());
        m.put("name", s.name());
        m.put("openssl", s.opensslName());
        m.put("version", s.tls13() ? "1.3" : "1.2");
        m.put("keyExchange", s.keyExchange().name());
        m.put("auth", s.auth());
        m.put("cipher", s.cipher().toString());
        m.put("mac", s.mac().name());
        m.put("keyLength", s.cipher().keyLength());
        m.put("ivLength", s.fixedIvLength(s.tls13() ? TlsVersion.TLS13 : TlsVersion.TLS12));
        m.put("macKeyLength", s.mac().keyLength());
        m.put("prfHash", s.tls13() ? s.hkdfHash().name() : s.prfHash().name());
        return m;
    }
}
