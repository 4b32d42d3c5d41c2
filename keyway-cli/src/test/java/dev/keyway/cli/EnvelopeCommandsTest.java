package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;

import static dev.keyway.cli.Cli.p;
import static dev.keyway.cli.EnvelopeFixtures.CHUNK;
import static dev.keyway.cli.EnvelopeFixtures.SIGNATURE;
import static dev.keyway.cli.EnvelopeFixtures.assertNoOutput;
import static dev.keyway.cli.EnvelopeFixtures.fails;
import static dev.keyway.cli.EnvelopeFixtures.inspectJson;
import static dev.keyway.cli.EnvelopeFixtures.keygen;
import static dev.keyway.cli.EnvelopeFixtures.ok;
import static dev.keyway.cli.EnvelopeFixtures.randomBytes;
import static dev.keyway.cli.EnvelopeFixtures.read;
import static dev.keyway.cli.EnvelopeFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;

/** encrypt, decrypt, inspect and rekey through the command line, in process. */
class EnvelopeCommandsTest {
    private static final Pattern HEX64 = Pattern.compile("(?m)^[0-9a-f]{64}$");

    @TempDir
    Path dir;

    private String alice;
    private String bob;
    private String carol;
    private Path aliceKey;
    private Path bobKey;
    private Path carolKey;
    private Path plain;
    private byte[] plainBytes;

    private InputStream savedIn;
    private OutputStream savedOut;
    private boolean savedTerminal;

    @BeforeEach
    void setUp() {
        savedIn = StdStreams.in;
        savedOut = StdStreams.out;
        savedTerminal = StdStreams.terminal;
        alice = keygen(dir, "alice.key");
        bob = keygen(dir, "bob.key");
        carol = keygen(dir, "carol.key");
        aliceKey = dir.resolve("alice.key");
        bobKey = dir.resolve("bob.key");
        carolKey = dir.resolve("carol.key");
        plainBytes = randomBytes(150_000, 1);
        plain = write(dir.resolve("plain.bin"), plainBytes);
    }

    @AfterEach
    void restoreStreams() {
        StdStreams.in = savedIn;
        StdStreams.out = savedOut;
        StdStreams.terminal = savedTerminal;
    }

    private Path decryptOk(Path file, String name, String... extra) {
        Path out = dir.resolve(name);
        String[] args = concat(new String[]{"decrypt", "-o", p(out)}, extra, new String[]{p(file)});
        ok(args);
        return out;
    }

    private static String[] concat(String[]... parts) {
        return Arrays.stream(parts).flatMap(Arrays::stream).toArray(String[]::new);
    }

    // ---- 1. recipients, signatures, armor, passphrase, recipients files ----

    @Test
    void twoRecipientsSignedEachDecryptsAndSignerIsChecked() {
        Path enc = dir.resolve("m.kw");
        ok("encrypt", "-r", alice, "-r", bob, "--sign-with", p(aliceKey), "-o", p(enc), p(plain));
        assertThat(enc).isRegularFile();
        assertThat(Arrays.copyOf(read(enc), 5)).isEqualTo(new byte[]{'K', 'W', 'E', 'N', 1});

        var asAlice = ok("decrypt", "-i", p(aliceKey), "-o", p(dir.resolve("a.out")), p(enc));
        assertThat(read(dir.resolve("a.out"))).isEqualTo(plainBytes);
        // Without --expect-signer it says who signed, and how to require a particular sender.
        assertThat(asAlice.err()).contains("good signature from sender").contains("--expect-signer");
        ok("decrypt", "-i", p(bobKey), "-o", p(dir.resolve("b.out")), p(enc));
        assertThat(read(dir.resolve("b.out"))).isEqualTo(plainBytes);

        var expected = ok("decrypt", "-i", p(bobKey), "--expect-signer", alice, "-o", p(dir.resolve("b2.out")), p(enc));
        assertThat(read(dir.resolve("b2.out"))).isEqualTo(plainBytes);
        assertThat(expected.err()).doesNotContain("good signature from sender");

        fails(3, "not by the expected signer", "decrypt", "-i", p(bobKey), "--expect-signer", bob, "-o", p(dir.resolve("b3.out")), p(enc));
        assertNoOutput(dir.resolve("b3.out"));
        // Carol is not a recipient.
        fails(3, "no identity given is a recipient", "decrypt", "-i", p(carolKey), "-o", p(dir.resolve("c.out")), p(enc));
        assertNoOutput(dir.resolve("c.out"));
        // With several identities, the one that is a recipient is used.
        ok("decrypt", "-i", p(carolKey), "-i", p(bobKey), "-o", p(dir.resolve("cb.out")), p(enc));
        assertThat(read(dir.resolve("cb.out"))).isEqualTo(plainBytes);
    }

