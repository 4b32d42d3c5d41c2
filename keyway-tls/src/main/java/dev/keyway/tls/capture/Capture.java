package dev.keyway.tls.capture;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.io.AtomicFile;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A packet capture (pcap or pcapng, as written by dumpcap, tcpdump or Wireshark) read down to its TCP
 * segments, from which {@link #connections} reassembles each connection's two byte streams.
 *
 * <p>Reading never stops at a capture cut short (a capture tool killed mid-write): every complete packet
 * is kept and {@link #warnings()} says what was lost. Input that is not a capture, or whose lengths are
 * impossible, ends in a {@link KeywayException}.
 */
public final class Capture {
    /** Largest block Keyway reads; real blocks are a packet plus a few options. */
    static final int MAX_BLOCK = 16 << 20;
    /** Largest captured packet (libpcap's own limit, and dumpcap's default snapshot length). */
    static final int MAX_PACKET = 256 << 10;
    /** Largest total TCP payload held in memory; a bigger capture needs cutting first. */
    static final long MAX_PAYLOAD = 1L << 30;

    /** The file format, as found in its first four bytes. */
    public enum Format { PCAP, PCAPNG }

    private final Format format;
    private final int packets;
    private final List<TcpSegment> segments;
    private final List<String> warnings;

    private Capture(Format format, int packets, List<TcpSegment> segments, List<String> warnings) {
        this.format = format;
        this.packets = packets;
        this.segments = List.copyOf(segments);
        this.warnings = List.copyOf(warnings);
    }

    public static Capture read(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in);
        } catch (NoSuchFileException e) {
            throw KeywayException.usage("cannot read capture " + file + " (no such file)", "check the path");
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot read capture " + file + " (" + AtomicFile.describe(e) + ")",
                    "check the path and its permissions");
        }
    }

    /** Reads the whole stream; the caller closes it. */
    public static Capture read(InputStream stream) {
        return read(stream, MAX_PAYLOAD);
    }

    static Capture read(InputStream stream, long maxPayload) {
        CaptureInput in = new CaptureInput(stream);
        byte[] magic = in.peek(4);
        PacketDecoder decoder = new PacketDecoder(maxPayload);
        List<String> warnings = new ArrayList<>();
        Format format;
        int packets;
        if (magic.length == 4 && PcapReader.isMagic(magic)) {
            format = Format.PCAP;
            packets = PcapReader.read(in, decoder, warnings);
        } else if (magic.length == 4 && Endian.u32(magic, 0, false) == PcapngReader.SECTION_HEADER) {
            format = Format.PCAPNG;
            packets = PcapngReader.read(in, decoder, warnings);
        } else {
            StringBuilder start = new StringBuilder();
            for (byte b : magic) {
                start.append(String.format(" %02x", b & 0xff));
            }
            throw KeywayException.malformed("not a pcap or pcapng capture: "
                            + (magic.length == 0 ? "the input is empty" : "it starts with" + start),
                    "give a capture written by dumpcap, tcpdump or Wireshark");
        }
        warnings.addAll(decoder.warnings());
        return new Capture(format, packets, decoder.segments(), warnings);
    }

    public Format format() {
        return format;
    }

    /** How many complete packets the capture holds, TCP or not. */
    public int packets() {
        return packets;
    }

    /** What was skipped or lost while reading, one sentence each; empty for a clean capture. */
    public List<String> warnings() {
        return warnings;
    }

    /** Every TCP connection in the capture, in the order of their first packet. */
    public List<TcpConnection> connections() {
        return TcpStreams.reassemble(segments, TcpStreams.ANY_PORT, TcpStreams.MAX_STREAM);
    }

    /** The TCP connections with {@code port} at either end, in the order of their first packet. */
    public List<TcpConnection> connections(int port) {
        if (port < 0 || port > 0xffff) {
            throw KeywayException.usage("port " + port + " is not a TCP port", "give a port between 0 and 65535");
        }
        return TcpStreams.reassemble(segments, port, TcpStreams.MAX_STREAM);
    }

    List<TcpSegment> segments() {
        return segments;
    }

    static String truncated(long at, String what) {
        return "the capture ends in the middle of a " + what + " at byte " + at + "; the last " + what + " was ignored";
    }
}
