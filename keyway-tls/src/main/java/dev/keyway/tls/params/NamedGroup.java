package dev.keyway.tls.params;

import dev.keyway.core.KeywayException;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.SecretWithEncapsulation;
import org.bouncycastle.crypto.agreement.ECDHBasicAgreement;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.generators.ECKeyPairGenerator;
import org.bouncycastle.crypto.generators.MLKEMKeyPairGenerator;
import org.bouncycastle.crypto.kems.MLKEMExtractor;
import org.bouncycastle.crypto.kems.MLKEMGenerator;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECKeyGenerationParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.MLKEMKeyGenerationParameters;
import org.bouncycastle.crypto.params.MLKEMParameters;
import org.bouncycastle.crypto.params.MLKEMPrivateKeyParameters;
import org.bouncycastle.crypto.params.MLKEMPublicKeyParameters;
import org.bouncycastle.util.BigIntegers;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Locale;

/**
 * The key-exchange groups Keyway's TLS offers (RFC 8446 section 4.2.7), with Bouncy Castle's X25519,
 * P-256 and ML-KEM-768. X25519MLKEM768 (RFC 10024, code 0x11ec) concatenates ML-KEM first: the client's
 * share is the ML-KEM-768 encapsulation key then the X25519 key, the server's the ML-KEM ciphertext then
 * its X25519 key, and the shared secret the ML-KEM secret then the X25519 secret.
 */
public enum NamedGroup {
    X25519MLKEM768(0x11ec, "X25519MLKEM768"),
    X25519(0x001d, "x25519"),
    SECP256R1(0x0017, "secp256r1");

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final X9ECParameters P256 = CustomNamedCurves.getByName("secp256r1");
    private static final ECDomainParameters P256_DOMAIN = new ECDomainParameters(P256.getCurve(), P256.getG(), P256.getN(), P256.getH());
    static final int MLKEM768_EK = 1184;
    static final int MLKEM768_CT = 1088;

    private final int code;
    private final String label;

    NamedGroup(int code, String label) {
        this.code = code;
        this.label = label;
    }

    public int code() {
        return code;
    }

    public String label() {
        return label;
    }

    public static NamedGroup ofCode(int code) {
        for (NamedGroup g : values()) {
            if (g.code == code) {
                return g;
            }
        }
        return null;
    }

