package dev.keyway.core.identity;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.armor.Armor;
import dev.keyway.core.encoding.ByteReader;
import dev.keyway.core.io.AtomicFile;
import dev.keyway.core.kdf.KdfParams.Argon2idParams;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;

/**
 * Identity files. Plain form (as age-keygen writes): comment lines with the creation time and the
 * recipient, then the secret key string. Encrypted form: the armored {@code ENCRYPTED IDENTITY} below,
 * which keeps the recipient readable (so {@code keyway pubkey} needs no passphrase) and seals the secret
 * key string with AES-256-GCM under an Argon2id key; everything before the ciphertext is the AAD.
 *
 * <pre>
 * "KWID" | version 0x01 | kdf 0x01 (argon2id) | m u32 | t u8 | p u8 | salt (u8 length, 16..64)
 *        | nonce (12) | recipient (u16 length, UTF-8) | ciphertext (u16 length, plaintext + 16-byte tag)
 * </pre>
 */
public final class IdentityFile {
    static final String ARMOR_LABEL = "ENCRYPTED IDENTITY";
    static final byte[] MAGIC = {'K', 'W', 'I', 'D'};
    static final int VERSION = 1;
    static final int KDF_ARGON2ID = 1;
    static final int MAX_FILE = 32 * 1024;
    static final int MAX_BINARY = 16 * 1024;
    /** Memory cap for the Argon2 parameters read from a file, checked before the file is authenticated. */
    static final int MAX_MEMORY_KIB = 1024 * 1024;

    /** Supplies the passphrase only if the file turns out to be encrypted. */
    @FunctionalInterface
    public interface PassphraseSource {
        byte[] passphrase(Path file);
    }

    /** The contents of an identity file before the passphrase is asked for. */
    public record Header(boolean encrypted, Recipient recipient) {
    }

    private IdentityFile() {
    }

    /** The file text for an identity; encrypted when {@code passphrase} is not null. */
    public static String format(Identity identity, byte[] passphrase) {
        return format(identity, passphrase, Argon2idParams.DEFAULT);
    }

