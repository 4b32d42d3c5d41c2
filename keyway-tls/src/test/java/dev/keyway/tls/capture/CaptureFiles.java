package dev.keyway.tls.capture;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;

/** Test-side writers for classic pcap and pcapng files, in either byte order. */
final class CaptureFiles {
    private CaptureFiles() {
    }

    /** Classic pcap: file header, then a record header and the bytes per packet. */
    static final class Pcap {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteOrder order;
        private final boolean nanos;

        Pcap(boolean little, boolean nanos, int linkType) {
            this.order = little ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
            this.nanos = nanos;
            out.writeBytes(buffer(24).putInt(nanos ? 0xa1b23c4d : 0xa1b2c3d4).putShort((short) 2).putShort((short) 4)
                    .putInt(0).putInt(0).putInt(262144).putInt(linkType).array());
        }

        Pcap packet(Instant time, byte[] frame) {
            return packet(time, frame, frame.length);
        }

        /** A record whose captured length field says {@code capturedLength} (a lie when it differs). */
        Pcap packet(Instant time, byte[] frame, long capturedLength) {
            int fraction = nanos ? time.getNano() : time.getNano() / 1000;
            out.writeBytes(buffer(16).putInt((int) time.getEpochSecond()).putInt(fraction).putInt((int) capturedLength)
                    .putInt(frame.length).array());
            out.writeBytes(frame);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private ByteBuffer buffer(int n) {
            return ByteBuffer.allocate(n).order(order);
        }
    }

    /** pcapng: blocks of {@code type, length, body padded to 4, length}. */
    static final class Pcapng {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private ByteOrder order = ByteOrder.BIG_ENDIAN;

        /** Starts a section in the given byte order. */
        Pcapng section(boolean little) {
            order = little ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
            return block(0x0a0d0d0a, buffer(16).putInt(0x1a2b3c4d).putShort((short) 1).putShort((short) 0).putLong(-1).array());
        }

        Pcapng iface(int linkType) {
            return iface(linkType, 262144, -1, 0);
        }

        /** An interface; {@code tsresol} -1 leaves the option out (microseconds), {@code tsoffset} 0 too. */
        Pcapng iface(int linkType, int snaplen, int tsresol, long tsoffset) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.writeBytes(buffer(8).putShort((short) linkType).putShort((short) 0).putInt(snaplen).array());
            body.writeBytes(option(2, "eth0".getBytes())); // if_name, to have an option to skip
            if (tsresol >= 0) {
                body.writeBytes(option(9, new byte[]{(byte) tsresol}));
            }
            if (tsoffset != 0) {
                body.writeBytes(option(14, buffer(8).putLong(tsoffset).array()));
            }
            body.writeBytes(buffer(4).putInt(0).array()); // opt_endofopt
            return block(1, body.toByteArray());
        }

        /** An Enhanced Packet Block; {@code ts} counts the interface's timestamp units. */
        Pcapng epb(int iface, long ts, byte[] frame) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.writeBytes(buffer(20).putInt(iface).putInt((int) (ts >>> 32)).putInt((int) ts).putInt(frame.length)
                    .putInt(frame.length).array());
            body.writeBytes(pad(frame));
            body.writeBytes(option(1, "a comment".getBytes())); // opt_comment, to have an option to skip
            body.writeBytes(buffer(4).putInt(0).array());
            return block(6, body.toByteArray());
        }

        /** An Obsolete Packet Block (interface id and drops count are 16 bits). */
        Pcapng opb(int iface, long ts, byte[] frame) {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.writeBytes(buffer(20).putShort((short) iface).putShort((short) 0).putInt((int) (ts >>> 32)).putInt((int) ts)
                    .putInt(frame.length).putInt(frame.length).array());
            body.writeBytes(pad(frame));
            return block(2, body.toByteArray());
        }

        /** A Simple Packet Block: original length and data, no timestamp, always interface 0. */
        Pcapng spb(byte[] frame) {
            return block(3, Frames.concat(buffer(4).putInt(frame.length).array(), pad(frame)));
        }

        Pcapng block(int type, byte[] body) {
            byte[] padded = pad(body);
            int length = 12 + padded.length;
            out.writeBytes(buffer(8).putInt(type).putInt(length).array());
            out.writeBytes(padded);
            out.writeBytes(buffer(4).putInt(length).array());
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }

        private byte[] option(int code, byte[] value) {
            return Frames.concat(buffer(4).putShort((short) code).putShort((short) value.length).array(), pad(value));
        }

        private ByteBuffer buffer(int n) {
            return ByteBuffer.allocate(n).order(order);
        }

        private static byte[] pad(byte[] b) {
            return java.util.Arrays.copyOf(b, (b.length + 3) & ~3);
        }
    }
}
