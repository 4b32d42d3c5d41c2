package dev.keyway.jsse;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSessionBindingEvent;
import javax.net.ssl.SSLSessionBindingListener;
import javax.net.ssl.SSLSessionContext;
import java.security.Principal;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An {@code SSLSession} of a Keyway engine: during the handshake (what a trust manager sees through
 * {@code getHandshakeSession()}, with the version and suite once they are negotiated) and after it. Its id is 32
 * random bytes of its own: TLS 1.3 has no session ids, and TLS 1.2 sessions here are resumed by ticket.
 */
final class KeywaySslSession extends ExtendedSSLSession {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] id = new byte[32];
    private final String peerHost;
    private final int peerPort;
    private final long created = System.currentTimeMillis();
    private final SSLSessionContext context;
    private final Map<String, Object> values = new ConcurrentHashMap<>();
    private volatile long lastAccessed = created;
    private volatile String protocol = "NONE";
    private volatile String cipherSuite = "SSL_NULL_WITH_NULL_NULL";
    private volatile List<X509Certificate> peerChain = List.of();
    private volatile List<X509Certificate> localChain = List.of();
    private volatile List<SNIServerName> serverNames = List.of();
    private volatile boolean valid = true;
    /** The schemes the peer listed, when known (a server learns them from the ClientHello); else Keyway's own. */
    private volatile String[] peerSchemes = Names.SIGNATURE_SCHEMES;

    KeywaySslSession(SSLSessionContext context, String peerHost, int peerPort) {
        this.context = context;
        this.peerHost = peerHost;
        this.peerPort = peerPort;
        RANDOM.nextBytes(id);
    }

    void negotiated(String protocol, String cipherSuite) {
        this.protocol = protocol;
        this.cipherSuite = cipherSuite;
    }

    void peerChain(List<X509Certificate> chain) {
        this.peerChain = List.copyOf(chain);
    }

    List<X509Certificate> peerChainList() {
        return peerChain;
    }

    void localChain(List<X509Certificate> chain) {
        this.localChain = List.copyOf(chain);
    }

    void serverNames(List<SNIServerName> names) {
        this.serverNames = List.copyOf(names);
    }

    void accessed() {
        lastAccessed = System.currentTimeMillis();
    }

    @Override
    public byte[] getId() {
        return id.clone();
    }

    @Override
    public SSLSessionContext getSessionContext() {
        return context;
    }

    @Override
    public long getCreationTime() {
        return created;
    }

    @Override
    public long getLastAccessedTime() {
        return lastAccessed;
    }

    @Override
    public void invalidate() {
        valid = false;
    }

    @Override
    public boolean isValid() {
        return valid;
    }

    @Override
    public void putValue(String name, Object value) {
        if (name == null || value == null) {
            throw new IllegalArgumentException("name and value must not be null");
        }
        Object old = values.put(name, value);
        if (old instanceof SSLSessionBindingListener l) {
            l.valueUnbound(new SSLSessionBindingEvent(this, name));
        }
        if (value instanceof SSLSessionBindingListener l) {
            l.valueBound(new SSLSessionBindingEvent(this, name));
        }
    }

    @Override
    public Object getValue(String name) {
        if (name == null) {
            throw new IllegalArgumentException("name must not be null");
        }
        return values.get(name);
    }

    @Override
    public void removeValue(String name) {
        if (name == null) {
            throw new IllegalArgumentException("name must not be null");
        }
        Object old = values.remove(name);
        if (old instanceof SSLSessionBindingListener l) {
            l.valueUnbound(new SSLSessionBindingEvent(this, name));
        }
    }

    @Override
    public String[] getValueNames() {
        return values.keySet().toArray(String[]::new);
    }

    @Override
    public Certificate[] getPeerCertificates() throws SSLPeerUnverifiedException {
        List<X509Certificate> c = peerChain;
        if (c.isEmpty()) {
            throw new SSLPeerUnverifiedException("the peer did not present a certificate");
        }
        return c.toArray(Certificate[]::new);
    }

    @Override
    public Certificate[] getLocalCertificates() {
        List<X509Certificate> c = localChain;
        return c.isEmpty() ? null : c.toArray(Certificate[]::new);
    }

    @Override
    @SuppressWarnings("removal")
    public javax.security.cert.X509Certificate[] getPeerCertificateChain() {
        throw new UnsupportedOperationException("getPeerCertificateChain is deprecated: use getPeerCertificates");
    }

    @Override
    public Principal getPeerPrincipal() throws SSLPeerUnverifiedException {
        return ((X509Certificate) getPeerCertificates()[0]).getSubjectX500Principal();
    }

    @Override
    public Principal getLocalPrincipal() {
        List<X509Certificate> c = localChain;
        return c.isEmpty() ? null : c.get(0).getSubjectX500Principal();
    }

    @Override
    public String getCipherSuite() {
        return cipherSuite;
    }

    @Override
    public String getProtocol() {
        return protocol;
    }

    @Override
    public String getPeerHost() {
        return peerHost;
    }

    @Override
    public int getPeerPort() {
        return peerPort;
    }

    @Override
    public int getPacketBufferSize() {
        return KeywaySslEngine.MAX_RECORD;
    }

    @Override
    public int getApplicationBufferSize() {
        return KeywaySslEngine.MAX_PLAINTEXT;
    }

    @Override
    public String[] getLocalSupportedSignatureAlgorithms() {
        return Names.SIGNATURE_SCHEMES.clone();
    }

    @Override
    public String[] getPeerSupportedSignatureAlgorithms() {
        return peerSchemes.clone();
    }

    void peerSignatureSchemes(String[] names) {
        this.peerSchemes = names.clone();
    }

    /** No OCSP responses are stapled: Keyway's handshakes do not ask for them. */
    @Override
    public List<byte[]> getStatusResponses() {
        return List.of();
    }

    @Override
    public List<SNIServerName> getRequestedServerNames() {
        return serverNames;
    }

    @Override
    public String toString() {
        return "KeywaySslSession[" + protocol + ", " + cipherSuite + "]";
    }
}
