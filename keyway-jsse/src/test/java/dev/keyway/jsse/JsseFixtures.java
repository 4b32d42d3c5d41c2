package dev.keyway.jsse;

import dev.keyway.tls.cert.Certificates;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

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

    static TrustManager[] trustManagers(X509Certificate... trusted) throws Exception {
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

    /** A free TCP port on this machine (for a peer that must be told its port). */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Starts a peer in {@code workDir} and waits (at most 20 s) for {@code marker} in its output, drained afterwards. */
    static Process startPeer(Path workDir, List<String> cmd, String marker) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String line;
        while (System.nanoTime() < deadline && (line = r.readLine()) != null) {
            if (line.contains(marker)) {
                Thread t = new Thread(() -> {
                    try {
                        p.getInputStream().transferTo(OutputStream.nullOutputStream());
                    } catch (IOException ignored) {
                        // the process is gone
                    }
                });
                t.setDaemon(true);
                t.start();
                return p;
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("no '" + marker + "' from " + cmd);
    }
}
