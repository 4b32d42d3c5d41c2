package dev.keyway.tls.config;

import java.util.List;

/**
 * What a server knows of a client when its ClientHello arrives, for {@link TlsConfig.Builder#configForClient}: the
 * server name it asked for (SNI; null when none), the application protocols it offers, and the signature schemes and
 * versions it lists (IANA code points). Everything in it came from the peer, unauthenticated.
 */
public record ClientHelloInfo(String serverName, List<String> alpn, List<Integer> signatureSchemes, List<Integer> versions) {
    public ClientHelloInfo {
        alpn = List.copyOf(alpn);
        signatureSchemes = List.copyOf(signatureSchemes);
        versions = List.copyOf(versions);
    }
}
