package dev.keyway.tls.handshake;

import dev.keyway.core.encoding.Printable;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.kdf.TrafficKeys;
import dev.keyway.core.keylog.KeyLogLabel;
import dev.keyway.tls.Alert;
import dev.keyway.tls.TlsConfig;
import dev.keyway.tls.TlsException;
import dev.keyway.tls.record.RecordLayer;
import dev.keyway.tls.record.RecordProtection;
import dev.keyway.tls.record.RecordProtection13;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The TLS 1.3 client handshake (RFC 8446 section 4), top to bottom as the RFC draws it:
 * ClientHello, [HelloRetryRequest, ClientHello], ServerHello, {EncryptedExtensions},
 * {CertificateRequest}, {Certificate}, {CertificateVerify}, {Finished}, then the client's
 * [{Certificate}, {CertificateVerify}] and {Finished}. Each step is one method run when its message
 * arrives; the state says which comes next. Every secret goes to the configured KeyLog.
 *
 * <p>The ClientHello is shared with TLS 1.2 when the config allows it (its suites, the extended master
 * secret, renegotiation_info, a kept TLS 1.2 session ID or ticket); a ServerHello that picks TLS 1.2 is
 * checked for the downgrade sentinel and the rest goes to {@link ClientHandshake12}.
 */
public final class ClientHandshake13 extends Handshake {
    static final int TLS13 = 0x0304;
    static final byte[] HRR_RANDOM = dev.keyway.core.encoding.Hex.decode(
            "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c", "HRR random");
    private static final SecureRandom RANDOM = new SecureRandom();
    static final int[] SIGNATURE_ALGORITHMS = {0x0403, 0x0807, 0x0804, 0x0401};

    private enum State { SERVER_HELLO, SERVER_HELLO_AFTER_RETRY, ENCRYPTED_EXTENSIONS, CERTIFICATE_OR_REQUEST, CERTIFICATE,
        CERTIFICATE_VERIFY, FINISHED, DONE }

    /** The last 8 bytes of a TLS 1.3-capable server's random when it negotiates TLS 1.2 (RFC 8446 section 4.1.3). */
    static final byte[] DOWNGRADE_TLS12 = {0x44, 0x4F, 0x57, 0x4E, 0x47, 0x52, 0x44, 0x01};

    private final TlsConfig config;
    private final Transcript transcript = new Transcript();
    private final byte[] clientRandom = new byte[32];
    private final byte[] sessionId;
    private State state = State.SERVER_HELLO;

    // What the steps hand on to the next ones.
    private NamedGroup.ClientShare share;
    /**
     * A second share in the first ClientHello: X25519 beside X25519MLKEM768 when both are listed (as browsers send
     * them), so a server without the hybrid answers at once instead of with a HelloRetryRequest.
     */
    private NamedGroup.ClientShare fallbackShare;
    private Ticket ticket;
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
    /** A kept TLS 1.2 session to offer (session ID and/or ticket), or null. */
    private final Ticket resume12;

    public ClientHandshake13(TlsConfig config, RecordLayer records) {
        super(records);
        this.config = config;
        RANDOM.nextBytes(clientRandom);
        this.resume12 = usableSession12();
        if (resume12 != null && resume12.sessionId().length > 0) {
            this.sessionId = resume12.sessionId().clone();
        } else {
            // middlebox compatibility (RFC 8446 D.4), or the ID that goes with a TLS 1.2 ticket (RFC 5077 section 3.4)
            this.sessionId = new byte[config.middleboxCompatibility() || resume12 != null ? 32 : 0];
            RANDOM.nextBytes(sessionId);
        }
    }

    @Override
    void handle(HandshakeIo.Message m) {
        switch (state) {
            case SERVER_HELLO -> serverHello(HandshakeIo.expect(m, HandshakeIo.SERVER_HELLO, "ServerHello"));
            case SERVER_HELLO_AFTER_RETRY -> serverHelloAfterRetry(HandshakeIo.expect(m, HandshakeIo.SERVER_HELLO, "ServerHello"));
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
            case FINISHED -> finished(HandshakeIo.expect(m, HandshakeIo.FINISHED, "Finished"));
            case DONE -> throw new IllegalStateException("the handshake is over");
        }
    }

