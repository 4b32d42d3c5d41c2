package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.KeyBlock12;
import dev.keyway.core.kdf.Prf12;
import dev.keyway.core.kdf.TlsVersion;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** keyway tls key-block, traffic-keys, suites and keylog check, as a user runs them. */
class TlsKeyCommandsTest {
    // RFC 8448 section 3: the server handshake traffic secret and the key and IV derived from it.
    static final String RFC8448_S_HS = "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
    static final String RFC8448_S_HS_KEY = "3fce516009c21727d0f2e4e86ee403bc";
    static final String RFC8448_S_HS_IV = "5d313eb2671276ee13000b30";

    static final String MASTER = "6a81867a8e3139bb91f0b6d42f704d0a89d67967a4e6e5e1a46c4e3cef933e2966f99afa11cdb2868ba5ac805ba710c0";
    static final String CLIENT_RANDOM = "81817b397b6fa564dc22ea325b51f3b00bfe56a0a4e99a6483bbd08bdb5b5d67";
    static final String SERVER_RANDOM = "7ddd03475ae845e4d47e5ba6a83a0239806632f01dab51ef444f574e47524401";

    @TempDir
    Path dir;

    static JsonNode json(Cli.Result r) throws Exception {
        assertThat(r.exit()).as(r.err()).isZero();
        return new ObjectMapper().readTree(r.out());
    }

    @Test
    void trafficKeysMatchRfc8448() throws Exception {
        JsonNode j = json(Cli.run("tls", "traffic-keys", "--suite", "TLS_AES_128_GCM_SHA256", "--secret", RFC8448_S_HS, "--json"));
        assertThat(j.get("key").asText()).isEqualTo(RFC8448_S_HS_KEY);
        assertThat(j.get("iv").asText()).isEqualTo(RFC8448_S_HS_IV);
        Path f = dir.resolve("secret");
        Files.writeString(f, RFC8448_S_HS + "\n");
        Cli.Result text = Cli.run("tls", "traffic-keys", "--suite", "0x1301", "--secret-file", f.toString());
        assertThat(text.out()).contains("key     " + RFC8448_S_HS_KEY).contains("iv      " + RFC8448_S_HS_IV);
    }

    @Test
    void keyBlockSplitsAsTheSuiteSays() throws Exception {
        JsonNode gcm = json(Cli.run("tls", "key-block", "--suite", "ECDHE-ECDSA-AES128-GCM-SHA256", "--master", MASTER,
                "--client-random", CLIENT_RANDOM, "--server-random", SERVER_RANDOM, "--json"));
        KeyBlock12 kb = Prf12.keyBlock(CipherSuites.parse("0xC02B"), TlsVersion.TLS12, Hex.decode(MASTER, "m"),
                Hex.decode(CLIENT_RANDOM, "c"), Hex.decode(SERVER_RANDOM, "s"));
        assertThat(gcm.get("client_write_key").asText()).isEqualTo(Hex.encode(kb.clientKey())).hasSize(32);
        assertThat(gcm.get("server_write_iv").asText()).isEqualTo(Hex.encode(kb.serverIv())).hasSize(8);
        assertThat(gcm.get("client_write_mac_key").asText()).isEmpty();

        JsonNode cbc10 = json(Cli.run("tls", "key-block", "--suite", "AES256-SHA", "--version", "1.0", "--master", MASTER,
                "--client-random", CLIENT_RANDOM, "--server-random", SERVER_RANDOM, "--json"));
        assertThat(cbc10.get("prf").asText()).isEqualTo("MD5_SHA1");
        assertThat(cbc10.get("client_write_mac_key").asText()).hasSize(40);
        assertThat(cbc10.get("client_write_key").asText()).hasSize(64);
        assertThat(cbc10.get("client_write_iv").asText()).hasSize(32);
        JsonNode cbc12 = json(Cli.run("tls", "key-block", "--suite", "0x0035", "--master", MASTER,
                "--client-random", CLIENT_RANDOM, "--server-random", SERVER_RANDOM, "--json"));
        assertThat(cbc12.get("client_write_iv").asText()).isEmpty();
        assertThat(cbc12.get("client_write_mac_key").asText()).isNotEqualTo(cbc10.get("client_write_mac_key").asText());
    }

