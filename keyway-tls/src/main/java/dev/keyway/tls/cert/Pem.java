package dev.keyway.tls.cert;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.RSAPrivateKey;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.RSAKeyParameters;
import org.bouncycastle.crypto.params.RSAPrivateCrtKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;
import org.bouncycastle.openssl.X509TrustedCertificateBlock;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.util.io.pem.PemObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * PEM text for certificates ("CERTIFICATE", several in a chain), private keys (written as PKCS #8
 * "PRIVATE KEY"; read also as OpenSSL's traditional "EC PRIVATE KEY" and "RSA PRIVATE KEY") and
 * certificate requests ("CERTIFICATE REQUEST"). Input is bounded ({@link #MAX_BYTES}); anything that is
 * not what was asked for ends in a {@link KeywayException}, never another exception.
 */
public final class Pem {
    /** The largest PEM input read: far above any real certificate chain or key. */
    public static final int MAX_BYTES = 1 << 20;

    private Pem() {
    }

    // ---- writing ----

    /** One "CERTIFICATE" block. */
    public static String writeCertificate(X509Certificate cert) {
        return writeCertificates(List.of(cert));
    }

    /** Several "CERTIFICATE" blocks, in the given order (leaf first for a chain). */
    public static String writeCertificates(List<X509Certificate> chain) {
        List<PemObject> blocks = new ArrayList<>();
        for (X509Certificate c : chain) {
            try {
                blocks.add(new PemObject("CERTIFICATE", c.getEncoded()));
            } catch (CertificateEncodingException e) {
                throw new KeywayException(ErrorCode.INTERNAL, "cannot encode a certificate (" + e.getMessage() + ")", null, e);
            }
        }
        return write(blocks);
    }

    /** A PKCS #8 "PRIVATE KEY" block (unencrypted: keep the file private). */
    public static String writePrivateKey(PrivateKey key) {
        byte[] der = key.getEncoded();
        if (der == null || !"PKCS#8".equalsIgnoreCase(key.getFormat())) {
            throw new KeywayException(ErrorCode.UNSUPPORTED, "this private key cannot be exported as PKCS #8",
                    "use a key held in memory, not in a token");
        }
        try {
            return write(List.of(new PemObject("PRIVATE KEY", der)));
        } finally {
            Arrays.fill(der, (byte) 0);
        }
    }

    /** A "CERTIFICATE REQUEST" block. */
    public static String writeCsr(PKCS10CertificationRequest csr) {
        try {
            return write(List.of(new PemObject("CERTIFICATE REQUEST", csr.getEncoded())));
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.INTERNAL, "cannot encode the request (" + e.getMessage() + ")", null, e);
        }
    }

    private static String write(List<PemObject> blocks) {
        StringBuilder out = new StringBuilder();
        for (PemObject b : blocks) {
            out.append(dev.keyway.core.encoding.Pem.encode(b.getType(), b.getContent()));
        }
        return out.toString();
    }

    // ---- reading ----

    /** Every certificate in {@code pem}, in file order; other blocks (keys, parameters) are skipped. */
    public static List<X509Certificate> readCertificates(byte[] pem) {
        List<X509Certificate> out = new ArrayList<>();
        JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
        for (Object o : objects(pem, "certificate")) {
            if (o instanceof X509CertificateHolder holder) {
                try {
                    out.add(converter.getCertificate(holder));
                } catch (CertificateException | RuntimeException e) {
                    throw KeywayException.malformed("a CERTIFICATE block is not a valid X.509 certificate (" + reason(e) + ")",
                            "check that the file is an unmodified PEM certificate");
                }
            }
        }
        if (out.isEmpty()) {
            throw KeywayException.malformed("no certificate found (no -----BEGIN CERTIFICATE----- block)",
                    "give a PEM certificate file");
        }
        return List.copyOf(out);
    }

    /** The first certificate in {@code pem}. */
    public static X509Certificate readCertificate(byte[] pem) {
        return readCertificates(pem).get(0);
    }

    /** The private key in {@code pem} (PKCS #8, or OpenSSL's traditional EC and RSA formats). */
    public static PrivateKey readPrivateKey(byte[] pem) {
        return readKeyPair(pem).getPrivate();
    }

    /**
     * The private key in {@code pem} with its public key, which is computed from the private key (PKCS #8
     * files often leave it out). Exactly one key must be present; encrypted keys are refused.
     */
    public static KeyPair readKeyPair(byte[] pem) {
        PrivateKeyInfo info = null;
        for (Object o : objects(pem, "private key")) {
            PrivateKeyInfo next = null;
            if (o instanceof PrivateKeyInfo p) {
                next = p;
            } else if (o instanceof Refused r) {
                throw new KeywayException(r.code(), r.message(), r.hint());
            }
            if (next != null) {
                if (info != null) {
                    throw KeywayException.malformed("the file holds more than one private key", "give a file with one key");
                }
                info = next;
            }
        }
        if (info == null) {
            throw KeywayException.malformed("no private key found (no -----BEGIN PRIVATE KEY----- block)",
                    "give a PEM private key file");
        }
        if (info.getPrivateKeyAlgorithm().getAlgorithm().equals(X9ObjectIdentifiers.id_ecPublicKey)
                && info.getPrivateKeyAlgorithm().getParameters() == null) {
            throw KeywayException.malformed("the EC private key does not say which curve it is on",
                    "convert it with openssl pkey -in KEY -out fixed.pem, which writes the curve");
        }
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter()
                .setAlgorithmMapping(EdECObjectIdentifiers.id_Ed25519, "Ed25519");
        try {
            PrivateKey priv = converter.getPrivateKey(info);
            PublicKey pub = converter.getPublicKey(publicKeyOf(info));
            return new KeyPair(pub, priv);
        } catch (IOException | RuntimeException e) {
            throw new KeywayException(ErrorCode.UNSUPPORTED, "the private key cannot be used (" + reason(e) + ")",
                    "use an EC, Ed25519 or RSA key");
        }
    }

    /** The public key that belongs to a private key, computed (never trusted from the optional field). */
    private static SubjectPublicKeyInfo publicKeyOf(PrivateKeyInfo info) throws IOException {
        AsymmetricKeyParameter k = PrivateKeyFactory.createKey(info);
        AsymmetricKeyParameter pub;
        if (k instanceof RSAPrivateCrtKeyParameters rsa) {
            pub = new RSAKeyParameters(false, rsa.getModulus(), rsa.getPublicExponent());
        } else if (k instanceof ECPrivateKeyParameters ec) {
            pub = new ECPublicKeyParameters(ec.getParameters().getG().multiply(ec.getD()).normalize(), ec.getParameters());
        } else if (k instanceof Ed25519PrivateKeyParameters ed) {
            pub = ed.generatePublicKey();
        } else {
            throw new IOException("keys of type " + info.getPrivateKeyAlgorithm().getAlgorithm() + " are not supported");
        }
        return SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(pub);
    }

    /** The certificate request in {@code pem}. */
    public static PKCS10CertificationRequest readCsr(byte[] pem) {
        for (Object o : objects(pem, "certificate request")) {
            if (o instanceof PKCS10CertificationRequest r) {
                return r;
            }
        }
        throw KeywayException.malformed("no certificate request found (no -----BEGIN CERTIFICATE REQUEST----- block)",
                "give a PEM certificate request");
    }

    /** A private key this class refuses to read: encrypted, or of a kind Keyway does not use. */
    private record Refused(ErrorCode code, String message, String hint) {
    }

    /**
     * Every PEM block in the input, read by Keyway's one PEM codec ({@link dev.keyway.core.encoding.Pem}) and
     * turned into Bouncy Castle's ASN.1 objects by its label; size-bounded, every failure a KeywayException.
     */
    private static List<Object> objects(byte[] pem, String what) {
        if (pem == null) {
            throw KeywayException.malformed("no " + what + " given", "give a PEM file");
        }
        if (pem.length > MAX_BYTES) {
            throw KeywayException.malformed("the " + what + " file is too large (" + pem.length + " bytes, at most "
                    + MAX_BYTES + ")", "check that this is the right file");
        }
        // ISO-8859-1 maps every byte to one char, so odd bytes cannot grow the text or fail decoding.
        String text = new String(pem, StandardCharsets.ISO_8859_1);
        List<Object> out = new ArrayList<>();
        try {
            for (dev.keyway.core.encoding.Pem.Block block : dev.keyway.core.encoding.Pem.decodeAll(text, MAX_BYTES, what + " file")) {
                Object o = object(block);
                if (o != null) {
                    out.add(o);
                }
            }
        } catch (KeywayException e) {
            // the codec's messages quote the file escaped already
            throw KeywayException.malformed("the " + what + " file is not valid PEM (" + e.getMessage() + ")",
                    "check that the file is complete and unmodified");
        } catch (IOException | RuntimeException e) {
            throw KeywayException.malformed("the " + what + " file is not valid PEM (" + reason(e) + ")",
                    "check that the file is complete and unmodified");
        }
        return out;
    }

    /** One block as the object its label names; null for a block no reader here uses (EC PARAMETERS, a public key, a CRL). */
    private static Object object(dev.keyway.core.encoding.Pem.Block block) throws IOException {
        byte[] der = block.der();
        return switch (block.label()) {
            case "CERTIFICATE", "X509 CERTIFICATE" -> new X509CertificateHolder(der);
            case "TRUSTED CERTIFICATE" -> new X509TrustedCertificateBlock(der).getCertificateHolder();
            case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST" -> new PKCS10CertificationRequest(der);
            case "PRIVATE KEY" -> PrivateKeyInfo.getInstance(der);
            case "RSA PRIVATE KEY" -> block.encrypted() ? ENCRYPTED
                    : new PrivateKeyInfo(new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE),
                            RSAPrivateKey.getInstance(der));
            case "EC PRIVATE KEY" -> block.encrypted() ? ENCRYPTED : ecKey(der);
            case "ENCRYPTED PRIVATE KEY" -> ENCRYPTED;
            case "DSA PRIVATE KEY" -> new Refused(ErrorCode.UNSUPPORTED, "the private key cannot be used (a DSA key)",
                    "use an EC, Ed25519 or RSA key");
            case "EC PARAMETERS", "PUBLIC KEY", "RSA PUBLIC KEY", "X509 CRL", "PKCS7", "CMS", "ATTRIBUTE CERTIFICATE" -> null;
            default -> throw new IOException("unrecognised object: " + block.label());
        };
    }

    private static final Refused ENCRYPTED = new Refused(ErrorCode.UNSUPPORTED, "the private key is encrypted",
            "decrypt it first, e.g. openssl pkey -in KEY -out plain.pem (and keep plain.pem private)");

    /** OpenSSL's traditional EC key (SEC 1, RFC 5915) as PKCS #8: the curve comes from the key's own parameters. */
    private static PrivateKeyInfo ecKey(byte[] der) throws IOException {
        ECPrivateKey key = ECPrivateKey.getInstance(der);
        return new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, key.getParametersObject()), key);
    }

    private static String reason(Exception e) {
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return e.getClass().getSimpleName();
        }
        m = m.strip().lines().findFirst().orElse(m);
        // Parser messages quote the file (e.g. an unknown BEGIN label): shown escaped
        return Printable.escape(m.length() > 120 ? m.substring(0, 120) + "..." : m);
    }
}
