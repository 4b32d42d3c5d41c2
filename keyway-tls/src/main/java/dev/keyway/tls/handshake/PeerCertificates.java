package dev.keyway.tls.handshake;

import dev.keyway.core.encoding.Printable;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.config.ClientCertificateCheck;
import dev.keyway.tls.config.ServerCertificateCheck;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;

import java.io.ByteArrayInputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Checks a peer's certificate chain: PKIX path validation by the JDK to one of the trust anchors, at the
 * given time, without revocation checking; then the server name against the leaf's subjectAltName
 * (DNS names with a left-most wildcard, or IP addresses; the common name is not used). Failures map to
 * the alerts of RFC 8446 section 6.2.
 */
public final class PeerCertificates {
    static final int MAX_CHAIN = 10;

    private PeerCertificates() {
    }

    static List<X509Certificate> parse(List<byte[]> ders) {
        if (ders.isEmpty()) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "the peer sent an empty certificate chain");
        }
        if (ders.size() > MAX_CHAIN) {
            throw TlsException.fatal(Alert.BAD_CERTIFICATE, "a certificate chain of " + ders.size() + " certificates");
        }
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            List<X509Certificate> out = new ArrayList<>();
            for (byte[] der : ders) {
                out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der)));
            }
            return out;
        } catch (GeneralSecurityException | RuntimeException e) {
            // RuntimeException too: the JDK's parser throws e.g. ArrayIndexOutOfBounds on some malformed keys
            throw TlsException.fatal(Alert.BAD_CERTIFICATE, "a certificate does not parse: " + Printable.escape(e.getMessage()));
        }
    }

    /**
     * The server's chain on a client: the client's {@link dev.keyway.tls.config.ServerCertificateCheck} when it has one, else
     * path validation to its trust anchors with the server name (nothing when the config is insecure).
     */
    static void validateServer(List<X509Certificate> chain, TlsConfig config, TlsVersion version, CipherSuite suite) {
        ServerCertificateCheck check = config.serverCertificateCheck();
        if (check != null) {
            try {
                check.check(List.copyOf(chain), version, suite);
            } catch (CertificateException | RuntimeException e) {
                String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                throw TlsException.fatal(Alert.BAD_CERTIFICATE, "the server's certificate (" + subject(chain.get(0)) + ") was refused: "
                        + Printable.escape(why));
            }
            return;
        }
        if (!config.insecure()) {
            validate(chain, config.trustAnchors(), config.clock().instant(), config.serverName(), true);
        }
    }

    /**
     * A client's chain on a server: the server's {@link dev.keyway.tls.config.ClientCertificateCheck} when it has one (the leaf's
     * dates and key usage still count), else path validation to its trust anchors.
     */
    static void validateClient(List<X509Certificate> chain, TlsConfig config) {
        ClientCertificateCheck check = config.clientCertificateCheck();
        if (check == null) {
            validate(chain, config.trustAnchors(), config.clock().instant(), null, false);
            return;
        }
        X509Certificate leaf = chain.get(0);
        try {
            leaf.checkValidity(Date.from(config.clock().instant()));
        } catch (CertificateExpiredException | CertificateNotYetValidException e) {
            throw TlsException.fatal(Alert.CERTIFICATE_EXPIRED, "the certificate of " + subject(leaf)
                    + " is not valid now (" + leaf.getNotBefore().toInstant() + " to " + leaf.getNotAfter().toInstant() + ")");
        }
        checkUsage(leaf, false);
        if (!check.accepts(chain)) {
            throw TlsException.fatal(Alert.ACCESS_DENIED, "the client's certificate (" + subject(leaf) + ") is not allowed here");
        }
    }

    /**
     * @param peerIsServer whether the chain is a server's (extendedKeyUsage serverAuth) or a client's (clientAuth)
     */
    static void validate(List<X509Certificate> chain, List<X509Certificate> anchors, Instant now, String hostName, boolean peerIsServer) {
        X509Certificate leaf = chain.get(0);
        try {
            leaf.checkValidity(Date.from(now));
        } catch (CertificateExpiredException | CertificateNotYetValidException e) {
            throw TlsException.fatal(Alert.CERTIFICATE_EXPIRED, "the certificate of " + subject(leaf)
                    + " is not valid now (" + leaf.getNotBefore().toInstant() + " to " + leaf.getNotAfter().toInstant() + ")");
        }
        if (anchors.isEmpty()) {
            throw TlsException.fatal(Alert.UNKNOWN_CA, "no trusted CA is configured to check the peer's certificate");
        }
        try {
            Set<TrustAnchor> trust = new HashSet<>();
            for (X509Certificate a : anchors) {
                trust.add(new TrustAnchor(a, null));
            }
            List<X509Certificate> path = new ArrayList<>(chain);
            // A peer may send its root too; PKIX wants the path without the anchor.
            while (path.size() > 1 && anchors.contains(path.get(path.size() - 1))) {
                path.remove(path.size() - 1);
            }
            if (path.size() == 1 && anchors.contains(path.get(0)) && !isCa(path.get(0))) {
                // the peer's certificate itself is trusted (a pinned self-signed leaf): its use and name still count
                checkUsage(leaf, peerIsServer);
                checkName(leaf, hostName);
                return;
            }
            CertPath cp = CertificateFactory.getInstance("X.509").generateCertPath(path);
            PKIXParameters params = new PKIXParameters(trust);
            params.setRevocationEnabled(false);
            params.setDate(Date.from(now));
            CertPathValidator.getInstance("PKIX").validate(cp, params);
        } catch (CertPathValidatorException e) {
            Alert alert = e.getReason() == CertPathValidatorException.BasicReason.EXPIRED
                    || e.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID ? Alert.CERTIFICATE_EXPIRED
                    : e.getReason() == CertPathValidatorException.BasicReason.UNDETERMINED_REVOCATION_STATUS ? Alert.CERTIFICATE_UNKNOWN
                    : Alert.UNKNOWN_CA;
            throw TlsException.fatal(alert, "the certificate chain of " + subject(leaf)
                    + " does not lead to a trusted CA (" + Printable.escape(e.getMessage()) + ")");
        } catch (GeneralSecurityException e) {
            throw TlsException.fatal(Alert.BAD_CERTIFICATE, "the certificate chain cannot be checked: " + Printable.escape(e.getMessage()));
        }
        checkUsage(leaf, peerIsServer);
        checkName(leaf, hostName);
    }

    private static void checkName(X509Certificate leaf, String hostName) {
        if (hostName != null && !matches(leaf, hostName)) {
            throw TlsException.fatal(Alert.BAD_CERTIFICATE, "the certificate is for " + names(leaf) + ", not " + hostName);
        }
    }

    /** keyUsage must allow digitalSignature and extendedKeyUsage (when present) the peer's role (RFC 5280 4.2.1.3, 4.2.1.12). */
    private static void checkUsage(X509Certificate leaf, boolean peerIsServer) {
        boolean[] ku = leaf.getKeyUsage();
        if (ku != null && (ku.length == 0 || !ku[0])) {
            throw TlsException.fatal(Alert.UNSUPPORTED_CERTIFICATE, "the certificate's keyUsage does not allow digital signatures");
        }
        try {
            List<String> eku = leaf.getExtendedKeyUsage();
            String wanted = peerIsServer ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2";
            if (eku != null && !eku.contains(wanted) && !eku.contains("2.5.29.37.0")) {
                throw TlsException.fatal(Alert.UNSUPPORTED_CERTIFICATE, "the certificate is not for " + (peerIsServer ? "servers" : "clients")
                        + " (extendedKeyUsage " + eku + ")");
            }
        } catch (CertificateParsingException e) {
            throw TlsException.fatal(Alert.BAD_CERTIFICATE, "the certificate's extendedKeyUsage does not parse");
        }
    }

    private static boolean isCa(X509Certificate c) {
        return c.getBasicConstraints() >= 0;
    }

    /**
     * Whether {@code leaf} is for {@code host}: a DNS name (one leading wildcard label allowed) or an IP address
     * among its subject alternative names; the subject's common name is not consulted (RFC 6125 section 6.4.4).
     */
    public static boolean matches(X509Certificate leaf, String host) {
        boolean ip = host.matches("[0-9.]+") || host.contains(":");
        try {
            Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            if (sans == null) {
                return false;
            }
            for (List<?> san : sans) {
                int type = (Integer) san.get(0);
                String value = String.valueOf(san.get(1));
                if (ip && type == 7 && sameAddress(value, host)) {
                    return true;
                }
                if (!ip && type == 2 && dnsMatch(value, host)) {
                    return true;
                }
            }
        } catch (CertificateParsingException e) {
            return false;
        }
        return false;
    }

    private static boolean sameAddress(String a, String b) {
        try {
            return InetAddress.getByName(a).equals(InetAddress.getByName(b));
        } catch (UnknownHostException e) {
            return false;
        }
    }

    static boolean dnsMatch(String pattern, String host) {
        String p = pattern.toLowerCase(Locale.ROOT);
        String h = host.toLowerCase(Locale.ROOT);
        if (p.endsWith(".")) {
            p = p.substring(0, p.length() - 1);
        }
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        if (p.startsWith("*.")) {
            int dot = h.indexOf('.');
            return dot > 0 && p.substring(2).equals(h.substring(dot + 1)) && p.substring(2).contains(".");
        }
        return p.equals(h);
    }

    /** The peer's subject as text that is safe to print: it may hold any character the peer chose. */
    private static String subject(X509Certificate c) {
        return Printable.escape(c.getSubjectX500Principal().getName());
    }

    /** The leaf's subject alternative names, escaped (peer text). */
    private static String names(X509Certificate leaf) {
        try {
            Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            if (sans == null) {
                return "no subjectAltName";
            }
            List<String> out = new ArrayList<>();
            for (List<?> san : sans) {
                out.add(Printable.escape(String.valueOf(san.get(1))));
            }
            return String.join(", ", out);
        } catch (CertificateParsingException e) {
            return "unreadable names";
        }
    }
}
