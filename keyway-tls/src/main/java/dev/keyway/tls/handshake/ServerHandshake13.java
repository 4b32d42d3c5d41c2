package dev.keyway.tls.handshake;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.keylog.KeyLogLabel;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordLayer;
import dev.keyway.tls.record.RecordProtection13;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The TLS 1.3 server handshake (RFC 8446 section 4) from the ClientHello that chose it: [HelloRetryRequest when the
 * client sent no share for the group we prefer, ClientHello], ServerHello, {EncryptedExtensions},
 * {CertificateRequest}, {Certificate}, {CertificateVerify}, {Finished}; then the client's {Certificate},
 * {CertificateVerify} and {Finished}. Each step is one method run when its message arrives. Suite and group follow
 * the server's preference order. {@link ServerHandshake} read the first ClientHello and chose TLS 1.3.
 */
final class ServerHandshake13 implements Handshake.Flow {
    private static final SecureRandom RANDOM = new SecureRandom();
    /**
     * Rejected 0-RTT data skipped at most (RFC 8446 section 4.2.10). Keyway's tickets allow no early data, so a
     * client sends it only with another server's ticket; one full record of it is plenty.
     */
    static final int MAX_SKIPPED_EARLY_DATA = RecordLayer.MAX_FRAGMENT;
    /** Extensions a second ClientHello may change after a HelloRetryRequest (RFC 8446 section 4.1.2). */
    private static final Set<Integer> MAY_CHANGE_AFTER_RETRY = Set.of(Extensions.KEY_SHARE,
            Extensions.PRE_SHARED_KEY, Extensions.PADDING);

    private enum State { CLIENT_HELLO, CLIENT_HELLO_AFTER_RETRY, CLIENT_CERTIFICATE, CLIENT_CERTIFICATE_VERIFY, CLIENT_FINISHED, DONE }

    private final TlsConfig config;
    private final HandshakeIo io;
    private final Transcript transcript = new Transcript();
    private State state = State.CLIENT_HELLO;

    // What the steps hand on to the next ones.
    private ClientHello firstHello;
    private CipherSuite suite;
    private NamedGroup group;
    private boolean sentCcs;
    private ResumptionState resumed;
    private String alpn;
    private KeySchedule13 ks;
    private byte[] handshakeSecret;
    private byte[] clientHandshakeSecret;
    private byte[] master;
    private byte[] clientTrafficSecret;
    private byte[] serverTrafficSecret;
    private byte[] exporter;
    private ClientHello hello;
    private List<X509Certificate> clientChain = List.of();

    ServerHandshake13(TlsConfig config, HandshakeIo io) {
        this.config = config;
        this.io = io;
    }

    @Override
    public HandshakeResult handle(HandshakeIo.Message m) {
        switch (state) {
            case CLIENT_HELLO -> throw new IllegalStateException("ServerHandshake hands over the first ClientHello");
            case CLIENT_HELLO_AFTER_RETRY -> clientHelloAfterRetry(HandshakeIo.expect(m, HandshakeIo.CLIENT_HELLO, "the second ClientHello"));
            case CLIENT_CERTIFICATE -> clientCertificate(HandshakeIo.expect(m, HandshakeIo.CERTIFICATE, "the client's Certificate"));
            case CLIENT_CERTIFICATE_VERIFY -> clientCertificateVerify(
                    HandshakeIo.expect(m, HandshakeIo.CERTIFICATE_VERIFY, "the client's CertificateVerify"));
            case CLIENT_FINISHED -> {
                return clientFinished(HandshakeIo.expect(m, HandshakeIo.FINISHED, "the client's Finished"));
            }
            case DONE -> throw new IllegalStateException("the handshake is over");
        }
        return null;
    }

    /** The first ClientHello, which offers TLS 1.3: our flight, or a HelloRetryRequest for the group we prefer. */
    void clientHello(ClientHello ch, byte[] raw) {
        ch.checkTls13();
        suite = chooseSuite(ch);
        if (ch.pskIdentities().isEmpty()) {
            // Without a PSK to resume, the certificate must be usable: say so before any ServerHello or
            // HelloRetryRequest (RFC 8446 section 4.2.3: handshake_failure).
            signatureScheme(ch);
        }
        group = chooseGroup(ch);
        transcript.algorithm(suite);
        if (ch.shares().containsKey(group)) {
            if (ch.extensions().containsKey(Extensions.EARLY_DATA)) {
                // We accept no 0-RTT: skip the records that do not decrypt under the handshake keys (4.2.10).
                io.records().skipEarlyData(MAX_SKIPPED_EARLY_DATA);
            }
            serverFlight(ch, raw);
            return;
        }
        // HelloRetryRequest: ask for a share of the group we prefer.
        transcript.add(raw);
        transcript.replaceWithMessageHash();
        send(ServerHello.retryRequest(ch.sessionId(), suite.code(), group));
        if (ch.extensions().containsKey(Extensions.EARLY_DATA)) {
            // 0-RTT data may follow the first ClientHello: skip every application_data record up to the second (4.2.10).
            io.records().skipEarlyData(MAX_SKIPPED_EARLY_DATA);
        }
        if (ch.sessionId().length > 0 && config.middleboxCompatibility()) {
            io.records().writeChangeCipherSpec();
            sentCcs = true;
        }
        firstHello = ch;
        state = State.CLIENT_HELLO_AFTER_RETRY;
    }

