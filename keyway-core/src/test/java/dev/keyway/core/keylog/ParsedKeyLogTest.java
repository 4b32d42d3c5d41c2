package dev.keyway.core.keylog;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

class ParsedKeyLogTest {
    private static final HexFormat HEX = HexFormat.of();

    private static final String R1 = "54bd283ed955865a735272cb2a3e613dfc14d40efe9b02b5e4c018e9cf02304c";
    private static final String R2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    @TempDir
    Path dir;

    /**
     * The key log OpenSSL wrote for the recorded connections of keyway-tls's tls-streams (its make.sh writes it
     * here, where this test finds it; keyway-tls's build takes it into its own test resources).
     */
    static byte[] realKeyLog() throws IOException {
        try (InputStream in = ParsedKeyLogTest.class.getResourceAsStream("/tls-streams/keylog.txt")) {
            if (in == null) {
                throw new IOException("missing test resource tls-streams/keylog.txt");
            }
            return in.readAllBytes();
        }
    }

    static ParsedKeyLog parse(String text) throws IOException {
        return ParsedKeyLog.read(new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1)));
    }

    static String hex(int bytes, int seed) {
        byte[] b = new byte[bytes];
        new Random(seed).nextBytes(b);
        return HEX.formatHex(b);
    }

    // ---------------------------------------------------------------- the real OpenSSL key log

    /** The TLS 1.3 connections of the real key log, in file order, and the TLS 1.2 ones. */
    static final List<String> TLS13 = List.of(R1,
            "cf9daad44fd0445d6c1f8394d56ff6925160a43b783996c4e8daf55b17ed7288",
            "0b45809c1c26fc443ba368cbca25b53c6ba12756958ccf3e1bf82e460fc00ed6",
            "fc8d790d2453ded368a700f3d73aceaf1ec81f39795a8150525b837954617b63");
    static final List<String> TLS12 = List.of(
            "81817b397b6fa564dc22ea325b51f3b00bfe56a0a4e99a6483bbd08bdb5b5d67",
            "327464fa5f98d27e5421d7d62681b442f76255e65525e0adf9cb3bb9c4420233",
            "3f3fdd380f309cd1eec0102971c01080fea3737d96be675757980158a4f883f6",
            "9ed09ad6b09362957a3373e82090039e22b25273f37fed4e9bfff8a4839c1a79",
            "84ebe3818a2432ae29f4fc5f9569e251f152dc911d685d8047ec94002362cf6f",
            "39b6777d6856996a148fc13a243c64618a9c4fdfffff1b926e82dc0b2ad878eb");

    @Test
    void realOpenSslKeyLogHasNoProblems() throws IOException {
        // OpenSSL writes the legacy NSS "RSA <8-byte encrypted premaster prefix> <premaster>" line beside
        // CLIENT_RANDOM for RSA key exchange (lines 25, 27, 29 of this file); a real OpenSSL log must check clean.
        ParsedKeyLog log = ParsedKeyLog.read(new ByteArrayInputStream(realKeyLog()));
        assertThat(log.problems()).isEmpty();
        assertThat(log.requireClean("keylog.txt")).isSameAs(log);
    }

    @Test
    void realOpenSslKeyLogConnectionsAndLabels() throws IOException {
        ParsedKeyLog log = ParsedKeyLog.read(new ByteArrayInputStream(realKeyLog()));
        List<String> order = new ArrayList<>(TLS13);
        order.addAll(TLS12);
        assertThat(log.connections()).extracting(ParsedKeyLog.Connection::clientRandomHex).containsExactlyElementsOf(order);
        assertThat(log.entries()).isEqualTo(4 * 5 + 6);

        for (String r : TLS13) {
            ParsedKeyLog.Connection c = log.connection(HEX.parseHex(r));
            assertThat(c.labels()).containsExactly(KeyLogLabel.CLIENT_HANDSHAKE_TRAFFIC_SECRET,
                    KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET, KeyLogLabel.CLIENT_TRAFFIC_SECRET_0,
                    KeyLogLabel.SERVER_TRAFFIC_SECRET_0, KeyLogLabel.EXPORTER_SECRET);
            assertThat(c.tls13Complete()).isTrue();
            assertThat(c.tls12Complete()).isFalse();
            assertThat(c.verdict()).isEqualTo("decryptable (TLS 1.3 handshake and traffic secrets)");
            for (KeyLogLabel l : c.labels()) {
                assertThat(c.secret(l).length).isIn(32, 48);
            }
            assertThat(c.secret(KeyLogLabel.CLIENT_RANDOM)).isNull();
            assertThat(c.line(KeyLogLabel.CLIENT_RANDOM)).isZero();
        }
        for (String r : TLS12) {
            ParsedKeyLog.Connection c = log.connection(HEX.parseHex(r));
            assertThat(c.labels()).containsExactly(KeyLogLabel.CLIENT_RANDOM);
            assertThat(c.tls12Complete()).isTrue();
            assertThat(c.tls13Complete()).isFalse();
            assertThat(c.verdict()).isEqualTo("decryptable (TLS 1.2 master secret)");
            assertThat(c.secret(KeyLogLabel.CLIENT_RANDOM)).hasSize(48);
        }

        // secrets and line numbers are exactly those of the file
        ParsedKeyLog.Connection first = log.connection(HEX.parseHex(R1));
        assertThat(first.line(KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET)).isEqualTo(2);
        assertThat(first.line(KeyLogLabel.CLIENT_TRAFFIC_SECRET_0)).isEqualTo(6);
        String[] lines = new String(realKeyLog(), StandardCharsets.US_ASCII).split("\n");
        for (int i = 0; i < lines.length; i++) {
            String[] f = lines[i].split(" ");
            KeyLogLabel label = KeyLogLabel.of(f[0]);
            if (label == null) {
                continue;
            }
            ParsedKeyLog.Connection c = log.connection(HEX.parseHex(f[1]));
            assertThat(c.secret(label)).as("line %d", i + 1).isEqualTo(HEX.parseHex(f[2]));
            assertThat(c.line(label)).isEqualTo(i + 1);
        }
        assertThat(log.connection(new byte[32])).isNull();
    }

    @Test
    void partialTls13ConnectionSaysWhatIsMissing() throws IOException {
        ParsedKeyLog log = parse("CLIENT_HANDSHAKE_TRAFFIC_SECRET " + R1 + " " + hex(32, 1) + "\n"
                + "SERVER_TRAFFIC_SECRET_0 " + R1 + " " + hex(32, 2) + "\n");
        ParsedKeyLog.Connection c = log.connections().get(0);
        assertThat(c.tls13Complete()).isFalse();
        assertThat(c.tls12Complete()).isFalse();
        assertThat(c.verdict()).isEqualTo("not decryptable: missing SERVER_HANDSHAKE_TRAFFIC_SECRET, CLIENT_TRAFFIC_SECRET_0");
    }

    @Test
    void returnedArraysAreCopies() throws IOException {
        ParsedKeyLog log = parse("CLIENT_RANDOM " + R1 + " " + hex(48, 3) + "\n");
        ParsedKeyLog.Connection c = log.connections().get(0);
        c.secret(KeyLogLabel.CLIENT_RANDOM)[0] ^= 1;
        c.clientRandom()[0] ^= 1;
        assertThat(HEX.formatHex(c.secret(KeyLogLabel.CLIENT_RANDOM))).isEqualTo(hex(48, 3));
        assertThat(c.clientRandomHex()).isEqualTo(R1);
    }

    // ---------------------------------------------------------------- accepted variations

    @Test
    void commentsBlankLinesCrlfAndUpperCaseHexAreAccepted() throws IOException {
        String s1 = hex(48, 4);
        String s2 = hex(32, 5);
        String s3 = hex(64, 6);
        String text = "# SSL/TLS secrets log file\r\n"           // 1
                + "\r\n"                                          // 2
                + "CLIENT_RANDOM " + R1 + " " + s1 + "\r\n"       // 3
                + "   \n"                                         // 4
                + "#CLIENT_RANDOM not a line at all\n"            // 5
                + "\n"                                            // 6
                + "CLIENT_TRAFFIC_SECRET_0 " + R2.toUpperCase(Locale.ROOT) + " " + s2.toUpperCase(Locale.ROOT) + "\n" // 7
                + "# trailing comment\r\n"                        // 8
                + "SERVER_TRAFFIC_SECRET_0 " + R2 + " " + s3;     // 9, no final newline
        ParsedKeyLog log = parse(text);
        assertThat(log.problems()).isEmpty();
        assertThat(log.entries()).isEqualTo(3);
        assertThat(log.connections()).hasSize(2);

        ParsedKeyLog.Connection c1 = log.connection(HEX.parseHex(R1));
        assertThat(HEX.formatHex(c1.secret(KeyLogLabel.CLIENT_RANDOM))).isEqualTo(s1);
        assertThat(c1.line(KeyLogLabel.CLIENT_RANDOM)).isEqualTo(3);

        ParsedKeyLog.Connection c2 = log.connection(HEX.parseHex(R2));
        assertThat(c2.clientRandomHex()).isEqualTo(R2);
        assertThat(c2.labels()).containsExactly(KeyLogLabel.CLIENT_TRAFFIC_SECRET_0, KeyLogLabel.SERVER_TRAFFIC_SECRET_0);
        assertThat(HEX.formatHex(c2.secret(KeyLogLabel.CLIENT_TRAFFIC_SECRET_0))).isEqualTo(s2);
        assertThat(HEX.formatHex(c2.secret(KeyLogLabel.SERVER_TRAFFIC_SECRET_0))).isEqualTo(s3);
        assertThat(c2.line(KeyLogLabel.CLIENT_TRAFFIC_SECRET_0)).isEqualTo(7);
        assertThat(c2.line(KeyLogLabel.SERVER_TRAFFIC_SECRET_0)).isEqualTo(9);
    }

    @Test
    void emptyInputAndOnlyCommentsGiveAnEmptyCleanLog() throws IOException {
        for (String text : List.of("", "\n", "\r\n", "# only a comment", "# a\n# b\n\n")) {
            ParsedKeyLog log = parse(text);
            assertThat(log.problems()).as("%s", text).isEmpty();
            assertThat(log.entries()).isZero();
            assertThat(log.connections()).isEmpty();
            assertThat(log.requireClean("x")).isSameAs(log);
        }
    }

    @Test
    void longestLegalLineIsAccepted() throws IOException {
        String config = hex(65535, 7);
        ParsedKeyLog log = parse("ECH_CONFIG " + R1 + " " + config + "\r\nECH_SECRET " + R1 + " " + hex(64, 8) + "\n");
        assertThat(log.problems()).isEmpty();
        assertThat(HEX.formatHex(log.connection(HEX.parseHex(R1)).secret(KeyLogLabel.ECH_CONFIG))).isEqualTo(config);
        assertThat(log.connection(HEX.parseHex(R1)).line(KeyLogLabel.ECH_SECRET)).isEqualTo(2);
    }

    // ---------------------------------------------------------------- bad lines

    record Bad(String line, String message) {
    }

    @Test
    void everyBadLineIsReportedWithItsNumberAndParsingContinues() throws IOException {
        String good1 = "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + R1 + " " + hex(32, 10);
        String good2 = "SERVER_HANDSHAKE_TRAFFIC_SECRET " + R1 + " " + hex(32, 11);
        String good3 = "CLIENT_RANDOM " + R2 + " " + hex(48, 12);
        String master = hex(48, 13);
        String tooLong = "ECH_CONFIG " + R1 + " " + "ab".repeat(ParsedKeyLog.MAX_LINE / 2 + 1);
        List<Object> lines = List.of(
                "# key log with every kind of bad line",                                                  // 1
                good1,                                                                                     // 2
                new Bad("FOO_SECRET " + R1 + " " + master, "unknown label 'FOO_SECRET'"),                  // 3
                new Bad("CLIENT_RANDOM " + R1, "found 2 field(s)"),                                        // 4
                new Bad("CLIENT_RANDOM " + R1 + " " + master + " extra", "found 4 field(s)"),              // 5
                new Bad("CLIENT_RANDOM  " + R1 + " " + master, "found 4 field(s)"),                        // 6
                new Bad("CLIENT_RANDOM " + R1.substring(0, 63) + "g " + master, "client random must be 64 hex digits"), // 7
                new Bad("CLIENT_RANDOM " + R1.substring(1) + " " + master, "client random must be 64 hex digits"), // 8
                "",                                                                                        // 9
                new Bad("CLIENT_RANDOM " + R1 + " " + master.substring(1), "not an even number of hex digits"), // 10
                new Bad("CLIENT_RANDOM " + R1 + " " + hex(47, 14), "CLIENT_RANDOM secret is 47 bytes; it must be 48 bytes"), // 11
                new Bad("CLIENT_TRAFFIC_SECRET_0 " + R1 + " " + hex(33, 15), "CLIENT_TRAFFIC_SECRET_0 secret is 33 bytes; it must be 32, 48 or 64"), // 12
                new Bad(tooLong, "line longer than " + ParsedKeyLog.MAX_LINE + " characters"),             // 13
                new Bad("CLIENT_RANDOM\t" + R1 + "\t" + master, "found 1 field(s)"),                      // 14
                new Bad("CLIENT_RANDOM " + R1 + " " + master + " ", "found 4 field(s)"),                   // 15
                new Bad("CLIENT_RANDOM " + R1 + " ", "not an even number of hex digits"),                  // 16
                new Bad("CLIENT_RANDOM " + R1 + " " + master.substring(2) + "zz", "not an even number of hex digits"), // 17
                new Bad("SERVER_RANDOM " + R1 + " " + master, "unknown label 'SERVER_RANDOM'"),               // 18
                new Bad("ECH_SECRET " + R1 + " " + hex(15, 16), "ECH_SECRET secret is 15 bytes; it must be 16 to 64 bytes"), // 19
                new Bad("CLIENT_RANDOM " + R1 + "\u00e9 " + master, "client random must be 64 hex digits"), // 20
                good2,                                                                                     // 21
                new Bad("client_random " + R2 + " " + master, "unknown label 'client_random'"),            // 22
                good3);                                                                                    // 23

        StringBuilder text = new StringBuilder();
        List<Integer> badNumbers = new ArrayList<>();
        List<String> badMessages = new ArrayList<>();
        List<String> secretsInBadLines = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Object o = lines.get(i);
            if (o instanceof Bad b) {
                text.append(b.line());
                badNumbers.add(i + 1);
                badMessages.add(b.message());
                String[] f = b.line().split(" ");
                if (f.length >= 3 && f[2].length() >= 16) {
                    secretsInBadLines.add(f[2].substring(0, 16));
                }
            } else {
                text.append((String) o);
            }
            text.append('\n');
        }

        ParsedKeyLog log = parse(text.toString());
        assertThat(log.problems()).extracting(ParsedKeyLog.Problem::line).containsExactlyElementsOf(badNumbers);
        for (int i = 0; i < badNumbers.size(); i++) {
            ParsedKeyLog.Problem p = log.problems().get(i);
            assertThat(p.message()).as("line %d", p.line()).contains(badMessages.get(i));
            assertThat(p.toString()).startsWith("line " + p.line() + ": ");
            for (String s : secretsInBadLines) {
                assertThat(p.message()).as("problem messages never quote secrets").doesNotContainIgnoringCase(s);
            }
        }
        assertThat(log.entries()).isEqualTo(3);
        ParsedKeyLog.Connection c1 = log.connection(HEX.parseHex(R1));
        assertThat(c1.labels()).containsExactly(KeyLogLabel.CLIENT_HANDSHAKE_TRAFFIC_SECRET, KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET);
        assertThat(c1.line(KeyLogLabel.CLIENT_HANDSHAKE_TRAFFIC_SECRET)).isEqualTo(2);
        assertThat(c1.line(KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET)).isEqualTo(21);
        assertThat(log.connection(HEX.parseHex(R2)).line(KeyLogLabel.CLIENT_RANDOM)).isEqualTo(23);
        assertThat(log.connections()).hasSize(2);
    }

    @Test
    void longUnknownLabelIsAbbreviatedInTheMessage() throws IOException {
        String label = "X".repeat(5000);
        ParsedKeyLog log = parse(label + " " + R1 + " " + hex(48, 1) + "\n");
        assertThat(log.problems()).hasSize(1);
        assertThat(log.problems().get(0).message().length()).isLessThan(200);
    }

    /** Produces a prefix, then {@code fill} repeated {@code fillLength} times, then a suffix, without holding it. */
    static final class GeneratedInput extends InputStream {
        private final byte[] prefix;
        private final byte fill;
        private final long fillLength;
        private final byte[] suffix;
        private long position;

        GeneratedInput(String prefix, char fill, long fillLength, String suffix) {
            this.prefix = prefix.getBytes(StandardCharsets.US_ASCII);
            this.fill = (byte) fill;
            this.fillLength = fillLength;
            this.suffix = suffix.getBytes(StandardCharsets.US_ASCII);
        }

        private long total() {
            return prefix.length + fillLength + suffix.length;
        }

        private int at(long i) {
            if (i < prefix.length) {
                return prefix[(int) i] & 0xff;
            }
            if (i < prefix.length + fillLength) {
                return fill & 0xff;
            }
            return suffix[(int) (i - prefix.length - fillLength)] & 0xff;
        }

        @Override
        public int read() {
            return position < total() ? at(position++) : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (len == 0) {
                return 0;
            }
            if (position >= total()) {
                return -1;
            }
            int n = (int) Math.min(len, total() - position);
            long fillEnd = prefix.length + fillLength;
            for (int i = 0; i < n; i++) {
                long pos = position + i;
                b[off + i] = pos >= prefix.length && pos < fillEnd ? fill : (byte) at(pos);
            }
            position += n;
            return n;
        }
    }

    static long allocatedBytes() {
        java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        assumeThat(bean).isInstanceOf(com.sun.management.ThreadMXBean.class);
        com.sun.management.ThreadMXBean sun = (com.sun.management.ThreadMXBean) bean;
        assumeThat(sun.isThreadAllocatedMemorySupported() && sun.isThreadAllocatedMemoryEnabled()).isTrue();
        return sun.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    @Test
    @Timeout(60)
    void hugeSingleLineIsAProblemAndIsNotHeldInMemory() throws IOException {
        long huge = 40L << 20; // 40 MiB of hex on one line
        String good = "CLIENT_RANDOM " + R2 + " " + hex(48, 20);
        InputStream in = new GeneratedInput("CLIENT_RANDOM " + R1 + " ", 'a', huge, "\n" + good + "\n");

        long before = allocatedBytes();
        ParsedKeyLog log = ParsedKeyLog.read(in);
        long allocated = allocatedBytes() - before;

        assertThat(log.problems()).containsExactly(new ParsedKeyLog.Problem(1, "line longer than " + ParsedKeyLog.MAX_LINE + " characters"));
        assertThat(log.entries()).isEqualTo(1);
        assertThat(log.connection(HEX.parseHex(R2)).line(KeyLogLabel.CLIENT_RANDOM)).isEqualTo(2);
        assertThat(log.connection(HEX.parseHex(R1))).isNull();
        assertThat(allocated).as("bytes allocated while parsing a %d-byte line", huge).isLessThan(huge / 4);
    }

    @Test
    @Timeout(60)
    void hugeLineWithoutNewlineAtEndOfInputIsOneProblem() throws IOException {
        ParsedKeyLog log = ParsedKeyLog.read(new GeneratedInput("# comment\n", 'x', 4L << 20, ""));
        assertThat(log.problems()).extracting(ParsedKeyLog.Problem::line).containsExactly(2);
        assertThat(log.entries()).isZero();
    }

    // ---------------------------------------------------------------- requireClean and read(Path)

    @Test
    void requireCleanNamesTheFirstBadLineAndCountsTheOthers() throws IOException {
        String text = "CLIENT_RANDOM " + R1 + " " + hex(48, 1) + "\n"
                + "# comment\n"
                + "BOGUS " + R1 + " " + hex(48, 2) + "\n"         // 3
                + "CLIENT_RANDOM " + R2 + "\n"                    // 4
                + "CLIENT_RANDOM " + R2 + " " + hex(47, 3) + "\n"; // 5
        ParsedKeyLog log = parse(text);
        assertThat(log.problems()).hasSize(3);
        assertThatThrownBy(() -> log.requireClean("capture.keys"))
                .isInstanceOfSatisfying(KeywayException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED);
                    assertThat(e.getMessage()).contains("capture.keys").contains("line 3:").contains("BOGUS")
                            .contains("2 more").doesNotContain("line 4").doesNotContain("\n")
                            .doesNotContainIgnoringCase(hex(48, 2).substring(0, 16));
                    assertThat(e.hint()).isNotBlank();
                });
    }

    @Test
    void requireCleanWithOneBadLineDoesNotMentionOthers() throws IOException {
        ParsedKeyLog log = parse("# x\n\nCLIENT_RANDOM " + R1 + "\n");
        assertThatThrownBy(() -> log.requireClean("k"))
                .isInstanceOfSatisfying(KeywayException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED);
                    assertThat(e.getMessage()).contains("line 3:").doesNotContain("more");
                });
    }

    @Test
    void readingAMissingFileIsAnIoError() {
        Path missing = dir.resolve("missing.keylog");
        assertThatThrownBy(() -> ParsedKeyLog.read(missing))
                .isInstanceOfSatisfying(KeywayException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.IO);
                    assertThat(e.getMessage()).contains("missing.keylog");
                });
    }

    @Test
    void readingADirectoryIsAnIoError() {
        assertThatThrownBy(() -> ParsedKeyLog.read(dir))
                .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.IO));
    }

    @Test
    void readPathGivesTheSameAsReadStream() throws IOException {
        Path p = dir.resolve("copy.keylog");
        Files.write(p, realKeyLog());
        ParsedKeyLog fromPath = ParsedKeyLog.read(p);
        ParsedKeyLog fromStream = ParsedKeyLog.read(new ByteArrayInputStream(realKeyLog()));
        assertThat(fromPath.entries()).isEqualTo(fromStream.entries());
        assertThat(fromPath.problems()).isEqualTo(fromStream.problems());
        assertThat(fromPath.connections()).extracting(ParsedKeyLog.Connection::clientRandomHex)
                .containsExactlyElementsOf(fromStream.connections().stream().map(ParsedKeyLog.Connection::clientRandomHex).toList());
    }

    // ---------------------------------------------------------------- duplicates

    @Test
    void laterDuplicateForTheSameRandomAndLabelWins() throws IOException {
        String first = hex(48, 30);
        String second = hex(48, 31);
        String text = "CLIENT_RANDOM " + R1 + " " + first + "\n"
                + "CLIENT_HANDSHAKE_TRAFFIC_SECRET " + R2 + " " + hex(32, 32) + "\n"
                + "CLIENT_RANDOM " + R1.toUpperCase(Locale.ROOT) + " " + second + "\n"; // same random, other case
        ParsedKeyLog log = parse(text);
        assertThat(log.problems()).isEmpty();
        assertThat(log.entries()).as("every good line counts, duplicates too").isEqualTo(3);
        assertThat(log.connections()).extracting(ParsedKeyLog.Connection::clientRandomHex).containsExactly(R1, R2);
        ParsedKeyLog.Connection c = log.connection(HEX.parseHex(R1));
        assertThat(c.labels()).containsExactly(KeyLogLabel.CLIENT_RANDOM);
        assertThat(HEX.formatHex(c.secret(KeyLogLabel.CLIENT_RANDOM))).isEqualTo(second);
        assertThat(c.line(KeyLogLabel.CLIENT_RANDOM)).isEqualTo(3);
    }

    // ---------------------------------------------------------------- mutation fuzzing

    private static final byte[] INTERESTING = " \n\r\t#0aAfFgG_\u00ff\u0000".getBytes(StandardCharsets.ISO_8859_1);

    static byte[] mutate(byte[] base, Random rnd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] b = base.clone();
        int mutations = 1 + rnd.nextInt(4);
        for (int m = 0; m < mutations && b.length > 0; m++) {
            int at = rnd.nextInt(b.length);
            switch (rnd.nextInt(8)) {
                case 0 -> b[at] = (byte) rnd.nextInt(256);
                case 1 -> b[at] = INTERESTING[rnd.nextInt(INTERESTING.length)];
                case 2 -> { // delete a range
                    int len = Math.min(b.length - at, 1 + rnd.nextInt(100));
                    out.reset();
                    out.write(b, 0, at);
                    out.write(b, at + len, b.length - at - len);
                    b = out.toByteArray();
                }
                case 3 -> { // insert interesting bytes
                    out.reset();
                    out.write(b, 0, at);
                    int len = 1 + rnd.nextInt(4);
                    for (int i = 0; i < len; i++) {
                        out.write(INTERESTING[rnd.nextInt(INTERESTING.length)]);
                    }
                    out.write(b, at, b.length - at);
                    b = out.toByteArray();
                }
                case 4 -> { // duplicate a range
                    int len = Math.min(b.length - at, 1 + rnd.nextInt(300));
                    out.reset();
                    out.write(b, 0, at + len);
                    out.write(b, at, b.length - at);
                    b = out.toByteArray();
                }
                case 5 -> b = java.util.Arrays.copyOf(b, at); // truncate
                case 6 -> b[at] = (byte) Character.toUpperCase((char) (b[at] & 0xff));
                default -> { // swap two bytes
                    int other = rnd.nextInt(b.length);
                    byte t = b[at];
                    b[at] = b[other];
                    b[other] = t;
                }
            }
        }
        return b;
    }

    static void checkInvariants(byte[] input, ParsedKeyLog log) {
        int lineCount = 1;
        for (byte x : input) {
            if (x == '\n') {
                lineCount++;
            }
        }
        int previous = 0;
        for (ParsedKeyLog.Problem p : log.problems()) {
            assertThat(p.line()).isGreaterThan(previous).isLessThanOrEqualTo(lineCount);
            assertThat(p.message()).isNotBlank();
            previous = p.line();
        }
        assertThat(log.entries() + log.problems().size()).isLessThanOrEqualTo(lineCount);
        int stored = 0;
        for (ParsedKeyLog.Connection c : log.connections()) {
            assertThat(c.clientRandom()).hasSize(32);
            assertThat(log.connection(c.clientRandom())).isSameAs(c);
            for (KeyLogLabel l : c.labels()) {
                assertThat(l.allowsLength(c.secret(l).length)).isTrue();
                assertThat(c.line(l)).isBetween(1, lineCount);
                stored++;
            }
        }
        assertThat(stored).isLessThanOrEqualTo(log.entries());
        if (log.problems().isEmpty()) {
            assertThat(log.requireClean("fuzz")).isSameAs(log);
        } else {
            assertThatThrownBy(() -> log.requireClean("fuzz"))
                    .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED));
        }
    }

    @Test
    @Timeout(120)
    void mutatedKeyLogsAreParsedWithoutThrowing() throws IOException {
        long seed = Long.getLong("keyway.fuzz.seed", System.nanoTime());
        byte[] base = realKeyLog();
        Random rnd = new Random(seed);
        for (int i = 0; i < 4000; i++) {
            byte[] input = i % 10 == 9 ? randomBytes(rnd) : mutate(base, rnd);
            try {
                ParsedKeyLog log = ParsedKeyLog.read(new ByteArrayInputStream(input));
                checkInvariants(input, log);
            } catch (Throwable t) {
                throw new AssertionError("key log fuzz failed: rerun with -Dkeyway.fuzz.seed=" + seed
                        + " (iteration " + i + ")", t);
            }
        }
    }

    static byte[] randomBytes(Random rnd) {
        byte[] b = new byte[rnd.nextInt(2000)];
        for (int i = 0; i < b.length; i++) {
            b[i] = rnd.nextInt(3) == 0 ? INTERESTING[rnd.nextInt(INTERESTING.length)] : (byte) rnd.nextInt(256);
        }
        return b;
    }
}
