package dev.keyway.tls.capture;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import static dev.keyway.tls.capture.Conversation.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading hand-built pcap and pcapng files: formats, byte orders, link types, IP versions, damage. */
class CaptureTest {
    private static final int IPV4 = 0x0800;
    private static final int IPV6 = 0x86dd;

    private static Capture read(byte[] file) {
        return Capture.read(new ByteArrayInputStream(file));
    }

    private static String text(TcpStream s) {
        return new String(s.bytes(), StandardCharsets.US_ASCII);
    }

    /** The standard conversation came through whole. */
    private static void assertStandard(Capture capture, Conversation c) {
        List<TcpConnection> all = capture.connections();
        assertThat(all).hasSize(1);
        TcpConnection t = all.get(0);
        assertThat(t.client()).isEqualTo(c.clientEndpoint());
        assertThat(t.server()).isEqualTo(c.serverEndpoint());
        assertThat(text(t.clientToServer())).isEqualTo(Conversation.STANDARD_UP);
        assertThat(text(t.serverToClient())).isEqualTo(Conversation.STANDARD_DOWN);
        assertThat(t.warnings()).isEmpty();
    }

    @ParameterizedTest(name = "little-endian {0}, nanoseconds {1}")
    @MethodSource("ordersAndUnits")
    void classicPcapInBothByteOrdersAndBothUnits(boolean little, boolean nanos) {
        Conversation c = Conversation.standard(Conversation.ipv4());
        c.steps.set(3, withTime(c.steps.get(3), T0.plusNanos(123_456_789)));
        Capture capture = read(c.pcap(little, nanos, 1, ip -> Frames.ethernet(IPV4, ip)).bytes());
        assertThat(capture.format()).isEqualTo(Capture.Format.PCAP);
        assertThat(capture.packets()).isEqualTo(c.steps.size());
        assertThat(capture.warnings()).isEmpty();
        assertStandard(capture, c);
        Instant expected = nanos ? T0.plusNanos(123_456_789) : T0.plusNanos(123_456_000);
        assertThat(capture.connections().get(0).clientToServer().marks()).containsExactly(new TcpStream.Mark(0, expected));
    }

    static Stream<Arguments> ordersAndUnits() {
        return Stream.of(Arguments.of(true, false), Arguments.of(false, false), Arguments.of(true, true), Arguments.of(false, true));
    }

    private static Conversation.Step withTime(Conversation.Step s, Instant t) {
        return new Conversation.Step(s.fromClient(), s.seq(), s.ack(), s.flags(), s.payload(), t);
    }

    @ParameterizedTest(name = "little-endian {0}")
    @ValueSource(booleans = {true, false})
    void pcapngSkipsOtherBlocksAndReadsEveryPacketBlock(boolean little) {
        Conversation c = Conversation.standard(Conversation.ipv4());
        CaptureFiles.Pcapng f = new CaptureFiles.Pcapng().section(little)
                .block(4, new byte[]{0, 0, 0, 0})                           // name resolution
                .iface(1, 262144, 9, 0)                                    // nanoseconds
                .block(0x0a, "TLS secrets block, not ours".getBytes());     // decryption secrets
        for (int i = 0; i < c.steps.size(); i++) {
            Conversation.Step s = c.steps.get(i);
            byte[] frame = Frames.ethernet(IPV4, c.ip(s));
            long ns = s.time().getEpochSecond() * 1_000_000_000L + s.time().getNano();
            switch (i % 3) {
                case 0 -> f.epb(0, ns, frame);
                case 1 -> f.opb(0, ns, frame);
                default -> f.spb(frame);
            }
            f.block(5, new byte[16]);                                       // interface statistics
            f.block(0x40000bad, new byte[]{1, 2, 3});                        // custom
        }
        Capture capture = read(f.bytes());
        assertThat(capture.format()).isEqualTo(Capture.Format.PCAPNG);
        assertThat(capture.packets()).isEqualTo(c.steps.size());
        assertThat(capture.warnings()).isEmpty();
        assertStandard(capture, c);
        // step 3 is an EPB (3 % 3 == 0); step 4 an OPB, step 5 an SPB that reuses step 4's time
        assertThat(capture.connections().get(0).clientToServer().marks()).containsExactly(new TcpStream.Mark(0, T0.plusMillis(3)));
        assertThat(capture.connections().get(0).serverToClient().marks()).containsExactly(new TcpStream.Mark(0, T0.plusMillis(4)));
    }

