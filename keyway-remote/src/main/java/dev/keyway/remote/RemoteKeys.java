package dev.keyway.remote;

import dev.keyway.core.identity.Identity;
import dev.keyway.tls.cert.Certificates;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * How a Keyway identity proves itself to a host, and a host to its clients: the identity's Ed25519 signing key
 * as a TLS certificate key (RFC 8410 encodings), and the proof that binds that key to one TLS connection.
 *
 * <p>In a full handshake the client's CertificateVerify proves the key. A resumed handshake has no certificate
 * (RFC 8446 section 4.3.2 forbids a CertificateRequest in it), and a ticket is a bearer token that anyone holding a
 * copy can use, so every connection's first frame is a HELLO with an Ed25519 signature over
 * {@link #PROOF_CONTEXT} and the connection's exporter value ({@link #EXPORTER_LABEL}, RFC 8446 section 7.5): it
 * cannot be replayed on another connection, and only the key the session's certificate named can make it.
 */
final class RemoteKeys {
    static final String EXPORTER_LABEL = "EXPORTER-keyway-remote-hello";
    static final byte[] PROOF_CONTEXT = "keyway remote hello v1\0".getBytes(StandardCharsets.US_ASCII);
    /** The ALPN protocol of a remote session (RFC 7301): a host refuses any other. */
    static final String ALPN = "keyway-remote/1";
    private static final byte[] PKCS8_PREFIX = HexFormat.of().parseHex("302e020100300506032b657004220420");
    private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private RemoteKeys() {
    }

    /** The identity's Ed25519 signing key as a JCA key pair (for a TLS certificate). */
    static KeyPair signingKeyPair(Identity identity) {
        byte[] seed = identity.signingSeed();
        byte[] pkcs8 = concat(PKCS8_PREFIX, seed);
        try {
            KeyFactory kf = KeyFactory.getInstance("Ed25519");
            PrivateKey priv = kf.generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            PublicKey pub = kf.generatePublic(new X509EncodedKeySpec(concat(SPKI_PREFIX, identity.recipient().signingPublicKey())));
            return new KeyPair(pub, priv);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has Ed25519 (JEP 339)", e);
        } finally {
            Arrays.fill(seed, (byte) 0);
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    /**
     * A short-lived self-signed certificate for the identity's signing key: what a client shows in the TLS handshake.
     * Its names mean nothing; the host looks only at the key.
     */
    static X509Certificate clientCertificate(Identity identity, KeyPair keys) {
        return Certificates.selfSigned(keys, "keyway-remote-client " + identity.recipient().idHex(), List.of(), Duration.ofDays(1));
    }

    /** The raw 32-byte Ed25519 key of a certificate, or null when its key is not Ed25519. */
    static byte[] ed25519Key(X509Certificate cert) {
        byte[] spki = cert.getPublicKey().getEncoded();
        if (spki.length != SPKI_PREFIX.length + 32 || !Arrays.equals(spki, 0, SPKI_PREFIX.length, SPKI_PREFIX, 0, SPKI_PREFIX.length)) {
            return null;
        }
        return Arrays.copyOfRange(spki, SPKI_PREFIX.length, spki.length);
    }

    /** The message a HELLO signs: the context string, then the connection's 32-byte exporter value. */
    static byte[] proofMessage(byte[] exporter) {
        return concat(PROOF_CONTEXT, exporter);
    }

    static boolean verify(byte[] ed25519Public, byte[] message, byte[] signature) {
        if (signature.length != 64) {
            return false;
        }
        Ed25519Signer v = new Ed25519Signer();
        try {
            v.init(false, new Ed25519PublicKeyParameters(ed25519Public, 0));
        } catch (IllegalArgumentException e) {
            return false;
        }
        v.update(message, 0, message.length);
        return v.verifySignature(signature);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
