package dev.keyway.tls.capture;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The pcapng format (draft-ietf-opsawg-pcapng): a sequence of blocks, each {@code type, length, body,
 * length}. A Section Header Block starts each section and fixes its byte order; Interface Description
 * Blocks in that section give each interface's link type and timestamp unit; packet blocks name their
 * interface by index. Every other block type (name resolution, statistics, decryption secrets, custom
 * blocks) is skipped by its length.
 */
final class PcapngReader {
    static final long SECTION_HEADER = 0x0a0d0d0aL;
    static final long BYTE_ORDER_MAGIC = 0x1a2b3c4dL;
    private static final long INTERFACE_DESCRIPTION = 1;
    private static final long OBSOLETE_PACKET = 2;
    private static final long SIMPLE_PACKET = 3;
    private static final long ENHANCED_PACKET = 6;
    private static final int OPTION_END = 0;
    private static final int OPTION_TSRESOL = 9;
    private static final int OPTION_TSOFFSET = 14;
    private static final long[] POW10 = new long[19];

    static {
        POW10[0] = 1;
        for (int i = 1; i < POW10.length; i++) {
            POW10[i] = POW10[i - 1] * 10;
        }
    }

    private PcapngReader() {
    }

    /**
     * One interface of the current section. A timestamp counts units of 10^-exponent seconds, or
     * 2^-exponent when {@code binary}, plus {@code offsetSeconds}.
     */
    private record Interface(int linkType, long snaplen, boolean binary, int exponent, long offsetSeconds) {
        Instant time(long ts) {
            long seconds;
            long nanos;
            if (binary) {
                seconds = ts >>> exponent;
                long fraction = exponent == 0 ? 0 : ts & ((1L << exponent) - 1);
                nanos = (long) (fraction / Math.pow(2, exponent) * 1e9);
            } else {
                long unit = POW10[exponent];
                seconds = Long.divideUnsigned(ts, unit);
                long rest = Long.remainderUnsigned(ts, unit);
                nanos = exponent <= 9 ? rest * POW10[9 - exponent] : rest / POW10[exponent - 9];
            }
            // A lying timestamp must not end the reading: clamp it into what Instant can hold.
            if (seconds < 0 || seconds > Instant.MAX.getEpochSecond()) {
                return Instant.MAX;
            }
            try {
                seconds = Math.addExact(seconds, offsetSeconds);
            } catch (ArithmeticException e) {
                return offsetSeconds > 0 ? Instant.MAX : Instant.MIN;
            }
            if (seconds > Instant.MAX.getEpochSecond()) {
                return Instant.MAX;
            }
            if (seconds < Instant.MIN.getEpochSecond()) {
                return Instant.MIN;
            }
            return Instant.ofEpochSecond(seconds, nanos);
        }
    }

    /** Reads every packet into {@code out}; returns how many there were. */
    static int read(CaptureInput in, PacketDecoder out, List<String> warnings) {
        boolean little = false;
        boolean first = true;
        List<Interface> interfaces = new ArrayList<>();
        Instant lastTime = Instant.EPOCH;
        int packets = 0;
        while (true) {
            long at = in.offset();
            byte[] head = in.read(8);
            if (head.length == 0) {
                return packets;
            }
            long type = head.length >= 4 ? Endian.u32(head, 0, little) : -1;
            String what = type == ENHANCED_PACKET || type == SIMPLE_PACKET || type == OBSOLETE_PACKET ? "packet" : "block";
            if (head.length < 8) {
                return truncated(first, at, what, warnings, packets);
            }
            int consumed = 8;
            if (type == SECTION_HEADER) {
                byte[] magic = in.read(4);
                if (magic.length < 4) {
                    return truncated(first, at, what, warnings, packets);
                }
                consumed = 12;
                little = littleEndian(magic, at);
            }
            long length = Endian.u32(head, 4, little);
            if (length < consumed + 4 + (type == SECTION_HEADER ? 12 : 0) || length > Capture.MAX_BLOCK) {
                throw KeywayException.malformed("the pcapng block at byte " + at + " has an impossible length (" + length
                        + " bytes; a block has 12 to " + Capture.MAX_BLOCK + ")", "the capture is corrupted");
            }
            byte[] body = in.read((int) length - consumed);
            if (body.length < length - consumed) {
                return truncated(first, at, what, warnings, packets);
            }
            int end = body.length - 4;
            long trailer = Endian.u32(body, end, little);
            if (trailer != length) {
                throw KeywayException.malformed("the pcapng block at byte " + at + " says it has " + length + " bytes at its start and "
                        + trailer + " at its end", "the capture is corrupted");
            }
            first = false;
            if (type == SECTION_HEADER) {
                checkVersion(body, little, at);
                interfaces.clear(); // interface numbers start again in each section
            } else if (type == INTERFACE_DESCRIPTION) {
                interfaces.add(describe(body, end, little, at, warnings));
            } else if (type == ENHANCED_PACKET || type == OBSOLETE_PACKET) {
                need(end, 20, at);
                long id = type == ENHANCED_PACKET ? Endian.u32(body, 0, little) : Endian.u16(body, 0, little);
                lastTime = packet(body, end, length, lookup(interfaces, id, at), little, at, out);
                packets++;
            } else if (type == SIMPLE_PACKET) {
                need(end, 4, at);
                simplePacket(body, end, lookup(interfaces, 0, at), little, at, lastTime, out);
                packets++;
            }
        }
    }

