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
import dev.keyway.core.kdf.Hkdf;
import org.bouncycastle.crypto.hpke.HPKE;
import org.bouncycastle.crypto.hpke.HPKEContextWithEncapsulation;
import org.bouncycastle.crypto.prng.FixedSecureRandom;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;

import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.spec.InvalidKeySpecException;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.NoSuchPaddingException;
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
 * Escrow blobs ({@link #wrapForEscrow}) use the same schemes with an {@link EscrowBinding} in the HPKE
 * info (appended to the OAEP label) and an encapsulation derived from the key, so they are bound to an
 * owner and can be recomputed by anyone who holds the key.
 */
public final class KeyWrap {
    /** {@link KeywayException#hintId()}: a blob wrapped under a key-encryption key was given an identity. */
    public static final String HINT_USE_KEK = "keywrap.use-kek";
    /** {@link KeywayException#hintId()}: a blob wrapped for an identity was given a key-encryption key. */
    public static final String HINT_USE_IDENTITY = "keywrap.use-identity";
    /** {@link KeywayException#hintId()}: the key-encryption key is not an AES-KW key. */
    public static final String HINT_MAKE_KEK = "keywrap.make-kek";
    static final byte[] HPKE_INFO = "keyway key blob v1".getBytes(StandardCharsets.US_ASCII);
    static final byte[] ESCROW_INFO = "keyway escrow blob v1".getBytes(StandardCharsets.US_ASCII);
    static final byte[] ESCROW_SEED = "keyway escrow seed v1".getBytes(StandardCharsets.US_ASCII);

    private KeyWrap() {
    }

    /** Wraps {@code key} for {@code recipient}, with fresh randomness. */
    public static KeyBlob wrap(SessionKey key, Recipient recipient) {
        return wrap(key, recipient, null, null);
    }

    /**
     * Wraps {@code key} for a backup authority, bound to {@code binding} (docs/KEYS.md, "Escrow blobs"):
     * the binding is in the HPKE info (or the OAEP label), so the authority can open the blob only by
     * naming the same owner and message. The encapsulation randomness is derived from the key, the
     * authority's public key and the binding, so anyone who knows all three recomputes the same blob byte
     * for byte, which is how a recipient of an envelope checks its escrow stanza.
     */
    public static KeyBlob wrapForEscrow(SessionKey key, Recipient authority, EscrowBinding binding) {
        byte[] seed = escrowSeed(key, authority, binding);
        try {
            return wrap(key, authority, escrowInfo(binding), seed);
        } finally {
            Arrays.fill(seed, (byte) 0);
        }
    }

    /**
     * The same binding with fresh randomness: for re-binding stored escrows (an authority's key rotation),
     * where two rows may hold the same key and must not become the same blob.
     */
    public static KeyBlob wrapForEscrowFresh(SessionKey key, Recipient authority, EscrowBinding binding) {
        return wrap(key, authority, escrowInfo(binding), null);
    }

    /**
     * @param info  null for a plain blob; otherwise an escrow binding's info
     * @param seed  null for fresh randomness; otherwise 64 bytes the encapsulation is derived from
     */
    private static KeyBlob wrap(SessionKey key, Recipient recipient, byte[] info, byte[] seed) {
        BlobScheme scheme = BlobScheme.forKeyType(recipient.type());
        byte[] id = recipient.id();
        byte[] header = KeyBlob.header(scheme, key.algorithm(), id);
        byte[] pt = key.bytes();
        try {
            if (scheme == BlobScheme.RSA_OAEP_SHA256) {
                Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
                // RFC 8017 7.1.1: the seed is hLen (32) random octets, drawn once.
                FixedSecureRandom oaepSeed = seed == null ? null : new FixedSecureRandom(Arrays.copyOf(seed, 32));
                c.init(Cipher.ENCRYPT_MODE, rsaPublic(recipient.kemPublicKey()), oaep(label(header, info)),
                        oaepSeed == null ? new SecureRandom() : oaepSeed);
                byte[] ct = c.doFinal(pt);
                if (oaepSeed != null && !oaepSeed.isExhausted()) {
                    throw new IllegalStateException("RSA-OAEP did not draw its 32-byte seed: a derived escrow blob would not recompute");
                }
                return new KeyBlob(scheme, key.algorithm(), id, new byte[0], ct);
            }
            HPKE hpke = recipient.type().hpke();
            AsymmetricKeyParameter pk = hpke.deserializePublicKey(recipient.kemPublicKey());
            byte[] hpkeInfo = info == null ? HPKE_INFO : info;
            if (seed == null) {
                byte[][] sealed = hpke.seal(pk, hpkeInfo, header, pt, null, null, null);
                return new KeyBlob(scheme, key.algorithm(), id, sealed[1], sealed[0]);
            }
            // Derandomized encapsulation: RFC 9180 7.1.3 DeriveKeyPair for DHKEM; X-Wing's 64-byte eseed.
            HPKEContextWithEncapsulation ctx = recipient.type() == KeyType.XWING
                    ? hpke.setupBaseS(pk, hpkeInfo, seed)
                    : hpke.setupBaseS(pk, hpkeInfo, hpke.deriveKeyPair(Arrays.copyOf(seed, 32)));
            return new KeyBlob(scheme, key.algorithm(), id, ctx.getEncapsulation(), ctx.seal(header, pt));
        } catch (GeneralSecurityException | InvalidCipherTextException e) {
            throw new IllegalStateException("wrapping failed", e);
        } finally {
            Arrays.fill(pt, (byte) 0);
        }
    }

    /** The HPKE info of an escrow blob: a label, a zero byte, the binding's context. */
    static byte[] escrowInfo(EscrowBinding binding) {
        byte[] context = binding.context();
        byte[] info = Arrays.copyOf(ESCROW_INFO, ESCROW_INFO.length + 1 + context.length);
        System.arraycopy(context, 0, info, ESCROW_INFO.length + 1, context.length);
        return info;
    }

    /**
     * The 64 bytes an escrow blob's encapsulation is derived from:
     * HKDF-SHA256(salt = "keyway escrow seed v1", ikm = the key, info = algorithm id || SHA-256(authority's
     * key-exchange public key) || binding context, L = 64). Secret exactly when the key is.
     */
    static byte[] escrowSeed(SessionKey key, Recipient authority, EscrowBinding binding) {
        byte[] k = key.bytes();
        try {
            byte[] pkHash = MessageDigest.getInstance("SHA-256").digest(authority.kemPublicKey());
            byte[] context = binding.context();
            byte[] info = new byte[1 + pkHash.length + context.length];
            info[0] = (byte) key.algorithm().id();
            System.arraycopy(pkHash, 0, info, 1, pkHash.length);
            System.arraycopy(context, 0, info, 1 + pkHash.length, context.length);
            return Hkdf.derive(Hkdf.Hash.SHA256, ESCROW_SEED, k, info, 64);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        } finally {
            Arrays.fill(k, (byte) 0);
        }
    }

    private static byte[] label(byte[] header, byte[] info) {
        if (info == null) {
            return header;
        }
        byte[] label = Arrays.copyOf(header, header.length + info.length);
        System.arraycopy(info, 0, label, header.length, info.length);
        return label;
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
        return unwrap(blob, identity, null);
    }

    /**
     * Recovers a key escrowed with {@link #wrapForEscrow}; a blob bound to another owner or message, a
     * plain blob without a binding, or an altered one fails with AUTH_FAILED.
     */
    public static SessionKey unwrapEscrow(KeyBlob blob, Identity authority, EscrowBinding binding) {
        return unwrap(blob, authority, escrowInfo(binding));
    }

    private static SessionKey unwrap(KeyBlob blob, Identity identity, byte[] info) {
        BlobScheme scheme = blob.scheme();
        if (scheme == BlobScheme.AES_KWP) {
            throw KeywayException.usage("this key blob is wrapped under a key-encryption key, not for an identity",
                    "unwrap it with its key-encryption key").hintId(HINT_USE_KEK);
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
                c.init(Cipher.DECRYPT_MODE, rsaPrivate(sk), oaep(label(header, info)));
                pt = c.doFinal(blob.ciphertext());
            } else {
                HPKE hpke = type.hpke();
                AsymmetricCipherKeyPair kp = hpke.deserializePrivateKey(sk, identity.recipient().kemPublicKey());
                pt = hpke.open(blob.encapsulation(), kp, info == null ? HPKE_INFO : info, header, blob.ciphertext(), null, null, null);
            }
            return toSessionKey(blob, pt);
        } catch (BadPaddingException | InvalidCipherTextException | RuntimeException e) {
            if (e instanceof KeywayException ke) {
                throw ke;
            }
            throw tampered(e);
        } catch (InvalidKeyException | NoSuchAlgorithmException | NoSuchPaddingException
                 | InvalidKeySpecException | InvalidAlgorithmParameterException e) {
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
                    + " recipient, not under a key-encryption key", "unwrap it with the identity it was wrapped for").hintId(HINT_USE_IDENTITY);
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
                    "use an AES-KW key as the key-encryption key").hintId(HINT_MAKE_KEK);
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