    private void clientHelloAfterRetry(HandshakeIo.Message m) {
        io.records().stopSkippingEarlyData();
        ClientHello ch = ClientHello.parse(m.body());
        if (!ch.offers(TlsVersion.TLS13)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the second ClientHello no longer offers TLS 1.3");
        }
        ch.checkTls13();
        if (!Arrays.equals(ch.random(), firstHello.random()) || !ch.shares().containsKey(group) || ch.shares().size() != 1) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the second ClientHello does not answer the HelloRetryRequest");
        }
        if (!ch.suites().contains(suite.code())) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the second ClientHello dropped the chosen suite");
        }
        sameHelloAsFirst(firstHello, ch);
        serverFlight(ch, m.raw());
    }

    /**
     * After a HelloRetryRequest the client sends the same ClientHello again, except for a new key_share, no
     * early_data, an updated pre_shared_key and padding (RFC 8446 section 4.1.2; we send no cookie). Anything else
     * changed, extensions reordered included, is an illegal_parameter alert.
     */
    static void sameHelloAsFirst(ClientHello first, ClientHello second) {
        boolean same = first.legacyVersion() == second.legacyVersion() && Arrays.equals(first.sessionId(), second.sessionId())
                && first.suites().equals(second.suites()) && Arrays.equals(first.compression(), second.compression());
        if (second.extensions().containsKey(Extensions.EARLY_DATA)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the second ClientHello offers early_data (RFC 8446 section 4.1.2)");
        }
        List<Integer> firstTypes = new ArrayList<>(first.extensions().keySet());
        firstTypes.removeIf(t -> t == Extensions.EARLY_DATA || t == Extensions.PADDING);
        List<Integer> secondTypes = new ArrayList<>(second.extensions().keySet());
        secondTypes.removeIf(t -> t == Extensions.PADDING);
        same &= firstTypes.equals(secondTypes);
        for (int i = 0; same && i < firstTypes.size(); i++) {
            int type = firstTypes.get(i);
            same = MAY_CHANGE_AFTER_RETRY.contains(type) || Arrays.equals(first.extensions().get(type), second.extensions().get(type));
        }
        if (!same) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the second ClientHello differs from the first in more than "
                    + "its key share (RFC 8446 section 4.1.2)");
        }
    }

    /** ServerHello, {EncryptedExtensions}, {CertificateRequest}, {Certificate}, {CertificateVerify}, {Finished}. */
    private void serverFlight(ClientHello ch, byte[] chRaw) {
        hello = ch;
        resumed = acceptPsk(ch, chRaw, suite);
        if (resumed == null) {
            signatureScheme(ch); // before the ServerHello: a full handshake needs our signature
        }
        transcript.add(chRaw);
        byte[] clientRandom = ch.random();

        NamedGroup.ServerShare share = group.respond(ch.shares().get(group));
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        send(ServerHello.tls13(random, ch.sessionId(), suite.code(), group, share.keyExchange(), resumed == null ? -1 : 0));
        if (!sentCcs && ch.sessionId().length > 0 && config.middleboxCompatibility()) {
            io.records().writeChangeCipherSpec();
        }

        ks = KeySchedule13.of(suite);
        handshakeSecret = ks.handshakeSecret(ks.earlySecret(resumed == null ? null : resumed.psk()), share.sharedSecret());
        Arrays.fill(share.sharedSecret(), (byte) 0);
        byte[] helloHash = transcript.hash();
        clientHandshakeSecret = ks.deriveSecret(handshakeSecret, KeySchedule13.CLIENT_HANDSHAKE_TRAFFIC, helloHash);
        byte[] sHs = ks.deriveSecret(handshakeSecret, KeySchedule13.SERVER_HANDSHAKE_TRAFFIC, helloHash);
        config.keyLog().log(KeyLogLabel.CLIENT_HANDSHAKE_TRAFFIC_SECRET.name(), clientRandom, clientHandshakeSecret);
        config.keyLog().log(KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET.name(), clientRandom, sHs);
        io.requireBoundary();
        io.records().setWriteProtection(RecordProtection13.of(ks, suite, sHs));
        io.records().setReadProtection(RecordProtection13.of(ks, suite, clientHandshakeSecret));

        // {EncryptedExtensions}
        alpn = ServerHandshake.chooseAlpn(config, ch);
        Map<Integer, byte[]> ee = new LinkedHashMap<>();
        if (ch.serverName() != null) {
            ee.put(Extensions.SERVER_NAME, new byte[0]);
        }
        if (alpn != null) {
            ee.put(Extensions.ALPN, Extensions.alpn(alpn));
        }
        send(new HandshakeMessage.EncryptedExtensions(ee));

        // {CertificateRequest} (not in a resumption: the ticket stands for the certificates)
        boolean askClient = config.requireClientCertificate() && resumed == null;
        if (askClient) {
            send(HandshakeMessage.CertificateRequest13.ours());
        }

        // {Certificate} {CertificateVerify} {Finished}
        if (resumed == null) {
            send(CertificateMessage.of13(new byte[0], config.certificateChain()));
            send(CertificateVerifyMessage.sign13(config.privateKey(), true, transcript.hash()));
        }
        send(new HandshakeMessage.Finished(ks.finishedVerifyData(sHs, transcript.hash())));
        Arrays.fill(sHs, (byte) 0);

        master = ks.masterSecret(handshakeSecret);
        byte[] serverFinishedHash = transcript.hash();
        clientTrafficSecret = ks.deriveSecret(master, KeySchedule13.CLIENT_APPLICATION_TRAFFIC, serverFinishedHash);
        serverTrafficSecret = ks.deriveSecret(master, KeySchedule13.SERVER_APPLICATION_TRAFFIC, serverFinishedHash);
        exporter = ks.deriveSecret(master, KeySchedule13.EXPORTER_MASTER, serverFinishedHash);
        config.keyLog().log(KeyLogLabel.CLIENT_TRAFFIC_SECRET_0.name(), clientRandom, clientTrafficSecret);
        config.keyLog().log(KeyLogLabel.SERVER_TRAFFIC_SECRET_0.name(), clientRandom, serverTrafficSecret);
        config.keyLog().log(KeyLogLabel.EXPORTER_SECRET.name(), clientRandom, exporter);
        io.records().setWriteProtection(RecordProtection13.of(ks, suite, serverTrafficSecret));
        state = askClient ? State.CLIENT_CERTIFICATE : State.CLIENT_FINISHED;
    }

    private void clientCertificate(HandshakeIo.Message cert) {
        transcript.add(cert.raw());
        List<byte[]> ders = CertificateMessage.parse13(cert.body(), true, new byte[0]).certificates();
        if (ders.isEmpty() && config.clientCertificateOptional()) {
            state = State.CLIENT_FINISHED; // asked, not required: the client goes on without one (no CertificateVerify)
            return;
        }
        if (ders.isEmpty()) {
            throw TlsException.fatal(Alert.CERTIFICATE_REQUIRED, "the client sent no certificate");
        }
        clientChain = PeerCertificates.parse(ders);
        PeerCertificates.validateClient(clientChain, config);
        state = State.CLIENT_CERTIFICATE_VERIFY;
    }

    private void clientCertificateVerify(HandshakeIo.Message cv) {
        CertificateVerifyMessage.parse(cv.body()).verify13(clientChain.get(0).getPublicKey(), false, transcript.hash());
        transcript.add(cv.raw());
        state = State.CLIENT_FINISHED;
    }

    /** The client's Finished; then the application read keys and our NewSessionTickets. */
    private HandshakeResult clientFinished(HandshakeIo.Message fin) {
        byte[] received = HandshakeMessage.Finished.parse(fin.body()).verifyData();
        if (received.length != ks.hash().length()) {
            // verify_data is exactly Hash.length bytes (RFC 8446 section 4.4.4): another length is malformed.
            throw TlsException.fatal(Alert.DECODE_ERROR, "the client's Finished has " + received.length + " bytes, not "
                    + ks.hash().length());
        }
        if (!MessageDigest.isEqual(ks.finishedVerifyData(clientHandshakeSecret, transcript.hash()), received)) {
            throw TlsException.fatal(Alert.DECRYPT_ERROR, "the client's Finished does not verify");
        }
        transcript.add(fin.raw());
        io.requireBoundary();
        byte[] resumption = ks.deriveSecret(master, KeySchedule13.RESUMPTION_MASTER, transcript.hash());
        io.records().setReadProtection(RecordProtection13.of(ks, suite, clientTrafficSecret));
        io.records().handshakeDone();
        sendTickets(ks, suite, resumption, alpn, hello.serverName(), clientChain);
        Arrays.fill(handshakeSecret, (byte) 0);
        Arrays.fill(master, (byte) 0);
        Arrays.fill(clientHandshakeSecret, (byte) 0);
        state = State.DONE;
        return new HandshakeResult(suite, group, clientChain, resumed != null, alpn, hello.serverName(), hello.random(),
                clientTrafficSecret, serverTrafficSecret, exporter, resumption, ks);
    }

    /**
     * The resumption state of the first offered ticket that opens, fits the suite's hash and has not expired,
     * with its binder checked (RFC 8446 section 4.2.11); null for a full handshake. A binder that does not
     * verify is a decrypt_error alert.
     */
    private ResumptionState acceptPsk(ClientHello ch, byte[] chRaw, CipherSuite suite) {
        if (ch.pskIdentities().isEmpty() || !ch.pskModes().contains(1)) {
            return null;
        }
        long now = config.clock().millis();
        for (int i = 0; i < ch.pskIdentities().size(); i++) {
            byte[] opened = config.ticketKeys().open(ch.pskIdentities().get(i));
            ResumptionState state = opened == null ? null : ResumptionState.decode(opened);
            if (state == null || !state.suite().tls13() || state.suite().hkdfHash() != suite.hkdfHash()) {
                continue;
            }
            // A ticket stands for the authentication of the session it came from: not for another server name
            // (RFC 8446 section 4.6.1); its client certificate is checked below.
            if (!Objects.equals(state.serverName(), ch.serverName())) {
                continue;
            }
            long ageMs = now - state.created().toEpochMilli();
            if (ageMs < -10_000 || ageMs > state.lifetimeSeconds() * 1000) {
                continue;
            }
            KeySchedule13 ks = KeySchedule13.of(suite);
            byte[] binderKey = ks.binderKey(ks.earlySecret(state.psk()), true);
            byte[] truncated = Arrays.copyOf(chRaw, chRaw.length - ch.bindersLength());
            byte[] expected = ks.finishedVerifyData(binderKey, transcript.hashWith(truncated));
            if (i >= ch.binders().size() || !MessageDigest.isEqual(expected, ch.binders().get(i))) {
                throw TlsException.fatal(Alert.DECRYPT_ERROR, "a PSK binder does not verify");
            }
            // After the binder, so only a client that holds the PSK costs us a path validation: the sealed client
            // chain against today's trust anchors and clock; declined means a full handshake (section 4.2.11).
            List<X509Certificate> client = state.clientChainAuthorizedBy(config);
            if (client == null) {
                continue;
            }
            clientChain = client;
            return state;
        }
        return null;
    }

    /** Our NewSessionTickets, each sealing the client's chain (none when it is over the bounds: that client cannot resume). */
    private void sendTickets(KeySchedule13 ks, CipherSuite suite, byte[] resumptionMaster, String alpn, String serverName,
                             List<X509Certificate> client) {
        for (int i = 0; i < config.ticketCount(); i++) {
            byte[] nonce = {(byte) i};
            byte[] psk = ks.resumptionPsk(resumptionMaster, nonce);
            long ageAdd = RANDOM.nextInt() & 0xffffffffL;
            long lifetime = config.ticketLifetime().getSeconds();
            ResumptionState state = ResumptionState.of(suite, psk, config.clock().instant(), lifetime, ageAdd, alpn, serverName, client);
            if (state == null) {
                Arrays.fill(psk, (byte) 0);
                return;
            }
            byte[] ticket = config.ticketKeys().seal(state.encode());
            Arrays.fill(psk, (byte) 0);
            io.send(new HandshakeMessage.NewSessionTicket13(lifetime, ageAdd, nonce, ticket, new byte[0]).encode());
        }
    }

    private void send(HandshakeMessage message) {
        byte[] raw = message.encode();
        transcript.add(raw);
        io.send(raw);
    }

    /** The scheme our key signs CertificateVerify with, if the client accepts it; handshake_failure otherwise. */
    private SignatureScheme signatureScheme(ClientHello ch) {
        SignatureScheme scheme = SignatureScheme.forKey(config.privateKey());
        if (scheme == null || !ch.signatureSchemes().contains(scheme.code())) {
            throw TlsException.fatal(Alert.HANDSHAKE_FAILURE, "the client accepts no signature scheme our key can make");
        }
        return scheme;
    }

    private CipherSuite chooseSuite(ClientHello ch) {
        for (CipherSuite s : config.suites(TlsVersion.TLS13)) {
            if (ch.suites().contains(s.code())) {
                return s;
            }
        }
        throw TlsException.fatal(Alert.HANDSHAKE_FAILURE, "no TLS 1.3 suite in common with the client");
    }

    private NamedGroup chooseGroup(ClientHello ch) {
        for (NamedGroup g : config.groups()) {
            if (ch.groups().contains(g.code())) {
                return g;
            }
        }
        throw TlsException.fatal(Alert.HANDSHAKE_FAILURE, "no key-exchange group in common with the client");
    }
}
