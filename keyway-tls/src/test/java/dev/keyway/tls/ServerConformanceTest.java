package dev.keyway.tls;

import dev.keyway.tls.HandClient.Hello;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The TLS 1.3 server against the deviations tlsfuzzer found (conformance/tlsfuzzer-tls13.json runs the real
 * suite): each test feeds TlsEngine the offending bytes and checks the alert RFC 8446 asks for, and where a
 * rule could be over-applied, that the legitimate neighbour still works.
 */
class ServerConformanceTest {
    private static final int CHANGE_CIPHER_SPEC = 20;
    private static final int ALERT = 21;
    private static final int HANDSHAKE = 22;
    private static final int APPLICATION_DATA = 23;
    private static final int EARLY_DATA = 42;
    private static final SecureRandom RANDOM = new SecureRandom();

    @TempDir
    static Path dir;
    static List<X509Certificate> chain;
    static PrivateKey key;

    @BeforeAll
    static void certificates() throws Exception {
        Assumptions.assumeTrue(TestCerts.hasOpenssl(), "openssl makes the test certificates");
        TestCerts.make(dir, "server", "ec", 5);
        chain = TestCerts.certs(dir.resolve("server.pem"));
        key = TestCerts.key(dir.resolve("server.key"), "ec");
    }

    static HandClient client() {
        return new HandClient(TlsConfig.builder().certificate(chain, key));
    }

    static void assertAlert(Runnable r, Alert alert) {
        assertThatThrownBy(r::run).isInstanceOfSatisfying(TlsException.class, e -> {
            assertThat(e.alert()).isEqualTo(alert);
            assertThat(e.received()).isFalse();
        });
    }

    /** The server's output is exactly one plaintext fatal alert: nothing (no ServerHello) went before it. */
    static void assertOnlyAlert(byte[] out, Alert alert) {
        assertThat(out).containsExactly(21, 3, 3, 0, 2, 2, alert.code());
    }

