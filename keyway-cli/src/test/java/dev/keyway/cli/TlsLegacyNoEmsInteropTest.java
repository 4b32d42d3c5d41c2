package dev.keyway.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --legacy-no-ems} against OpenSSL 3 peers that do not use the extended master secret (RFC 7627). OpenSSL
 * has no command-line switch for that; its SSL_CONF option {@code Options = -ExtendedMasterSecret}
 * (SSL_OP_NO_EXTENDED_MASTER_SECRET, OpenSSL 3.0), set in a config file named by OPENSSL_CONF, turns the extension
 * off for s_client and s_server alike.
 */
@Tag("interop")
@Timeout(180)
class TlsLegacyNoEmsInteropTest {
    @TempDir
    static Path dir;
    static Path noEms;

    @BeforeAll
    static void setUp() throws Exception {
        Assumptions.assumeTrue(TlsDecryptInteropTest.which("openssl") != null, "openssl not installed (apt-get install openssl)");
        assertThat(Cli.run("cert", "new", "--cn", "EMS CA", "--is-ca", "-o", dir.resolve("ca.pem").toString(),
                "--key-out", dir.resolve("ca.key").toString()).exit()).isZero();
        assertThat(Cli.run("cert", "new", "--cn", "localhost", "--san", "DNS:localhost,IP:127.0.0.1", "--key-type", "rsa",
                "--ca", dir.resolve("ca.pem").toString(), "--ca-key", dir.resolve("ca.key").toString(),
                "-o", dir.resolve("rsa.pem").toString(), "--key-out", dir.resolve("rsa.key").toString()).exit()).isZero();
        noEms = dir.resolve("no-ems.cnf");
        Files.writeString(noEms, """
                openssl_conf = openssl_init
                [openssl_init]
                ssl_conf = ssl_sect
                [ssl_sect]
                system_default = system_default_sect
                [system_default_sect]
                Options = -ExtendedMasterSecret
                """);
    }

