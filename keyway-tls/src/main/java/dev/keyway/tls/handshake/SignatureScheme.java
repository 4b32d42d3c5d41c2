package dev.keyway.tls.handshake;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECKey;
import java.security.interfaces.RSAKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.Arrays;

/**
 * The signature schemes Keyway signs and verifies CertificateVerify with (RFC 8446 section 4.2.3), on the
 * JDK's Signature; rsa_pkcs1_sha256 only appears in certificate chains.
 */
public enum SignatureScheme {
    ECDSA_SECP256R1_SHA256(0x0403),
    ED25519(0x0807),
    RSA_PSS_RSAE_SHA256(0x0804),
    RSA_PKCS1_SHA256(0x0401);

    /**
     * The schemes Keyway offers and accepts, in its order of preference: the signature_algorithms of its ClientHello
     * and of its CertificateRequests (TLS 1.3 and 1.2), and what a TLS 1.2 client's CertificateVerify may use.
     */
    static final int[] OFFERED = {0x0403, 0x0807, 0x0804, 0x0401};

    private final int code;

    SignatureScheme(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public static SignatureScheme ofCode(int code) {
        for (SignatureScheme s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return null;
    }

    /** Schemes allowed in CertificateVerify (not PKCS #1 v1.5). */
    public boolean forHandshake() {
        return this != RSA_PKCS1_SHA256;
    }

    /** The scheme a key signs CertificateVerify with, or null when Keyway has none for it. */
    public static SignatureScheme forKey(Key key) {
        if (key instanceof ECKey ec && ec.getParams().getCurve().getField().getFieldSize() == 256) {
            return ECDSA_SECP256R1_SHA256;
        }
        if (key instanceof RSAKey) {
            return RSA_PSS_RSAE_SHA256;
        }
        if ("Ed25519".equals(key.getAlgorithm()) || "EdDSA".equals(key.getAlgorithm())) {
            return ED25519;
        }
        return null;
    }

    /** The signing key's algorithm as a TLS 1.2 suite names it: ECDSA, RSA or EdDSA. */
    String keyAlgorithm() {
        return switch (this) {
            case ECDSA_SECP256R1_SHA256 -> "ECDSA";
            case ED25519 -> "EdDSA";
            case RSA_PSS_RSAE_SHA256, RSA_PKCS1_SHA256 -> "RSA";
        };
    }

    /** Whether this scheme can be verified with {@code key}. */
    public boolean fits(PublicKey key) {
        return switch (this) {
            case ECDSA_SECP256R1_SHA256 -> key instanceof ECKey ec && ec.getParams().getCurve().getField().getFieldSize() == 256;
            case ED25519 -> "Ed25519".equals(key.getAlgorithm()) || "EdDSA".equals(key.getAlgorithm());
            case RSA_PSS_RSAE_SHA256, RSA_PKCS1_SHA256 -> key instanceof RSAKey;
        };
    }

    private Signature instance() throws GeneralSecurityException {
        return switch (this) {
            case ECDSA_SECP256R1_SHA256 -> Signature.getInstance("SHA256withECDSA");
            case ED25519 -> Signature.getInstance("Ed25519");
            case RSA_PSS_RSAE_SHA256 -> {
                Signature s = Signature.getInstance("RSASSA-PSS");
                s.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
                yield s;
            }
            case RSA_PKCS1_SHA256 -> Signature.getInstance("SHA256withRSA");
        };
    }

    public byte[] sign(PrivateKey key, byte[] content) {
        try {
            Signature s = instance();
            s.initSign(key, new SecureRandom());
            s.update(content);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("signing with " + this + " failed: " + e.getMessage(), e);
        }
    }

    public boolean verify(PublicKey key, byte[] content, byte[] signature) {
        try {
            Signature s = instance();
            s.initVerify(key);
            s.update(content);
            return s.verify(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** What CertificateVerify signs: 64 spaces, the context string, a zero byte, the transcript hash (4.4.3). */
    static byte[] certificateVerifyContent(boolean server, byte[] transcriptHash) {
        byte[] context = ("TLS 1.3, " + (server ? "server" : "client") + " CertificateVerify").getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[64 + context.length + 1 + transcriptHash.length];
        Arrays.fill(out, 0, 64, (byte) 0x20);
        System.arraycopy(context, 0, out, 64, context.length);
        System.arraycopy(transcriptHash, 0, out, 64 + context.length + 1, transcriptHash.length);
        return out;
    }

    /** {@link #OFFERED} as a supported_signature_algorithms vector (with its 16-bit length), as the extension and TLS 1.2's CertificateRequest carry it. */
    static byte[] offeredList() {
        Wire.Writer codes = new Wire.Writer();
        for (int s : OFFERED) {
            codes.u16(s);
        }
        return new Wire.Writer().vec16(codes.toByteArray()).toByteArray();
    }
}
