package dev.keyway.tls.capture;

import dev.keyway.core.KeywayException;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns link-layer frames into {@link TcpSegment}s: link header, then IPv4 or IPv6, then TCP. Anything else
 * is dropped quietly (other protocols) or counted (what the user should hear about: IP fragments, packets
 * cut short by the snapshot length, damaged headers, link types Keyway cannot read).
 */
final class PacketDecoder {
    /** Link types (https://www.tcpdump.org/linktypes.html). */
    static final int LINK_NULL = 0;
    static final int LINK_ETHERNET = 1;
    static final int LINK_RAW_12 = 12;
    static final int LINK_RAW_14 = 14;
    static final int LINK_RAW = 101;
    static final int LINK_LOOP = 108;
    static final int LINK_SLL = 113;
    static final int LINK_IPV4 = 228;
    static final int LINK_IPV6 = 229;
    static final int LINK_SLL2 = 276;

    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_IPV6 = 0x86dd;
    private static final int PROTO_TCP = 6;
    private static final byte[] NO_BYTES = new byte[0];

    private final long maxPayload;
    private final List<TcpSegment> segments = new ArrayList<>();
    /** One instance per endpoint: a capture holds millions of segments between a few endpoints. */
    private final Map<Endpoint, Endpoint> endpoints = new HashMap<>();
    private final Set<Integer> unknownLinkTypes = new TreeSet<>();
    private long payloadBytes;
    private int fragments;
    private int cutShort;
    private int damaged;
    private int unreadable;

    PacketDecoder(long maxPayload) {
        this.maxPayload = maxPayload;
    }

    List<TcpSegment> segments() {
        return segments;
    }

    /** What was skipped, as sentences for the user; empty when nothing was. */
    List<String> warnings() {
        List<String> out = new ArrayList<>();
        if (fragments > 0) {
            out.add(fragments + " IP fragment(s) were skipped: keyway does not reassemble fragmented IP packets");
        }
        if (cutShort > 0) {
            out.add(cutShort + " packet(s) were cut short by the capture's snapshot length: their TCP streams have gaps"
                    + " (capture again with the default snapshot length)");
        }
        if (damaged > 0) {
            out.add(damaged + " packet(s) with damaged IP or TCP headers were skipped");
        }
        if (!unknownLinkTypes.isEmpty()) {
            out.add(unreadable + " packet(s) of link type " + unknownLinkTypes + " were skipped: keyway reads Ethernet, Linux cooked,"
                    + " loopback and raw IP captures");
        }
        return out;
    }

    void frame(int linkType, byte[] d, Instant time) {
        int n = d.length;
        switch (linkType) {
            case LINK_ETHERNET -> ethernet(d, time);
            case LINK_NULL, LINK_LOOP -> {
                if (n < 4) {
                    cutShort++;
                    return;
                }
                // The address family is in the capturing host's byte order (LOOP: network order), and
                // AF_INET6 differs between systems; accept any of the known values in either order.
                long le = Endian.u32(d, 0, true);
                long be = Endian.u32(d, 0, false);
                if (le == 2 || be == 2) {
                    ipv4(d, 4, n, time);
                } else if (isInet6(le) || isInet6(be)) {
                    ipv6(d, 4, n, time);
                }
            }
            case LINK_RAW, LINK_RAW_12, LINK_RAW_14 -> rawIp(d, 0, time);
            case LINK_IPV4 -> ipv4(d, 0, n, time);
            case LINK_IPV6 -> ipv6(d, 0, n, time);
            case LINK_SLL -> {
                if (n < 16) {
                    cutShort++;
                    return;
                }
                etherType(Endian.u16(d, 14, false), d, 16, time);
            }
            case LINK_SLL2 -> {
                if (n < 20) {
                    cutShort++;
                    return;
                }
                etherType(Endian.u16(d, 0, false), d, 20, time);
            }
            default -> {
                unknownLinkTypes.add(linkType);
                unreadable++;
            }
        }
    }

    /** AF_INET6 on Linux (10), NetBSD/OpenBSD (24), FreeBSD (28), macOS (30). */
    private static boolean isInet6(long af) {
        return af == 10 || af == 24 || af == 28 || af == 30;
    }