    @Test
    void pcapngWithSeveralSectionsAndInterfaces() {
        Conversation c = Conversation.standard(Conversation.ipv4());
        List<Function<byte[], byte[]>> links = List.of(ip -> Frames.ethernet(IPV4, ip), ip -> ip, ip -> Frames.sll2(IPV4, ip));
        CaptureFiles.Pcapng f = new CaptureFiles.Pcapng().section(true)
                .iface(1)                       // 0: Ethernet, microseconds
                .iface(101, 0, 0x80 | 10, 0)    // 1: raw IP, 2^-10 seconds
                .iface(276, 0, 3, 1000);        // 2: Linux cooked v2, milliseconds, 1000 s offset
        for (int i = 0; i < 4; i++) {
            packet(f, c, i, (i + 1) % 3);
        }
        f.section(false).iface(276, 0, 3, 1000).iface(1); // numbering starts again: 0 is now cooked, 1 Ethernet
        for (int i = 4; i < c.steps.size(); i++) {
            packet(f, c, i, i % 2 == 0 ? 2 : 0);
        }
        Capture capture = read(f.bytes());
        assertThat(capture.packets()).isEqualTo(c.steps.size());
        assertThat(capture.warnings()).isEmpty();
        assertStandard(capture, c);
        // step 3: raw IP in units of 2^-10 s; step 4: cooked, in ms with the 1000 s offset
        assertThat(capture.connections().get(0).clientToServer().marks().get(0).time())
                .isEqualTo(T0.plusNanos(Math.round(3 * 1.024) * 1_000_000_000L / 1024)); // 3 ms rounded down to 1/1024 s
        assertThat(capture.connections().get(0).serverToClient().marks().get(0).time()).isEqualTo(T0.plusMillis(4));
    }

    /** Step {@code i} on the interface with that index in the layout of the test above. */
    private static void packet(CaptureFiles.Pcapng f, Conversation c, int i, int layout) {
        Conversation.Step s = c.steps.get(i);
        Instant t = s.time();
        boolean secondSection = i >= 4;
        switch (layout) {
            case 0 -> f.epb(secondSection ? 1 : 0, t.getEpochSecond() * 1_000_000 + t.getNano() / 1000, Frames.ethernet(IPV4, c.ip(s)));
            case 1 -> f.epb(1, (t.getEpochSecond() << 10) + (long) t.getNano() * 1024 / 1_000_000_000, c.ip(s));
            default -> f.epb(secondSection ? 0 : 2, (t.getEpochSecond() - 1000) * 1000 + t.getNano() / 1_000_000, Frames.sll2(IPV4, c.ip(s)));
        }
    }

