package dev.keyway.tls.handshake;

import dev.keyway.core.encoding.Hex;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.TlsEngine;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every handshake message record: parse, then encode, gives back the bytes that were parsed (RFC 8448's TLS 1.3
 * messages, and TLS 1.2 and HelloRetryRequest messages captured from Keyway's own engines), and parse refuses a
 * body cut short or with a byte too many with a TlsException. A cut body may still parse when it is itself a
 * whole message (a hello without its extensions block, a shorter Finished): then it re-encodes to exactly itself.
 */
class HandshakeMessagesTest {
    /** RFC 8448 sections 3 and 4, header included (vectors/rfc8448-messages.txt). */
    static final Map<String, byte[]> RFC8448 = new LinkedHashMap<>();
    /** Messages of TLS 1.2 handshakes (ECDHE with client certificates and a ticket; RSA key transport), in order. */
    static final List<byte[]> TLS12 = new ArrayList<>();
    static byte[] helloRetryRequest;

    @BeforeAll
    static void material() throws Exception {
        try (InputStream in = HandshakeMessagesTest.class.getResourceAsStream("/vectors/rfc8448-messages.txt")) {
            String name = null;
            StringBuilder hex = new StringBuilder();
            for (String line : new String(in.readAllBytes(), StandardCharsets.US_ASCII).split("\n")) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                if (!Character.isWhitespace(line.charAt(0))) {
                    if (name != null) {
                        RFC8448.put(name, Hex.decode(hex.toString().replace(" ", ""), name));
                    }
                    name = line.substring(0, line.indexOf('=')).trim();
                    hex.setLength(0);
                    line = line.substring(line.indexOf('=') + 1);
                }
                hex.append(line.trim());
            }
            RFC8448.put(name, Hex.decode(hex.toString().replace(" ", ""), name));
        }
        KeyPair ca = HandshakeParsersFuzzTest.keyPair("ec");
        X509Certificate caCert = HandshakeParsersFuzzTest.certificate("CN=Messages CA", ca, "CN=Messages CA", ca.getPrivate(), "SHA256withECDSA", true);
        KeyPair ec = HandshakeParsersFuzzTest.keyPair("ec");
        KeyPair rsa = HandshakeParsersFuzzTest.keyPair("rsa");
        List<X509Certificate> ecChain = List.of(HandshakeParsersFuzzTest.certificate("CN=localhost", ec, "CN=Messages CA", ca.getPrivate(),
                "SHA256withECDSA", false), caCert);
        List<X509Certificate> rsaChain = List.of(HandshakeParsersFuzzTest.certificate("CN=localhost", rsa, "CN=Messages CA", ca.getPrivate(),
                "SHA256withECDSA", false), caCert);
        List<TlsVersion> only12 = List.of(TlsVersion.TLS12);
        TlsConfig client = TlsConfig.builder().versions(only12).trustAnchors(List.of(caCert)).serverName("localhost")
                .certificate(ecChain, ec.getPrivate()).build();
        TlsConfig server = TlsConfig.builder().versions(only12).trustAnchors(List.of(caCert)).certificate(ecChain, ec.getPrivate())
                .requireClientCertificate(true).build();
        TLS12.addAll(plaintextMessages(TlsEngine.client(client), TlsEngine.server(server)));
        TlsConfig rsaClient = TlsConfig.builder().versions(only12).trustAnchors(List.of(caCert)).serverName("localhost")
                .legacyRsaKeyExchange(true).suites(List.of(dev.keyway.core.kdf.CipherSuites.byCode(0x009C))).build();
        TlsConfig rsaServer = TlsConfig.builder().versions(only12).legacyRsaKeyExchange(true).certificate(rsaChain, rsa.getPrivate()).build();
        TLS12.addAll(plaintextMessages(TlsEngine.client(rsaClient), TlsEngine.server(rsaServer)));
        TlsConfig p256 = TlsConfig.builder().certificate(ecChain, ec.getPrivate()).groups(List.of(NamedGroup.SECP256R1)).build();
        for (byte[] m : plaintextMessages(TlsEngine.client(TlsConfig.builder().serverName("localhost").build()), TlsEngine.server(p256))) {
            if (m[0] == HandshakeIo.SERVER_HELLO && helloRetryRequest == null) {
                helloRetryRequest = m;
            }
        }
    }

    /** The handshake messages each side sends in the clear (until its ChangeCipherSpec, or TLS 1.3's ServerHello). */
    static List<byte[]> plaintextMessages(TlsEngine client, TlsEngine server) throws IOException {
        ByteArrayOutputStream fromClient = new ByteArrayOutputStream();
        ByteArrayOutputStream fromServer = new ByteArrayOutputStream();
        boolean[] clientClear = {true};
        boolean[] serverClear = {true};
        for (int round = 0; round < 8; round++) {
            pass(client, server, fromClient, clientClear);
            pass(server, client, fromServer, serverClear);
        }
        List<byte[]> out = split(fromClient.toByteArray());
        out.addAll(split(fromServer.toByteArray()));
        return out;
    }

    private static void pass(TlsEngine from, TlsEngine to, ByteArrayOutputStream clear, boolean[] stillClear) {
        byte[] wire = new byte[from.outputLength()];
        from.takeOutput(wire, 0, wire.length);
        for (int at = 0; at + 5 <= wire.length; ) {
            int type = wire[at] & 0xff;
            int len = ((wire[at + 3] & 0xff) << 8) | (wire[at + 4] & 0xff);
            if (type != 22) {
                stillClear[0] = false; // ChangeCipherSpec, or protected records from here
            }
            if (stillClear[0]) {
                clear.write(wire, at + 5, len);
            }
            at += 5 + len;
        }
        try {
            to.receive(wire, 0, wire.length);
        } catch (RuntimeException e) {
            // the captured messages are what matters
        }
    }

    private static List<byte[]> split(byte[] stream) {
        List<byte[]> out = new ArrayList<>();
        for (int at = 0; at + 4 <= stream.length; ) {
            int len = ((stream[at + 1] & 0xff) << 16) | ((stream[at + 2] & 0xff) << 8) | (stream[at + 3] & 0xff);
            out.add(Arrays.copyOfRange(stream, at, at + 4 + len));
            at += 4 + len;
        }
        return out;
    }

    /** parse(body).encode() == message; every cut parses to itself or throws; a byte too many throws (unless {@code lenient}). */
    static void roundTrip(byte[] message, Function<byte[], HandshakeMessage> parse, boolean lenient) {
        byte[] body = Arrays.copyOfRange(message, 4, message.length);
        HandshakeMessage m = parse.apply(body);
        assertThat(m.type()).isEqualTo(message[0] & 0xff);
        assertThat(Hex.encode(m.encode())).isEqualTo(Hex.encode(message));
        for (int n = 0; n < body.length; n++) {
            byte[] cut = Arrays.copyOf(body, n);
            try {
                HandshakeMessage shorter = parse.apply(cut);
                assertThat(Hex.encode(shorter.body())).as("a cut of %d bytes that parses is a whole message", n).isEqualTo(Hex.encode(cut));
            } catch (TlsException expected) {
                // refused, with an alert
            }
        }
        if (!lenient) {
            byte[] longer = Arrays.copyOf(body, body.length + 1);
            assertThatThrownBy(() -> parse.apply(longer)).isInstanceOf(TlsException.class);
        }
    }

    static List<byte[]> tls12(int type) {
        List<byte[]> out = TLS12.stream().filter(m -> (m[0] & 0xff) == type).toList();
        assertThat(out).as("captured TLS 1.2 messages of type %d", type).isNotEmpty();
        return out;
    }

    @Test
    void clientHello() {
        roundTrip(RFC8448.get("ClientHello"), ClientHello::parse, false);
        roundTrip(RFC8448.get("ResumedClientHello"), ClientHello::parse, false);
        ClientHello resumed = ClientHello.parse(Arrays.copyOfRange(RFC8448.get("ResumedClientHello"), 4, RFC8448.get("ResumedClientHello").length));
        assertThat(resumed.pskIdentities()).hasSize(1);
        assertThat(resumed.bindersLength()).isEqualTo(2 + 1 + 32);
        for (byte[] m : tls12(HandshakeIo.CLIENT_HELLO)) {
            roundTrip(m, ClientHello::parse, false);
        }
    }

    @Test
    void serverHelloAndHelloRetryRequest() {
        roundTrip(RFC8448.get("ServerHello"), ServerHello::parse, false);
        ServerHello hello = ServerHello.parse(Arrays.copyOfRange(RFC8448.get("ServerHello"), 4, RFC8448.get("ServerHello").length));
        assertThat(hello.selectedVersion()).isEqualTo(0x0304);
        assertThat(hello.keyShareGroup()).isEqualTo(NamedGroup.X25519);
        assertThat(hello.retry()).isFalse();
        for (byte[] m : tls12(HandshakeIo.SERVER_HELLO)) {
            roundTrip(m, ServerHello::parse, false);
        }
        roundTrip(helloRetryRequest, ServerHello::parse, false);
        ServerHello hrr = ServerHello.parse(Arrays.copyOfRange(helloRetryRequest, 4, helloRetryRequest.length));
        assertThat(hrr.retry()).isTrue();
        assertThat(hrr.selectedGroup()).isEqualTo(NamedGroup.SECP256R1);
        assertThat(ServerHello.retryRequest(hrr.sessionIdEcho(), hrr.suite(), NamedGroup.SECP256R1).encode()).isEqualTo(helloRetryRequest);
    }

    @Test
    void encryptedExtensions() {
        roundTrip(RFC8448.get("EncryptedExtensions"), HandshakeMessage.EncryptedExtensions::parse, false);
    }

    @Test
    void certificate() {
        roundTrip(RFC8448.get("Certificate"), body -> CertificateMessage.parse13(body, false, null), false);
        for (byte[] m : tls12(HandshakeIo.CERTIFICATE)) {
            roundTrip(m, body -> CertificateMessage.parse12(body, true), false);
        }
        byte[] rfc = RFC8448.get("Certificate");
        assertThatThrownBy(() -> CertificateMessage.parse13(Arrays.copyOfRange(rfc, 4, rfc.length), false, new byte[] {1}))
                .isInstanceOf(TlsException.class).hasMessageContaining("request context");
    }

    @Test
    void certificateVerify() {
        roundTrip(RFC8448.get("CertificateVerify"), CertificateVerifyMessage::parse, false);
        for (byte[] m : tls12(HandshakeIo.CERTIFICATE_VERIFY)) {
            roundTrip(m, CertificateVerifyMessage::parse, false);
        }
    }

    @Test
    void finished() {
        // any length parses: the state machine knows the length verify_data must have (RFC 8446 section 4.4.4)
        roundTrip(RFC8448.get("ServerFinished"), HandshakeMessage.Finished::parse, true);
        roundTrip(RFC8448.get("ClientFinished"), HandshakeMessage.Finished::parse, true);
    }

    @Test
    void newSessionTickets() {
        roundTrip(RFC8448.get("NewSessionTicket"), HandshakeMessage.NewSessionTicket13::parse, false);
        for (byte[] m : tls12(HandshakeIo.NEW_SESSION_TICKET)) {
            roundTrip(m, Tls12Messages.NewSessionTicket12::parse, false);
        }
    }

    @Test
    void keyUpdate() {
        roundTrip(new HandshakeMessage.KeyUpdate(false).encode(), HandshakeMessage.KeyUpdate::parse, false);
        roundTrip(new HandshakeMessage.KeyUpdate(true).encode(), HandshakeMessage.KeyUpdate::parse, false);
        assertThat(new HandshakeMessage.KeyUpdate(true).encode()).isEqualTo(new byte[] {24, 0, 0, 1, 1});
        assertThatThrownBy(() -> HandshakeMessage.KeyUpdate.parse(new byte[] {2})).isInstanceOf(TlsException.class)
                .extracting(e -> ((TlsException) e).alert()).isEqualTo(Alert.ILLEGAL_PARAMETER);
    }

    @Test
    void certificateRequests() {
        roundTrip(HandshakeMessage.CertificateRequest13.ours().encode(), HandshakeMessage.CertificateRequest13::parse, false);
        for (byte[] m : tls12(HandshakeIo.CERTIFICATE_REQUEST)) {
            roundTrip(m, Tls12Messages.CertificateRequest12::parse, false);
            assertThat(m).isEqualTo(Tls12Messages.CertificateRequest12.ours().encode());
        }
    }

    @Test
    void tls12KeyExchange() {
        for (byte[] m : tls12(HandshakeIo.SERVER_KEY_EXCHANGE)) {
            roundTrip(m, Tls12Messages.ServerKeyExchange::parse, false);
        }
        List<byte[]> exchanges = tls12(HandshakeIo.CLIENT_KEY_EXCHANGE);
        assertThat(exchanges).hasSize(2); // ECDHE, then RSA key transport
        roundTrip(exchanges.get(0), body -> Tls12Messages.ClientKeyExchange.parse(body, false), false);
        roundTrip(exchanges.get(1), body -> Tls12Messages.ClientKeyExchange.parse(body, true), false);
        for (byte[] m : tls12(HandshakeIo.SERVER_HELLO_DONE)) {
            roundTrip(m, Tls12Messages.ServerHelloDone::parse, false);
        }
        assertThatThrownBy(() -> Tls12Messages.ClientKeyExchange.parse(new byte[] {0}, false)).isInstanceOf(TlsException.class)
                .hasMessageContaining("empty ECDHE public key");
    }
}