    private void ethernet(byte[] d, Instant time) {
        if (d.length < 14) {
            cutShort++;
            return;
        }
        int type = Endian.u16(d, 12, false);
        int off = 14;
        // 802.1Q, 802.1ad and the pre-standard 0x9100 tags, possibly stacked: 2 bytes TCI, 2 bytes next type.
        while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
            if (off + 4 > d.length) {
                cutShort++;
                return;
            }
            type = Endian.u16(d, off + 2, false);
            off += 4;
        }
        etherType(type, d, off, time);
    }

    private void etherType(int type, byte[] d, int off, Instant time) {
        if (type == ETHERTYPE_IPV4) {
            ipv4(d, off, d.length, time);
        } else if (type == ETHERTYPE_IPV6) {
            ipv6(d, off, d.length, time);
        }
    }

    private void rawIp(byte[] d, int off, Instant time) {
        if (off >= d.length) {
            cutShort++;
            return;
        }
        int version = (d[off] & 0xff) >> 4;
        if (version == 4) {
            ipv4(d, off, d.length, time);
        } else if (version == 6) {
            ipv6(d, off, d.length, time);
        }
    }

    private void ipv4(byte[] d, int off, int end, Instant time) {
        if (end - off < 20) {
            cutShort++;
            return;
        }
        int ihl = (d[off] & 0x0f) * 4;
        int total = Endian.u16(d, off + 2, false);
        if ((d[off] & 0xf0) != 0x40 || ihl < 20) {
            damaged++;
            return;
        }
        if (total == 0) {
            total = end - off; // TCP segmentation offload: the kernel captured the packet before filling this in
        }
        if (total < ihl) {
            damaged++;
            return;
        }
        if (off + ihl > end) {
            cutShort++;
            return;
        }
        int ipEnd = off + total;
        boolean cut = ipEnd > end;
        if (cut) {
            ipEnd = end;
        }
        int flagsAndOffset = Endian.u16(d, off + 6, false);
        if ((flagsAndOffset & 0x3fff) != 0) { // more-fragments flag or a fragment offset
            fragments++;
            return;
        }
        if ((d[off + 9] & 0xff) != PROTO_TCP) {
            return;
        }
        tcp(d, off + ihl, ipEnd, cut, Arrays.copyOfRange(d, off + 12, off + 16), Arrays.copyOfRange(d, off + 16, off + 20), time);
    }

    private void ipv6(byte[] d, int off, int end, Instant time) {
        if (end - off < 40) {
            cutShort++;
            return;
        }
        if ((d[off] & 0xf0) != 0x60) {
            damaged++;
            return;
        }
        int payloadLength = Endian.u16(d, off + 4, false);
        int next = d[off + 6] & 0xff;
        int p = off + 40;
        // 0 is a jumbogram or, in practice, segmentation offload: the captured bytes are the packet.
        int ipEnd = payloadLength == 0 ? end : p + payloadLength;
        boolean cut = ipEnd > end;
        if (cut) {
            ipEnd = end;
        }
        while (next != PROTO_TCP) {
            int headerLength;
            switch (next) {
                case 0, 43, 60 -> { // hop-by-hop options, routing, destination options
                    if (p + 2 > ipEnd) {
                        cutShort++;
                        return;
                    }
                    headerLength = ((d[p + 1] & 0xff) + 1) * 8;
                }
                case 51 -> { // authentication header: its length counts 4-byte words, minus 2
                    if (p + 2 > ipEnd) {
                        cutShort++;
                        return;
                    }
                    headerLength = ((d[p + 1] & 0xff) + 2) * 4;
                }
                case 44 -> { // fragment header; only an "atomic fragment" (offset 0, no more) is a whole packet
                    if (p + 8 > ipEnd) {
                        cutShort++;
                        return;
                    }
                    if ((Endian.u16(d, p + 2, false) & 0xfff9) != 0) {
                        fragments++;
                        return;
                    }
                    headerLength = 8;
                }
                default -> {
                    return; // not TCP
                }
            }
            next = d[p] & 0xff;
            p += headerLength;
            if (p > ipEnd) {
                cutShort++;
                return;
            }
        }
        tcp(d, p, ipEnd, cut, Arrays.copyOfRange(d, off + 8, off + 24), Arrays.copyOfRange(d, off + 24, off + 40), time);
    }

    private void tcp(byte[] d, int off, int end, boolean cut, byte[] src, byte[] dst, Instant time) {
        if (end - off < 20) {
            cutShort++;
            return;
        }
        int dataOffset = ((d[off + 12] & 0xff) >> 4) * 4;
        if (dataOffset < 20) {
            damaged++;
            return;
        }
        if (off + dataOffset > end) {
            cutShort++;
            return;
        }
        if (cut) {
            cutShort++;
        }
        int payloadLength = end - (off + dataOffset);
        payloadBytes += payloadLength;
        if (payloadBytes > maxPayload) {
            throw KeywayException.malformed("the capture holds more than " + (maxPayload >> 20) + " MiB of TCP payload, more than keyway reads at once",
                    "cut the capture to the connections you need (a capture filter, or editcap/tshark -w)");
        }
        segments.add(new TcpSegment(time,
                endpoint(src, Endian.u16(d, off, false)),
                endpoint(dst, Endian.u16(d, off + 2, false)),
                Endian.u32(d, off + 4, false),
                Endian.u32(d, off + 8, false),
                d[off + 13] & 0xff,
                payloadLength == 0 ? NO_BYTES : Arrays.copyOfRange(d, off + dataOffset, end)));
    }

    private Endpoint endpoint(byte[] address, int port) {
        Endpoint e = new Endpoint(address(address), port);
        Endpoint known = endpoints.putIfAbsent(e, e);
        return known == null ? e : known;
    }

    private static InetAddress address(byte[] raw) {
        try {
            return InetAddress.getByAddress(raw); // no name lookup: the address is given as bytes
        } catch (UnknownHostException e) {
            throw new IllegalStateException("an address of 4 or 16 bytes is always valid", e);
        }
    }
}
