package dev.keyway.jsse;

import dev.keyway.tls.cert.Pem;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent as users run it, after {@code package}: {@code java -javaagent:target/keyway-jsse.jar=keylog=FILE} in
 * front of an unmodified single-file HTTPS client (the JDK's HttpClient, the default SSLContext, the standard
 * trust store properties) talking to {@code openssl s_server -www} on 127.0.0.1, captured with dumpcap. FILE then
 * holds the connection's secrets (the same ones openssl logs), and tshark decrypts the capture with it.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AgentIT {
    @TempDir
    static Path dir;
    static Path agentJar;

    /** The application: nothing in it knows about Keyway. */
    static final String CLIENT = """
            import java.net.URI;
            import java.net.http.HttpClient;
            import java.net.http.HttpRequest;
            import java.net.http.HttpResponse;

            public class HttpsClient {
                public static void main(String[] args) throws Exception {
                    HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
                    HttpResponse<java.io.InputStream> r = c.send(HttpRequest.newBuilder(URI.create(args[0])).build(),
                            HttpResponse.BodyHandlers.ofInputStream());
                    StringBuilder page = new StringBuilder();
                    byte[] b = new byte[4096];
                    int n;
                    try (java.io.InputStream in = r.body()) {
                        while (!page.toString().contains("</HTML>") && (n = in.read(b)) > 0) {
                            page.append(new String(b, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1));
                        }
                    }
                    System.out.println("status " + r.statusCode() + " " + r.sslSession().get().getProtocol()
                            + " " + r.sslSession().get().getCipherSuite());
                    System.out.println(page.toString().contains("New, TLSv1") ? "page ok" : "page: " + page);
                    System.exit(0);
                }
            }
            """;

    @BeforeAll
    static void setUp() throws Exception {
        agentJar = Path.of("target", "keyway-jsse.jar").toAbsolutePath();
        assertThat(agentJar).as("mvn package builds the agent jar before the integration tests").exists();
        JsseFixtures.Credential server = JsseFixtures.credential("EC", "localhost", List.of("DNS:localhost", "IP:127.0.0.1"));
        Files.writeString(dir.resolve("server.pem"), Pem.writeCertificate(server.cert()));
        Files.writeString(dir.resolve("server.key"), Pem.writePrivateKey(server.keys().getPrivate()));
        KeyStore ts = JsseFixtures.trustStore(server.cert());
        try (OutputStream out = Files.newOutputStream(dir.resolve("trust.p12"))) {
            ts.store(out, JsseFixtures.PASSWORD);
        }
        Files.writeString(dir.resolve("HttpsClient.java"), CLIENT);
    }

    static boolean installed(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    static Process start(List<String> cmd, String marker) throws Exception {
        return JsseFixtures.startPeer(dir, cmd, marker);
    }

    static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        return out + "\nexit " + p.exitValue();
    }


    static List<String> java(String agentOptions, String... rest) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-javaagent:" + agentJar + (agentOptions == null ? "" : "=" + agentOptions),
                "-Djavax.net.ssl.trustStore=" + dir.resolve("trust.p12"), "-Djavax.net.ssl.trustStorePassword=changeit"));
        cmd.addAll(List.of(rest));
        return cmd;
    }

    static List<String> secretLines(Path keyLog) throws IOException {
        return Files.readAllLines(keyLog).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).sorted().collect(Collectors.toList());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"-tls1_3", "-tls1_2"})
    void anUnmodifiedClientGetsAKeyLogThatTsharkDecryptsWith(String version) throws Exception {
        Assumptions.assumeTrue(installed("openssl"), "openssl is not installed");
        int port = JsseFixtures.freePort();
        Path ours = dir.resolve("agent" + version + ".keys");
        Path theirs = dir.resolve("openssl" + version + ".keys");
        Path pcap = dir.resolve("capture" + version + ".pcapng");
        boolean capture = installed("dumpcap") && installed("tshark");
        Process dumpcap = capture ? start(List.of("dumpcap", "-q", "-i", "lo", "-f", "tcp port " + port, "-a", "duration:90",
                "-w", pcap.toString()), "Capturing on") : null;
        Process server = start(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", "server.pem", "-key", "server.key",
                "-www", version, "-keylogfile", theirs.toString()), "ACCEPT");
        String out;
        try {
            out = run(java("keylog=" + ours, "HttpsClient.java", "https://localhost:" + port + "/"));
        } finally {
            server.destroy();
            server.waitFor(10, TimeUnit.SECONDS);
            if (dumpcap != null) {
                Thread.sleep(300);
                dumpcap.destroy();
                dumpcap.waitFor(10, TimeUnit.SECONDS);
            }
        }
        String protocol = version.equals("-tls1_3") ? "TLSv1.3" : "TLSv1.2";
        assertThat(out).contains("status 200 " + protocol).contains("page ok").endsWith("exit 0");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(ours))).isEqualTo("rw-------");
        List<String> expected = secretLines(theirs);
        assertThat(expected).isNotEmpty();
        assertThat(secretLines(ours)).containsAll(expected);
        if (!capture) {
            System.err.println("SKIPPED the tshark cross-check: dumpcap or tshark is not installed");
            return;
        }
        // Without the key log tshark sees no HTTP; with it, the request and the response.
        String blind = run(List.of("tshark", "-r", pcap.toString(), "-d", "tcp.port==" + port + ",tls", "-Y", "http",
                "-T", "fields", "-e", "http.request.method", "-e", "http.response.code"));
        assertThat(blind).doesNotContain("GET");
        String seen = run(List.of("tshark", "-r", pcap.toString(), "-o", "tls.keylog_file:" + ours, "-d", "tcp.port==" + port + ",tls",
                "-Y", "http", "-T", "fields", "-e", "http.request.method", "-e", "http.request.uri"));
        assertThat(seen).contains("GET\t/");
        // the whole decrypted conversation, both ways (s_server's HTTP/1.0 answer has no length, so follow the stream)
        String follow = run(List.of("tshark", "-r", pcap.toString(), "-o", "tls.keylog_file:" + ours, "-d", "tcp.port==" + port + ",tls",
                "-q", "-z", "follow,tls,ascii,0"));
        assertThat(follow).contains("GET / HTTP/1.1").contains("HTTP/1.0 200 ok");
    }

    /**
     * {@code provider=default}: the program keeps the JDK's TLS (its connection works as without the agent), nothing of
     * it reaches the key log (JSSE hands its secrets to nobody), and the agent says so when it starts.
     */
    @Test
    void providerDefaultKeepsTheJdksTlsAndSaysWhatIsNotLogged() throws Exception {
        Assumptions.assumeTrue(installed("openssl"), "openssl is not installed");
        int port = JsseFixtures.freePort();
        Path ours = dir.resolve("default.keys");
        Process server = start(List.of("openssl", "s_server", "-accept", "127.0.0.1:" + port, "-cert", "server.pem", "-key", "server.key",
                "-www", "-tls1_3"), "ACCEPT");
        String out;
        try {
            out = run(java("keylog=" + ours + ",provider=default", "HttpsClient.java", "https://localhost:" + port + "/"));
        } finally {
            server.destroy();
            server.waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(out).contains("status 200 TLSv1.3").contains("page ok").endsWith("exit 0")
                .contains("provider=default: the JDK's TLS stays the default and its connections are not logged");
        assertThat(secretLines(ours)).isEmpty();
    }

    @Test
    void badOptionsStopTheProgramWithOneClearLine() throws Exception {
        String unknown = run(java("keylog=" + dir.resolve("x.keys") + ",verbose=1", "HttpsClient.java", "https://localhost:1/"));
        assertThat(unknown).contains("bad option 'verbose=1'").doesNotEndWith("exit 0");
        String provider = run(java("provider=sun", "HttpsClient.java", "https://localhost:1/"));
        assertThat(provider).contains("unknown provider 'sun'").doesNotEndWith("exit 0");
        String dirAsFile = run(java("keylog=" + dir, "HttpsClient.java", "https://localhost:1/"));
        assertThat(dirAsFile).contains("cannot open key log").doesNotEndWith("exit 0");
    }
}
