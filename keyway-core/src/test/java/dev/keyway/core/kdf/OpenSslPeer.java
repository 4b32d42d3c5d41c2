package dev.keyway.core.kdf;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Runs the {@code openssl} command-line tool for the interop tests: one {@code s_server} and one
 * {@code s_client} on 127.0.0.1, a free port, a throw-away certificate in a temporary directory, the
 * client's {@code -msg} trace (the handshake messages in the clear), both key logs and the exporter
 * output. Every process started here is destroyed before {@link #handshake} returns.
 */
final class OpenSslPeer implements AutoCloseable {
    private static final long TIMEOUT_SECONDS = 30;
    private static final Pattern HANDSHAKE = Pattern.compile(
            "^(<<<|>>>) [^,]*, Handshake \\[length ([0-9a-fA-F]+)], (\\w+)\\s*$");
    private static final Pattern HEX_LINE = Pattern.compile("^\\s+[0-9a-fA-F]{2}( [0-9a-fA-F]{2})*\\s*$");
    private static final Pattern KEYING = Pattern.compile("^\\s*Keying material: ([0-9A-Fa-f]+)\\s*$");

    private final Path openssl;
    private final Path dir;
    private final Path cert;
    private final Path key;

    /** One handshake message from the client's {@code -msg} trace; {@code sent} is true for the client's own. */
    record Message(boolean sent, String name, byte[] bytes) {
    }

    /** What one handshake left behind. */
    record Result(List<Message> messages, Map<String, String> clientKeyLog, Map<String, String> serverKeyLog,
                  String clientOutput, String serverOutput) {

        /** Every handshake message before the first one named {@code name} sent ({@code sent}) or received. */
        byte[][] messagesBefore(boolean sent, String name) {
            List<byte[]> out = new ArrayList<>();
            for (Message m : messages) {
                if (m.sent() == sent && m.name().equals(name)) {
                    return out.toArray(new byte[0][]);
                }
                out.add(m.bytes());
            }
            throw new AssertionError("no " + (sent ? "sent " : "received ") + name + " in " + names());
        }

        /** Every handshake message up to and including the first one named {@code name}. */
        byte[][] messagesThrough(String name) {
            List<byte[]> out = new ArrayList<>();
            for (Message m : messages) {
                out.add(m.bytes());
                if (m.name().equals(name)) {
                    return out.toArray(new byte[0][]);
                }
            }
            throw new AssertionError("no " + name + " in " + names());
        }

        Message first(boolean sent, String name) {
            return messages.stream().filter(m -> m.sent() == sent && m.name().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + name + " in " + names()));
        }

        List<String> names() {
            return messages.stream().map(m -> (m.sent() ? ">>> " : "<<< ") + m.name()).toList();
        }

        /** The hex after "Keying material:" in the client's or the server's output. */
        byte[] keyingMaterial(boolean client) {
            for (String line : (client ? clientOutput : serverOutput).split("\r?\n")) {
                Matcher m = KEYING.matcher(line);
                if (m.matches()) {
                    return HexFormat.of().parseHex(m.group(1).toLowerCase());
                }
            }
            throw new AssertionError("no keying material in the " + (client ? "client" : "server") + " output:\n"
                    + (client ? clientOutput : serverOutput));
        }

        /** The value after "label:" on a line of the client's session summary, e.g. "Cipher is". */
        String clientSays(String prefix) {
            for (String line : clientOutput.split("\r?\n")) {
                int at = line.indexOf(prefix);
                if (at >= 0) {
                    return line.substring(at + prefix.length()).trim();
                }
            }
            throw new AssertionError("the client never said '" + prefix + "':\n" + clientOutput);
        }
    }

    private OpenSslPeer(Path openssl, Path dir, Path cert, Path key) {
        this.openssl = openssl;
        this.dir = dir;
        this.cert = cert;
        this.key = key;
    }

    /** The openssl binary, or null. */
    static Path find() {
        String path = System.getenv("PATH");
        List<String> dirs = new ArrayList<>(List.of("/usr/bin", "/usr/local/bin"));
        if (path != null) {
            dirs.addAll(List.of(path.split(File.pathSeparator)));
        }
        for (String d : dirs) {
            if (!d.isEmpty()) {
                Path candidate = Path.of(d, "openssl");
                if (Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        return null;
    }

    /** Skips the calling test (with a reason on the console, which Surefire does not print for assumptions). */
    static Path requireOpenSsl(String test) {
        Path openssl = find();
        if (openssl == null) {
            System.err.println("SKIPPED " + test + ": openssl not installed (apt-get install openssl)");
        }
        Assumptions.assumeTrue(openssl != null, "openssl not installed");
        return openssl;
    }

    /** A peer with a fresh RSA-2048 self-signed certificate (RSA so that RSA key exchange works too). */
    static OpenSslPeer start(String test) throws IOException, InterruptedException {
        Path openssl = requireOpenSsl(test);
        Path dir = Files.createTempDirectory("keyway-openssl");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Run r = run(List.of(openssl.toString(), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                key.toString(), "-out", cert.toString(), "-days", "1", "-subj", "/CN=localhost"), null, dir);
        assertThat(r.exit).as("openssl req: %s", r.output).isZero();
        return new OpenSslPeer(openssl, dir, cert, key);
    }

    static String version(Path openssl) throws IOException, InterruptedException {
        return run(List.of(openssl.toString(), "version"), null, Path.of(".")).output.trim();
    }

    /** {@code openssl} with these arguments, its stdout (stderr discarded); fails the test on a non-zero exit. */
    static String output(Path openssl, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(openssl.toString()));
        command.addAll(List.of(args));
        Run r = run(command, null, Path.of("."));
        assertThat(r.exit).as("%s: %s", command, r.output).isZero();
        return r.output;
    }

    /**
     * One handshake. {@code config} is an OpenSSL configuration file body applied to both sides (null for
     * the system one); the server and client options are appended to their command lines.
     */
    Result handshake(String config, List<String> serverOptions, List<String> clientOptions)
            throws IOException, InterruptedException {
        Path conf = null;
        if (config != null) {
            conf = Files.createTempFile(dir, "openssl", ".cnf");
            Files.writeString(conf, config);
        }
        Path serverLog = Files.createTempFile(dir, "server", ".keylog");
        Path clientLog = Files.createTempFile(dir, "client", ".keylog");
        int port = freePort();

        List<String> server = new ArrayList<>(List.of(openssl.toString(), "s_server", "-accept", "127.0.0.1:" + port,
                "-cert", cert.toString(), "-key", key.toString(), "-naccept", "1", "-keylogfile", serverLog.toString()));
        server.addAll(serverOptions);
        List<String> client = new ArrayList<>(List.of(openssl.toString(), "s_client", "-connect", "127.0.0.1:" + port,
                "-msg", "-keylogfile", clientLog.toString()));
        client.addAll(clientOptions);

        ProcessBuilder spb = new ProcessBuilder(server).directory(dir.toFile()).redirectErrorStream(true);
        if (conf != null) {
            spb.environment().put("OPENSSL_CONF", conf.toString());
        }
        Process s = spb.start();
        Process c = null;
        try {
            StringBuffer serverOut = new StringBuffer();
            CountDownLatch accepting = new CountDownLatch(1);
            Thread pump = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        serverOut.append(line).append('\n');
                        if (line.startsWith("ACCEPT")) {
                            accepting.countDown();
                        }
                    }
                } catch (IOException e) {
                    // the process was destroyed
                } finally {
                    accepting.countDown();
                }
            }, "openssl-s_server-output");
            pump.setDaemon(true);
            pump.start();
            // s_server's stdin stays open (an EOF there would make it close the connection).
            assertThat(accepting.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("s_server did not start").isTrue();
            assertThat(s.isAlive()).as("s_server exited early:\n%s", serverOut).isTrue();

            ProcessBuilder cpb = new ProcessBuilder(client).directory(dir.toFile());
            cpb.redirectError(dir.resolve("client.err").toFile());
            if (conf != null) {
                cpb.environment().put("OPENSSL_CONF", conf.toString());
            }
            c = cpb.start();
            c.getOutputStream().close(); // EOF on stdin: the client closes once the handshake is done
            String clientOut = new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(c.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)).as("s_client did not finish").isTrue();
            String clientErr = Files.readString(dir.resolve("client.err"));
            assertThat(c.exitValue()).as("s_client %s failed:\n%s\n%s\nserver:\n%s", clientOptions, clientOut, clientErr,
                    serverOut).isZero();
            // Let the server finish the connection and write its summary: with -naccept 1 it exits by itself.
            // Only if it does not is its stdin closed (closing it first could cut the connection short).
            if (!s.waitFor(10, TimeUnit.SECONDS)) {
                s.getOutputStream().close();
                s.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
            pump.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
            return new Result(parseMessages(clientOut), keyLog(clientLog), keyLog(serverLog), clientOut,
                    serverOut.toString());
        } finally {
            if (c != null) {
                c.destroyForcibly().waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
            s.destroyForcibly().waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
    }

    /** The handshake messages of an {@code s_client -msg} trace, in order, each checked against its stated length. */
    static List<Message> parseMessages(String trace) {
        List<Message> out = new ArrayList<>();
        String[] lines = trace.split("\r?\n");
        for (int i = 0; i < lines.length; i++) {
            Matcher m = HANDSHAKE.matcher(lines[i]);
            if (!m.matches()) {
                continue;
            }
            StringBuilder hex = new StringBuilder();
            while (i + 1 < lines.length && HEX_LINE.matcher(lines[i + 1]).matches()) {
                hex.append(lines[++i].replaceAll("\\s+", ""));
            }
            byte[] bytes = HexFormat.of().parseHex(hex.toString().toLowerCase());
            assertThat(bytes).as("%s", lines[i]).hasSize(Integer.parseInt(m.group(2), 16));
            out.add(new Message(m.group(1).equals(">>>"), m.group(3), bytes));
        }
        return out;
    }

    /** NSS key log: label -> secret (the last field); for the "RSA" line, the pre-master secret. */
    static Map<String, String> keyLog(Path file) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3 && !line.startsWith("#")) {
                out.put(f[0], f[2]);
                out.put(f[0] + ".id", f[1]);
            }
        }
        return out;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private record Run(int exit, String output) {
    }

    private static Run run(List<String> command, String stdin, Path dir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            try (var in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                throw new AssertionError(command + " did not finish within " + TIMEOUT_SECONDS + " s");
            }
            return new Run(p.exitValue(), out);
        } finally {
            p.destroyForcibly();
        }
    }

    @Override
    public void close() {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
