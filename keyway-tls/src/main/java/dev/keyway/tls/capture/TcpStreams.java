package dev.keyway.tls.capture;

import dev.keyway.core.KeywayException;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reassembles TCP segments, in capture order, into connections and their two byte streams.
 *
 * <p>Each direction keeps the bytes it has seen as disjoint pieces keyed by stream offset. A segment only
 * adds the bytes no earlier segment covered, so retransmissions and overlaps keep the first copy, and
 * out-of-order segments simply land at their offset. At the end the pieces are joined from the start of
 * the stream up to the first hole.
 */
final class TcpStreams {
    static final int ANY_PORT = -1;
    /** Most bytes kept per direction of one connection. */
    static final long MAX_STREAM = 256L << 20;

    private final int port;
    private final long maxStream;
    /** The newest connection on each pair of endpoints; older ones with the same pair are finished. */
    private final Map<Pair, Connection> current = new HashMap<>();
    private final List<Connection> all = new ArrayList<>();

    private TcpStreams(int port, long maxStream) {
        this.port = port;
        this.maxStream = maxStream;
    }

    static List<TcpConnection> reassemble(List<TcpSegment> segments, int port, long maxStream) {
        TcpStreams streams = new TcpStreams(port, maxStream);
        for (TcpSegment s : segments) {
            streams.add(s);
        }
        List<TcpConnection> out = new ArrayList<>(streams.all.size());
        for (Connection c : streams.all) {
            out.add(c.finish());
        }
        return out;
    }

    private void add(TcpSegment s) {
        if (port != ANY_PORT && s.source().port() != port && s.destination().port() != port) {
            return;
        }
        Pair key = Pair.of(s.source(), s.destination());
        Connection c = current.get(key);
        if (c == null || c.startsAnother(s)) {
            c = new Connection(s);
            current.put(key, c);
            all.add(c);
        }
        c.add(s);
    }

    /** The two endpoints of a connection in a fixed order, so both directions find the same connection. */
    private record Pair(Endpoint low, Endpoint high) {
        static Pair of(Endpoint a, Endpoint b) {
            return Endpoint.ORDER.compare(a, b) <= 0 ? new Pair(a, b) : new Pair(b, a);
        }
    }

    private final class Connection {
        final Endpoint client;
        final Endpoint server;
        final Instant start;
        final boolean handshakeMissed;
        final Direction toServer = new Direction("the client");
        final Direction toClient = new Direction("the server");
        boolean reset;

        Connection(TcpSegment first) {
            // A SYN-ACK seen first (its SYN was not captured) still says who the client is: its receiver.
            boolean synAck = first.has(TcpSegment.SYN) && first.has(TcpSegment.ACK);
            this.client = synAck ? first.destination() : first.source();
            this.server = synAck ? first.source() : first.destination();
            this.start = first.time();
            this.handshakeMissed = !first.has(TcpSegment.SYN);
        }

        Direction direction(TcpSegment s) {
            return s.source().equals(client) ? toServer : toClient;
        }

        boolean finished() {
            return reset || (toServer.fin && toClient.fin);
        }

        /**
         * True for a SYN that cannot belong to this connection: endpoints reuse a pair of addresses and ports
         * only once the old connection is over, even when the capture missed its end. In an open connection, a
         * SYN with the number already seen is a retransmission, and one from a side that has not sent yet is
         * the other half of the handshake (or of a simultaneous open).
         */
        boolean startsAnother(TcpSegment s) {
            if (!s.has(TcpSegment.SYN)) {
                return false;
            }
            if (finished()) {
                return true;
            }
            Direction d = direction(s);
            return d.synSeen ? d.synSeq != s.seq() : d.seen;
        }

        void add(TcpSegment s) {
            Direction d = direction(s);
            d.add(s);
            if (s.has(TcpSegment.RST)) {
                reset = true;
            }
        }

        TcpConnection finish() {
            List<String> warnings = new ArrayList<>();
            if (handshakeMissed) {
                warnings.add("the connection's handshake was not captured: " + client + " sent the first packet and is taken as the client");
            }
            TcpStream up = toServer.finish(warnings);
            TcpStream down = toClient.finish(warnings);
            return new TcpConnection(client, server, start, up, down, warnings);
        }

        /** One direction: what one side sent. */
        private final class Direction {
            final String side;
            final TreeMap<Long, Piece> pieces = new TreeMap<>();
            long stored;
            boolean seen;
            long lastSeq;
            long lastOffset;
            boolean synSeen;
            long synSeq;
            long synOffset;
            boolean fin;
            long finOffset;

            Direction(String side) {
                this.side = side;
            }

