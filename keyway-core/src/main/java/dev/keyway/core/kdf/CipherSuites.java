package dev.keyway.core.kdf;

import dev.keyway.core.KeywayException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static dev.keyway.core.kdf.CipherSuite.Cipher.*;
import static dev.keyway.core.kdf.CipherSuite.KeyExchange.*;
import static dev.keyway.core.kdf.CipherSuite.MacAlgorithm.*;

/**
 * The cipher-suite table: every suite OpenSSL 3.0 offers by default ({@code openssl ciphers -stdname -V}),
 * which includes the classic RSA and ECDHE AES-CBC-SHA suites, in OpenSSL's preference order.
 */
public final class CipherSuites {

    private static final List<CipherSuite> ALL = List.of(
            s(0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", ANY, "ANY", AES_256_GCM, AEAD),
            s(0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", ANY, "ANY", CHACHA20_POLY1305, AEAD),
            s(0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", ANY, "ANY", AES_128_GCM, AEAD),
            s(0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", ECDHE, "ECDSA", AES_256_GCM, AEAD),
            s(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", ECDHE, "RSA", AES_256_GCM, AEAD),
            s(0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384", DHE, "RSA", AES_256_GCM, AEAD),
            s(0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", ECDHE, "ECDSA", CHACHA20_POLY1305, AEAD),
            s(0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", ECDHE, "RSA", CHACHA20_POLY1305, AEAD),
            s(0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "DHE-RSA-CHACHA20-POLY1305", DHE, "RSA", CHACHA20_POLY1305, AEAD),
            s(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", ECDHE, "ECDSA", AES_128_GCM, AEAD),
            s(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", ECDHE, "RSA", AES_128_GCM, AEAD),
            s(0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256", DHE, "RSA", AES_128_GCM, AEAD),
            s(0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE-ECDSA-AES256-SHA384", ECDHE, "ECDSA", AES_256_CBC, SHA384),
            s(0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", ECDHE, "RSA", AES_256_CBC, SHA384),
            s(0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE-RSA-AES256-SHA256", DHE, "RSA", AES_256_CBC, SHA256),
            s(0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256", ECDHE, "ECDSA", AES_128_CBC, SHA256),
            s(0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", ECDHE, "RSA", AES_128_CBC, SHA256),
            s(0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE-RSA-AES128-SHA256", DHE, "RSA", AES_128_CBC, SHA256),
            s(0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", ECDHE, "ECDSA", AES_256_CBC, SHA1),
            s(0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", ECDHE, "RSA", AES_256_CBC, SHA1),
            s(0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA", DHE, "RSA", AES_256_CBC, SHA1),
            s(0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", ECDHE, "ECDSA", AES_128_CBC, SHA1),
            s(0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", ECDHE, "RSA", AES_128_CBC, SHA1),
            s(0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA", DHE, "RSA", AES_128_CBC, SHA1),
            s(0x00AD, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384", "RSA-PSK-AES256-GCM-SHA384", RSA_PSK, "RSA", AES_256_GCM, AEAD),
            s(0x00AB, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384", "DHE-PSK-AES256-GCM-SHA384", DHE_PSK, "PSK", AES_256_GCM, AEAD),
            s(0xCCAE, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256", "RSA-PSK-CHACHA20-POLY1305", RSA_PSK, "RSA", CHACHA20_POLY1305, AEAD),
            s(0xCCAD, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256", "DHE-PSK-CHACHA20-POLY1305", DHE_PSK, "PSK", CHACHA20_POLY1305, AEAD),
            s(0xCCAC, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-PSK-CHACHA20-POLY1305", ECDHE_PSK, "PSK", CHACHA20_POLY1305, AEAD),
            s(0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", RSA, "RSA", AES_256_GCM, AEAD),
            s(0x00A9, "TLS_PSK_WITH_AES_256_GCM_SHA384", "PSK-AES256-GCM-SHA384", PSK, "PSK", AES_256_GCM, AEAD),
            s(0xCCAB, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256", "PSK-CHACHA20-POLY1305", PSK, "PSK", CHACHA20_POLY1305, AEAD),
            s(0x00AC, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256", "RSA-PSK-AES128-GCM-SHA256", RSA_PSK, "RSA", AES_128_GCM, AEAD),
            s(0x00AA, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256", "DHE-PSK-AES128-GCM-SHA256", DHE_PSK, "PSK", AES_128_GCM, AEAD),
            s(0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", RSA, "RSA", AES_128_GCM, AEAD),
            s(0x00A8, "TLS_PSK_WITH_AES_128_GCM_SHA256", "PSK-AES128-GCM-SHA256", PSK, "PSK", AES_128_GCM, AEAD),
            s(0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256", RSA, "RSA", AES_256_CBC, SHA256),
            s(0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", RSA, "RSA", AES_128_CBC, SHA256),
            s(0xC038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384", "ECDHE-PSK-AES256-CBC-SHA384", ECDHE_PSK, "PSK", AES_256_CBC, SHA384),
            s(0xC036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA", "ECDHE-PSK-AES256-CBC-SHA", ECDHE_PSK, "PSK", AES_256_CBC, SHA1),
            s(0xC021, "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA", "SRP-RSA-AES-256-CBC-SHA", SRP, "RSA", AES_256_CBC, SHA1),
            s(0xC020, "TLS_SRP_SHA_WITH_AES_256_CBC_SHA", "SRP-AES-256-CBC-SHA", SRP, "SRP", AES_256_CBC, SHA1),
            s(0x00B7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384", "RSA-PSK-AES256-CBC-SHA384", RSA_PSK, "RSA", AES_256_CBC, SHA384),
            s(0x00B3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384", "DHE-PSK-AES256-CBC-SHA384", DHE_PSK, "PSK", AES_256_CBC, SHA384),
            s(0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA", "RSA-PSK-AES256-CBC-SHA", RSA_PSK, "RSA", AES_256_CBC, SHA1),
            s(0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA", "DHE-PSK-AES256-CBC-SHA", DHE_PSK, "PSK", AES_256_CBC, SHA1),
            s(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", RSA, "RSA", AES_256_CBC, SHA1),
            s(0x00AF, "TLS_PSK_WITH_AES_256_CBC_SHA384", "PSK-AES256-CBC-SHA384", PSK, "PSK", AES_256_CBC, SHA384),
            s(0x008D, "TLS_PSK_WITH_AES_256_CBC_SHA", "PSK-AES256-CBC-SHA", PSK, "PSK", AES_256_CBC, SHA1),
            s(0xC037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", "ECDHE-PSK-AES128-CBC-SHA256", ECDHE_PSK, "PSK", AES_128_CBC, SHA256),
            s(0xC035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA", "ECDHE-PSK-AES128-CBC-SHA", ECDHE_PSK, "PSK", AES_128_CBC, SHA1),
            s(0xC01E, "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA", "SRP-RSA-AES-128-CBC-SHA", SRP, "RSA", AES_128_CBC, SHA1),
            s(0xC01D, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA", "SRP-AES-128-CBC-SHA", SRP, "SRP", AES_128_CBC, SHA1),
            s(0x00B6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256", "RSA-PSK-AES128-CBC-SHA256", RSA_PSK, "RSA", AES_128_CBC, SHA256),
            s(0x00B2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256", "DHE-PSK-AES128-CBC-SHA256", DHE_PSK, "PSK", AES_128_CBC, SHA256),
            s(0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA", "RSA-PSK-AES128-CBC-SHA", RSA_PSK, "RSA", AES_128_CBC, SHA1),
            s(0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA", "DHE-PSK-AES128-CBC-SHA", DHE_PSK, "PSK", AES_128_CBC, SHA1),
            s(0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", RSA, "RSA", AES_128_CBC, SHA1),
            s(0x00AE, "TLS_PSK_WITH_AES_128_CBC_SHA256", "PSK-AES128-CBC-SHA256", PSK, "PSK", AES_128_CBC, SHA256),
            s(0x008C, "TLS_PSK_WITH_AES_128_CBC_SHA", "PSK-AES128-CBC-SHA", PSK, "PSK", AES_128_CBC, SHA1)
    );

    private static final Map<Integer, CipherSuite> BY_CODE = new LinkedHashMap<>();
    private static final Map<String, CipherSuite> BY_NAME = new LinkedHashMap<>();

    static {
        for (CipherSuite s : ALL) {
            BY_CODE.put(s.code(), s);
            BY_NAME.put(s.name(), s);
            BY_NAME.put(s.opensslName().toUpperCase(Locale.ROOT), s);
        }
    }

    private CipherSuites() {
    }

    private static CipherSuite s(int code, String name, String openssl, CipherSuite.KeyExchange kx, String auth,
                                 CipherSuite.Cipher cipher, CipherSuite.MacAlgorithm mac) {
        Prf12.Hash hash = name.endsWith("_SHA384") ? Prf12.Hash.SHA384 : Prf12.Hash.SHA256;
        return new CipherSuite(code, name, openssl, kx, auth, cipher, mac, hash, (code >> 8) == 0x13);
    }

    /** Every suite in the table, OpenSSL's default order. */
    public static List<CipherSuite> all() {
        return ALL;
    }

    /** The suite with this IANA code, or null. */
    public static CipherSuite byCode(int code) {
        return BY_CODE.get(code);
    }

    /**
     * A suite named by its IANA name, its OpenSSL name (any case) or its code ("0xC02F" or "C02F").
     *
     * @throws KeywayException (usage) naming where the list is, when nothing matches
     */
    public static CipherSuite parse(String text) {
        String t = text.trim();
        CipherSuite s = BY_NAME.get(t.toUpperCase(Locale.ROOT));
        if (s == null) {
            String hex = t.toLowerCase(Locale.ROOT).startsWith("0x") ? t.substring(2) : t;
            if (hex.matches("[0-9a-fA-F]{4}")) {
                s = BY_CODE.get(Integer.parseInt(hex, 16));
            }
        }
        if (s == null) {
            throw KeywayException.usage("unknown cipher suite '" + text + "'",
                    "give an IANA name, an OpenSSL name or a code like 0xC02F; 'keyway tls suites' lists them");
        }
        return s;
    }
}
