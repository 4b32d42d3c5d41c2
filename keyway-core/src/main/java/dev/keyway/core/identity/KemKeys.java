package dev.keyway.core.identity;

import dev.keyway.core.KeywayException;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.hpke.HPKE;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.X25519PrivateKeyParameters;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;

/** Generation and validation of key-exchange and signing key material, per key type. */
final class KemKeys {
    static final SecureRandom RANDOM = new SecureRandom();
    static final int RSA_BITS = 3072;

    private KemKeys() {
    }

    /** A fresh key pair: {private, public}. */
    static byte[][] generate(KeyType type) {
        if (type == KeyType.RSA3072) {
            try {
                KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
                g.initialize(new RSAKeyGenParameterSpec(RSA_BITS, RSAKeyGenParameterSpec.F4), RANDOM);
                KeyPair kp = g.generateKeyPair();
                return new byte[][]{kp.getPrivate().getEncoded(), kp.getPublic().getEncoded()};
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("RSA key generation failed", e);
            }
        }
        HPKE hpke = type.hpke();
        AsymmetricCipherKeyPair kp = hpke.generatePrivateKey();
        return new byte[][]{hpke.serializePrivateKey(kp.getPrivate()), hpke.serializePublicKey(kp.getPublic())};
    }

    /** The public key that belongs to a private key; malformed private keys are reported as such. */
    static byte[] publicFromPrivate(KeyType type, byte[] privateKey) {
        try {
            switch (type) {
                case X25519 -> {
                    if (privateKey.length != 32) {
                        throw new IllegalArgumentException("length");
                    }
                    return new X25519PrivateKeyParameters(privateKey, 0).generatePublicKey().getEncoded();
                }
                case XWING, P256 -> {
                    if (privateKey.length != type.privateLength()) {
                        throw new IllegalArgumentException("length");
                    }
                    HPKE hpke = type.hpke();
                    return hpke.serializePublicKey(hpke.deserializePrivateKey(privateKey, null).getPublic());
                }
                case RSA3072 -> {
                    KeyFactory kf = KeyFactory.getInstance("RSA");
                    RSAPrivateCrtKey k = (RSAPrivateCrtKey) kf.generatePrivate(new PKCS8EncodedKeySpec(privateKey));
                    if (k.getModulus().bitLength() != RSA_BITS) {
                        throw new IllegalArgumentException("size");
                    }
                    return kf.generatePublic(new RSAPublicKeySpec(k.getModulus(), k.getPublicExponent())).getEncoded();
                }
                default -> throw new IllegalStateException();
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            throw KeywayException.malformed("the " + type.id() + " secret key is malformed", "check that the identity file is intact");
        }
    }

    /** Rejects public keys that cannot be used (bad length, point not on the curve, RSA of the wrong size). */
    static void checkPublic(KeyType type, byte[] publicKey) {
        try {
            switch (type) {
                case X25519, XWING, P256 -> type.hpke().deserializePublicKey(publicKey);
                case RSA3072 -> {
                    RSAPublicKey k = (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(publicKey));
                    BigInteger e = k.getPublicExponent();
                    if (k.getModulus().bitLength() != RSA_BITS || !e.testBit(0) || e.compareTo(BigInteger.valueOf(3)) < 0) {
                        throw new IllegalArgumentException("size");
                    }
                }
                default -> throw new IllegalStateException();
            }
        } catch (GeneralSecurityException | RuntimeException e) {
            throw KeywayException.malformed("the " + type.id() + " public key in the recipient is not valid",
                    "copy the whole recipient string again");
        }
    }

    static byte[] newSigningSeed() {
        byte[] seed = new byte[32];
        RANDOM.nextBytes(seed);
        return seed;
    }

    static byte[] signingPublic(byte[] seed) {
        return new Ed25519PrivateKeyParameters(seed, 0).generatePublicKey().getEncoded();
    }
}
