package dev.keyway.tls;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.keylog.KeyLog;
import dev.keyway.tls.config.TicketKeys;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.session.MemorySessionStore;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Keyway's TLS 1.2 (RFC 5246 with RFC 7627 and RFC 5746) client against Keyway's server, through engines, no sockets. */
class Tls12HandshakeTest {
    @TempDir
    static Path dir;
    static final List<TlsVersion> BOTH = List.of(TlsVersion.TLS13, TlsVersion.TLS12);
    static final List<TlsVersion> ONLY12 = List.of(TlsVersion.TLS12);

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl makes the test certificates");
        TestCerts.make(dir, "ec", "ec", 5);
        TestCerts.make(dir, "rsa", "rsa", 5);
        TestCerts.make(dir, "client", "ec", 5);
    }

    static TlsConfig.Builder server(String name) throws Exception {
        return TlsConfig.builder().certificate(TestCerts.certs(dir.resolve(name + ".pem")), TestCerts.key(dir.resolve(name + ".key"), name));
    }

    static TlsConfig.Builder client() throws Exception {
        return TlsConfig.builder().trustAnchors(TestCerts.certs(dir.resolve("ca.pem"))).serverName("localhost");
    }

    /** Moves bytes between the engines until neither has output; {@code toServer} may rewrite each client flight. */
    static void pump(TlsEngine c, TlsEngine s, UnaryOperator<byte[]> toServer) {
        pump(c, s, toServer, x -> x);
    }

    /** As above, with {@code toClient} rewriting each server flight. */
    static void pump(TlsEngine c, TlsEngine s, UnaryOperator<byte[]> toServer, UnaryOperator<byte[]> toClient) {
        for (int round = 0; round < 50; round++) {
            byte[] a = take(c);
            byte[] b = take(s);
            if (a.length == 0 && b.length == 0) {
                return;
            }
            if (a.length > 0) {
                byte[] sent = toServer.apply(a);
                s.receive(sent, 0, sent.length);
            }
            if (b.length > 0) {
                byte[] got = toClient.apply(b);
                c.receive(got, 0, got.length);
            }
        }
        throw new AssertionError("the engines did not settle");
    }

    static byte[] take(TlsEngine e) {
        byte[] out = new byte[e.outputLength()];
        e.takeOutput(out, 0, out.length);
        return out;
    }

    static String read(TlsEngine e) {
        byte[] buf = new byte[1024];
        int n = e.read(buf, 0, buf.length);
        return n <= 0 ? "" : new String(buf, 0, n, StandardCharsets.UTF_8);
    }

    static void exchange(TlsEngine c, TlsEngine s) {
        pump(c, s, x -> x);
        assertThat(c.isHandshakeComplete()).isTrue();
        assertThat(s.isHandshakeComplete()).isTrue();
        byte[] ping = "ping".getBytes(StandardCharsets.UTF_8);
        c.write(ping, 0, ping.length);
        pump(c, s, x -> x);
        assertThat(read(s)).isEqualTo("ping");
        byte[] pong = "pong".getBytes(StandardCharsets.UTF_8);
        s.write(pong, 0, pong.length);
        pump(c, s, x -> x);
        assertThat(read(c)).isEqualTo("pong");
        c.closeOutbound();
        s.closeOutbound();
        pump(c, s, x -> x);
        assertThat(c.read(new byte[1], 0, 1)).isEqualTo(-1);
        assertThat(s.read(new byte[1], 0, 1)).isEqualTo(-1);
    }

    @ParameterizedTest(name = "{0} with a {1} certificate over {2}")
    @CsvSource({"0xC02B, ec, x25519", "0xC02F, rsa, secp256r1", "0xC02C, ec, secp256r1", "0xC030, rsa, x25519", "0xCCA9, ec, x25519",
            "0xCCA8, rsa, x25519"})
    void eachSuiteKeyAndGroup(String suite, String cert, String group) throws Exception {
        Map<String, byte[]> clientLog = new ConcurrentHashMap<>();
        Map<String, byte[]> serverLog = new ConcurrentHashMap<>();
        TlsEngine c = TlsEngine.client(client().versions(ONLY12).suites(List.of(CipherSuites.parse(suite)))
                .groups(List.of(NamedGroup.parse(group))).keyLog(collect(clientLog)).build());
        TlsEngine s = TlsEngine.server(server(cert).versions(BOTH).keyLog(collect(serverLog)).build());
        exchange(c, s);
        assertThat(c.version()).isEqualTo("TLSv1.2");
        assertThat(s.summary()).isEqualTo(c.summary()).contains(CipherSuites.parse(suite).name()).contains(group);
        assertThat(clientLog).containsOnlyKeys("CLIENT_RANDOM");
        assertThat(clientLog.get("CLIENT_RANDOM")).hasSize(48).isEqualTo(serverLog.get("CLIENT_RANDOM"));
        // RFC 5705 exporter: both sides agree, and it depends on the label
        assertThat(c.exportKeyingMaterial("EXPORTER-test", null, 32)).isEqualTo(s.exportKeyingMaterial("EXPORTER-test", null, 32))
                .isNotEqualTo(c.exportKeyingMaterial("EXPORTER-other", null, 32));
        assertThatThrownBy(() -> c.keyUpdate(false)).isInstanceOf(IllegalStateException.class);
    }

    static KeyLog collect(Map<String, byte[]> into) {
        return (label, random, secret) -> into.put(label, secret.clone());
    }

    @Test
    void bothSidesWithBothVersionsPickTls13() throws Exception {
        TlsEngine c = TlsEngine.client(client().versions(BOTH).build());
        TlsEngine s = TlsEngine.server(server("ec").versions(BOTH).build());
        exchange(c, s);
        assertThat(c.version()).isEqualTo("TLSv1.3");
    }

    @Test
    void aTls13OnlyServerRefusesATls12OnlyClient() throws Exception {
        TlsEngine c = TlsEngine.client(client().versions(ONLY12).build());
        TlsEngine s = TlsEngine.server(server("ec").build());
        assertThatThrownBy(() -> pump(c, s, x -> x)).isInstanceOfSatisfying(TlsException.class,
                e -> assertThat(e.alert()).isEqualTo(Alert.PROTOCOL_VERSION));
    }

    /**
     * RFC 8446 section 4.1.3: a man in the middle removes TLS 1.3 from the ClientHello's supported_versions; the
     * server, which speaks 1.3, answers TLS 1.2 with the downgrade sentinel in its random, and the client refuses.
     */
    @Test
    void aDowngradeIsDetected() throws Exception {
        TlsEngine c = TlsEngine.client(client().versions(BOTH).build());
        TlsEngine s = TlsEngine.server(server("ec").versions(BOTH).build());
        boolean[] tampered = {false};
        assertThatThrownBy(() -> pump(c, s, flight -> {
            byte[] b = flight.clone();
            // supported_versions (0x002b), length 5, list length 4: 0x0304 0x0303 -> 0x0303 0x0303
            for (int i = 0; i + 8 < b.length && !tampered[0]; i++) {
                if (b[i] == 0x00 && b[i + 1] == 0x2b && b[i + 2] == 0 && b[i + 3] == 5 && b[i + 4] == 4 && b[i + 5] == 3 && b[i + 6] == 4) {
                    b[i + 6] = 3;
                    tampered[0] = true;
                }
            }
            return b;
        })).isInstanceOfSatisfying(TlsException.class, e -> {
            assertThat(e.alert()).isEqualTo(Alert.ILLEGAL_PARAMETER);
            assertThat(e.getMessage()).contains("downgrade");
        });
        assertThat(tampered[0]).isTrue();
    }

    /** The same tampering against a server that speaks only TLS 1.2 is no downgrade: no sentinel, the handshake completes. */
    @Test
    void aTls12OnlyServerSetsNoSentinel() throws Exception {
        TlsEngine c = TlsEngine.client(client().versions(BOTH).build());
        TlsEngine s = TlsEngine.server(server("ec").versions(ONLY12).build());
        exchange(c, s);
        assertThat(c.version()).isEqualTo("TLSv1.2");
    }

    @Test
    void clientAuthentication() throws Exception {
        TlsEngine c = TlsEngine.client(client().versions(ONLY12).certificate(TestCerts.certs(dir.resolve("client.pem")),
                TestCerts.key(dir.resolve("client.key"), "ec")).build());
        TlsEngine s = TlsEngine.server(server("rsa").versions(ONLY12).trustAnchors(TestCerts.certs(dir.resolve("ca.pem")))
                .requireClientCertificate(true).build());
        exchange(c, s);
        assertThat(s.peerCertificates()).hasSize(1);
        // without a certificate the server refuses
        TlsEngine c2 = TlsEngine.client(client().versions(ONLY12).build());
        TlsEngine s2 = TlsEngine.server(server("rsa").versions(ONLY12).trustAnchors(TestCerts.certs(dir.resolve("ca.pem")))
                .requireClientCertificate(true).build());
        assertThatThrownBy(() -> pump(c2, s2, x -> x)).isInstanceOfSatisfying(TlsException.class,
                e -> assertThat(e.alert()).isEqualTo(Alert.HANDSHAKE_FAILURE));
    }

    @Test
    void bytesSplitOneAtATime() throws Exception {
        TlsEngine c = TlsEngine.client(client().versions(ONLY12).build());
        TlsEngine s = TlsEngine.server(server("ec").versions(ONLY12).build());
        for (int round = 0; round < 20 && !(c.isHandshakeComplete() && s.isHandshakeComplete() && c.outputLength() == 0); round++) {
            for (byte b : take(c)) {
                s.receive(new byte[] {b}, 0, 1);
            }
            for (byte b : take(s)) {
                c.receive(new byte[] {b}, 0, 1);
            }
        }
        assertThat(c.isHandshakeComplete()).isTrue();
        assertThat(s.isHandshakeComplete()).isTrue();
    }

    @Test
    void aTamperedFinishedOrRecordIsRefused() throws Exception {
        for (int flip = 0; flip < 3; flip++) {
            TlsEngine c = TlsEngine.client(client().versions(ONLY12).build());
            TlsEngine s = TlsEngine.server(server("ec").versions(ONLY12).build());
            int which = flip;
            List<Integer> seen = new ArrayList<>();
            assertThatThrownBy(() -> pump(c, s, flight -> {
                seen.add(flight.length);
                if (seen.size() == 2) { // the client's second flight: ClientKeyExchange, ChangeCipherSpec, Finished
                    byte[] b = flight.clone();
                    b[b.length - 1 - which * 7] ^= 1;
                    return b;
                }
                return flight;
            })).isInstanceOfSatisfying(TlsException.class, e -> assertThat(e.alert()).isIn(Alert.BAD_RECORD_MAC, Alert.DECRYPT_ERROR));
            assertThat(Arrays.asList(s.isHandshakeComplete(), c.isHandshakeComplete())).containsOnly(false);
        }
    }

    /** One connection through engines; returns the client engine (its tickets() hold the session to keep). */
    static TlsEngine connect(TlsConfig serverConfig, TlsConfig clientConfig) {
        TlsEngine c = TlsEngine.client(clientConfig);
        TlsEngine s = TlsEngine.server(serverConfig);
        exchange(c, s);
        assertThat(s.resumed()).isEqualTo(c.resumed());
        return c;
    }

    @Test
    void sessionIdResumption() throws Exception {
        TlsConfig serverConfig = server("ec").versions(ONLY12).ticketCount(0).build();
        TlsEngine first = connect(serverConfig, client().versions(ONLY12).build());
        assertThat(first.resumed()).isFalse();
        dev.keyway.tls.params.Ticket session = first.tickets().get(0);
        assertThat(session.sessionId()).hasSize(32);
        assertThat(session.ticket()).isEmpty();
        Map<String, byte[]> log = new ConcurrentHashMap<>();
        TlsEngine second = connect(serverConfig, client().versions(BOTH).resumeWith(session).keyLog(collect(log)).build());
        assertThat(second.resumed()).isTrue();
        assertThat(second.summary()).contains("TLSv1.2").contains("resumed");
        assertThat(log.get("CLIENT_RANDOM")).as("the resumed session's key-log line carries the same master secret").isEqualTo(session.psk());
        // a session can be resumed again, and the text form a client saves round-trips
        dev.keyway.tls.params.Ticket saved = dev.keyway.tls.params.Ticket.decode(second.tickets().get(0).encode());
        assertThat(connect(serverConfig, client().versions(ONLY12).resumeWith(saved).build()).resumed()).isTrue();
    }

    @Test
    void ticketResumption() throws Exception {
        TlsConfig serverConfig = server("rsa").versions(BOTH).sessionStore(null).build();
        TlsEngine first = connect(serverConfig, client().versions(ONLY12).build());
        dev.keyway.tls.params.Ticket session = first.tickets().get(0);
        assertThat(session.ticket()).isNotEmpty();
        TlsEngine second = connect(serverConfig, client().versions(ONLY12).resumeWith(session).build());
        assertThat(second.resumed()).isTrue();
        assertThat(second.tickets().get(0).ticket()).as("a fresh ticket in the abbreviated handshake").isNotEqualTo(session.ticket());
        // another server (other ticket keys, its own store) cannot resume it: a full handshake follows
        TlsEngine other = connect(server("rsa").versions(ONLY12).build(), client().versions(ONLY12).resumeWith(session).build());
        assertThat(other.resumed()).isFalse();
    }

    /** Two servers (or one restarted) sharing a session store and a ticket-key secret resume each other's sessions. */
    @Test
    void serversSharingAStoreAndSecretResumeEachOthersSessions() throws Exception {
        byte[] secret = new byte[32];
        new java.security.SecureRandom().nextBytes(secret);
        dev.keyway.tls.session.MemorySessionStore shared = new dev.keyway.tls.session.MemorySessionStore();
        TlsConfig a = server("ec").versions(ONLY12).ticketCount(0).sessionStore(shared)
                .ticketKeys(TicketKeys.fromSecret(secret, java.time.Duration.ofHours(1))).build();
        TlsConfig b = server("ec").versions(ONLY12).ticketCount(0).sessionStore(shared)
                .ticketKeys(TicketKeys.fromSecret(secret, java.time.Duration.ofHours(1))).build();
        dev.keyway.tls.params.Ticket session = connect(a, client().versions(ONLY12).build()).tickets().get(0);
        assertThat(connect(b, client().versions(ONLY12).resumeWith(session).build()).resumed()).isTrue();
        // the store holds the session sealed: its bytes are not the master secret
        byte[] stored = shared.get(session.sessionId());
        assertThat(stored).isNotNull();
        assertThat(new String(stored, StandardCharsets.ISO_8859_1)).doesNotContain(new String(session.psk(), StandardCharsets.ISO_8859_1));
        // with another secret the entry does not open: a full handshake
        TlsConfig c = server("ec").versions(ONLY12).ticketCount(0).sessionStore(shared)
                .ticketKeys(TicketKeys.fromSecret(new byte[32], java.time.Duration.ofHours(1))).build();
        assertThat(connect(c, client().versions(ONLY12).resumeWith(session).build()).resumed()).isFalse();
    }

    @Test
    void aSessionForAnotherServerNameIsNotResumed() throws Exception {
        TlsConfig serverConfig = server("ec").versions(ONLY12).build();
        dev.keyway.tls.params.Ticket session = connect(serverConfig, client().versions(ONLY12).build()).tickets().get(0);
        // the client itself does not offer it for another name
        TlsEngine other = connect(serverConfig, client().versions(ONLY12).serverName("127.0.0.1").insecure(true).resumeWith(session).build());
        assertThat(other.resumed()).isFalse();
    }

    @ParameterizedTest(name = "legacy {0}")
    @CsvSource({"0x009C", "0x002F", "0xC013", "0xC027", "0x003C"})
    void legacySuitesNeedTheirFlags(String code) throws Exception {
        dev.keyway.core.kdf.CipherSuite suite = CipherSuites.parse(code);
        boolean rsa = suite.keyExchange() == dev.keyway.core.kdf.CipherSuite.KeyExchange.RSA;
        boolean cbc = !suite.cipher().aead();
        assertThatThrownBy(() -> client().versions(ONLY12).suites(List.of(suite)).build()).isInstanceOf(KeywayException.class)
                .satisfies(e -> assertThat(((KeywayException) e).code()).isEqualTo(ErrorCode.USAGE))
                .satisfies(e -> assertThat(((KeywayException) e).hint()).contains(rsa ? "legacyRsaKeyExchange" : "legacyCbc"));
        TlsEngine c = TlsEngine.client(client().versions(ONLY12).suites(List.of(suite)).legacyRsaKeyExchange(rsa).legacyCbc(cbc).build());
        TlsEngine s = TlsEngine.server(server("rsa").versions(BOTH).legacyRsaKeyExchange(true).legacyCbc(true).build());
        exchange(c, s);
        assertThat(s.suite()).isEqualTo(suite);
        assertThat(c.summary()).contains(rsa ? "RSA key transport" : "x25519");
    }

    /**
     * RFC 5246 section 7.4.7.1: whatever is wrong with an RSA-encrypted pre-master secret (padding, length, version,
     * garbage), the server goes on as if it were fine and the handshake fails at the same point with the same alert:
     * the client's Finished record does not open (bad_record_mac).
     */
    @Test
    void malformedRsaPreMasterSecretsAllFailAlike() throws Exception {
        java.security.interfaces.RSAPublicKey pub = (java.security.interfaces.RSAPublicKey) TestCerts.certs(dir.resolve("rsa.pem")).get(0)
                .getPublicKey();
        int k = (pub.getModulus().bitLength() + 7) / 8;
        java.util.Random random = new java.util.Random(7);
        List<byte[]> blocks = new ArrayList<>();
        blocks.add(pkcs1(k, new byte[48], 0x00, 0x02, random));                                  // version 0.0 in the secret
        byte[] good = new byte[48];
        good[0] = 3;
        good[1] = 3;
        blocks.add(pkcs1(k, Arrays.copyOf(good, 47), 0x00, 0x02, random));                          // 47 bytes
        blocks.add(pkcs1(k, Arrays.copyOf(good, 49), 0x00, 0x02, random));                          // 49 bytes
        blocks.add(pkcs1(k, good, 0x00, 0x01, random));                                              // block type 1
        blocks.add(pkcs1(k, good, 0x01, 0x02, random));                                              // first byte not 0
        byte[] noZero = new byte[k];
        Arrays.fill(noZero, (byte) 0x5a);
        noZero[0] = 0;
        noZero[1] = 2;
        blocks.add(noZero);                                                                           // no separator
        List<String> outcomes = new ArrayList<>();
        for (byte[] block : blocks) {
            byte[] encrypted = rawRsa(pub, block);
            TlsEngine c = TlsEngine.client(client().versions(ONLY12).suites(List.of(CipherSuites.parse("0x009C"))).legacyRsaKeyExchange(true)
                    .build());
            TlsEngine s = TlsEngine.server(server("rsa").versions(ONLY12).legacyRsaKeyExchange(true).build());
            try {
                pump(c, s, flight -> replaceRsaKeyExchange(flight, encrypted));
                outcomes.add("completed");
            } catch (TlsException e) {
                outcomes.add((e.received() ? "received " : "sent ") + e.alert() + " handshake complete on server: " + s.isHandshakeComplete());
            }
        }
        assertThat(outcomes).hasSize(blocks.size()).containsOnly("sent BAD_RECORD_MAC handshake complete on server: false");
    }

    /** EB = 00 || BT || PS (nonzero) || 00 || data, with the first two bytes as given (RFC 8017 section 7.2.1). */
    static byte[] pkcs1(int k, byte[] data, int first, int blockType, java.util.Random random) {
        byte[] eb = new byte[k];
        eb[0] = (byte) first;
        eb[1] = (byte) blockType;
        for (int i = 2; i < k - data.length - 1; i++) {
            eb[i] = (byte) (1 + random.nextInt(255));
        }
        eb[k - data.length - 1] = 0;
        System.arraycopy(data, 0, eb, k - data.length, data.length);
        return eb;
    }

    static byte[] rawRsa(java.security.interfaces.RSAPublicKey pub, byte[] block) {
        java.math.BigInteger c = new java.math.BigInteger(1, block).modPow(pub.getPublicExponent(), pub.getModulus());
        byte[] out = c.toByteArray();
        int k = (pub.getModulus().bitLength() + 7) / 8;
        byte[] fixed = new byte[k];
        System.arraycopy(out, Math.max(0, out.length - k), fixed, Math.max(0, k - out.length), Math.min(k, out.length));
        return fixed;
    }

    /** Rewrites the encrypted pre-master secret in a plaintext ClientKeyExchange record of the flight. */
    static byte[] replaceRsaKeyExchange(byte[] flight, byte[] encrypted) {
        byte[] b = flight.clone();
        for (int at = 0; at + 5 <= b.length; ) {
            int len = ((b[at + 3] & 0xff) << 8) | (b[at + 4] & 0xff);
            if (b[at] == 22 && b[at + 5] == 16) { // handshake record holding ClientKeyExchange
                System.arraycopy(encrypted, 0, b, at + 5 + 4 + 2, encrypted.length);
                return b;
            }
            at += 5 + len;
        }
        return b;
    }

    /** RFC 5246 section 7.2.2: a connection that ends in a fatal alert cannot be resumed. */
    @Test
    void aSessionThatEndedInAnAlertIsForgotten() throws Exception {
        dev.keyway.tls.session.MemorySessionStore store = new dev.keyway.tls.session.MemorySessionStore();
        TlsConfig serverConfig = server("ec").versions(ONLY12).ticketCount(0).sessionStore(store).build();
        TlsEngine c = TlsEngine.client(client().versions(ONLY12).build());
        TlsEngine s = TlsEngine.server(serverConfig);
        pump(c, s, x -> x);
        dev.keyway.tls.params.Ticket session = c.tickets().get(0);
        assertThat(store.get(session.sessionId())).isNotNull();
        byte[] garbage = {23, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
        assertThatThrownBy(() -> s.receive(garbage, 0, garbage.length)).isInstanceOfSatisfying(TlsException.class,
                e -> assertThat(e.alert()).isEqualTo(Alert.BAD_RECORD_MAC));
        assertThat(store.get(session.sessionId())).isNull();
        assertThat(connect(serverConfig, client().versions(ONLY12).resumeWith(session).build()).resumed()).isFalse();
    }

    /**
     * A ticket lifetime over the session cache's 24 hours (RFC 5246 appendix F.1.4) is cut for the cache entry, and a
     * zero one stores nothing: both used to fail every full handshake with the store's IllegalArgumentException.
     */
    @Test
    void ticketLifetimesTheCacheCannotHoldDoNotBreakHandshakes() throws Exception {
        MemorySessionStore store = new MemorySessionStore();
        TlsConfig week = server("ec").versions(ONLY12).ticketCount(0).sessionStore(store).ticketLifetime(java.time.Duration.ofDays(7)).build();
        dev.keyway.tls.params.Ticket session = connect(week, client().versions(ONLY12).build()).tickets().get(0);
        assertThat(store.get(session.sessionId())).isNotNull();
        assertThat(connect(week, client().versions(ONLY12).resumeWith(session).build()).resumed()).isTrue();

        MemorySessionStore none = new MemorySessionStore();
        TlsConfig zero = server("ec").versions(ONLY12).ticketCount(0).sessionStore(none).ticketLifetime(java.time.Duration.ZERO).build();
        TlsEngine c = connect(zero, client().versions(ONLY12).build());
        assertThat(none.size()).isZero();
        assertThat(connect(zero, client().versions(ONLY12).resumeWith(c.tickets().get(0)).build()).resumed()).isFalse();
    }

    @Test
    void alpnInTls12() throws Exception {
        TlsEngine c = TlsEngine.client(client().versions(ONLY12).alpn(List.of("h2", "http/1.1")).build());
        TlsEngine s = TlsEngine.server(server("ec").versions(ONLY12).alpn(List.of("http/1.1")).build());
        exchange(c, s);
        assertThat(c.alpn()).isEqualTo("http/1.1").isEqualTo(s.alpn());
    }

    /**
     * Bounded fuzzing of the TLS 1.2 handshakes (ServerHello, Certificate, ServerKeyExchange, ClientKeyExchange,
     * NewSessionTicket, Finished, both resumption kinds): one flight of either side gets a random byte changed,
     * inserted or cut; the engines may fail only with a TlsException (an alert) or an IllegalStateException after it.
     */
    @Test
    void mutatedTls12FlightsNeverCrash() throws Exception {
        java.util.Random random = new java.util.Random(1205);
        TlsConfig serverConfig = server("rsa").versions(ONLY12).legacyRsaKeyExchange(true).legacyCbc(true).build();
        dev.keyway.tls.params.Ticket session = connect(serverConfig, client().versions(ONLY12).build()).tickets().get(0);
        java.util.Map<String, Integer> outcomes = new java.util.TreeMap<>();
        for (int i = 0; i < 400; i++) {
            int flight = random.nextInt(4);
            int[] seen = {0, 0};
            UnaryOperator<byte[]> mutate = b -> {
                byte[] out = b.clone();
                int at = random.nextInt(out.length);
                switch (random.nextInt(3)) {
                    case 0 -> out[at] ^= (byte) (1 << random.nextInt(8));
                    case 1 -> out = Arrays.copyOf(out, at);
                    default -> {
                        byte[] longer = new byte[out.length + 1];
                        System.arraycopy(out, 0, longer, 0, at);
                        longer[at] = (byte) random.nextInt(256);
                        System.arraycopy(out, at, longer, at + 1, out.length - at);
                        out = longer;
                    }
                }
                return out;
            };
            TlsConfig.Builder cb = client().versions(ONLY12).legacyRsaKeyExchange(true).legacyCbc(true);
            if (random.nextBoolean()) {
                cb.resumeWith(session);
            }
            TlsEngine c = TlsEngine.client(cb.build());
            TlsEngine s = TlsEngine.server(serverConfig);
            String outcome;
            try {
                pump(c, s, b -> seen[0]++ == flight / 2 && flight % 2 == 0 ? mutate.apply(b) : b,
                        b -> seen[1]++ == flight / 2 && flight % 2 == 1 ? mutate.apply(b) : b);
                outcome = c.isHandshakeComplete() && s.isHandshakeComplete() ? "completed" : "waiting";
            } catch (TlsException e) {
                outcome = "TlsException " + e.alert();
            } catch (AssertionError e) {
                outcome = "stalled";
            }
            outcomes.merge(outcome, 1, Integer::sum);
        }
        assertThat(outcomes.keySet()).as("TLS 1.2 mutated flights: %s", outcomes).allMatch(o -> o.startsWith("TlsException") || o.equals("completed") || o.equals("waiting")
                || o.equals("stalled"));
    }
}