    static String format(Identity identity, byte[] passphrase, Argon2idParams params) {
        String recipient = identity.recipient().encode();
        if (passphrase == null) {
            return "# Keyway identity (" + identity.type().id() + "), created " + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "\n"
                    + "# recipient: " + recipient + "\n"
                    + identity.encodeSecret() + "\n";
        }
        byte[] salt = new byte[16];
        byte[] nonce = new byte[12];
        KemKeys.RANDOM.nextBytes(salt);
        KemKeys.RANDOM.nextBytes(nonce);
        byte[] secret = identity.encodeSecret().getBytes(StandardCharsets.US_ASCII);
        byte[] key = params.derive(passphrase, salt, 32);
        try {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(buf);
            out.write(MAGIC);
            out.writeByte(VERSION);
            out.writeByte(KDF_ARGON2ID);
            out.writeInt(params.memoryKiB());
            out.writeByte(params.iterations());
            out.writeByte(params.parallelism());
            out.writeByte(salt.length);
            out.write(salt);
            out.write(nonce);
            byte[] r = recipient.getBytes(StandardCharsets.US_ASCII);
            out.writeShort(r.length);
            out.write(r);
            byte[] aad = buf.toByteArray();
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce));
            c.updateAAD(aad);
            byte[] ct = c.doFinal(secret);
            out.writeShort(ct.length);
            out.write(ct);
            return Armor.encode(ARMOR_LABEL, buf.toByteArray());
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("identity encryption failed", e);
        } finally {
            Arrays.fill(key, (byte) 0);
            Arrays.fill(secret, (byte) 0);
        }
    }

    /** Writes a new identity file with mode 0600; an existing file is never overwritten. */
    public static void write(Path file, Identity identity, byte[] passphrase) {
        if (Files.exists(file)) {
            // Checked early too, so no key derivation is wasted; AtomicFile checks again at the end.
            throw new KeywayException(ErrorCode.USAGE, file + " already exists", "choose another name or remove it first");
        }
        AtomicFile.write(file, format(identity, passphrase).getBytes(StandardCharsets.US_ASCII), true);
    }

    /** Reads the file and tells whether it is encrypted and which recipient it belongs to. */
    public static Header header(Path file) {
        String text = readText(file);
        if (Armor.isArmored(text, ARMOR_LABEL)) {
            return new Header(true, parseEncrypted(Armor.decode(text, ARMOR_LABEL, MAX_BINARY)).recipient);
        }
        try (Identity id = parsePlain(text, file)) {
            return new Header(false, id.recipient());
        }
    }

    /** Reads an identity, asking {@code passphrases} only if the file is encrypted. */
    public static Identity read(Path file, PassphraseSource passphrases) {
        return parse(readText(file), file, passphrases);
    }

    static Identity parse(String text, Path file, PassphraseSource passphrases) {
        if (!Armor.isArmored(text, ARMOR_LABEL)) {
            return parsePlain(text, file);
        }
        Sealed sealed = parseEncrypted(Armor.decode(text, ARMOR_LABEL, MAX_BINARY));
        byte[] passphrase = passphrases.passphrase(file);
        byte[] key = sealed.params.derive(passphrase, sealed.salt, 32);
        byte[] secret = null;
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, sealed.nonce));
            c.updateAAD(sealed.aad);
            secret = c.doFinal(sealed.ciphertext);
            Identity id = Identity.parse(new String(secret, StandardCharsets.US_ASCII));
            if (!id.recipient().equals(sealed.recipient)) {
                id.destroy();
                throw KeywayException.malformed("identity file " + file + " is inconsistent (its recipient does not match its key)",
                        "restore the file from a backup");
            }
            return id;
        } catch (AEADBadTagException e) {
            throw new KeywayException(ErrorCode.AUTH_FAILED, "wrong passphrase for identity file " + file + " (or the file was altered)",
                    "check the passphrase file");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("identity decryption failed", e);
        } finally {
            Arrays.fill(key, (byte) 0);
            Arrays.fill(passphrase, (byte) 0);
            if (secret != null) {
                Arrays.fill(secret, (byte) 0);
            }
        }
    }

    private record Sealed(Argon2idParams params, byte[] salt, byte[] nonce, Recipient recipient, byte[] aad, byte[] ciphertext) {
    }

    private static Sealed parseEncrypted(byte[] data) {
        ByteReader r = new ByteReader(data, "encrypted identity");
        if (!Arrays.equals(r.bytes(4), MAGIC)) {
            throw KeywayException.malformed("not a Keyway encrypted identity (bad magic)", "give a file made by 'keyway keygen'");
        }
        int version = r.u8();
        if (version != VERSION) {
            throw new KeywayException(ErrorCode.UNSUPPORTED, "encrypted identity version " + version + " is not supported",
                    "this Keyway reads version " + VERSION + "; upgrade Keyway");
        }
        int kdf = r.u8();
        if (kdf != KDF_ARGON2ID) {
            throw new KeywayException(ErrorCode.UNSUPPORTED, "encrypted identity uses unknown KDF " + kdf, "upgrade Keyway");
        }
        long m = r.u32();
        int t = r.u8();
        int p = r.u8();
        if (m > MAX_MEMORY_KIB) {
            throw KeywayException.malformed("encrypted identity asks for " + m + " KiB of Argon2 memory (at most "
                    + MAX_MEMORY_KIB + ")", "the file is corrupted or was not made by Keyway");
        }
        Argon2idParams params = new Argon2idParams((int) m, t, p);
        int saltLength = r.u8();
        if (saltLength < 16 || saltLength > 64) {
            throw KeywayException.malformed("encrypted identity has a bad salt length", "the file is corrupted");
        }
        byte[] salt = r.bytes(saltLength);
        byte[] nonce = r.bytes(12);
        byte[] recipientBytes = r.bytes16(Recipient.MAX_STRING, "recipient");
        Recipient recipient = Recipient.parse(new String(recipientBytes, StandardCharsets.US_ASCII));
        byte[] aad = Arrays.copyOf(data, r.position());
        byte[] ct = r.bytes16(Identity.MAX_SECRET_STRING + 16, "ciphertext");
        r.end();
        return new Sealed(params, salt, nonce, recipient, aad, ct);
    }

    private static Identity parsePlain(String text, Path file) {
        String secret = null;
        for (String line : text.split("\r?\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            if (secret != null) {
                throw KeywayException.malformed("identity file " + file + " holds more than one key",
                        "keep one identity per file");
            }
            secret = l;
        }
        if (secret == null) {
            throw KeywayException.malformed("identity file " + file + " holds no key", "give a file made by 'keyway keygen'");
        }
        return Identity.parse(secret);
    }

    private static String readText(Path file) {
        try {
            long size = Files.size(file);
            if (size > MAX_FILE) {
                throw KeywayException.malformed("identity file " + file + " is too large (" + size + " bytes)",
                        "give a file made by 'keyway keygen'");
            }
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read identity file " + file + " (" + AtomicFile.describe(e) + ")",
                    "check the path given with -i");
        }
    }
}
