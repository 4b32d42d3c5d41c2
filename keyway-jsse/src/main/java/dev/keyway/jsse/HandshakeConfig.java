package dev.keyway.jsse;

import dev.keyway.core.encoding.Printable;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.config.ClientHelloInfo;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.function.BiFunction;

/**
 * The {@link TlsConfig} one engine's handshake runs with, made when the handshake starts from the engine's
 * {@link EngineParameters} and its context's key and trust managers. The managers are asked with the engine itself
 * (as JSSE's are), and the handshake session they may look at through {@link SSLEngine#getHandshakeSession()} is
 * filled in as the handshake learns things: the server names, the peer's chain, the negotiated version and suite.
 */
final class HandshakeConfig {
    private final SSLEngine engine;
    private final KeywaySslContext context;
    private final EngineParameters parameters;
    private final KeywaySslSession hs;
    /** Client: the server chain of the session offered for resumption, which a resumed handshake does not resend. */
    private List<X509Certificate> resumeChain = List.of();

    HandshakeConfig(SSLEngine engine, KeywaySslContext context, EngineParameters parameters, KeywaySslSession hs) {
        this.engine = engine;
        this.context = context;
        this.parameters = parameters;
        this.hs = hs;
    }

    /** The client's cache key for a peer: host and port, or null when the engine was made without them. */
    static String peerKey(SSLEngine engine) {
        return engine.getPeerHost() == null || engine.getPeerPort() <= 0 ? null : engine.getPeerHost() + ":" + engine.getPeerPort();
    }

    List<X509Certificate> resumeChain() {
        return resumeChain;
    }

    private TlsConfig.Builder common() {
        List<String> protocols = parameters.protocols();
        List<String> suites = parameters.suites();
        if (protocols.isEmpty()) {
            throw new IllegalArgumentException("no protocol is enabled");
        }
        if (suites.isEmpty()) {
            throw new IllegalArgumentException("no cipher suite is enabled");
        }
        List<TlsVersion> versions = protocols.stream().map(Names::version).toList();
        List<CipherSuite> cs = suites.stream().map(Names::suite).toList();
        return TlsConfig.builder().versions(versions).suites(cs).groups(parameters.groups())
                .alpn(List.of(parameters.kept().getApplicationProtocols())).keyLog(context.keyLog());
    }

    TlsConfig client() {
        TlsConfig.Builder b = common();
        String sni = serverName();
        if (sni != null) {
            b.serverName(sni);
            hs.serverNames(List.of(new SNIHostName(sni)));
        }
        X509TrustManager tm = context.trustManager();
        b.serverCertificateCheck((chain, version, suite) -> checkServer(tm, chain, version, suite));
        X509ExtendedKeyManager km = context.keyManager();
        if (km != null) {
            String alias = km.chooseEngineClientAlias(KeyManagers.KEY_TYPES, null, engine);
            if (alias != null) {
                X509Certificate[] chain = km.getCertificateChain(alias);
                PrivateKey key = km.getPrivateKey(alias);
                if (chain != null && chain.length > 0 && key != null) {
                    b.certificate(List.of(chain), key);
                    hs.localChain(List.of(chain));
                }
            }
        }
        String peer = peerKey(engine);
        KeywaySslContext.Resumable r = context.clientSessions().take(peer, Instant.now());
        if (r != null) {
            b.resumeWith(r.ticket());
            resumeChain = r.chain();
        }
        return b.build();
    }

