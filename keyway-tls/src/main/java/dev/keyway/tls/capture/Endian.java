package dev.keyway.tls.capture;

/**
 * Unsigned fields of either byte order. Capture files are written in the capturing host's byte order,
 * while the packets inside them are in network order, so both are needed side by side. Callers check
 * bounds first.
 */
final class Endian {
    private Endian() {
    }

    static int u16(byte[] b, int off, boolean little) {
        int b0 = b[off] & 0xff;
        int b1 = b[off + 1] & 0xff;
        return little ? b0 | b1 << 8 : b0 << 8 | b1;
    }

    static long u32(byte[] b, int off, boolean little) {
        long first = u16(b, off, little);
        long second = u16(b, off + 2, little);
        return little ? first | second << 16 : first << 16 | second;
    }

    /** A 64-bit integer in the given byte order (pcapng option values; not packet timestamps, see PcapngReader). */
    static long u64(byte[] b, int off, boolean little) {
        long first = u32(b, off, little);
        long second = u32(b, off + 4, little);
        return little ? first | second << 32 : first << 32 | second;
    }
}