    @Test
    void unsignedFileWithExpectSignerFailsWithExit3() {
        Path enc = dir.resolve("u.kw");
        ok("encrypt", "-r", alice, "-o", p(enc), p(plain));
        var r = fails(3, "not signed", "decrypt", "-i", p(aliceKey), "--expect-signer", alice, "-o", p(dir.resolve("u.out")), p(enc));
        assertThat(r.err()).contains("--sign-with");
        assertNoOutput(dir.resolve("u.out"));
        // And without it the unsigned file decrypts, with no signature line.
        var plainRun = ok("decrypt", "-i", p(aliceKey), "-o", p(dir.resolve("u2.out")), p(enc));
        assertThat(plainRun.err()).doesNotContain("signature");
        assertThat(read(dir.resolve("u2.out"))).isEqualTo(plainBytes);
    }

    @Test
    void armoredRoundTrip() throws Exception {
        Path enc = dir.resolve("m.asc");
        ok("encrypt", "-a", "-r", alice, "--sign-with", p(bobKey), "-o", p(enc), p(plain));
        String text = Files.readString(enc, StandardCharsets.US_ASCII);
        List<String> lines = text.lines().toList();
        assertThat(lines.get(0)).isEqualTo("-----BEGIN KEYWAY ENCRYPTED FILE-----");
        assertThat(lines.get(lines.size() - 1)).isEqualTo("-----END KEYWAY ENCRYPTED FILE-----");
        assertThat(text).doesNotContain("\r").endsWith("-----END KEYWAY ENCRYPTED FILE-----\n");
        List<String> body = lines.subList(1, lines.size() - 1);
        assertThat(body.subList(0, body.size() - 1)).allSatisfy(l -> assertThat(l).hasSize(64));
        assertThat(body.get(body.size() - 1).length()).isBetween(1, 64);

        ok("decrypt", "-i", p(aliceKey), "--expect-signer", bob, "-o", p(dir.resolve("a.out")), p(enc));
        assertThat(read(dir.resolve("a.out"))).isEqualTo(plainBytes);

        // The armor holds exactly the binary envelope: inspect agrees on the sizes.
        JsonNode j = inspectJson(enc);
        byte[] binary = java.util.Base64.getDecoder().decode(String.join("", body));
        assertThat((long) binary.length).isEqualTo(j.get("header_bytes").asLong() + j.get("ciphertext_bytes").asLong() + SIGNATURE);
        assertThat(j.get("plaintext_bytes").asLong()).isEqualTo(plainBytes.length);

        // CRLF line endings are accepted on input.
        Path crlf = write(dir.resolve("crlf.asc"), text.replace("\n", "\r\n").getBytes(StandardCharsets.US_ASCII));
        ok("decrypt", "-i", p(aliceKey), "-o", p(dir.resolve("crlf.out")), p(crlf));
        assertThat(read(dir.resolve("crlf.out"))).isEqualTo(plainBytes);
    }

    @Test
    void passphraseRoundTrip() throws Exception {
        Path pw = dir.resolve("pw.txt");
        Files.writeString(pw, "correct horse battery staple\n");
        Path enc = dir.resolve("p.kw");
        ok("encrypt", "--passphrase-file", p(pw), "-o", p(enc), p(plain));
        JsonNode j = inspectJson(enc);
        assertThat(j.get("recipients").asInt()).isZero();
        assertThat(j.get("stanzas").get(0).get("kind").asText()).isEqualTo("passphrase");
        assertThat(j.get("stanzas").get(0).get("type").asText()).isEqualTo("argon2id");
        assertThat(j.get("stanzas").get(0).has("id")).isFalse();

        // The same passphrase without the trailing newline gives the same key.
        Path pw2 = dir.resolve("pw2.txt");
        Files.writeString(pw2, "correct horse battery staple");
        ok("decrypt", "--passphrase-file", p(pw2), "-o", p(dir.resolve("p.out")), p(enc));
        assertThat(read(dir.resolve("p.out"))).isEqualTo(plainBytes);

        Path wrong = dir.resolve("wrong.txt");
        Files.writeString(wrong, "incorrect horse\n");
        fails(3, "wrong passphrase", "decrypt", "--passphrase-file", p(wrong), "-o", p(dir.resolve("w.out")), p(enc));
        assertNoOutput(dir.resolve("w.out"));
        // An identity is no use for a passphrase file (refused before any KDF runs).
        fails(2, "encrypted with a passphrase", "decrypt", "-i", p(aliceKey), "-o", p(dir.resolve("i.out")), p(enc));
    }

