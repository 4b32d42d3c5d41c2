package dev.keyway.capi;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Pem;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.asn1.pkcs.RSAPrivateKey;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPrivateCrtKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.List;

/**
 * RSA keys in PEM, as OpenSSL writes and reads them: PKCS #8 "PRIVATE KEY" and PKCS #1 "RSA PRIVATE KEY"
 * in, PKCS #8 out; X.509 "PUBLIC KEY" and PKCS #1 "RSA PUBLIC KEY" in, X.509 out. Encrypted PEM is
 * refused with a hint (decrypt it with openssl first).
 */
public final class RsaPem {
    private RsaPem() {
    }

    public static RSAPrivateCrtKey readPrivate(String pem) {
        Pem.Block block = block(pem);
        String label = block.label();
        byte[] der = block.der();
        try {
            KeyFactory kf = KeyFactory.getInstance("RSA");
            PrivateKey k = switch (label) {
                case "PRIVATE KEY" -> kf.generatePrivate(new PKCS8EncodedKeySpec(der));
                case "RSA PRIVATE KEY" -> {
                    RSAPrivateKey r = RSAPrivateKey.getInstance(ASN1Sequence.getInstance(der));
                    yield kf.generatePrivate(new RSAPrivateCrtKeySpec(r.getModulus(), r.getPublicExponent(), r.getPrivateExponent(),
                            r.getPrime1(), r.getPrime2(), r.getExponent1(), r.getExponent2(), r.getCoefficient()));
                }
                case "ENCRYPTED PRIVATE KEY" -> throw KeywayException.usage("the private key PEM is encrypted",
                        "decrypt it first: openssl pkey -in KEY.pem -out plain.pem");
                default -> throw KeywayException.malformed("PEM block '" + label + "' is not an RSA private key",
                        "give a PRIVATE KEY or RSA PRIVATE KEY PEM file");
            };
            if (!(k instanceof RSAPrivateCrtKey crt)) {
                throw KeywayException.malformed("the PEM private key is not an RSA key with CRT parameters", "give an RSA private key");
            }
            return crt;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw KeywayException.malformed("the PEM private key is not a valid RSA key (" + e.getMessage() + ")", "check the file");
        }
    }

    public static RSAPublicKey readPublic(String pem) {
        Pem.Block block = block(pem);
        String label = block.label();
        byte[] der = block.der();
        try {
            KeyFactory kf = KeyFactory.getInstance("RSA");
            PublicKey k = switch (label) {
                case "PUBLIC KEY" -> kf.generatePublic(new X509EncodedKeySpec(der));
                case "RSA PUBLIC KEY" -> {
                    // Bouncy Castle's PKCS #1 structure, named in full: RSAPublicKey is the JDK's key type here
                    org.bouncycastle.asn1.pkcs.RSAPublicKey r = org.bouncycastle.asn1.pkcs.RSAPublicKey.getInstance(
                            ASN1Sequence.getInstance(der));
                    yield kf.generatePublic(new RSAPublicKeySpec(r.getModulus(), r.getPublicExponent()));
                }
                case "PRIVATE KEY", "RSA PRIVATE KEY" -> {
                    RSAPrivateCrtKey p = readPrivate(pem);
                    yield kf.generatePublic(new RSAPublicKeySpec(p.getModulus(), p.getPublicExponent()));
                }
                default -> throw KeywayException.malformed("PEM block '" + label + "' is not an RSA public key",
                        "give a PUBLIC KEY or RSA PUBLIC KEY PEM file");
            };
            if (!(k instanceof RSAPublicKey rsa)) {
                throw KeywayException.malformed("the PEM public key is not an RSA key", "give an RSA public key");
            }
            return rsa;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw KeywayException.malformed("the PEM public key is not a valid RSA key (" + e.getMessage() + ")", "check the file");
        }
    }

    public static String writePrivate(RSAPrivateCrtKey key) {
        return Pem.encode("PRIVATE KEY", key.getEncoded());
    }

    public static String writePublic(RSAPublicKey key) {
        return Pem.encode("PUBLIC KEY", key.getEncoded());
    }

    /** The first PEM block; one with RFC 1421 encryption headers is refused with a hint. */
    private static Pem.Block block(String pem) {
        List<Pem.Block> blocks = Pem.decodeAll(pem, "PEM file");
        if (blocks.isEmpty()) {
            throw KeywayException.malformed("no PEM block found", "give a PEM file (-----BEGIN ...-----)");
        }
        Pem.Block b = blocks.get(0);
        if (!b.headers().isEmpty()) {
            throw KeywayException.usage("the " + b.label() + " PEM is encrypted (it has Proc-Type headers)",
                    "decrypt it first: openssl rsa -in KEY.pem -out plain.pem");
        }
        return b;
    }
}
