package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The derivations proven on real traffic (issue: "an interop test that starts openssl s_server with
 * -keylogfile, connects with openssl s_client, captures the loopback traffic, and checks that keyway tls
 * decrypt recovers the exact request and response bytes"). dumpcap captures lo with a port filter and a
 * bounded duration; tshark decrypting the same capture with the same key log is checked too.
 */
@Tag("interop")
class TlsDecryptInteropTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void certificates() throws Exception {
        requireTools();
        run(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", dir.resolve("ec-key.pem").toString(), "-out", dir.resolve("ec-cert.pem").toString(),
                "-days", "1", "-subj", "/CN=localhost"));
        run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", dir.resolve("rsa-key.pem").toString(), "-out", dir.resolve("rsa-cert.pem").toString(),
                "-days", "1", "-subj", "/CN=localhost"));
    }

    @AfterAll
    static void done() {
        // processes are killed per test; nothing shared to stop
    }

    static void requireTools() {
        for (String tool : List.of("openssl", "dumpcap")) {
            if (which(tool) == null) {
                String why = "SKIPPED TlsDecryptInteropTest: " + tool + " not installed (apt-get install openssl tshark)";
                System.err.println(why);
                Assumptions.abort(why);
            }
        }
    }

    static Path which(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(d, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    static void run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(out, StandardCharsets.UTF_8)).isZero();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A captured connection: the capture, the server's key log, and what each side sent. */
    record Captured(Path pcap, Path keylog, byte[] request, byte[] response, int port) {
    }

    static Captured capture(String name, String cert, List<String> serverFlags, List<String> clientFlags) throws Exception {
        int port = freePort();
        Path pcap = dir.resolve(name + ".pcapng");
        Path keylog = dir.resolve(name + ".keys");
        List<Process> started = new ArrayList<>();
        try {
            Process dumpcap = new ProcessBuilder("dumpcap", "-q", "-i", "lo", "-f", "tcp port " + port, "-a", "duration:60",
                    "-w", pcap.toString()).redirectErrorStream(true).start();
            started.add(dumpcap);
            waitFor(dumpcap, "Capturing on", name + ": dumpcap did not start capturing (needs root or the wireshark group)");

            List<String> server = new ArrayList<>(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port,
                    "-cert", dir.resolve(cert + "-cert.pem").toString(), "-key", dir.resolve(cert + "-key.pem").toString(),
                    "-www", "-naccept", "1", "-keylogfile", keylog.toString()));
            server.addAll(serverFlags);
            Process s = new ProcessBuilder(server).redirectErrorStream(true).start();
            started.add(s);
            waitFor(s, "ACCEPT", name + ": openssl s_server did not start");

            byte[] request = ("GET /" + name + " HTTP/1.0\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            List<String> client = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                    "-quiet", "-ign_eof"));
            client.addAll(clientFlags);
            Process c = new ProcessBuilder(client).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            started.add(c);
            c.getOutputStream().write(request);
            c.getOutputStream().close();
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            c.getInputStream().transferTo(response);
            assertThat(c.waitFor(30, TimeUnit.SECONDS)).as(name + ": s_client finished").isTrue();
            s.waitFor(10, TimeUnit.SECONDS);
            Thread.sleep(300); // let dumpcap write the last packets
            dumpcap.destroy();
            dumpcap.waitFor(10, TimeUnit.SECONDS);
            assertThat(response.size()).as(name + ": the server answered").isGreaterThan(100);
            return new Captured(pcap, keylog, request, response.toByteArray(), port);
        } finally {
            for (Process p : started) {
                p.destroyForcibly();
            }
        }
    }

    /** Reads a process's output until a line contains {@code marker}. */
    static void waitFor(Process p, String marker, String failure) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String line;
        while (System.nanoTime() < deadline && (line = r.readLine()) != null) {
            if (line.contains(marker)) {
                Thread drain = new Thread(() -> {
                    try {
                        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
                    } catch (IOException ignored) {
                        // the process went away
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return;
            }
        }
        throw new AssertionError(failure);
    }

    static byte[] joined(JsonNode conn, String direction) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (JsonNode d : conn.get("data")) {
            if (d.get("direction").asText().equals(direction)) {
                out.writeBytes(Base64.getDecoder().decode(d.get("base64").asText()));
            }
        }
        return out.toByteArray();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "tls13-aes128gcm | ec  | TLS 1.3 | TLS_AES_128_GCM_SHA256 | -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256",
            "tls13-aes256gcm | ec  | TLS 1.3 | TLS_AES_256_GCM_SHA384 | -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384",
            "tls13-chacha20  | ec  | TLS 1.3 | TLS_CHACHA20_POLY1305_SHA256 | -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256",
            "tls12-ecdhe-ecdsa-aes128gcm | ec  | TLS 1.2 | TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 | -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256",
            "tls12-ecdhe-rsa-aes256gcm   | rsa | TLS 1.2 | TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 | -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384",
            "tls12-ecdhe-rsa-aes128cbc   | rsa | TLS 1.2 | TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA | -tls1_2 -cipher ECDHE-RSA-AES128-SHA",
    })
    void keywayRecoversTheExactBytes(String name, String cert, String version, String suite, String clientFlags) throws Exception {
        Captured c = capture(name, cert, List.of(), List.of(clientFlags.split(" ")));
        Cli.Result r = Cli.run("tls", "decrypt", "--keylog", c.keylog().toString(), "--pcap", c.pcap().toString(),
                "--port", String.valueOf(c.port()), "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode doc = new ObjectMapper().readTree(r.out());
        assertThat(doc.get("connections")).hasSize(1);
        JsonNode conn = doc.get("connections").get(0);
        assertThat(conn.get("status").asText()).isEqualTo("decrypted");
        assertThat(conn.get("version").asText()).isEqualTo(version);
        assertThat(conn.get("suite").asText()).isEqualTo(suite);
        assertThat(joined(conn, "client_to_server")).isEqualTo(c.request());
        assertThat(joined(conn, "server_to_client")).isEqualTo(c.response());

        Cli.Result check = Cli.run("tls", "keylog", "check", c.keylog().toString(), "--json");
        assertThat(check.exit()).as(check.err()).isZero();
        assertThat(check.out()).contains("\"decryptable\" : true");

        Path tshark = which("tshark");
        if (tshark == null) {
            System.err.println("SKIPPED tshark cross-check: tshark not installed (apt-get install tshark)");
            return;
        }
        Process t = new ProcessBuilder(tshark.toString(), "-r", c.pcap().toString(), "-o", "tls.keylog_file:" + c.keylog(),
                "-d", "tcp.port==" + c.port() + ",tls", "-Y", "http.request", "-T", "fields", "-e", "http.request.uri")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String uri = new String(t.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(t.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(uri).as("tshark decrypts the same capture with the same key log").isEqualTo("/" + name);
    }

    @Test
    void truncatedCaptureAndBadKeyLogEndInClearErrors() throws Exception {
        Captured c = capture("damage", "ec", List.of(), List.of("-tls1_3"));
        byte[] pcap = Files.readAllBytes(c.pcap());
        int decrypted = 0;
        for (int cut = 0; cut < pcap.length; cut += Math.max(1, pcap.length / 40)) {
            Path cutFile = dir.resolve("cut.pcapng");
            Files.write(cutFile, java.util.Arrays.copyOf(pcap, cut));
            Cli.Result r = Cli.run("tls", "decrypt", "--keylog", c.keylog().toString(), "--pcap", cutFile.toString(), "--json");
            assertThat(r.err()).as("cut at " + cut).doesNotContain("\tat ").doesNotContain("internal error");
            assertThat(r.exit()).as("cut at " + cut + ": " + r.err()).isIn(0, 2, 3);
            if (r.exit() == 0) {
                decrypted++;
            } else {
                assertThat(r.oneLineError() || r.err().contains("keyway: warning")).as(r.err()).isTrue();
            }
        }
        assertThat(decrypted).as("long enough prefixes still decrypt").isPositive();

        List<String> lines = new ArrayList<>(Files.readAllLines(c.keylog()));
        lines.add(1, "CLIENT_HANDSHAKE_TRAFFIC_SECRET 00 11");
        Path bad = dir.resolve("bad.keys");
        Files.write(bad, lines);
        Cli.Result r = Cli.run("tls", "decrypt", "--keylog", bad.toString(), "--pcap", c.pcap().toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.oneLineError()).as(r.err()).isTrue();
        assertThat(r.err()).contains("line 2");
        Cli.Result check = Cli.run("tls", "keylog", "check", bad.toString());
        assertThat(check.exit()).isEqualTo(2);
        assertThat(check.out()).contains("bad line 2:");
    }
}
