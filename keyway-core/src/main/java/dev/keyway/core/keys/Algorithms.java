package dev.keyway.core.keys;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.keys.Algorithm.Family;
import dev.keyway.core.keys.Algorithm.Status;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The algorithm registry: every algorithm Keyway makes session keys for, with its key-length policy.
 * Like the per-provider key-length tables of Windows CryptoAPI, but one table. The legacy rows match the
 * Microsoft Enhanced/Strong providers' ranges so that keys of old data can be represented exactly.
 */
public final class Algorithms {
    public static final Algorithm AES_128_GCM = new Algorithm("AES-128-GCM", 1, Family.PLAIN, 128, 128, 128, 64,
            Status.MODERN, List.of("aes128gcm", "aes-128"), "authenticated encryption");
    public static final Algorithm AES_192_GCM = new Algorithm("AES-192-GCM", 2, Family.PLAIN, 192, 192, 192, 64,
            Status.MODERN, List.of("aes192gcm", "aes-192"), "authenticated encryption");
    public static final Algorithm AES_256_GCM = new Algorithm("AES-256-GCM", 3, Family.PLAIN, 256, 256, 256, 64,
            Status.MODERN, List.of("aes256gcm", "aes-256", "aes"), "authenticated encryption (Keyway's default)");
    public static final Algorithm CHACHA20_POLY1305 = new Algorithm("ChaCha20-Poly1305", 4, Family.PLAIN, 256, 256, 256, 64,
            Status.MODERN, List.of("chacha20poly1305", "chacha20", "chacha"), "authenticated encryption");
    public static final Algorithm AES_KW = new Algorithm("AES-KW", 5, Family.PLAIN, 128, 256, 256, 64,
            Status.MODERN, List.of("aeskw", "aes-kwp", "aeskwp", "kek"), "key-encryption key (RFC 3394 / RFC 5649 key wrap)");
    public static final Algorithm HMAC_SHA256 = new Algorithm("HMAC-SHA-256", 6, Family.PLAIN, 128, 256, 512, 8,
            Status.MODERN, List.of("hmac-sha256", "hmacsha256", "hmac"), "message authentication");
    public static final Algorithm HMAC_SHA384 = new Algorithm("HMAC-SHA-384", 7, Family.PLAIN, 192, 384, 1024, 8,
            Status.MODERN, List.of("hmac-sha384", "hmacsha384"), "message authentication");
    public static final Algorithm RC2 = new Algorithm("RC2", 8, Family.PLAIN, 40, 128, 128, 8,
            Status.LEGACY, List.of(), "legacy block cipher: read old data only");
    public static final Algorithm RC4 = new Algorithm("RC4", 9, Family.PLAIN, 40, 128, 128, 8,
            Status.LEGACY, List.of("arcfour"), "legacy stream cipher: read old data only");
    public static final Algorithm DES = new Algorithm("DES", 10, Family.DES_PARITY, 56, 56, 56, 56,
            Status.LEGACY, List.of(), "legacy block cipher: read old data only");
    public static final Algorithm DES3_112 = new Algorithm("3DES-112", 11, Family.DES_PARITY, 112, 112, 112, 56,
            Status.LEGACY, List.of("3des112", "des3-112", "tripledes-112"), "legacy two-key triple DES: read old data only");
    public static final Algorithm DES3 = new Algorithm("3DES", 12, Family.DES_PARITY, 168, 168, 168, 56,
            Status.LEGACY, List.of("des3", "tripledes", "des-ede3"), "legacy three-key triple DES: read old data only");

    private static final List<Algorithm> ALL = List.of(AES_128_GCM, AES_192_GCM, AES_256_GCM, CHACHA20_POLY1305,
            AES_KW, HMAC_SHA256, HMAC_SHA384, RC2, RC4, DES, DES3_112, DES3);

    /** The algorithm {@code keyway key new} uses when none is named. */
    public static final Algorithm DEFAULT = AES_256_GCM;

    private Algorithms() {
    }

    /** Every registered algorithm, modern first. */
    public static List<Algorithm> all() {
        return ALL;
    }

    /** Looks an algorithm up by name or alias, ignoring case. */
    public static Optional<Algorithm> find(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (Algorithm a : ALL) {
            if (a.name().toLowerCase(Locale.ROOT).equals(n) || a.aliases().contains(n)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }

    /** Like {@link #find} but throws a usage error that lists the known names. */
    public static Algorithm byName(String name) {
        return find(name).orElseThrow(() -> KeywayException.usage("unknown algorithm '" + Printable.escape(name) + "'",
                "run 'keyway algorithms' to see the names Keyway knows"));
    }

    public static Optional<Algorithm> byId(int id) {
        for (Algorithm a : ALL) {
            if (a.id() == id) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }
}