    /** x25519, secp256r1 (or p256, prime256v1), X25519MLKEM768 (any case). */
    public static NamedGroup parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        for (NamedGroup g : values()) {
            if (g.label.toLowerCase(Locale.ROOT).equals(t)) {
                return g;
            }
        }
        if (t.equals("p256") || t.equals("p-256") || t.equals("prime256v1")) {
            return SECP256R1;
        }
        throw KeywayException.usage("unknown group '" + text + "'", "use x25519, secp256r1 or X25519MLKEM768");
    }

    /** The client's half: a fresh key pair and what goes in its key_share. */
    public ClientShare generate() {
        return switch (this) {
            case X25519 -> {
                byte[] sk = new byte[32];
                org.bouncycastle.math.ec.rfc7748.X25519.generatePrivateKey(RANDOM, sk);
                byte[] pk = new byte[32];
                org.bouncycastle.math.ec.rfc7748.X25519.generatePublicKey(sk, 0, pk, 0);
                yield new ClientShare(this, pk, sk, null, null);
            }
            case SECP256R1 -> {
                ECKeyPairGenerator g = new ECKeyPairGenerator();
                g.init(new ECKeyGenerationParameters(P256_DOMAIN, RANDOM));
                AsymmetricCipherKeyPair kp = g.generateKeyPair();
                yield new ClientShare(this, ((ECPublicKeyParameters) kp.getPublic()).getQ().getEncoded(false), null,
                        (ECPrivateKeyParameters) kp.getPrivate(), null);
            }
            case X25519MLKEM768 -> {
                MLKEMKeyPairGenerator g = new MLKEMKeyPairGenerator();
                g.init(new MLKEMKeyGenerationParameters(RANDOM, MLKEMParameters.ml_kem_768));
                AsymmetricCipherKeyPair kp = g.generateKeyPair();
                byte[] ek = ((MLKEMPublicKeyParameters) kp.getPublic()).getEncoded();
                ClientShare x = X25519.generate();
                byte[] share = concat(ek, x.keyExchange());
                yield new ClientShare(this, share, x.x25519Private, null, (MLKEMPrivateKeyParameters) kp.getPrivate());
            }
        };
    }

    /** The server's half: its key_share and the shared secret, from the client's share. */
    public ServerShare respond(byte[] clientShare) {
        return switch (this) {
            case X25519 -> {
                requireLength(clientShare, 32);
                byte[] sk = new byte[32];
                org.bouncycastle.math.ec.rfc7748.X25519.generatePrivateKey(RANDOM, sk);
                byte[] pk = new byte[32];
                org.bouncycastle.math.ec.rfc7748.X25519.generatePublicKey(sk, 0, pk, 0);
                byte[] secret = x25519(sk, clientShare);
                Arrays.fill(sk, (byte) 0);
                yield new ServerShare(pk, secret);
            }
            case SECP256R1 -> {
                ClientShare mine = generate();
                yield new ServerShare(mine.keyExchange(), mine.finish(clientShare));
            }
            case X25519MLKEM768 -> {
                requireLength(clientShare, MLKEM768_EK + 32);
                MLKEMPublicKeyParameters ek;
                try {
                    ek = new MLKEMPublicKeyParameters(MLKEMParameters.ml_kem_768, Arrays.copyOf(clientShare, MLKEM768_EK));
                } catch (IllegalArgumentException e) {
                    throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the ML-KEM encapsulation key is not valid");
                }
                SecretWithEncapsulation enc = new MLKEMGenerator(RANDOM).generateEncapsulated(ek);
                ServerShare x = X25519.respond(Arrays.copyOfRange(clientShare, MLKEM768_EK, clientShare.length));
                yield new ServerShare(concat(enc.getEncapsulation(), x.keyExchange()), concat(enc.getSecret(), x.sharedSecret()));
            }
        };
    }

    /** A client's pending key exchange. */
    public static final class ClientShare {
        private final NamedGroup group;
        private final byte[] keyExchange;
        private final byte[] x25519Private;
        private final ECPrivateKeyParameters ecPrivate;
        private final MLKEMPrivateKeyParameters mlkemPrivate;

        ClientShare(NamedGroup group, byte[] keyExchange, byte[] x25519Private, ECPrivateKeyParameters ecPrivate,
                    MLKEMPrivateKeyParameters mlkemPrivate) {
            this.group = group;
            this.keyExchange = keyExchange;
            this.x25519Private = x25519Private;
            this.ecPrivate = ecPrivate;
            this.mlkemPrivate = mlkemPrivate;
        }

        public NamedGroup group() {
            return group;
        }

        public byte[] keyExchange() {
            return keyExchange.clone();
        }

        /** The shared secret from the server's share; a bad share is an illegal_parameter alert. */
        public byte[] finish(byte[] serverShare) {
            return switch (group) {
                case X25519 -> {
                    requireLength(serverShare, 32);
                    yield x25519(x25519Private, serverShare);
                }
                case SECP256R1 -> {
                    requireLength(serverShare, 65);
                    if (serverShare[0] != 4) {
                        // only the uncompressed form (RFC 8422 section 5.4.1, RFC 8446 section 4.2.8.2), not the hybrid one
                        throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the peer's P-256 share is not an uncompressed point");
                    }
                    try {
                        ECPublicKeyParameters peer = new ECPublicKeyParameters(P256.getCurve().decodePoint(serverShare), P256_DOMAIN);
                        ECDHBasicAgreement a = new ECDHBasicAgreement();
                        a.init(ecPrivate);
                        yield BigIntegers.asUnsignedByteArray(32, a.calculateAgreement(peer));
                    } catch (IllegalArgumentException | IllegalStateException e) {
                        throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the peer's P-256 share is not a point on the curve");
                    }
                }
                case X25519MLKEM768 -> {
                    requireLength(serverShare, MLKEM768_CT + 32);
                    byte[] ss = new MLKEMExtractor(mlkemPrivate).extractSecret(Arrays.copyOf(serverShare, MLKEM768_CT));
                    byte[] x = x25519(x25519Private, Arrays.copyOfRange(serverShare, MLKEM768_CT, serverShare.length));
                    yield concat(ss, x);
                }
            };
        }
    }

    /** The server's key_share and the shared secret. */
    public record ServerShare(byte[] keyExchange, byte[] sharedSecret) {
    }

    private static byte[] x25519(byte[] sk, byte[] peer) {
        byte[] out = new byte[32];
        if (!org.bouncycastle.math.ec.rfc7748.X25519.calculateAgreement(sk, 0, peer, 0, out, 0)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "the peer's X25519 share gives an all-zero secret");
        }
        return out;
    }

    private static void requireLength(byte[] share, int n) {
        if (share.length != n) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "key share of " + share.length + " bytes (expected " + n + ")");
        }
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
