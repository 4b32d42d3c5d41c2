package dev.keyway.tls.capture;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Test-side builders for packet bytes: TCP in IPv4 or IPv6, in the link-layer headers Keyway reads. */
final class Frames {
    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;
    static final int PSH = 0x08;
    static final int ACK = 0x10;

    static final int HOP_BY_HOP = 0;
    static final int ROUTING = 43;
    static final int FRAGMENT = 44;
    static final int DESTINATION = 60;

    private Frames() {
    }

    static byte[] tcp(int srcPort, int dstPort, long seq, long ack, int flags, byte[] payload) {
        return tcp(srcPort, dstPort, seq, ack, flags, payload, 0);
    }

    /** A TCP segment with {@code optionWords} 4-byte words of options (NOPs and a timestamp-sized filler). */
    static byte[] tcp(int srcPort, int dstPort, long seq, long ack, int flags, byte[] payload, int optionWords) {
        int header = 20 + 4 * optionWords;
        ByteBuffer b = ByteBuffer.allocate(header + payload.length);
        b.putShort((short) srcPort).putShort((short) dstPort).putInt((int) seq).putInt((int) ack);
        b.put((byte) ((header / 4) << 4)).put((byte) flags).putShort((short) 65535).putShort((short) 0).putShort((short) 0);
        for (int i = 0; i < optionWords * 4; i++) {
            b.put((byte) 1); // NOP
        }
        return b.put(payload).array();
    }

    static byte[] ipv4(byte[] src, byte[] dst, int protocol, byte[] payload) {
        return ipv4(src, dst, protocol, payload, new byte[0], 0x4000); // don't fragment
    }

    static byte[] ipv4(byte[] src, byte[] dst, int protocol, byte[] payload, byte[] options, int flagsAndOffset) {
        int header = 20 + options.length;
        ByteBuffer b = ByteBuffer.allocate(header + payload.length);
        b.put((byte) (0x40 | header / 4)).put((byte) 0).putShort((short) (header + payload.length)).putShort((short) 0x1234);
        b.putShort((short) flagsAndOffset).put((byte) 64).put((byte) protocol).putShort((short) 0).put(src).put(dst).put(options);
        return b.put(payload).array();
    }

    /**
     * IPv6 with the given extension headers before {@code protocol}. Options headers get 8 or 16 bytes;
     * a fragment header gets {@code fragmentField} (offset << 3 | more-fragments flag).
     */
    static byte[] ipv6(byte[] src, byte[] dst, int protocol, byte[] payload, int fragmentField, int... extensions) {
        ByteArrayOutputStream ext = new ByteArrayOutputStream();
        for (int i = 0; i < extensions.length; i++) {
            int next = i + 1 < extensions.length ? extensions[i + 1] : protocol;
            if (extensions[i] == FRAGMENT) {
                ext.writeBytes(new byte[]{(byte) next, 0, (byte) (fragmentField >> 8), (byte) fragmentField, 0, 0, 0x12, 0x34});
            } else {
                int units = i % 2; // 8 or 16 bytes, to exercise the length field
                byte[] h = new byte[8 * (units + 1)];
                h[0] = (byte) next;
                h[1] = (byte) units;
                h[2] = 1; // a PadN option filling the rest
                h[3] = (byte) (h.length - 4);
                ext.writeBytes(h);
            }
        }
        byte[] e = ext.toByteArray();
        ByteBuffer b = ByteBuffer.allocate(40 + e.length + payload.length);
        b.putInt(0x60000000).putShort((short) (e.length + payload.length));
        b.put((byte) (extensions.length > 0 ? extensions[0] : protocol)).put((byte) 64).put(src).put(dst).put(e);
        return b.put(payload).array();
    }

    static byte[] ipv6(byte[] src, byte[] dst, int protocol, byte[] payload) {
        return ipv6(src, dst, protocol, payload, 0);
    }

    /** Ethernet II, with a VLAN tag per entry of {@code tagProtocols} (0x8100, 0x88a8, ...). */
    static byte[] ethernet(int etherType, byte[] payload, int... tagProtocols) {
        ByteBuffer b = ByteBuffer.allocate(14 + 4 * tagProtocols.length + payload.length);
        b.put(new byte[]{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2});
        for (int i = 0; i < tagProtocols.length; i++) {
            b.putShort((short) tagProtocols[i]).putShort((short) (100 + i));
        }
        return b.putShort((short) etherType).put(payload).array();
    }

    /** Linux cooked capture v1: packet type, ARPHRD, address length, address, protocol. */
    static byte[] sll(int protocol, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(16 + payload.length);
        b.putShort((short) 0).putShort((short) 772).putShort((short) 6).put(new byte[]{0, 0, 0, 0, 0, 0, 0, 0});
        return b.putShort((short) protocol).put(payload).array();
    }

    /** Linux cooked capture v2: protocol, reserved, interface index, ARPHRD, packet type, address length, address. */
    static byte[] sll2(int protocol, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(20 + payload.length);
        b.putShort((short) protocol).putShort((short) 0).putInt(1).putShort((short) 1).put((byte) 4).put((byte) 6);
        return b.put(new byte[]{2, 0, 0, 0, 0, 1, 0, 0}).put(payload).array();
    }

    /** BSD loopback: the address family as a 4-byte integer in the given byte order. */
    static byte[] loopback(int family, boolean little, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(4 + payload.length).order(little ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
        return b.putInt(family).put(payload).array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