    /**
     * openssl s_client without EMS, sending {@code input}; its whole output. With input it waits for the server to
     * close (-ign_eof: the status page comes after the request); without, it hangs up at once.
     */
    static String opensslClient(int port, String input, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername", "localhost",
                "-CAfile", dir.resolve("ca.pem").toString(), "-tls1_2"));
        if (!input.isEmpty()) {
            cmd.add("-ign_eof");
        }
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OPENSSL_CONF", noEms.toString());
        Process p = pb.start();
        try {
            p.getOutputStream().write(input.getBytes(StandardCharsets.US_ASCII));
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            return out;
        } finally {
            p.destroyForcibly();
        }
    }

    static List<String> serve(boolean legacy) {
        List<String> args = new ArrayList<>(List.of("--cert", dir.resolve("rsa.pem").toString(), "--key", dir.resolve("rsa.key").toString(),
                "--www", "--tls1.2"));
        if (legacy) {
            args.add("--legacy-no-ems");
        }
        return args;
    }

    @Test
    void withoutTheFlagTlsServeRefusesAnOpensslClientWithoutEmsNamingTheFlag() throws Exception {
        try (ServeProcess server = ServeProcess.start(serve(false))) {
            String out = opensslClient(server.port(), "GET / HTTP/1.0\r\n\r\n");
            assertThat(out).contains("alert handshake failure");
            assertThat(server.awaitErr("--legacy-no-ems", 30)).as(server.err()).isTrue();
            assertThat(server.err()).contains("TLS handshake_failure: the peer does not offer the extended master secret (RFC 7627), "
                    + "which Keyway's TLS 1.2 requires: allow such old peers with --legacy-no-ems").doesNotContain("share no suite");
        }
    }

    @Test
    void withTheFlagTlsServeTalksToAnOpensslClientWithoutEmsAndNeverResumes() throws Exception {
        try (ServeProcess server = ServeProcess.start(serve(true))) {
            String out = opensslClient(server.port(), "GET / HTTP/1.0\r\n\r\n");
            assertThat(out).contains("Extended master secret: no").contains("Keyway TLS")
                    .contains("TLSv1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, x25519, full handshake, no extended master secret (legacy)");
            // RFC 7627 section 5.3: the session is not stored and gets no ticket, so -reconnect gets five new sessions
            String again = opensslClient(server.port(), "", "-reconnect");
            assertThat(again).doesNotContain("Reused,");
            assertThat(Pattern.compile("^New, TLSv1.2", Pattern.MULTILINE).matcher(again).results().count()).isEqualTo(6);
            // an OpenSSL client with EMS (its default) still gets it, and resumes
            ProcessBuilder pb = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + server.port(), "-CAfile",
                    dir.resolve("ca.pem").toString(), "-servername", "localhost", "-tls1_2", "-reconnect").redirectErrorStream(true);
            Process p = pb.start();
            p.getOutputStream().close();
            String modern = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(modern).contains("Extended master secret: yes").contains("Reused, TLSv1.2");
        }
    }

    /** openssl s_server -www without EMS on a free port; the caller stops it. */
    static Process opensslServer(int port) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", dir.resolve("rsa.pem").toString(),
                "-key", dir.resolve("rsa.key").toString(), "-www", "-tls1_2", "-naccept", "1").redirectErrorStream(true);
        pb.environment().put("OPENSSL_CONF", noEms.toString());
        Process p = pb.start();
        TlsDecryptInteropTest.waitFor(p, "ACCEPT", "openssl s_server did not start");
        return p;
    }

    @Test
    void withoutTheFlagTlsConnectRefusesAnOpensslServerWithoutEms() throws Exception {
        int port = KeywayTlsCaptureInteropTest.freePort();
        Process server = opensslServer(port);
        try {
            Cli.Result r = KeywayTlsCaptureInteropTest.runWithStdio("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                    new ByteArrayOutputStream(), "tls", "connect", "127.0.0.1:" + port, "--cafile", dir.resolve("ca.pem").toString(),
                    "--servername", "localhost");
            assertThat(r.exit()).as("refused by policy").isEqualTo(4);
            assertThat(r.oneLineError()).as(r.err()).isTrue();
            assertThat(r.err().strip()).isEqualTo("keyway: TLS handshake_failure: the peer does not offer the extended master secret "
                    + "(RFC 7627), which Keyway's TLS 1.2 requires: allow such old peers with --legacy-no-ems");
        } finally {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** With the flag: connected; the key log's master secret is the one OpenSSL's status page shows; --sess-out has nothing to keep. */
    @Test
    void withTheFlagTlsConnectTalksToAnOpensslServerWithoutEms() throws Exception {
        int port = KeywayTlsCaptureInteropTest.freePort();
        Process server = opensslServer(port);
        Path keylog = dir.resolve("connect-no-ems.keys");
        Path sess = dir.resolve("connect-no-ems.sess");
        ByteArrayOutputStream page = new ByteArrayOutputStream();
        try {
            Cli.Result r = KeywayTlsCaptureInteropTest.runWithStdio("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII), page,
                    "tls", "connect", "127.0.0.1:" + port, "--cafile", dir.resolve("ca.pem").toString(), "--servername", "localhost",
                    "--legacy-no-ems", "--keylog", keylog.toString(), "--sess-out", sess.toString());
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.err()).contains("TLSv1.2, ").contains("no extended master secret (legacy)");
            String html = page.toString(StandardCharsets.UTF_8);
            assertThat(html).contains("Extended master secret: no");
            Matcher m = Pattern.compile("Master-Key: ([0-9A-F]{96})").matcher(html);
            assertThat(m.find()).as(html).isTrue();
            String line = Files.readString(keylog).strip();
            assertThat(line).startsWith("CLIENT_RANDOM ").endsWith(" " + m.group(1).toLowerCase(java.util.Locale.ROOT));
            assertThat(sess).doesNotExist();
        } finally {
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
