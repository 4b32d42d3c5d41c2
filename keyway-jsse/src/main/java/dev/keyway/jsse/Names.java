package dev.keyway.jsse;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.TlsVersion;

import java.security.PublicKey;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/** JSSE's names for Keyway's versions, suites and signature schemes. */
final class Names {
    static final String TLS13 = "TLSv1.3";
    static final String TLS12 = "TLSv1.2";

    /** The signature schemes Keyway's handshakes can verify and make, in JSSE's (IANA's) spelling. */
    static final String[] SIGNATURE_SCHEMES = {"ecdsa_secp256r1_sha256", "ed25519", "rsa_pss_rsae_sha256", "rsa_pkcs1_sha256"};

    /** IANA names of the TLS signature schemes (RFC 8446 section 4.2.3), by code point. */
    private static final Map<Integer, String> SCHEME_NAMES = Map.ofEntries(
            Map.entry(0x0401, "rsa_pkcs1_sha256"), Map.entry(0x0501, "rsa_pkcs1_sha384"),
            Map.entry(0x0601, "rsa_pkcs1_sha512"), Map.entry(0x0403, "ecdsa_secp256r1_sha256"),
            Map.entry(0x0503, "ecdsa_secp384r1_sha384"), Map.entry(0x0603, "ecdsa_secp521r1_sha512"),
            Map.entry(0x0804, "rsa_pss_rsae_sha256"), Map.entry(0x0805, "rsa_pss_rsae_sha384"),
            Map.entry(0x0806, "rsa_pss_rsae_sha512"), Map.entry(0x0807, "ed25519"),
            Map.entry(0x0808, "ed448"), Map.entry(0x0809, "rsa_pss_pss_sha256"),
            Map.entry(0x080a, "rsa_pss_pss_sha384"), Map.entry(0x080b, "rsa_pss_pss_sha512"),
            Map.entry(0x0201, "rsa_pkcs1_sha1"), Map.entry(0x0203, "ecdsa_sha1"));

    private Names() {
    }

    /** The names of the schemes a peer listed, in its order; code points without a name are left out. */
    static String[] signatureSchemes(List<Integer> codes) {
        return codes.stream().map(SCHEME_NAMES::get).filter(Objects::nonNull).toArray(String[]::new);
    }

    static String protocol(TlsVersion v) {
        return switch (v) {
            case TLS13 -> TLS13;
            case TLS12 -> TLS12;
            default -> throw new IllegalArgumentException(v.toString());
        };
    }

    /** A JSSE protocol name as Keyway's version; IllegalArgumentException for one Keyway does not speak. */
    static TlsVersion version(String protocol) {
        return switch (protocol) {
            case TLS13 -> TlsVersion.TLS13;
            case TLS12 -> TlsVersion.TLS12;
            default -> throw new IllegalArgumentException("protocol " + protocol + " is not supported by the Keyway provider (TLSv1.3 and TLSv1.2 are)");
        };
    }

    /** The suite by its IANA name ({@code TLS_AES_128_GCM_SHA256}); IllegalArgumentException when unknown. */
    static CipherSuite suite(String name) {
        for (CipherSuite s : CipherSuites.all()) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("cipher suite " + name + " is not supported by the Keyway provider");
    }

    static String[] names(List<CipherSuite> suites) {
        return suites.stream().map(CipherSuite::name).toArray(String[]::new);
    }

    /**
     * The {@code authType} a JSSE trust manager expects for a server's chain: {@code UNKNOWN} in TLS 1.3 (the
     * suite does not say), the key exchange and signature in TLS 1.2 ({@code ECDHE_ECDSA}, {@code ECDHE_RSA},
     * {@code RSA}).
     */
    static String serverAuthType(TlsVersion v, CipherSuite s) {
        if (v == TlsVersion.TLS13) {
            return "UNKNOWN";
        }
        if (s.keyExchange() == CipherSuite.KeyExchange.RSA) {
            return "RSA";
        }
        return s.keyExchange().name().toUpperCase(Locale.ROOT) + "_" + s.auth();
    }

    /** The {@code authType} for a client's chain: its key's algorithm, as the JDK passes it. */
    static String clientAuthType(PublicKey key) {
        String a = key.getAlgorithm();
        return switch (a) {
            case "EC", "RSA" -> a;
            case "Ed25519", "EdDSA" -> "EdDSA";
            default -> a;
        };
    }
}
