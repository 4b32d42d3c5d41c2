package dev.keyway.tls;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.params.TlsException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static dev.keyway.tls.RawTls12Client.EXT_EXTENDED_MASTER_SECRET;
import static dev.keyway.tls.RawTls12Client.EXT_SESSION_TICKET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The extended master secret (RFC 7627) in Keyway's TLS 1.2: required by default on both sides, with a refusal
 * that names the cause and the flag; allowed to be absent with {@link TlsConfig.Builder#legacyNoExtendedMasterSecret},
 * where the master secret is RFC 5246's, the session is never resumed (RFC 7627 section 5.3) and exports nothing
 * (section 5.4). The server side is driven by {@link RawTls12Client}, which can leave the extension out; the
 * client side by rewriting a Keyway server's ServerHello.
 */
class Tls12ExtendedMasterSecretTest {
    @TempDir
    static Path dir;
    static final List<TlsVersion> ONLY12 = List.of(TlsVersion.TLS12);
    static final int[] MODERN = {0xC02F, 0xC02B};

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl makes the test certificates");
        TestCerts.make(dir, "rsa", "rsa", 5);
    }

    static TlsConfig.Builder server() throws Exception {
        return TlsConfig.builder().certificate(TestCerts.certs(dir.resolve("rsa.pem")), TestCerts.key(dir.resolve("rsa.key"), "rsa"))
                .versions(List.of(TlsVersion.TLS13, TlsVersion.TLS12));
    }

    static TlsConfig.Builder client() throws Exception {
        return TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost").versions(ONLY12);
    }

    // ---- server side ----

    /** RFC 7627 section 5.2: a server that requires the extension aborts with handshake_failure; the message says why and what allows it. */
    @Test
    void aClientHelloWithoutTheExtensionIsRefusedNamingTheCauseAndTheFlag() throws Exception {
        TlsEngine s = TlsEngine.server(server().build());
        RawTls12Client raw = new RawTls12Client(s, false);
        byte[] hello = raw.hello(new byte[0], MODERN);
        TlsException e = catchThrowableOfType(() -> raw.sendHello(hello), TlsException.class);
        assertThat(e.alert()).isEqualTo(Alert.HANDSHAKE_FAILURE);
        assertThat(e.code()).as("refused by policy: exit status 4").isEqualTo(ErrorCode.POLICY);
        assertThat(e.oneLine()).contains("the peer does not offer the extended master secret (RFC 7627), which Keyway's TLS 1.2 requires")
                .endsWith("allow such old peers (TlsConfig.Builder.legacyNoExtendedMasterSecret)").doesNotContain("share no suite");
        assertThat(RawTls12Client.alert(RawTls12Client.take(s))).containsExactly(2, 40);
    }

    /** The same ClientHello with the extension goes through: the refusal is about the extension and nothing else. */
    @Test
    void theSameClientHelloWithTheExtensionIsAnswered() throws Exception {
        TlsEngine s = TlsEngine.server(server().build());
        RawTls12Client raw = new RawTls12Client(s, true);
        raw.finish(raw.sendHello(raw.hello(new byte[0], MODERN)));
        assertThat(raw.serverHello.extensions()).containsKey(EXT_EXTENDED_MASTER_SECRET);
        assertThat(s.extendedMasterSecret()).isTrue();
    }

    /** RFC 7627 section 5.1: the extension's data is empty; anything else is a decode_error, with or without the flag. */
    @ParameterizedTest(name = "legacy flag {0}")
    @ValueSource(booleans = {false, true})
    void aNonEmptyExtensionIsADecodeError(boolean legacy) throws Exception {
        TlsEngine s = TlsEngine.server(server().legacyNoExtendedMasterSecret(legacy).build());
        RawTls12Client raw = new RawTls12Client(s, false);
        List<byte[]> ext = RawTls12Client.basicExtensions();
        ext.add(RawTls12Client.ext(EXT_EXTENDED_MASTER_SECRET, new byte[] {0}));
        byte[] hello = RawTls12Client.clientHello(raw.clientRandom, new byte[0], MODERN, ext);
        assertThatThrownBy(() -> raw.sendHello(hello)).isInstanceOf(TlsException.class)
                .satisfies(t -> assertThat(((TlsException) t).alert()).isEqualTo(Alert.DECODE_ERROR));
        assertThat(RawTls12Client.alert(RawTls12Client.take(s))).containsExactly(2, 50);
    }

    /**
     * With the flag, a client without the extension completes a full handshake on the RFC 5246 master secret
     * (RFC 5246 section 8.1), which the raw client derives on its own and checks against the server's Finished and
     * key log; for ECDHE and RSA key transport, AEAD and CBC, SHA-256 and SHA-384 PRFs.
     */
    @ParameterizedTest(name = "suite {0}")
    @ValueSource(ints = {0xC02F, 0xC030, 0xCCA8, 0x009C, 0xC013, 0x002F})
    void withTheFlagAClientWithoutTheExtensionGetsThePlainMasterSecret(int suite) throws Exception {
        Map<String, byte[]> log = new ConcurrentHashMap<>();
        TlsEngine s = TlsEngine.server(server().legacyNoExtendedMasterSecret(true).legacyRsaKeyExchange(true).legacyCbc(true)
                .keyLog((label, random, secret) -> log.put(label, secret.clone())).build());
        RawTls12Client raw = new RawTls12Client(s, false);
        raw.finish(raw.sendHello(raw.hello(new byte[0], suite)));
        assertThat(raw.suite).isEqualTo(CipherSuites.byCode(suite));
        assertThat(raw.serverHello.extensions()).as("RFC 5246 section 7.4.1.4: only extensions the client sent come back")
                .doesNotContainKey(EXT_EXTENDED_MASTER_SECRET);
        assertThat(s.isHandshakeComplete()).isTrue();
        assertThat(log.get("CLIENT_RANDOM")).as("the key log still has the master secret").isEqualTo(raw.masterSecret);

        byte[] ping = raw.seal(RawTls12Client.APPLICATION_DATA, "ping".getBytes(StandardCharsets.US_ASCII));
        s.receive(ping, 0, ping.length);
        byte[] buf = new byte[16];
        assertThat(new String(buf, 0, s.read(buf, 0, buf.length), StandardCharsets.US_ASCII)).isEqualTo("ping");
        assertThat(s.extendedMasterSecret()).isFalse();
        assertThat(s.summary()).endsWith(", no extended master secret (legacy)");
        KeywayException refused = catchThrowableOfType(() -> s.exportKeyingMaterial("EXPORTER-test", null, 32), KeywayException.class);
        assertThat(refused.code()).isEqualTo(ErrorCode.POLICY);
        assertThat(refused.getMessage()).contains("RFC 7627 section 5.4");
    }

    /**
     * RFC 7627 section 5.3: such a session is not resumable. It gets a session ID like any other (RFC 5246 section
     * 7.4.1.3 lets a server hand out IDs it will not find again) but is never stored, and no ticket even when the
     * client asks for one (RFC 5077): the same client coming back with that ID, with or without the extension, gets
     * a full handshake, not an abort.
     */
    @Test
    void aSessionWithoutTheExtensionIsNeitherStoredNorTicketed() throws Exception {
        TlsConfig config = server().legacyNoExtendedMasterSecret(true).build();
        TlsEngine s = TlsEngine.server(config);
        RawTls12Client raw = new RawTls12Client(s, false);
        List<byte[]> ext = RawTls12Client.basicExtensions();
        ext.add(RawTls12Client.ext(EXT_SESSION_TICKET, new byte[0]));
        raw.finish(raw.sendHello(RawTls12Client.clientHello(raw.clientRandom, new byte[0], MODERN, ext)));
        byte[] id = raw.serverHello.sessionId();
        assertThat(id).hasSize(32);
        assertThat(raw.serverHello.extensions()).doesNotContainKey(EXT_SESSION_TICKET);
        assertThat(config.sessionStore().get(id)).as("never stored").isNull();
        for (boolean withEms : new boolean[] {false, true}) {
            RawTls12Client again = new RawTls12Client(TlsEngine.server(config), withEms);
            again.finish(again.sendHello(again.hello(id, MODERN)));
            assertThat(again.serverHello.sessionId()).as("a full handshake under a new ID").isNotEqualTo(id);
        }

        // the same client with the extension and a ticket request gets both: the difference is the extension
        TlsEngine s2 = TlsEngine.server(server().legacyNoExtendedMasterSecret(true).build());
        RawTls12Client ems = new RawTls12Client(s2, true);
        List<byte[]> ext2 = RawTls12Client.basicExtensions();
        ext2.add(RawTls12Client.ext(EXT_SESSION_TICKET, new byte[0]));
        ext2.add(RawTls12Client.ext(EXT_EXTENDED_MASTER_SECRET, new byte[0]));
        ems.finish(ems.sendHello(RawTls12Client.clientHello(ems.clientRandom, new byte[0], MODERN, ext2)));
        assertThat(ems.serverHello.sessionId()).hasSize(32);
        assertThat(ems.serverHello.extensions()).containsKeys(EXT_SESSION_TICKET, EXT_EXTENDED_MASTER_SECRET);
    }

    /**
     * RFC 7627 section 5.3: "If the original session used the extension but the new ClientHello does not contain it,
     * the server MUST abort the abbreviated handshake": a handshake_failure, even with the flag (which is about
     * full handshakes with old peers, not about resuming a session without what made it safe).
     */
    @Test
    void aClientHelloWithoutTheExtensionCannotResumeASessionMadeWithIt() throws Exception {
        TlsConfig config = server().legacyNoExtendedMasterSecret(true).build();
        RawTls12Client first = new RawTls12Client(TlsEngine.server(config), true);
        first.finish(first.sendHello(first.hello(new byte[0], MODERN)));
        byte[] sessionId = first.serverHello.sessionId();
        assertThat(sessionId).hasSize(32);

        // the same session ID with the extension resumes (the baseline)
        TlsEngine again = TlsEngine.server(config);
        RawTls12Client withEms = new RawTls12Client(again, true);
        RawTls12Client.ServerHello resumed = RawTls12Client.ServerHello.parse(
                RawTls12Client.messages(RawTls12Client.records(withEms.sendHello(withEms.hello(sessionId, MODERN)))).get(0).body());
        assertThat(resumed.sessionId()).as("resumed: the ID is echoed").isEqualTo(sessionId);

        TlsEngine s = TlsEngine.server(config);
        RawTls12Client without = new RawTls12Client(s, false);
        byte[] hello = without.hello(sessionId, MODERN);
        TlsException e = catchThrowableOfType(() -> without.sendHello(hello), TlsException.class);
        assertThat(e.alert()).isEqualTo(Alert.HANDSHAKE_FAILURE);
        assertThat(e.getMessage()).contains("resume a session made with the extended master secret");
        assertThat(RawTls12Client.alert(RawTls12Client.take(s))).containsExactly(2, 40);
    }

    // ---- client side, against a Keyway server whose ServerHello loses the extension on the way ----

    /** Each server flight with extension {@code type} taken out of its ServerHello (the transcripts then differ; enough to see the client's decision). */
    static byte[] withoutServerHelloExtension(byte[] flight, int type) {
        List<RawTls12Client.Record> records = RawTls12Client.records(flight);
        if (records.isEmpty() || records.get(0).type() != RawTls12Client.HANDSHAKE || records.get(0).fragment()[0] != 2) {
            return flight;
        }
        List<RawTls12Client.Message> msgs = RawTls12Client.messages(records.subList(0, 1));
        RawTls12Client.ServerHello sh = RawTls12Client.ServerHello.parse(msgs.get(0).body());
        ByteArrayOutputStream ext = new ByteArrayOutputStream();
        sh.extensions().forEach((t, data) -> {
            if (t != type) {
                ext.writeBytes(RawTls12Client.ext(t, data));
            }
        });
        byte[] body = RawTls12Client.concat(RawTls12Client.u16(0x0303), sh.random(), RawTls12Client.vec8(sh.sessionId()),
                RawTls12Client.u16(sh.suite()), new byte[] {0}, RawTls12Client.vec16(ext.toByteArray()));
        ByteArrayOutputStream handshake = new ByteArrayOutputStream();
        handshake.writeBytes(RawTls12Client.handshake(2, body));
        for (RawTls12Client.Message m : msgs.subList(1, msgs.size())) {
            handshake.writeBytes(m.raw());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(RawTls12Client.record(RawTls12Client.HANDSHAKE, handshake.toByteArray()));
        for (RawTls12Client.Record r : records.subList(1, records.size())) {
            out.writeBytes(RawTls12Client.record(r.type(), r.fragment()));
        }
        return out.toByteArray();
    }

    /** RFC 7627 section 5.2, client side: without the flag a ServerHello without the extension is refused, naming the flag. */
    @Test
    void aKeywayClientRefusesAServerWithoutTheExtensionNamingTheFlag() throws Exception {
        TlsEngine c = TlsEngine.client(client().build());
        TlsEngine s = TlsEngine.server(server().build());
        byte[] hello = RawTls12Client.take(c);
        s.receive(hello, 0, hello.length);
        byte[] flight = withoutServerHelloExtension(RawTls12Client.take(s), EXT_EXTENDED_MASTER_SECRET);
        TlsException e = catchThrowableOfType(() -> c.receive(flight, 0, flight.length), TlsException.class);
        assertThat(e.alert()).isEqualTo(Alert.HANDSHAKE_FAILURE);
        assertThat(e.code()).isEqualTo(ErrorCode.POLICY);
        assertThat(e.oneLine()).contains("does not offer the extended master secret (RFC 7627)").endsWith("(TlsConfig.Builder.legacyNoExtendedMasterSecret)");
        assertThat(e.hintId()).isEqualTo(TlsConfig.HINT_LEGACY_NO_EMS);
        assertThat(RawTls12Client.alert(RawTls12Client.take(c))).containsExactly(2, 40);
    }

    /** With the flag the client goes on to its ClientKeyExchange (the openssl interop test completes such a handshake). */
    @Test
    void withTheFlagAKeywayClientAnswersAServerWithoutTheExtension() throws Exception {
        TlsEngine c = TlsEngine.client(client().legacyNoExtendedMasterSecret(true).build());
        TlsEngine s = TlsEngine.server(server().build());
        byte[] hello = RawTls12Client.take(c);
        s.receive(hello, 0, hello.length);
        byte[] flight = withoutServerHelloExtension(RawTls12Client.take(s), EXT_EXTENDED_MASTER_SECRET);
        c.receive(flight, 0, flight.length);
        List<RawTls12Client.Record> answer = RawTls12Client.records(RawTls12Client.take(c));
        assertThat(answer.get(0).type()).isEqualTo(RawTls12Client.HANDSHAKE);
        assertThat(answer.get(0).fragment()[0]).as("ClientKeyExchange").isEqualTo((byte) 16);
        assertThat(answer.get(1).type()).isEqualTo(RawTls12Client.CHANGE_CIPHER_SPEC);
    }

    /**
     * RFC 7627 section 5.3, client side: "If the original session used the extension but the new ServerHello does
     * not contain the extension, the client MUST abort the handshake", flag or not. Only sessions made with the
     * extension are kept, so every resumption needs it.
     */
    @ParameterizedTest(name = "resumption by {0}")
    @CsvSource({"ticket", "session-id"})
    void aKeywayClientAbortsAResumptionWithoutTheExtension(String how) throws Exception {
        TlsConfig serverConfig = server().ticketCount(how.equals("ticket") ? 1 : 0).build();
        TlsEngine c1 = TlsEngine.client(client().build());
        TlsEngine s1 = TlsEngine.server(serverConfig);
        Tls12HandshakeTest.pump(c1, s1, x -> x);
        Ticket session = c1.tickets().get(0);

        TlsEngine c = TlsEngine.client(client().legacyNoExtendedMasterSecret(true).resumeWith(session).build());
        TlsEngine s = TlsEngine.server(serverConfig);
        byte[] hello = RawTls12Client.take(c);
        s.receive(hello, 0, hello.length);
        byte[] original = RawTls12Client.take(s);
        assertThat(RawTls12Client.records(original)).extracting(RawTls12Client.Record::type).as("the server resumes")
                .contains(RawTls12Client.CHANGE_CIPHER_SPEC);
        byte[] flight = withoutServerHelloExtension(original, EXT_EXTENDED_MASTER_SECRET);
        TlsException e = catchThrowableOfType(() -> c.receive(flight, 0, flight.length), TlsException.class);
        assertThat(e.alert()).isEqualTo(Alert.HANDSHAKE_FAILURE);
        assertThat(e.getMessage()).contains("resumed a session made with the extended master secret");
    }

    // ---- both sides Keyway ----

    /** The flag only allows old peers: two Keyway sides with it still use the extension, resume and export. */
    @Test
    void twoKeywaySidesWithTheFlagStillUseTheExtension() throws Exception {
        TlsConfig serverConfig = server().legacyNoExtendedMasterSecret(true).build();
        TlsEngine c = TlsEngine.client(client().legacyNoExtendedMasterSecret(true).build());
        TlsEngine s = TlsEngine.server(serverConfig);
        Tls12HandshakeTest.pump(c, s, x -> x);
        assertThat(c.extendedMasterSecret()).isTrue();
        assertThat(s.extendedMasterSecret()).isTrue();
        assertThat(c.summary()).doesNotContain("legacy");
        assertThat(c.exportKeyingMaterial("EXPORTER-test", null, 32)).isEqualTo(s.exportKeyingMaterial("EXPORTER-test", null, 32));
        assertThat(c.tickets()).hasSize(1);

        TlsEngine c2 = TlsEngine.client(client().legacyNoExtendedMasterSecret(true).resumeWith(c.tickets().get(0)).build());
        TlsEngine s2 = TlsEngine.server(serverConfig);
        Tls12HandshakeTest.pump(c2, s2, x -> x);
        assertThat(c2.resumed()).isTrue();
        assertThat(c2.extendedMasterSecret()).isTrue();
    }
}
