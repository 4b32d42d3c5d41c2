package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.keylog.ParsedKeyLog;
import dev.keyway.tls.capture.Capture;
import dev.keyway.tls.capture.TcpConnection;
import dev.keyway.tls.capture.TcpStream;
import dev.keyway.tls.decrypt.DecryptedConnection.AppData;
import dev.keyway.tls.decrypt.DecryptedConnection.Direction;
import dev.keyway.tls.decrypt.DecryptedConnection.Status;
import dev.keyway.tls.decrypt.DecryptedConnection;
import dev.keyway.tls.decrypt.TrafficDecryptor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

@Command(name = "decrypt", mixinStandardHelpOptions = true,
        header = "Decrypt TLS connections in a pcap/pcapng capture with a key log.",
        description = {"Read a pcap or pcapng capture (dumpcap, tcpdump, Wireshark; loopback captures included), "
                + "reassemble each TCP connection, find its secrets in the key log (SSLKEYLOGFILE, RFC 9850) by "
                + "client random, and print the decrypted application data per connection and direction, in "
                + "capture order. TLS 1.3 and TLS 1.0-1.2 (AES-GCM, ChaCha20-Poly1305, AES-CBC) are read.",
                "",
                "Text output prints each part's header line, then the data exactly as sent. --json gives each "
                + "part's bytes in base64 (and as text when it is UTF-8).",
                "",
                "Exit status: 0 when at least one connection was decrypted; 2 for a bad key log or capture, or "
                + "no TCP connection; 3 when no connection could be decrypted. Capture damage (a truncated file, "
                + "a missing segment) is reported on stderr as a warning."})
