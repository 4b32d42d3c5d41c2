package dev.keyway.tls.handshake;

import dev.keyway.core.encoding.Printable;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.keylog.KeyLogLabel;
import dev.keyway.tls.Alert;
import dev.keyway.tls.TlsConfig;
import dev.keyway.tls.TlsException;
import dev.keyway.tls.record.RecordLayer;
import dev.keyway.tls.params.NamedGroup;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The TLS 1.3 server handshake (RFC 8446 section 4): ClientHello, [HelloRetryRequest when the client sent
 * no share for the group we prefer, ClientHello], ServerHello, {EncryptedExtensions}, {CertificateRequest},
 * {Certificate}, {CertificateVerify}, {Finished}; then the client's {Certificate}, {CertificateVerify} and
 * {Finished}. Each step is one method run when its message arrives. Suite and group follow the server's
 * preference order.
 *
 * <p>The ClientHello decides the version: TLS 1.3 when both sides have it, else TLS 1.2 when both have that,
 * which {@link ServerHandshake12} then runs; otherwise protocol_version.
 */
public final class ServerHandshake13 extends Handshake {
    private static final SecureRandom RANDOM = new SecureRandom();
    /**
     * Rejected 0-RTT data skipped at most (RFC 8446 section 4.2.10). Keyway's tickets allow no early data, so a
     * client sends it only with another server's ticket; one full record of it is plenty.
     */
    static final int MAX_SKIPPED_EARLY_DATA = RecordLayer.MAX_FRAGMENT;
    /** Extensions a second ClientHello may change after a HelloRetryRequest (RFC 8446 section 4.1.2). */
    private static final java.util.Set<Integer> MAY_CHANGE_AFTER_RETRY = java.util.Set.of(Extensions.KEY_SHARE,
            Extensions.PRE_SHARED_KEY, Extensions.PADDING);

    private enum State { CLIENT_HELLO, CLIENT_HELLO_AFTER_RETRY, CLIENT_CERTIFICATE, CLIENT_CERTIFICATE_VERIFY, CLIENT_FINISHED, DONE }

    /** The server's config; replaced once, when the first ClientHello arrives, if it has a configForClient. */
    private TlsConfig config;
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

    public ServerHandshake13(TlsConfig config, RecordLayer records) {
        super(records);
        if ((config.certificateChain().isEmpty() || config.privateKey() == null) && config.configForClient() == null) {
            throw new IllegalArgumentException("a TLS server needs a certificate chain and its private key");
        }
        this.config = config;
    }

    @Override
    void handle(HandshakeIo.Message m) {
        switch (state) {
            case CLIENT_HELLO -> clientHello(HandshakeIo.expect(m, HandshakeIo.CLIENT_HELLO, "ClientHello"));
            case CLIENT_HELLO_AFTER_RETRY -> clientHelloAfterRetry(HandshakeIo.expect(m, HandshakeIo.CLIENT_HELLO, "the second ClientHello"));
            case CLIENT_CERTIFICATE -> clientCertificate(HandshakeIo.expect(m, HandshakeIo.CERTIFICATE, "the client's Certificate"));
            case CLIENT_CERTIFICATE_VERIFY -> clientCertificateVerify(
                    HandshakeIo.expect(m, HandshakeIo.CERTIFICATE_VERIFY, "the client's CertificateVerify"));
            case CLIENT_FINISHED -> clientFinished(HandshakeIo.expect(m, HandshakeIo.FINISHED, "the client's Finished"));
            case DONE -> throw new IllegalStateException("the handshake is over");
        }
    }