    /** Each link type, with the standard conversation over IPv4 or IPv6. */
    static Stream<Arguments> linkTypes() {
        return Stream.of(
                Arguments.of("Ethernet", 1, false, (Function<byte[], byte[]>) ip -> Frames.ethernet(IPV4, ip)),
                Arguments.of("Ethernet IPv6", 1, true, (Function<byte[], byte[]>) ip -> Frames.ethernet(IPV6, ip)),
                Arguments.of("802.1Q", 1, false, (Function<byte[], byte[]>) ip -> Frames.ethernet(IPV4, ip, 0x8100)),
                Arguments.of("802.1ad + 802.1Q", 1, true, (Function<byte[], byte[]>) ip -> Frames.ethernet(IPV6, ip, 0x88a8, 0x8100)),
                Arguments.of("BSD loopback, little-endian AF_INET", 0, false, (Function<byte[], byte[]>) ip -> Frames.loopback(2, true, ip)),
                Arguments.of("BSD loopback, big-endian AF_INET", 0, false, (Function<byte[], byte[]>) ip -> Frames.loopback(2, false, ip)),
                Arguments.of("BSD loopback, AF_INET6 = 10", 0, true, (Function<byte[], byte[]>) ip -> Frames.loopback(10, true, ip)),
                Arguments.of("BSD loopback, AF_INET6 = 24", 0, true, (Function<byte[], byte[]>) ip -> Frames.loopback(24, false, ip)),
                Arguments.of("BSD loopback, AF_INET6 = 28", 0, true, (Function<byte[], byte[]>) ip -> Frames.loopback(28, true, ip)),
                Arguments.of("BSD loopback, AF_INET6 = 30", 0, true, (Function<byte[], byte[]>) ip -> Frames.loopback(30, false, ip)),
                Arguments.of("OpenBSD loop", 108, true, (Function<byte[], byte[]>) ip -> Frames.loopback(24, false, ip)),
                Arguments.of("raw IP (101)", 101, false, Function.<byte[]>identity()),
                Arguments.of("raw IPv6 (101)", 101, true, Function.<byte[]>identity()),
                Arguments.of("raw IP (12)", 12, false, Function.<byte[]>identity()),
                Arguments.of("raw IP (14)", 14, true, Function.<byte[]>identity()),
                Arguments.of("IPv4 (228)", 228, false, Function.<byte[]>identity()),
                Arguments.of("IPv6 (229)", 229, true, Function.<byte[]>identity()),
                Arguments.of("Linux cooked", 113, false, (Function<byte[], byte[]>) ip -> Frames.sll(IPV4, ip)),
                Arguments.of("Linux cooked IPv6", 113, true, (Function<byte[], byte[]>) ip -> Frames.sll(IPV6, ip)),
                Arguments.of("Linux cooked v2", 276, false, (Function<byte[], byte[]>) ip -> Frames.sll2(IPV4, ip)),
                Arguments.of("Linux cooked v2 IPv6", 276, true, (Function<byte[], byte[]>) ip -> Frames.sll2(IPV6, ip)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("linkTypes")
    void everyLinkType(String name, int linkType, boolean v6, Function<byte[], byte[]> link) {
        Conversation c = Conversation.standard(v6 ? Conversation.ipv6() : Conversation.ipv4());
        Capture capture = read(c.pcap(true, false, linkType, link).bytes());
        assertThat(capture.warnings()).isEmpty();
        assertStandard(capture, c);
        // and the same frames in pcapng
        CaptureFiles.Pcapng f = new CaptureFiles.Pcapng().section(false).iface(linkType);
        for (Conversation.Step s : c.steps) {
            f.epb(0, s.time().getEpochSecond() * 1_000_000 + s.time().getNano() / 1000, link.apply(c.ip(s)));
        }
        assertStandard(read(f.bytes()), c);
    }

    @Test
    void ipv4OptionsTcpOptionsAndEthernetPaddingAreHandled() {
        Conversation c = Conversation.standard(Conversation.ipv4());
        CaptureFiles.Pcap p = new CaptureFiles.Pcap(true, false, 1);
        for (Conversation.Step s : c.steps) {
            byte[] src = s.fromClient() ? c.clientAddress : c.serverAddress;
            byte[] dst = s.fromClient() ? c.serverAddress : c.clientAddress;
            byte[] tcp = Frames.tcp(s.fromClient() ? c.clientPort : c.serverPort, s.fromClient() ? c.serverPort : c.clientPort,
                    s.seq(), s.ack(), s.flags(), s.payload(), 3);
            byte[] ip = Frames.ipv4(src, dst, 6, tcp, new byte[]{1, 1, 1, 0, 1, 1, 1, 0}, 0x4000); // 8 bytes of NOP/EOL options
            p.packet(s.time(), Frames.concat(Frames.ethernet(IPV4, ip), new byte[]{0, 0, 0, 0, 0, 0})); // padding and an FCS-like tail
        }
        Capture capture = read(p.bytes());
        assertThat(capture.warnings()).isEmpty();
        assertStandard(capture, c);
    }

    @Test
    void ipFragmentsAndOtherProtocolsAreSkipped() {
        Conversation c = Conversation.standard(Conversation.ipv4());
        CaptureFiles.Pcap p = c.pcap(false, false, 101, ip -> ip);
        byte[] src = c.clientAddress;
        byte[] dst = c.serverAddress;
        byte[] fake = Frames.tcp(40000, 443, Conversation.CLIENT_ISN + 1, 0, Frames.ACK, "NOT".getBytes());
        p.packet(T0.plusSeconds(1), Frames.ipv4(src, dst, 6, fake, new byte[0], 0x2000));     // first fragment (more fragments)
        p.packet(T0.plusSeconds(1), Frames.ipv4(src, dst, 6, fake, new byte[0], 0x0010));     // a later fragment
        p.packet(T0.plusSeconds(1), Frames.ipv4(src, dst, 17, new byte[12], new byte[0], 0)); // UDP
        p.packet(T0.plusSeconds(1), new byte[]{0x55, 1, 2, 3});                               // not IP at all
        Capture capture = read(p.bytes());
        assertThat(capture.packets()).isEqualTo(c.steps.size() + 4);
        assertThat(capture.warnings()).containsExactly("2 IP fragment(s) were skipped: keyway does not reassemble fragmented IP packets");
        assertStandard(capture, c);
    }

    @Test
    void ipv6ExtensionHeadersAreSkippedAndFragmentsCounted() {
        Conversation c = Conversation.standard(Conversation.ipv6());
        CaptureFiles.Pcap p = new CaptureFiles.Pcap(true, true, 229);
        for (Conversation.Step s : c.steps) {
            byte[] src = s.fromClient() ? c.clientAddress : c.serverAddress;
            byte[] dst = s.fromClient() ? c.serverAddress : c.clientAddress;
            // hop-by-hop, routing, an atomic fragment (offset 0, no more: a whole packet), destination options
            p.packet(s.time(), Frames.ipv6(src, dst, 6, c.tcp(s), 0, Frames.HOP_BY_HOP, Frames.ROUTING, Frames.FRAGMENT, Frames.DESTINATION));
        }
        byte[] fake = Frames.tcp(40000, 443, Conversation.CLIENT_ISN + 1, 0, Frames.ACK, "NOT".getBytes());
        p.packet(T0.plusSeconds(1), Frames.ipv6(c.clientAddress, c.serverAddress, 6, fake, 1, Frames.FRAGMENT));           // more
        p.packet(T0.plusSeconds(1), Frames.ipv6(c.clientAddress, c.serverAddress, 6, fake, 8 << 3, Frames.DESTINATION, Frames.FRAGMENT));
        p.packet(T0.plusSeconds(1), Frames.ipv6(c.clientAddress, c.serverAddress, 58, new byte[8]));                       // ICMPv6
        Capture capture = read(p.bytes());
        assertThat(capture.warnings()).containsExactly("2 IP fragment(s) were skipped: keyway does not reassemble fragmented IP packets");
        assertStandard(capture, c);
    }

    @Test
    void packetsCutByTheSnapshotLengthLeaveAGapAndAWarning() {
        Conversation c = Conversation.ipv4()
                .client(1000, 0, Frames.SYN, "")
                .up(0, "0123456789")
                .up(10, "ABCDEFGHIJ");
        CaptureFiles.Pcap p = new CaptureFiles.Pcap(true, false, 1);
        for (Conversation.Step s : c.steps) {
            byte[] frame = Frames.ethernet(IPV4, c.ip(s));
            p.packet(s.time(), s.payload().length > 0 ? Arrays.copyOf(frame, frame.length - 4) : frame); // 4 payload bytes cut
        }
        Capture capture = read(p.bytes());
        assertThat(capture.warnings()).containsExactly("2 packet(s) were cut short by the capture's snapshot length: their TCP streams"
                + " have gaps (capture again with the default snapshot length)");
        TcpConnection t = capture.connections().get(0);
        assertThat(text(t.clientToServer())).isEqualTo("012345");
        assertThat(t.warnings()).containsExactly("the client's stream stops at byte 6: the capture misses bytes 6 to 10, so the 6 byte(s)"
                + " captured after them were dropped");
    }

    @Test
    void unknownLinkTypesAreSkippedWithAWarning() {
        Conversation c = Conversation.standard(Conversation.ipv4());
        CaptureFiles.Pcapng f = new CaptureFiles.Pcapng().section(true).iface(105).iface(1); // 802.11, then Ethernet
        f.epb(0, 0, new byte[30]).epb(0, 0, new byte[30]);
        for (Conversation.Step s : c.steps) {
            f.epb(1, s.time().getEpochSecond() * 1_000_000 + s.time().getNano() / 1000, Frames.ethernet(IPV4, c.ip(s)));
        }
        Capture capture = read(f.bytes());
        assertThat(capture.warnings()).containsExactly("2 packet(s) of link type [105] were skipped: keyway reads Ethernet, Linux cooked,"
                + " loopback and raw IP captures");
        assertStandard(capture, c);
    }

    @Test
    void somethingElseIsNotACapture() {
        assertMalformed(() -> read("PK\u0003\u0004 a zip file".getBytes(StandardCharsets.ISO_8859_1)),
                "not a pcap or pcapng capture: it starts with 50 4b 03 04");
        assertMalformed(() -> read(new byte[0]), "not a pcap or pcapng capture: the input is empty");
        assertMalformed(() -> read(new byte[]{(byte) 0xa1, (byte) 0xb2}), "not a pcap or pcapng capture: it starts with a1 b2");
        // a missing capture is an input that is not what the command needs: usage (exit 2), as every missing input
        assertThatThrownBy(() -> Capture.read(Path.of("/nonexistent/x.pcap"))).isInstanceOfSatisfying(KeywayException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE));
    }

    @Test
    void aCaptureCutShortKeepsItsCompletePacketsAndSaysWhere() {
        Conversation c = Conversation.standard(Conversation.ipv4());
        byte[] pcap = c.pcap(true, false, 1, ip -> Frames.ethernet(IPV4, ip)).bytes();
        int lastFrame = Frames.ethernet(IPV4, c.ip(c.steps.get(c.steps.size() - 1))).length;
        int lastRecord = pcap.length - 16 - lastFrame;
        Capture cut = read(Arrays.copyOf(pcap, pcap.length - 5));
        assertThat(cut.packets()).isEqualTo(c.steps.size() - 1);
        assertThat(cut.warnings()).containsExactly("the capture ends in the middle of a packet at byte " + lastRecord
                + "; the last packet was ignored");
        assertStandard(cut, c); // the last step is only the final ACK

        CaptureFiles.Pcapng f = new CaptureFiles.Pcapng().section(true).iface(1);
        for (Conversation.Step s : c.steps) {
            f.epb(0, 0, Frames.ethernet(IPV4, c.ip(s)));
        }
        byte[] ng = f.bytes();
        Capture cutNg = read(Arrays.copyOf(ng, ng.length - 3));
        assertThat(cutNg.packets()).isEqualTo(c.steps.size() - 1);
        assertThat(cutNg.warnings()).singleElement().asString()
                .matches("the capture ends in the middle of a packet at byte \\d+; the last packet was ignored");
        assertThat(read(Arrays.copyOf(ng, ng.length - ng.length % 4 - 100)).warnings()).isNotEmpty();
        assertMalformed(() -> read(Arrays.copyOf(pcap, 20)), "the capture ends inside its pcap file header (20 of 24 bytes)");
        assertMalformed(() -> read(Arrays.copyOf(ng, 20)), "the capture ends inside its pcapng section header");
    }

    @Test
    void impossibleLengthsAreRefusedWithoutAllocatingThem() {
        byte[] header = new CaptureFiles.Pcapng().section(true).iface(1).bytes();
        // a block claiming 16 MiB + 4 bytes, and one claiming exactly 16 MiB that is cut short after 8 bytes
        byte[] tooBig = Frames.concat(header, ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(6).putInt((16 << 20) + 4).array());
        assertMalformed(() -> read(tooBig), "the pcapng block at byte " + header.length
                + " has an impossible length (16777220 bytes; a block has 12 to 16777216)");
        byte[] lying = Frames.concat(header, ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putInt(6).putInt(16 << 20).putInt(0).putInt(0).array());
        for (int i = 0; i < 50; i++) {
            read(lying); // warm up
        }
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        long before = mx.getThreadAllocatedBytes(tid);
        Capture capture = read(lying);
        long allocated = mx.getThreadAllocatedBytes(tid) - before;
        assertThat(capture.warnings()).containsExactly("the capture ends in the middle of a packet at byte " + header.length
                + "; the last packet was ignored");
        assertThat(allocated).as("bytes allocated reading a 16 MiB claim").isLessThan(1 << 20);

        // a classic pcap record claiming more than 256 KiB
        CaptureFiles.Pcap p = new CaptureFiles.Pcap(false, false, 1).packet(T0, new byte[10], (256 << 10) + 1);
        assertMalformed(() -> read(p.bytes()), "the pcap packet record at byte 24 claims 262145 captured bytes, more than the 262144"
                + " a packet can have");
        // an EPB whose captured length runs past its block, a block whose two lengths differ, a missing interface
        CaptureFiles.Pcapng epb = new CaptureFiles.Pcapng().section(false).iface(1).epb(0, 0, new byte[8]);
        byte[] bad = epb.bytes();
        int epbAt = new CaptureFiles.Pcapng().section(false).iface(1).bytes().length;
        int epbLength = bad.length - epbAt;
        bad[epbAt + 8 + 12 + 3] = 40; // captured length 40: past the data and its options (big-endian low byte)
        assertMalformed(() -> read(bad), "the packet block at byte " + epbAt + " claims 40 captured bytes in a block of " + epbLength + " (at most 262144)");
        byte[] trailer = epb.bytes();
        trailer[trailer.length - 1] = 48;
        assertMalformed(() -> read(trailer), "the pcapng block at byte " + epbAt + " says it has " + epbLength + " bytes at its start and 48 at its end");
        assertMalformed(() -> read(new CaptureFiles.Pcapng().section(true).iface(1).epb(1, 0, new byte[4]).bytes()),
                "names interface 1, but its section describes 1");
        assertMalformed(() -> read(new CaptureFiles.Pcapng().section(true).spb(new byte[4]).bytes()),
                "names interface 0, but its section describes 0");
    }

    @Test
    void anUnknownPcapngVersionIsUnsupported() {
        byte[] f = new CaptureFiles.Pcapng().section(false).bytes();
        f[13] = 2; // major version 2
        assertThatThrownBy(() -> read(f)).isInstanceOfSatisfying(KeywayException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED);
            assertThat(e.getMessage()).isEqualTo("the pcapng section at byte 0 has version 2.0; keyway reads version 1");
        });
    }

