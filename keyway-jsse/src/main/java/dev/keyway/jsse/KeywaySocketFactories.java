package dev.keyway.jsse;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSocketFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;

/** The socket factories of a Keyway {@code SSLContext}. */
final class KeywaySocketFactories {
    private KeywaySocketFactories() {
    }

    static String[] defaultSuites(KeywaySslContext context) {
        return context.engineGetDefaultSSLParameters().getCipherSuites();
    }

    static String[] supportedSuites(KeywaySslContext context) {
        return context.engineGetSupportedSSLParameters().getCipherSuites();
    }

    /** Client sockets: connected by the factory, connected later, or layered over an existing socket. */
    static final class Client extends SSLSocketFactory {
        private final KeywaySslContext context;

        Client(KeywaySslContext context) {
            this.context = context;
        }

        @Override
        public String[] getDefaultCipherSuites() {
            return defaultSuites(context);
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return supportedSuites(context);
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
            return defaultSuites(context);
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return supportedSuites(context);
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

    /**
     * A listening socket; each accepted connection is a {@link KeywaySslSocket} with this socket's settings, which a
     * template engine keeps (so they are checked and copied exactly as an engine's are).
     */
    static final class ServerSocket extends SSLServerSocket {
        private final KeywaySslContext context;
        private final KeywaySslEngine template;
        private boolean clientMode;

        ServerSocket(KeywaySslContext context) throws IOException {
            super();
            this.context = context;
            this.template = new KeywaySslEngine(context, null, -1);
        }

        @Override
        public Socket accept() throws IOException {
            Socket base = new Socket();
            implAccept(base);
            KeywaySslSocket s = new KeywaySslSocket(context, base, null, -1, true, clientMode);
            s.setSSLParameters(template.getSSLParameters());
            s.setEnableSessionCreation(template.getEnableSessionCreation());
            return s;
        }

        @Override
        public String[] getEnabledCipherSuites() {
            return template.getEnabledCipherSuites();
        }

        @Override
        public void setEnabledCipherSuites(String[] names) {
            template.setEnabledCipherSuites(names);
        }

        @Override
        public String[] getSupportedCipherSuites() {
            return template.getSupportedCipherSuites();
        }

        @Override
        public String[] getSupportedProtocols() {
            return template.getSupportedProtocols();
        }

        @Override
        public String[] getEnabledProtocols() {
            return template.getEnabledProtocols();
        }

        @Override
        public void setEnabledProtocols(String[] names) {
            template.setEnabledProtocols(names);
        }

        @Override
        public void setNeedClientAuth(boolean need) {
            template.setNeedClientAuth(need);
        }

        @Override
        public boolean getNeedClientAuth() {
            return template.getNeedClientAuth();
        }

        @Override
        public void setWantClientAuth(boolean want) {
            template.setWantClientAuth(want);
        }

        @Override
        public boolean getWantClientAuth() {
            return template.getWantClientAuth();
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
            template.setEnableSessionCreation(flag);
        }

        @Override
        public boolean getEnableSessionCreation() {
            return template.getEnableSessionCreation();
        }

        @Override
        public SSLParameters getSSLParameters() {
            return template.getSSLParameters();
        }

        @Override
        public void setSSLParameters(SSLParameters p) {
            template.setSSLParameters(p);
        }

        @Override
        public String toString() {
            return "KeywaySslServerSocket[" + getLocalSocketAddress() + "]";
        }
    }
}
