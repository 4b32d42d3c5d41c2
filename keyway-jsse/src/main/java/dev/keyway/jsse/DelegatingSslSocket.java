package dev.keyway.jsse;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.channels.SocketChannel;

/**
 * What {@link KeywaySslSocket} answers from another object: the TLS settings (suites, protocols, client mode and
 * authentication, {@link SSLParameters}) from its {@link KeywaySslEngine}, and the TCP side (addresses, ports,
 * socket options) from the plain socket underneath (made by the factory, or the caller's own one when layered).
 * The handshake, the streams and closing are {@link KeywaySslSocket}'s.
 */
abstract class DelegatingSslSocket extends SSLSocket {
    /** The TCP socket the records travel on. */
    protected final Socket base;
    /** The engine that runs TLS for this socket. */
    protected final KeywaySslEngine engine;

    DelegatingSslSocket(Socket base, KeywaySslEngine engine) {
        this.base = base;
        this.engine = engine;
    }

    // ---- the TLS settings, from the engine ----

    @Override
    public String[] getSupportedCipherSuites() {
        return engine.getSupportedCipherSuites();
    }

    @Override
    public String[] getEnabledCipherSuites() {
        return engine.getEnabledCipherSuites();
    }

    @Override
    public void setEnabledCipherSuites(String[] suites) {
        engine.setEnabledCipherSuites(suites);
    }

    @Override
    public String[] getSupportedProtocols() {
        return engine.getSupportedProtocols();
    }

    @Override
    public String[] getEnabledProtocols() {
        return engine.getEnabledProtocols();
    }

    @Override
    public void setEnabledProtocols(String[] protocols) {
        engine.setEnabledProtocols(protocols);
    }

    @Override
    public void setUseClientMode(boolean mode) {
        engine.setUseClientMode(mode);
    }

    @Override
    public boolean getUseClientMode() {
        return engine.getUseClientMode();
    }

    @Override
    public void setNeedClientAuth(boolean need) {
        engine.setNeedClientAuth(need);
    }

    @Override
    public boolean getNeedClientAuth() {
        return engine.getNeedClientAuth();
    }

    @Override
    public void setWantClientAuth(boolean want) {
        engine.setWantClientAuth(want);
    }

    @Override
    public boolean getWantClientAuth() {
        return engine.getWantClientAuth();
    }

    @Override
    public void setEnableSessionCreation(boolean flag) {
        engine.setEnableSessionCreation(flag);
    }

    @Override
    public boolean getEnableSessionCreation() {
        return engine.getEnableSessionCreation();
    }

    @Override
    public SSLParameters getSSLParameters() {
        return engine.getSSLParameters();
    }

    @Override
    public void setSSLParameters(SSLParameters params) {
        engine.setSSLParameters(params);
    }

    @Override
    public String getApplicationProtocol() {
        return engine.getApplicationProtocol();
    }

    @Override
    public String getHandshakeApplicationProtocol() {
        return engine.getHandshakeApplicationProtocol();
    }

    @Override
    public SSLSession getHandshakeSession() {
        return engine.getHandshakeSession();
    }

    // ---- the TCP side, from the socket underneath ----

    @Override
    public void bind(SocketAddress bindpoint) throws IOException {
        base.bind(bindpoint);
    }

    @Override
    public boolean isConnected() {
        return base.isConnected();
    }

    @Override
    public boolean isBound() {
        return base.isBound();
    }

    @Override
    public InetAddress getInetAddress() {
        return base.getInetAddress();
    }

    @Override
    public InetAddress getLocalAddress() {
        return base.getLocalAddress();
    }

    @Override
    public int getPort() {
        return base.getPort();
    }

    @Override
    public int getLocalPort() {
        return base.getLocalPort();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return base.getRemoteSocketAddress();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return base.getLocalSocketAddress();
    }

    @Override
    public SocketChannel getChannel() {
        return null;
    }

    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        base.setSoTimeout(timeout);
    }

    @Override
    public int getSoTimeout() throws SocketException {
        return base.getSoTimeout();
    }

    @Override
    public void setTcpNoDelay(boolean on) throws SocketException {
        base.setTcpNoDelay(on);
    }

    @Override
    public boolean getTcpNoDelay() throws SocketException {
        return base.getTcpNoDelay();
    }

    @Override
    public void setKeepAlive(boolean on) throws SocketException {
        base.setKeepAlive(on);
    }

    @Override
    public boolean getKeepAlive() throws SocketException {
        return base.getKeepAlive();
    }

    @Override
    public void setSoLinger(boolean on, int linger) throws SocketException {
        base.setSoLinger(on, linger);
    }

    @Override
    public int getSoLinger() throws SocketException {
        return base.getSoLinger();
    }

    @Override
    public void setSendBufferSize(int size) throws SocketException {
        base.setSendBufferSize(size);
    }

    @Override
    public int getSendBufferSize() throws SocketException {
        return base.getSendBufferSize();
    }

    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        base.setReceiveBufferSize(size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        return base.getReceiveBufferSize();
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        base.setReuseAddress(on);
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        return base.getReuseAddress();
    }

    @Override
    public void setTrafficClass(int tc) throws SocketException {
        base.setTrafficClass(tc);
    }

    @Override
    public int getTrafficClass() throws SocketException {
        return base.getTrafficClass();
    }

    @Override
    public void setOOBInline(boolean on) throws SocketException {
        base.setOOBInline(on);
    }

    @Override
    public boolean getOOBInline() throws SocketException {
        return base.getOOBInline();
    }

    @Override
    public void sendUrgentData(int data) throws IOException {
        throw new SocketException("urgent data is not supported on an SSLSocket");
    }

}