    @Test
    void passphraseFileTogetherWithRecipientsIsAUsageError() throws Exception {
        Path pw = dir.resolve("pw.txt");
        Files.writeString(pw, "secret\n");
        Path enc = dir.resolve("x.kw");
        fails(2, "--passphrase-file must be the only recipient", "encrypt", "--passphrase-file", p(pw), "-r", alice, "-o", p(enc), p(plain));
        assertThat(enc).doesNotExist();
        Path rf = dir.resolve("r.txt");
        Files.writeString(rf, alice + "\n");
        fails(2, "--passphrase-file must be the only recipient", "encrypt", "--passphrase-file", p(pw), "-R", p(rf), "-o", p(enc), p(plain));
        fails(2, "--passphrase-file must be the only recipient", "encrypt", "--passphrase-file", p(pw), "--escrow-recipient", alice,
                "-o", p(enc), p(plain));
        assertThat(enc).doesNotExist();
        assertThat(EnvelopeFixtures.allLeftovers(dir)).isEmpty();
        fails(2, "no recipient given", "encrypt", "-o", p(enc), p(plain));
        assertThat(enc).doesNotExist();
    }

    @Test
    void recipientsFileWithCommentsAndBlankLines() throws Exception {
        Path rf = dir.resolve("team.txt");
        Files.writeString(rf, "# the team\n\n" + alice + "\n   \n  # bob below, indented\n   " + bob + "  \n\n# end\n");
        Path enc = dir.resolve("t.kw");
        ok("encrypt", "-R", p(rf), "-o", p(enc), p(plain));
        assertThat(inspectJson(enc).get("recipients").asInt()).isEqualTo(2);
        ok("decrypt", "-i", p(aliceKey), "-o", p(dir.resolve("a.out")), p(enc));
        ok("decrypt", "-i", p(bobKey), "-o", p(dir.resolve("b.out")), p(enc));
        assertThat(read(dir.resolve("a.out"))).isEqualTo(plainBytes);
        assertThat(read(dir.resolve("b.out"))).isEqualTo(plainBytes);
        fails(3, "no identity given is a recipient", "decrypt", "-i", p(carolKey), "-o", p(dir.resolve("c.out")), p(enc));

        // -r and -R combine.
        Path enc2 = dir.resolve("t2.kw");
        ok("encrypt", "-R", p(rf), "-r", carol, "-o", p(enc2), p(plain));
        assertThat(inspectJson(enc2).get("recipients").asInt()).isEqualTo(3);
        ok("decrypt", "-i", p(carolKey), "-o", p(dir.resolve("c2.out")), p(enc2));

        // A file of only comments names no recipient; a bad line is reported with its number.
        Path empty = dir.resolve("empty.txt");
        Files.writeString(empty, "# nobody\n\n");
        fails(2, "names no recipient", "encrypt", "-R", p(empty), "-o", p(dir.resolve("e.kw")), p(plain));
        Path bad = dir.resolve("bad.txt");
        Files.writeString(bad, "# ok\n" + alice + "\nnot-a-recipient\n");
        fails(2, "line 3", "encrypt", "-R", p(bad), "-o", p(dir.resolve("e.kw")), p(plain));
        assertThat(dir.resolve("e.kw")).doesNotExist();
    }

