package dev.keyway.cli;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.keylog.KeyLogLabel;
import dev.keyway.core.keylog.ParsedKeyLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

@Command(name = "keylog", mixinStandardHelpOptions = true,
        header = "Work with SSLKEYLOGFILE key logs (RFC 9850).",
        description = {"Work with key logs in the SSLKEYLOGFILE format (RFC 9850), as written by OpenSSL, browsers "
                + "(SSLKEYLOGFILE=...) and Keyway."},
        subcommands = {TlsKeylogCommand.Check.class})
final class TlsKeylogCommand extends GroupCommand {
    @Command(name = "check", mixinStandardHelpOptions = true,
            header = "Check a key log: bad lines by number, and per connection which secrets are present.",
            description = {"Check every line of a key log (known label, 32-byte client random, secret of the right length) "
                    + "and report, per connection (client random), which secrets are present and whether Wireshark or "
                    + "'keyway tls decrypt' could decrypt it. TLS 1.2 needs the CLIENT_RANDOM line; TLS 1.3 needs both "
                    + "handshake and both application traffic secrets.",
                    "",
                    "Exit status: 0 when every line is good, 2 when any line is bad (each is listed)."})
    static final class Check implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE", description = "The key log file.")
        Path file;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public void run() {
            ParsedKeyLog log = ParsedKeyLog.read(CliIo.inputFile(file.toString(), "key log"));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                List<Map<String, Object>> conns = new ArrayList<>();
                for (ParsedKeyLog.Connection c : log.connections()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("client_random", c.clientRandomHex());
                    m.put("labels", c.labels().stream().map(KeyLogLabel::name).toList());
                    m.put("decryptable", c.tls12Complete() || c.tls13Complete());
                    m.put("verdict", c.verdict());
                    conns.add(m);
                }
                List<Map<String, Object>> bad = new ArrayList<>();
                for (ParsedKeyLog.Problem p : log.problems()) {
                    bad.add(Map.of("line", p.line(), "problem", p.message()));
                }
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("file", file.toString());
                doc.put("entries", log.entries());
                doc.put("connections", conns);
                doc.put("bad_lines", bad);
                out.print(CliIo.json(doc));
            } else {
                // A bad line's problem quotes the line (an unknown label may hold any byte): printed escaped
                out.printf("%s: %d secret(s), %d connection(s), %d bad line(s)%n", Printable.escape(file.toString()), log.entries(),
                        log.connections().size(), log.problems().size());
                for (ParsedKeyLog.Connection c : log.connections()) {
                    out.printf("%n%s%n  %s%n", c.clientRandomHex(), c.verdict());
                    for (KeyLogLabel l : c.labels()) {
                        out.printf("  line %-5d %s%n", c.line(l), l);
                    }
                }
                for (ParsedKeyLog.Problem p : log.problems()) {
                    out.printf("%nbad %s%n", Printable.escape(p.toString()));
                }
            }
            out.flush();
            if (log.problems().isEmpty() && log.entries() == 0) {
                throw KeywayException.malformed(Printable.escape(file.toString()) + " holds no secrets (the key log is empty)",
                        "check that the program was started with SSLKEYLOGFILE set to this file and made a connection");
            }
            if (!log.problems().isEmpty()) {
                throw KeywayException.malformed(Printable.escape(file.toString()) + " has " + log.problems().size()
                        + " bad line(s), first: " + Printable.escape(log.problems().get(0).toString()),
                        "fix or delete those lines; Wireshark ignores them silently");
            }
        }
    }
}
