package dev.keyway.jsse;

import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.NamedGroup;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * What an application set on one {@link KeywaySslEngine} before its handshake: enabled protocols and suites, client
 * authentication, session creation, the kept {@link SSLParameters} (endpoint identification, server names, ALPN,
 * SNI matchers), the server's ALPN selector and the key-exchange groups. The mapping to and from
 * {@link SSLParameters} lives here, checked as JSSE checks it; {@link HandshakeConfig} reads it when the handshake
 * starts.
 */
final class EngineParameters {
    private static final List<NamedGroup> GROUPS = List.of(NamedGroup.X25519MLKEM768, NamedGroup.X25519, NamedGroup.SECP256R1);

    private List<String> protocols;
    private List<String> suites;
    private boolean needClientAuth;
    private boolean wantClientAuth;
    private boolean enableSessionCreation = true;
    private SSLParameters parameters = new SSLParameters();
    private BiFunction<SSLEngine, List<String>, String> alpnSelector;
    private List<NamedGroup> groups = GROUPS;

    EngineParameters(List<String> protocols) {
        this.protocols = protocols;
        this.suites = List.of(supportedSuites());
    }

    static String[] supportedSuites() {
        return Names.names(TlsConfig.defaultSuites());
    }

    List<String> protocols() {
        return protocols;
    }

    List<String> suites() {
        return suites;
    }

    List<NamedGroup> groups() {
        return groups;
    }

    /** The kept parameters: endpoint identification, server names, application protocols, SNI matchers. */
    SSLParameters kept() {
        return parameters;
    }

    void suites(String[] names) {
        if (names == null) {
            throw new IllegalArgumentException("cipher suites must not be null");
        }
        List<String> supported = List.of(supportedSuites());
        List<String> chosen = new ArrayList<>();
        for (String n : names) {
            if (!supported.contains(n)) {
                throw new IllegalArgumentException("cipher suite " + n + " is not supported by the Keyway provider");
            }
            chosen.add(n);
        }
        suites = List.copyOf(chosen);
    }

    void protocols(String[] names) {
        if (names == null) {
            throw new IllegalArgumentException("protocols must not be null");
        }
        List<String> chosen = new ArrayList<>();
        for (String n : names) {
            Names.version(n); // IllegalArgumentException for SSLv3, TLSv1, TLSv1.1 and unknown names
            chosen.add(n);
        }
        protocols = List.copyOf(chosen);
    }

    /** Each of the two setters overrides the other's earlier setting, as JSSE's. */
    void needClientAuth(boolean need) {
        needClientAuth = need;
        wantClientAuth = false;
    }

    boolean needClientAuth() {
        return needClientAuth;
    }

    void wantClientAuth(boolean want) {
        wantClientAuth = want;
        needClientAuth = false;
    }

    boolean wantClientAuth() {
        return wantClientAuth;
    }

    void enableSessionCreation(boolean flag) {
        enableSessionCreation = flag;
    }

    boolean enableSessionCreation() {
        return enableSessionCreation;
    }

    void alpnSelector(BiFunction<SSLEngine, List<String>, String> selector) {
        alpnSelector = selector;
    }

    BiFunction<SSLEngine, List<String>, String> alpnSelector() {
        return alpnSelector;
    }

    SSLParameters toSslParameters(int maximumPacketSize) {
        SSLParameters p = new SSLParameters(suites.toArray(String[]::new), protocols.toArray(String[]::new));
        if (needClientAuth) {
            p.setNeedClientAuth(true);
        } else {
            p.setWantClientAuth(wantClientAuth);
        }
        p.setEndpointIdentificationAlgorithm(parameters.getEndpointIdentificationAlgorithm());
        p.setAlgorithmConstraints(parameters.getAlgorithmConstraints());
        if (parameters.getServerNames() != null) {
            p.setServerNames(parameters.getServerNames());
        }
        p.setApplicationProtocols(parameters.getApplicationProtocols());
        p.setUseCipherSuitesOrder(parameters.getUseCipherSuitesOrder());
        if (parameters.getSNIMatchers() != null) {
            p.setSNIMatchers(parameters.getSNIMatchers());
        }
        p.setMaximumPacketSize(maximumPacketSize);
        NewerParameters.setGroups(p, groups);
        return p;
    }

    void apply(SSLParameters p) {
        NewerParameters.checkSignatureSchemes(p);
        List<NamedGroup> chosenGroups = NewerParameters.groups(p);
        if (p.getCipherSuites() != null) {
            suites(p.getCipherSuites());
        }
        if (p.getProtocols() != null) {
            protocols(p.getProtocols());
        }
        if (p.getNeedClientAuth()) {
            needClientAuth(true);
        } else {
            wantClientAuth(p.getWantClientAuth());
        }
        for (String alpn : p.getApplicationProtocols()) {
            if (alpn.isEmpty() || alpn.getBytes(StandardCharsets.UTF_8).length > 255) {
                throw new IllegalArgumentException("an application protocol name must be 1 to 255 bytes");
            }
        }
        SSLParameters kept = new SSLParameters();
        kept.setEndpointIdentificationAlgorithm(p.getEndpointIdentificationAlgorithm());
        kept.setAlgorithmConstraints(p.getAlgorithmConstraints());
        if (p.getServerNames() != null) {
            kept.setServerNames(p.getServerNames());
        }
        kept.setApplicationProtocols(p.getApplicationProtocols());
        kept.setUseCipherSuitesOrder(p.getUseCipherSuitesOrder());
        if (p.getSNIMatchers() != null) {
            kept.setSNIMatchers(p.getSNIMatchers());
        }
        parameters = kept;
        if (chosenGroups != null) {
            groups = chosenGroups;
        }
    }
}