    @Test
    void standardInputToStandardOutputAndBack() {
        StdStreams.terminal = false;
        StdStreams.in = new ByteArrayInputStream(plainBytes);
        ByteArrayOutputStream encOut = new ByteArrayOutputStream();
        StdStreams.out = encOut;
        ok("encrypt", "-r", alice, "--sign-with", p(aliceKey));
        byte[] envelope = encOut.toByteArray();
        assertThat(envelope.length).isGreaterThan(plainBytes.length);

        StdStreams.in = new ByteArrayInputStream(envelope);
        ByteArrayOutputStream decOut = new ByteArrayOutputStream();
        StdStreams.out = decOut;
        ok("decrypt", "-i", p(aliceKey), "--expect-signer", alice, "-");
        assertThat(decOut.toByteArray()).isEqualTo(plainBytes);
    }

    @Test
    void binaryCiphertextIsNotWrittenToATerminal() {
        StdStreams.terminal = true;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StdStreams.out = out;
        fails(2, "refusing to write binary ciphertext to the terminal", "encrypt", "-r", alice, p(plain));
        assertThat(out.size()).isZero();
        // Armor is fine on a terminal.
        ok("encrypt", "-a", "-r", alice, p(plain));
        assertThat(out.toString(StandardCharsets.US_ASCII)).startsWith("-----BEGIN KEYWAY ENCRYPTED FILE-----\n");
    }

    // ---- 4. session keys ----

    @Test
    void showSessionKeyThenDecryptWithItAlone() {
        Path enc = dir.resolve("s.kw");
        ok("encrypt", "-r", alice, "--sign-with", p(aliceKey), "-o", p(enc), p(plain));
        var shown = ok("decrypt", "-i", p(aliceKey), "--show-session-key", "-o", p(dir.resolve("s1.out")), p(enc));
        var m = HEX64.matcher(shown.err());
        assertThat(m.find()).as("a line of 64 hex digits on stderr: %s", shown.err()).isTrue();
        String key = m.group();
        assertThat(shown.out()).doesNotContain(key);
        assertThat(read(dir.resolve("s1.out"))).isEqualTo(plainBytes);

        // No identity needed with the session key; the signature is still checked.
        ok("decrypt", "--session-key", key, "--expect-signer", alice, "-o", p(dir.resolve("s2.out")), p(enc));
        assertThat(read(dir.resolve("s2.out"))).isEqualTo(plainBytes);
        // Surrounding whitespace is tolerated.
        ok("decrypt", "--session-key", " " + key + "\n", "-o", p(dir.resolve("s3.out")), p(enc));

        // A wrong key of the right length fails the commitment.
        byte[] k = HexFormat.of().parseHex(key);
        k[31] ^= 1;
        fails(3, "key commitment", "decrypt", "--session-key", HexFormat.of().formatHex(k), "-o", p(dir.resolve("w1.out")), p(enc));
        assertNoOutput(dir.resolve("w1.out"));
        fails(3, "key commitment", "decrypt", "--session-key", HexFormat.of().formatHex(randomBytes(32, 7)),
                "-o", p(dir.resolve("w2.out")), p(enc));
        assertNoOutput(dir.resolve("w2.out"));
        // Another file's session key.
        Path other = dir.resolve("o.kw");
        ok("encrypt", "-r", alice, "-o", p(other), p(plain));
        fails(3, "key commitment", "decrypt", "--session-key", key, "-o", p(dir.resolve("w3.out")), p(other));
        // A key of the wrong length.
        fails(3, "not this file's key", "decrypt", "--session-key", key.substring(0, 32), "-o", p(dir.resolve("w4.out")), p(enc));
        assertNoOutput(dir.resolve("w4.out"));
        // --session-key and -i together is a usage error.
        fails(2, "either --session-key or -i", "decrypt", "--session-key", key, "-i", p(aliceKey), "-o", p(dir.resolve("w5.out")), p(enc));
    }

    @Test
    void showSessionKeyAlsoWorksWithAPassphraseFile() throws Exception {
        Path pw = dir.resolve("pw.txt");
        Files.writeString(pw, "hunter2\n");
        Path enc = dir.resolve("p.kw");
        ok("encrypt", "--passphrase-file", p(pw), "-o", p(enc), p(plain));
        var shown = ok("decrypt", "--passphrase-file", p(pw), "--show-session-key", "-o", p(dir.resolve("p1.out")), p(enc));
        var m = HEX64.matcher(shown.err());
        assertThat(m.find()).as(shown.err()).isTrue();
        // The session key opens it without running Argon2 again.
        ok("decrypt", "--session-key", m.group(), "-o", p(dir.resolve("p2.out")), p(enc));
        assertThat(read(dir.resolve("p2.out"))).isEqualTo(plainBytes);
    }

