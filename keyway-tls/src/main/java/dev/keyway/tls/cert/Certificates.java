package dev.keyway.tls.cert;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.SignatureException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * Makes X.509 v3 certificates and PKCS #10 requests for TLS: self-signed, or issued by a CA certificate
 * and its key. Every certificate gets a random 16-byte serial, a notBefore five minutes in the past (for
 * clocks that lag), subject and authority key identifiers, critical basic constraints and key usage. A
 * leaf is good for TLS servers and clients (digitalSignature, serverAuth and clientAuth); a CA may only
 * sign certificates and CRLs. Building is Bouncy Castle's; signing and parsing use the JDK's providers.
 */
public final class Certificates {
    /** Longer than any real certificate should live; also keeps the arithmetic far from overflow. */
    public static final Duration MAX_VALIDITY = Duration.ofDays(100L * 366);

    private static final Duration BACKDATE = Duration.ofMinutes(5);
    private static final int MAX_CN_LENGTH = 64; // ub-common-name, RFC 5280 appendix A.1
    private static final SecureRandom RANDOM = new SecureRandom();

    private Certificates() {
    }

    /** A self-signed leaf certificate for {@code keys}. */
    public static X509Certificate selfSigned(KeyPair keys, String cn, List<String> sans, Duration validity) {
        return selfSigned(keys, cn, sans, validity, false);
    }

