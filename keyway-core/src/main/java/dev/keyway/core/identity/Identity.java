package dev.keyway.core.identity;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Bech32;
import dev.keyway.core.keys.Secret;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

import java.util.Arrays;
import java.util.Objects;

/**
 * A private identity: a key-exchange private key of one {@link KeyType} and an Ed25519 signing key.
 * Its text form is a Bech32m secret key string, {@code KEYWAY-SECRET-KEY-<TYPE>-1...}, whose data is the
 * 32-byte Ed25519 seed followed by the key-exchange private key. Public keys are always recomputed from
 * the private ones, never trusted from input. Never printed by {@link #toString()}.
 */
public final class Identity extends Secret implements AutoCloseable {
    static final int MAX_SECRET_STRING = 8192;

    private final KeyType type;
    private final byte[] kemPrivateKey;
    private final byte[] signingSeed;
    private final Recipient recipient;

    private Identity(KeyType type, byte[] kemPrivateKey, byte[] signingSeed) {
        super(kemPrivateKey, signingSeed);
        this.type = Objects.requireNonNull(type);
        this.kemPrivateKey = kemPrivateKey;
        this.signingSeed = signingSeed;
        this.recipient = new Recipient(type, KemKeys.publicFromPrivate(type, kemPrivateKey), KemKeys.signingPublic(signingSeed));
    }

    /** A new identity of the given type with fresh keys from {@link java.security.SecureRandom}. */
    public static Identity generate(KeyType type) {
        byte[][] kp = KemKeys.generate(type);
        return new Identity(type, kp[0], KemKeys.newSigningSeed());
    }

    /** Parses a secret key string. */
    public static Identity parse(String text) {
        Bech32.Decoded d = Bech32.decode(text.strip(), MAX_SECRET_STRING, "secret key");
        KeyType type = KeyType.bySecretPrefix(d.hrp());
        if (type == null) {
            if (KeyType.byRecipientPrefix(d.hrp()) != null) {
                throw KeywayException.usage("that is a recipient (public key), not an identity",
                        "give the identity file made by 'keyway keygen'");
            }
            throw KeywayException.malformed("unknown secret key type '" + d.hrp() + "'",
                    "give an identity file made by 'keyway keygen'");
        }
        byte[] data = d.data();
        try {
            if (data.length <= Recipient.SIGNING_KEY_LENGTH
                    || (type.privateLength() > 0 && data.length != Recipient.SIGNING_KEY_LENGTH + type.privateLength())) {
                throw KeywayException.malformed("the " + type.id() + " secret key has the wrong length",
                        "check that the identity file is intact");
            }
            return new Identity(type, Arrays.copyOfRange(data, Recipient.SIGNING_KEY_LENGTH, data.length),
                    Arrays.copyOf(data, Recipient.SIGNING_KEY_LENGTH));
        } finally {
            Arrays.fill(data, (byte) 0);
        }
    }

    public KeyType type() {
        return type;
    }

    public Recipient recipient() {
        return recipient;
    }

    /** A copy of the key-exchange private key; the caller zeroes it when done. */
    public byte[] kemPrivateKey() {
        return copy(kemPrivateKey);
    }

    /** A copy of the 32-byte Ed25519 seed; the caller zeroes it when done. */
    public byte[] signingSeed() {
        return copy(signingSeed);
    }

    /** The secret key string. Treat it as the secret it is. */
    public String encodeSecret() {
        checkAlive();
        byte[] data = Recipient.concat(signingSeed, kemPrivateKey);
        try {
            return Bech32.encodeUpper(type.secretPrefix(), data);
        } finally {
            Arrays.fill(data, (byte) 0);
        }
    }

    /** An Ed25519 signature (RFC 8032, pure) over {@code message} with this identity's signing key. */
    public byte[] sign(byte[] message) {
        checkAlive();
        // With the public key this identity already holds: the signer would otherwise derive it again (a second
        // scalar multiplication per signature).
        byte[] signature = new byte[Ed25519.SIGNATURE_SIZE];
        Ed25519.sign(signingSeed, 0, recipient.signingPublicKey(), 0, message, 0, message.length, signature, 0);
        return signature;
    }

    @Override
    public void close() {
        destroy();
    }

    @Override
    protected String describe() {
        return type.id() + ", recipient " + recipient.idHex();
    }
}