    // ---- 5. inspect ----

    @Test
    void inspectTextAndJsonWithoutAnyIdentity() {
        byte[] data = randomBytes(200_000, 5);
        Path in = write(dir.resolve("200k.bin"), data);
        Path enc = dir.resolve("200k.kw");
        ok("encrypt", "-r", alice, "-r", bob, "--sign-with", p(aliceKey), "--serial", "42", "--content-type", "text/plain",
                "--expires", "2h", "-o", p(enc), p(in));

        JsonNode j = inspectJson(enc);
        assertThat(j.get("format").asText()).isEqualTo("keyway envelope v1");
        assertThat(j.get("recipients").asInt()).isEqualTo(2);
        assertThat(j.get("recipient_types").get("x25519").asInt()).isEqualTo(2);
        assertThat(j.get("stanzas")).hasSize(2);
        assertThat(j.get("signed").asBoolean()).isTrue();
        assertThat(j.get("sender").asText()).isEqualTo(alice);
        assertThat(j.get("sender_id").asText()).matches("[0-9a-f]+");
        String id = j.get("message_id").asText();
        assertThat(id).matches("[0-9a-f]{32}");
        assertThat(j.get("serial").asText()).isEqualTo("42");
        assertThat(j.get("content_type").asText()).isEqualTo("text/plain");
        assertThat(j.get("payload").asText()).isEqualTo("aes-256-gcm");
        assertThat(j.has("expires")).isTrue();
        assertThat(j.get("chunks").asLong()).isEqualTo(4); // 3 full chunks (196,608 bytes) + 3,392
        assertThat(j.get("plaintext_bytes").asLong()).isEqualTo(200_000);
        assertThat(j.get("ciphertext_bytes").asLong()).isEqualTo(200_000 + 4 * 16);
        long headerBytes = j.get("header_bytes").asLong();
        assertThat(headerBytes).isPositive();
        assertThat(read(enc).length).isEqualTo(headerBytes + 200_000 + 4 * 16 + SIGNATURE);

        var text = ok("inspect", p(enc));
        assertThat(text.out()).contains("recipients: 2\n")
                .contains("message id: " + id + "\n")
                .contains("serial: 42\n")
                .contains("signed: true\n")
                .contains("chunks: 4\n")
                .contains("plaintext bytes: 200000\n")
                .contains("header bytes: " + headerBytes + "\n")
                .contains("content type: text/plain\n")
                .contains("sender id: " + j.get("sender_id").asText());
        // The long sender string is only in --json.
        assertThat(text.out()).doesNotContain(alice);

        // Standard input works too.
        StdStreams.in = new ByteArrayInputStream(read(enc));
        var fromStdin = ok("inspect", "--json");
        assertThat(fromStdin.out()).isEqualTo(ok("inspect", "--json", p(enc)).out());
    }

    @Test
    void inspectCountsChunksAtTheEdges() {
        // Empty plaintext: one empty chunk; an exact multiple of 64 KiB: no extra chunk.
        long[][] cases = {{0, 1}, {1, 1}, {CHUNK, 1}, {CHUNK + 1, 2}, {2 * CHUNK, 2}};
        for (long[] c : cases) {
            Path in = write(dir.resolve("p" + c[0]), randomBytes((int) c[0], c[0]));
            Path enc = dir.resolve("p" + c[0] + ".kw");
            ok("encrypt", "-r", alice, "-o", p(enc), p(in));
            JsonNode j = inspectJson(enc);
            assertThat(j.get("chunks").asLong()).as("chunks for %d bytes", c[0]).isEqualTo(c[1]);
            assertThat(j.get("plaintext_bytes").asLong()).as("plaintext for %d bytes", c[0]).isEqualTo(c[0]);
            assertThat(j.get("signed").asBoolean()).isFalse();
            assertThat(j.has("serial")).isFalse();
            Path out = dir.resolve("p" + c[0] + ".out");
            ok("decrypt", "-i", p(aliceKey), "-o", p(out), p(enc));
            assertThat(read(out)).isEqualTo(read(in));
        }
    }

    // ---- 6. rekey ----

