package dev.keyway.jsse;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/** Key managers as the engines use them. */
final class KeyManagers {
    /** The key types Keyway's handshakes can sign with, in the order a server tries them. */
    static final String[] KEY_TYPES = {"EC", "EdDSA", "Ed25519", "RSA"};

    private KeyManagers() {
    }

    /** A plain {@link X509KeyManager} seen as an extended one (its engine methods ask the socket methods). */
    static final class Adapter extends X509ExtendedKeyManager {
        private final X509KeyManager km;

        Adapter(X509KeyManager km) {
            this.km = km;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return km.getClientAliases(keyType, issuers);
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return km.chooseClientAlias(keyType, issuers, socket);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return km.getServerAliases(keyType, issuers);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return km.chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return km.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return km.getPrivateKey(alias);
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return km.chooseClientAlias(keyType, issuers, null);
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return km.chooseServerAlias(keyType, issuers, null);
        }
    }
}
