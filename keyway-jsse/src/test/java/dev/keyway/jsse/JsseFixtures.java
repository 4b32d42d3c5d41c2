package dev.keyway.jsse;

import dev.keyway.tls.cert.Certificates;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.List;

/** Certificates, key stores and SSLContexts of either provider, for tests. */
final class JsseFixtures {
    static final char[] PASSWORD = "changeit".toCharArray();

    private JsseFixtures() {
    }

    /** A key pair of {@code type} ("EC" P-256, "Ed25519", "RSA" 2048) and a self-signed certificate for {@code sans}. */
    record Credential(KeyPair keys, X509Certificate cert) {
        KeyStore keyStore() throws Exception {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("key", keys.getPrivate(), PASSWORD, new X509Certificate[]{cert});
            return ks;
        }
    }

    static Credential credential(String type, String cn, List<String> sans) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance(type);
        if (type.equals("EC")) {
            g.initialize(new ECGenParameterSpec("secp256r1"));
        } else if (type.equals("RSA")) {
            g.initialize(2048);
        }
        KeyPair keys = g.generateKeyPair();
        return new Credential(keys, Certificates.selfSigned(keys, cn, sans, Duration.ofDays(2)));
    }

    static KeyStore trustStore(X509Certificate... trusted) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        for (int i = 0; i < trusted.length; i++) {
            ks.setCertificateEntry("ca" + i, trusted[i]);
        }
        return ks;
    }

    static javax.net.ssl.TrustManager[] trustManagers(X509Certificate... trusted) throws Exception {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trustStore(trusted));
        return tmf.getTrustManagers();
    }

    /** An SSLContext of {@code provider} ("Keyway" or "SunJSSE") with this identity (may be null) and trust. */
    static SSLContext context(String provider, String algorithm, Credential identity, X509Certificate... trusted) throws Exception {
        SSLContext ctx = provider.equals(KeywayProvider.NAME)
                ? SSLContext.getInstance(algorithm, new KeywayProvider())
                : SSLContext.getInstance(algorithm, provider);
        KeyManagerFactory kmf = null;
        if (identity != null) {
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(identity.keyStore(), PASSWORD);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trustStore(trusted));
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }
}
