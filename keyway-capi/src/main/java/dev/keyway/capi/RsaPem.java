package dev.keyway.capi;

import dev.keyway.core.KeywayException;
import org.bouncycastle.asn1.ASN1Sequence;

import java.nio.charset.StandardCharsets;
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
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * RSA keys in PEM, as OpenSSL writes and reads them: PKCS #8 "PRIVATE KEY" and PKCS #1 "RSA PRIVATE KEY"
 * in, PKCS #8 out; X.509 "PUBLIC KEY" and PKCS #1 "RSA PUBLIC KEY" in, X.509 out. Encrypted PEM is
 * refused with a hint (decrypt it with openssl first).
 */
public final class RsaPem {
    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s:,-]*?)-----END \\1-----");

    private RsaPem() {
    }

    public static RSAPrivateCrtKey readPrivate(String pem) {
        Matcher m = block(pem);
        String label = m.group(1);
        byte[] der = decode(m.group(2), label);
        try {
            KeyFactory kf = KeyFactory.getInstance("RSA");
            PrivateKey k = switch (label) {
                case "PRIVATE KEY" -> kf.generatePrivate(new PKCS8EncodedKeySpec(der));
                case "RSA PRIVATE KEY" -> {
                    org.bouncycastle.asn1.pkcs.RSAPrivateKey r = org.bouncycastle.asn1.pkcs.RSAPrivateKey.getInstance(ASN1Sequence.getInstance(der));
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
        Matcher m = block(pem);
        String label = m.group(1);
        byte[] der = decode(m.group(2), label);
        try {
            KeyFactory kf = KeyFactory.getInstance("RSA");
            PublicKey k = switch (label) {
                case "PUBLIC KEY" -> kf.generatePublic(new X509EncodedKeySpec(der));
                case "RSA PUBLIC KEY" -> {
                    org.bouncycastle.asn1.pkcs.RSAPublicKey r = org.bouncycastle.asn1.pkcs.RSAPublicKey.getInstance(ASN1Sequence.getInstance(der));
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
        return pem("PRIVATE KEY", key.getEncoded());
    }

    public static String writePublic(RSAPublicKey key) {
        return pem("PUBLIC KEY", key.getEncoded());
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    private static Matcher block(String pem) {
        Matcher m = BLOCK.matcher(pem);
        if (!m.find()) {
            throw KeywayException.malformed("no PEM block found", "give a PEM file (-----BEGIN ...-----)");
        }
        return m;
    }

    private static byte[] decode(String body, String label) {
        if (body.contains(":")) {
            throw KeywayException.usage("the " + label + " PEM is encrypted (it has Proc-Type headers)",
                    "decrypt it first: openssl rsa -in KEY.pem -out plain.pem");
        }
        try {
            return Base64.getMimeDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw KeywayException.malformed("the " + label + " PEM body is not base64", "check the file");
        }
    }

}