    /** The name sent in SNI: the first host name of the parameters, else the peer host when it is a name, not an address. */
    private String serverName() {
        List<SNIServerName> names = parameters.kept().getServerNames();
        if (names != null) {
            for (SNIServerName n : names) {
                if (n instanceof SNIHostName h) {
                    return h.getAsciiName();
                }
            }
            return null; // set to an empty list: no SNI
        }
        String host = engine.getPeerHost();
        if (host == null || host.isEmpty() || host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || Character.isDigit(c))) {
            return null;
        }
        return host;
    }

    private void checkServer(X509TrustManager tm, List<X509Certificate> chain, TlsVersion version, CipherSuite suite)
            throws CertificateException {
        hs.negotiated(Names.protocol(version), suite.name());
        hs.peerChain(chain);
        if (tm == null) {
            throw new CertificateException("the SSLContext has no X509TrustManager");
        }
        X509Certificate[] certs = chain.toArray(X509Certificate[]::new);
        String authType = Names.serverAuthType(version, suite);
        if (tm instanceof X509ExtendedTrustManager x) {
            x.checkServerTrusted(certs, authType, engine);
            return;
        }
        tm.checkServerTrusted(certs, authType);
        String identification = parameters.kept().getEndpointIdentificationAlgorithm();
        if (identification != null && !identification.isEmpty()) {
            // A plain X509TrustManager knows nothing of host names; JSSE checks them itself then, and so does this.
            HostNames.check(certs[0], hs.getRequestedServerNames(), engine.getPeerHost());
        }
    }

    /**
     * A server's config: the certificate is chosen when the ClientHello arrives (its server name is then in the
     * handshake session, as key managers that pick by SNI, like Jetty's, expect), after the SNI matchers had their say.
     */
    TlsConfig server() {
        X509ExtendedKeyManager km = context.keyManager();
        if (km == null) {
            throw new IllegalArgumentException("the SSLContext has no key manager: a server needs a certificate and its key");
        }
        if ((parameters.needClientAuth() || parameters.wantClientAuth()) && context.trustManager() == null) {
            throw new IllegalArgumentException("client authentication is asked for but the SSLContext has no X509TrustManager");
        }
        return serverCommon().configForClient(info -> serverConfigFor(km, info)).build();
    }

    /** What every server config of this engine has: versions, suites, groups, key log, ticket keys, session store. */
    private TlsConfig.Builder serverCommon() {
        TlsConfig.Builder b = common().ticketKeys(context.ticketKeys());
        if (parameters.protocols().contains(Names.TLS12)) {
            b.sessionStore(context.sessionStore());
        }
        return b;
    }

    private TlsConfig serverConfigFor(X509ExtendedKeyManager km, ClientHelloInfo info) {
        List<SNIServerName> requested = List.of();
        if (info.serverName() != null) {
            try {
                requested = List.of(new SNIHostName(info.serverName()));
            } catch (IllegalArgumentException notAHostName) {
                requested = List.of(); // not a name JSSE can represent: as if none was sent
            }
        }
        hs.serverNames(requested);
        hs.peerSignatureSchemes(Names.signatureSchemes(info.signatureSchemes()));
        checkSniMatchers(requested, info.serverName());
        String alias = null;
        for (String type : KeyManagers.KEY_TYPES) {
            alias = km.chooseEngineServerAlias(type, null, engine);
            if (alias != null) {
                break;
            }
        }
        X509Certificate[] chain = alias == null ? null : km.getCertificateChain(alias);
        PrivateKey key = alias == null ? null : km.getPrivateKey(alias);
        if (chain == null || chain.length == 0 || key == null) {
            throw TlsException.fatal(Alert.HANDSHAKE_FAILURE, "the key manager has no certificate and key for this server (EC, Ed25519 or RSA)");
        }
        TlsConfig.Builder b = serverCommon().certificate(List.of(chain), key);
        hs.localChain(List.of(chain));
        BiFunction<SSLEngine, List<String>, String> selector = parameters.alpnSelector();
        if (selector != null) {
            b.alpnSelector(offer -> {
                try {
                    return selector.apply(engine, offer);
                } catch (RuntimeException e) {
                    return null; // the application refused every offered protocol: no_application_protocol
                }
            });
        }
        if (parameters.needClientAuth()) {
            X509TrustManager tm = context.trustManager();
            b.requireClientCertificate(peerChain -> checkClient(tm, peerChain));
        } else if (parameters.wantClientAuth()) {
            X509TrustManager tm = context.trustManager();
            b.requestClientCertificate(peerChain -> checkClient(tm, peerChain));
        }
        return b.build();
    }

    /** The SNI matchers, when set and a name was sent, must recognize it: else unrecognized_name. */
    private void checkSniMatchers(List<SNIServerName> requested, String serverName) {
        Collection<SNIMatcher> matchers = parameters.kept().getSNIMatchers();
        if (matchers != null && !matchers.isEmpty() && !requested.isEmpty()) {
            boolean recognized = false;
            for (SNIMatcher m : matchers) {
                for (SNIServerName n : requested) {
                    recognized |= m.getType() == n.getType() && m.matches(n);
                }
            }
            if (!recognized) {
                throw TlsException.fatal(Alert.UNRECOGNIZED_NAME, "the server name "
                        + Printable.escape(serverName) + " is not one this server answers to");
            }
        }
    }

    private boolean checkClient(X509TrustManager tm, List<X509Certificate> chain) {
        hs.peerChain(chain);
        X509Certificate[] certs = chain.toArray(X509Certificate[]::new);
        String authType = Names.clientAuthType(certs[0].getPublicKey());
        try {
            if (tm instanceof X509ExtendedTrustManager x) {
                x.checkClientTrusted(certs, authType, engine);
            } else {
                tm.checkClientTrusted(certs, authType);
            }
            return true;
        } catch (CertificateException | RuntimeException e) {
            return false;
        }
    }
}
