package dev.keyway.tls.capture;

import dev.keyway.core.KeywayException;

import java.time.Instant;
import java.util.List;

/**
 * The classic libpcap format: a 24-byte file header, then per packet a 16-byte record header and the
 * captured bytes. Every field is in the byte order of the magic number.
 */
final class PcapReader {
    static final long MAGIC_MICROS = 0xa1b2c3d4L;
    static final long MAGIC_NANOS = 0xa1b23c4dL;

    private PcapReader() {
    }

    /** True when these four bytes start a classic pcap file in either byte order. */
    static boolean isMagic(byte[] first4) {
        long be = Endian.u32(first4, 0, false);
        long le = Endian.u32(first4, 0, true);
        return be == MAGIC_MICROS || be == MAGIC_NANOS || le == MAGIC_MICROS || le == MAGIC_NANOS;
    }

    /** Reads every packet into {@code out}; returns how many there were. */
    static int read(CaptureInput in, PacketDecoder out, List<String> warnings) {
        byte[] h = in.read(24);
        if (h.length < 24) {
            throw KeywayException.malformed("the capture ends inside its pcap file header (" + h.length + " of 24 bytes)",
                    "the file is truncated; give the complete capture");
        }
        boolean little = Endian.u32(h, 0, true) == MAGIC_MICROS || Endian.u32(h, 0, true) == MAGIC_NANOS;
        boolean nanos = Endian.u32(h, 0, little) == MAGIC_NANOS;
        // The upper bits of the link-type field carry FCS flags (pcap draft, "LinkType and additional information").
        int linkType = (int) (Endian.u32(h, 20, little) & 0xffff);
        int packets = 0;
        while (true) {
            long at = in.offset();
            byte[] r = in.read(16);
            if (r.length == 0) {
                return packets;
            }
            if (r.length < 16) {
                warnings.add(Capture.truncated(at, "packet"));
                return packets;
            }
            long captured = Endian.u32(r, 8, little);
            if (captured > Capture.MAX_PACKET) {
                throw KeywayException.malformed("the pcap packet record at byte " + at + " claims " + captured
                        + " captured bytes, more than the " + Capture.MAX_PACKET + " a packet can have", "the capture is corrupted");
            }
            byte[] data = in.read((int) captured);
            if (data.length < captured) {
                warnings.add(Capture.truncated(at, "packet"));
                return packets;
            }
            long seconds = Endian.u32(r, 0, little);
            long fraction = Endian.u32(r, 4, little);
            out.frame(linkType, data, Instant.ofEpochSecond(seconds, nanos ? fraction : fraction * 1000));
            packets++;
        }
    }
}
