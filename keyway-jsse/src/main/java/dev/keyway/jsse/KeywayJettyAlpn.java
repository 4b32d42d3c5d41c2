package dev.keyway.jsse;

import org.eclipse.jetty.alpn.server.ALPNServerConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.ssl.ALPNProcessor;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;

import javax.net.ssl.SSLEngine;

/**
 * ALPN for Jetty's server connectors on the Keyway engine (HTTP/2 over TLS): Jetty finds ALPN processors with the
 * {@code ServiceLoader}, and its own ({@code jetty-alpn-java-server}) takes only the JDK's engines. This one takes
 * Keyway's: Jetty's ALPN connection picks the protocol from the client's offer through the engine's handshake
 * selector, and falls back to its default protocol when the client offered none.
 *
 * <p>Needs Jetty 12's {@code jetty-alpn-server} on the class path (it is there whenever Jetty's ALPN connection
 * factory is); registered in {@code META-INF/services/org.eclipse.jetty.io.ssl.ALPNProcessor$Server}.
 */
public final class KeywayJettyAlpn implements ALPNProcessor.Server {
    @Override
    public boolean appliesTo(SSLEngine engine) {
        return engine instanceof KeywaySslEngine;
    }

    @Override
    public void configure(SSLEngine engine, Connection connection) {
        ALPNServerConnection alpn = (ALPNServerConnection) connection;
        engine.setHandshakeApplicationProtocolSelector((e, offered) -> {
            alpn.select(offered);
            return alpn.getProtocol();
        });
        SslConnection ssl = ((SslConnection.SslEndPoint) alpn.getEndPoint()).getSslConnection();
        ssl.addHandshakeListener(new SslHandshakeListener() {
            @Override
            public void handshakeSucceeded(Event event) {
                if (alpn.getProtocol() == null) {
                    alpn.unsupported(); // the client offered no ALPN: Jetty's default protocol
                }
            }
        });
    }
}
