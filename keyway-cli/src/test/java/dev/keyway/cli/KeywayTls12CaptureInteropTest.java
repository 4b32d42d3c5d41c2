package dev.keyway.cli;

import dev.keyway.core.kdf.CipherSuites;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.keyway.cli.KeywayTlsCaptureInteropTest.decrypts;
import static dev.keyway.cli.KeywayTlsCaptureInteropTest.dumpcap;
import static dev.keyway.cli.KeywayTlsCaptureInteropTest.freePort;
import static dev.keyway.cli.KeywayTlsCaptureInteropTest.runWithStdio;
import static dev.keyway.cli.KeywayTlsCaptureInteropTest.stop;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keyway's TLS 1.2 from the command line against OpenSSL, captured with dumpcap on lo: the key log Keyway writes
 * (CLIENT_RANDOM lines) lets tshark and keyway tls decrypt recover the exact bytes, for the default suites and
 * the legacy ones behind their flags; resumption by session ID and by ticket; and a session cache in Redis that
 * outlives a server restart.
 */
@Tag("interop")
@Timeout(120)
class KeywayTls12CaptureInteropTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void tools() throws Exception {
        TlsDecryptInteropTest.requireTools();
        assertThat(Cli.run("cert", "new", "--cn", "Capture CA", "--is-ca", "-o", dir.resolve("ca.pem").toString(),
                "--key-out", dir.resolve("ca.key").toString()).exit()).isZero();
        for (String type : List.of("ec", "rsa")) {
            assertThat(Cli.run("cert", "new", "--cn", "localhost", "--san", "DNS:localhost,IP:127.0.0.1", "--key-type", type,
                    "--ca", dir.resolve("ca.pem").toString(), "--ca-key", dir.resolve("ca.key").toString(),
                    "-o", dir.resolve(type + ".pem").toString(), "--key-out", dir.resolve(type + ".key").toString()).exit()).isZero();
        }
    }

    static List<String> legacyFlags(String flags) {
        List<String> out = new ArrayList<>();
        for (String f : flags.split(" ")) {
            if (!f.isBlank()) {
                out.add(f);
            }
        }
        return out;
    }

    @ParameterizedTest(name = "openssl s_client -tls1_2 -> keyway tls serve: {0} {2}")
    @CsvSource({"ECDHE-ECDSA-AES128-GCM-SHA256, ec, ''", "ECDHE-RSA-AES256-GCM-SHA384, rsa, ''", "ECDHE-RSA-CHACHA20-POLY1305, rsa, ''",
            "AES128-GCM-SHA256, rsa, --legacy-rsa-kx", "AES128-SHA, rsa, --legacy-rsa-kx --legacy-cbc"})
    void keywayServerKeyLog(String suite, String cert, String flags) throws Exception {
        int port = freePort();
        Path pcap = dir.resolve("serve12-" + suite + ".pcapng");
        Path keylog = dir.resolve("serve12-" + suite + ".keys");
        Process capture = dumpcap(port, pcap);
        List<String> args = new ArrayList<>(List.of("tls", "serve", "--cert", dir.resolve(cert + ".pem").toString(), "--key",
                dir.resolve(cert + ".key").toString(), "--listen", "127.0.0.1:" + port, "--echo", "--naccept", "1", "--keylog", keylog.toString()));
        args.addAll(legacyFlags(flags));
        CompletableFuture<Cli.Result> server = CompletableFuture.supplyAsync(() -> Cli.run(args.toArray(String[]::new)));
        Thread.sleep(1500);
        byte[] request = ("hello over " + suite + "\n").getBytes(StandardCharsets.US_ASCII);
        Process client = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", "localhost",
                "-CAfile", dir.resolve("ca.pem").toString(), "-tls1_2", "-cipher", suite, "-quiet", "-ign_eof")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        client.getOutputStream().write(request);
        client.getOutputStream().flush();
        byte[] echoed = client.getInputStream().readNBytes(request.length);
        client.destroy();
        assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Cli.Result served = server.get(30, TimeUnit.SECONDS);
        stop(capture);
        assertThat(served.exit()).as(served.err()).isZero();
        assertThat(served.err()).contains("TLSv1.2").contains(CipherSuites.parse(suite).name());
        assertThat(echoed).isEqualTo(request);
        assertThat(Files.readString(keylog)).startsWith("CLIENT_RANDOM ");
        decrypts(keylog, pcap, port, request, request, CipherSuites.parse(suite).name());
    }

    @ParameterizedTest(name = "keyway tls connect --tls1.2 -> openssl s_server: {0} {2}")
    @CsvSource({"ECDHE-ECDSA-AES128-GCM-SHA256, ec, ''", "ECDHE-RSA-AES256-GCM-SHA384, rsa, ''", "ECDHE-RSA-CHACHA20-POLY1305, rsa, ''",
            "AES128-GCM-SHA256, rsa, --legacy-rsa-kx", "AES128-SHA, rsa, --legacy-rsa-kx --legacy-cbc"})
    void keywayClientKeyLog(String suite, String cert, String flags) throws Exception {
        int port = freePort();
        Path pcap = dir.resolve("connect12-" + suite + ".pcapng");
        Path keylog = dir.resolve("connect12-" + suite + ".keys");
        Process capture = dumpcap(port, pcap);
        Process s = new ProcessBuilder("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", dir.resolve(cert + ".pem").toString(),
                "-key", dir.resolve(cert + ".key").toString(), "-www", "-naccept", "1", "-tls1_2", "-cipher", suite).redirectErrorStream(true).start();
        try {
            TlsDecryptInteropTest.waitFor(s, "ACCEPT", "openssl s_server did not start");
            byte[] request = "GET /keyway HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            ByteArrayOutputStream page = new ByteArrayOutputStream();
            List<String> args = new ArrayList<>(List.of("tls", "connect", "127.0.0.1:" + port, "--servername", "localhost",
                    "--cafile", dir.resolve("ca.pem").toString(), "--keylog", keylog.toString(), "--tls1.2"));
            args.addAll(legacyFlags(flags));
            Cli.Result r = runWithStdio(request, page, args.toArray(String[]::new));
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.err()).contains("TLSv1.2").contains(CipherSuites.parse(suite).name());
            assertThat(page.toString(StandardCharsets.UTF_8)).startsWith("HTTP/1.0 200 ok").contains("Cipher is " + suite);
            stop(capture);
            decrypts(keylog, pcap, port, request, page.toByteArray(), CipherSuites.parse(suite).name());
        } finally {
            s.destroyForcibly();
        }
    }

    /** A legacy suite without its flag is a usage error that names the flag. */
    @Test
    void aLegacySuiteWithoutItsFlagIsRefused() {
        Cli.Result r = Cli.run("tls", "connect", "127.0.0.1:1", "--insecure", "--tls1.2", "--suites", "AES128-GCM-SHA256");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--legacy-rsa-kx");
        Cli.Result both = Cli.run("tls", "connect", "127.0.0.1:1", "--insecure", "--tls1.2", "--tls1.3");
        assertThat(both.exit()).isEqualTo(2);
    }

    /** Resumption by ticket and by session ID (-no_ticket on OpenSSL's side) from the command line; both connections decrypt. */
    @ParameterizedTest(name = "keyway tls connect --sess-out/--sess-in against openssl s_server -tls1_2 {0}")
    @CsvSource({"''", "-no_ticket"})
    void resumedConnectionsDecrypt(String opensslFlag) throws Exception {
        int port = freePort();
        Path pcap = dir.resolve("resume12" + opensslFlag + ".pcapng");
        Path keylog = dir.resolve("resume12" + opensslFlag + ".keys");
        Path session = dir.resolve("resume12" + opensslFlag + ".session");
        Process capture = dumpcap(port, pcap);
        List<String> cmd = new ArrayList<>(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", dir.resolve("ec.pem").toString(),
                "-key", dir.resolve("ec.key").toString(), "-www", "-naccept", "2", "-tls1_2"));
        cmd.addAll(legacyFlags(opensslFlag));
        Process s = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            TlsDecryptInteropTest.waitFor(s, "ACCEPT", "openssl s_server did not start");
            byte[] request = "GET /again HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            List<byte[]> pages = new ArrayList<>();
            for (String flag : List.of("--sess-out", "--sess-in")) {
                ByteArrayOutputStream page = new ByteArrayOutputStream();
                Cli.Result r = runWithStdio(request, page, "tls", "connect", "127.0.0.1:" + port, "--servername", "localhost",
                        "--cafile", dir.resolve("ca.pem").toString(), "--keylog", keylog.toString(), flag, session.toString());
                assertThat(r.exit()).as(r.err()).isZero();
                assertThat(r.err()).contains("TLSv1.2").contains(flag.equals("--sess-in") ? "resumed" : "full handshake");
                assertThat(page.toString(StandardCharsets.UTF_8)).contains(flag.equals("--sess-in") ? "Reused, TLSv1.2" : "New, TLSv1.2");
                pages.add(page.toByteArray());
            }
            stop(capture);
            KeywayTlsCaptureInteropTest.decryptsEach(keylog, pcap, request, pages);
        } finally {
            s.destroyForcibly();
        }
    }

    /**
     * A session-ID cache in Redis outlives the server: a session made with one `tls serve` process resumes with the
     * next one (same --ticket-key-file, tickets off so the session ID is what resumes).
     */
    @Test
    @Tag("redis")
    void aRedisSessionCacheSurvivesAServerRestart() throws Exception {
        try (java.net.Socket probe = new java.net.Socket()) {
            probe.connect(new java.net.InetSocketAddress("127.0.0.1", 6379), 1000);
        } catch (java.io.IOException e) {
            System.out.println("SKIPPED aRedisSessionCacheSurvivesAServerRestart: no Redis at 127.0.0.1:6379 (" + e.getMessage() + ")");
            org.junit.jupiter.api.Assumptions.abort("no Redis at 127.0.0.1:6379");
        }
        Path secret = dir.resolve("ticket.secret");
        byte[] random = new byte[32];
        new java.security.SecureRandom().nextBytes(random);
        Files.write(secret, random);
        Path session = dir.resolve("redis.session");
        byte[] request = "GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        for (String flag : List.of("--sess-out", "--sess-in")) {
            int port = freePort();
            CompletableFuture<Cli.Result> server = CompletableFuture.supplyAsync(() -> Cli.run("tls", "serve", "--cert",
                    dir.resolve("ec.pem").toString(), "--key", dir.resolve("ec.key").toString(), "--listen", "127.0.0.1:" + port, "--www",
                    "--naccept", "1", "--tls1.2", "--no-ticket", "--session-cache", "redis://127.0.0.1:6379", "--ticket-key-file", secret.toString()));
            Thread.sleep(1500);
            ByteArrayOutputStream page = new ByteArrayOutputStream();
            Cli.Result r = runWithStdio(request, page, "tls", "connect", "127.0.0.1:" + port, "--servername", "localhost",
                    "--cafile", dir.resolve("ca.pem").toString(), flag, session.toString());
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.err()).contains("TLSv1.2").contains(flag.equals("--sess-in") ? "resumed" : "full handshake");
            Cli.Result served = server.get(30, TimeUnit.SECONDS);
            assertThat(served.exit()).as(served.err()).isZero();
        }
        assertThat(dev.keyway.tls.params.Ticket.decode(Files.readString(session)).ticket()).as("resumed by session ID, not a ticket").isEmpty();
    }

    /** openssl s_client -reconnect (one full handshake, five resumed) against keyway tls serve: all six decrypt with the server's key log. */
    @Test
    void opensslReconnectsAgainstKeywayAndEveryConnectionDecrypts() throws Exception {
        int port = freePort();
        Path pcap = dir.resolve("reconnect12.pcapng");
        Path keylog = dir.resolve("reconnect12.keys");
        Process capture = dumpcap(port, pcap);
        CompletableFuture<Cli.Result> server = CompletableFuture.supplyAsync(() -> Cli.run("tls", "serve", "--cert", dir.resolve("ec.pem").toString(),
                "--key", dir.resolve("ec.key").toString(), "--listen", "127.0.0.1:" + port, "--www", "--naccept", "6", "--keylog", keylog.toString()));
        Thread.sleep(1500);
        Process client = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", "localhost",
                "-CAfile", dir.resolve("ca.pem").toString(), "-tls1_2", "-reconnect").redirectErrorStream(true).start();
        client.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        client.getOutputStream().close();
        String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Cli.Result served = server.get(30, TimeUnit.SECONDS);
        stop(capture);
        assertThat(served.exit()).as(served.err()).isZero();
        assertThat(out.split("Reused, TLSv1.2", -1)).as("openssl reports five reused sessions").hasSize(6);
        Cli.Result r = Cli.run("tls", "decrypt", "--keylog", keylog.toString(), "--pcap", pcap.toString(), "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        com.fasterxml.jackson.databind.JsonNode conns = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out()).get("connections");
        assertThat(conns).hasSize(6);
        for (int i = 0; i < 6; i++) {
            assertThat(conns.get(i).get("status").asText()).isEqualTo("decrypted");
            assertThat(conns.get(i).get("resumed").asBoolean()).isEqualTo(i > 0);
            // s_client -reconnect closes its first five connections without a request: after a TLS 1.2 close_notify
            // the server sends its own and nothing else (RFC 5246 section 7.2.1). The sixth asks and gets the page.
            String page = new String(TlsDecryptInteropTest.joined(conns.get(i), "server_to_client"), StandardCharsets.US_ASCII);
            if (i < 5) {
                assertThat(page).as("connection %d", i).isEmpty();
            } else {
                assertThat(page).contains("Reused session");
            }
        }
    }
}