            /**
             * The stream offset of a 32-bit sequence number, relative to the first one this side sent. The
             * signed 32-bit distance from the previous number carries the offset across wraparound.
             */
            long offset(long seq) {
                if (!seen) {
                    seen = true;
                    lastSeq = seq;
                    lastOffset = 0;
                    return 0;
                }
                lastOffset += (int) (seq - lastSeq);
                lastSeq = seq;
                return lastOffset;
            }

            void add(TcpSegment s) {
                long at = offset(s.seq());
                if (s.has(TcpSegment.SYN)) {
                    if (!synSeen) {
                        synSeen = true;
                        synSeq = s.seq();
                        synOffset = at + 1;
                    }
                    at += 1; // the SYN takes one sequence number; data on a SYN (TCP Fast Open) follows it
                }
                if (s.has(TcpSegment.RST)) {
                    return; // data on a RST is a diagnostic message, not stream bytes
                }
                insert(at, s.payload(), s.time());
                if (s.has(TcpSegment.FIN) && !fin) {
                    fin = true;
                    finOffset = at + s.payload().length;
                }
            }

            /** Adds the bytes of {@code data} at {@code at} that no piece holds yet. */
            void insert(long at, byte[] data, Instant time) {
                long end = at + data.length;
                long pos = at;
                Map.Entry<Long, Piece> before = pieces.floorEntry(pos);
                if (before != null) {
                    pos = Math.max(pos, before.getKey() + before.getValue().data().length);
                }
                while (pos < end) {
                    Map.Entry<Long, Piece> next = pieces.ceilingEntry(pos);
                    long stop = next == null ? end : Math.min(end, next.getKey());
                    if (stop > pos) {
                        stored += stop - pos;
                        if (stored > maxStream) {
                            throw KeywayException.malformed(side + "'s stream of " + client + " -> " + server + " holds more than "
                                    + size(maxStream) + ", more than keyway reassembles", "cut the capture to the part you need, e.g. with editcap");
                        }
                        byte[] part = pos == at && stop == end ? data : Arrays.copyOfRange(data, (int) (pos - at), (int) (stop - at));
                        pieces.put(pos, new Piece(part, time));
                    }
                    if (next == null || next.getKey() >= end) {
                        break;
                    }
                    pos = next.getKey() + next.getValue().data().length;
                }
            }

            /** Joins the pieces from the stream's start to the first hole. */
            TcpStream finish(List<String> warnings) {
                long first = synSeen ? synOffset : pieces.isEmpty() ? 0 : pieces.firstKey();
                // Data numbered before a SYN's first byte is not part of the stream; keep what reaches into it.
                Map.Entry<Long, Piece> straddling = pieces.lowerEntry(first);
                if (straddling != null && straddling.getKey() + straddling.getValue().data().length > first) {
                    Piece p = straddling.getValue();
                    pieces.put(first, new Piece(Arrays.copyOfRange(p.data(), (int) (first - straddling.getKey()), p.data().length), p.time()));
                }
                long pos = first;
                long holeEnd = -1;
                for (Map.Entry<Long, Piece> e : pieces.tailMap(first, true).entrySet()) {
                    if (e.getKey() > pos) {
                        holeEnd = e.getKey();
                        break;
                    }
                    pos = e.getKey() + e.getValue().data().length;
                }
                return join(first, pos, holeEnd, warnings);
            }

            private TcpStream join(long first, long end, long holeEnd, List<String> warnings) {
                byte[] out = new byte[(int) (end - first)];
                List<TcpStream.Mark> marks = new ArrayList<>();
                Instant lastTime = null;
                long dropped = 0;
                for (Map.Entry<Long, Piece> e : pieces.tailMap(first, true).entrySet()) {
                    byte[] data = e.getValue().data();
                    if (e.getKey() >= end) {
                        dropped += data.length;
                        continue;
                    }
                    System.arraycopy(data, 0, out, (int) (e.getKey() - first), data.length);
                    if (!e.getValue().time().equals(lastTime)) {
                        marks.add(new TcpStream.Mark(e.getKey() - first, e.getValue().time()));
                        lastTime = e.getValue().time();
                    }
                }
                if (holeEnd >= 0) {
                    warnings.add(side + "'s stream stops at byte " + (end - first) + ": the capture misses bytes " + (end - first) + " to "
                            + (holeEnd - first) + ", so the " + dropped + " byte(s) captured after them were dropped");
                } else if (fin && finOffset > end) {
                    warnings.add(side + "'s stream ends at byte " + (end - first) + " but its FIN comes after byte " + (finOffset - first)
                            + ": the end of the stream was not captured");
                }
                return new TcpStream(out, marks);
            }
        }
    }

    private record Piece(byte[] data, Instant time) {
    }

    private static String size(long bytes) {
        return bytes % (1 << 20) == 0 ? (bytes >> 20) + " MiB" : bytes + " bytes";
    }
}