final class TlsDecryptCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--keylog", required = true, paramLabel = "FILE", description = "The key log (SSLKEYLOGFILE format).")
    Path keylog;

    @Option(names = "--pcap", required = true, paramLabel = "FILE", description = "The capture, pcap or pcapng.")
    Path pcap;

    @Option(names = "--port", paramLabel = "N", description = "Only connections with port N at either end.")
    Integer port;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    /** One connection's result with the capture facts the core decryptor does not know. */
    record Result(int number, TcpConnection tcp, DecryptedConnection tls) {
    }

    @Override
    public void run() {
        ParsedKeyLog log = ParsedKeyLog.read(keylog).requireClean(keylog.toString());
        Capture capture = Capture.read(pcap);
        PrintWriter err = spec.commandLine().getErr();
        for (String w : capture.warnings()) {
            err.println("keyway: warning: " + pcap + ": " + CliIo.errorText(w));
        }
        List<TcpConnection> tcp = port == null ? capture.connections() : capture.connections(port);
        if (tcp.isEmpty()) {
            throw KeywayException.malformed("no TCP connection" + (port == null ? "" : " on port " + port) + " in " + pcap
                    + " (" + capture.packets() + " packets)", port == null ? "check that the capture holds the TLS traffic"
                    : "check the port, or leave out --port");
        }
        TrafficDecryptor decryptor = new TrafficDecryptor(log);
        List<Result> results = new ArrayList<>();
        for (TcpConnection c : tcp) {
            for (String w : c.warnings()) {
                err.println("keyway: warning: " + c.client() + " -> " + c.server() + ": " + CliIo.errorText(w));
            }
            results.add(new Result(results.size() + 1, c, decryptor.decrypt(c.clientToServer().bytes(), c.serverToClient().bytes())));
        }
        err.flush();
        if (json) {
            printJson(results);
        } else {
            printText(results);
        }
        long decrypted = results.stream().filter(r -> r.tls().status() == Status.DECRYPTED).count();
        long partly = results.stream().filter(r -> r.tls().status() == Status.FAILED && !r.tls().data().isEmpty()).count();
        if (decrypted + partly == 0) {
            long noSecrets = results.stream().filter(r -> r.tls().status() == Status.NO_SECRETS).count();
            long notTls = results.stream().filter(r -> r.tls().status() == Status.NOT_TLS).count();
            throw new KeywayException(ErrorCode.AUTH_FAILED, "no connection in " + pcap + " could be decrypted (" + results.size()
                    + " connection(s): " + noSecrets + " without secrets in the key log, " + notTls + " without a captured TLS handshake, "
                    + (results.size() - noSecrets - notTls) + " whose records did not open)",
                    "check that the key log was written by a client or server of these connections");
        }
    }

    /** The capture time of the packet that carried a record's first byte. */
    static Instant timeOf(TcpStream stream, long offset, Instant fallback) {
        Instant t = fallback;
        for (TcpStream.Mark m : stream.marks()) {
            if (m.offset() > offset) {
                break;
            }
            t = m.time();
        }
        return t;
    }

    /** Application data of both directions in capture order (a direction's own order is always kept). */
    static List<AppData> inCaptureOrder(Result r) {
        List<AppData> out = new ArrayList<>(r.tls().data());
        Map<AppData, Instant> times = new IdentityHashMap<>();
        for (AppData a : out) {
            TcpStream s = a.direction() == Direction.CLIENT_TO_SERVER ? r.tcp().clientToServer() : r.tcp().serverToClient();
            times.put(a, timeOf(s, a.streamOffset(), r.tcp().start()));
        }
        out.sort(Comparator.comparing((AppData a) -> times.get(a)).thenComparing(AppData::direction)
                .thenComparingLong(AppData::streamOffset));
        return out;
    }

    /** Headers and data go to the same byte stream, so they stay in order. */
    private void printText(List<Result> results) {
        OutputStream raw = StdStreams.out;
        try {
            for (Result r : results) {
                DecryptedConnection t = r.tls();
                line(raw, String.format("== connection %d: %s -> %s, %s", r.number(), r.tcp().client(), r.tcp().server(), summary(t)));
                for (String n : t.notes()) {
                    line(raw, "== note: " + Printable.escape(n));
                }
                Direction last = null;
                for (AppData a : inCaptureOrder(r)) {
                    if (a.direction() != last) {
                        if (last != null) {
                            line(raw, "");
                        }
                        line(raw, "== " + a.direction().arrow());
                        last = a.direction();
                    }
                    raw.write(a.bytes());
                }
                if (last != null) {
                    line(raw, "");
                }
            }
            raw.flush();
        } catch (IOException e) {
            throw CliIo.ioFailure(e);
        }
    }

    private static void line(OutputStream out, String text) throws IOException {
        out.write((text + "\n").getBytes(StandardCharsets.UTF_8));
    }

    static String summary(DecryptedConnection t) {
        if (t.version() == null) {
            return "not TLS or handshake not captured";
        }
        String status = switch (t.status()) {
            case DECRYPTED -> "decrypted";
            case NO_SECRETS -> "no secrets in the key log";
            case FAILED -> "decryption failed";
            case NOT_TLS -> "not TLS";
        };
        return t.version() + ", " + (t.suite() == null ? "unknown suite" : t.suite().name()) + (t.resumed() ? ", resumed" : "")
                + ", client random "
                + (t.clientRandom() == null ? "?" : Hex.encode(t.clientRandom())) + ": " + status;
    }

    private void printJson(List<Result> results) {
        List<Map<String, Object>> conns = new ArrayList<>();
        for (Result r : results) {
            DecryptedConnection t = r.tls();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("connection", r.number());
            m.put("client", r.tcp().client().toString());
            m.put("server", r.tcp().server().toString());
            m.put("status", t.status().name().toLowerCase(Locale.ROOT));
            m.put("version", t.version() == null ? null : t.version().toString());
            m.put("suite", t.suite() == null ? null : t.suite().name());
            m.put("client_random", t.clientRandom() == null ? null : Hex.encode(t.clientRandom()));
            m.put("resumed", t.resumed());
            List<Map<String, Object>> data = new ArrayList<>();
            for (AppData a : inCaptureOrder(r)) {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("direction", a.direction() == Direction.CLIENT_TO_SERVER ? "client_to_server" : "server_to_client");
                d.put("stream_offset", a.streamOffset());
                d.put("length", a.bytes().length);
                d.put("base64", Base64.getEncoder().encodeToString(a.bytes()));
                String text = utf8(a.bytes());
                if (text != null) {
                    d.put("text", text);
                }
                data.add(d);
            }
            m.put("data", data);
            m.put("notes", t.notes());
            m.put("warnings", r.tcp().warnings());
            conns.add(m);
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("capture", pcap.toString());
        doc.put("keylog", keylog.toString());
        doc.put("connections", conns);
        PrintWriter out = spec.commandLine().getOut();
        out.print(CliIo.json(doc));
        out.flush();
    }

    private static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
