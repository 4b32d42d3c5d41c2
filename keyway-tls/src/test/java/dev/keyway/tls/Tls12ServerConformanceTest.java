package dev.keyway.tls;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static dev.keyway.tls.RawTls12Client.EXT_EC_POINT_FORMATS;
import static dev.keyway.tls.RawTls12Client.EXT_EXTENDED_MASTER_SECRET;
import static dev.keyway.tls.RawTls12Client.EXT_RENEGOTIATION_INFO;
import static dev.keyway.tls.RawTls12Client.EXT_SIGNATURE_ALGORITHMS;
import static dev.keyway.tls.RawTls12Client.EXT_SUPPORTED_GROUPS;
import static dev.keyway.tls.RawTls12Client.ext;
import static dev.keyway.tls.RawTls12Client.u16s;
import static dev.keyway.tls.RawTls12Client.vec16;
import static dev.keyway.tls.RawTls12Client.vec8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * What tlsfuzzer's TLS 1.2 scripts found in Keyway's TLS 1.2 server, each deviation as the bytes that showed it and
 * the alert the RFC asks for (conformance/tlsfuzzer-tls12.json runs the scripts themselves). The ClientHellos are
 * built by hand ({@link RawTls12Client}) so each can lack or break exactly one thing.
 */
class Tls12ServerConformanceTest {
    @TempDir
    static Path dir;
    static final int RSA_GCM = 0x009C;
    static final int ECDHE_RSA_GCM = 0xC02F;
    static final int ECDHE_ECDSA_GCM = 0xC02B;
    static final int RENEGOTIATION_SCSV = 0x00FF;
    static final int FALLBACK_SCSV = 0x5600;

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl makes the test certificates");
        TestCerts.make(dir, "rsa", "rsa", 5);
        TestCerts.make(dir, "client", "ec", 5);
    }

    /** A TLS 1.2-only server with the RSA certificate and every legacy flag (what the tlsfuzzer run serves). */
    static TlsConfig.Builder server() throws Exception {
        return TlsConfig.builder().certificate(TestCerts.certs(dir.resolve("rsa.pem")), TestCerts.key(dir.resolve("rsa.key"), "rsa"))
                .versions(List.of(TlsVersion.TLS12)).legacyRsaKeyExchange(true).legacyCbc(true).legacyNoExtendedMasterSecret(true);
    }

    /** The basic extensions with extension {@code type} replaced by {@code data} (null: left out). */
    static List<byte[]> extensionsWith(int type, byte[] data) {
        List<byte[]> out = new java.util.ArrayList<>();
        boolean replaced = false;
        for (byte[] e : RawTls12Client.basicExtensions()) {
            int t = ((e[0] & 0xff) << 8) | (e[1] & 0xff);
            if (t == type) {
                replaced = true;
                if (data != null) {
                    out.add(ext(type, data));
                }
            } else {
                out.add(e);
            }
        }
        if (!replaced && data != null) {
            out.add(ext(type, data));
        }
        return out;
    }

    /** The server's refusal of {@code hello}: the exception it raised, after checking it sent that alert as fatal. */
    static TlsException refusal(TlsConfig config, byte[] hello) {
        TlsEngine s = TlsEngine.server(config);
        RawTls12Client raw = new RawTls12Client(s, false);
        TlsException e = catchThrowableOfType(() -> raw.sendHello(hello), TlsException.class);
        assertThat(e).as("the server refuses").isNotNull();
        assertThat(RawTls12Client.alert(RawTls12Client.take(s))).as("the alert on the wire").containsExactly(2, e.alert().code());
        return e;
    }

    static byte[] hello(int[] suites, List<byte[]> extensions) {
        return RawTls12Client.clientHello(new byte[32], new byte[0], suites, extensions);
    }

    // ---- suite selection: RFC 5246 section 7.4.1.4.1, RFC 9155, RFC 8422 ----

    /**
     * A client without signature_algorithms accepts only SHA-1 signatures (RFC 5246 section 7.4.1.4.1), which
     * Keyway does not make (RFC 9155 deprecates them). RSA key transport signs nothing, so it goes ahead
     * (tlsfuzzer test-conversation, whose hellos have no extensions at all); the server used to refuse it.
     */
    @Test
    void rsaKeyTransportNeedsNoSignatureAlgorithms() throws Exception {
        TlsEngine s = TlsEngine.server(server().build());
        RawTls12Client raw = new RawTls12Client(s, false);
        raw.finish(raw.sendHello(RawTls12Client.clientHello(raw.clientRandom, new byte[0], new int[] {RSA_GCM},
                extensionsWith(EXT_SIGNATURE_ALGORITHMS, null))));
        assertThat(raw.suite).isEqualTo(CipherSuites.byCode(RSA_GCM));
        assertThat(s.isHandshakeComplete()).isTrue();
    }

    /** ... while ECDHE, whose ServerKeyExchange is signed, is refused: the implied SHA-1 is not signed with (RFC 9155). */
    @Test
    void ecdheWithoutSignatureAlgorithmsIsAHandshakeFailure() throws Exception {
        TlsException e = refusal(server().build(), hello(new int[] {ECDHE_RSA_GCM}, extensionsWith(EXT_SIGNATURE_ALGORITHMS, null)));
        assertThat(e.alert()).isEqualTo(Alert.HANDSHAKE_FAILURE);
        assertThat(e.getMessage()).contains("signature");
    }

    /**
     * RFC 8422 section 5.1: a server that cannot complete an ECC suite with the client's curves must not negotiate
     * it: with no group in common the RSA suite the client also offers is chosen (tlsfuzzer
     * test-unsupported-curve-fallback), not a handshake_failure.
     */
    @Test
    void anEcdheSuiteWithoutACommonGroupFallsBackToTheNextSuite() throws Exception {
        TlsEngine s = TlsEngine.server(server().build());
        RawTls12Client raw = new RawTls12Client(s, false);
        raw.finish(raw.sendHello(RawTls12Client.clientHello(raw.clientRandom, new byte[0], new int[] {ECDHE_RSA_GCM, RSA_GCM},
                extensionsWith(EXT_SUPPORTED_GROUPS, vec16(u16s(0x000F))))));
        assertThat(raw.suite).isEqualTo(CipherSuites.byCode(RSA_GCM));
    }

    /**
     * A client without supported_groups gets P-256, the curve every ECC client of RFC 4492 knows, not our first
     * preference x25519, which it cannot have meant (tlsfuzzer test-x25519: "Server picked curve we didn't advertise").
     */
    @Test
    void aClientNamingNoGroupGetsP256() throws Exception {
        TlsEngine s = TlsEngine.server(server().build());
        RawTls12Client raw = new RawTls12Client(s, false);
        raw.finish(raw.sendHello(RawTls12Client.clientHello(raw.clientRandom, new byte[0], new int[] {ECDHE_RSA_GCM},
                extensionsWith(EXT_SUPPORTED_GROUPS, null))));
        assertThat(s.group()).isEqualTo(dev.keyway.tls.params.NamedGroup.SECP256R1);
    }

    /** An ECDSA suite to an RSA key is skipped the same way; with nothing else offered the refusal names the key. */
    @Test
    void onlySuitesForAnotherKeyTypeIsAHandshakeFailureNamingOurKey() throws Exception {
        TlsException e = refusal(server().build(), hello(new int[] {ECDHE_ECDSA_GCM}, RawTls12Client.basicExtensions()));
        assertThat(e.alert()).isEqualTo(Alert.HANDSHAKE_FAILURE);
        assertThat(e.getMessage()).contains("for our RSA key");
    }

    // ---- secure renegotiation, RFC 5746 ----

    /** RFC 5746 section 3.6: renegotiated_connection must be empty in an initial handshake, SCSV or not (tlsfuzzer test-legacy-renegotiation). */
    @Test
    void aNonEmptyRenegotiationInfoIsRefusedEvenWithTheScsv() throws Exception {
        TlsException e = refusal(server().build(), hello(new int[] {RSA_GCM, RENEGOTIATION_SCSV},
                extensionsWith(EXT_RENEGOTIATION_INFO, vec8(new byte[12]))));
        assertThat(e.alert()).isEqualTo(Alert.HANDSHAKE_FAILURE);
        assertThat(e.getMessage()).contains("RFC 5746 section 3.6");
    }

    /** A renegotiation_info whose length byte does not match its data does not decode. */
    @Test
    void aMalformedRenegotiationInfoIsADecodeError() throws Exception {
        TlsException e = refusal(server().build(), hello(new int[] {RSA_GCM}, extensionsWith(EXT_RENEGOTIATION_INFO, new byte[] {2, 0})));
        assertThat(e.alert()).isEqualTo(Alert.DECODE_ERROR);
    }

    /**
     * Without the extension or the SCSV: refused by policy (a client with the extended master secret, so that is
     * not what fails), and the message says so, and names the flag, instead of blaming suites.
     */
    @Test
    void noRenegotiationSignalIsRefusedByPolicyWithItsOwnMessage() throws Exception {
        List<byte[]> ext = extensionsWith(EXT_RENEGOTIATION_INFO, null);
        ext.add(ext(EXT_EXTENDED_MASTER_SECRET, new byte[0]));
        TlsException e = refusal(server().legacyNoExtendedMasterSecret(false).build(), hello(new int[] {RSA_GCM}, ext));
        assertThat(e.alert()).isEqualTo(Alert.HANDSHAKE_FAILURE);
        assertThat(e.code()).isEqualTo(ErrorCode.POLICY);
        assertThat(e.oneLine()).contains("does not signal secure renegotiation (RFC 5746").contains("allow such old peers (TlsConfig.Builder.legacyNoExtendedMasterSecret)")
                .doesNotContain("share no suite");
        // the SCSV alone is enough (RFC 5746 section 3.3)
        TlsEngine s = TlsEngine.server(server().build());
        RawTls12Client raw = new RawTls12Client(s, false);
        raw.finish(raw.sendHello(RawTls12Client.clientHello(raw.clientRandom, new byte[0], new int[] {RSA_GCM, RENEGOTIATION_SCSV},
                extensionsWith(EXT_RENEGOTIATION_INFO, null))));
        assertThat(s.isHandshakeComplete()).isTrue();
    }

    /**
     * With the old-peers flag (--legacy-no-ems) a client that predates RFC 5746 connects: Keyway never renegotiates,
     * so the attack the signal prevents cannot happen; the ServerHello then carries no renegotiation_info, which
     * the client did not offer (RFC 5246 section 7.4.1.4: no extension the client did not ask for).
     */
    @Test
    void anOldClientWithoutTheSignalConnectsUnderTheLegacyFlag() throws Exception {
        TlsEngine s = TlsEngine.server(server().build());
        RawTls12Client raw = new RawTls12Client(s, false);
        byte[] flight = raw.sendHello(RawTls12Client.clientHello(raw.clientRandom, new byte[0], new int[] {RSA_GCM},
                extensionsWith(EXT_RENEGOTIATION_INFO, null)));
        byte[] serverHello = java.util.Arrays.copyOfRange(flight, 5, flight.length);
        assertThat(containsExtension(serverHello, EXT_RENEGOTIATION_INFO)).as("renegotiation_info in the ServerHello").isFalse();
        raw.finish(flight);
        assertThat(s.isHandshakeComplete()).isTrue();
    }

    /** Whether a ServerHello (handshake header first) lists an extension of this type. */
    private static boolean containsExtension(byte[] m, int type) {
        int p = 4 + 2 + 32;
        p += 1 + (m[p] & 0xff) + 2 + 1; // session id, suite, compression
        int end = p + 2 + (((m[p] & 0xff) << 8) | (m[p + 1] & 0xff));
        for (p += 2; p + 4 <= end; ) {
            int t = ((m[p] & 0xff) << 8) | (m[p + 1] & 0xff);
            if (t == type) {
                return true;
            }
            p += 4 + (((m[p + 2] & 0xff) << 8) | (m[p + 3] & 0xff));
        }
        return false;
    }

    // ---- RSA key transport, RFC 5246 section 7.4.7.1 ----

    /**
     * The pre-master secret starts with ClientHello.client_version, "not the version negotiated": a client that
     * offered 0x0304 without supported_versions (tlsfuzzer test-version-numbers, test-fallback-scsv "SSL3.4") gets
     * TLS 1.2 and its pre-master secret says 0x0304. Checked against the old one, it became a random secret and
     * the Finished failed with bad_record_mac.
     */
    @ParameterizedTest(name = "client_version 0x{0}")
    @CsvSource({"0303", "0304", "0401", "fefe"})
    void theRsaPreMasterSecretCarriesTheClientHelloVersion(String version) throws Exception {
        int v = Integer.parseInt(version, 16);
        TlsEngine s = TlsEngine.server(server().build());
        RawTls12Client raw = new RawTls12Client(s, true);
        List<byte[]> ext = RawTls12Client.basicExtensions();
        ext.add(ext(EXT_EXTENDED_MASTER_SECRET, new byte[0]));
        raw.preMasterVersion = v;
        raw.finish(raw.sendHello(RawTls12Client.clientHello(v, raw.clientRandom, new byte[0], new int[] {RSA_GCM}, ext)));
        assertThat(s.version()).isEqualTo("TLSv1.2");
    }

    /**
     * An "encrypted pre-master secret" longer than the RSA modulus (or empty) is not a ciphertext at all; it fails at
     * the Finished with bad_record_mac like every other malformation (tlsfuzzer test-invalid-rsa-key-exchange-messages),
     * where it used to end the connection without an alert.
     */
    @ParameterizedTest(name = "{0} zero bytes")
    @CsvSource({"0", "128", "256", "384", "512"})
    void anRsaCiphertextOfAnyLengthFailsAtTheFinished(int length) throws Exception {
        TlsEngine s = TlsEngine.server(server().build());
        RawTls12Client raw = new RawTls12Client(s, false);
        raw.keyExchangeRewrite = x -> vec16(new byte[length]);
        byte[] flight = raw.sendHello(raw.hello(new byte[0], RSA_GCM));
        TlsException e = catchThrowableOfType(() -> raw.finish(flight), TlsException.class);
        assertThat(e.alert()).isEqualTo(Alert.BAD_RECORD_MAC);
        assertThat(RawTls12Client.alert(RawTls12Client.take(s))).containsExactly(2, 20);
    }

    // ---- ECDHE, RFC 8422 ----

    /** ECPoint point<1..2^8-1> (RFC 8422 section 5.7): an empty one does not decode (tlsfuzzer test-x25519 "empty x25519 key share"). */
    @Test
    void anEmptyEcdhePublicKeyIsADecodeError() throws Exception {
        TlsEngine s = TlsEngine.server(server().build());
        RawTls12Client raw = new RawTls12Client(s, false);
        raw.keyExchangeRewrite = x -> new byte[] {0};
        byte[] flight = raw.sendHello(raw.hello(new byte[0], ECDHE_RSA_GCM));
        TlsException e = catchThrowableOfType(() -> raw.finish(flight), TlsException.class);
        assertThat(e.alert()).isEqualTo(Alert.DECODE_ERROR);
    }

    /**
     * Only the uncompressed point format (RFC 8422 section 5.4.1): a P-256 key in the hybrid form (0x06/0x07, which
     * Bouncy Castle would decode) is an illegal_parameter. It used to be accepted, and tlsfuzzer
     * test-point-extension, waiting for the alert, timed out.
     */
    @Test
    void aHybridEncodedP256KeyIsAnIllegalParameter() throws Exception {
        TlsEngine s = TlsEngine.server(server().groups(List.of(dev.keyway.tls.params.NamedGroup.SECP256R1)).build());
        RawTls12Client raw = new RawTls12Client(s, false);
        raw.keyExchangeRewrite = x -> {
            byte[] hybrid = x.clone(); // vec8: length, 0x04, X, Y
            hybrid[1] = (byte) (6 | (hybrid[hybrid.length - 1] & 1));
            return hybrid;
        };
        byte[] flight = raw.sendHello(raw.hello(new byte[0], ECDHE_RSA_GCM));
        TlsException e = catchThrowableOfType(() -> raw.finish(flight), TlsException.class);
        assertThat(e.alert()).isEqualTo(Alert.ILLEGAL_PARAMETER);
        assertThat(e.getMessage()).contains("uncompressed");
    }

    /** RFC 8422 section 5.1.2: ec_point_formats without uncompressed, from a client naming an RFC 8422 curve, is illegal_parameter. */
    @Test
    void pointFormatsWithoutUncompressedAreAnIllegalParameter() throws Exception {
        TlsException e = refusal(server().build(), hello(new int[] {RSA_GCM}, extensionsWith(EXT_EC_POINT_FORMATS, vec8(new byte[] {1, 2}))));
        assertThat(e.alert()).isEqualTo(Alert.ILLEGAL_PARAMETER);
    }

    // ---- the shape of the ClientHello's extensions ----

    /**
     * Each vector within its bounds and nothing after it (decode_error), contents that are not allowed
     * (illegal_parameter): tlsfuzzer test-alpn-negotiation, test-invalid-server-name-extension, test-sig-algs,
     * test-signature-algorithms, test-point-extension. Before, these were read leniently and the handshake went on.
     */
    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({
            // ALPN, RFC 7301 section 3.1: protocol_name_list<2..2^16-1>, ProtocolName<1..2^8-1>
            "16, 0000, decode_error",
            "16, 000100, decode_error",
            "16, 000a 08 687474702f312e31, decode_error",
            "16, 0009 08 687474702f312e31 00, decode_error",
            // server_name, RFC 6066 section 3
            "0, 0000, decode_error",
            "0, 0003000000, decode_error",
            "0, 000c 00 0009 782e6578616d706c65 ff, decode_error",
            "0, 0018 00 0009 6c6f63616c686f7374 00 0009 6c6f63616c686f7374, illegal_parameter",
            "0, 000c 00 0009 6c6f63616c686f73 07, illegal_parameter",
            "0, 000c 00 0009 6c6f63616c686f c3b6, illegal_parameter",
            "0, 000c 00 0009 6c6f63616c686f73 00, illegal_parameter",
            // signature_algorithms, RFC 5246 section 7.4.1.4.1: <2..2^16-2>
            "13, 0000, decode_error",
            "13, 0003040104, decode_error",
            "13, 0002040100, decode_error",
            // supported_groups, RFC 8422 section 5.1.1: <2..2^16-1>
            "10, 0000, decode_error",
            "10, 0002001d00, decode_error",
            // ec_point_formats, RFC 8422 section 5.1.2: <1..2^8-1>
            "11, 00, decode_error",
            "11, 010000, decode_error"})
    void malformedExtensionsGetTheirAlert(int type, String hex, String alert) throws Exception {
        byte[] data = dev.keyway.core.encoding.Hex.decode(hex.replace(" ", ""), "extension");
        TlsException e = refusal(server().alpn(List.of("http/1.1")).build(), hello(new int[] {RSA_GCM, ECDHE_RSA_GCM},
                extensionsWith(type, data)));
        assertThat(e.alert().rfcName()).isEqualTo(alert);
    }

    /** session_id<0..32> (RFC 5246 section 7.4.1.2): a longer one is out of range, decode_error (tlsfuzzer test-sessionID-resumption). */
    @Test
    void aSessionIdOver32BytesIsADecodeError() throws Exception {
        TlsException e = refusal(server().build(), RawTls12Client.clientHello(new byte[32], new byte[33], new int[] {RSA_GCM},
                RawTls12Client.basicExtensions()));
        assertThat(e.alert()).isEqualTo(Alert.DECODE_ERROR);
    }

    /**
     * A cipher_suites length that runs into the compression methods and extensions: the hello does not decode as
     * a whole, decode_error (tlsfuzzer test-invalid-client-hello-w-record-overflow), not the illegal_parameter about
     * compression that reading the misplaced bytes as compression methods gave.
     */
    @Test
    void aSuitesLengthThatRunsIntoTheRestIsADecodeError() throws Exception {
        byte[] hello = hello(new int[] {RSA_GCM}, RawTls12Client.basicExtensions());
        int at = 4 + 2 + 32 + 1; // header, client_version, random, empty session_id
        hello[at + 1] += 10;
        TlsException e = refusal(server().build(), hello);
        assertThat(e.alert()).isEqualTo(Alert.DECODE_ERROR);
    }

    /**
     * Lengths fuzzed so that the hello still parses, but with an empty cipher_suites or compression_methods list,
     * which RFC 5246 section 7.4.1.2 bounds at 2 and 1 bytes: decode_error (tlsfuzzer test-invalid-client-hello
     * 'session ID len fuzz to 5 w/ext', 'cipher suites len fuzz to 12 w/ext'), not handshake_failure or the
     * compression illegal_parameter.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"session_id of 5 eats the suites, 5", "cipher_suites of 10 eats the compression methods, 10"})
    void emptySuitesOrCompressionAreADecodeError(String what, int length) throws Exception {
        // tlsfuzzer's hello: one suite (TLS_RSA_WITH_AES_128_CBC_SHA), null compression, renegotiation_info
        byte[] hello = dev.keyway.core.encoding.Hex.decode("0100003003030000000000000000000000000000000000000000000000000000"
                + "000000000000000002002f01000005ff01000100", "hello");
        hello[what.startsWith("session") ? 38 : 40] = (byte) length;
        TlsException e = refusal(server().build(), hello);
        assertThat(e.alert()).isEqualTo(Alert.DECODE_ERROR);
    }

    // ---- client certificates, RFC 5246 section 7.4.8 ----

    /** Each of the client's flights with the CertificateVerify body rewritten by {@code rewrite}. */
    static byte[] rewriteCertificateVerify(byte[] flight, java.util.function.UnaryOperator<byte[]> rewrite) {
        List<RawTls12Client.Record> records = RawTls12Client.records(flight);
        List<RawTls12Client.Message> msgs = RawTls12Client.messages(records.stream()
                .takeWhile(r -> r.type() == RawTls12Client.HANDSHAKE).toList());
        if (msgs.stream().noneMatch(m -> m.type() == 15)) {
            return flight;
        }
        java.io.ByteArrayOutputStream handshake = new java.io.ByteArrayOutputStream();
        for (RawTls12Client.Message m : msgs) {
            handshake.writeBytes(m.type() == 15 ? RawTls12Client.handshake(15, rewrite.apply(m.body())) : m.raw());
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.writeBytes(RawTls12Client.record(RawTls12Client.HANDSHAKE, handshake.toByteArray()));
        records.stream().dropWhile(r -> r.type() == RawTls12Client.HANDSHAKE)
                .forEach(r -> out.writeBytes(RawTls12Client.record(r.type(), r.fragment())));
        return out.toByteArray();
    }

    /**
     * The client's CertificateVerify must use a scheme our CertificateRequest listed, for its certificate's key:
     * otherwise illegal_parameter (a scheme Keyway neither asked for nor verifies, like tlsfuzzer's SHA-384 and
     * SHA-512 ones, used to be reported as a signature that "does not verify", decrypt_error). A listed scheme
     * whose signature is wrong stays decrypt_error.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"ecdsa_secp384r1_sha384 (not requested), 0503, false, illegal_parameter",
            "rsa_pss_rsae_sha256 (requested but not for an EC key), 0804, false, illegal_parameter",
            "ecdsa_secp256r1_sha256 with a flipped signature byte, 0403, true, decrypt_error"})
    void theClientsCertificateVerifyScheme(String what, String scheme, boolean flip, String alert) throws Exception {
        List<java.security.cert.X509Certificate> ca = TestCerts.certs(dir.resolve("ca.pem"));
        TlsEngine c = TlsEngine.client(TlsConfig.builder().trustAnchors(ca).serverName("localhost").versions(List.of(TlsVersion.TLS12))
                .certificate(TestCerts.certs(dir.resolve("client.pem")), TestCerts.key(dir.resolve("client.key"), "ec")).build());
        TlsEngine s = TlsEngine.server(TlsConfig.builder().certificate(TestCerts.certs(dir.resolve("rsa.pem")),
                TestCerts.key(dir.resolve("rsa.key"), "rsa")).versions(List.of(TlsVersion.TLS12)).trustAnchors(ca)
                .requireClientCertificate(true).build());
        int code = Integer.parseInt(scheme, 16);
        TlsException e = catchThrowableOfType(() -> Tls12HandshakeTest.pump(c, s, flight -> rewriteCertificateVerify(flight, body -> {
            byte[] b = body.clone();
            b[0] = (byte) (code >> 8);
            b[1] = (byte) code;
            if (flip) {
                b[b.length - 1] ^= 1;
            }
            return b;
        })), TlsException.class);
        assertThat(e).isNotNull();
        assertThat(e.alert().rfcName()).isEqualTo(alert);
        assertThat(e.received()).as("the server detected it").isFalse();
    }

    // ---- version fallback, RFC 7507 ----

    /**
     * TLS_FALLBACK_SCSV with a version below the server's highest is inappropriate_fallback, before anything else
     * (RFC 7507 section 3; tlsfuzzer test-fallback-scsv): a TLS 1.1 hello to a TLS 1.2 server, a TLS 1.2 hello to
     * a server that also speaks TLS 1.3. Without the SCSV they get protocol_version and a TLS 1.2 handshake.
     */
    @ParameterizedTest(name = "client 0x{0}, server speaks 1.3 too: {1}, SCSV {2} -> {3}")
    @CsvSource({"0302, false, true, inappropriate_fallback", "0302, false, false, protocol_version",
            "0303, true, true, inappropriate_fallback"})
    void aFallbackBelowOurHighestVersionIsInappropriate(String version, boolean tls13, boolean scsv, String alert) throws Exception {
        TlsConfig config = server().versions(tls13 ? List.of(TlsVersion.TLS13, TlsVersion.TLS12) : List.of(TlsVersion.TLS12)).build();
        int[] suites = scsv ? new int[] {RSA_GCM, FALLBACK_SCSV} : new int[] {RSA_GCM};
        TlsException e = refusal(config, RawTls12Client.clientHello(Integer.parseInt(version, 16), new byte[32], new byte[0], suites,
                RawTls12Client.basicExtensions()));
        assertThat(e.alert().rfcName()).isEqualTo(alert);
    }

    @Test
    void theFallbackScsvAtOurHighestVersionIsFine() throws Exception {
        TlsEngine s = TlsEngine.server(server().build());
        RawTls12Client raw = new RawTls12Client(s, false);
        raw.finish(raw.sendHello(raw.hello(new byte[0], RSA_GCM, FALLBACK_SCSV)));
        assertThat(s.isHandshakeComplete()).isTrue();
    }

    // ---- record layer, RFC 5246 section 6.2.1 ----

    /**
     * A ChangeCipherSpec between two pieces of a ClientHello (CVE-2004-0079, tlsfuzzer test-cve-2004-0079) is an
     * unexpected_message: handshake messages are not interleaved with other records. The record layer used to
     * drop it as a TLS 1.3 middlebox courtesy and wait for the rest of the hello, forever.
     */
    @Test
    void aChangeCipherSpecInsideAFragmentedClientHelloIsUnexpected() throws Exception {
        byte[] hello = hello(new int[] {RSA_GCM}, RawTls12Client.basicExtensions());
        TlsEngine s = TlsEngine.server(server().build());
        byte[] first = RawTls12Client.record(RawTls12Client.HANDSHAKE, Arrays.copyOf(hello, 2));
        byte[] ccs = RawTls12Client.record(RawTls12Client.CHANGE_CIPHER_SPEC, new byte[] {1});
        byte[] rest = RawTls12Client.record(RawTls12Client.HANDSHAKE, Arrays.copyOfRange(hello, 2, hello.length));
        byte[] wire = RawTls12Client.concat(first, ccs, rest);
        TlsException e = catchThrowableOfType(() -> s.receive(wire, 0, wire.length), TlsException.class);
        assertThat(e.alert()).isEqualTo(Alert.UNEXPECTED_MESSAGE);
        assertThat(RawTls12Client.alert(RawTls12Client.take(s))).containsExactly(2, 10);

        // the same pieces without the ChangeCipherSpec between them make a ClientHello that is answered
        TlsEngine ok = TlsEngine.server(server().build());
        byte[] whole = RawTls12Client.concat(first, rest);
        ok.receive(whole, 0, whole.length);
        assertThat(RawTls12Client.messages(RawTls12Client.records(RawTls12Client.take(ok))).get(0).type()).isEqualTo(2);
    }
}
