package dev.keyway.tls.record;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.KeyBlock12;
import dev.keyway.core.kdf.Prf12;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.keylog.ParsedKeyLog;
import dev.keyway.tls.decrypt.DecryptedConnection;
import dev.keyway.tls.decrypt.TrafficDecryptor;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * TLS 1.2 record protection (RFC 5246 section 6.2.3): round trips through the record layer, known answers
 * against a record built by hand with plain JCA from the RFCs, a cross-check against core's passive
 * decryptor (an independent implementation), and tampering, replay, truncation, CBC padding and length
 * attacks, which must all end in the same bad_record_mac.
 */
class RecordProtection12Test {
    private static final int[] LENGTHS = {0, 1, 15, 16, 17, 255, 256, RecordLayer.MAX_FRAGMENT};
    private static final int[] TYPES = {RecordLayer.ALERT, RecordLayer.HANDSHAKE, RecordLayer.APPLICATION_DATA};
    private static final HexFormat HEX = HexFormat.of();

    static Stream<String> suites() {
        return Stream.of("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305",
                "AES128-GCM-SHA256", "AES128-SHA", "ECDHE-RSA-AES128-SHA256");
    }

    static Stream<String> aeadSuites() {
        return suites().filter(n -> CipherSuites.parse(n).cipher().aead());
    }

    /** The CBC suites of the list, and a SHA-384 one, whose hash has 128-byte blocks. */
    static Stream<String> cbcSuites() {
        return Stream.of("AES128-SHA", "ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA384", "AES256-SHA");
    }

    static Stream<String> everyTls12Suite() {
        return CipherSuites.all().stream().filter(s -> !s.tls13()).map(CipherSuite::opensslName);
    }

    /** The message every record that does not open must carry, whatever was wrong with it. */
    private static final String UNOPENED = unopenedMessage();

    private static String unopenedMessage() {
        Side s = Side.of("ECDHE-ECDSA-AES128-GCM-SHA256", 0);
        byte[] record = seal(s.protection(), RecordLayer.APPLICATION_DATA, new byte[10]);
        record[record.length - 1] ^= 1;
        TlsException e = (TlsException) catchThrowable(() -> open(s.protection(), record));
        assertThat(e.alert()).isEqualTo(Alert.BAD_RECORD_MAC);
        return e.getMessage();
    }

    // ---- round trips ----

    @ParameterizedTest
    @MethodSource("suites")
    void roundTripsEveryTypeAndLengthThroughTheRecordLayer(String name) {
        Side side = Side.of(name, 1);
        RecordProtection12 sealer = side.protection();
        RecordProtection12 opener = side.protection();
        RecordLayer writer = new RecordLayer();
        writer.setWriteProtection(sealer);
        RecordLayer reader = new RecordLayer();
        reader.setReadProtection(opener);
        // Without this the layer hands protected alerts up unopened, as TLS 1.3 peers may send plaintext ones
        // mid-handshake.
        reader.handshakeDone();
        Random r = new Random(name.hashCode());
        long count = 0;
        for (int type : TYPES) {
            for (int len : LENGTHS) {
                byte[] data = bytes(r, len);
                writer.write(type, data);
                RecordLayer.Output o = writer.swapOutput();
                byte[] wire = Arrays.copyOf(o.bytes(), o.length());
                writer.recycle(o.bytes());
                count++;

                assertThat(wire).hasSize(RecordLayer.HEADER + fragmentLength(side, len));
                assertThat(wire.length).isLessThanOrEqualTo(len + sealer.expansion());
                assertThat(Arrays.copyOf(wire, 3)).containsExactly(type, 3, 3);
                assertThat(((wire[3] & 0xff) << 8) | (wire[4] & 0xff)).isEqualTo(wire.length - RecordLayer.HEADER);
                assertThat(sealer.sequence()).isEqualTo(count);

                RecordLayer.Record rec;
                if (type != RecordLayer.APPLICATION_DATA && len == 0) {
                    // RFC 5246 section 6.2.1 (and RFC 8446 section 5.4): no empty handshake or alert fragments; the
                    // record is opened (the sequence number moves on) and refused.
                    reader.receive(wire, 0, wire.length);
                    assertThatThrownBy(reader::next).isInstanceOfSatisfying(TlsException.class,
                            e -> assertThat(e.alert()).isEqualTo(Alert.UNEXPECTED_MESSAGE));
                    assertThat(opener.sequence()).isEqualTo(count);
                    continue;
                }
                if (type != RecordLayer.APPLICATION_DATA && wire.length - RecordLayer.HEADER > RecordLayer.MAX_FRAGMENT) {
                    // RecordLayer.next() caps protected records of other types than application_data at 2^14
                    // bytes (in TLS 1.3 every protected record says application_data); TLS 1.2 handshake records
                    // over 2^14 - 24 bytes of plaintext need its limit raised, so this one is opened directly.
                    rec = open(opener, wire);
                } else {
                    reader.receive(wire, 0, wire.length);
                    rec = reader.next();
                }
                assertThat(rec.type()).isEqualTo(type);
                assertThat(rec.data()).isEqualTo(data);
                assertThat(opener.sequence()).isEqualTo(count);
            }
        }
        assertThat(reader.next()).isNull();
    }

