package dev.keyway.tls.handshake;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.KeyBlock12;
import dev.keyway.core.kdf.Prf12;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.keylog.KeyLogLabel;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordProtection12;

import javax.crypto.Cipher;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The TLS 1.2 client handshake after a ServerHello that chose TLS 1.2 (RFC 5246 section 7.3, ECDHE as in
 * RFC 8422): Certificate, ServerKeyExchange (the server's ECDHE share, signed), [CertificateRequest],
 * ServerHelloDone; then ours: [Certificate], ClientKeyExchange, [CertificateVerify], ChangeCipherSpec,
 * Finished; then the server's ChangeCipherSpec and Finished. The master secret is the extended one
 * (RFC 7627), required unless the config allows old servers without it (then the RFC 5246 one, and the session
 * is not kept for resumption); renegotiation_info is required and renegotiation never happens (RFC 5746).
 * The master secret goes to the KeyLog as a CLIENT_RANDOM line.
 *
 * <p>Resumption: when the server echoes the session ID we offered with a kept session (its ID, or the one we
 * made up to go with its ticket, RFC 5077 section 3.4), the abbreviated handshake follows: the server's
 * [NewSessionTicket], ChangeCipherSpec and Finished, then ours.
 */
final class ClientHandshake12 implements Handshake.Flow {
    private static final SecureRandom RANDOM = new SecureRandom();

    private enum State { CERTIFICATE, SERVER_KEY_EXCHANGE, REQUEST_OR_DONE, SERVER_HELLO_DONE, CHANGE_CIPHER_SPEC, FINISHED, DONE }

    /** The kept session we are resuming, or null in a full handshake. */
    private final Ticket resuming;
    /** The server's session ID for this session (empty: none). */
    private final byte[] sessionId;
    /** The ServerHello had extended_master_secret (RFC 7627); without it (allowed by the config) the session is not kept. */
    private final boolean extendedMasterSecret;
    /** The ServerHello had session_ticket: a NewSessionTicket comes before the server's ChangeCipherSpec. */
    private final boolean ticketExpected;
    private byte[] newTicket;
    private boolean ticketReceived;
    private long ticketLifetime = 7200;

    private final TlsConfig config;
    private final HandshakeIo io;
    private final Transcript transcript;
    private final CipherSuite suite;
    private final byte[] clientRandom;
    private final byte[] serverRandom;
    private final String alpn;
    private State state = State.CERTIFICATE;

    private List<X509Certificate> chain = List.of();
    private NamedGroup group;
    private byte[] serverShare;
    private boolean certificateRequested;
    private byte[] masterSecret;
    private KeyBlock12 keys;

    /**
     * Continues after ClientHello and a TLS 1.2 ServerHello, both already in {@code transcript}; {@code offered}
     * is the session we offered to resume (or null) with {@code offeredId} the session ID we sent.
     */
    ClientHandshake12(TlsConfig config, HandshakeIo io, Transcript transcript, CipherSuite suite, byte[] clientRandom, ServerHello hello,
                      String alpn, Ticket offered, byte[] offeredId) {
        Map<Integer, byte[]> extensions = hello.extensions();
        byte[] serverRandom = hello.random();
        byte[] serverSessionId = hello.sessionIdEcho();
        this.config = config;
        this.io = io;
        this.transcript = transcript;
        this.suite = suite;
        this.clientRandom = clientRandom;
        this.serverRandom = serverRandom;
        this.alpn = alpn;
        byte[] reneg = extensions.get(Extensions.RENEGOTIATION_INFO);
        if (reneg == null || reneg.length != 1 || reneg[0] != 0) {
            throw TlsException.fatal(Alert.HANDSHAKE_FAILURE, "the server does not support secure renegotiation (RFC 5746): refused");
        }
        this.extendedMasterSecret = Extensions.extendedMasterSecret(config, extensions.get(Extensions.EXTENDED_MASTER_SECRET),
                "server");
        io.records().deliverChangeCipherSpec(true);
        this.sessionId = serverSessionId;
        byte[] ticketExt = extensions.get(Extensions.SESSION_TICKET);
        if (ticketExt != null && ticketExt.length != 0) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "a ServerHello's session_ticket extension must be empty");
        }
        this.ticketExpected = ticketExt != null;
        if (offered != null && offeredId.length > 0 && Arrays.equals(serverSessionId, offeredId)) {
            if (offered.suite() != suite) {
                throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the server resumed a session with another suite");
            }
            if (!extendedMasterSecret) {
                // We keep only sessions made with the extended master secret (RFC 7627 section 5.3).
                throw TlsException.fatal(Alert.HANDSHAKE_FAILURE,
                        "the server resumed a session made with the extended master secret (RFC 7627) without the extension");
            }
            resuming = offered;
            masterSecret = offered.psk().clone();
            config.keyLog().log(KeyLogLabel.CLIENT_RANDOM.name(), clientRandom, masterSecret);
            keys = Prf12.keyBlock(suite, TlsVersion.TLS12, masterSecret, clientRandom, serverRandom);
            state = State.CHANGE_CIPHER_SPEC;
        } else {
            resuming = null;
        }
    }

    /** One handshake message; the result once the server's Finished verified, else null. */
    @Override
    public HandshakeResult handle(HandshakeIo.Message m) {
        switch (state) {
            case CERTIFICATE -> certificate(HandshakeIo.expect(m, HandshakeIo.CERTIFICATE, "Certificate"));
            case SERVER_KEY_EXCHANGE -> serverKeyExchange(HandshakeIo.expect(m, HandshakeIo.SERVER_KEY_EXCHANGE, "ServerKeyExchange"));
            case REQUEST_OR_DONE -> {
                if (m.type() == HandshakeIo.CERTIFICATE_REQUEST) {
                    certificateRequest(m);
                } else {
                    serverHelloDone(HandshakeIo.expect(m, HandshakeIo.SERVER_HELLO_DONE, "ServerHelloDone"));
                }
            }
            case SERVER_HELLO_DONE -> serverHelloDone(HandshakeIo.expect(m, HandshakeIo.SERVER_HELLO_DONE, "ServerHelloDone"));
            case CHANGE_CIPHER_SPEC -> {
                if (m.type() != HandshakeIo.NEW_SESSION_TICKET || !ticketExpected || ticketReceived) {
                    throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "handshake message type " + m.type()
                            + " before the server's ChangeCipherSpec");
                }
                newSessionTicket(m);
            }
            case FINISHED -> {
                return finished(HandshakeIo.expect(m, HandshakeIo.FINISHED, "Finished"));
            }
            case DONE -> throw new IllegalStateException("the handshake is over");
        }
        return null;
    }

    private void certificate(HandshakeIo.Message m) {
        transcript.add(m.raw());
        chain = PeerCertificates.parse(CertificateMessage.parse12(m.body(), false).certificates());
        PeerCertificates.validateServer(chain, config, TlsVersion.TLS12, suite);
        boolean rsa = suite.keyExchange() == CipherSuite.KeyExchange.RSA;
        if (rsa && !(chain.get(0).getPublicKey() instanceof RSAPublicKey)) {
            throw TlsException.fatal(Alert.UNSUPPORTED_CERTIFICATE, "RSA key transport needs an RSA certificate");
        }
        state = rsa ? State.REQUEST_OR_DONE : State.SERVER_KEY_EXCHANGE;
    }

    /** ServerECDHParams (curve_type named_curve, the group, the point) and the signature over both randoms and them. */
    private void serverKeyExchange(HandshakeIo.Message m) {
        Tls12Messages.ServerKeyExchange ske = Tls12Messages.ServerKeyExchange.parse(m.body());
        int code = ske.group();
        serverShare = ske.publicKey();
        int schemeCode = ske.scheme();
        group = NamedGroup.ofCode(code);
        if (group == null || group == NamedGroup.X25519MLKEM768 || !config.groups().contains(group)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, String.format("the server chose group 0x%04X, which we did not offer", code));
        }
        SignatureScheme scheme = SignatureScheme.ofCode(schemeCode);
        if (scheme == null || scheme == SignatureScheme.ED25519 || !suite.auth().equals(scheme.keyAlgorithm())) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, String.format("signature scheme 0x%04X does not fit %s", schemeCode, suite.name()));
        }
        byte[] signed = ske.signed(clientRandom, serverRandom);
        if (!scheme.fits(chain.get(0).getPublicKey()) || !scheme.verify(chain.get(0).getPublicKey(), signed, ske.signature())) {
            throw TlsException.fatal(Alert.DECRYPT_ERROR, "the ServerKeyExchange signature does not verify");
        }
        transcript.add(m.raw());
        state = State.REQUEST_OR_DONE;
    }

    private void certificateRequest(HandshakeIo.Message m) {
        transcript.add(m.raw());
        Tls12Messages.CertificateRequest12.parse(m.body()); // Keyway's client answers with the one chain it has
        certificateRequested = true;
        state = State.SERVER_HELLO_DONE;
    }

    /** ServerHelloDone: our flight, [Certificate] ClientKeyExchange [CertificateVerify] ChangeCipherSpec Finished. */
    private void serverHelloDone(HandshakeIo.Message m) {
        Tls12Messages.ServerHelloDone.parse(m.body());
        transcript.add(m.raw());
        io.requireBoundary();
        if (certificateRequested) {
            send(CertificateMessage.of12(config.certificateChain()));
        }
        byte[] preMaster;
        if (group == null) {
            // RSA key transport: client_version || 46 random bytes, encrypted to the server's key (RFC 5246 7.4.7.1)
            preMaster = new byte[48];
            RANDOM.nextBytes(preMaster);
            preMaster[0] = 3;
            preMaster[1] = 3;
            send(new Tls12Messages.ClientKeyExchange(rsaEncrypt(preMaster), true));
        } else {
            NamedGroup.ClientShare share = group.generate();
            preMaster = share.finish(serverShare);
            send(new Tls12Messages.ClientKeyExchange(share.keyExchange(), false));
        }
        masterSecret = extendedMasterSecret ? Prf12.extendedMasterSecret(suite.prfHash(), preMaster, transcript.hash())
                : Prf12.masterSecret(suite.prfHash(), preMaster, clientRandom, serverRandom);
        Arrays.fill(preMaster, (byte) 0);
        config.keyLog().log(KeyLogLabel.CLIENT_RANDOM.name(), clientRandom, masterSecret);
        if (certificateRequested && !config.certificateChain().isEmpty()) {
            SignatureScheme scheme = SignatureScheme.forKey(config.privateKey());
            byte[] signature = scheme.sign(config.privateKey(), transcript.messages());
            send(new CertificateVerifyMessage(scheme.code(), signature));
        }
        keys = Prf12.keyBlock(suite, TlsVersion.TLS12, masterSecret, clientRandom, serverRandom);
        io.records().writeChangeCipherSpec();
        io.records().setWriteProtection(new RecordProtection12(suite, keys.clientKey(), keys.clientIv(), keys.clientMacKey()));
        send(new HandshakeMessage.Finished(Prf12.verifyData(suite.prfHash(), masterSecret, true, transcript.hash())));
        state = State.CHANGE_CIPHER_SPEC;
    }

    private byte[] rsaEncrypt(byte[] preMaster) {
        try {
            Cipher rsa = Cipher.getInstance("RSA/ECB/PKCS1Padding");
            rsa.init(Cipher.ENCRYPT_MODE, chain.get(0).getPublicKey(), RANDOM);
            return rsa.doFinal(preMaster);
        } catch (GeneralSecurityException e) {
            throw TlsException.fatal(Alert.INTERNAL_ERROR, "RSA encryption of the pre-master secret failed: " + e.getMessage());
        }
    }

    /** RFC 5077 section 3.3: a lifetime hint and the opaque ticket, kept for the next connection. */
    private void newSessionTicket(HandshakeIo.Message m) {
        Tls12Messages.NewSessionTicket12 nst = Tls12Messages.NewSessionTicket12.parse(m.body());
        long hint = nst.lifetimeHint();
        byte[] ticket = nst.ticket();
        transcript.add(m.raw());
        ticketReceived = true;
        if (ticket.length > 0) {
            newTicket = ticket;
            ticketLifetime = hint == 0 || hint > 604_800 ? 7200 : hint;
        }
    }

    /** The server's ChangeCipherSpec: its records are protected from here. */
    @Override
    public void changeCipherSpec() {
        if (state != State.CHANGE_CIPHER_SPEC || ticketExpected != ticketReceived) {
            // RFC 5077 section 3.3: a server that announced a ticket sends NewSessionTicket before ChangeCipherSpec
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "ChangeCipherSpec out of order");
        }
        io.requireBoundary();
        io.records().setReadProtection(new RecordProtection12(suite, keys.serverKey(), keys.serverIv(), keys.serverMacKey()));
        state = State.FINISHED;
    }

    /** The server's Finished; in an abbreviated handshake our ChangeCipherSpec and Finished follow it. */
    private HandshakeResult finished(HandshakeIo.Message m) {
        byte[] expected = Prf12.verifyData(suite.prfHash(), masterSecret, false, transcript.hash());
        if (!MessageDigest.isEqual(expected, HandshakeMessage.Finished.parse(m.body()).verifyData())) {
            throw TlsException.fatal(Alert.DECRYPT_ERROR, "the server's Finished does not verify");
        }
        transcript.add(m.raw());
        io.requireBoundary();
        if (resuming != null) {
            io.records().writeChangeCipherSpec();
            io.records().setWriteProtection(new RecordProtection12(suite, keys.clientKey(), keys.clientIv(), keys.clientMacKey()));
            send(new HandshakeMessage.Finished(Prf12.verifyData(suite.prfHash(), masterSecret, true, transcript.hash())));
        }
        keys.destroy();
        io.records().handshakeDone();
        state = State.DONE;
        return HandshakeResult.tls12(suite, group, chain, resuming != null, alpn, config.serverName(), clientRandom.clone(),
                serverRandom.clone(), masterSecret, session(), extendedMasterSecret);
    }

    /** What to keep for the next connection: the new ticket or the server's session ID; the old session when resumed without a new ticket. */
    private Ticket session() {
        if (!extendedMasterSecret) {
            return null; // never resumed (RFC 7627 section 5.3): nothing to keep
        }
        if (newTicket == null && resuming != null) {
            return resuming;
        }
        if (newTicket == null && sessionId.length == 0) {
            return null;
        }
        return new Ticket(newTicket == null ? new byte[0] : newTicket, masterSecret.clone(), ticketLifetime, 0, config.clock().instant(),
                suite, config.serverName(), sessionId.clone());
    }

    private void send(HandshakeMessage message) {
        byte[] raw = message.encode();
        transcript.add(raw);
        io.send(raw);
    }
}
