package dev.keyway.core.identity;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.armor.Armor;
import dev.keyway.core.kdf.KdfParams.Argon2idParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Identity files, plain and encrypted. Encrypted files written through the public API use Argon2id at
 * 64 MiB (about 0.3 s a derive), so those tests share one file and stay few; the bit-flip sweep uses the
 * package-private {@code format} with tiny Argon2 parameters.
 */
class IdentityFileTest {
    private static final byte[] PASSPHRASE = "correct horse battery staple".getBytes(StandardCharsets.UTF_8);
    /** Tiny Argon2 cost for the sweep: 64 KiB, 1 pass, 1 lane. */
    private static final Argon2idParams CHEAP = new Argon2idParams(64, 1, 1);

    @TempDir
    static Path shared;
    private static Identity identity;
    /** The one encrypted file at the default Argon2 cost. */
    private static Path encrypted;
    private static String encryptedText;

    @TempDir
    Path dir;

    @BeforeAll
    static void writeEncryptedOnce() throws IOException {
        identity = Identity.generate(KeyType.X25519);
        encrypted = shared.resolve("encrypted.key");
        IdentityFile.write(encrypted, identity, PASSPHRASE.clone());
        encryptedText = Files.readString(encrypted);
    }

    @AfterAll
    static void destroy() {
        identity.destroy();
    }

    private static IdentityFile.PassphraseSource passphrase(byte[] p, AtomicInteger calls) {
        return file -> {
            calls.incrementAndGet();
            return p.clone(); // read() zeroes what it is given
        };
    }

    private static IdentityFile.PassphraseSource never() {
        return file -> {
            throw new AssertionError("the passphrase source must not be called for " + file);
        };
    }

    // ---- plain files

    @Test
    void plainRoundTrip() throws IOException {
        for (KeyType type : new KeyType[]{KeyType.X25519, KeyType.XWING, KeyType.P256}) {
            try (Identity id = Identity.generate(type)) {
                Path file = dir.resolve(type.id() + ".key");
                IdentityFile.write(file, id, null);
                String text = Files.readString(file);
                assertThat(text).contains("# recipient: " + id.recipient().encode()).contains(id.encodeSecret());
                try (Identity back = IdentityFile.read(file, never())) {
                    assertThat(back.recipient()).isEqualTo(id.recipient());
                    assertThat(back.encodeSecret()).isEqualTo(id.encodeSecret());
                }
                IdentityFile.Header h = IdentityFile.header(file);
                assertThat(h.encrypted()).isFalse();
                assertThat(h.recipient()).isEqualTo(id.recipient());
            }
        }
    }

    @Test
    void plainFileToleratesCrlfCommentsAndBlankLines() throws IOException {
        Path file = dir.resolve("crlf.key");
        Files.writeString(file, "# a comment\r\n\r\n   \r\n" + identity.encodeSecret() + "\r\n# trailing\r\n");
        try (Identity back = IdentityFile.read(file, never())) {
            assertThat(back.recipient()).isEqualTo(identity.recipient());
        }
    }

    @Test
    void plainFileWithNoKeyOrTwoKeysIsMalformed() throws IOException {
        Path empty = dir.resolve("empty.key");
        Files.writeString(empty, "# nothing here\n\n");
        assertCode(() -> IdentityFile.read(empty, never()), ErrorCode.MALFORMED, "holds no key");
        Path two = dir.resolve("two.key");
        Files.writeString(two, identity.encodeSecret() + "\n" + identity.encodeSecret() + "\n");
        assertCode(() -> IdentityFile.read(two, never()), ErrorCode.MALFORMED, "more than one key");
        Path recipientOnly = dir.resolve("pub.key");
        Files.writeString(recipientOnly, identity.recipient().encode() + "\n");
        assertCode(() -> IdentityFile.read(recipientOnly, never()), ErrorCode.USAGE, "not an identity");
    }

