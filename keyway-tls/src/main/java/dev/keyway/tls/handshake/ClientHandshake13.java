package dev.keyway.tls.handshake;

import dev.keyway.core.encoding.Printable;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.keylog.KeyLogLabel;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordProtection13;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The TLS 1.3 client handshake (RFC 8446 section 4) from the ServerHello on, top to bottom as the RFC draws it:
 * [HelloRetryRequest, ClientHello], ServerHello, {EncryptedExtensions}, {CertificateRequest}, {Certificate},
 * {CertificateVerify}, {Finished}, then the client's [{Certificate}, {CertificateVerify}] and {Finished}. Each
 * step is one method run when its message arrives; the state says which comes next. Every secret goes to the
 * configured KeyLog. {@link ClientHandshake} sent the first ClientHello and chose TLS 1.3.
 */
final class ClientHandshake13 implements Handshake.Flow {
    private enum State { SERVER_HELLO, SERVER_HELLO_AFTER_RETRY, ENCRYPTED_EXTENSIONS, CERTIFICATE_OR_REQUEST, CERTIFICATE,
        CERTIFICATE_VERIFY, FINISHED, DONE }

    private final ClientOffer offer;
    private final TlsConfig config;
    private final HandshakeIo io;
    private final Transcript transcript;
    private State state = State.SERVER_HELLO;

    // What the steps hand on to the next ones.
    private CipherSuite retrySuite;
    private CipherSuite suite;
    private boolean resumed;
    private KeySchedule13 ks;
    private byte[] handshakeSecret;
    private byte[] clientHandshakeSecret;
    private byte[] serverHandshakeSecret;
    private String alpn;
    private byte[] requestContext;
    private List<X509Certificate> chain = List.of();

    ClientHandshake13(ClientOffer offer, HandshakeIo io) {
        this.offer = offer;
        this.config = offer.config;
        this.io = io;
        this.transcript = offer.transcript;
    }

    @Override
    public HandshakeResult handle(HandshakeIo.Message m) {
        switch (state) {
            case SERVER_HELLO -> throw new IllegalStateException("ClientHandshake hands over the first ServerHello");
            case SERVER_HELLO_AFTER_RETRY -> serverHelloAfterRetry(
                    ServerHello.parseAsClient(HandshakeIo.expect(m, HandshakeIo.SERVER_HELLO, "ServerHello").body()), m.raw());
            case ENCRYPTED_EXTENSIONS -> encryptedExtensions(HandshakeIo.expect(m, HandshakeIo.ENCRYPTED_EXTENSIONS, "EncryptedExtensions"));
            case CERTIFICATE_OR_REQUEST -> {
                if (m.type() == HandshakeIo.CERTIFICATE_REQUEST) {
                    certificateRequest(m);
                } else {
                    certificate(HandshakeIo.expect(m, HandshakeIo.CERTIFICATE, "Certificate"));
                }
            }
            case CERTIFICATE -> certificate(HandshakeIo.expect(m, HandshakeIo.CERTIFICATE, "Certificate"));
            case CERTIFICATE_VERIFY -> certificateVerify(HandshakeIo.expect(m, HandshakeIo.CERTIFICATE_VERIFY, "CertificateVerify"));
            case FINISHED -> {
                return finished(HandshakeIo.expect(m, HandshakeIo.FINISHED, "Finished"));
            }
            case DONE -> throw new IllegalStateException("the handshake is over");
        }
        return null;
    }

