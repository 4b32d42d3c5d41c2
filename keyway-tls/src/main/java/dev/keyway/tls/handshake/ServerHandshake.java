package dev.keyway.tls.handshake;

import dev.keyway.core.encoding.Printable;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.config.ClientHelloInfo;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordLayer;

import java.util.List;
import java.util.function.Function;

/**
 * A server's handshake up to the version (RFC 8446 section 4.1, RFC 5246 section 7.4.1, as Go's
 * handshake_server.go): it reads the ClientHello, asks the config's {@code configForClient} for this client's
 * config, and chooses the version: TLS 1.3 when both sides have it ({@link ServerHandshake13}, which also sends a
 * HelloRetryRequest when it must), else TLS 1.2 when both have that ({@link ServerHandshake12}); otherwise
 * protocol_version, or inappropriate_fallback for a client that fell back below our highest version.
 */
public final class ServerHandshake extends Handshake {
    /** TLS_FALLBACK_SCSV (RFC 7507 section 2). */
    static final int FALLBACK_SCSV = 0x5600;

    /** The server's config; replaced once, when the ClientHello arrives, if it has a configForClient. */
    private TlsConfig config;

    public ServerHandshake(TlsConfig config, RecordLayer records) {
        super(records);
        if ((config.certificateChain().isEmpty() || config.privateKey() == null) && config.configForClient() == null) {
            throw new IllegalArgumentException("a TLS server needs a certificate chain and its private key");
        }
        this.config = config;
    }

    @Override
    void handle(HandshakeIo.Message m) {
        ClientHello ch = ClientHello.parse(HandshakeIo.expect(m, HandshakeIo.CLIENT_HELLO, "ClientHello").body());
        config = configFor(config, ch);
        if (config.allows(TlsVersion.TLS13) && ch.offers(TlsVersion.TLS13)) {
            ServerHandshake13 tls13 = new ServerHandshake13(config, io);
            continueWith(tls13);
            tls13.clientHello(ch, m.raw());
            return;
        }
        if (config.allows(TlsVersion.TLS12) && ch.offers(TlsVersion.TLS12)) {
            continueWith(new ServerHandshake12(config, io, ch, m.raw()));
            return;
        }
        int highest = config.versions().get(0).code();
        if (ch.suites().contains(FALLBACK_SCSV) && ch.versions().stream().allMatch(v -> v < highest)) {
            // RFC 7507 section 3: a fallback to a version below our highest is refused as such, before anything else
            throw TlsException.fatal(Alert.INAPPROPRIATE_FALLBACK, "the client fell back to an older version (TLS_FALLBACK_SCSV) "
                    + "than this server's highest");
        }
        throw TlsException.fatal(Alert.PROTOCOL_VERSION, "no TLS version in common: the client offers "
                + ch.versions().stream().map(v -> String.format("0x%04X", v)).toList() + ", this server speaks " + config.versions());
    }

    /** The config for this ClientHello: the base config's {@code configForClient} answer, or the base config itself. */
    private static TlsConfig configFor(TlsConfig base, ClientHello ch) {
        Function<ClientHelloInfo, TlsConfig> choose = base.configForClient();
        if (choose == null) {
            return base;
        }
        TlsConfig chosen;
        try {
            chosen = choose.apply(new ClientHelloInfo(ch.serverName(), ch.alpn(), ch.signatureSchemes(), ch.versions()));
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
}
