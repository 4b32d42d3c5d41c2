package dev.keyway.core.blob;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.hpke.HPKE;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;

import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;

/**
 * Wraps session keys into {@link KeyBlob}s and back.
 * <ul>
 *   <li>x25519, xwing, p256: HPKE (RFC 9180) base mode, KDF HKDF-SHA256, AEAD ChaCha20Poly1305, with
 *       info {@code "keyway key blob v1"} and the blob header as associated data.</li>
 *   <li>rsa3072: RSA-OAEP with SHA-256 and MGF1-SHA-256, the blob header as the OAEP label.</li>
 *   <li>key-encryption key: AES key wrap with padding (RFC 5649), interoperable with any KWP implementation.</li>
 * </ul>
 */
public final class KeyWrap {
    static final byte[] HPKE_INFO = "keyway key blob v1".getBytes(StandardCharsets.US_ASCII);

    private KeyWrap() {
    }

    /** Wraps {@code key} for {@code recipient}. */
    public static KeyBlob wrap(SessionKey key, Recipient recipient) {
        BlobScheme scheme = BlobScheme.forKeyType(recipient.type());
        byte[] id = recipient.id();
        byte[] header = KeyBlob.header(scheme, key.algorithm(), id);
        byte[] pt = key.bytes();
        try {
            if (scheme == BlobScheme.RSA_OAEP_SHA256) {
                Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
                c.init(Cipher.ENCRYPT_MODE, rsaPublic(recipient.kemPublicKey()), oaep(header));
                return new KeyBlob(scheme, key.algorithm(), id, new byte[0], c.doFinal(pt));
            }
            HPKE hpke = recipient.type().hpke();
            AsymmetricKeyParameter pk = hpke.deserializePublicKey(recipient.kemPublicKey());
            byte[][] sealed = hpke.seal(pk, HPKE_INFO, header, pt, null, null, null);
            return new KeyBlob(scheme, key.algorithm(), id, sealed[1], sealed[0]);
        } catch (GeneralSecurityException | InvalidCipherTextException e) {
            throw new IllegalStateException("wrapping failed", e);
        } finally {
            Arrays.fill(pt, (byte) 0);
        }
    }

