package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The key logs Keyway's own TLS writes decrypt real captures: keyway tls serve against openssl s_client and
 * keyway tls connect against openssl s_server, captured with dumpcap on lo, read back by tshark and by
 * keyway tls decrypt to the exact application bytes.
 */
@Tag("interop")
class KeywayTlsCaptureInteropTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void tools() throws Exception {
        TlsDecryptInteropTest.requireTools();
        assertThat(Cli.run("cert", "new", "--cn", "Capture CA", "--is-ca", "-o", dir.resolve("ca.pem").toString(),
                "--key-out", dir.resolve("ca.key").toString()).exit()).isZero();
        assertThat(Cli.run("cert", "new", "--cn", "localhost", "--san", "DNS:localhost,IP:127.0.0.1", "--ca", dir.resolve("ca.pem").toString(),
                "--ca-key", dir.resolve("ca.key").toString(), "-o", dir.resolve("srv.pem").toString(), "--key-out", dir.resolve("srv.key").toString())
                .exit()).isZero();
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Runs a command with {@code input} as standard input, collecting its standard output into {@code output}. */
    static Cli.Result runWithStdio(byte[] input, ByteArrayOutputStream output, String... args) {
        java.io.InputStream oldIn = StdStreams.in;
        java.io.OutputStream oldOut = StdStreams.out;
        StdStreams.in = new java.io.ByteArrayInputStream(input);
        StdStreams.out = output;
        try {
            return Cli.run(args);
        } finally {
            StdStreams.in = oldIn;
            StdStreams.out = oldOut;
        }
    }

    static Process dumpcap(int port, Path pcap) throws Exception {
        Process p = new ProcessBuilder("dumpcap", "-q", "-i", "lo", "-f", "tcp port " + port, "-a", "duration:60", "-w", pcap.toString())
                .redirectErrorStream(true).start();
        TlsDecryptInteropTest.waitFor(p, "Capturing on", "dumpcap did not start");
        return p;
    }

    static void stop(Process dumpcap) throws Exception {
        Thread.sleep(300);
        dumpcap.destroy();
        dumpcap.waitFor(10, TimeUnit.SECONDS);
    }

    static void decrypts(Path keylog, Path pcap, int port, byte[] clientBytes, byte[] serverBytes, String suite) throws Exception {
        Cli.Result r = Cli.run("tls", "decrypt", "--keylog", keylog.toString(), "--pcap", pcap.toString(), "--port", String.valueOf(port), "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode conn = new ObjectMapper().readTree(r.out()).get("connections").get(0);
        assertThat(conn.get("status").asText()).isEqualTo("decrypted");
        assertThat(conn.get("suite").asText()).isEqualTo(suite);
        assertThat(TlsDecryptInteropTest.joined(conn, "client_to_server")).isEqualTo(clientBytes);
        assertThat(TlsDecryptInteropTest.joined(conn, "server_to_client")).isEqualTo(serverBytes);
        Path tshark = TlsDecryptInteropTest.which("tshark");
        if (tshark == null) {
            System.err.println("SKIPPED tshark cross-check: tshark not installed");
            return;
        }
        Process t = new ProcessBuilder(tshark.toString(), "-r", pcap.toString(), "-o", "tls.keylog_file:" + keylog, "-d", "tcp.port==" + port + ",tls",
                "-Y", "tls.app_data", "-T", "fields", "-e", "tls.app_data_proto").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(t.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        t.waitFor(60, TimeUnit.SECONDS);
        Process t2 = new ProcessBuilder(tshark.toString(), "-r", pcap.toString(), "-o", "tls.keylog_file:" + keylog, "-d", "tcp.port==" + port + ",tls",
                "-q", "-z", "follow,tls,raw,0").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String follow = new String(t2.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        t2.waitFor(60, TimeUnit.SECONDS);
        String clientHex = dev.keyway.core.encoding.Hex.encode(clientBytes);
        assertThat(follow.replaceAll("\\s", "")).as("tshark decrypts the client's bytes with Keyway's key log (" + out.length() + ")")
                .contains(clientHex);
    }

    @ParameterizedTest(name = "openssl s_client -> keyway tls serve: {0}")
    @CsvSource({"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"})
    void keywayServerKeyLog(String suite) throws Exception {
        int port = freePort();
        Path pcap = dir.resolve("serve-" + suite + ".pcapng");
        Path keylog = dir.resolve("serve-" + suite + ".keys");
        Process capture = dumpcap(port, pcap);
        CompletableFuture<Cli.Result> server = CompletableFuture.supplyAsync(() -> Cli.run("tls", "serve", "--cert", dir.resolve("srv.pem").toString(),
                "--key", dir.resolve("srv.key").toString(), "--listen", "127.0.0.1:" + port, "--echo", "--naccept", "1",
                "--keylog", keylog.toString(), "--suites", suite));
        Thread.sleep(1500);
        byte[] request = ("hello over " + suite + "\n").getBytes(StandardCharsets.US_ASCII);
        Process client = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", "localhost",
                "-CAfile", dir.resolve("ca.pem").toString(), "-tls1_3", "-quiet", "-ign_eof").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        client.getOutputStream().write(request);
        client.getOutputStream().flush();
        // s_client -quiet never half-closes: take the echo, then end the client (the server sees the connection end).
        byte[] echoed = client.getInputStream().readNBytes(request.length);
        client.destroy();
        assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Cli.Result served = server.get(30, TimeUnit.SECONDS);
        stop(capture);
        assertThat(served.exit()).as(served.err()).isZero();
        assertThat(echoed).isEqualTo(request);
        decrypts(keylog, pcap, port, request, request, suite);
    }

    @org.junit.jupiter.api.Test
    void resumedAndRetriedConnectionsDecryptToo() throws Exception {
        // keyway against keyway: the server prefers P-256, the client sends an x25519 share first (HelloRetryRequest),
        // then resumes with the saved ticket; both connections decrypt with the client's key log.
        int port = freePort();
        Path pcap = dir.resolve("resume.pcapng");
        Path keylog = dir.resolve("resume.keys");
        Path session = dir.resolve("resume.session");
        Process capture = dumpcap(port, pcap);
        CompletableFuture<Cli.Result> server = CompletableFuture.supplyAsync(() -> Cli.run("tls", "serve", "--cert", dir.resolve("srv.pem").toString(),
                "--key", dir.resolve("srv.key").toString(), "--listen", "127.0.0.1:" + port, "--www", "--naccept", "2",
                "--groups", "secp256r1,x25519"));
        Thread.sleep(1500);
        List<byte[]> pages = new ArrayList<>();
        byte[] request = "GET /again HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        for (String flag : List.of("--sess-out", "--sess-in")) {
            ByteArrayOutputStream page = new ByteArrayOutputStream();
            Cli.Result r = runWithStdio(request, page, "tls", "connect", "127.0.0.1:" + port, "--servername", "localhost",
                    "--cafile", dir.resolve("ca.pem").toString(), "--keylog", keylog.toString(), flag, session.toString());
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.err()).contains("secp256r1").contains(flag.equals("--sess-in") ? "resumed" : "full handshake");
            pages.add(page.toByteArray());
        }
        assertThat(server.get(30, TimeUnit.SECONDS).exit()).isZero();
        stop(capture);
        JsonNode conns = decryptsEach(keylog, pcap, request, pages);
        assertThat(conns.get(1).get("resumed").asBoolean()).isTrue();
    }