    /** The first ServerHello (the version is TLS 1.3, or nothing we speak), or a HelloRetryRequest. */
    void serverHello(ServerHello hello, byte[] raw) {
        if (!hello.retry()) {
            CipherSuite chosen = checkSuite(hello);
            transcript.algorithm(chosen);
            keysFromServerHello(hello, raw, chosen);
            return;
        }
        // HelloRetryRequest: the server wants a share for another group we listed.
        retrySuite = checkSuite(hello);
        io.records().allowChangeCipherSpecAgain();
        NamedGroup wanted = hello.selectedGroup();
        if (wanted == null || !config.groups().contains(wanted) || wanted == offer.share.group()
                || (offer.fallbackShare != null && wanted == offer.fallbackShare.group())) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "HelloRetryRequest for a group we did not offer or already sent");
        }
        transcript.algorithm(retrySuite);
        transcript.replaceWithMessageHash();
        transcript.add(raw);
        offer.share = wanted.generate();
        offer.fallbackShare = null; // the second ClientHello has the one share asked for (RFC 8446 section 4.1.2)
        if (config.middleboxCompatibility()) {
            io.records().writeChangeCipherSpec();
        }
        if (offer.ticket != null && offer.ticket.suite().hkdfHash() != retrySuite.hkdfHash()) {
            offer.ticket = null; // the binder must use the suite's hash: offer no PSK in the second ClientHello
        }
        byte[] ch2 = offer.hello(hello.cookie()).encode();
        transcript.add(ch2);
        io.send(ch2);
        state = State.SERVER_HELLO_AFTER_RETRY;
    }

    private void serverHelloAfterRetry(ServerHello hello, byte[] raw) {
        if (hello.retry()) {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "a second HelloRetryRequest");
        }
        if (hello.suite() != retrySuite.code()) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the ServerHello changed the suite chosen in the HelloRetryRequest");
        }
        keysFromServerHello(hello, raw, checkSuite(hello));
    }

    /** The ServerHello's checks, then the handshake secrets; from here the server's records are protected. */
    private void keysFromServerHello(ServerHello hello, byte[] raw, CipherSuite chosen) {
        suite = chosen;
        if (!Arrays.equals(hello.sessionIdEcho(), offer.sessionId)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the ServerHello does not echo our session id");
        }
        if (offer.fallbackShare != null && hello.keyShareGroup() == offer.fallbackShare.group()) {
            offer.share = offer.fallbackShare;
        }
        offer.fallbackShare = null;
        if (hello.keyShareGroup() != offer.share.group()) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the server's key share is for a group we did not send");
        }
        transcript.add(raw);

        resumed = hello.pskSelected() >= 0;
        if (resumed && (offer.ticket == null || hello.pskSelected() != 0 || offer.ticket.suite().hkdfHash() != suite.hkdfHash())) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the server selected a PSK we did not offer");
        }
        ks = KeySchedule13.of(suite);
        byte[] shared = offer.share.finish(hello.keyShare());
        byte[] early = ks.earlySecret(resumed ? offer.ticket.psk() : null);
        handshakeSecret = ks.handshakeSecret(early, shared);
        Arrays.fill(shared, (byte) 0);
        byte[] helloHash = transcript.hash();
        clientHandshakeSecret = ks.deriveSecret(handshakeSecret, KeySchedule13.CLIENT_HANDSHAKE_TRAFFIC, helloHash);
        serverHandshakeSecret = ks.deriveSecret(handshakeSecret, KeySchedule13.SERVER_HANDSHAKE_TRAFFIC, helloHash);
        log(KeyLogLabel.CLIENT_HANDSHAKE_TRAFFIC_SECRET, clientHandshakeSecret);
        log(KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET, serverHandshakeSecret);
        io.requireBoundary();
        io.records().setReadProtection(RecordProtection13.of(ks, suite, serverHandshakeSecret));
        state = State.ENCRYPTED_EXTENSIONS;
    }

    private void encryptedExtensions(HandshakeIo.Message m) {
        transcript.add(m.raw());
        Map<Integer, byte[]> ext = HandshakeMessage.EncryptedExtensions.parse(m.body()).extensions();
        for (int forbidden : new int[] {Extensions.KEY_SHARE, Extensions.SUPPORTED_VERSIONS, Extensions.PRE_SHARED_KEY,
                Extensions.SIGNATURE_ALGORITHMS, Extensions.COOKIE, Extensions.PSK_KEY_EXCHANGE_MODES}) {
            if (ext.containsKey(forbidden)) {
                throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "extension " + forbidden + " does not belong in EncryptedExtensions");
            }
        }
        alpn = alpn(config, ext);
        // A resumption has no certificates: the ticket stands for them.
        state = resumed ? State.FINISHED : State.CERTIFICATE_OR_REQUEST;
    }

    private void certificateRequest(HandshakeIo.Message m) {
        transcript.add(m.raw());
        requestContext = HandshakeMessage.CertificateRequest13.parse(m.body()).context();
        state = State.CERTIFICATE;
    }

    private void certificate(HandshakeIo.Message m) {
        transcript.add(m.raw());
        chain = PeerCertificates.parse(CertificateMessage.parse13(m.body(), false, null).certificates());
        PeerCertificates.validateServer(chain, config, TlsVersion.TLS13, suite);
        state = State.CERTIFICATE_VERIFY;
    }

    private void certificateVerify(HandshakeIo.Message m) {
        CertificateVerifyMessage.parse(m.body()).verify13(chain.get(0).getPublicKey(), true, transcript.hash());
        transcript.add(m.raw());
        state = State.FINISHED;
    }

    /** The server's Finished, then our flight: [ChangeCipherSpec] {Certificate, CertificateVerify} {Finished}. */
    private HandshakeResult finished(HandshakeIo.Message m) {
        byte[] received = HandshakeMessage.Finished.parse(m.body()).verifyData();
        byte[] expected = ks.finishedVerifyData(serverHandshakeSecret, transcript.hash());
        if (received.length != expected.length) {
            // verify_data is exactly Hash.length bytes (RFC 8446 section 4.4.4): another length is malformed.
            throw TlsException.fatal(Alert.DECODE_ERROR, "the server's Finished has " + received.length + " bytes, not " + expected.length);
        }
        if (!MessageDigest.isEqual(expected, received)) {
            throw TlsException.fatal(Alert.DECRYPT_ERROR, "the server's Finished does not verify");
        }
        transcript.add(m.raw());
        io.requireBoundary();
        byte[] master = ks.masterSecret(handshakeSecret);
        byte[] serverFinishedHash = transcript.hash();
        byte[] cAp = ks.deriveSecret(master, KeySchedule13.CLIENT_APPLICATION_TRAFFIC, serverFinishedHash);
        byte[] sAp = ks.deriveSecret(master, KeySchedule13.SERVER_APPLICATION_TRAFFIC, serverFinishedHash);
        byte[] exporter = ks.deriveSecret(master, KeySchedule13.EXPORTER_MASTER, serverFinishedHash);
        log(KeyLogLabel.CLIENT_TRAFFIC_SECRET_0, cAp);
        log(KeyLogLabel.SERVER_TRAFFIC_SECRET_0, sAp);
        log(KeyLogLabel.EXPORTER_SECRET, exporter);

        if (config.middleboxCompatibility() && retrySuite == null) {
            io.records().writeChangeCipherSpec();
        }
        io.records().setWriteProtection(RecordProtection13.of(ks, suite, clientHandshakeSecret));
        if (requestContext != null) {
            send(CertificateMessage.of13(requestContext, config.certificateChain()));
            if (!config.certificateChain().isEmpty()) {
                send(CertificateVerifyMessage.sign13(config.privateKey(), false, transcript.hash()));
            }
        }
        send(new HandshakeMessage.Finished(ks.finishedVerifyData(clientHandshakeSecret, transcript.hash())));
        byte[] resumption = ks.deriveSecret(master, KeySchedule13.RESUMPTION_MASTER, transcript.hash());

        io.records().setWriteProtection(RecordProtection13.of(ks, suite, cAp));
        io.records().setReadProtection(RecordProtection13.of(ks, suite, sAp));
        io.records().handshakeDone();
        Arrays.fill(handshakeSecret, (byte) 0);
        Arrays.fill(master, (byte) 0);
        Arrays.fill(clientHandshakeSecret, (byte) 0);
        Arrays.fill(serverHandshakeSecret, (byte) 0);
        state = State.DONE;
        return new HandshakeResult(suite, offer.share.group(), chain, resumed, alpn, config.serverName(), offer.clientRandom.clone(),
                cAp, sAp, exporter, resumption, ks);
    }

    private CipherSuite checkSuite(ServerHello hello) {
        if (hello.selectedVersion() != ServerHello.TLS13) {
            throw TlsException.fatal(Alert.PROTOCOL_VERSION, String.format("the server chose version 0x%04X; Keyway speaks TLS 1.3 here",
                    hello.selectedVersion()));
        }
        CipherSuite suite = CipherSuites.byCode(hello.suite());
        if (suite == null || !config.suites(TlsVersion.TLS13).contains(suite)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, String.format("the server chose suite 0x%04X, which we did not offer", hello.suite()));
        }
        return suite;
    }

    private void log(KeyLogLabel label, byte[] secret) {
        config.keyLog().log(label.name(), offer.clientRandom, secret);
    }

    private void send(HandshakeMessage message) {
        byte[] raw = message.encode();
        transcript.add(raw);
        io.send(raw);
    }

    /** The protocol the server chose from our ALPN list (EncryptedExtensions, or a TLS 1.2 ServerHello), or null. */
    static String alpn(TlsConfig config, Map<Integer, byte[]> ext) {
        byte[] alpn = ext.get(Extensions.ALPN);
        if (alpn == null) {
            return null;
        }
        Wire.Reader a = new Wire.Reader(alpn);
        Wire.Reader list = new Wire.Reader(a.vec16());
        a.end("ALPN");
        String chosen = new String(list.vec8(), StandardCharsets.US_ASCII);
        list.end("ALPN");
        if (!config.alpn().contains(chosen)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the server chose ALPN protocol '" + Printable.escape(chosen) + "', which we did not offer");
        }
        return chosen;
    }
}