    /** Whether a section is little-endian, from its byte-order magic (the block type reads the same in both orders). */
    private static boolean littleEndian(byte[] magic, long at) {
        if (Endian.u32(magic, 0, false) == BYTE_ORDER_MAGIC) {
            return false;
        }
        if (Endian.u32(magic, 0, true) == BYTE_ORDER_MAGIC) {
            return true;
        }
        throw KeywayException.malformed("the pcapng section header at byte " + at + " has no valid byte-order magic",
                "the capture is corrupted");
    }

    private static void checkVersion(byte[] body, boolean little, long at) {
        int major = Endian.u16(body, 0, little);
        if (major != 1) {
            throw new KeywayException(ErrorCode.UNSUPPORTED, "the pcapng section at byte " + at + " has version " + major + "."
                    + Endian.u16(body, 2, little) + "; keyway reads version 1", "convert the capture with editcap");
        }
    }

    /** An enhanced (or obsolete) packet block's frame, handed to {@code out}; returns its time. */
    private static Instant packet(byte[] body, int end, long length, Interface iface, boolean little, long at, PacketDecoder out) {
        // Two 32-bit halves, high half first, each in the section's byte order.
        long ts = Endian.u32(body, 4, little) << 32 | Endian.u32(body, 8, little);
        long captured = Endian.u32(body, 12, little);
        if (captured > Capture.MAX_PACKET || captured > end - 20) {
            throw KeywayException.malformed("the packet block at byte " + at + " claims " + captured + " captured bytes in a block of "
                    + length + " (at most " + Capture.MAX_PACKET + ")", "the capture is corrupted");
        }
        Instant time = iface.time(ts);
        out.frame(iface.linkType(), Arrays.copyOfRange(body, 20, 20 + (int) captured), time);
        return time;
    }

    /** A simple packet block's frame, handed to {@code out} with the previous packet's time. */
    private static void simplePacket(byte[] body, int end, Interface iface, boolean little, long at, Instant lastTime, PacketDecoder out) {
        // No captured length is stored: it is the original length cut to the snapshot length and the block.
        long captured = Math.min(Endian.u32(body, 0, little), end - 4);
        if (iface.snaplen() > 0) {
            captured = Math.min(captured, iface.snaplen());
        }
        if (captured > Capture.MAX_PACKET) {
            throw KeywayException.malformed("the simple packet block at byte " + at + " holds " + captured + " bytes (at most "
                    + Capture.MAX_PACKET + ")", "the capture is corrupted");
        }
        // It has no timestamp either: reuse the previous packet's so the time order still holds.
        out.frame(iface.linkType(), Arrays.copyOfRange(body, 4, 4 + (int) captured), lastTime);
    }

    private static int truncated(boolean first, long at, String what, List<String> warnings, int packets) {
        if (first) {
            throw KeywayException.malformed("the capture ends inside its pcapng section header", "the file is truncated; give the complete capture");
        }
        warnings.add(Capture.truncated(at, what));
        return packets;
    }

    private static Interface describe(byte[] body, int end, boolean little, long at, List<String> warnings) {
        need(end, 8, at);
        int linkType = Endian.u16(body, 0, little);
        long snaplen = Endian.u32(body, 4, little);
        int resolution = 6;
        long offsetSeconds = 0;
        int p = 8;
        while (p + 4 <= end) {
            int code = Endian.u16(body, p, little);
            int length = Endian.u16(body, p + 2, little);
            p += 4;
            if (code == OPTION_END || p + length > end) {
                break; // an option running past the block: what came before it still stands
            }
            if (code == OPTION_TSRESOL && length >= 1) {
                resolution = body[p] & 0xff;
            } else if (code == OPTION_TSOFFSET && length >= 8) {
                offsetSeconds = Endian.u64(body, p, little);
            }
            p += (length + 3) & ~3;
        }
        boolean binary = (resolution & 0x80) != 0;
        int exponent = resolution & 0x7f;
        if (binary ? exponent > 63 : exponent >= POW10.length) {
            warnings.add("the interface described at byte " + at + " has a timestamp unit keyway cannot use (if_tsresol " + resolution
                    + "); its packet times are read as microseconds");
            binary = false;
            exponent = 6;
        }
        return new Interface(linkType, snaplen, binary, exponent, offsetSeconds);
    }

    private static Interface lookup(List<Interface> interfaces, long id, long at) {
        if (id >= interfaces.size()) {
            throw KeywayException.malformed("the packet block at byte " + at + " names interface " + id + ", but its section describes "
                    + interfaces.size(), "the capture is corrupted");
        }
        return interfaces.get((int) id);
    }

    private static void need(int have, int need, long at) {
        if (have < need) {
            throw KeywayException.malformed("the pcapng block at byte " + at + " is too short for its type (" + have + " bytes)",
                    "the capture is corrupted");
        }
    }
}
