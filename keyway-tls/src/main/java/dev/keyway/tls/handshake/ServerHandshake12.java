package dev.keyway.tls.handshake;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.KeyBlock12;
import dev.keyway.core.kdf.Prf12;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.keylog.KeyLogLabel;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordProtection12;
import dev.keyway.tls.session.SessionStore;
import org.bouncycastle.crypto.params.RSAKeyParameters;
import org.bouncycastle.crypto.tls.TlsRsaKeyExchange;
import org.bouncycastle.crypto.util.PrivateKeyFactory;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * The TLS 1.2 server handshake after a ClientHello that did not get TLS 1.3 (RFC 5246 section 7.3, ECDHE as
 * in RFC 8422): ServerHello, Certificate, ServerKeyExchange (our ECDHE share, signed), [CertificateRequest],
 * ServerHelloDone; then the client's [Certificate], ClientKeyExchange, [CertificateVerify], ChangeCipherSpec
 * and Finished; then our ChangeCipherSpec and Finished. Secure renegotiation (RFC 5746) is required of the
 * client, and so is the extended master secret (RFC 7627) unless the config allows old peers without it; such a
 * session gets the RFC 5246 master secret and is neither stored nor sealed into a ticket. When this server also speaks TLS 1.3, its
 * random ends with the downgrade sentinel (RFC 8446 section 4.1.3).
 *
 * <p>Resumption (the abbreviated handshake, RFC 5246 section 7.3 and RFC 5077 section 3.1): a client that
 * presents a session ticket we can open, or a session ID in our store, gets ServerHello, [NewSessionTicket],
 * ChangeCipherSpec and Finished at once and answers with its ChangeCipherSpec and Finished. A full handshake
 * puts its session in the store under a fresh ID and, when the client asked for one, sends a ticket.
 */