    @Test
    void rekeyAddThenRemove() {
        Path enc = dir.resolve("r.kw");
        ok("encrypt", "-r", alice, "-r", bob, "--sign-with", p(aliceKey), "-o", p(enc), p(plain));
        JsonNode j0 = inspectJson(enc);

        Path added = dir.resolve("r2.kw");
        ok("rekey", "-i", p(aliceKey), "--add", carol, "--sign-with", p(aliceKey), "-o", p(added), p(enc));
        JsonNode j1 = inspectJson(added);
        assertThat(j1.get("recipients").asInt()).isEqualTo(3);
        assertThat(j1.get("message_id").asText()).isEqualTo(j0.get("message_id").asText());
        assertThat(j1.get("created").asText()).isEqualTo(j0.get("created").asText());
        assertThat(j1.get("plaintext_bytes").asLong()).isEqualTo(plainBytes.length);
        ok("decrypt", "-i", p(carolKey), "--expect-signer", alice, "-o", p(dir.resolve("c.out")), p(added));
        assertThat(read(dir.resolve("c.out"))).isEqualTo(plainBytes);
        ok("decrypt", "-i", p(bobKey), "-o", p(dir.resolve("b.out")), p(added));
        assertThat(read(dir.resolve("b.out"))).isEqualTo(plainBytes);
        // Carol could not read the original.
        fails(3, "no identity given is a recipient", "decrypt", "-i", p(carolKey), "-o", p(dir.resolve("c0.out")), p(enc));

        Path removed = dir.resolve("r3.kw");
        ok("rekey", "-i", p(carolKey), "--remove", bob, "--sign-with", p(aliceKey), "-o", p(removed), p(added));
        assertThat(inspectJson(removed).get("recipients").asInt()).isEqualTo(2);
        fails(3, "no identity given is a recipient", "decrypt", "-i", p(bobKey), "-o", p(dir.resolve("b2.out")), p(removed));
        assertNoOutput(dir.resolve("b2.out"));
        ok("decrypt", "-i", p(aliceKey), "--expect-signer", alice, "-o", p(dir.resolve("a2.out")), p(removed));
        ok("decrypt", "-i", p(carolKey), "-o", p(dir.resolve("c2.out")), p(removed));
        assertThat(read(dir.resolve("c2.out"))).isEqualTo(plainBytes);

        // Re-signed by someone else: the signer is whoever re-keyed.
        Path resigned = dir.resolve("r4.kw");
        ok("rekey", "-i", p(aliceKey), "--add", bob, "--sign-with", p(bobKey), "-o", p(resigned), p(removed));
        assertThat(inspectJson(resigned).get("sender").asText()).isEqualTo(bob);
        fails(3, "not by the expected signer", "decrypt", "-i", p(aliceKey), "--expect-signer", alice, "-o", p(dir.resolve("x.out")), p(resigned));
        ok("decrypt", "-i", p(aliceKey), "--expect-signer", bob, "-o", p(dir.resolve("y.out")), p(resigned));
    }

    @Test
    void rekeyKeepsThePayloadBytes() {
        Path enc = dir.resolve("r.kw");
        ok("encrypt", "-r", alice, "--sign-with", p(aliceKey), "-o", p(enc), p(plain));
        Path added = dir.resolve("r2.kw");
        ok("rekey", "-i", p(aliceKey), "--add", bob, "--add", carol, "--sign-with", p(aliceKey), "-o", p(added), p(enc));

        byte[] a = read(enc);
        byte[] b = read(added);
        int ha = inspectJson(enc).get("header_bytes").asInt();
        int hb = inspectJson(added).get("header_bytes").asInt();
        assertThat(hb).isGreaterThan(ha);
        byte[] bodyA = Arrays.copyOfRange(a, ha, a.length - SIGNATURE);
        byte[] bodyB = Arrays.copyOfRange(b, hb, b.length - SIGNATURE);
        assertThat(bodyA.length).isEqualTo(plainBytes.length + 3 * 16); // 150,000 bytes: 3 chunks
        assertThat(bodyB).isEqualTo(bodyA);
        // The signature is new (it covers the new header).
        assertThat(Arrays.copyOfRange(b, b.length - SIGNATURE, b.length)).isNotEqualTo(Arrays.copyOfRange(a, a.length - SIGNATURE, a.length));
        // And the header's metadata is unchanged.
        JsonNode before = inspectJson(enc);
        JsonNode after = inspectJson(added);
        for (String field : List.of("message_id", "created", "payload", "content_type", "sender", "chunks", "ciphertext_bytes")) {
            assertThat(after.get(field)).as(field).isEqualTo(before.get(field));
        }

        // Armored output of rekey decodes to the same binary file.
        Path armored = dir.resolve("r2.asc");
        ok("rekey", "-a", "-i", p(aliceKey), "--add", bob, "--sign-with", p(aliceKey), "-o", p(armored), p(enc));
        ok("decrypt", "-i", p(bobKey), "-o", p(dir.resolve("arm.out")), p(armored));
        assertThat(read(dir.resolve("arm.out"))).isEqualTo(plainBytes);
    }