    @Test
    void fileModeIsOwnerReadWriteOnly() throws IOException {
        assumeThat(dir.getFileSystem().supportedFileAttributeViews()).contains("posix");
        Path plain = dir.resolve("plain.key");
        IdentityFile.write(plain, identity, null);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(plain))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(encrypted))).isEqualTo("rw-------");
        // no temporary file left behind
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("plain.key");
        }
    }

    @Test
    void existingFileIsNeverOverwritten() throws IOException {
        Path file = dir.resolve("taken.key");
        Files.writeString(file, "precious\n");
        Set<java.nio.file.attribute.PosixFilePermission> before =
                dir.getFileSystem().supportedFileAttributeViews().contains("posix") ? Files.getPosixFilePermissions(file) : null;
        assertCode(() -> IdentityFile.write(file, identity, null), ErrorCode.USAGE, "already exists");
        assertThat(Files.readString(file)).isEqualTo("precious\n");
        if (before != null) {
            assertThat(Files.getPosixFilePermissions(file)).isEqualTo(before);
        }
        // with a passphrase (format() runs Argon2 before the existence check): still refused, still untouched
        assertCode(() -> IdentityFile.write(file, identity, PASSPHRASE.clone()), ErrorCode.USAGE, "already exists");
        assertThat(Files.readString(file)).isEqualTo("precious\n");
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("taken.key");
        }
    }

    @Test
    void missingFileIsAnIoError() {
        assertCode(() -> IdentityFile.read(dir.resolve("absent.key"), never()), ErrorCode.IO, "no such file");
        assertCode(() -> IdentityFile.header(dir.resolve("absent.key")), ErrorCode.IO, "no such file");
    }

    @Test
    void hugeFileIsRefusedUnread() throws IOException {
        Path big = dir.resolve("big.key");
        Files.write(big, new byte[IdentityFile.MAX_FILE + 1]);
        assertCode(() -> IdentityFile.read(big, never()), ErrorCode.MALFORMED, "too large");
    }

    // ---- encrypted files at the default cost (one derive each)

    @Test
    void headerTellsEncryptedAndGivesTheRecipientWithoutAPassphrase() {
        assertThat(encryptedText).startsWith("-----BEGIN KEYWAY ENCRYPTED IDENTITY-----\n")
                .doesNotContain(identity.encodeSecret());
        IdentityFile.Header h = IdentityFile.header(encrypted);
        assertThat(h.encrypted()).isTrue();
        assertThat(h.recipient()).isEqualTo(identity.recipient());
    }

    @Test
    void rightPassphraseReadsTheIdentity() {
        AtomicInteger calls = new AtomicInteger();
        try (Identity back = IdentityFile.read(encrypted, passphrase(PASSPHRASE, calls))) {
            assertThat(back.recipient()).isEqualTo(identity.recipient());
            assertThat(back.encodeSecret()).isEqualTo(identity.encodeSecret());
        }
        assertThat(calls).hasValue(1);
    }

    @Test
    void wrongPassphraseIsAuthFailed() {
        AtomicInteger calls = new AtomicInteger();
        assertCode(() -> IdentityFile.read(encrypted, passphrase("correct horse battery stapler".getBytes(StandardCharsets.UTF_8), calls)),
                ErrorCode.AUTH_FAILED, "wrong passphrase");
        assertThat(calls).hasValue(1);
    }

    /** One base64 character inside the ciphertext part of the armored body replaced. */
    @Test
    void flippedCharacterInTheArmoredBodyIsAuthFailedOrMalformed() throws IOException {
        String[] lines = encryptedText.split("\n");
        // the second-to-last body line is all ciphertext (the header, recipient included, fits in the first ~3 lines)
        int line = lines.length - 3;
        assertThat(line).isGreaterThanOrEqualTo(4);
        char[] cs = lines[line].toCharArray();
        cs[20] = cs[20] == 'A' ? 'B' : 'A';
        lines[line] = new String(cs);
        Path file = dir.resolve("flipped.key");
        Files.writeString(file, String.join("\n", lines) + "\n");
        AtomicInteger calls = new AtomicInteger();
        assertCode(() -> IdentityFile.read(file, passphrase(PASSPHRASE, calls)), ErrorCode.AUTH_FAILED, null);
        // a character that is not base64 at all
        cs[20] = '*';
        lines[line] = new String(cs);
        Files.writeString(file, String.join("\n", lines) + "\n");
        assertCode(() -> IdentityFile.read(file, never()), ErrorCode.MALFORMED, null);
        assertCode(() -> IdentityFile.header(file), ErrorCode.MALFORMED, null);
    }

    @Test
    void truncatedEncryptedFileIsMalformed() throws IOException {
        Path file = dir.resolve("truncated.key");
        // cut inside the body and at every line boundary: the END line is missing
        for (int cut : new int[]{encryptedText.length() / 2, encryptedText.indexOf("-----END"), 50, 10}) {
            Files.writeString(file, encryptedText.substring(0, cut));
            int c = cut;
            assertThatThrownBy(() -> IdentityFile.read(file, never())).as("cut at %d", c)
                    .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isIn(ErrorCode.MALFORMED));
            Files.delete(file);
        }
        // a well-formed armor around a truncated binary: every binary length is MALFORMED, and no passphrase asked
        byte[] bin = Armor.decode(encryptedText, IdentityFile.ARMOR_LABEL, IdentityFile.MAX_BINARY);
        for (int n = 0; n < bin.length; n++) {
            Files.writeString(file, Armor.encode(IdentityFile.ARMOR_LABEL, java.util.Arrays.copyOf(bin, n)));
            int len = n;
            assertThatThrownBy(() -> IdentityFile.read(file, never())).as("binary truncated to %d of %d", len, bin.length)
                    .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED));
            assertThatThrownBy(() -> IdentityFile.header(file)).as("header, binary truncated to %d", len)
                    .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED));
            Files.delete(file);
        }
    }

    // ---- bit-flip sweep with cheap Argon2 parameters

    /**
     * Flips every bit of the binary inside the armor and checks the outcome per field. Offsets:
     * magic 0-3, version 4, kdf 5, m 6-9, t 10, p 11, salt length 12, salt, nonce (12), recipient
     * (u16 length + text), ciphertext (u16 length + bytes).
     * <ul>
     *   <li>version, kdf: UNSUPPORTED;</li>
     *   <li>low byte of m, t, p: the Argon2 parameters are range-checked (POLICY when out of range) and
     *       otherwise change the derived key (AUTH_FAILED);</li>
     *   <li>everything else: MALFORMED or AUTH_FAILED.</li>
     * </ul>
     * The three high bytes of m are skipped: a flip there asks for up to 4 GiB of Argon2 memory, which the
     * policy allows (MAX_MEMORY_KIB), so the test would allocate gigabytes before the tag is checked.
     */
    @Test
    void everyBitFlipOfACheapEncryptedFileEndsInAKeywayException() {
        String text = IdentityFile.format(identity, PASSPHRASE.clone(), CHEAP);
        Path fake = Path.of("sweep.key");
        try (Identity ok = IdentityFile.parse(text, fake, passphrase(PASSPHRASE, new AtomicInteger()))) {
            assertThat(ok.recipient()).isEqualTo(identity.recipient());
        }
        byte[] bin = Armor.decode(text, IdentityFile.ARMOR_LABEL, IdentityFile.MAX_BINARY);
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < bin.length; i++) {
            if (i >= 6 && i <= 8) {
                continue;
            }
            Set<ErrorCode> allowed = i == 4 || i == 5 ? EnumSet.of(ErrorCode.UNSUPPORTED)
                    : i >= 9 && i <= 11 ? EnumSet.of(ErrorCode.POLICY, ErrorCode.AUTH_FAILED)
                    : EnumSet.of(ErrorCode.MALFORMED, ErrorCode.AUTH_FAILED);
            for (int bit = 0; bit < 8; bit++) {
                byte[] mutated = bin.clone();
                mutated[i] ^= (byte) (1 << bit);
                String mt = Armor.encode(IdentityFile.ARMOR_LABEL, mutated);
                try {
                    Identity id = IdentityFile.parse(mt, fake, passphrase(PASSPHRASE, new AtomicInteger()));
                    id.destroy();
                    wrong.add("byte " + i + " bit " + bit + ": accepted");
                } catch (KeywayException e) {
                    if (!allowed.contains(e.code()) || e.getMessage().contains("\n")) {
                        wrong.add("byte " + i + " bit " + bit + ": " + e.code() + " " + e.getMessage());
                    }
                } catch (RuntimeException | Error e) {
                    wrong.add("byte " + i + " bit " + bit + ": " + e);
                }
            }
        }
        assertThat(wrong).as("of %d bytes", bin.length).isEmpty();
    }

    @Test
    void garbageAroundOrInsteadOfTheArmorIsMalformed() throws IOException {
        Path file = dir.resolve("junk.key");
        Files.writeString(file, encryptedText + "junk\n");
        assertCode(() -> IdentityFile.read(file, never()), ErrorCode.MALFORMED, null);
        Files.delete(file);
        Files.writeString(file, "-----BEGIN KEYWAY ENCRYPTED IDENTITY-----\nAAAA\n-----END KEYWAY ENCRYPTED IDENTITY-----\n");
        assertCode(() -> IdentityFile.read(file, never()), ErrorCode.MALFORMED, null);
    }

    private static void assertCode(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, ErrorCode code, String part) {
        assertThatThrownBy(call).isInstanceOfSatisfying(KeywayException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.oneLine()).doesNotContain("\n");
            String secret = identity.encodeSecret();
            assertThat(e.oneLine()).doesNotContain(secret.substring(secret.lastIndexOf('1') + 1, secret.lastIndexOf('1') + 17));
            if (part != null) {
                assertThat(e.getMessage()).contains(part);
            }
        });
    }
}
