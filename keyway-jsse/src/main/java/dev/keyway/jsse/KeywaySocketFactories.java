package dev.keyway.jsse;

import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSocketFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.util.List;

/** The socket factories of a Keyway {@code SSLContext}. */
final class KeywaySocketFactories {
    private KeywaySocketFactories() {
    }

    /** Client sockets: connected by the factory, connected later, or layered over an existing socket. */
    static final class Client extends SSLSocketFactory {
        private final KeywaySslContext context;

        Client(KeywaySslContext context) {
            this.context = context;
        }

        @Override
        public String[] getDefaultCipherSuites() {
            return context.engineGetDefaultSSLParameters().getCipherSuites();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return context.engineGetSupportedSSLParameters().getCipherSuites();
        }

        /** An unconnected socket: {@code connect} it, then use it (its SNI then comes from SSLParameters only). */
        @Override
        public Socket createSocket() {
            return new KeywaySslSocket(context, new Socket(), null, -1, true, true);
        }

        @Override
        public Socket createSocket(Socket s, String host, int port, boolean autoClose) throws IOException {
            if (s == null || !s.isConnected()) {
                throw new SocketException("the socket to layer TLS over is not connected");
            }
            return new KeywaySslSocket(context, s, host, port, autoClose, true);
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            Socket base = new Socket(host, port);
            return new KeywaySslSocket(context, base, host, port, true, true);
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
            Socket base = new Socket(host, port, localHost, localPort);
            return new KeywaySslSocket(context, base, host, port, true, true);
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            Socket base = new Socket(host, port);
            return new KeywaySslSocket(context, base, host.getHostName(), port, true, true);
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
            Socket base = new Socket(address, port, localAddress, localPort);
            return new KeywaySslSocket(context, base, address.getHostName(), port, true, true);
        }
    }

    /** Server sockets whose accepted connections are Keyway SSLSockets in server mode. */
    static final class Server extends SSLServerSocketFactory {
        private final KeywaySslContext context;

        Server(KeywaySslContext context) {
            this.context = context;
        }

        @Override
        public String[] getDefaultCipherSuites() {
            return context.engineGetDefaultSSLParameters().getCipherSuites();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return context.engineGetSupportedSSLParameters().getCipherSuites();
        }

        @Override
        public java.net.ServerSocket createServerSocket() throws IOException {
            return new ServerSocket(context);
        }

        @Override
        public java.net.ServerSocket createServerSocket(int port) throws IOException {
            return createServerSocket(port, 50, null);
        }

        @Override
        public java.net.ServerSocket createServerSocket(int port, int backlog) throws IOException {
            return createServerSocket(port, backlog, null);
        }

        @Override
        public java.net.ServerSocket createServerSocket(int port, int backlog, InetAddress ifAddress) throws IOException {
            ServerSocket s = new ServerSocket(context);
            s.bind(new InetSocketAddress(ifAddress, port), backlog);
            return s;
        }
    }

    /** A listening socket; each accepted connection is a server-mode {@link KeywaySslSocket} with these settings. */
    static final class ServerSocket extends SSLServerSocket {
        private final KeywaySslContext context;
        private List<String> protocols;
        private String[] suites;
        private boolean needClientAuth;
        private boolean clientMode;
        private boolean enableSessionCreation = true;
        private javax.net.ssl.SSLParameters parameters;

        ServerSocket(KeywaySslContext context) throws IOException {
            super();
            this.context = context;
            this.protocols = context.protocols();
            this.suites = context.engineGetDefaultSSLParameters().getCipherSuites();
        }

        @Override
        public Socket accept() throws IOException {
            Socket base = new Socket();
            implAccept(base);
            KeywaySslSocket s = new KeywaySslSocket(context, base, null, -1, true, clientMode);
            s.setEnabledProtocols(protocols.toArray(String[]::new));
            s.setEnabledCipherSuites(suites);
            if (parameters != null) {
                s.setSSLParameters(parameters);
            }
            s.setNeedClientAuth(needClientAuth);
            s.setEnableSessionCreation(enableSessionCreation);
            return s;
        }

        @Override
        public String[] getEnabledCipherSuites() {
            return suites.clone();
        }

        @Override
        public void setEnabledCipherSuites(String[] names) {
            // checked the way an engine checks them
            new KeywaySslEngine(context, null, -1).setEnabledCipherSuites(names);
            suites = names.clone();
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return context.engineGetSupportedSSLParameters().getCipherSuites();
        }

        @Override
        public String[] getSupportedProtocols() {
            return new String[]{Names.TLS13, Names.TLS12};
        }

        @Override
        public String[] getEnabledProtocols() {
            return protocols.toArray(String[]::new);
        }

        @Override
        public void setEnabledProtocols(String[] names) {
            new KeywaySslEngine(context, null, -1).setEnabledProtocols(names);
            protocols = List.of(names);
        }

        @Override
        public void setNeedClientAuth(boolean need) {
            needClientAuth = need;
        }

        @Override
        public boolean getNeedClientAuth() {
            return needClientAuth;
        }

        @Override
        public void setWantClientAuth(boolean want) {
            if (want) {
                throw new UnsupportedOperationException("the Keyway provider cannot ask for an optional client certificate: use setNeedClientAuth(true)");
            }
            needClientAuth = false;
        }

        @Override
        public boolean getWantClientAuth() {
            return false;
        }

        @Override
        public void setUseClientMode(boolean mode) {
            clientMode = mode;
        }

        @Override
        public boolean getUseClientMode() {
            return clientMode;
        }

        @Override
        public void setEnableSessionCreation(boolean flag) {
            enableSessionCreation = flag;
        }

        @Override
        public boolean getEnableSessionCreation() {
            return enableSessionCreation;
        }

        @Override
        public javax.net.ssl.SSLParameters getSSLParameters() {
            javax.net.ssl.SSLParameters p = parameters != null ? parameters : new javax.net.ssl.SSLParameters();
            javax.net.ssl.SSLParameters copy = new javax.net.ssl.SSLParameters(getEnabledCipherSuites(), getEnabledProtocols());
            copy.setNeedClientAuth(needClientAuth);
            copy.setApplicationProtocols(p.getApplicationProtocols());
            copy.setEndpointIdentificationAlgorithm(p.getEndpointIdentificationAlgorithm());
            copy.setAlgorithmConstraints(p.getAlgorithmConstraints());
            return copy;
        }

        @Override
        public void setSSLParameters(javax.net.ssl.SSLParameters p) {
            if (p.getCipherSuites() != null) {
                setEnabledCipherSuites(p.getCipherSuites());
            }
            if (p.getProtocols() != null) {
                setEnabledProtocols(p.getProtocols());
            }
            if (p.getWantClientAuth()) {
                setWantClientAuth(true);
            }
            needClientAuth = p.getNeedClientAuth();
            parameters = p;
        }

        @Override
        public String toString() {
            return "KeywaySslServerSocket[" + getLocalSocketAddress() + "]";
        }
    }
}