    @Test
    void rekeyOfASignedFileNeedsSignWith() {
        Path enc = dir.resolve("r.kw");
        ok("encrypt", "-r", alice, "--sign-with", p(aliceKey), "-o", p(enc), p(plain));
        Path out = dir.resolve("r2.kw");
        var r = fails(2, "must be signed again", "rekey", "-i", p(aliceKey), "--add", bob, "-o", p(out), p(enc));
        assertThat(r.err()).contains("--sign-with");
        assertNoOutput(out);
    }

    @Test
    void rekeyUsageErrors() {
        Path enc = dir.resolve("r.kw");
        ok("encrypt", "-r", alice, "-r", bob, "-o", p(enc), p(plain));
        Path out = dir.resolve("r2.kw");
        fails(2, "nothing to change", "rekey", "-i", p(aliceKey), "-o", p(out), p(enc));
        fails(2, "already a recipient", "rekey", "-i", p(aliceKey), "--add", bob, "-o", p(out), p(enc));
        fails(2, "is not a recipient of this file", "rekey", "-i", p(aliceKey), "--remove", carol, "-o", p(out), p(enc));
        fails(2, "no recipient", "rekey", "-i", p(aliceKey), "--remove", alice, "--remove", bob, "-o", p(out), p(enc));
        fails(3, "no identity given is a recipient", "rekey", "-i", p(carolKey), "--add", carol, "-o", p(out), p(enc));
        assertNoOutput(out);
        // An unsigned file re-keys without --sign-with, and stays unsigned; removing yourself is allowed.
        ok("rekey", "-i", p(aliceKey), "--remove", alice, "-o", p(out), p(enc));
        assertThat(inspectJson(out).get("signed").asBoolean()).isFalse();
        fails(3, "no identity given is a recipient", "decrypt", "-i", p(aliceKey), "-o", p(dir.resolve("a.out")), p(out));
        ok("decrypt", "-i", p(bobKey), "-o", p(dir.resolve("b.out")), p(out));
        // rekey never overwrites.
        byte[] before = read(out);
        fails(2, "already exists", "rekey", "-i", p(bobKey), "--add", carol, "-o", p(out), p(enc));
        assertThat(read(out)).isEqualTo(before);
    }

    @Test
    void rekeyVerifiesTheWholeOldFileFirst() {
        Path enc = dir.resolve("r.kw");
        ok("encrypt", "-r", alice, "-o", p(enc), p(plain));
        byte[] b = read(enc);
        b[b.length - 100] ^= 0x10; // in the last chunk
        Path bad = write(dir.resolve("bad.kw"), b);
        Path out = dir.resolve("r2.kw");
        fails(3, "failed authentication", "rekey", "-i", p(aliceKey), "--add", bob, "-o", p(out), p(bad));
        assertNoOutput(out);
    }

    @Test
    void decryptOutputIsPrivateAndContentTypeAndChacha() throws Exception {
        Path enc = dir.resolve("c.kw");
        ok("encrypt", "-r", alice, "--aead", "chacha20-poly1305", "-o", p(enc), p(plain));
        assertThat(inspectJson(enc).get("payload").asText()).isEqualTo("chacha20-poly1305");
        Path out = decryptOk(enc, "c.out", "-i", p(aliceKey));
        assertThat(read(out)).isEqualTo(plainBytes);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(out))).isEqualTo("rw-------");
        fails(2, "unknown --aead", "encrypt", "-r", alice, "--aead", "des", "-o", p(dir.resolve("d.kw")), p(plain));
    }
}
