package dev.keyway.tls.capture;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A test-side script of TCP segments between a client and a server, in capture order, turned either into
 * {@link TcpSegment}s (for reassembly tests) or into IP packets (for capture files).
 */
final class Conversation {
    static final Instant T0 = Instant.ofEpochSecond(1_700_000_000L);
    static final long CLIENT_ISN = 1000;
    static final long SERVER_ISN = 5000;

    /** One segment; {@code time} is {@link #T0} plus one millisecond per step. */
    record Step(boolean fromClient, long seq, long ack, int flags, byte[] payload, Instant time) {
    }

    final byte[] clientAddress;
    final byte[] serverAddress;
    final int clientPort;
    final int serverPort;
    final boolean v6;
    final List<Step> steps = new ArrayList<>();

    Conversation(String client, int clientPort, String server, int serverPort) {
        this.clientAddress = raw(client);
        this.serverAddress = raw(server);
        this.clientPort = clientPort;
        this.serverPort = serverPort;
        this.v6 = clientAddress.length == 16;
    }

    static Conversation ipv4() {
        return new Conversation("10.0.0.1", 40000, "10.0.0.2", 443);
    }

    static Conversation ipv6() {
        return new Conversation("2001:db8::1", 40000, "2001:db8::2", 443);
    }

    /** Handshake, "hello server" then "hello client, from the server", then both FINs. */
    static Conversation standard(Conversation c) {
        return c.client(CLIENT_ISN, 0, Frames.SYN, "")
                .server(SERVER_ISN, CLIENT_ISN + 1, Frames.SYN | Frames.ACK, "")
                .client(CLIENT_ISN + 1, SERVER_ISN + 1, Frames.ACK, "")
                .client(CLIENT_ISN + 1, SERVER_ISN + 1, Frames.PSH | Frames.ACK, "hello server")
                .server(SERVER_ISN + 1, CLIENT_ISN + 13, Frames.PSH | Frames.ACK, "hello client, from the server")
                .client(CLIENT_ISN + 13, SERVER_ISN + 30, Frames.FIN | Frames.ACK, "")
                .server(SERVER_ISN + 30, CLIENT_ISN + 14, Frames.FIN | Frames.ACK, "")
                .client(CLIENT_ISN + 14, SERVER_ISN + 31, Frames.ACK, "");
    }

    static final String STANDARD_UP = "hello server";
    static final String STANDARD_DOWN = "hello client, from the server";

    Conversation client(long seq, long ack, int flags, String payload) {
        return step(true, seq, ack, flags, payload.getBytes(StandardCharsets.US_ASCII));
    }

    Conversation server(long seq, long ack, int flags, String payload) {
        return step(false, seq, ack, flags, payload.getBytes(StandardCharsets.US_ASCII));
    }

    /** Data from the client at stream offset {@code offset} (after the SYN at {@link #CLIENT_ISN}). */
    Conversation up(long offset, String payload) {
        return client((CLIENT_ISN + 1 + offset) & 0xffffffffL, SERVER_ISN + 1, Frames.ACK, payload);
    }

    /** Data from the server at stream offset {@code offset}. */
    Conversation down(long offset, String payload) {
        return server((SERVER_ISN + 1 + offset) & 0xffffffffL, CLIENT_ISN + 1, Frames.ACK, payload);
    }

    Conversation step(boolean fromClient, long seq, long ack, int flags, byte[] payload) {
        steps.add(new Step(fromClient, seq & 0xffffffffL, ack & 0xffffffffL, flags, payload, T0.plusMillis(steps.size())));
        return this;
    }

    List<TcpSegment> segments() {
        Endpoint client = new Endpoint(address(clientAddress), clientPort);
        Endpoint server = new Endpoint(address(serverAddress), serverPort);
        List<TcpSegment> out = new ArrayList<>();
        for (Step s : steps) {
            out.add(new TcpSegment(s.time(), s.fromClient() ? client : server, s.fromClient() ? server : client,
                    s.seq(), s.ack(), s.flags(), s.payload()));
        }
        return out;
    }

    byte[] tcp(Step s) {
        return Frames.tcp(s.fromClient() ? clientPort : serverPort, s.fromClient() ? serverPort : clientPort, s.seq(), s.ack(),
                s.flags(), s.payload());
    }

    /** The IP packet (v4 or v6) carrying this step's TCP segment. */
    byte[] ip(Step s) {
        byte[] src = s.fromClient() ? clientAddress : serverAddress;
        byte[] dst = s.fromClient() ? serverAddress : clientAddress;
        return v6 ? Frames.ipv6(src, dst, 6, tcp(s)) : Frames.ipv4(src, dst, 6, tcp(s));
    }

    /** Every step as a capture file: {@code link} wraps each IP packet in a link-layer frame. */
    CaptureFiles.Pcap pcap(boolean little, boolean nanos, int linkType, Function<byte[], byte[]> link) {
        CaptureFiles.Pcap p = new CaptureFiles.Pcap(little, nanos, linkType);
        for (Step s : steps) {
            p.packet(s.time(), link.apply(ip(s)));
        }
        return p;
    }

    Endpoint clientEndpoint() {
        return new Endpoint(address(clientAddress), clientPort);
    }

    Endpoint serverEndpoint() {
        return new Endpoint(address(serverAddress), serverPort);
    }

    static byte[] raw(String literal) {
        return address(literal).getAddress();
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal); // a literal: no lookup
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static InetAddress address(byte[] raw) {
        try {
            return InetAddress.getByAddress(raw);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