    /** A self-signed certificate for {@code keys}: a root CA when {@code ca}, else a leaf. */
    public static X509Certificate selfSigned(KeyPair keys, String cn, List<String> sans, Duration validity, boolean ca) {
        Objects.requireNonNull(keys, "keys");
        X500Name subject = name(cn);
        List<String> names = SubjectAltNames.parse(sans);
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minus(BACKDATE)),
                notAfter(now, validity), subject, keys.getPublic());
        JcaX509ExtensionUtils ext = extensionUtils();
        SubjectKeyIdentifier ski = ext.createSubjectKeyIdentifier(keys.getPublic());
        addExtensions(b, keys.getPublic(), names, ca, ski, new AuthorityKeyIdentifier(ski.getKeyIdentifier()));
        X509Certificate cert = sign(b, keys.getPrivate());
        checkSignature(cert, keys.getPublic(), "the private key does not match the public key");
        return cert;
    }

    /** A leaf certificate for {@code subjectKey}, signed by the CA certificate {@code ca} with {@code caKey}. */
    public static X509Certificate issued(PublicKey subjectKey, String cn, List<String> sans, Duration validity,
                                         X509Certificate ca, PrivateKey caKey) {
        return issued(subjectKey, cn, sans, validity, ca, caKey, false);
    }

    /**
     * A certificate for {@code subjectKey} signed by {@code ca} with {@code caKey}: an intermediate CA when
     * {@code isCa}, else a leaf. Refused when {@code ca} is not a CA certificate, has expired, or
     * {@code caKey} is not its key.
     */
    public static X509Certificate issued(PublicKey subjectKey, String cn, List<String> sans, Duration validity,
                                         X509Certificate ca, PrivateKey caKey, boolean isCa) {
        Objects.requireNonNull(subjectKey, "subjectKey");
        Objects.requireNonNull(ca, "ca");
        Objects.requireNonNull(caKey, "caKey");
        CertificateKeyType.of(subjectKey);
        requireCa(ca);
        X500Name subject = name(cn);
        List<String> names = SubjectAltNames.parse(sans);
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(), Date.from(now.minus(BACKDATE)),
                notAfter(now, validity), subject, subjectKey);
        JcaX509ExtensionUtils ext = extensionUtils();
        addExtensions(b, subjectKey, names, isCa, ext.createSubjectKeyIdentifier(subjectKey), authorityKeyId(ca, ext));
        X509Certificate cert = sign(b, caKey);
        checkSignature(cert, ca.getPublicKey(), "the CA key does not match the CA certificate "
                + Printable.escape(ca.getSubjectX500Principal().getName()));
        return cert;
    }

    /** A PKCS #10 certificate request for {@code keys}, asking for {@code sans} in an extensionRequest. */
    public static PKCS10CertificationRequest csr(KeyPair keys, String cn, List<String> sans) {
        Objects.requireNonNull(keys, "keys");
        CertificateKeyType.of(keys.getPublic());
        X500Name subject = name(cn);
        List<String> names = SubjectAltNames.parse(sans);
        JcaPKCS10CertificationRequestBuilder b = new JcaPKCS10CertificationRequestBuilder(subject, keys.getPublic());
        if (!names.isEmpty()) {
            try {
                Extension san = new Extension(Extension.subjectAlternativeName, false,
                        SubjectAltNames.toGeneralNames(names).getEncoded());
                b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, new Extensions(san));
            } catch (IOException e) {
                throw new KeywayException(ErrorCode.INTERNAL, "cannot encode the subject alternative names", null, e);
            }
        }
        PKCS10CertificationRequest req = b.build(signer(keys.getPrivate()));
        try {
            if (!req.isSignatureValid(new JcaContentVerifierProviderBuilder()
                    .build(keys.getPublic()))) {
                throw KeywayException.usage("the private key does not match the public key", "use the key pair as generated");
            }
        } catch (OperatorCreationException | PKCSException e) {
            throw new KeywayException(ErrorCode.INTERNAL, "cannot check the request's signature (" + e.getMessage() + ")", null, e);
        }
        return req;
    }

    /**
     * The names a leaf called {@code cn} should carry when none are given: {@code IP:cn} or {@code DNS:cn}
     * when the common name is an address or host name (TLS clients match only these, never the CN), else none.
     */
    public static List<String> defaultSubjectAltNames(String cn) {
        if (cn == null) {
            return List.of();
        }
        String name = cn.strip();
        if (SubjectAltNames.isIp(name)) {
            return List.of("IP:" + name);
        }
        String host = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        return SubjectAltNames.isDnsName(host) ? List.of("DNS:" + host) : List.of();
    }

    /** The subject alternative names of {@code cert} as {@code DNS:name}, {@code IP:address} (and email:, URI:). */
    public static List<String> subjectAltNames(X509Certificate cert) {
        try {
            Collection<List<?>> all = cert.getSubjectAlternativeNames();
            List<String> out = new ArrayList<>();
            if (all == null) {
                return out;
            }
            for (List<?> entry : all) {
                int type = (Integer) entry.get(0);
                Object value = entry.get(1);
                String prefix = switch (type) {
                    case 1 -> "email:";
                    case 2 -> "DNS:";
                    case 6 -> "URI:";
                    case 7 -> "IP:";
                    default -> "type" + type + ":";
                };
                out.add(prefix + (value instanceof String s ? s : "(binary)"));
            }
            return out;
        } catch (CertificateParsingException e) {
            throw KeywayException.malformed("the certificate's subject alternative names cannot be parsed", "check the certificate");
        }
    }

    /** The SHA-256 fingerprint of the certificate's DER encoding, as openssl prints it ("AB:CD:..."). */
    public static String sha256Fingerprint(X509Certificate cert) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(d);
        } catch (GeneralSecurityException e) {
            throw new KeywayException(ErrorCode.INTERNAL, "cannot hash the certificate (" + e.getMessage() + ")", null, e);
        }
    }

    /** Whether {@code cert} is a CA certificate (basic constraints CA:true). */
    public static boolean isCa(X509Certificate cert) {
        return cert.getBasicConstraints() >= 0;
    }

    private static void requireCa(X509Certificate ca) {
        String who = Printable.escape(ca.getSubjectX500Principal().getName()); // the file's text, shown safely
        if (!isCa(ca)) {
            throw KeywayException.usage("the certificate " + who + " is not a CA certificate (no basic constraint CA:true)",
                    "sign with a CA certificate (one made with the CA basic constraint)");
        }
        boolean[] ku = ca.getKeyUsage();
        if (ku != null && (ku.length <= 5 || !ku[5])) {
            throw KeywayException.usage("the CA certificate " + who + " may not sign certificates (no keyCertSign key usage)",
                    "sign with a CA certificate that has keyCertSign");
        }
        Instant now = Instant.now();
        if (ca.getNotAfter().toInstant().isBefore(now)) {
            throw KeywayException.policy("the CA certificate " + who + " expired on " + ca.getNotAfter().toInstant(),
                    "renew the CA certificate first");
        }
    }

    private static X500Name name(String cn) {
        if (cn == null || cn.isBlank()) {
            throw KeywayException.usage("the common name is empty", "give a common name, e.g. localhost");
        }
        if (cn.length() > MAX_CN_LENGTH) {
            throw KeywayException.usage("the common name is " + cn.length() + " characters; at most " + MAX_CN_LENGTH + " fit",
                    "use a shorter name and put long host names in the subject alternative names");
        }
        if (cn.chars().anyMatch(Character::isISOControl)) {
            throw KeywayException.usage("the common name contains control characters", "use printable characters");
        }
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, cn).build();
    }

    private static BigInteger serial() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        // Positive, non-zero and exactly 16 bytes in DER: top bit clear, next bit set.
        b[0] = (byte) ((b[0] & 0x3f) | 0x40);
        return new BigInteger(1, b);
    }

    private static Date notAfter(Instant now, Duration validity) {
        Objects.requireNonNull(validity, "validity");
        if (validity.isNegative() || validity.isZero()) {
            throw KeywayException.usage("the validity must be positive, not " + validity, "give at least one day");
        }
        if (validity.compareTo(MAX_VALIDITY) > 0) {
            throw KeywayException.usage("the validity is longer than 100 years", "give a shorter validity");
        }
        return Date.from(now.plus(validity));
    }

    private static void addExtensions(X509v3CertificateBuilder b, PublicKey subjectKey, List<String> sans, boolean ca,
                                      SubjectKeyIdentifier ski, AuthorityKeyIdentifier aki) {
        try {
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            if (ca) {
                b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            } else {
                int usage = KeyUsage.digitalSignature;
                if (CertificateKeyType.of(subjectKey) == CertificateKeyType.RSA) {
                    usage |= KeyUsage.keyEncipherment; // TLS 1.2 RSA key exchange encrypts to the certificate's key
                }
                b.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
                b.addExtension(Extension.extendedKeyUsage, false,
                        new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            }
            if (!sans.isEmpty()) {
                b.addExtension(Extension.subjectAlternativeName, false, SubjectAltNames.toGeneralNames(sans));
            }
            b.addExtension(Extension.subjectKeyIdentifier, false, ski);
            b.addExtension(Extension.authorityKeyIdentifier, false, aki);
        } catch (CertIOException e) {
            throw new KeywayException(ErrorCode.INTERNAL, "cannot encode a certificate extension (" + e.getMessage() + ")", null, e);
        }
    }

    /** The issuer's own subject key identifier if it has one (so chain building matches), else one computed. */
    private static AuthorityKeyIdentifier authorityKeyId(X509Certificate ca, JcaX509ExtensionUtils ext) {
        byte[] value = ca.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        if (value != null) {
            try {
                SubjectKeyIdentifier ski = SubjectKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(value));
                return new AuthorityKeyIdentifier(ski.getKeyIdentifier());
            } catch (IOException | RuntimeException e) {
                throw KeywayException.malformed("the CA certificate's subject key identifier cannot be parsed",
                        "check the CA certificate");
            }
        }
        return new AuthorityKeyIdentifier(ext.createSubjectKeyIdentifier(ca.getPublicKey()).getKeyIdentifier());
    }

    private static JcaX509ExtensionUtils extensionUtils() {
        try {
            return new JcaX509ExtensionUtils();
        } catch (GeneralSecurityException e) {
            throw new KeywayException(ErrorCode.INTERNAL, "this Java runtime has no SHA-1 for key identifiers", "use a standard JDK", e);
        }
    }

    private static ContentSigner signer(PrivateKey key) {
        String alg = CertificateKeyType.signatureAlgorithm(key);
        try {
            return new JcaContentSignerBuilder(alg).build(key);
        } catch (OperatorCreationException e) {
            throw new KeywayException(ErrorCode.INTERNAL, "cannot sign with " + alg + " (" + e.getMessage() + ")",
                    "check the key", e);
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key) {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(signer(key)));
        } catch (CertificateException e) {
            throw new KeywayException(ErrorCode.INTERNAL, "cannot build the certificate (" + e.getMessage() + ")", null, e);
        }
    }

    private static void checkSignature(X509Certificate cert, PublicKey key, String mismatch) {
        try {
            cert.verify(key);
        } catch (SignatureException | InvalidKeyException e) {
            throw KeywayException.usage(mismatch, "give the key that belongs to the certificate");
        } catch (GeneralSecurityException e) {
            throw new KeywayException(ErrorCode.INTERNAL, "cannot check the new certificate's signature (" + e.getMessage() + ")",
                    null, e);
        }
    }
}
