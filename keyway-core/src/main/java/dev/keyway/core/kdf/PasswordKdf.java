package dev.keyway.core.kdf;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.kdf.KdfParams.Argon2idParams;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Password-derived session keys, with a policy on top of the raw KDFs: salts of 8 to 64 bytes (random
 * 16 bytes by default) and keys of 16 to 64 bytes (32 by default). The result carries a PHC-style string
 * that records everything needed to derive the same key again except the password, so the key itself
 * need never be stored. Unlike a password-hash PHC string it carries no hash: the hash would be the key.
 */
public final class PasswordKdf {
    public static final int MIN_SALT = 8;
    public static final int MAX_SALT = 64;
    public static final int DEFAULT_SALT = 16;
    public static final int MIN_LENGTH = 16;
    public static final int MAX_LENGTH = 64;
    public static final int DEFAULT_LENGTH = 32;

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
    private static final Pattern PHC = Pattern.compile("\\$([a-z0-9-]{1,32})(?:\\$v=(\\d{1,3}))?\\$([a-z0-9=,]{1,100})\\$([A-Za-z0-9+/]{1,100})");

    /** A derived key with its salt and parameters. Zero {@link #key()} when done with {@link #destroy()}. */
    public record DerivedKey(byte[] key, byte[] salt, KdfParams params) {
        /** The PHC-style string: {@code $argon2id$v=19$m=65536,t=3,p=4$<salt, unpadded base64>}. */
        public String phc() {
            return PasswordKdf.phc(params, salt);
        }

        public void destroy() {
            Arrays.fill(key, (byte) 0);
        }

        @Override
        public String toString() {
            return "DerivedKey[" + phc() + ", " + key.length + " bytes]";
        }
    }

    /** A parsed PHC-style string: parameters and salt. */
    public record Recipe(KdfParams params, byte[] salt) {
    }

    private PasswordKdf() {
    }

    /** Default parameters of the KDF named {@code kdf} (argon2id, scrypt, pbkdf2). */
    public static KdfParams defaults(String kdf) {
        return KdfParams.defaults(kdf);
    }

    /** Parses {@code --params} text such as {@code m=65536,t=3,p=4} for the named KDF; missing keys take defaults. */
    public static KdfParams params(String kdf, String params) {
        return KdfParams.parse(kdf, params);
    }

    /** A random salt of the default length. */
    public static byte[] randomSalt() {
        byte[] salt = new byte[DEFAULT_SALT];
        RANDOM.nextBytes(salt);
        return salt;
    }

    /** Derives a key of {@code length} bytes, enforcing the salt and length policy (exit 4 on violation). */
    public static DerivedKey derive(byte[] password, byte[] salt, KdfParams params, int length) {
        if (salt.length < MIN_SALT || salt.length > MAX_SALT) {
            throw KeywayException.policy("a " + salt.length + "-byte salt is outside the policy",
                    "use " + MIN_SALT + " to " + MAX_SALT + " bytes (" + DEFAULT_SALT + " random bytes by default)");
        }
        if (length < MIN_LENGTH || length > MAX_LENGTH) {
            throw KeywayException.policy("a " + length + "-byte derived key is outside the policy",
                    "use " + MIN_LENGTH + " to " + MAX_LENGTH + " bytes (" + DEFAULT_LENGTH + " by default)");
        }
        return new DerivedKey(params.derive(password, salt, length), salt.clone(), params);
    }

    /** Formats the PHC-style string for parameters and salt. */
    public static String phc(KdfParams params, byte[] salt) {
        String version = params instanceof Argon2idParams ? "$v=19" : "";
        return "$" + params.kdf() + version + "$" + params.encode() + "$" + B64.encodeToString(salt);
    }

    /** Parses a PHC-style string made by {@link #phc}; a trailing hash field is refused. */
    public static Recipe parsePhc(String text) {
        String s = text.strip();
        Matcher m = PHC.matcher(s);
        if (!m.matches()) {
            throw KeywayException.malformed("not a Keyway PHC string: '" + (s.length() > 60 ? s.substring(0, 60) + "..." : s) + "'",
                    "give it as printed by 'keyway key derive', e.g. $argon2id$v=19$m=65536,t=3,p=4$<salt>");
        }
        String kdf = m.group(1);
        if (!kdf.equals("argon2id") && !kdf.equals("scrypt") && !kdf.equals("pbkdf2-sha256")) {
            throw KeywayException.malformed("recipe names unknown KDF '" + kdf + "'",
                    "Keyway recipes use argon2id, scrypt or pbkdf2-sha256");
        }
        if (kdf.equals("argon2id") && m.group(2) == null) {
            throw KeywayException.malformed("Argon2id recipe has no version field", "write it as $argon2id$v=19$...");
        }
        if (kdf.equals("argon2id") && !"19".equals(m.group(2))) {
            throw new KeywayException(ErrorCode.UNSUPPORTED, "Argon2 version " + m.group(2) + " is not supported",
                    "Keyway derives with version 19 (0x13) only");
        }
        if (!kdf.equals("argon2id") && m.group(2) != null) {
            throw KeywayException.malformed("PHC string for " + kdf + " has a version field", "remove '$v=" + m.group(2) + "'");
        }
        KdfParams params = KdfParams.parse(kdf, m.group(3));
        String canonicalNames = params.kdf();
        if (!canonicalNames.equals(kdf)) {
            throw KeywayException.malformed("PHC string names '" + kdf + "'", "write it as '" + canonicalNames + "'");
        }
        byte[] salt;
        try {
            salt = Base64.getDecoder().decode(m.group(4));
        } catch (IllegalArgumentException e) {
            throw KeywayException.malformed("the salt in the PHC string is not valid base64", "copy the string again");
        }
        return new Recipe(params, salt);
    }
}