    /** ClientHello, with a share for our first group and the configured ticket when it is still good. */
    @Override
    public void start() {
        share = config.allows(TlsVersion.TLS13) ? config.groups().get(0).generate() : null;
        if (share != null && share.group() == NamedGroup.X25519MLKEM768 && config.groups().contains(NamedGroup.X25519)) {
            fallbackShare = NamedGroup.X25519.generate();
        }
        ticket = share != null ? usableTicket() : null;
        if (ticket != null) {
            transcript.algorithm(jcaHash(ticket.suite()));
        }
        byte[] ch = clientHello(share, null, ticket);
        transcript.add(ch);
        io.send(ch);
    }

    private void serverHello(HandshakeIo.Message sh) {
        ServerHello hello = ServerHello.parse(sh.body());
        if (hello.selectedVersion() == TlsVersion.TLS12.code()) {
            tls12(hello, sh);
            return;
        }
        if (!Arrays.equals(hello.random(), HRR_RANDOM)) {
            CipherSuite chosen = checkSuite(hello);
            transcript.algorithm(jcaHash(chosen));
            keysFromServerHello(hello, sh, chosen);
            return;
        }
        // HelloRetryRequest: the server wants a share for another group we listed.
        retrySuite = checkSuite(hello);
        io.records().allowChangeCipherSpecAgain();
        NamedGroup wanted = hello.selectedGroup();
        if (wanted == null || !config.groups().contains(wanted) || wanted == share.group()
                || (fallbackShare != null && wanted == fallbackShare.group())) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "HelloRetryRequest for a group we did not offer or already sent");
        }
        transcript.algorithm(jcaHash(retrySuite));
        transcript.replaceWithMessageHash();
        transcript.add(sh.raw());
        share = wanted.generate();
        fallbackShare = null; // the second ClientHello has the one share asked for (RFC 8446 section 4.1.2)
        if (config.middleboxCompatibility()) {
            io.records().writeChangeCipherSpec();
        }
        if (ticket != null && ticket.suite().hkdfHash() != retrySuite.hkdfHash()) {
            ticket = null; // the binder must use the suite's hash: offer no PSK in the second ClientHello
        }
        byte[] ch2 = clientHello(share, hello.cookie(), ticket);
        transcript.add(ch2);
        io.send(ch2);
        state = State.SERVER_HELLO_AFTER_RETRY;
    }

    /** The server chose TLS 1.2: unless that is a downgrade, the rest is ClientHandshake12's. */
    private void tls12(ServerHello hello, HandshakeIo.Message sh) {
        if (!config.allows(TlsVersion.TLS12)) {
            throw TlsException.fatal(Alert.PROTOCOL_VERSION, "the server chose TLS 1.2, which this client does not offer");
        }
        if (config.allows(TlsVersion.TLS13) && Arrays.equals(Arrays.copyOfRange(hello.random(), 24, 32), DOWNGRADE_TLS12)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the server speaks TLS 1.3 but something forced TLS 1.2: a downgrade");
        }
        CipherSuite chosen = CipherSuites.byCode(hello.suite());
        if (chosen == null || !config.suites(TlsVersion.TLS12).contains(chosen)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, String.format("the server chose suite 0x%04X, which we did not offer", hello.suite()));
        }
        for (int only13 : new int[] {Extensions.KEY_SHARE, Extensions.PRE_SHARED_KEY, Extensions.COOKIE}) {
            if (hello.extensions().containsKey(only13)) {
                throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "a TLS 1.2 ServerHello with TLS 1.3 extension " + only13);
            }
        }
        suite = chosen;
        transcript.algorithm(suite.prfHash() == dev.keyway.core.kdf.Prf12.Hash.SHA384 ? "SHA-384" : "SHA-256");
        transcript.add(sh.raw());
        continueWith(new ClientHandshake12(config, io, transcript, suite, clientRandom, hello.random(), hello.sessionIdEcho(), hello.extensions(),
                alpn(hello.extensions()), resume12, sessionId));
        state = State.DONE; // for this class: ClientHandshake12 has the rest
    }

    private void serverHelloAfterRetry(HandshakeIo.Message sh) {
        ServerHello hello = ServerHello.parse(sh.body());
        if (Arrays.equals(hello.random(), HRR_RANDOM)) {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "a second HelloRetryRequest");
        }
        if (hello.suite() != retrySuite.code()) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the ServerHello changed the suite chosen in the HelloRetryRequest");
        }
        keysFromServerHello(hello, sh, checkSuite(hello));
    }

    /** The ServerHello's checks, then the handshake secrets; from here the server's records are protected. */
    private void keysFromServerHello(ServerHello hello, HandshakeIo.Message sh, CipherSuite chosen) {
        suite = chosen;
        if (!Arrays.equals(hello.sessionIdEcho(), sessionId)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the ServerHello does not echo our session id");
        }
        if (fallbackShare != null && hello.keyShareGroup() == fallbackShare.group()) {
            share = fallbackShare;
        }
        fallbackShare = null;
        if (hello.keyShareGroup() != share.group()) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the server's key share is for a group we did not send");
        }
        transcript.add(sh.raw());

        resumed = hello.pskSelected() >= 0;
        if (resumed && (ticket == null || hello.pskSelected() != 0 || ticket.suite().hkdfHash() != suite.hkdfHash())) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the server selected a PSK we did not offer");
        }
        ks = KeySchedule13.of(suite);
        byte[] shared = share.finish(hello.keyShare());
        byte[] early = ks.earlySecret(resumed ? ticket.psk() : null);
        handshakeSecret = ks.handshakeSecret(early, shared);
        Arrays.fill(shared, (byte) 0);
        byte[] helloHash = transcript.hash();
        clientHandshakeSecret = ks.deriveSecret(handshakeSecret, KeySchedule13.CLIENT_HANDSHAKE_TRAFFIC, helloHash);
        serverHandshakeSecret = ks.deriveSecret(handshakeSecret, KeySchedule13.SERVER_HANDSHAKE_TRAFFIC, helloHash);
        log(KeyLogLabel.CLIENT_HANDSHAKE_TRAFFIC_SECRET, clientHandshakeSecret);
        log(KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET, serverHandshakeSecret);
        io.requireBoundary();
        io.records().setReadProtection(protection(ks, suite, serverHandshakeSecret));
        state = State.ENCRYPTED_EXTENSIONS;
    }

    private void encryptedExtensions(HandshakeIo.Message ee) {
        transcript.add(ee.raw());
        alpn = encryptedExtensions(ee.body());
        // A resumption has no certificates: the ticket stands for them.
        state = resumed ? State.FINISHED : State.CERTIFICATE_OR_REQUEST;
    }

    private void certificateRequest(HandshakeIo.Message m) {
        transcript.add(m.raw());
        Wire.Reader r = new Wire.Reader(m.body());
        requestContext = r.vec8();
        r.vec16();
        r.end("CertificateRequest");
        state = State.CERTIFICATE;
    }

    private void certificate(HandshakeIo.Message m) {
        transcript.add(m.raw());
        chain = PeerCertificates.parse(CertificateMessage.parse(m.body(), false));
        PeerCertificates.validateServer(chain, config, TlsVersion.TLS13, suite);
        state = State.CERTIFICATE_VERIFY;
    }

    private void certificateVerify(HandshakeIo.Message cv) {
        CertificateVerifyMessage.verify(cv.body(), chain.get(0).getPublicKey(), true, transcript.hash());
        transcript.add(cv.raw());
        state = State.FINISHED;
    }

    /** The server's Finished, then our flight: [ChangeCipherSpec] {Certificate, CertificateVerify} {Finished}. */
    private void finished(HandshakeIo.Message fin) {
        byte[] expected = ks.finishedVerifyData(serverHandshakeSecret, transcript.hash());
        if (fin.body().length != expected.length) {
            // verify_data is exactly Hash.length bytes (RFC 8446 section 4.4.4): another length is malformed.
            throw TlsException.fatal(Alert.DECODE_ERROR, "the server's Finished has " + fin.body().length + " bytes, not " + expected.length);
        }
        if (!MessageDigest.isEqual(expected, fin.body())) {
            throw TlsException.fatal(Alert.DECRYPT_ERROR, "the server's Finished does not verify");
        }
        transcript.add(fin.raw());
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
        io.records().setWriteProtection(protection(ks, suite, clientHandshakeSecret));
        if (requestContext != null) {
            byte[] cert = Wire.message(HandshakeIo.CERTIFICATE, CertificateMessage.encode(requestContext, config.certificateChain()));
            transcript.add(cert);
            io.send(cert);
            if (!config.certificateChain().isEmpty()) {
                byte[] verify = Wire.message(HandshakeIo.CERTIFICATE_VERIFY,
                        CertificateVerifyMessage.sign(config.privateKey(), false, transcript.hash()));
                transcript.add(verify);
                io.send(verify);
            }
        }
        byte[] clientFinished = Wire.message(HandshakeIo.FINISHED, ks.finishedVerifyData(clientHandshakeSecret, transcript.hash()));
        transcript.add(clientFinished);
        io.send(clientFinished);
        byte[] resumption = ks.deriveSecret(master, KeySchedule13.RESUMPTION_MASTER, transcript.hash());

        io.records().setWriteProtection(protection(ks, suite, cAp));
        io.records().setReadProtection(protection(ks, suite, sAp));
        io.records().handshakeDone();
        Arrays.fill(handshakeSecret, (byte) 0);
        Arrays.fill(master, (byte) 0);
        Arrays.fill(clientHandshakeSecret, (byte) 0);
        Arrays.fill(serverHandshakeSecret, (byte) 0);
        state = State.DONE;
        complete(new HandshakeResult(suite, share.group(), chain, resumed, alpn, config.serverName(), clientRandom.clone(),
                cAp, sAp, exporter, resumption, ks));
    }

    private CipherSuite checkSuite(ServerHello hello) {
        if (hello.selectedVersion() != TLS13) {
            throw TlsException.fatal(Alert.PROTOCOL_VERSION, String.format("the server chose version 0x%04X; Keyway speaks TLS 1.3 here",
                    hello.selectedVersion()));
        }
        CipherSuite suite = CipherSuites.byCode(hello.suite());
        if (suite == null || !config.suites(TlsVersion.TLS13).contains(suite)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, String.format("the server chose suite 0x%04X, which we did not offer", hello.suite()));
        }
        return suite;
    }

    static String jcaHash(CipherSuite suite) {
        return suite.hkdfHash() == dev.keyway.core.kdf.Hkdf.Hash.SHA384 ? "SHA-384" : "SHA-256";
    }

    static RecordProtection protection(KeySchedule13 ks, CipherSuite suite, byte[] secret) {
        TrafficKeys keys = ks.trafficKeys(secret, suite.cipher().keyLength());
        try {
            return new RecordProtection13(suite.cipher(), keys.key(), keys.iv());
        } finally {
            keys.destroy();
        }
    }

    private void log(KeyLogLabel label, byte[] secret) {
        config.keyLog().log(label.name(), clientRandom, secret);
    }

    private String encryptedExtensions(byte[] body) {
        Wire.Reader r = new Wire.Reader(body);
        Map<Integer, byte[]> ext = Extensions.parse(r.vec16());
        r.end("EncryptedExtensions");
        for (int forbidden : new int[] {Extensions.KEY_SHARE, Extensions.SUPPORTED_VERSIONS, Extensions.PRE_SHARED_KEY,
                Extensions.SIGNATURE_ALGORITHMS, Extensions.COOKIE, Extensions.PSK_KEY_EXCHANGE_MODES}) {
            if (ext.containsKey(forbidden)) {
                throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "extension " + forbidden + " does not belong in EncryptedExtensions");
            }
        }
        return alpn(ext);
    }

    /** The protocol the server chose from our ALPN list, or null. */
    private String alpn(Map<Integer, byte[]> ext) {
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

    /** The configured TLS 1.3 ticket, when it is still fresh and its suite is one we offer. */
    private Ticket usableTicket() {
        return usable(TlsVersion.TLS13);
    }

    /** The configured TLS 1.2 session, when TLS 1.2 is on, it is fresh and its suite is one we offer. */
    private Ticket usableSession12() {
        return usable(TlsVersion.TLS12);
    }

    private Ticket usable(TlsVersion version) {
        Ticket t = config.resumeWith();
        if (t == null || !config.allows(version) || !config.suites(version).contains(t.suite())
                || !java.util.Objects.equals(t.serverName(), config.serverName())) {
            return null; // a ticket resumes only with the server name whose certificate it stands for
        }
        long ageMs = config.clock().millis() - t.receivedAt().toEpochMilli();
        return ageMs >= 0 && ageMs < t.lifetimeSeconds() * 1000 ? t : null;
    }

    private byte[] clientHello(NamedGroup.ClientShare share, byte[] cookie, Ticket ticket) {
        Wire.Writer ext = new Wire.Writer();
        if (config.serverName() != null && !config.serverName().matches("[0-9.]+|.*:.*")) {
            byte[] name = config.serverName().getBytes(StandardCharsets.US_ASCII);
            Extensions.add(ext, Extensions.SERVER_NAME, new Wire.Writer().vec16(new Wire.Writer().u8(0).vec16(name).toByteArray()).toByteArray());
        }
        Wire.Writer groups = new Wire.Writer();
        for (NamedGroup g : config.groups()) {
            groups.u16(g.code());
        }
        Extensions.add(ext, Extensions.SUPPORTED_GROUPS, new Wire.Writer().vec16(groups.toByteArray()).toByteArray());
        Wire.Writer sigs = new Wire.Writer();
        for (int s : SIGNATURE_ALGORITHMS) {
            sigs.u16(s);
        }
        Extensions.add(ext, Extensions.SIGNATURE_ALGORITHMS, new Wire.Writer().vec16(sigs.toByteArray()).toByteArray());
        if (!config.alpn().isEmpty()) {
            Wire.Writer protos = new Wire.Writer();
            for (String p : config.alpn()) {
                protos.vec8(p.getBytes(StandardCharsets.US_ASCII));
            }
            Extensions.add(ext, Extensions.ALPN, new Wire.Writer().vec16(protos.toByteArray()).toByteArray());
        }
        Wire.Writer versions = new Wire.Writer();
        for (TlsVersion v : config.versions()) {
            versions.u16(v.code());
        }
        Extensions.add(ext, Extensions.SUPPORTED_VERSIONS, new Wire.Writer().vec8(versions.toByteArray()).toByteArray());
        if (config.allows(TlsVersion.TLS12)) {
            // TLS 1.2 needs: the extended master secret (RFC 7627), secure renegotiation's empty
            // renegotiation_info (RFC 5746), and uncompressed points only (RFC 8422 section 5.1.2).
            Extensions.add(ext, Extensions.EXTENDED_MASTER_SECRET, new byte[0]);
            Extensions.add(ext, Extensions.RENEGOTIATION_INFO, new byte[] {0});
            Extensions.add(ext, Extensions.EC_POINT_FORMATS, new byte[] {1, 0});
            // RFC 5077: our ticket, or an empty one to ask for a ticket
            Extensions.add(ext, Extensions.SESSION_TICKET, resume12 != null ? resume12.ticket() : new byte[0]);
        }
        if (share != null) {
            Extensions.add(ext, Extensions.PSK_KEY_EXCHANGE_MODES, new Wire.Writer().vec8(new byte[] {1}).toByteArray());
            if (cookie != null) {
                Extensions.add(ext, Extensions.COOKIE, new Wire.Writer().vec16(cookie).toByteArray());
            }
            Wire.Writer entries = new Wire.Writer().u16(share.group().code()).vec16(share.keyExchange());
            if (fallbackShare != null) {
                entries.u16(fallbackShare.group().code()).vec16(fallbackShare.keyExchange());
            }
            Extensions.add(ext, Extensions.KEY_SHARE, new Wire.Writer().vec16(entries.toByteArray()).toByteArray());
        }
        int binderLength = 0;
        if (ticket != null) {
            // pre_shared_key must be last; its binder is filled in below, over the ClientHello without the binders.
            long age = (config.clock().millis() - ticket.receivedAt().toEpochMilli() + ticket.ageAdd()) & 0xffffffffL;
            byte[] identities = new Wire.Writer().vec16(ticket.ticket()).u32(age).toByteArray();
            binderLength = ticket.suite().hkdfHash().length();
            byte[] binders = new Wire.Writer().vec8(new byte[binderLength]).toByteArray();
            Extensions.add(ext, Extensions.PRE_SHARED_KEY, new Wire.Writer().vec16(identities).vec16(binders).toByteArray());
        }

        Wire.Writer suites = new Wire.Writer();
        for (TlsVersion v : config.versions()) {
            for (CipherSuite s : config.suites(v)) {
                suites.u16(s.code());
            }
        }
        byte[] body = new Wire.Writer().u16(0x0303).bytes(clientRandom).vec8(sessionId).vec16(suites.toByteArray())
                .vec8(new byte[] {0}).vec16(ext.toByteArray()).toByteArray();
        byte[] message = Wire.message(HandshakeIo.CLIENT_HELLO, body);
        if (ticket != null) {
            KeySchedule13 ks = KeySchedule13.of(ticket.suite());
            byte[] truncated = Arrays.copyOf(message, message.length - (2 + 1 + binderLength));
            byte[] binder = ks.finishedVerifyData(ks.binderKey(ks.earlySecret(ticket.psk()), true), transcript.hashWith(truncated));
            System.arraycopy(binder, 0, message, message.length - binderLength, binderLength);
        }
        return message;
    }

    /** The fields of a ServerHello (or HelloRetryRequest) a client needs. */
    record ServerHello(byte[] random, byte[] sessionIdEcho, int suite, int selectedVersion, NamedGroup keyShareGroup,
                       byte[] keyShare, NamedGroup selectedGroup, byte[] cookie, int pskSelected, Map<Integer, byte[]> extensions) {
        static ServerHello parse(byte[] body) {
            Wire.Reader r = new Wire.Reader(body);
            int legacy = r.u16();
            byte[] random = r.bytes(32);
            byte[] sid = r.vec8();
            int suite = r.u16();
            if (r.u8() != 0) {
                throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the ServerHello has a compression method");
            }
            Map<Integer, byte[]> ext = r.remaining() > 0 ? Extensions.parse(r.vec16()) : Map.of();
            r.end("ServerHello");
            int version = legacy;
            byte[] sv = ext.get(Extensions.SUPPORTED_VERSIONS);
            if (sv != null) {
                Wire.Reader v = new Wire.Reader(sv);
                version = v.u16();
                v.end("supported_versions");
            }
            boolean hrr = Arrays.equals(random, HRR_RANDOM);
            NamedGroup group = null;
            byte[] share = null;
            NamedGroup selected = null;
            byte[] ks = ext.get(Extensions.KEY_SHARE);
            if (ks != null) {
                Wire.Reader k = new Wire.Reader(ks);
                int code = k.u16();
                if (hrr) {
                    selected = NamedGroup.ofCode(code);
                } else {
                    group = NamedGroup.ofCode(code);
                    share = k.vec16();
                }
                k.end("key_share");
            } else if (version == TLS13) {
                throw TlsException.fatal(Alert.MISSING_EXTENSION, "the ServerHello has no key_share (PSK-only modes are not offered)");
            }
            byte[] cookie = null;
            byte[] c = ext.get(Extensions.COOKIE);
            if (c != null) {
                Wire.Reader k = new Wire.Reader(c);
                cookie = k.vec16();
                k.end("cookie");
            }
            int psk = -1;
            byte[] p = ext.get(Extensions.PRE_SHARED_KEY);
            if (p != null) {
                Wire.Reader k = new Wire.Reader(p);
                psk = k.u16();
                k.end("pre_shared_key");
            }
            return new ServerHello(random, sid, suite, version, group, share, selected, cookie, psk, ext);
        }
    }

    static List<Integer> codes(int[] values) {
        List<Integer> out = new ArrayList<>();
        for (int v : values) {
            out.add(v);
        }
        return out;
    }
}
