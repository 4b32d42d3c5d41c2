package dev.keyway.cli;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.KeyBlock12;
import dev.keyway.core.kdf.Prf12;
import dev.keyway.core.kdf.TlsVersion;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

@Command(name = "key-block", mixinStandardHelpOptions = true,
        header = "Expand a TLS 1.0-1.2 master secret into the key block and split it.",
        description = {"Expand a master secret with the TLS PRF (RFC 5246 section 6.3) and print the client and server "
                + "write MAC keys, write keys and IVs for a cipher suite. The master secret of a connection is on its "
                + "CLIENT_RANDOM line in a key log. TLS 1.0 derives IVs for CBC suites; 1.1 and 1.2 do not.",
                "",
                "A value given with --master is visible to other users in the process list; --master-file is not."})
final class TlsKeyBlockCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--suite", required = true, paramLabel = "NAME|0xHHHH",
            description = "Cipher suite: IANA or OpenSSL name, or code (see 'keyway tls suites').")
    String suite;

    @ArgGroup(multiplicity = "1")
    MasterSource master;

    static final class MasterSource {
        @Option(names = "--master", paramLabel = "HEX", description = "The 48-byte master secret in hex.")
        String hex;

        @Option(names = "--master-file", paramLabel = "FILE", description = "Read the master secret (hex) from FILE, or - for stdin.")
        String file;
    }

    @Option(names = "--client-random", required = true, paramLabel = "HEX", description = "ClientHello.random (32 bytes).")
    String clientRandom;

    @Option(names = "--server-random", required = true, paramLabel = "HEX", description = "ServerHello.random (32 bytes).")
    String serverRandom;

    @Option(names = "--version", paramLabel = "1.0|1.1|1.2", defaultValue = "1.2",
            description = "Protocol version (default: ${DEFAULT-VALUE}); 1.0 and 1.1 use the MD5/SHA-1 PRF.")
    String version;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public void run() {
        CipherSuite s = CipherSuites.parse(suite);
        TlsVersion v = TlsVersion.parse(version);
        if (v == null || v == TlsVersion.TLS13) {
            throw KeywayException.usage("--version must be 1.0, 1.1 or 1.2, not '" + version + "'",
                    "for TLS 1.3 use 'keyway tls traffic-keys'");
        }
        if (!s.usableWith(v)) {
            throw KeywayException.usage(s.name() + " cannot be used with " + v, s.tls13()
                    ? "TLS 1.3 suites have no key block: use 'keyway tls traffic-keys'" : "this suite needs TLS 1.2");
        }
        byte[] ms = hexFromFlagOrFile(master.hex, "--master", master.file, "master secret file");
        byte[] cr = hex(clientRandom, "--client-random");
        byte[] sr = hex(serverRandom, "--server-random");
        if (ms.length != Prf12.MASTER_SECRET_LENGTH) {
            throw KeywayException.malformed("the master secret is " + ms.length + " bytes; it must be 48",
                    "copy the third field of the connection's CLIENT_RANDOM key-log line");
        }
        requireRandom(cr, "--client-random");
        requireRandom(sr, "--server-random");
        KeyBlock12 kb = Prf12.keyBlock(s, v, ms, cr, sr);
        Arrays.fill(ms, (byte) 0);
        try {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("suite", s.name());
            m.put("version", v.toString());
            m.put("prf", v == TlsVersion.TLS12 ? s.prfHash().name() : Prf12.Hash.MD5_SHA1.name());
            m.put("client_write_mac_key", Hex.encode(kb.clientMacKey()));
            m.put("server_write_mac_key", Hex.encode(kb.serverMacKey()));
            m.put("client_write_key", Hex.encode(kb.clientKey()));
            m.put("server_write_key", Hex.encode(kb.serverKey()));
            m.put("client_write_iv", Hex.encode(kb.clientIv()));
            m.put("server_write_iv", Hex.encode(kb.serverIv()));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.print(CliIo.json(m));
            } else {
                m.forEach((k, val) -> out.printf("%-21s %s%n", k, val.toString().isEmpty() ? "(none)" : val));
            }
            out.flush();
        } finally {
            kb.destroy();
        }
    }

    /** A secret in hex, given on the command line or (not visible in the process list) in a file or stdin. */
    static byte[] hexFromFlagOrFile(String hex, String flag, String file, String fileWhat) {
        if (hex != null) {
            return hex(hex, flag);
        }
        byte[] raw = CliIo.readSecret(file, fileWhat);
        try {
            return hex(new String(raw, StandardCharsets.US_ASCII), fileWhat);
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
    }

    static byte[] hex(String text, String what) {
        return Hex.decode(text.trim().replace(":", ""), what);
    }

    static void requireRandom(byte[] r, String what) {
        if (r.length != 32) {
            throw KeywayException.malformed(what + " is " + r.length + " bytes; a TLS random is 32", "give 64 hex digits");
        }
    }
}
