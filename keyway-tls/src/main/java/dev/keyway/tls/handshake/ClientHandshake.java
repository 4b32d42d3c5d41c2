package dev.keyway.tls.handshake;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordLayer;

import java.util.Arrays;

/**
 * A client's handshake up to the version (RFC 8446 section 4.1, RFC 5246 section 7.4.1, as Go's
 * handshake_client.go): it sends the ClientHello ({@link ClientOffer}), reads the ServerHello, and hands the rest
 * to {@link ClientHandshake13} (which also answers a HelloRetryRequest) or, when the server chose TLS 1.2 and that
 * is no downgrade, to {@link ClientHandshake12}.
 */
public final class ClientHandshake extends Handshake {
    private final TlsConfig config;
    private final ClientOffer offer;

    public ClientHandshake(TlsConfig config, RecordLayer records) {
        super(records);
        this.config = config;
        this.offer = new ClientOffer(config);
    }

    /** ClientHello, with a share for our first group and the configured ticket when it is still good. */
    @Override
    public void start() {
        byte[] ch = offer.first().encode();
        offer.transcript.add(ch);
        io.send(ch);
    }

    @Override
    void handle(HandshakeIo.Message m) {
        ServerHello hello = ServerHello.parseAsClient(HandshakeIo.expect(m, HandshakeIo.SERVER_HELLO, "ServerHello").body());
        if (hello.selectedVersion() == TlsVersion.TLS12.code()) {
            continueWith(tls12(hello, m.raw()));
            return;
        }
        ClientHandshake13 tls13 = new ClientHandshake13(offer, io);
        continueWith(tls13);
        tls13.serverHello(hello, m.raw());
    }

    /** The server chose TLS 1.2: unless that is a downgrade, the rest is ClientHandshake12's. */
    private ClientHandshake12 tls12(ServerHello hello, byte[] raw) {
        if (!config.allows(TlsVersion.TLS12)) {
            throw TlsException.fatal(Alert.PROTOCOL_VERSION, "the server chose TLS 1.2, which this client does not offer");
        }
        if (config.allows(TlsVersion.TLS13) && Arrays.equals(Arrays.copyOfRange(hello.random(), 24, 32), ServerHello.DOWNGRADE_TLS12)) {
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
        offer.transcript.algorithm(chosen);
        offer.transcript.add(raw);
        return new ClientHandshake12(config, io, offer.transcript, chosen, offer.clientRandom, hello,
                ClientHandshake13.alpn(config, hello.extensions()), offer.resume12, offer.sessionId);
    }
}