    /** Wraps {@code key} under a key-encryption key (an {@link Algorithms#AES_KW} session key). */
    public static KeyBlob wrap(SessionKey key, SessionKey kek) {
        checkKek(kek);
        byte[] pt = key.bytes();
        try {
            Cipher c = Cipher.getInstance("AES/KWP/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, kek.toSecretKeySpec("AES"));
            return new KeyBlob(BlobScheme.AES_KWP, key.algorithm(), kekId(kek), new byte[0], c.doFinal(pt));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("key wrap failed", e);
        } finally {
            Arrays.fill(pt, (byte) 0);
        }
    }

    /** Recovers the session key; a blob made for another identity or altered in any way fails with AUTH_FAILED. */
    public static SessionKey unwrap(KeyBlob blob, Identity identity) {
        BlobScheme scheme = blob.scheme();
        if (scheme == BlobScheme.AES_KWP) {
            throw KeywayException.usage("this key blob is wrapped under a key-encryption key, not for an identity",
                    "unwrap it with --kek-file");
        }
        KeyType type = identity.type();
        if (scheme.keyType() != type) {
            throw KeywayException.authFailed("key blob was wrapped for a recipient of type " + scheme.keyType().id()
                    + ", but this identity is of type " + type.id(), "unwrap with the identity it was wrapped for");
        }
        if (!MessageDigest.isEqual(blob.recipientId(), identity.recipient().id())) {
            throw KeywayException.authFailed("key blob was not wrapped for this identity (blob is for recipient "
                    + blob.recipientIdHex() + ", this identity is " + identity.recipient().idHex() + ")",
                    "unwrap with the identity it was wrapped for");
        }
        byte[] header = blob.header();
        byte[] pt = null;
        byte[] sk = identity.kemPrivateKey();
        try {
            if (scheme == BlobScheme.RSA_OAEP_SHA256) {
                Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
                c.init(Cipher.DECRYPT_MODE, rsaPrivate(sk), oaep(header));
                pt = c.doFinal(blob.ciphertext());
            } else {
                HPKE hpke = type.hpke();
                AsymmetricCipherKeyPair kp = hpke.deserializePrivateKey(sk, identity.recipient().kemPublicKey());
                pt = hpke.open(blob.encapsulation(), kp, HPKE_INFO, header, blob.ciphertext(), null, null, null);
            }
            return toSessionKey(blob, pt);
        } catch (BadPaddingException | InvalidCipherTextException | RuntimeException e) {
            if (e instanceof KeywayException ke) {
                throw ke;
            }
            throw tampered(e);
        } catch (java.security.InvalidKeyException | java.security.NoSuchAlgorithmException | javax.crypto.NoSuchPaddingException
                 | java.security.spec.InvalidKeySpecException | java.security.InvalidAlgorithmParameterException e) {
            throw new IllegalStateException("unwrapping failed", e);
        } catch (GeneralSecurityException e) {
            throw tampered(e);
        } finally {
            Arrays.fill(sk, (byte) 0);
            if (pt != null) {
                Arrays.fill(pt, (byte) 0);
            }
        }
    }

    /** Recovers a session key wrapped under a key-encryption key. */
    public static SessionKey unwrap(KeyBlob blob, SessionKey kek) {
        checkKek(kek);
        if (blob.scheme() != BlobScheme.AES_KWP) {
            throw KeywayException.usage("this key blob is wrapped for a " + blob.scheme().keyType().id()
                    + " recipient, not under a key-encryption key", "unwrap it with -i IDENTITY");
        }
        if (!MessageDigest.isEqual(blob.recipientId(), kekId(kek))) {
            throw KeywayException.authFailed("key blob was not wrapped under this key-encryption key (blob is for key id "
                    + blob.recipientIdHex() + ")", "use the key-encryption key it was wrapped under");
        }
        byte[] ct = blob.ciphertext();
        // RFC 5649 output is always at least two 64-bit blocks; the JDK cipher misbehaves on less.
        if (ct.length < 16 || ct.length % 8 != 0) {
            throw tampered(null);
        }
        byte[] pt = null;
        try {
            Cipher c = Cipher.getInstance("AES/KWP/NoPadding");
            c.init(Cipher.DECRYPT_MODE, kek.toSecretKeySpec("AES"));
            pt = c.doFinal(ct);
            return toSessionKey(blob, pt);
        } catch (GeneralSecurityException | RuntimeException e) {
            if (e instanceof KeywayException ke && ke.code() == ErrorCode.AUTH_FAILED) {
                throw ke;
            }
            throw tampered(e);
        } finally {
            if (pt != null) {
                Arrays.fill(pt, (byte) 0);
            }
        }
    }

    /** The id a blob carries for a key-encryption key: 8 bytes of SHA-256 over a label and the key. */
    public static byte[] kekId(SessionKey kek) {
        byte[] k = kek.bytes();
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update("keyway kek id v1".getBytes(StandardCharsets.US_ASCII));
            md.update(k);
            return Arrays.copyOf(md.digest(), 8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        } finally {
            Arrays.fill(k, (byte) 0);
        }
    }

    private static SessionKey toSessionKey(KeyBlob blob, byte[] pt) {
        try {
            return SessionKey.of(blob.algorithm(), pt);
        } catch (KeywayException e) {
            // The header is authenticated for every scheme but KWP; a length mismatch means tampering.
            throw tampered(e);
        }
    }

    private static KeywayException tampered(Exception cause) {
        return new KeywayException(ErrorCode.AUTH_FAILED, "key blob failed authentication: it is corrupted or was altered",
                "get an intact copy of the blob", cause);
    }

    private static void checkKek(SessionKey kek) {
        if (kek.algorithm() != Algorithms.AES_KW) {
            throw KeywayException.usage("a key-encryption key must be an AES-KW key, not " + kek.algorithm().name(),
                    "make one with 'keyway key new --alg aes-kw'");
        }
    }

    private static OAEPParameterSpec oaep(byte[] label) {
        return new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, new PSource.PSpecified(label));
    }

    private static PublicKey rsaPublic(byte[] spki) throws GeneralSecurityException {
        return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(spki));
    }

    private static PrivateKey rsaPrivate(byte[] pkcs8) throws GeneralSecurityException {
        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    }

}
