package dev.keyway.cli;

import dev.keyway.capi.CapiKey;
import dev.keyway.capi.CipherAlg;
import dev.keyway.capi.CryptDeriveKey;
import dev.keyway.capi.HashAlg;
import dev.keyway.capi.Provider;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Where a CryptoAPI session key comes from: given (--key/--key-file, with --salt and --effective-bits for
 * RC2/RC4) or derived the way CryptDeriveKey does it (--hash with --password-file, --data-hex or
 * --hash-value). Shared by capi derive, encrypt, decrypt, export-blob and convert.
 */
final class CapiKeyOptions {
    @Option(names = "--key", paramLabel = "HEX", description = "The session key in hex (visible in the process list; --key-file is not).")
    String keyHex;

    @Option(names = "--key-file", paramLabel = "FILE", description = "Read the session key (hex) from FILE, or - for stdin.")
    String keyFile;

    @Option(names = "--salt", paramLabel = "HEX", description = "With --key: RC2/RC4 salt (KP_SALT) appended to the key, e.g. 11 zero bytes for a 40-bit key.")
    String saltHex;

    @Option(names = "--effective-bits", paramLabel = "N", description = "With --key: RC2's effective key length (KP_EFFECTIVE_KEYLEN; default: the key's bits).")
    Integer effectiveBits;

    @Option(names = "--hash", paramLabel = "NAME", description = "Derive the key: the hash the program used (md2, md4, md5, sha1, sha256, sha384, sha512).")
    String hash;

    @Option(names = "--password-file", paramLabel = "FILE", description = "Derive from the password in FILE (its bytes as the program hashed them; one trailing newline ignored).")
    String passwordFile;

    @Option(names = "--password-encoding", paramLabel = "ENC", defaultValue = "bytes",
            description = "How the program turned the password into bytes: bytes (as in the file, default) or utf16le (a Windows wide string).")
    String passwordEncoding;

    @Option(names = "--data-hex", paramLabel = "HEX", description = "Derive from these base-data bytes (CryptHashData's input).")
    String dataHex;

    @Option(names = "--hash-value", paramLabel = "HEX", description = "Derive from a finished hash value (HP_HASHVAL).")
    String hashValueHex;

    @Option(names = "--bits", paramLabel = "N", description = "Key length in bits (dwFlags' upper word; default: the provider's default).")
    Integer bits;

    @Option(names = "--provider", paramLabel = "NAME", description = "base, enhanced, strong or aes (default: strong, or aes for AES and SHA-2).")
    String provider;

    @Option(names = "--create-salt", description = "CRYPT_CREATE_SALT: a 40-bit key's salt from the hash bytes after the key.")
    boolean createSalt;

    @Option(names = "--no-salt", description = "CRYPT_NO_SALT: no salt on a 40-bit key.")
    boolean noSalt;

    boolean derives() {
        return hash != null || passwordFile != null || dataHex != null || hashValueHex != null;
    }

    /** The key for {@code alg}, given or derived; exactly one source is required. */
    CapiKey key(CipherAlg alg) {
        boolean given = keyHex != null || keyFile != null;
        if (given == derives() || (keyHex != null && keyFile != null)) {
            throw KeywayException.usage("give the key one way: --key HEX, --key-file FILE, or --hash with one of --password-file, --data-hex, --hash-value",
                    "see --help");
        }
        if (given) {
            if (hash != null || bits != null || provider != null || createSalt || noSalt) {
                throw KeywayException.usage("--bits, --provider, --create-salt and --no-salt are for deriving a key", "drop them with --key");
            }
            byte[] key = keyHex != null ? hex(keyHex, "--key")
                    : hex(new String(CliIo.readSecret(keyFile, "key file"), StandardCharsets.US_ASCII), "key file");
            byte[] salt = saltHex == null ? new byte[0] : hex(saltHex, "--salt");
            try {
                return new CapiKey(alg, key, salt, effectiveBits == null ? key.length * 8 : effectiveBits);
            } finally {
                Arrays.fill(key, (byte) 0);
            }
        }
        if (saltHex != null || effectiveBits != null) {
            throw KeywayException.usage("--salt and --effective-bits are for a given --key", "a derived key gets them from CryptDeriveKey's rules");
        }
        return derive(alg);
    }

    CapiKey derive(CipherAlg alg) {
        if (hash == null) {
            throw KeywayException.usage("deriving a key needs --hash", "name the hash the program used, e.g. --hash sha1");
        }
        int sources = (passwordFile != null ? 1 : 0) + (dataHex != null ? 1 : 0) + (hashValueHex != null ? 1 : 0);
        if (sources != 1) {
            throw KeywayException.usage("give exactly one of --password-file, --data-hex, --hash-value", "see --help");
        }
        HashAlg h = HashAlg.parse(hash);
        Provider p = provider == null ? Provider.defaultFor(alg, h) : Provider.parse(provider);
        int flags = (bits == null ? 0 : bits << 16) | (createSalt ? CryptDeriveKey.CRYPT_CREATE_SALT : 0)
                | (noSalt ? CryptDeriveKey.CRYPT_NO_SALT : 0);
        if (bits != null && (bits < 1 || bits > 0xffff)) {
            throw KeywayException.usage("--bits must be 1 to 65535", "give the key length in bits");
        }
        if (hashValueHex != null) {
            byte[] hv = hex(hashValueHex, "--hash-value");
            try {
                return CryptDeriveKey.derive(p, alg, h, hv, flags);
            } finally {
                Arrays.fill(hv, (byte) 0);
            }
        }
        byte[] data = dataHex != null ? hex(dataHex, "--data-hex") : password();
        try {
            return CryptDeriveKey.deriveFromData(p, alg, h, data, flags);
        } finally {
            Arrays.fill(data, (byte) 0);
        }
    }

    private byte[] password() {
        byte[] raw = CliIo.readSecret(passwordFile, "password file");
        switch (passwordEncoding) {
            case "bytes":
                return raw;
            case "utf16le": {
                String s = new String(raw, StandardCharsets.UTF_8);
                Arrays.fill(raw, (byte) 0);
                return s.getBytes(StandardCharsets.UTF_16LE);
            }
            default:
                throw KeywayException.usage("--password-encoding must be bytes or utf16le, not '" + passwordEncoding + "'",
                        "bytes hashes the file as it is; utf16le re-encodes UTF-8 text as Windows wide characters");
        }
    }

    /** The provider a derive would use (for printing). */
    Provider providerFor(CipherAlg alg) {
        return provider == null ? Provider.defaultFor(alg, hash == null ? null : HashAlg.parse(hash)) : Provider.parse(provider);
    }

    static byte[] hex(String text, String what) {
        return Hex.decode(text.trim().replace(" ", "").replace(":", ""), what);
    }
}