    /** keyway tls decrypt finds one connection per page, each carrying {@code request} one way and its page the other. */
    static JsonNode decryptsEach(Path keylog, Path pcap, byte[] request, List<byte[]> pages) throws Exception {
        Cli.Result r = Cli.run("tls", "decrypt", "--keylog", keylog.toString(), "--pcap", pcap.toString(), "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode conns = new ObjectMapper().readTree(r.out()).get("connections");
        assertThat(conns).hasSize(pages.size());
        for (int i = 0; i < pages.size(); i++) {
            assertThat(conns.get(i).get("status").asText()).isEqualTo("decrypted");
            assertThat(TlsDecryptInteropTest.joined(conns.get(i), "client_to_server")).isEqualTo(request);
            assertThat(TlsDecryptInteropTest.joined(conns.get(i), "server_to_client")).isEqualTo(pages.get(i));
        }
        return conns;
    }

    @ParameterizedTest(name = "keyway tls connect -> openssl s_server: {0}")
    @CsvSource({"TLS_AES_128_GCM_SHA256, x25519", "TLS_AES_256_GCM_SHA384, secp256r1"})
    void keywayClientKeyLog(String suite, String group) throws Exception {
        int port = freePort();
        Path pcap = dir.resolve("connect-" + suite + ".pcapng");
        Path keylog = dir.resolve("connect-" + suite + ".keys");
        Process capture = dumpcap(port, pcap);
        List<Process> started = new ArrayList<>();
        try {
            Process s = new ProcessBuilder("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", dir.resolve("srv.pem").toString(),
                    "-key", dir.resolve("srv.key").toString(), "-www", "-naccept", "1", "-tls1_3").redirectErrorStream(true).start();
            started.add(s);
            TlsDecryptInteropTest.waitFor(s, "ACCEPT", "openssl s_server did not start");
            byte[] request = "GET /keyway HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            ByteArrayOutputStream page = new ByteArrayOutputStream();
            Cli.Result r = runWithStdio(request, page, "tls", "connect", "127.0.0.1:" + port, "--servername", "localhost",
                    "--cafile", dir.resolve("ca.pem").toString(), "--keylog", keylog.toString(), "--suites", suite, "--groups", group);
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.err()).contains(suite).contains(group);
            assertThat(page.toString(StandardCharsets.UTF_8)).startsWith("HTTP/1.0 200 ok");
            stop(capture);
            decrypts(keylog, pcap, port, request, page.toByteArray(), suite);
        } finally {
            for (Process p : started) {
                p.destroyForcibly();
            }
        }
    }
}