    private void clientHello(HandshakeIo.Message m) {
        ClientHello ch = ClientHello.parse(m.body());
        config = configFor(config, ch);
        if (!(config.allows(TlsVersion.TLS13) && ch.offers(TlsVersion.TLS13))) {
            if (config.allows(TlsVersion.TLS12) && ch.offers(TlsVersion.TLS12)) {
                continueWith(new ServerHandshake12(config, io, ch, m.raw()));
                state = State.DONE; // for this class: ServerHandshake12 has the rest
                return;
            }
            int highest = config.versions().get(0).code();
            if (ch.suites().contains(ServerHandshake12.FALLBACK_SCSV) && ch.versions().stream().allMatch(v -> v < highest)) {
                // RFC 7507 section 3: a fallback to a version below our highest is refused as such, before anything else
                throw TlsException.fatal(Alert.INAPPROPRIATE_FALLBACK, "the client fell back to an older version (TLS_FALLBACK_SCSV) "
                        + "than this server's highest");
            }
            throw TlsException.fatal(Alert.PROTOCOL_VERSION, "no TLS version in common: the client offers "
                    + ch.versions().stream().map(v -> String.format("0x%04X", v)).toList() + ", this server speaks " + config.versions());
        }
        ch.checkTls13();
        suite = chooseSuite(ch);
        if (ch.pskIdentities().isEmpty()) {
            // Without a PSK to resume, the certificate must be usable: say so before any ServerHello or
            // HelloRetryRequest (RFC 8446 section 4.2.3: handshake_failure).
            signatureScheme(ch);
        }
        group = chooseGroup(ch);
        transcript.algorithm(ClientHandshake13.jcaHash(suite));
        if (ch.shares().containsKey(group)) {
            if (ch.extensions().containsKey(Extensions.EARLY_DATA)) {
                // We accept no 0-RTT: skip the records that do not decrypt under the handshake keys (4.2.10).
                io.records().skipEarlyData(MAX_SKIPPED_EARLY_DATA);
            }
            serverFlight(ch, m.raw());
            return;
        }
        // HelloRetryRequest: ask for a share of the group we prefer.
        transcript.add(m.raw());
        transcript.replaceWithMessageHash();
        byte[] hrr = serverHello(ClientHandshake13.HRR_RANDOM, ch.sessionId(), suite,
                new Wire.Writer().u16(group.code()).toByteArray(), -1);
        transcript.add(hrr);
        io.send(hrr);
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

    /** The config for this ClientHello: the base config's {@code configForClient} answer, or the base config itself. */
    private static TlsConfig configFor(TlsConfig base, ClientHello ch) {
        java.util.function.Function<dev.keyway.tls.ClientHelloInfo, TlsConfig> choose = base.configForClient();
        if (choose == null) {
            return base;
        }
        TlsConfig chosen;
        try {
            chosen = choose.apply(new dev.keyway.tls.ClientHelloInfo(ch.serverName(), ch.alpn(), ch.signatureSchemes(), ch.versions()));
        } catch (TlsException e) {
            throw e;
        } catch (RuntimeException e) {
            throw TlsException.fatal(Alert.HANDSHAKE_FAILURE, "the server could not choose a configuration for this client ("
                    + Printable.escape(String.valueOf(e.getMessage())) + ")");
        }
        TlsConfig c = chosen == null ? base : chosen;
        if (c.certificateChain().isEmpty() || c.privateKey() == null) {
            throw TlsException.fatal(Alert.HANDSHAKE_FAILURE, "no certificate for this client"
                    + (ch.serverName() == null ? "" : " (server name " + Printable.escape(ch.serverName()) + ")"));
        }
        return c;
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
        send(serverHello(random, ch.sessionId(), suite,
                new Wire.Writer().u16(group.code()).vec16(share.keyExchange()).toByteArray(), resumed == null ? -1 : 0));
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
        io.records().setWriteProtection(ClientHandshake13.protection(ks, suite, sHs));
        io.records().setReadProtection(ClientHandshake13.protection(ks, suite, clientHandshakeSecret));

        // {EncryptedExtensions}
        alpn = chooseAlpn(ch);
        Wire.Writer ee = new Wire.Writer();
        if (ch.serverName() != null) {
            Extensions.add(ee, Extensions.SERVER_NAME, new byte[0]);
        }
        if (alpn != null) {
            Extensions.add(ee, Extensions.ALPN, new Wire.Writer().vec16(new Wire.Writer().vec8(alpn.getBytes(StandardCharsets.US_ASCII))
                    .toByteArray()).toByteArray());
        }
        send(Wire.message(HandshakeIo.ENCRYPTED_EXTENSIONS, new Wire.Writer().vec16(ee.toByteArray()).toByteArray()));

        // {CertificateRequest} (not in a resumption: the ticket stands for the certificates)
        boolean askClient = config.requireClientCertificate() && resumed == null;
        if (askClient) {
            Wire.Writer sigs = new Wire.Writer();
            for (int s : ClientHandshake13.SIGNATURE_ALGORITHMS) {
                sigs.u16(s);
            }
            Wire.Writer ext = new Wire.Writer();
            Extensions.add(ext, Extensions.SIGNATURE_ALGORITHMS, new Wire.Writer().vec16(sigs.toByteArray()).toByteArray());
            send(Wire.message(HandshakeIo.CERTIFICATE_REQUEST, new Wire.Writer().vec8(new byte[0]).vec16(ext.toByteArray()).toByteArray()));
        }

        // {Certificate} {CertificateVerify} {Finished}
        if (resumed == null) {
            send(Wire.message(HandshakeIo.CERTIFICATE, CertificateMessage.encode(new byte[0], config.certificateChain())));
            send(Wire.message(HandshakeIo.CERTIFICATE_VERIFY, CertificateVerifyMessage.sign(config.privateKey(), true, transcript.hash())));
        }
        send(Wire.message(HandshakeIo.FINISHED, ks.finishedVerifyData(sHs, transcript.hash())));
        Arrays.fill(sHs, (byte) 0);

        master = ks.masterSecret(handshakeSecret);
        byte[] serverFinishedHash = transcript.hash();
        clientTrafficSecret = ks.deriveSecret(master, KeySchedule13.CLIENT_APPLICATION_TRAFFIC, serverFinishedHash);
        serverTrafficSecret = ks.deriveSecret(master, KeySchedule13.SERVER_APPLICATION_TRAFFIC, serverFinishedHash);
        exporter = ks.deriveSecret(master, KeySchedule13.EXPORTER_MASTER, serverFinishedHash);
        config.keyLog().log(KeyLogLabel.CLIENT_TRAFFIC_SECRET_0.name(), clientRandom, clientTrafficSecret);
        config.keyLog().log(KeyLogLabel.SERVER_TRAFFIC_SECRET_0.name(), clientRandom, serverTrafficSecret);
        config.keyLog().log(KeyLogLabel.EXPORTER_SECRET.name(), clientRandom, exporter);
        io.records().setWriteProtection(ClientHandshake13.protection(ks, suite, serverTrafficSecret));
        state = askClient ? State.CLIENT_CERTIFICATE : State.CLIENT_FINISHED;
    }

    private void clientCertificate(HandshakeIo.Message cert) {
        transcript.add(cert.raw());
        Wire.Reader r = new Wire.Reader(cert.body());
        if (r.vec8().length != 0) {
            // We sent an empty certificate_request_context; the client must echo it (RFC 8446 section 4.4.2).
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the client's Certificate has a request context we did not send");
        }
        List<byte[]> ders = CertificateMessage.parse(cert.body(), true);
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
        CertificateVerifyMessage.verify(cv.body(), clientChain.get(0).getPublicKey(), false, transcript.hash());
        transcript.add(cv.raw());
        state = State.CLIENT_FINISHED;
    }

    /** The client's Finished; then the application read keys and our NewSessionTickets. */
    private void clientFinished(HandshakeIo.Message fin) {
        if (fin.body().length != ks.hash().length()) {
            // verify_data is exactly Hash.length bytes (RFC 8446 section 4.4.4): another length is malformed.
            throw TlsException.fatal(Alert.DECODE_ERROR, "the client's Finished has " + fin.body().length + " bytes, not "
                    + ks.hash().length());
        }
        if (!MessageDigest.isEqual(ks.finishedVerifyData(clientHandshakeSecret, transcript.hash()), fin.body())) {
            throw TlsException.fatal(Alert.DECRYPT_ERROR, "the client's Finished does not verify");
        }
        transcript.add(fin.raw());
        io.requireBoundary();
        byte[] resumption = ks.deriveSecret(master, KeySchedule13.RESUMPTION_MASTER, transcript.hash());
        io.records().setReadProtection(ClientHandshake13.protection(ks, suite, clientTrafficSecret));
        io.records().handshakeDone();
        sendTickets(ks, suite, resumption, alpn, hello.serverName(), clientChain);
        Arrays.fill(handshakeSecret, (byte) 0);
        Arrays.fill(master, (byte) 0);
        Arrays.fill(clientHandshakeSecret, (byte) 0);
        state = State.DONE;
        complete(new HandshakeResult(suite, group, clientChain, resumed != null, alpn, hello.serverName(), hello.random(),
                clientTrafficSecret, serverTrafficSecret, exporter, resumption, ks));
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
            if (!java.util.Objects.equals(state.serverName(), ch.serverName())) {
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
            byte[] body = new Wire.Writer().u32(lifetime).u32(ageAdd).vec8(nonce).vec16(ticket).vec16(new byte[0]).toByteArray();
            io.send(Wire.message(HandshakeIo.NEW_SESSION_TICKET, body));
        }
    }

    private void send(byte[] message) {
        transcript.add(message);
        io.send(message);
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

    private String chooseAlpn(ClientHello ch) {
        return chooseAlpn(config, ch);
    }

    /** Our first protocol the client also offers; null when either side has none; no_application_protocol otherwise. */
    static String chooseAlpn(TlsConfig config, ClientHello ch) {
        if (!ch.alpn().isEmpty() && config.alpnSelector() != null) {
            String chosen = config.alpnSelector().apply(List.copyOf(ch.alpn()));
            if (chosen != null && chosen.isEmpty()) {
                return null;
            }
            if (chosen == null || !ch.alpn().contains(chosen)) {
                throw TlsException.fatal(Alert.NO_APPLICATION_PROTOCOL, "the server's selector chose no application protocol the client offered ("
                        + Printable.escape(String.valueOf(ch.alpn())) + ")");
            }
            return chosen;
        }
        if (ch.alpn().isEmpty() || config.alpn().isEmpty()) {
            return null;
        }
        for (String p : config.alpn()) {
            if (ch.alpn().contains(p)) {
                return p;
            }
        }
        throw TlsException.fatal(Alert.NO_APPLICATION_PROTOCOL, "no application protocol in common (client offered "
                + Printable.escape(String.valueOf(ch.alpn())) + ")");
    }

    private static byte[] serverHello(byte[] random, byte[] sessionId, CipherSuite suite, byte[] keyShare, int pskIndex) {
        Wire.Writer ext = new Wire.Writer();
        Extensions.add(ext, Extensions.SUPPORTED_VERSIONS, new Wire.Writer().u16(ClientHandshake13.TLS13).toByteArray());
        Extensions.add(ext, Extensions.KEY_SHARE, keyShare);
        if (pskIndex >= 0) {
            Extensions.add(ext, Extensions.PRE_SHARED_KEY, new Wire.Writer().u16(pskIndex).toByteArray());
        }
        byte[] body = new Wire.Writer().u16(0x0303).bytes(random).vec8(sessionId).u16(suite.code()).u8(0)
                .vec16(ext.toByteArray()).toByteArray();
        return Wire.message(HandshakeIo.SERVER_HELLO, body);
    }

    /** What the server needs from a ClientHello. */
    record ClientHello(int legacyVersion, byte[] random, byte[] sessionId, List<Integer> suites, List<Integer> groups,
                       Map<NamedGroup, byte[]> shares, List<Integer> signatureSchemes, String serverName, List<String> alpn,
                       List<Integer> pskModes, List<byte[]> pskIdentities, List<byte[]> binders, int bindersLength,
                       List<Integer> versions, byte[] compression, Map<Integer, byte[]> extensions) {
        /** What TLS 1.3 requires of a ClientHello that TLS 1.2 does not (RFC 8446 sections 4.1.2 and 9.2). */
        void checkTls13() {
            if (compression.length != 1 || compression[0] != 0) {
                throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "TLS 1.3 allows only the null compression method");
            }
            // RFC 8446 section 9.2: supported_groups and key_share come together; without pre_shared_key a
            // ClientHello needs both them and signature_algorithms. (A PSK-only hello we cannot resume ends in
            // handshake_failure: we share no key exchange with it.)
            boolean psk = extensions.containsKey(Extensions.PRE_SHARED_KEY);
            if (extensions.containsKey(Extensions.SUPPORTED_GROUPS) != extensions.containsKey(Extensions.KEY_SHARE)) {
                throw TlsException.fatal(Alert.MISSING_EXTENSION, "the ClientHello has "
                        + (extensions.containsKey(Extensions.KEY_SHARE) ? "key_share without supported_groups" : "supported_groups without key_share"));
            }
            if (!psk && !extensions.containsKey(Extensions.KEY_SHARE)) {
                throw TlsException.fatal(Alert.MISSING_EXTENSION, "the ClientHello has no key_share");
            }
            if (!psk && !extensions.containsKey(Extensions.SIGNATURE_ALGORITHMS)) {
                throw TlsException.fatal(Alert.MISSING_EXTENSION, "the ClientHello has no signature_algorithms");
            }
            // Groups in the obsolete_RESERVED ranges "MUST NOT be offered or negotiated by TLS 1.3 implementations"
            // (section 4.2.7). Keyway never negotiates them, and ignores them when offered, as it ignores every group
            // it does not know: clients that speak 1.2 and 1.3 list groups for either, and tlsfuzzer's
            // no-unknown-groups wants exactly that. A hello with nothing else gets handshake_failure (section 4.1.1).
        }

        boolean offers(dev.keyway.core.kdf.TlsVersion v) {
            return versions.contains(v.code());
        }

        static ClientHello parse(byte[] body) {
            Wire.Reader r = new Wire.Reader(body);
            int legacyVersion = r.u16();
            if (legacyVersion <= 0x0300) {
                // SSL 3.0 and older (or garbage) is refused whatever supported_versions says (RFC 8446 appendix D.5).
                throw TlsException.fatal(Alert.PROTOCOL_VERSION, String.format("a ClientHello with legacy_version 0x%04X", legacyVersion));
            }
            byte[] random = r.bytes(32);
            byte[] sid = r.vec8();
            if (sid.length > 32) {
                // a vector over its bound: out of the specified range (RFC 8446 section 6.2, RFC 5246 section 7.4.1.2)
                throw TlsException.fatal(Alert.DECODE_ERROR, "a legacy session id over 32 bytes");
            }
            List<Integer> suites = u16s(r.vec16());
            byte[] compression = r.vec8();
            Map<Integer, byte[]> ext = r.remaining() > 0 ? Extensions.parse(r.vec16()) : Map.of();
            r.end("ClientHello");
            // What the hello says is judged once it decodes as a whole: a wrong length is a decode_error first, and
            // so are the empty lists RFC 5246 section 7.4.1.2 forbids (cipher_suites<2..>, compression_methods<1..>).
            if (suites.isEmpty() || compression.length == 0) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "a ClientHello with no " + (suites.isEmpty() ? "cipher suites" : "compression methods"));
            }
            boolean nullCompression = false;
            for (byte c : compression) {
                nullCompression |= c == 0;
            }
            if (!nullCompression) {
                throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the ClientHello lacks the null compression method");
            }
            ClientHelloChecks.check(ext);
            byte[] sv = ext.get(Extensions.SUPPORTED_VERSIONS);
            // Without supported_versions, legacy_version is the highest version the client speaks (RFC 5246 E.1).
            List<Integer> versions = sv != null ? u16s(whole8(sv, "supported_versions"))
                    : legacyVersion >= 0x0303 ? List.of(0x0303) : List.of(legacyVersion);
            List<Integer> groups = ext.containsKey(Extensions.SUPPORTED_GROUPS)
                    ? u16s(whole16(ext.get(Extensions.SUPPORTED_GROUPS), "supported_groups")) : List.of();
            Map<NamedGroup, byte[]> shares = new LinkedHashMap<>();
            byte[] ks = ext.getOrDefault(Extensions.KEY_SHARE, new byte[] {0, 0});
            Wire.Reader entries = new Wire.Reader(whole16(ks, "key_share"));
            while (entries.remaining() > 0) {
                int code = entries.u16();
                byte[] key = entries.vec16();
                NamedGroup g = NamedGroup.ofCode(code);
                if (!groups.contains(code)) {
                    throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "a key share for a group not in supported_groups");
                }
                if (g != null && shares.put(g, key) != null) {
                    throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "two key shares for one group");
                }
            }
            byte[] sa = ext.getOrDefault(Extensions.SIGNATURE_ALGORITHMS, new byte[] {0, 0});
            List<Integer> schemes = u16s(whole16(sa, "signature_algorithms"));
            if (ext.containsKey(Extensions.SIGNATURE_ALGORITHMS) && schemes.isEmpty()) {
                // supported_signature_algorithms<2..2^16-2>: an empty list does not decode (RFC 8446 section 4.2.3).
                throw TlsException.fatal(Alert.DECODE_ERROR, "an empty signature_algorithms list");
            }
            String name = null;
            byte[] sni = ext.get(Extensions.SERVER_NAME);
            if (sni != null) {
                Wire.Reader list = new Wire.Reader(whole16(sni, "server_name"));
                while (list.remaining() > 0) {
                    int type = list.u8();
                    byte[] n = list.vec16();
                    if (type == 0) {
                        name = new String(n, StandardCharsets.US_ASCII);
                    }
                }
            }
            List<String> alpn = new ArrayList<>();
            byte[] a = ext.get(Extensions.ALPN);
            if (a != null) {
                Wire.Reader list = new Wire.Reader(whole16(a, "application_layer_protocol_negotiation"));
                while (list.remaining() > 0) {
                    alpn.add(new String(list.vec8(), StandardCharsets.US_ASCII));
                }
            }
            List<Integer> modes = new ArrayList<>();
            byte[] pm = ext.get(Extensions.PSK_KEY_EXCHANGE_MODES);
            if (pm != null) {
                for (byte b : whole8(pm, "psk_key_exchange_modes")) {
                    modes.add(b & 0xff);
                }
            }
            List<byte[]> identities = new ArrayList<>();
            List<byte[]> binders = new ArrayList<>();
            int bindersLength = 0;
            byte[] psk = ext.get(Extensions.PRE_SHARED_KEY);
            if (psk != null) {
                int last = -1;
                for (int type : ext.keySet()) {
                    last = type;
                }
                if (last != Extensions.PRE_SHARED_KEY) {
                    throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "pre_shared_key is not the last extension");
                }
                if (pm == null) {
                    throw TlsException.fatal(Alert.MISSING_EXTENSION, "pre_shared_key without psk_key_exchange_modes");
                }
                Wire.Reader p = new Wire.Reader(psk);
                Wire.Reader ids = new Wire.Reader(p.vec16());
                while (ids.remaining() > 0) {
                    identities.add(ids.vec16());
                    ids.u32(); // obfuscated_ticket_age: only 0-RTT needs it, and Keyway does no 0-RTT
                }
                byte[] bl = p.vec16();
                p.end("pre_shared_key");
                bindersLength = 2 + bl.length;
                Wire.Reader b = new Wire.Reader(bl);
                while (b.remaining() > 0) {
                    binders.add(b.vec8());
                }
                if (identities.isEmpty() || identities.size() != binders.size()) {
                    throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "pre_shared_key has " + identities.size() + " identities and "
                            + binders.size() + " binders");
                }
            }
            return new ClientHello(legacyVersion, random, sid, suites, groups, shares, schemes, name, alpn, modes, identities, binders, bindersLength,
                    versions, compression, ext);
        }

        /** An extension that is one vector with a 16-bit length and nothing after it (else decode_error). */
        private static byte[] whole16(byte[] extension, String name) {
            Wire.Reader r = new Wire.Reader(extension);
            byte[] v = r.vec16();
            r.end(name);
            return v;
        }

        /** An extension that is one vector with an 8-bit length and nothing after it (else decode_error). */
        private static byte[] whole8(byte[] extension, String name) {
            Wire.Reader r = new Wire.Reader(extension);
            byte[] v = r.vec8();
            r.end(name);
            return v;
        }

        private static List<Integer> u16s(byte[] data) {
            if (data.length % 2 != 0) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "a list of 16-bit values with an odd length");
            }
            List<Integer> out = new ArrayList<>();
            Wire.Reader r = new Wire.Reader(data);
            while (r.remaining() > 0) {
                out.add(r.u16());
            }
            return out;
        }
    }
}
