package dev.keyway.core.identity;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Bech32;
import dev.keyway.core.encoding.Hex;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Objects;

/**
 * The public half of an identity: a key-exchange public key to wrap session keys for, and the Ed25519
 * public key that verifies what the identity signs. Written as a Bech32m string whose prefix names the
 * type ({@code kwx25519}, {@code kwxwing}, {@code kwp256}, {@code kwrsa3072}); the data is the key-exchange
 * public key followed by the 32-byte Ed25519 public key.
 */
public final class Recipient {
    /** {@link KeywayException#hintId()}: a secret key was given where a recipient belongs. */
    public static final String HINT_SECRET_KEY = "recipient.secret-key";
    /** Enough for an RSA-3072 SPKI and then some; checked before decoding. */
    static final int MAX_STRING = 4096;
    static final int SIGNING_KEY_LENGTH = 32;

    private final KeyType type;
    private final byte[] kemPublicKey;
    private final byte[] signingPublicKey;
    private final String encoded;
    private final byte[] id;

    Recipient(KeyType type, byte[] kemPublicKey, byte[] signingPublicKey) {
        this.type = Objects.requireNonNull(type);
        this.kemPublicKey = kemPublicKey.clone();
        this.signingPublicKey = signingPublicKey.clone();
        if (signingPublicKey.length != SIGNING_KEY_LENGTH) {
            throw new IllegalArgumentException("Ed25519 public key must be 32 bytes");
        }
        this.encoded = Bech32.encode(type.recipientPrefix(), concat(kemPublicKey, signingPublicKey));
        this.id = computeId();
    }

    /** Parses a recipient string, checking its checksum, type and key sizes. */
    public static Recipient parse(String text) {
        String s = text.strip();
        Bech32.Decoded d = Bech32.decode(s, MAX_STRING, "recipient");
        KeyType type = KeyType.byRecipientPrefix(d.hrp());
        if (type == null) {
            if (d.hrp().startsWith("keyway-secret-key")) {
                throw KeywayException.usage("that is a secret key, not a recipient",
                        "give its recipient string (the public key), and keep the secret key private").hintId(HINT_SECRET_KEY);
            }
            throw KeywayException.malformed("unknown recipient type '" + d.hrp() + "'",
                    "recipient strings start with kwx25519, kwxwing, kwp256 or kwrsa3072");
        }
        byte[] data = d.data();
        int kemLength = data.length - SIGNING_KEY_LENGTH;
        if (kemLength <= 0 || (type.publicLength() > 0 && kemLength != type.publicLength())) {
            throw KeywayException.malformed(type.id() + " recipient has the wrong length", "copy the whole recipient string again");
        }
        Recipient r = new Recipient(type, Arrays.copyOf(data, kemLength), Arrays.copyOfRange(data, kemLength, data.length));
        KemKeys.checkPublic(type, r.kemPublicKey);
        return r;
    }

    public KeyType type() {
        return type;
    }

    /** The key-exchange public key (X25519 raw, X-Wing encoding, P-256 uncompressed point, RSA SPKI DER). */
    public byte[] kemPublicKey() {
        return kemPublicKey.clone();
    }

    /** The raw 32-byte Ed25519 public key. */
    public byte[] signingPublicKey() {
        return signingPublicKey.clone();
    }

    /** Checks an Ed25519 signature (RFC 8032, pure) made by this recipient's identity over {@code message}. */
    public boolean verify(byte[] message, byte[] signature) {
        if (signature.length != 64) {
            return false;
        }
        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, new Ed25519PublicKeyParameters(signingPublicKey, 0));
        verifier.update(message, 0, message.length);
        return verifier.verifySignature(signature);
    }

    /**
     * A short identifier: the first 8 bytes of SHA-256 over the type code and both public keys. Key
     * blobs carry it so that unwrapping with the wrong identity is reported as such.
     */
    public byte[] id() {
        return id.clone();
    }

    private byte[] computeId() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update((byte) type.code());
            md.update(kemPublicKey);
            md.update(signingPublicKey);
            return Arrays.copyOf(md.digest(), 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@link #id()} as hex. */
    public String idHex() {
        return Hex.encode(id());
    }

    /** The recipient string. */
    public String encode() {
        return encoded;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Recipient r && r.encoded.equals(encoded);
    }

    @Override
    public int hashCode() {
        return encoded.hashCode();
    }

    @Override
    public String toString() {
        return encoded;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