    @ParameterizedTest
    @MethodSource("suites")
    void recordsSplitAcrossReadsAndJoinedInOneReadOpenInOrder(String name) {
        Side side = Side.of(name, 2);
        RecordLayer writer = new RecordLayer();
        writer.setWriteProtection(side.protection());
        Random r = new Random(3);
        List<byte[]> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            byte[] data = bytes(r, r.nextInt(300));
            sent.add(data);
            writer.write(RecordLayer.APPLICATION_DATA, data);
        }
        RecordLayer.Output o = writer.swapOutput();
        RecordLayer reader = new RecordLayer();
        RecordProtection12 opener = side.protection();
        reader.setReadProtection(opener);
        List<byte[]> received = new ArrayList<>();
        int at = 0;
        while (at < o.length()) {
            int n = Math.min(o.length() - at, 1 + r.nextInt(90));
            reader.receive(o.bytes(), at, n);
            at += n;
            for (RecordLayer.Record rec = reader.next(); rec != null; rec = reader.next()) {
                received.add(rec.data());
            }
        }
        assertThat(received).containsExactlyElementsOf(sent);
        assertThat(opener.sequence()).isEqualTo(20);
    }

    /** The passive TrafficDecryptor (its own RecordCipher12) reads a connection whose records we sealed. */
    @ParameterizedTest
    @MethodSource("everyTls12Suite")
    void coresPassiveDecryptorOpensWhatWeSeal(String name) throws IOException {
        CipherSuite suite = CipherSuites.parse(name);
        Random r = new Random(name.hashCode());
        byte[] master = bytes(r, 48);
        byte[] clientRandom = bytes(r, 32);
        byte[] serverRandom = bytes(r, 32);
        KeyBlock12 kb = Prf12.keyBlock(suite, TlsVersion.TLS12, master, clientRandom, serverRandom);
        RecordLayer client = new RecordLayer();
        RecordLayer server = new RecordLayer();
        client.setWriteProtection(new RecordProtection12(suite, kb.clientKey(), kb.clientIv(), kb.clientMacKey()));
        server.setWriteProtection(new RecordProtection12(suite, kb.serverKey(), kb.serverIv(), kb.serverMacKey()));
        kb.destroy();

        byte[] ccs = {20, 3, 3, 0, 1, 1};
        ByteArrayOutputStream c2s = new ByteArrayOutputStream();
        ByteArrayOutputStream s2c = new ByteArrayOutputStream();
        c2s.writeBytes(plainRecord(handshake(1, concat(new byte[] {3, 3}, clientRandom,
                new byte[] {0, 0, 2, (byte) (suite.code() >> 8), (byte) suite.code(), 1, 0}))));
        s2c.writeBytes(plainRecord(concat(handshake(2, concat(new byte[] {3, 3}, serverRandom,
                new byte[] {0, (byte) (suite.code() >> 8), (byte) suite.code(), 0})), handshake(14, new byte[0]))));
        c2s.writeBytes(ccs);
        s2c.writeBytes(ccs);
        List<byte[]> fromClient = new ArrayList<>();
        List<byte[]> fromServer = new ArrayList<>();
        for (RecordLayer side : List.of(client, server)) {
            List<byte[]> sent = side == client ? fromClient : fromServer;
            side.write(RecordLayer.HANDSHAKE, handshake(20, bytes(r, 12)));
            for (int len : new int[] {1, 0, 16, 100, 255, RecordLayer.MAX_FRAGMENT}) {
                byte[] data = bytes(r, len);
                side.write(RecordLayer.APPLICATION_DATA, data);
                sent.add(data);
            }
            side.writeAlert(Alert.CLOSE_NOTIFY);
            RecordLayer.Output o = side.swapOutput();
            (side == client ? c2s : s2c).write(o.bytes(), 0, o.length());
        }
        String log = "CLIENT_RANDOM " + HEX.formatHex(clientRandom) + " " + HEX.formatHex(master) + "\n";

        DecryptedConnection d = new TrafficDecryptor(ParsedKeyLog.read(new ByteArrayInputStream(log.getBytes(StandardCharsets.US_ASCII))))
                .decrypt(c2s.toByteArray(), s2c.toByteArray());

        assertThat(d.status()).as(d.notes().toString()).isEqualTo(DecryptedConnection.Status.DECRYPTED);
        assertThat(d.suite()).isEqualTo(suite);
        assertThat(d.data().stream().filter(a -> a.direction() == DecryptedConnection.Direction.CLIENT_TO_SERVER)
                .map(DecryptedConnection.AppData::bytes)).containsExactlyElementsOf(fromClient);
        assertThat(d.data().stream().filter(a -> a.direction() == DecryptedConnection.Direction.SERVER_TO_CLIENT)
                .map(DecryptedConnection.AppData::bytes)).containsExactlyElementsOf(fromServer);
        assertThat(d.notes()).filteredOn(n -> n.contains("close_notify")).hasSize(2);
    }

    // ---- known answers ----

    @ParameterizedTest
    @MethodSource("aeadSuites")
    void aeadRecordsAreExactlyWhatTheRfcsDescribe(String name) {
        Side s = Side.of(name, 7);
        RecordProtection12 p = s.protection();
        RecordProtection12 q = s.protection();
        Random r = new Random(8);
        for (long seq = 0; seq < 6; seq++) {
            int type = TYPES[(int) (seq % 3)];
            byte[] data = bytes(r, 37 * (int) seq + (int) seq % 2);
            byte[] sealed = seal(p, type, data);
            // RFC 5288 leaves the explicit nonce to the sender; we send the sequence number. ChaCha sends none.
            byte[] explicit = s.suite.cipher().explicitNonceLength() == 8 ? be64(seq) : new byte[0];
            assertThat(HEX.formatHex(sealed)).isEqualTo(HEX.formatHex(Reference.aeadRecord(s, seq, type, explicit, data)));
            assertThat(Reference.aeadOpen(s, seq, sealed)).isEqualTo(data);
            assertThat(open(q, sealed).data()).isEqualTo(data);
        }
    }

    @Test
    void gcmTakesWhateverExplicitNonceThePeerSends() {
        Side s = Side.of("ECDHE-RSA-AES256-GCM-SHA384", 9);
        RecordProtection12 p = s.protection();
        Random r = new Random(10);
        for (long seq = 0; seq < 4; seq++) {
            byte[] data = bytes(r, 50);
            byte[] record = Reference.aeadRecord(s, seq, RecordLayer.APPLICATION_DATA, bytes(r, 8), data);
            assertThat(open(p, record).data()).isEqualTo(data);
        }
    }

    @ParameterizedTest
    @MethodSource("cbcSuites")
    void cbcRecordsAreExactlyWhatTheRfcDescribes(String name) {
        Side s = Side.of(name, 11);
        Random ivs = new Random(12);
        Random sameIvs = new Random(12);
        RecordProtection12 p = s.protection(ivs::nextBytes);
        RecordProtection12 q = s.protection();
        Random r = new Random(13);
        long seq = 0;
        for (int len : LENGTHS) {
            int type = TYPES[(int) (seq % 3)];
            byte[] data = bytes(r, len);
            byte[] sealed = seal(p, type, data);
            // Minimal padding: the fewest bytes (1 to 16) that fill the last block.
            int padLength = 15 - (len + s.macLength()) % 16;
            byte[] expected = Reference.cbcRecord(s, seq, type, bytes(sameIvs, 16), data, padLength);
            assertThat(HEX.formatHex(sealed)).isEqualTo(HEX.formatHex(expected));
            assertThat(open(q, sealed).data()).isEqualTo(data);
            seq++;
        }
    }

    @ParameterizedTest
    @MethodSource("cbcSuites")
    void cbcOpensEveryLegalPaddingLength(String name) {
        Side s = Side.of(name, 14);
        RecordProtection12 p = s.protection();
        Random r = new Random(15);
        for (int pad = 0; pad < 256; pad++) {
            int len = Math.floorMod(-(s.macLength() + pad + 1), 16) + 16 * (pad % 3);
            byte[] data = bytes(r, len);
            byte[] record = Reference.cbcRecord(s, pad, RecordLayer.HANDSHAKE, bytes(r, 16), data, pad);
            RecordLayer.Record rec = open(p, record);
            assertThat(rec.type()).isEqualTo(RecordLayer.HANDSHAKE);
            assertThat(rec.data()).as("padding length %d", pad).isEqualTo(data);
        }
    }

    @Test
    void cbcExplicitIvsAreFreshPerRecord() {
        Side s = Side.of("AES128-SHA", 16);
        RecordProtection12 p = s.protection();
        byte[] a = seal(p, RecordLayer.APPLICATION_DATA, new byte[32]);
        byte[] b = seal(p, RecordLayer.APPLICATION_DATA, new byte[32]);
        assertThat(Arrays.copyOfRange(a, 5, 21)).isNotEqualTo(Arrays.copyOfRange(b, 5, 21));
        assertThat(Arrays.copyOfRange(a, 5, 21)).isNotEqualTo(new byte[16]);
    }

    // ---- tampering, replay, truncation ----

    @ParameterizedTest
    @MethodSource("suites")
    void everySingleBitFlipOutsideTheLengthIsBadRecordMac(String name) {
        Side s = Side.of(name, 17);
        RecordProtection12 writer = s.protection();
        RecordProtection12 reader = s.protection();
        Random r = new Random(18);
        for (int i = 0; i < 2; i++) {
            byte[] record = seal(writer, RecordLayer.APPLICATION_DATA, bytes(r, 40));
            for (int bit = 0; bit < record.length * 8; bit++) {
                if (bit / 8 == 3 || bit / 8 == 4) {
                    continue;
                }
                byte[] tampered = record.clone();
                tampered[bit / 8] ^= (byte) (1 << (bit % 8));
                assertBadRecordMac(() -> open(reader, tampered));
                assertThat(reader.sequence()).isEqualTo(i);
            }
            open(reader, record);
        }
    }

    @ParameterizedTest
    @MethodSource("suites")
    void headerBitFlipsNeverYieldARecordThroughTheLayer(String name) {
        Side s = Side.of(name, 19);
        byte[] record = seal(s.protection(), RecordLayer.APPLICATION_DATA, bytes(new Random(20), 40));
        for (int bit = 0; bit < 40; bit++) {
            byte[] tampered = record.clone();
            tampered[bit / 8] ^= (byte) (1 << (bit % 8));
            RecordLayer reader = new RecordLayer();
            reader.setReadProtection(s.protection());
            reader.handshakeDone();
            reader.receive(tampered, 0, tampered.length);
            Throwable t = catchThrowable(reader::next);
            int type = tampered[0] & 0xff;
            if (bit / 8 == 2 || (bit / 8 == 0 && (type == RecordLayer.HANDSHAKE || type == RecordLayer.ALERT))) {
                // The version's minor byte and the type are authenticated: the protection sees and refuses them.
                assertBadRecordMac(t);
            } else if (t == null) {
                // A longer length: the layer waits for bytes that never come.
                assertThat(bit / 8).isIn(3, 4);
                assertThat(reader.buffered()).isEqualTo(tampered.length);
            } else {
                assertThat(t).isInstanceOf(TlsException.class);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("suites")
    void replayedDroppedAndReorderedRecordsDoNotOpen(String name) {
        Side s = Side.of(name, 21);
        RecordProtection12 writer = s.protection();
        byte[] first = seal(writer, RecordLayer.APPLICATION_DATA, "first".getBytes(StandardCharsets.US_ASCII));
        byte[] second = seal(writer, RecordLayer.APPLICATION_DATA, "second".getBytes(StandardCharsets.US_ASCII));
        byte[] third = seal(writer, RecordLayer.APPLICATION_DATA, "third".getBytes(StandardCharsets.US_ASCII));

        RecordProtection12 reordered = s.protection();
        assertBadRecordMac(() -> open(reordered, second));
        assertBadRecordMac(() -> open(reordered, third));

        RecordProtection12 replayed = s.protection();
        assertThat(open(replayed, first).data()).isEqualTo("first".getBytes(StandardCharsets.US_ASCII));
        assertBadRecordMac(() -> open(replayed, first));
        assertBadRecordMac(() -> open(replayed, third));
        assertThat(open(replayed, second).data()).isEqualTo("second".getBytes(StandardCharsets.US_ASCII));
        assertThat(replayed.sequence()).isEqualTo(2);

        // The same bytes under the other direction's keys (a reflected record) do not open either.
        Side other = Side.server(name, 21);
        assertBadRecordMac(() -> open(other.protection(), first));
    }

    @ParameterizedTest
    @MethodSource("suites")
    void everyTruncationIsBadRecordMac(String name) {
        Side s = Side.of(name, 22);
        byte[] record = seal(s.protection(), RecordLayer.HANDSHAKE, bytes(new Random(23), 70));
        RecordProtection12 reader = s.protection();
        for (int length = 0; length < record.length - RecordLayer.HEADER; length++) {
            byte[] cut = withFragmentLength(record, length);
            assertBadRecordMac(() -> open(reader, cut));
        }
        // One byte more is just as bad.
        byte[] longer = withFragmentLength(Arrays.copyOf(record, record.length + 1), record.length + 1 - RecordLayer.HEADER);
        assertBadRecordMac(() -> open(reader, longer));
        assertThat(reader.sequence()).isZero();
        assertThat(open(reader, record).length()).isEqualTo(70);
    }

    // ---- CBC padding and length attacks: all one alert, one message ----

    @ParameterizedTest
    @MethodSource("cbcSuites")
    void cbcBadPaddingBytesAreBadRecordMac(String name) {
        Side s = Side.of(name, 24);
        RecordProtection12 reader = s.protection();
        Random r = new Random(25);
        for (int pad : new int[] {1, 2, 15, 16, 100, 255}) {
            byte[] content = bytes(r, Math.floorMod(-(s.macLength() + pad + 1), 16));
            for (int k : new int[] {0, pad / 2, pad - 1}) {
                byte[] padding = Reference.padding(pad);
                padding[k] ^= (byte) (1 << r.nextInt(8));
                byte[] plain = concat(content, Reference.hmac(s, 0, RecordLayer.APPLICATION_DATA, content), padding);
                byte[] record = Reference.cbcRecord(s, RecordLayer.APPLICATION_DATA, bytes(r, 16), plain);
                assertBadRecordMac(() -> open(reader, record));
            }
        }
        assertThat(reader.sequence()).isZero();
    }

    @ParameterizedTest
    @MethodSource("cbcSuites")
    void cbcPaddingLongerThanTheRecordIsBadRecordMac(String name) {
        Side s = Side.of(name, 26);
        RecordProtection12 reader = s.protection();
        Random r = new Random(27);
        int m = s.macLength();
        for (int contentLength : new int[] {0, 16, 200}) {
            byte[] content = bytes(r, contentLength);
            byte[] mac = Reference.hmac(s, 0, RecordLayer.APPLICATION_DATA, content);
            int fill = 16 + Math.floorMod(-(contentLength + m), 16);
            int n = contentLength + m + fill;
            // Padding bytes that claim 255 bytes, and ones that claim one byte more than there is room for.
            for (int claimed : new int[] {255, n - m}) {
                byte[] padding = new byte[fill];
                Arrays.fill(padding, (byte) claimed);
                byte[] record = Reference.cbcRecord(s, RecordLayer.APPLICATION_DATA, bytes(r, 16), concat(content, mac, padding));
                assertBadRecordMac(() -> open(reader, record));
            }
        }
        assertThat(reader.sequence()).isZero();
    }

    @ParameterizedTest
    @MethodSource("cbcSuites")
    void cbcWithoutPaddingOrWithTheMacOverThePaddingIsBadRecordMac(String name) {
        Side s = Side.of(name, 28);
        RecordProtection12 reader = s.protection();
        Random r = new Random(29);
        for (int i = 0; i < 20; i++) {
            // content || MAC filling whole blocks, no padding: the last MAC byte reads as a padding length.
            byte[] content = bytes(r, Math.floorMod(-s.macLength(), 16) + 16 * i);
            byte[] plain = concat(content, Reference.hmac(s, 0, RecordLayer.APPLICATION_DATA, content));
            byte[] unpadded = Reference.cbcRecord(s, RecordLayer.APPLICATION_DATA, bytes(r, 16), plain);
            assertBadRecordMac(() -> open(reader, unpadded));
        }
        // A MAC over the content and its padding, as if the padding were content.
        byte[] content = bytes(r, 30);
        int pad = 15 - (30 + s.macLength()) % 16;
        byte[] macOverPadding = Reference.hmac(s, 0, RecordLayer.APPLICATION_DATA, concat(content, Reference.padding(pad)));
        byte[] record = Reference.cbcRecord(s, RecordLayer.APPLICATION_DATA, bytes(r, 16),
                concat(content, macOverPadding, Reference.padding(pad)));
        assertBadRecordMac(() -> open(reader, record));
        // A wrong MAC under a good padding.
        byte[] mac = Reference.hmac(s, 0, RecordLayer.APPLICATION_DATA, content);
        mac[3] ^= 0x40;
        byte[] wrongMac = Reference.cbcRecord(s, RecordLayer.APPLICATION_DATA, bytes(r, 16), concat(content, mac, Reference.padding(pad)));
        assertBadRecordMac(() -> open(reader, wrongMac));
        assertThat(reader.sequence()).isZero();
    }

    @ParameterizedTest
    @MethodSource("cbcSuites")
    void cbcFragmentsTooShortOrOffTheBlockAreBadRecordMac(String name) {
        Side s = Side.of(name, 30);
        RecordProtection12 reader = s.protection();
        Random r = new Random(31);
        // IV, then at least one block holding the MAC and the padding length byte.
        int smallest = 16 + 16 * ((s.macLength() + 1 + 15) / 16);
        for (int length = 0; length < smallest; length++) {
            byte[] record = concat(new byte[] {23, 3, 3, (byte) (length >> 8), (byte) length}, bytes(r, length));
            assertBadRecordMac(() -> open(reader, record));
        }
        byte[] good = seal(s.protection(), RecordLayer.APPLICATION_DATA, bytes(r, 100));
        for (int extra : new int[] {-15, -1, 1, 15}) {
            int length = good.length - RecordLayer.HEADER + extra;
            byte[] off = withFragmentLength(Arrays.copyOf(good, RecordLayer.HEADER + length), length);
            assertBadRecordMac(() -> open(reader, off));
        }
        assertThat(reader.sequence()).isZero();
        assertThat(open(reader, good).length()).isEqualTo(100);
    }

    /**
     * The helper that makes the countermeasure work: the filler after the real MAC brings both HMACs together
     * to the same number of compression-function calls and the same number of bytes for every content length
     * a padding allows. Counted here from the hash definitions (FIPS 180-4 padding), not from the code.
     */
    @Test
    void macFillerMakesTheHashWorkIndependentOfThePadding() {
        int[][] hashes = {{64, 9}, {128, 17}};
        for (int[] h : hashes) {
            int block = h[0];
            int trailer = h[1];
            for (int maxContent = 0; maxContent < 1200; maxContent++) {
                int blocks = -1;
                int bytes = -1;
                for (int content = Math.max(0, maxContent - 256); content <= maxContent; content++) {
                    int filler = RecordProtection12.fillerLength(maxContent, content, block, trailer);
                    assertThat(filler).isBetween(0, 256 + 128);
                    int work = compressions(13 + content, block, trailer) + compressions(filler, block, trailer);
                    if (blocks < 0) {
                        blocks = work;
                        bytes = content + filler;
                    }
                    assertThat(work).as("block %d, max %d, content %d", block, maxContent, content).isEqualTo(blocks);
                    assertThat(content + filler).isEqualTo(bytes);
                }
            }
        }
    }

    /** Compression calls of HMAC's inner hash over {@code m} bytes: the key block, the message, 0x80, the length. */
    private static int compressions(int m, int block, int trailer) {
        return (block + m + trailer + block - 1) / block;
    }

    // ---- lengths ----

    @ParameterizedTest
    @MethodSource("suites")
    void plaintextOver2To14IsRecordOverflow(String name) {
        Side s = Side.of(name, 32);
        byte[] data = bytes(new Random(33), RecordLayer.MAX_FRAGMENT + 1);
        byte[] record = s.suite.cipher().aead()
                ? Reference.aeadRecord(s, 0, RecordLayer.APPLICATION_DATA, new byte[s.suite.cipher().explicitNonceLength()], data)
                : Reference.cbcRecord(s, 0, RecordLayer.APPLICATION_DATA, new byte[16], data, 15 - (data.length + s.macLength()) % 16);
        assertThat(record.length - RecordLayer.HEADER).isLessThanOrEqualTo(s.protection().maxCiphertext());
        assertThatThrownBy(() -> open(s.protection(), record))
                .isInstanceOfSatisfying(TlsException.class, e -> assertThat(e.alert()).isEqualTo(Alert.RECORD_OVERFLOW));
        RecordLayer reader = new RecordLayer();
        reader.setReadProtection(s.protection());
        reader.receive(record, 0, record.length);
        assertThatThrownBy(reader::next)
                .isInstanceOfSatisfying(TlsException.class, e -> assertThat(e.alert()).isEqualTo(Alert.RECORD_OVERFLOW));
    }

    @ParameterizedTest
    @MethodSource("suites")
    void ciphertextOver2To14Plus2048IsRefusedByTheLayer(String name) {
        Side s = Side.of(name, 34);
        assertThat(s.protection().maxCiphertext()).isEqualTo((1 << 14) + 2048);
        int over = (1 << 14) + 2049;
        RecordLayer reader = new RecordLayer();
        reader.setReadProtection(s.protection());
        reader.receive(new byte[] {23, 3, 3, (byte) (over >> 8), (byte) over}, 0, 5);
        assertThatThrownBy(reader::next)
                .isInstanceOfSatisfying(TlsException.class, e -> assertThat(e.alert()).isEqualTo(Alert.RECORD_OVERFLOW));
        assertThatThrownBy(() -> s.protection().open(new byte[5 + over], 0, over))
                .isInstanceOfSatisfying(TlsException.class, e -> assertThat(e.alert()).isEqualTo(Alert.RECORD_OVERFLOW));

        // Exactly the limit is framed and reaches the protection, which finds nothing valid in zeros.
        int limit = (1 << 14) + 2048;
        RecordLayer atLimit = new RecordLayer();
        atLimit.setReadProtection(s.protection());
        atLimit.receive(concat(new byte[] {23, 3, 3, (byte) (limit >> 8), (byte) limit}, new byte[limit]), 0, 5 + limit);
        assertBadRecordMac(catchThrowable(atLimit::next));
    }

    @Test
    void theLargestCbcRecordOpensThroughTheLayer() {
        // 2^14 bytes, a SHA-384 MAC and a 256-byte padding: 16,704 bytes, the most a CBC suite can produce.
        Side s = Side.of("ECDHE-RSA-AES256-SHA384", 35);
        byte[] data = bytes(new Random(36), RecordLayer.MAX_FRAGMENT);
        byte[] record = Reference.cbcRecord(s, 0, RecordLayer.APPLICATION_DATA, bytes(new Random(37), 16), data, 255);
        assertThat(record.length).isEqualTo(5 + 16 + RecordLayer.MAX_FRAGMENT + 48 + 256);
        RecordLayer reader = new RecordLayer();
        reader.setReadProtection(s.protection());
        reader.receive(record, 0, record.length);
        assertThat(reader.next().data()).isEqualTo(data);
    }

    // ---- fuzz ----

    /** Mutated records through the record layer: a TlsException, a wait for more bytes, or the original record. */
    @Test
    void mutatedRecordsOnlyEverFailWithTlsException() {
        List<Side> sides = suites().map(n -> Side.of(n, 38)).toList();
        Random r = new Random(0x5eed12L);
        int[] outcomes = new int[3];
        for (int i = 0; i < 20_000; i++) {
            Side s = sides.get(i % sides.size());
            int type = TYPES[r.nextInt(TYPES.length)];
            byte[] data = bytes(r, r.nextInt(r.nextInt(8) == 0 ? 2000 : 80));
            byte[] record = seal(s.protection(), type, data);
            byte[] mutated = mutate(record, r, s);
            RecordLayer reader = new RecordLayer();
            reader.setReadProtection(s.protection());
            reader.handshakeDone();
            reader.receive(mutated, 0, mutated.length);
            try {
                for (RecordLayer.Record rec = reader.next(); rec != null; rec = reader.next()) {
                    assertThat(rec.type()).isEqualTo(type);
                    assertThat(rec.data()).isEqualTo(data);
                    outcomes[2]++;
                }
                outcomes[1]++;
            } catch (TlsException e) {
                outcomes[0]++;
            }
        }
        assertThat(outcomes[0]).isGreaterThan(15_000);
    }

    private static byte[] mutate(byte[] record, Random r, Side s) {
        byte[] m = record.clone();
        int body = m.length - RecordLayer.HEADER;
        switch (r.nextInt(8)) {
            case 0 -> {
                for (int k = 1 + r.nextInt(4); k > 0; k--) {
                    int at = r.nextInt(m.length);
                    m[at] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 1 -> m[RecordLayer.HEADER + r.nextInt(body)] = (byte) r.nextInt(256);
            case 2 -> m = withFragmentLength(Arrays.copyOf(m, RecordLayer.HEADER + r.nextInt(body)), -1);
            case 3 -> m = withFragmentLength(concat(m, bytes(r, 1 + r.nextInt(40))), -1);
            case 4 -> {
                int length = r.nextInt(0x10000);
                m[3] = (byte) (length >> 8);
                m[4] = (byte) length;
            }
            case 5 -> m = withFragmentLength(concat(Arrays.copyOf(m, RecordLayer.HEADER), bytes(r, r.nextInt(400))), -1);
            case 6 -> {
                // CBC: bits of the next-to-last block flip the same bits of the last plaintext block, the padding.
                int at = Math.max(RecordLayer.HEADER, m.length - 32 + r.nextInt(16));
                m[at] ^= (byte) (1 << r.nextInt(8));
            }
            default -> {
                int cut = RecordLayer.HEADER + r.nextInt(body + 1);
                m = concat(Arrays.copyOf(m, cut), seal(s.protection(), RecordLayer.APPLICATION_DATA, bytes(r, 20)));
                m = withFragmentLength(m, -1);
            }
        }
        return m;
    }

    // ---- construction ----

    @Test
    void keysAreZeroedAndWrongSizesRefused() {
        Side s = Side.of("ECDHE-RSA-AES128-SHA256", 39);
        byte[] key = s.key.clone();
        byte[] macKey = s.macKey.clone();
        new RecordProtection12(s.suite, key, new byte[0], macKey);
        assertThat(key).containsOnly(0);
        assertThat(macKey).containsOnly(0);

        assertThatThrownBy(() -> new RecordProtection12(s.suite, new byte[15], new byte[0], s.macKey.clone()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RecordProtection12(s.suite, s.key.clone(), new byte[0], new byte[20]))
                .isInstanceOf(IllegalArgumentException.class);
        Side g = Side.of("ECDHE-ECDSA-AES128-GCM-SHA256", 39);
        assertThatThrownBy(() -> new RecordProtection12(g.suite, g.key.clone(), new byte[12], new byte[0]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RecordProtection12(CipherSuites.byCode(0x1301), new byte[16], new byte[12], new byte[0]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(s.protection().toString()).doesNotContainIgnoringCase(HEX.formatHex(s.key));
    }

    @ParameterizedTest
    @MethodSource("suites")
    void expansionCoversTheLongestRecord(String name) {
        Side s = Side.of(name, 40);
        RecordProtection12 p = s.protection();
        for (int len = 0; len < 64; len++) {
            assertThat(seal(p, RecordLayer.APPLICATION_DATA, new byte[len]).length).isLessThanOrEqualTo(len + p.expansion());
        }
        int blocks = s.suite.cipher().aead() ? 0 : 32;
        assertThat(p.expansion()).isEqualTo(5 + (s.suite.cipher().aead() ? s.suite.cipher().explicitNonceLength() + 16 : blocks + s.macLength()));
    }

    // ---- helpers ----

    /** One side's part of a TLS 1.2 key block, split by core's Prf12 from a seeded master secret. */
    record Side(CipherSuite suite, byte[] key, byte[] iv, byte[] macKey) {
        static Side of(String name, long seed) {
            return split(name, seed, true);
        }

        /** The other direction of the same connection. */
        static Side server(String name, long seed) {
            return split(name, seed, false);
        }

        private static Side split(String name, long seed, boolean client) {
            CipherSuite suite = CipherSuites.parse(name);
            Random r = new Random(seed);
            KeyBlock12 kb = Prf12.keyBlock(suite, TlsVersion.TLS12, bytes(r, 48), bytes(r, 32), bytes(r, 32));
            try {
                return client ? new Side(suite, kb.clientKey(), kb.clientIv(), kb.clientMacKey())
                        : new Side(suite, kb.serverKey(), kb.serverIv(), kb.serverMacKey());
            } finally {
                kb.destroy();
            }
        }

        RecordProtection12 protection() {
            return new RecordProtection12(suite, key.clone(), iv.clone(), macKey.clone());
        }

        RecordProtection12 protection(Consumer<byte[]> explicitIvs) {
            return new RecordProtection12(suite, key.clone(), iv.clone(), macKey.clone(), explicitIvs);
        }

        int macLength() {
            return suite.mac().keyLength();
        }
    }

    private static int fragmentLength(Side s, int len) {
        CipherSuite.Cipher c = s.suite.cipher();
        if (c.aead()) {
            return c.explicitNonceLength() + len + 16;
        }
        return 16 + ((len + s.macLength()) / 16 + 1) * 16;
    }

    /** Seals through offsets on both sides, as the record layer may. */
    private static byte[] seal(RecordProtection12 p, int type, byte[] data) {
        byte[] src = concat(new byte[3], data);
        byte[] dst = new byte[7 + data.length + p.expansion()];
        int n = p.seal(type, src, 3, data.length, dst, 7);
        assertThat(n).isLessThanOrEqualTo(data.length + p.expansion());
        return Arrays.copyOfRange(dst, 7, 7 + n);
    }

    /** Opens a whole record placed at an offset inside a larger buffer, as the record layer's input is. */
    private static RecordLayer.Record open(RecordProtection12 p, byte[] record) {
        byte[] buf = new byte[record.length + 13];
        System.arraycopy(record, 0, buf, 9, record.length);
        return p.open(buf, 9, record.length - RecordLayer.HEADER);
    }

    private static void assertBadRecordMac(ThrowingCallable call) {
        assertBadRecordMac(catchThrowable(call));
    }

    private static void assertBadRecordMac(Throwable t) {
        assertThat(t).isInstanceOfSatisfying(TlsException.class, e -> {
            assertThat(e.alert()).isEqualTo(Alert.BAD_RECORD_MAC);
            assertThat(e.getMessage()).isEqualTo(UNOPENED);
        });
    }

    /** The record with its header's length set to {@code length}, or to what follows the header when -1. */
    private static byte[] withFragmentLength(byte[] record, int length) {
        byte[] m = record.clone();
        int l = length < 0 ? m.length - RecordLayer.HEADER : length;
        m[3] = (byte) (l >> 8);
        m[4] = (byte) l;
        return length < 0 ? m : Arrays.copyOf(m, RecordLayer.HEADER + l);
    }

    private static byte[] plainRecord(byte[] handshake) {
        return concat(new byte[] {22, 3, 3, (byte) (handshake.length >> 8), (byte) handshake.length}, handshake);
    }

    private static byte[] handshake(int type, byte[] body) {
        return concat(new byte[] {(byte) type, (byte) (body.length >> 16), (byte) (body.length >> 8), (byte) body.length}, body);
    }

    static byte[] bytes(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    static byte[] be64(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (56 - 8 * i));
        }
        return b;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /**
     * TLS 1.2 record protection written out again from the RFCs with plain JCA, independently of the class
     * under test: RFC 5246 section 6.2.3.2 (CBC) and 6.2.3.3 (AEAD), RFC 5288 (GCM nonce: fixed IV || explicit
     * nonce), RFC 7905 (ChaCha20-Poly1305 nonce: IV XOR padded sequence number).
     */
    static final class Reference {
        private Reference() {
        }

        /** seq_num || type || version || length. */
        static byte[] additionalData(long seq, int type, int length) {
            return concat(be64(seq), new byte[] {(byte) type, 3, 3, (byte) (length >> 8), (byte) length});
        }

        static byte[] header(int type, int length) {
            return new byte[] {(byte) type, 3, 3, (byte) (length >> 8), (byte) length};
        }

        private static Cipher aead(Side s, int mode, long seq, byte[] explicitNonce) throws GeneralSecurityException {
            if (s.suite.cipher() == CipherSuite.Cipher.CHACHA20_POLY1305) {
                byte[] nonce = s.iv.clone();
                byte[] padded = concat(new byte[4], be64(seq));
                for (int i = 0; i < 12; i++) {
                    nonce[i] ^= padded[i];
                }
                Cipher c = Cipher.getInstance("ChaCha20-Poly1305");
                c.init(mode, new SecretKeySpec(s.key, "ChaCha20"), new IvParameterSpec(nonce));
                return c;
            }
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(mode, new SecretKeySpec(s.key, "AES"), new GCMParameterSpec(128, concat(s.iv, explicitNonce)));
            return c;
        }

        static byte[] aeadRecord(Side s, long seq, int type, byte[] explicitNonce, byte[] plain) {
            try {
                Cipher c = aead(s, Cipher.ENCRYPT_MODE, seq, explicitNonce);
                c.updateAAD(additionalData(seq, type, plain.length));
                byte[] fragment = concat(explicitNonce, c.doFinal(plain));
                return concat(header(type, fragment.length), fragment);
            } catch (GeneralSecurityException e) {
                throw new AssertionError(e);
            }
        }

        /** The plaintext of a whole AEAD record, or null. */
        static byte[] aeadOpen(Side s, long seq, byte[] record) {
            int explicit = s.suite.cipher().explicitNonceLength();
            try {
                Cipher c = aead(s, Cipher.DECRYPT_MODE, seq, Arrays.copyOfRange(record, 5, 5 + explicit));
                c.updateAAD(additionalData(seq, record[0], record.length - 5 - explicit - 16));
                return c.doFinal(record, 5 + explicit, record.length - 5 - explicit);
            } catch (AEADBadTagException e) {
                return null;
            } catch (GeneralSecurityException e) {
                throw new AssertionError(e);
            }
        }

        /** HMAC(MAC_write_key, seq_num || type || version || length || content). */
        static byte[] hmac(Side s, long seq, int type, byte[] content) {
            try {
                Mac mac = Mac.getInstance(s.suite.mac().jcaName());
                mac.init(new SecretKeySpec(s.macKey, s.suite.mac().jcaName()));
                mac.update(additionalData(seq, type, content.length));
                return mac.doFinal(content);
            } catch (GeneralSecurityException e) {
                throw new AssertionError(e);
            }
        }

        /** padding_length + 1 bytes, each padding_length. */
        static byte[] padding(int paddingLength) {
            byte[] p = new byte[paddingLength + 1];
            Arrays.fill(p, (byte) paddingLength);
            return p;
        }

        /** A record of content, its MAC and a padding of {@code paddingLength}, under explicit IV {@code iv}. */
        static byte[] cbcRecord(Side s, long seq, int type, byte[] iv, byte[] content, int paddingLength) {
            return cbcRecord(s, type, iv, concat(content, hmac(s, seq, type, content), padding(paddingLength)));
        }

        /** A record whose CBC plaintext (content, MAC, padding: whole blocks) is given as is. */
        static byte[] cbcRecord(Side s, int type, byte[] iv, byte[] plain) {
            try {
                Cipher c = Cipher.getInstance("AES/CBC/NoPadding");
                c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(s.key, "AES"), new IvParameterSpec(iv));
                byte[] fragment = concat(iv, c.doFinal(plain));
                return concat(header(type, fragment.length), fragment);
            } catch (GeneralSecurityException e) {
                throw new AssertionError(e);
            }
        }
    }
}
