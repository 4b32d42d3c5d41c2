package dev.keyway.tls.capture;

import java.time.Instant;

/**
 * One captured TCP segment: what reassembly needs and nothing more. {@code seq} and {@code ack} are the
 * raw 32-bit values; {@code payload} holds the captured bytes, which may be fewer than the sender sent when
 * the snapshot length cut the packet.
 */
record TcpSegment(Instant time, Endpoint source, Endpoint destination, long seq, long ack, int flags, byte[] payload) {
    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;
    static final int ACK = 0x10;

    boolean has(int flag) {
        return (flags & flag) != 0;
    }
}