final class ServerHandshake12 implements Handshake.Flow {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 section 3.3). */
    private static final int RENEGOTIATION_SCSV = 0x00FF;
    /** The curves of RFC 8422 section 5.1.1 (and x25519, x448): a client naming one uses ec_point_formats as that RFC says. */
    private static final List<Integer> RFC8422_CURVES = List.of(23, 24, 25, 29, 30);
    /** The longest a session-cache entry lives (RFC 5246 appendix F.1.4; every SessionStore enforces it). */
    private static final Duration MAX_CACHED = Duration.ofHours(24);

    private enum State { CLIENT_CERTIFICATE, CLIENT_KEY_EXCHANGE, CLIENT_CERTIFICATE_VERIFY, CHANGE_CIPHER_SPEC, FINISHED, DONE }

    /** The session ID of a resumable session; empty when there is no store. */
    private final byte[] sessionId;
    /** The client asked for a ticket (session_ticket) and we can seal one. */
    private final boolean sendTicket;
    /** The session resumed, or null in a full handshake. */
    private final ResumptionState resumed;
    /** The client sent extended_master_secret, so we answer with it and derive the master secret from the session hash (RFC 7627). */
    private final boolean extendedMasterSecret;
    /** The client sent renegotiation_info or its SCSV (RFC 5746); only an old peer allowed by the config may not. */
    private final boolean signalsSecureRenegotiation;
    /** ClientHello.client_version (legacy_version). */
    private final int clientVersion;

    private final TlsConfig config;
    private final HandshakeIo io;
    private final Transcript transcript = new Transcript();
    private final ClientHello hello;
    private final CipherSuite suite;
    private final NamedGroup group;
    private final byte[] serverRandom = new byte[32];
    private final String alpn;
    private State state;

    private NamedGroup.ClientShare share;
    /** The client's chain: from its Certificate, or in a resumption the sealed one, checked again. */
    private List<X509Certificate> clientChain = List.of();
    private byte[] masterSecret;
    private KeyBlock12 keys;

    /** Answers the ClientHello with our whole first flight. */
    ServerHandshake12(TlsConfig config, HandshakeIo io, ClientHello ch, byte[] chRaw) {
        this.config = config;
        this.io = io;
        this.hello = ch;
        // ClientHello.client_version, which the client also writes into an RSA pre-master secret (RFC 5246 section 7.4.7.1)
        this.clientVersion = ch.legacyVersion();
        ClientHelloChecks.checkTls12(ch.extensions());
        if (ch.suites().contains(ServerHandshake.FALLBACK_SCSV) && config.allows(TlsVersion.TLS13)) {
            // RFC 7507 section 3: the client fell back to TLS 1.2 although we speak TLS 1.3
            throw TlsException.fatal(Alert.INAPPROPRIATE_FALLBACK, "the client fell back to TLS 1.2 (TLS_FALLBACK_SCSV), but this server speaks TLS 1.3");
        }
        this.extendedMasterSecret = Extensions.extendedMasterSecret(config, ch.extensions().get(Extensions.EXTENDED_MASTER_SECRET), "client");
        this.signalsSecureRenegotiation = secureRenegotiation(ch, config);
        byte[] formats = ch.extensions().get(Extensions.EC_POINT_FORMATS);
        if (formats != null && !ClientHelloChecks.offersUncompressedPoints(formats) && ch.groups().stream().anyMatch(RFC8422_CURVES::contains)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "ec_point_formats without the uncompressed format (RFC 8422 section 5.1.2)");
        }
        // A session without the extended master secret is never resumed (RFC 7627 section 5.3): no ticket for it.
        this.sendTicket = extendedMasterSecret && ch.extensions().containsKey(Extensions.SESSION_TICKET) && config.ticketKeys() != null
                && config.ticketCount() > 0;
        this.resumed = resumable(ch);
        this.alpn = ServerHandshake.chooseAlpn(config, ch);
        io.records().deliverChangeCipherSpec(true);
        RANDOM.nextBytes(serverRandom);
        if (config.allows(TlsVersion.TLS13)) {
            System.arraycopy(ServerHello.DOWNGRADE_TLS12, 0, serverRandom, 24, 8);
        }
        if (resumed != null) {
            // The abbreviated handshake: the same suite and master secret, new randoms, so new keys.
            this.suite = resumed.suite();
            this.group = null;
            this.sessionId = ch.sessionId();
            transcript.algorithm(suite);
            transcript.add(chRaw);
            serverHello();
            masterSecret = resumed.psk();
            config.keyLog().log(KeyLogLabel.CLIENT_RANDOM.name(), hello.random(), masterSecret);
            keys = Prf12.keyBlock(suite, TlsVersion.TLS12, masterSecret, hello.random(), serverRandom);
            finishedFlight();
            state = State.CHANGE_CIPHER_SPEC;
            return;
        }
        SignatureScheme scheme = signatureScheme(ch);
        NamedGroup common = chooseGroup(ch);
        this.suite = chooseSuite(ch, scheme, common);
        this.group = suite.keyExchange() == CipherSuite.KeyExchange.RSA ? null : common;
        // Without EMS the session gets an ID like any other but is never stored, so it is never resumed (RFC 7627
        // section 5.3): a client that offers the ID again finds nothing and gets a full handshake.
        this.sessionId = new byte[config.sessionStore() != null ? 32 : 0];
        RANDOM.nextBytes(sessionId);
        transcript.algorithm(suite);
        transcript.add(chRaw);
        serverHello();
        send(CertificateMessage.of12(config.certificateChain()));

        if (group != null) {
            share = group.generate();
            byte[] signed = Tls12Messages.ServerKeyExchange.signed(ch.random(), serverRandom, group.code(), share.keyExchange());
            byte[] signature = scheme.sign(config.privateKey(), signed);
            send(new Tls12Messages.ServerKeyExchange(group.code(), share.keyExchange(), scheme.code(), signature));
        }
        if (config.requireClientCertificate()) {
            send(Tls12Messages.CertificateRequest12.ours());
        }
        send(new Tls12Messages.ServerHelloDone());
        state = config.requireClientCertificate() ? State.CLIENT_CERTIFICATE : State.CLIENT_KEY_EXCHANGE;
    }

    private void serverHello() {
        Map<Integer, byte[]> ext = new LinkedHashMap<>();
        if (signalsSecureRenegotiation) { // answered only to a client that asked (RFC 5746 section 3.6)
            ext.put(Extensions.RENEGOTIATION_INFO, new byte[] {0});
        }
        if (extendedMasterSecret) {
            ext.put(Extensions.EXTENDED_MASTER_SECRET, new byte[0]);
        }
        if (resumed == null && group != null && hello.extensions().containsKey(Extensions.EC_POINT_FORMATS)) {
            // only an extension the client sent may come back (RFC 5246 section 7.4.1.4)
            ext.put(Extensions.EC_POINT_FORMATS, new byte[] {1, 0});
        }
        if (sendTicket) {
            ext.put(Extensions.SESSION_TICKET, new byte[0]);
        }
        if (alpn != null) {
            ext.put(Extensions.ALPN, Extensions.alpn(alpn));
        }
        send(new ServerHello(TlsVersion.TLS12.code(), serverRandom, sessionId, suite.code(), ext, true));
    }

    /**
     * The session the client asks to resume, when we have it and may resume it: its ticket opens (or its
     * session ID is in the store), it is a TLS 1.2 session with a suite the client still offers, for the same
     * server name, not expired, and with a client chain that our current trust anchors still accept when we
     * require one ({@link ResumptionState#clientChainAuthorizedBy}). Null means a full handshake.
     */
    private ResumptionState resumable(ClientHello ch) {
        byte[] ticket = ch.extensions().get(Extensions.SESSION_TICKET);
        byte[] sealed = null;
        boolean fromStore = false;
        if (ticket != null && ticket.length > 0 && config.ticketKeys() != null) {
            sealed = ticket;
        } else if (ch.sessionId().length > 0 && config.sessionStore() != null) {
            sealed = config.sessionStore().get(ch.sessionId());
            fromStore = true;
        }
        if (sealed == null || config.ticketKeys() == null) {
            return null;
        }
        byte[] opened = config.ticketKeys().open(sealed);
        ResumptionState state = opened == null ? null : ResumptionState.decode(opened);
        if (state == null || state.suite().tls13() || !ch.suites().contains(state.suite().code())
                || !config.suites(TlsVersion.TLS12).contains(state.suite()) || state.psk().length != Prf12.MASTER_SECRET_LENGTH
                || !Objects.equals(state.serverName(), ch.serverName())) {
            return null;
        }
        long ageMs = config.clock().millis() - state.created().toEpochMilli();
        if (ageMs < -10_000 || ageMs > state.lifetimeSeconds() * 1000) {
            if (fromStore) {
                config.sessionStore().remove(ch.sessionId());
            }
            return null;
        }
        if (ticket != null && ticket.length > 0 && ch.sessionId().length == 0) {
            return null; // RFC 5077 section 3.4: without a session ID the client could not tell we resumed
        }
        if (!extendedMasterSecret) {
            // Every session we keep was made with the extended master secret (we keep none without it), and
            // RFC 7627 section 5.3 says to abort, not to fall back to a full handshake, when a ClientHello
            // without the extension asks to resume one.
            throw TlsException.fatal(Alert.HANDSHAKE_FAILURE,
                    "the client asks to resume a session made with the extended master secret (RFC 7627) without offering it");
        }
        // Last, being the costly check: a path validation. A session that no longer passes it stays in the store,
        // which other servers with other trust anchors may share; this one does a full handshake.
        List<X509Certificate> client = state.clientChainAuthorizedBy(config);
        if (client == null) {
            return null;
        }
        clientChain = client;
        return state;
    }

    /**
     * RFC 5746 section 3.6: the client signals secure renegotiation (the extension or the SCSV) and, in this
     * initial handshake, its renegotiated_connection is empty. Keyway never renegotiates, but it requires the
     * signal of every TLS 1.2 client, as section 3.6 lets a server do (every TLS 1.2 client since 2010 sends it),
     * unless the config allows old peers ({@code --legacy-no-ems}): a server that never renegotiates is not open to
     * the renegotiation attack, so a client that predates RFC 5746 may connect then. Returns whether it signalled.
     */
    private static boolean secureRenegotiation(ClientHello ch, TlsConfig config) {
        byte[] reneg = ch.extensions().get(Extensions.RENEGOTIATION_INFO);
        if (reneg != null && reneg.length != 1) {
            throw TlsException.fatal(Alert.HANDSHAKE_FAILURE, "renegotiation_info with renegotiated_connection data in an initial handshake "
                    + "(RFC 5746 section 3.6)");
        }
        if (reneg == null && !ch.suites().contains(RENEGOTIATION_SCSV)) {
            if (config.legacyNoExtendedMasterSecret()) {
                return false;
            }
            throw TlsException.refused(Alert.HANDSHAKE_FAILURE, "the client does not signal secure renegotiation (RFC 5746: neither "
                    + "renegotiation_info nor its SCSV)", Extensions.LEGACY_PEERS).hintId(TlsConfig.HINT_LEGACY_NO_EMS);
        }
        return true;
    }

    /**
     * The scheme our key signs the ServerKeyExchange with, among those the client accepts; null when there is
     * none (then only RSA key transport, which signs nothing, can do). A client without signature_algorithms
     * accepts only SHA-1 (RFC 5246 section 7.4.1.4.1), which Keyway does not sign with.
     */
    private SignatureScheme signatureScheme(ClientHello ch) {
        SignatureScheme preferred = SignatureScheme.forKey(config.privateKey());
        if (preferred == SignatureScheme.RSA_PSS_RSAE_SHA256 && !ch.signatureSchemes().contains(preferred.code())) {
            preferred = SignatureScheme.RSA_PKCS1_SHA256;
        }
        if (preferred == null || preferred == SignatureScheme.ED25519 || !ch.signatureSchemes().contains(preferred.code())) {
            return null;
        }
        return preferred;
    }

    /**
     * Our first TLS 1.2 suite the client offers that we can complete: RSA key transport needs an RSA key; ECDHE
     * needs a group in common and a signature the client accepts, else the next suite is tried (RFC 8422
     * section 5.1: a client's curves rule out ECC suites, not the handshake).
     */
    private CipherSuite chooseSuite(ClientHello ch, SignatureScheme scheme, NamedGroup common) {
        boolean rsaKey = config.privateKey() instanceof RSAKey;
        boolean ecdheOffered = false;
        for (CipherSuite s : config.suites(TlsVersion.TLS12)) {
            if (!ch.suites().contains(s.code())) {
                continue;
            }
            if (s.keyExchange() == CipherSuite.KeyExchange.RSA) {
                if (rsaKey) {
                    return s;
                }
                continue;
            }
            boolean ourKey = s.auth().equals(rsaKey ? "RSA" : "ECDSA");
            ecdheOffered |= ourKey;
            if (ourKey && scheme != null && common != null) {
                return s;
            }
        }
        if (ecdheOffered && common == null) {
            throw TlsException.fatal(Alert.HANDSHAKE_FAILURE, "no ECDHE group in common with the client");
        }
        if (ecdheOffered) {
            throw TlsException.fatal(Alert.HANDSHAKE_FAILURE, "the client accepts no TLS 1.2 signature our key can make");
        }
        throw TlsException.fatal(Alert.HANDSHAKE_FAILURE, "no TLS 1.2 suite in common with the client for our " + (rsaKey ? "RSA" : "ECDSA")
                + " key");
    }

    /**
     * Our first ECDHE group the client supports, or null. A client that names none (RFC 8422 section 4 leaves the
     * curve to the server) gets P-256 if we have it: such a client predates x25519 in TLS, and the NIST curves of
     * RFC 4492 are what it can know (tlsfuzzer test-x25519 'default to P-256 when no groups specified').
     */
    private NamedGroup chooseGroup(ClientHello ch) {
        if (ch.groups().isEmpty()) {
            return config.groups().contains(NamedGroup.SECP256R1) ? NamedGroup.SECP256R1 : null;
        }
        for (NamedGroup g : config.groups()) {
            if (g != NamedGroup.X25519MLKEM768 && ch.groups().contains(g.code())) {
                return g;
            }
        }
        return null;
    }

    /** One handshake message; the result once the client's Finished verified and ours is queued, else null. */
    @Override
    public HandshakeResult handle(HandshakeIo.Message m) {
        switch (state) {
            case CLIENT_CERTIFICATE -> clientCertificate(HandshakeIo.expect(m, HandshakeIo.CERTIFICATE, "the client's Certificate"));
            case CLIENT_KEY_EXCHANGE -> clientKeyExchange(HandshakeIo.expect(m, HandshakeIo.CLIENT_KEY_EXCHANGE, "ClientKeyExchange"));
            case CLIENT_CERTIFICATE_VERIFY -> clientCertificateVerify(
                    HandshakeIo.expect(m, HandshakeIo.CERTIFICATE_VERIFY, "the client's CertificateVerify"));
            case CHANGE_CIPHER_SPEC -> throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE,
                    "handshake message type " + m.type() + " before the client's ChangeCipherSpec");
            case FINISHED -> {
                return finished(HandshakeIo.expect(m, HandshakeIo.FINISHED, "the client's Finished"));
            }
            case DONE -> throw new IllegalStateException("the handshake is over");
        }
        return null;
    }

    private void clientCertificate(HandshakeIo.Message m) {
        transcript.add(m.raw());
        List<byte[]> ders = CertificateMessage.parse12(m.body(), true).certificates();
        if (ders.isEmpty() && config.clientCertificateOptional()) {
            state = State.CLIENT_KEY_EXCHANGE; // asked, not required: no CertificateVerify will follow
            return;
        }
        if (ders.isEmpty()) {
            throw TlsException.fatal(Alert.HANDSHAKE_FAILURE, "the client sent no certificate");
        }
        clientChain = PeerCertificates.parse(ders);
        PeerCertificates.validateClient(clientChain, config);
        state = State.CLIENT_KEY_EXCHANGE;
    }

    private void clientKeyExchange(HandshakeIo.Message m) {
        byte[] exchange = Tls12Messages.ClientKeyExchange.parse(m.body(), group == null).exchangeKeys();
        byte[] preMaster = group == null ? rsaPreMasterSecret(exchange) : share.finish(exchange);
        transcript.add(m.raw());
        masterSecret = extendedMasterSecret ? Prf12.extendedMasterSecret(suite.prfHash(), preMaster, transcript.hash())
                : Prf12.masterSecret(suite.prfHash(), preMaster, hello.random(), serverRandom);
        Arrays.fill(preMaster, (byte) 0);
        config.keyLog().log(KeyLogLabel.CLIENT_RANDOM.name(), hello.random(), masterSecret);
        keys = Prf12.keyBlock(suite, TlsVersion.TLS12, masterSecret, hello.random(), serverRandom);
        state = clientChain.isEmpty() ? State.CHANGE_CIPHER_SPEC : State.CLIENT_CERTIFICATE_VERIFY;
    }

    /**
     * RSA key transport (RFC 5246 section 7.4.7.1): the pre-master secret the client encrypted to our key. Any
     * padding, length or version problem yields a random pre-master secret instead, in constant time (Bouncy
     * Castle's implicit rejection), so the connection fails later, at the client's Finished, exactly as with a
     * wrong key: no Bleichenbacher oracle by alert, by message or by timing.
     */
    private byte[] rsaPreMasterSecret(byte[] encrypted) {
        try {
            RSAKeyParameters key = (RSAKeyParameters)
                    PrivateKeyFactory.createKey(config.privateKey().getEncoded());
            if (encrypted.length == 0 || encrypted.length > (key.getModulus().bitLength() + 7) / 8) {
                // Not an RSA ciphertext for this key at all (its length is public): a random pre-master secret, so
                // it fails at the Finished like every other malformation instead of ending the connection here.
                byte[] random = new byte[Prf12.MASTER_SECRET_LENGTH];
                RANDOM.nextBytes(random);
                return random;
            }
            // The version check is against ClientHello.client_version, not the version negotiated (RFC 5246 section 7.4.7.1).
            return TlsRsaKeyExchange.decryptPreMasterSecret(encrypted, 0, encrypted.length, key, clientVersion,
                    RANDOM);
        } catch (IOException | ClassCastException e) {
            throw new IllegalStateException("the server's RSA key cannot decrypt", e);
        }
    }

    /** The client's signature over every handshake message so far (RFC 5246 section 7.4.8). */
    private void clientCertificateVerify(HandshakeIo.Message m) {
        CertificateVerifyMessage cv = CertificateVerifyMessage.parse(m.body());
        int code = cv.scheme();
        SignatureScheme scheme = SignatureScheme.ofCode(code);
        boolean requested = IntStream.of(SignatureScheme.OFFERED).anyMatch(s -> s == code);
        if (scheme == null || !requested || !scheme.fits(clientChain.get(0).getPublicKey())) {
            // RFC 5246 section 7.4.8: one of the algorithms our CertificateRequest listed, for the certificate's key
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, String.format("the client's CertificateVerify uses signature scheme 0x%04X, "
                    + "which our CertificateRequest did not offer for its key", code));
        }
        if (!scheme.verify(clientChain.get(0).getPublicKey(), transcript.messages(), cv.signature())) {
            throw TlsException.fatal(Alert.DECRYPT_ERROR, "the client's CertificateVerify does not verify");
        }
        transcript.add(m.raw());
        state = State.CHANGE_CIPHER_SPEC;
    }

    /** The client's ChangeCipherSpec: its records are protected from here. */
    @Override
    public void changeCipherSpec() {
        if (state != State.CHANGE_CIPHER_SPEC) {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "ChangeCipherSpec out of order");
        }
        io.requireBoundary();
        io.records().setReadProtection(new RecordProtection12(suite, keys.clientKey(), keys.clientIv(), keys.clientMacKey()));
        state = State.FINISHED;
    }

    /** The client's Finished; in a full handshake then our [NewSessionTicket], ChangeCipherSpec and Finished. */
    private HandshakeResult finished(HandshakeIo.Message m) {
        byte[] received = HandshakeMessage.Finished.parse(m.body()).verifyData();
        if (!MessageDigest.isEqual(Prf12.verifyData(suite.prfHash(), masterSecret, true, transcript.hash()), received)) {
            throw TlsException.fatal(Alert.DECRYPT_ERROR, "the client's Finished does not verify");
        }
        transcript.add(m.raw());
        io.requireBoundary();
        if (resumed == null) {
            finishedFlight();
            // Tickets may live up to 7 days, cache entries 24 hours (RFC 5246 appendix F.1.4, SessionLimits): a longer
            // ticket lifetime is cut for the cache, a zero one stores nothing (the store refuses both, which failed the handshake).
            // A session without the extended master secret is never stored (RFC 7627 section 5.3).
            Duration cached = config.ticketLifetime().compareTo(MAX_CACHED) > 0 ? MAX_CACHED : config.ticketLifetime();
            byte[] sealed = sessionId.length > 0 && extendedMasterSecret && !cached.isZero() ? sealedState() : null;
            if (sealed != null) {
                config.sessionStore().put(sessionId, sealed, cached);
            }
        }
        io.records().handshakeDone();
        keys.destroy();
        state = State.DONE;
        return HandshakeResult.tls12(suite, group, clientChain, resumed != null, alpn, hello.serverName(), hello.random(),
                serverRandom.clone(), masterSecret, null, extendedMasterSecret);
    }

    /** [NewSessionTicket] ChangeCipherSpec Finished: the end of a full handshake, the middle of an abbreviated one. */
    private void finishedFlight() {
        if (sendTicket) {
            // RFC 5077 section 3.3: having announced a ticket, a server that will not give one sends it empty
            byte[] sealed = sealedState();
            send(new Tls12Messages.NewSessionTicket12(sealed == null ? 0 : config.ticketLifetime().getSeconds(),
                    sealed == null ? new byte[0] : sealed));
        }
        io.records().writeChangeCipherSpec();
        io.records().setWriteProtection(new RecordProtection12(suite, keys.serverKey(), keys.serverIv(), keys.serverMacKey()));
        send(new HandshakeMessage.Finished(Prf12.verifyData(suite.prfHash(), masterSecret, false, transcript.hash())));
    }

    @Override
    public void invalidate() {
        invalidator().run();
    }

    @Override
    public Runnable invalidator() {
        byte[] id = sessionId;
        SessionStore store = config.sessionStore();
        return () -> {
            if (id.length > 0 && store != null) {
                try {
                    store.remove(id);
                } catch (RuntimeException e) {
                    // the store is unreachable: the entry expires on its own; the connection's own error matters more
                }
            }
        };
    }

    /**
     * The session sealed with the ticket keys: what a ticket carries and what the store keeps; null when the
     * client's chain is over the bounds of {@link ResumptionState}, and the session is not resumable.
     */
    private byte[] sealedState() {
        long lifetime = config.ticketLifetime().getSeconds();
        Instant created = resumed != null ? resumed.created() : config.clock().instant();
        ResumptionState state = ResumptionState.of(suite, masterSecret, created, lifetime, 0, alpn, hello.serverName(), clientChain);
        return state == null ? null : config.ticketKeys().seal(state.encode());
    }

    private void send(HandshakeMessage message) {
        byte[] raw = message.encode();
        transcript.add(raw);
        io.send(raw);
    }
}