    @Test
    void theTotalPayloadIsBounded() {
        Conversation c = Conversation.standard(Conversation.ipv4());
        byte[] pcap = c.pcap(true, false, 101, ip -> ip).bytes();
        int total = Conversation.STANDARD_UP.length() + Conversation.STANDARD_DOWN.length();
        assertThat(Capture.read(new ByteArrayInputStream(pcap), total).connections()).hasSize(1);
        assertMalformed(() -> Capture.read(new ByteArrayInputStream(pcap), total - 1), "the capture holds more than 0 MiB of TCP payload");
        assertThat(Capture.MAX_PAYLOAD).isEqualTo(1L << 30);
    }

    @Test
    void aPortOutOfRangeIsAUsageError() {
        Capture capture = read(Conversation.standard(Conversation.ipv4()).pcap(true, false, 101, ip -> ip).bytes());
        assertThat(capture.connections(443)).hasSize(1);
        assertThat(capture.connections(40000)).hasSize(1);
        assertThat(capture.connections(80)).isEmpty();
        assertThatThrownBy(() -> capture.connections(65536)).isInstanceOfSatisfying(KeywayException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE));
    }

    private static void assertMalformed(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(KeywayException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED);
            assertThat(e.getMessage()).contains(message);
            assertThat(e.oneLine()).doesNotContain("\n");
        });
    }
}
