package dev.keyway.tls.config;

import dev.keyway.core.KeywayException;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Which suites a {@link TlsConfig} may offer: TLS 1.3's, and TLS 1.2's ECDHE with AEAD ciphers; static RSA key
 * transport (no forward secrecy) and CBC (MAC-then-encrypt) only when the config allows them.
 */
final class SuitePolicy {
    /** TLS 1.3's three suites, then TLS 1.2's ECDHE AEAD suites (used only when TLS 1.2 is enabled). */
    static final List<CipherSuite> DEFAULT_SUITES = codes(0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8);

    private SuitePolicy() {
    }

    /** The suites of a config that chose none: the defaults, then the legacy suites it allows. */
    static List<CipherSuite> defaults(boolean legacyRsaKeyExchange, boolean legacyCbc) {
        List<CipherSuite> all = new ArrayList<>(DEFAULT_SUITES);
        if (legacyRsaKeyExchange) {
            all.addAll(codes(0x009C, 0x009D));
        }
        if (legacyCbc) {
            all.addAll(codes(0xC023, 0xC027, 0xC024, 0xC028, 0xC009, 0xC013, 0xC00A, 0xC014));
        }
        if (legacyRsaKeyExchange && legacyCbc) {
            all.addAll(codes(0x003C, 0x002F, 0x0035));
        }
        return all;
    }

    /**
     * Refuses (a usage error) a suite Keyway does not offer, or a legacy one the config does not allow; the hint
     * names the {@link TlsConfig.Builder} setting that allows it.
     */
    static void check(List<CipherSuite> suites, boolean legacyRsaKeyExchange, boolean legacyCbc) {
        for (CipherSuite s : suites) {
            if (s.tls13()) {
                continue;
            }
            boolean rsa = s.keyExchange() == CipherSuite.KeyExchange.RSA && "RSA".equals(s.auth());
            boolean ecdhe = s.keyExchange() == CipherSuite.KeyExchange.ECDHE && ("ECDSA".equals(s.auth()) || "RSA".equals(s.auth()));
            boolean cbc = !s.cipher().aead();
            if (!rsa && !ecdhe) {
                throw KeywayException.usage(s.name() + " is not a suite Keyway offers", "offer TLS 1.3 suites, or TLS 1.2 ones with ECDHE or RSA");
            }
            if (rsa && !legacyRsaKeyExchange) {
                throw KeywayException.usage(s.name() + " uses static RSA key transport (no forward secrecy)",
                        "allow it with TlsConfig.Builder.legacyRsaKeyExchange(true)");
            }
            if (cbc && !legacyCbc) {
                throw KeywayException.usage(s.name() + " uses CBC with MAC-then-encrypt", "allow it with TlsConfig.Builder.legacyCbc(true)");
            }
        }
    }

    private static List<CipherSuite> codes(int... codes) {
        return IntStream.of(codes).mapToObj(CipherSuites::byCode).toList();
    }
}