    @Test
    void badInputIsOneLineAndExitTwo() {
        String[][] cases = {
                {"tls", "key-block", "--suite", "nope", "--master", MASTER, "--client-random", CLIENT_RANDOM, "--server-random", SERVER_RANDOM},
                {"tls", "key-block", "--suite", "0xC02F", "--master", MASTER.substring(2), "--client-random", CLIENT_RANDOM, "--server-random", SERVER_RANDOM},
                {"tls", "key-block", "--suite", "0xC02F", "--master", MASTER, "--client-random", CLIENT_RANDOM.substring(2), "--server-random", SERVER_RANDOM},
                {"tls", "key-block", "--suite", "0xC02F", "--master", "zz", "--client-random", CLIENT_RANDOM, "--server-random", SERVER_RANDOM},
                {"tls", "key-block", "--suite", "0xC02F", "--version", "1.1", "--master", MASTER, "--client-random", CLIENT_RANDOM, "--server-random", SERVER_RANDOM},
                {"tls", "key-block", "--suite", "TLS_AES_128_GCM_SHA256", "--master", MASTER, "--client-random", CLIENT_RANDOM, "--server-random", SERVER_RANDOM},
                {"tls", "key-block", "--suite", "0xC02F", "--client-random", CLIENT_RANDOM, "--server-random", SERVER_RANDOM},
                {"tls", "traffic-keys", "--suite", "0xC02F", "--secret", RFC8448_S_HS},
                {"tls", "traffic-keys", "--suite", "TLS_AES_256_GCM_SHA384", "--secret", RFC8448_S_HS},
                {"tls", "traffic-keys", "--suite", "0x1301", "--secret", RFC8448_S_HS, "--updates", "-1"},
        };
        for (String[] c : cases) {
            Cli.Result r = Cli.run(c);
            assertThat(r.exit()).as(String.join(" ", c) + "\n" + r.err()).isEqualTo(2);
            assertThat(r.oneLineError()).as(r.err()).isTrue();
        }
    }

    @Test
    void suitesListsTheTable() throws Exception {
        JsonNode j = json(Cli.run("tls", "suites", "--json"));
        assertThat(j.get("suites")).hasSize(CipherSuites.all().size());
        assertThat(Cli.run("tls", "suites").out()).contains("0xC02F", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256");
    }

    @Test
    void keylogCheckReportsConnectionsAndBadLines() throws Exception {
        Path log = dir.resolve("keys.txt");
        Files.writeString(log, String.join("\n",
                "# a comment",
                "CLIENT_RANDOM " + CLIENT_RANDOM + " " + MASTER,
                "SERVER_HANDSHAKE_TRAFFIC_SECRET " + SERVER_RANDOM + " " + RFC8448_S_HS,
                "CLIENT_TRAFFIC_SECRET_0 " + SERVER_RANDOM + " " + RFC8448_S_HS.substring(2),
                "") );
        Cli.Result r = Cli.run("tls", "keylog", "check", log.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.oneLineError()).as(r.err()).isTrue();
        assertThat(r.err()).contains("line 4");
        assertThat(r.out()).contains(CLIENT_RANDOM, "decryptable (TLS 1.2 master secret)", "not decryptable: missing",
                "bad line 4: CLIENT_TRAFFIC_SECRET_0 secret is 31 bytes");
        JsonNode j = new ObjectMapper().readTree(Cli.run("tls", "keylog", "check", log.toString(), "--json").out());
        assertThat(j.get("connections")).hasSize(2);
        assertThat(j.get("bad_lines").get(0).get("line").asInt()).isEqualTo(4);

        Cli.Result missing = Cli.run("tls", "keylog", "check", dir.resolve("none.txt").toString());
        assertThat(missing.exit()).isEqualTo(2); // issue 19: a missing input is exit 2 (it was 1)
        assertThat(missing.oneLineError()).isTrue();
    }
}