    static byte[] garbage(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    // ---- empty records (tlsfuzzer test-tls13-empty-alert, test-tls13-zero-length-data) ----

    @ParameterizedTest
    @ValueSource(ints = {0, 5, 30})
    void anEmptyAlertUnderHandshakeKeysIsUnexpectedMessage(int padding) {
        // RFC 8446 section 5.4: Handshake and Alert records with a zero-length content are unexpected_message.
        HandClient c = client();
        c.sendHello(HandClient.keywayHello());
        c.readServerFlight();
        assertAlert(() -> c.send(c.sealHandshakeKeys(new byte[0], ALERT, padding)), Alert.UNEXPECTED_MESSAGE);
    }

    @Test
    void anEmptyAlertUnderApplicationKeysIsUnexpectedMessage() {
        HandClient c = client();
        c.handshake();
        assertAlert(() -> c.send(c.sealApplicationKeys(new byte[0], ALERT, 2)), Alert.UNEXPECTED_MESSAGE);
    }

    @Test
    void anEmptyPlaintextAlertIsUnexpectedMessage() {
        // RFC 8446 section 5.1: no zero-length fragments of Handshake (or Alert) type.
        HandClient c = client();
        assertAlert(() -> c.send(HandClient.plain(ALERT, new byte[0])), Alert.UNEXPECTED_MESSAGE);
    }

    @Test
    void emptyApplicationDataIsStillFine() {
        // RFC 8446 section 5.4: zero-length Application Data records may be sent (traffic analysis cover).
        HandClient c = client();
        c.handshake();
        c.send(c.sealApplicationKeys(new byte[0], APPLICATION_DATA, 10), c.sealApplicationKeys("GET".getBytes(), APPLICATION_DATA, 0));
        assertThat(c.server.readable()).isEqualTo(3);
    }

    // ---- Finished (test-tls13-finished, test-tls13-record-layer-limits) ----

    @ParameterizedTest
    @ValueSource(ints = {-1, 4, 16348})
    void aFinishedOfTheWrongLengthIsDecodeError(int extra) {
        // RFC 8446 section 4.4.4: verify_data is Hash.length bytes; a longer or shorter message does not decode.
        HandClient c = client();
        c.sendHello(HandClient.keywayHello());
        c.readServerFlight();
        byte[] good = c.finished();
        byte[] body = Arrays.copyOfRange(good, 4, good.length + Math.max(extra, 0) - Math.max(-extra, 0));
        assertAlert(() -> c.send(c.sealHandshakeKeys(HandClient.message(20, body), HANDSHAKE, 0)), Alert.DECODE_ERROR);
    }

    @Test
    void aWrongFinishedOfTheRightLengthIsDecryptError() {
        HandClient c = client();
        c.sendHello(HandClient.keywayHello());
        c.readServerFlight();
        byte[] bad = c.finished();
        bad[bad.length - 1] ^= 1;
        assertAlert(() -> c.send(c.sealHandshakeKeys(bad, HANDSHAKE, 0)), Alert.DECRYPT_ERROR);
    }

    // ---- legacy_version (test-tls13-legacy-version) ----

    @ParameterizedTest
    @ValueSource(ints = {0x0300, 0x0000, 0x0001, 0x0002, 0x0100, 0x0102, 0x0103, 0x0200})
    void aHelloWithLegacyVersionSsl3OrBelowIsProtocolVersion(int legacyVersion) {
        // RFC 8446 appendix D.5: legacy_version 0x0300 or less is refused with protocol_version, even when
        // supported_versions offers TLS 1.3.
        HandClient c = client();
        Hello h = HandClient.keywayHello();
        h.legacyVersion = legacyVersion;
        assertAlert(() -> c.sendHello(h), Alert.PROTOCOL_VERSION);
        assertOnlyAlert(c.takeOutput(), Alert.PROTOCOL_VERSION);
    }

    @Test
    void aHelloWithLegacyVersionTls10AndSupportedVersionsGetsTls13() {
        // RFC 8446 section 4.2.1: with supported_versions, legacy_version takes no part in the choice.
        HandClient c = client();
        Hello h = HandClient.keywayHello();
        h.legacyVersion = 0x0301;
        c.sendHello(h);
        assertThat(c.readServerFlight()).containsExactly(2, 8, 11, 15, 20);
    }

    // ---- KeyUpdate (test-tls13-keyupdate) ----

    @Test
    void applicationDataInsideAFragmentedKeyUpdateIsUnexpectedMessage() {
        // RFC 8446 section 5.1: a handshake message split over records has no other record type between them.
        HandClient c = client();
        c.handshake();
        byte[] keyUpdate = HandClient.message(24, new byte[] {1});
        c.send(c.sealApplicationKeys(Arrays.copyOf(keyUpdate, 2), HANDSHAKE, 0));
        assertAlert(() -> c.send(c.sealApplicationKeys("GET".getBytes(), APPLICATION_DATA, 0)), Alert.UNEXPECTED_MESSAGE);
    }

    @Test
    void aFragmentedKeyUpdateAloneIsAnswered() {
        HandClient c = client();
        c.handshake();
        byte[] keyUpdate = HandClient.message(24, new byte[] {1});
        c.send(c.sealApplicationKeys(Arrays.copyOf(keyUpdate, 2), HANDSHAKE, 0),
                c.sealApplicationKeys(Arrays.copyOfRange(keyUpdate, 2, 5), HANDSHAKE, 0));
        assertThat(c.takeOutput()).as("our KeyUpdate, answering update_requested").hasSize(5 + 5 + 1 + 16);
    }

    @Test
    void anEmptyKeyUpdateIsDecodeErrorAndAnUnknownRequestIsIllegalParameter() {
        // RFC 8446 section 4.6.3: KeyUpdate is one byte, 0 or 1.
        HandClient c = client();
        c.handshake();
        assertAlert(() -> c.send(c.sealApplicationKeys(HandClient.message(24, new byte[0]), HANDSHAKE, 0)), Alert.DECODE_ERROR);
        HandClient d = client();
        d.handshake();
        assertAlert(() -> d.send(d.sealApplicationKeys(HandClient.message(24, new byte[] {2}), HANDSHAKE, 0)), Alert.ILLEGAL_PARAMETER);
    }

    // ---- ChangeCipherSpec (test-tls13-multiple-ccs-messages) ----

    @Test
    void aSecondChangeCipherSpecIsUnexpectedMessage() {
        // RFC 8446 section 5 and appendix D.4: a client in middlebox-compatibility mode sends one ChangeCipherSpec.
        HandClient c = client();
        c.sendHello(HandClient.keywayHello());
        byte[] ccs = HandClient.plain(CHANGE_CIPHER_SPEC, new byte[] {1});
        c.send(ccs);
        assertThat(c.readServerFlight()).containsExactly(2, 8, 11, 15, 20);
        assertAlert(() -> c.send(ccs), Alert.UNEXPECTED_MESSAGE);
    }

    @Test
    void oneChangeCipherSpecBeforeFinishedIsDropped() {
        HandClient c = client();
        c.sendHello(HandClient.keywayHello());
        c.readServerFlight();
        c.send(HandClient.plain(CHANGE_CIPHER_SPEC, new byte[] {1}), c.sealHandshakeKeys(c.finished(), HANDSHAKE, 0));
        assertThat(c.server.isHandshakeComplete()).isTrue();
    }

    // ---- 0-RTT that is not accepted (test-tls13-0rtt-garbage) ----

    static Hello withEarlyData() {
        return HandClient.keywayHello().put(EARLY_DATA, new byte[0]);
    }

    @Test
    void rejectedEarlyDataIsSkippedUntilTheFinishedDecrypts() {
        // RFC 8446 section 4.2.10: a server that does not accept 0-RTT skips records that fail to decrypt under
        // its handshake keys (up to its limit); the first that decrypts is the client's second flight.
        HandClient c = client();
        c.sendHello(withEarlyData());
        c.send(HandClient.plain(APPLICATION_DATA, garbage(8192)), HandClient.plain(CHANGE_CIPHER_SPEC, new byte[] {1}),
                HandClient.plain(APPLICATION_DATA, garbage(8192)));
        c.readServerFlight();
        c.send(c.sealHandshakeKeys(c.finished(), HANDSHAKE, 0));
        assertThat(c.server.isHandshakeComplete()).isTrue();
    }

    @Test
    void moreRejectedEarlyDataThanTheLimitIsUnexpectedMessage() {
        HandClient c = client();
        c.sendHello(withEarlyData());
        c.send(HandClient.plain(APPLICATION_DATA, garbage(16384)));
        assertAlert(() -> c.send(HandClient.plain(APPLICATION_DATA, garbage(1000))), Alert.UNEXPECTED_MESSAGE);
    }

    @Test
    void skippingEndsWithTheFirstRecordThatDecrypts() {
        HandClient c = client();
        c.sendHello(withEarlyData());
        c.send(HandClient.plain(APPLICATION_DATA, garbage(100)));
        c.readServerFlight();
        byte[] fin = c.finished();
        c.send(c.sealHandshakeKeys(Arrays.copyOf(fin, 16), HANDSHAKE, 0));
        assertAlert(() -> c.send(HandClient.plain(APPLICATION_DATA, garbage(64))), Alert.BAD_RECORD_MAC);
    }

    @Test
    void withoutEarlyDataOfferedNothingIsSkipped() {
        HandClient c = client();
        c.sendHello(HandClient.keywayHello());
        assertAlert(() -> c.send(HandClient.plain(APPLICATION_DATA, garbage(100))), Alert.BAD_RECORD_MAC);
    }

    @Test
    void afterAHelloRetryRequestEarlyDataIsSkippedUntilTheSecondHello() {
        // RFC 8446 section 4.2.10: with a HelloRetryRequest the server skips every application_data record up to
        // the second ClientHello; after it, what does not decrypt is bad_record_mac.
        HandClient c = client();
        Hello first = HandClient.keywayHello(List.of(NamedGroup.SECP256R1, NamedGroup.X25519)).put(EARLY_DATA, new byte[0]);
        c.sendHello(first);
        assertThat(c.takeOutput()).as("a HelloRetryRequest (and our ChangeCipherSpec)").isNotEmpty();
        c.send(HandClient.plain(APPLICATION_DATA, garbage(4000)), HandClient.plain(APPLICATION_DATA, garbage(4000)));
        Hello second = first.copy().remove(EARLY_DATA).put(51, HandClient.keyShare(NamedGroup.X25519));
        c.send(HandClient.plain(HANDSHAKE, second.encode()));
        assertThat(c.takeOutput()).as("the ServerHello flight").isNotEmpty();
        assertAlert(() -> c.send(HandClient.plain(APPLICATION_DATA, garbage(64))), Alert.BAD_RECORD_MAC);
    }

    // ---- the second ClientHello (test-tls13-shuffled-extentions) ----

    @Test
    void aSecondHelloWithReorderedExtensionsIsIllegalParameter() {
        // RFC 8446 section 4.1.2: after a HelloRetryRequest the client sends the same ClientHello, but for the key
        // share (and early_data, pre_shared_key, padding).
        HandClient c = client();
        Hello first = HandClient.keywayHello(List.of(NamedGroup.SECP256R1, NamedGroup.X25519));
        c.sendHello(first);
        c.takeOutput();
        Hello second = first.copy().put(51, HandClient.keyShare(NamedGroup.X25519));
        java.util.Collections.reverse(second.extensions);
        assertAlert(() -> c.send(HandClient.plain(HANDSHAKE, second.encode())), Alert.ILLEGAL_PARAMETER);
    }

    @Test
    void aSecondHelloWithAChangedExtensionIsIllegalParameterAndOnlyANewShareIsFine() {
        HandClient c = client();
        Hello first = HandClient.keywayHello(List.of(NamedGroup.SECP256R1, NamedGroup.X25519));
        c.sendHello(first);
        c.takeOutput();
        Hello changed = first.copy().put(51, HandClient.keyShare(NamedGroup.X25519)).put(16, HandClient.vec16(new byte[] {2, 'h', '2'}));
        assertAlert(() -> c.send(HandClient.plain(HANDSHAKE, changed.encode())), Alert.ILLEGAL_PARAMETER);

        HandClient d = client();
        d.sendHello(first);
        d.takeOutput();
        d.send(HandClient.plain(HANDSHAKE, first.copy().put(51, HandClient.keyShare(NamedGroup.X25519)).encode()));
        assertThat(d.takeOutput()).as("the ServerHello flight").isNotEmpty();
    }

    // ---- signature_algorithms (test-tls13-signature-algorithms, test-tls13-pkcs-signature) ----

    @Test
    void noUsableSignatureSchemeIsHandshakeFailureBeforeAnyServerHello() {
        // RFC 8446 sections 4.2.3 and 4.4.3: RSASSA-PKCS1-v1_5 and SHA-1 schemes are not for CertificateVerify;
        // with nothing our key can sign, the handshake fails before a ServerHello is sent.
        HandClient c = client();
        Hello h = HandClient.keywayHello().put(13, HandClient.vec16(new byte[] {2, 1, 6, 1, 2, 3}));
        assertAlert(() -> c.sendHello(h), Alert.HANDSHAKE_FAILURE);
        assertOnlyAlert(c.takeOutput(), Alert.HANDSHAKE_FAILURE);
    }

    @Test
    void trailingBytesInsideAnExtensionAreDecodeError() {
        // RFC 8446 section 4.2.3: signature_algorithms is one vector; bytes after it do not decode (section 6.2).
        HandClient c = client();
        Hello h = HandClient.keywayHello().put(13, new byte[] {0, 2, 4, 3, 8, 4});
        assertAlert(() -> c.sendHello(h), Alert.DECODE_ERROR);
    }

    // ---- obsolete groups (test-tls13-obsolete-curves) ----

    @ParameterizedTest
    @ValueSource(ints = {0x0015, 0x001A, 0xFF01})
    void anObsoleteGroupBesideAGoodOneIsIgnored(int group) {
        // RFC 8446 section 4.2.7: obsolete_RESERVED groups are never negotiated; listed (with a share) before a
        // group Keyway has, they are passed over like any unknown group (tlsfuzzer obsolete-curves --relaxed,
        // no-unknown-groups).
        HandClient c = client();
        Hello h = HandClient.keywayHello();
        byte[] shares = h.get(51);
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        HandClient.u16(b, group);
        b.writeBytes(HandClient.vec16(garbage(32)));
        b.writeBytes(Arrays.copyOfRange(shares, 2, shares.length));
        byte[] groups = h.get(10);
        java.io.ByteArrayOutputStream g = new java.io.ByteArrayOutputStream();
        HandClient.u16(g, group);
        g.writeBytes(Arrays.copyOfRange(groups, 2, groups.length));
        c.sendHello(h.put(10, HandClient.vec16(g.toByteArray())).put(51, HandClient.vec16(b.toByteArray())));
        assertThat(c.readServerFlight()).containsExactly(2, 8, 11, 15, 20);
    }

    @ParameterizedTest
    @ValueSource(ints = {0x0015, 0x001C, 0xFF02})
    void onlyObsoleteGroupsShareNothing(int group) {
        // Nothing in common: handshake_failure (RFC 8446 section 4.1.1; tlsfuzzer obsolete-curves -a handshake_failure).
        HandClient c = client();
        Hello h = HandClient.keywayHello();
        java.io.ByteArrayOutputStream share = new java.io.ByteArrayOutputStream();
        HandClient.u16(share, group);
        share.writeBytes(HandClient.vec16(garbage(32)));
        java.io.ByteArrayOutputStream g = new java.io.ByteArrayOutputStream();
        HandClient.u16(g, group);
        h.put(10, HandClient.vec16(g.toByteArray())).put(51, HandClient.vec16(share.toByteArray()));
        assertAlert(() -> c.sendHello(h), Alert.HANDSHAKE_FAILURE);
    }

    @Test
    void anEmptySignatureAlgorithmsListIsDecodeError() {
        // RFC 8446 section 4.2.3: supported_signature_algorithms<2..2^16-2>.
        assertAlert(() -> client().sendHello(HandClient.keywayHello().put(13, new byte[] {0, 0})), Alert.DECODE_ERROR);
    }

    // ---- PSK-only hellos (test-tls13-psk_ke) ----

    @Test
    void aPskOnlyHelloWeCannotResumeIsHandshakeFailureNotMissingExtension() {
        // RFC 8446 section 9.2: with pre_shared_key a ClientHello needs neither key_share nor signature_algorithms;
        // when the PSK is unknown there is nothing in common (section 4.1.1: handshake_failure).
        HandClient c = client();
        Hello h = HandClient.keywayHello().remove(51).remove(10).remove(13);
        h.put(45, new byte[] {1, 0});
        byte[] identity = garbage(32);
        java.io.ByteArrayOutputStream psk = new java.io.ByteArrayOutputStream();
        byte[] id = HandClient.vec16(identity);
        psk.writeBytes(HandClient.vec16(Arrays.copyOf(id, id.length + 4)));
        byte[] binder = new byte[33];
        binder[0] = 32;
        psk.writeBytes(HandClient.vec16(binder));
        h.put(41, psk.toByteArray());
        assertAlert(() -> c.sendHello(h), Alert.HANDSHAKE_FAILURE);
    }

    @Test
    void aHelloWithoutPskStillNeedsKeyShareAndSignatureAlgorithms() {
        // RFC 8446 section 9.2: missing_extension.
        assertAlert(() -> client().sendHello(HandClient.keywayHello().remove(13)), Alert.MISSING_EXTENSION);
        assertAlert(() -> client().sendHello(HandClient.keywayHello().remove(51)), Alert.MISSING_EXTENSION);
    }
}
