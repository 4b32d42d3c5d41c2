package dev.keyway.envelope;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.keys.SessionKeys;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static dev.keyway.envelope.Envelopes.Field;
import static dev.keyway.envelope.Envelopes.concat;
import static dev.keyway.envelope.Envelopes.decrypt;
import static dev.keyway.envelope.Envelopes.encrypt;
import static dev.keyway.envelope.Envelopes.expectCode;
import static dev.keyway.envelope.Envelopes.keywayFailure;
import static org.assertj.core.api.Assertions.assertThat;

class FuzzTest {
    static final long SEED = 0xF0220001L;
    static final int ITERATIONS = 4000;

    static Identity alice;
    static Identity sender;
    static byte[] base;
    static byte[] data;

    @BeforeAll
    static void setUp() throws Exception {
        alice = Identity.generate(KeyType.X25519);
        sender = Identity.generate(KeyType.X25519);
        data = Envelopes.random(1, 200);
        Instant now = Instant.parse("2030-01-01T00:00:00Z");
        base = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient(), Identity.generate(KeyType.X25519).recipient()))
                .escrow(Identity.generate(KeyType.X25519).recipient(), "alice").signer(sender).serial(7).contentType("text/plain")
                .clock(Clock.fixed(now, ZoneOffset.UTC)).expires(now.plus(Duration.ofDays(1))), data);
    }

    // --- mutations ---

    private static byte[] rebuild(List<Field> fields, byte[] original, Integer fieldsLengthOverride) {
        byte[] prefixAndFields = Envelopes.headerWithoutMac(fields);
        if (fieldsLengthOverride != null) {
            System.arraycopy(Header.be32(fieldsLengthOverride), 0, prefixAndFields, 5, 4);
        }
        int h = Envelopes.headerLength(original);
        return concat(prefixAndFields, Arrays.copyOfRange(original, h - Header.MAC_LENGTH, original.length));
    }

    private static int randomType(Random r) {
        int[] interesting = {0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x000f, 0x0010, 0x0011, 0x0012, 0x0013, 0x0014,
                0x0015, 0x0016, 0x0017, 0x0018, 0x0042, 0x7fff, 0x8000, 0x8001, 0x8042, 0xffff};
        return r.nextInt(3) == 0 ? r.nextInt(0x10000) : interesting[r.nextInt(interesting.length)];
    }

    private static int randomLength(Random r, int current, int remaining) {
        return switch (r.nextInt(8)) {
            case 0 -> 0;
            case 1 -> current + 1;
            case 2 -> current - 1;
            case 3 -> remaining;
            case 4 -> remaining + 1;
            case 5 -> -1; // 0xFFFFFFFF
            case 6 -> Integer.MIN_VALUE; // 0x80000000
            default -> r.nextInt(1 << r.nextInt(31));
        };
    }

    private static byte[] randomValue(Random r) {
        int n = switch (r.nextInt(4)) {
            case 0 -> 0;
            case 1 -> r.nextInt(40);
            case 2 -> 16 + r.nextInt(3) - 1;
            default -> r.nextInt(400);
        };
        byte[] v = new byte[n];
        r.nextBytes(v);
        return v;
    }

    /** One random mutation of {@code file}; describes itself into {@code how}. */
    static byte[] mutate(byte[] file, Random r, StringBuilder how) {
        int h = Envelopes.headerLength(file);
        List<Field> fields = Envelopes.fields(file);
        int kind = r.nextInt(10);
        switch (kind) {
            case 0 -> { // random bytes in the header
                byte[] c = file.clone();
                int n = 1 + r.nextInt(4);
                for (int i = 0; i < n; i++) {
                    int at = r.nextInt(h);
                    c[at] = (byte) r.nextInt(256);
                    how.append("byte ").append(at).append(' ');
                }
                return c;
            }
            case 1 -> { // random truncation, mostly inside the header
                int at = r.nextBoolean() ? r.nextInt(h + 1) : r.nextInt(file.length);
                how.append("truncate at ").append(at);
                return Arrays.copyOf(file, at);
            }
            case 2 -> { // fields_length
                int v = randomLength(r, h - Header.PREFIX_LENGTH - Header.MAC_LENGTH, file.length - Header.PREFIX_LENGTH);
                how.append("fields_length ").append(Integer.toUnsignedString(v));
                byte[] c = file.clone();
                System.arraycopy(Header.be32(v), 0, c, 5, 4);
                return c;
            }
            case 3 -> { // one field's length
                int i = r.nextInt(fields.size());
                int v = randomLength(r, fields.get(i).value().length, 0);
                how.append("field ").append(i).append(" length ").append(Integer.toUnsignedString(v));
                byte[] c = file.clone();
                int p = Header.PREFIX_LENGTH;
                for (int k = 0; k < i; k++) {
                    p += 6 + fields.get(k).value().length;
                }
                System.arraycopy(Header.be32(v), 0, c, p + 2, 4);
                return c;
            }
            case 4 -> { // one field's type
                int i = r.nextInt(fields.size());
                int t = randomType(r);
                how.append("field ").append(i).append(" type ").append(Integer.toHexString(t));
                fields.set(i, new Field(t, fields.get(i).value()));
                return rebuild(fields, file, null);
            }
            case 5 -> { // insert a random field anywhere
                int at = r.nextInt(fields.size() + 1);
                Field f = new Field(randomType(r), randomValue(r));
                how.append("insert type ").append(Integer.toHexString(f.type())).append(" len ").append(f.value().length)
                        .append(" at ").append(at);
                fields.add(at, f);
                return rebuild(fields, file, null);
            }
            case 6 -> { // insert an unknown field where its type belongs (after the commitment)
                int t = r.nextBoolean() ? 0x0042 : 0x8042;
                how.append("append type ").append(Integer.toHexString(t));
                fields.add(new Field(t, randomValue(r)));
                return rebuild(fields, file, null);
            }
            case 7 -> { // delete, duplicate or swap fields
                int i = r.nextInt(fields.size());
                int op = r.nextInt(3);
                if (op == 0) {
                    how.append("delete field ").append(i);
                    fields.remove(i);
                } else if (op == 1) {
                    how.append("duplicate field ").append(i);
                    fields.add(i, fields.get(i));
                } else {
                    int j = r.nextInt(fields.size());
                    how.append("swap fields ").append(i).append(' ').append(j);
                    Field f = fields.get(i);
                    fields.set(i, fields.get(j));
                    fields.set(j, f);
                }
                return rebuild(fields, file, null);
            }
            case 8 -> { // a field's value replaced
                int i = r.nextInt(fields.size());
                Field f = new Field(fields.get(i).type(), randomValue(r));
                how.append("replace value of field ").append(i);
                fields.set(i, f);
                return rebuild(fields, file, null);
            }
            default -> { // random bytes anywhere, or random garbage
                if (r.nextInt(4) == 0) {
                    byte[] g = new byte[r.nextInt(64)];
                    r.nextBytes(g);
                    if (g.length >= 4 && r.nextBoolean()) {
                        System.arraycopy(Header.MAGIC, 0, g, 0, 4);
                    }
                    how.append("garbage ").append(g.length);
                    return g;
                }
                byte[] c = file.clone();
                int at = r.nextInt(c.length);
                c[at] ^= (byte) (1 + r.nextInt(255));
                how.append("xor byte ").append(at);
                return c;
            }
        }
    }

    @Test
    void randomMutationsParseOrFailWithKeywayExceptionAndNeverDecrypt() {
        Random r = new Random(SEED);
        int parsed = 0;
        int refused = 0;
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < ITERATIONS && wrong.size() < 10; i++) {
            StringBuilder how = new StringBuilder();
            byte[] m = mutate(base, r, how);
            String ctx = "seed " + SEED + " iteration " + i + " (" + how + ")";
            if (Arrays.equals(m, base)) {
                continue;
            }
            // 1. The header parser alone: parses, or a KeywayException.
            EnvelopeReader reader;
            try {
                reader = EnvelopeReader.open(new ByteArrayInputStream(m), Envelopes.MAX);
                parsed++;
            } catch (KeywayException e) {
                refused++;
                ErrorCode expected = m.length == 0 ? ErrorCode.USAGE : ErrorCode.AUTH_FAILED;
                if (e.code() != expected) {
                    wrong.add(ctx + ": " + e.code() + " " + e.getMessage());
                }
                continue;
            } catch (Throwable t) {
                wrong.add(ctx + ": " + t);
                continue;
            }
            assertThat(reader.header()).isNotNull();
            // 2. A header that parses never lets a changed file decrypt.
            String outcome = Envelopes.unlessAuthFailed(m, alice);
            if (outcome != null) {
                wrong.add(ctx + ": full decrypt: " + outcome);
            }
        }
        assertThat(wrong).as("seed " + SEED).isEmpty();
        // The mutations reach both sides of the parser.
        assertThat(parsed).as("mutations that still parsed").isGreaterThan(100);
        assertThat(refused).as("mutations the parser refused").isGreaterThan(1000);
    }

    @Test
    void randomBytesNeverCrashTheParser() {
        Random r = new Random(SEED + 1);
        for (int i = 0; i < 2000; i++) {
            byte[] g = new byte[r.nextInt(200)];
            r.nextBytes(g);
            if (g.length >= 9) {
                System.arraycopy(Header.MAGIC, 0, g, 0, 4);
                g[4] = 1;
                // A plausible fields_length so that the fields parser runs.
                System.arraycopy(Header.be32(r.nextInt(g.length)), 0, g, 5, 4);
            }
            String ctx = "seed " + (SEED + 1) + " iteration " + i;
            KeywayException e = keywayFailure(ctx, () -> EnvelopeReader.open(new ByteArrayInputStream(g), Envelopes.MAX));
            assertThat(e.code()).as(ctx + ": " + e.getMessage()).isIn(ErrorCode.AUTH_FAILED, ErrorCode.USAGE);
        }
    }

    /** An input that is {@code prefix} followed by {@code size} zero bytes, counting what is read. */
    static final class Counting extends InputStream {
        final byte[] prefix;
        final long size;
        long pos;

        Counting(byte[] prefix, long size) {
            this.prefix = prefix;
            this.size = size;
        }

        @Override
        public int read() {
            byte[] b = new byte[1];
            return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos >= prefix.length + size) {
                return -1;
            }
            int n = (int) Math.min(len, prefix.length + size - pos);
            for (int i = 0; i < n; i++) {
                long p = pos + i;
                b[off + i] = p < prefix.length ? prefix[(int) p] : 0;
            }
            pos += n;
            return n;
        }
    }

    @Test
    void hugeFieldsLengthIsRefusedBeforeReadingOrAllocating() {
        for (long claimed : new long[] {0xFFFFFFFFL, 0x80000000L, Header.maxFieldsLength(Envelopes.MAX) + 1}) {
            byte[] prefix = concat(Header.MAGIC, new byte[] {1}, Header.be32((int) claimed));
            Counting in = new Counting(prefix, 64L << 20);
            KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "fields_length " + claimed,
                    () -> EnvelopeReader.open(in, Envelopes.MAX));
            assertThat(e.getMessage()).contains("claims " + claimed + " bytes");
            // Only the first buffer-full was read: the claim was not followed.
            assertThat(in.pos).as("bytes read for claim " + claimed).isLessThanOrEqualTo(8192);
        }
        // The bound follows the configured recipient limit.
        long maxFor1 = Header.maxFieldsLength(1);
        assertThat(maxFor1).isEqualTo(KeyBlob.MAX_SIZE + 65536L);
        byte[] p1 = concat(Header.MAGIC, new byte[] {1}, Header.be32((int) maxFor1 + 1));
        KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "just over the bound for 1 recipient",
                () -> EnvelopeReader.open(new ByteArrayInputStream(p1), 1));
        assertThat(e.getMessage()).contains("claims " + (maxFor1 + 1));
        byte[] p2 = concat(Header.MAGIC, new byte[] {1}, Header.be32((int) maxFor1));
        KeywayException t = expectCode(ErrorCode.AUTH_FAILED, "at the bound, then nothing",
                () -> EnvelopeReader.open(new ByteArrayInputStream(p2), 1));
        assertThat(t.getMessage()).contains("truncated");
    }

    @Test
    void aFieldLengthPastTheEndIsRefused() {
        List<Field> fields = Envelopes.fields(base);
        byte[] c = base.clone();
        // The first field (a recipient) claims 4 GB.
        System.arraycopy(Header.be32(-1), 0, c, Header.PREFIX_LENGTH + 2, 4);
        KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "field length 0xFFFFFFFF",
                () -> EnvelopeReader.open(new ByteArrayInputStream(c), Envelopes.MAX));
        assertThat(e.getMessage()).contains("runs past the end");
        assertThat(fields.get(0).type()).isEqualTo(Header.T_RECIPIENT);
    }

    @Test
    void unknownVersionIsRefusedFirst() {
        for (int v : new int[] {0, 3, 255}) {
            byte[] c = base.clone();
            c[4] = (byte) v;
            // Even with an absurd length after it, the version is what is reported.
            System.arraycopy(Header.be32(-1), 0, c, 5, 4);
            KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "version " + v,
                    () -> EnvelopeReader.open(new ByteArrayInputStream(c), Envelopes.MAX));
            assertThat(e.getMessage()).contains("version " + v + " is not supported");
        }
        KeywayException magic = expectCode(ErrorCode.AUTH_FAILED, "5-byte prefix",
                () -> EnvelopeReader.open(new ByteArrayInputStream("KWENX".getBytes(StandardCharsets.US_ASCII)), 5));
        assertThat(magic.getMessage()).contains("truncated");
        KeywayException notOurs = expectCode(ErrorCode.AUTH_FAILED, "not an envelope",
                () -> EnvelopeReader.open(new ByteArrayInputStream("%PDF-1.7 hello".getBytes(StandardCharsets.US_ASCII)), 5));
        assertThat(notOurs.getMessage()).contains("not a Keyway encrypted file");
    }

    // --- structural rules, each with a correct MAC so that only the rule can refuse the file ---

    /** Re-seals {@code h} (a header of an unsigned file) and appends the body of {@code file}. */
    private static byte[] resealed(Header h, byte[] file, SessionKey fk) {
        return concat(h.seal(fk).encodedWithMac(), Envelopes.body(file, false));
    }

    @Test
    void unknownNonCriticalFieldWithACorrectMacStillDecrypts() throws Exception {
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())), data);
        Header h = Envelopes.header(file);
        byte[] value = "from the future".getBytes(StandardCharsets.US_ASCII);
        try (SessionKey fk = Envelopes.fileKey(file, alice)) {
            byte[] ext = resealed(Envelopes.withExtensions(h, List.of(new Header.Extension(0x8042, value),
                    new Header.Extension(0xFFFF, new byte[0]))), file, fk);
            assertThat(Envelopes.fields(ext)).extracting(Field::type).endsWith(Header.T_COMMITMENT, 0x8042, 0xFFFF);
            Envelopes.Decrypted d = decrypt(ext, alice);
            assertThat(d.plaintext()).isEqualTo(data);
            assertThat(d.header().messageIdHex()).isEqualTo(h.messageIdHex());

            // Signed, too: the signature covers the extension.
            Header signedHeader = Envelopes.withSender(Envelopes.withExtensions(h, List.of(new Header.Extension(0x8042, value))),
                    sender.recipient()).seal(fk);
            byte[] hb = concat(signedHeader.encodedWithMac(), Envelopes.body(file, false));
            byte[] signed = concat(hb, Envelopes.sign(sender, hb));
            Envelopes.Decrypted s = decrypt(signed, alice);
            assertThat(s.plaintext()).isEqualTo(data);
            assertThat(s.result().signer()).isEqualTo(sender.recipient());

            // Without a new MAC, the same extension is caught by the header MAC.
            List<Field> fields = Envelopes.fields(file);
            fields.add(new Field(0x8042, value));
            byte[] unmacd = rebuild(fields, file, null);
            EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(unmacd), Envelopes.MAX);
            try (SessionKey fk2 = r.unwrap(List.of(alice))) {
                KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "extension without MAC", () -> r.authenticate(fk2));
                assertThat(e.getMessage()).contains("header MAC");
            }
        }
    }

    @Test
    void unknownCriticalFieldIsRefusedEvenWithACorrectMac() throws Exception {
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())), data);
        Header h = Envelopes.header(file);
        try (SessionKey fk = Envelopes.fileKey(file, alice)) {
            for (int type : new int[] {0x0042, 0x0018, 0x7FFF}) {
                byte[] crit = resealed(Envelopes.withExtensions(h, List.of(new Header.Extension(type, new byte[] {1}))), file, fk);
                KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "critical " + Integer.toHexString(type),
                        () -> EnvelopeReader.open(new ByteArrayInputStream(crit), Envelopes.MAX));
                assertThat(e.getMessage()).contains("critical").contains(String.format("0x%04x", type));
            }
            // The same field inserted by hand, in its place after the commitment.
            List<Field> fields = Envelopes.fields(file);
            fields.add(new Field(0x0042, new byte[0]));
            KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "critical by hand",
                    () -> EnvelopeReader.open(new ByteArrayInputStream(rebuild(fields, file, null)), Envelopes.MAX));
            assertThat(e.getMessage()).contains("unsupported critical header field 0x0042");
        }
    }

    @Test
    void structuralRulesHoldEvenUnderACorrectMac() throws Exception {
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())), data);
        Header h = Envelopes.header(file);
        try (SessionKey fk = Envelopes.fileKey(file, alice)) {
            // A passphrase stanza together with a recipient stanza.
            SessionKey kek = SessionKeys.generate(Algorithms.AES_KW, 256);
            Stanza pass = new Stanza.ForPassphrase("$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA", KeyWrap.wrap(fk, kek));
            List<Stanza> both = new ArrayList<>(h.stanzas());
            both.add(pass);
            byte[] mixed = resealed(h.withStanzas(both, null), file, fk);
            KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "passphrase + recipient",
                    () -> EnvelopeReader.open(new ByteArrayInputStream(mixed), Envelopes.MAX));
            assertThat(e.getMessage()).contains("passphrase stanza must be the only stanza");

            // No stanza at all.
            byte[] none = resealed(h.withStanzas(List.of(), null), file, fk);
            KeywayException n = expectCode(ErrorCode.AUTH_FAILED, "no stanza",
                    () -> EnvelopeReader.open(new ByteArrayInputStream(none), Envelopes.MAX));
            assertThat(n.getMessage()).contains("no recipient stanza");

            // A stanza whose key is tagged for the other payload cipher.
            try (SessionKey chachaKey = SessionKeys.generate(Algorithms.CHACHA20_POLY1305, 256)) {
                Stanza wrongAlg = new Stanza.ForRecipient(KeyWrap.wrap(chachaKey, alice.recipient()));
                byte[] bad = resealed(h.withStanzas(List.of(wrongAlg), null), file, fk);
                KeywayException a = expectCode(ErrorCode.AUTH_FAILED, "stanza algorithm",
                        () -> EnvelopeReader.open(new ByteArrayInputStream(bad), Envelopes.MAX));
                assertThat(a.getMessage()).contains("ChaCha20-Poly1305 key").contains("aes-256-gcm");
            }
        }
    }

    @Test
    void fieldRulesAreEnforced() throws Exception {
        List<Field> fields = Envelopes.fields(base);
        // Out of order: swap message id and created.
        List<Field> swapped = new ArrayList<>(fields);
        int mid = indexOf(fields, Header.T_MESSAGE_ID);
        int created = indexOf(fields, Header.T_CREATED);
        swapped.set(mid, fields.get(created));
        swapped.set(created, fields.get(mid));
        assertRefused(rebuild(swapped, base, null), "out of order");
        // Repeated message id.
        List<Field> repeated = new ArrayList<>(fields);
        repeated.add(mid, fields.get(mid));
        assertRefused(rebuild(repeated, base, null), "repeated");
        // Missing commitment.
        List<Field> missing = new ArrayList<>(fields);
        missing.remove(indexOf(fields, Header.T_COMMITMENT));
        assertRefused(rebuild(missing, base, null), "required field");
        // Wrong sizes.
        for (int type : new int[] {Header.T_MESSAGE_ID, Header.T_CREATED, Header.T_EXPIRES, Header.T_SERIAL,
                Header.T_COMMITMENT, Header.T_PAYLOAD}) {
            for (int delta : new int[] {-1, 1}) {
                List<Field> f = new ArrayList<>(fields);
                int i = indexOf(fields, type);
                f.set(i, new Field(type, Arrays.copyOf(fields.get(i).value(), fields.get(i).value().length + delta)));
                assertRefused(rebuild(f, base, null), "bytes, not");
            }
        }
        // Content type: empty, and 256 bytes.
        for (int len : new int[] {0, 256}) {
            List<Field> f = new ArrayList<>(fields);
            f.set(indexOf(fields, Header.T_CONTENT_TYPE), new Field(Header.T_CONTENT_TYPE, new byte[len]));
            assertRefused(rebuild(f, base, null), "content type has " + len + " bytes");
        }
        // Sender too long.
        List<Field> longSender = new ArrayList<>(fields);
        longSender.set(indexOf(fields, Header.T_SENDER), new Field(Header.T_SENDER, new byte[4097]));
        assertRefused(rebuild(longSender, base, null), "sender field is too long");
        // Payload: unknown cipher, unknown chunk size.
        int payload = indexOf(fields, Header.T_PAYLOAD);
        byte[] pv = fields.get(payload).value();
        for (int[] change : new int[][] {{0, 3}, {0, 0}, {1, 17}, {1, 12}}) {
            byte[] v = pv.clone();
            v[change[0]] = (byte) change[1];
            List<Field> f = new ArrayList<>(fields);
            f.set(payload, new Field(Header.T_PAYLOAD, v));
            assertRefused(rebuild(f, base, null), change[0] == 0 ? "unknown payload cipher" : "unsupported chunk size");
        }
        // Expires not after created.
        List<Field> expired = new ArrayList<>(fields);
        expired.set(indexOf(fields, Header.T_EXPIRES), new Field(Header.T_EXPIRES, fields.get(created).value()));
        assertRefused(rebuild(expired, base, null), "expires before it was created");
    }

    private static int indexOf(List<Field> fields, int type) {
        for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i).type() == type) {
                return i;
            }
        }
        throw new AssertionError("no field " + type);
    }

    private static void assertRefused(byte[] file, String message) {
        KeywayException e = expectCode(ErrorCode.AUTH_FAILED, message,
                () -> EnvelopeReader.open(new ByteArrayInputStream(file), Envelopes.MAX));
        assertThat(e.getMessage()).contains(message);
    }

    // --- crafted values a key holder could put in a header: still exit 3, never a usage error ---

    @Test
    void aSenderFieldHoldingASecretKeyStringIsDamageNotUsage() throws Exception {
        // A Bech32 string with a secret-key prefix in the sender field: the header is wrong, like any other
        // damage (Header.read: "Everything that is wrong with it is reported as AUTH_FAILED").
        Identity other = Identity.generate(KeyType.X25519);
        List<Field> fields = Envelopes.fields(base);
        fields.set(indexOf(fields, Header.T_SENDER),
                new Field(Header.T_SENDER, other.encodeSecret().getBytes(StandardCharsets.US_ASCII)));
        byte[] crafted = rebuild(fields, base, null);
        KeywayException e = keywayFailure("secret key in sender field",
                () -> EnvelopeReader.open(new ByteArrayInputStream(crafted), Envelopes.MAX));
        assertThat(e.code()).as(e.getMessage()).isEqualTo(ErrorCode.AUTH_FAILED);
    }

    @Test
    void aRecipientStanzaHoldingAKeyWrapBlobIsDamageNotUsage() throws Exception {
        // Only a passphrase stanza may hold an AES-KWP blob. A recipient stanza holding one, with the
        // reader's recipient id, must be refused as damage (exit 3), not as a usage error (exit 2).
        byte[] file = encrypt(new EnvelopeWriter().recipients(List.of(alice.recipient())), data);
        Header h = Envelopes.header(file);
        byte[] crafted;
        try (SessionKey fk = Envelopes.fileKey(file, alice); SessionKey kek = SessionKeys.generate(Algorithms.AES_KW, 256)) {
            byte[] kwp = KeyWrap.wrap(fk, kek).encode();
            System.arraycopy(alice.recipient().id(), 0, kwp, 7, 8);
            Stanza forged = new Stanza.ForRecipient(KeyBlob.decode(kwp));
            crafted = resealed(h.withStanzas(List.of(forged), null), file, fk);
        }
        KeywayException e = keywayFailure("KWP blob in a recipient stanza", () -> decrypt(crafted, alice));
        assertThat(e.code()).as(e.getMessage()).isEqualTo(ErrorCode.AUTH_FAILED);
    }

    @Test
    void armoredMutationsAreDamage() throws Exception {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (dev.keyway.core.armor.ArmorOutputStream a = new dev.keyway.core.armor.ArmorOutputStream(out, EnvelopeReader.ARMOR_LABEL)) {
            a.write(base);
        }
        byte[] text = out.toByteArray();
        assertThat(decrypt(text, alice).plaintext()).isEqualTo(data);
        Random r = new Random(SEED + 2);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=- \r\n\t";
        for (int i = 0; i < 600; i++) {
            byte[] m = text.clone();
            int at = r.nextInt(m.length);
            m[at] = (byte) alphabet.charAt(r.nextInt(alphabet.length()));
            if (Arrays.equals(m, text) || (at == m.length - 1 && m[at] == '\r')) {
                continue; // the same text, or the final LF as CR (a line ending the reader accepts)
            }
            String ctx = "seed " + (SEED + 2) + " iteration " + i + " (char " + at + " -> '" + (char) m[at] + "')";
            String outcome = Envelopes.unlessAuthFailed(m, alice);
            assertThat(outcome).as(ctx).isNull();
        }
    }

    @Test
    void truncatedAtEveryHeaderOffset() throws IOException {
        int h = Envelopes.headerLength(base);
        for (int cut = 1; cut <= h; cut++) {
            byte[] c = Arrays.copyOf(base, cut);
            int at = cut;
            KeywayException e = expectCode(ErrorCode.AUTH_FAILED, "cut at " + cut,
                    () -> {
                        EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(c), Envelopes.MAX);
                        // Exactly the header: it parses, and the body is missing.
                        assertThat(at).isEqualTo(h);
                        try (SessionKey fk = r.unwrap(List.of(alice))) {
                            r.authenticate(fk);
                            r.decrypt(fk, java.io.OutputStream.nullOutputStream());
                        }
                    });
            if (cut < h) {
                assertThat(e.getMessage()).as("cut " + cut).containsAnyOf("truncated", "not a Keyway encrypted file");
            }
        }
    }
}
