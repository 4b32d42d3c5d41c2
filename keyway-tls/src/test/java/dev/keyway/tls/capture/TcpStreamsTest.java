package dev.keyway.tls.capture;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.keyway.tls.capture.Conversation.CLIENT_ISN;
import static dev.keyway.tls.capture.Conversation.SERVER_ISN;
import static dev.keyway.tls.capture.Conversation.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TcpStreamsTest {
    private static List<TcpConnection> reassemble(Conversation c) {
        return TcpStreams.reassemble(c.segments(), TcpStreams.ANY_PORT, TcpStreams.MAX_STREAM);
    }

    private static TcpConnection only(Conversation c) {
        List<TcpConnection> all = reassemble(c);
        assertThat(all).hasSize(1);
        return all.get(0);
    }

    private static String text(TcpStream s) {
        return new String(s.bytes(), StandardCharsets.US_ASCII);
    }

    /** A handshake, then whatever the test adds. */
    private static Conversation opened() {
        return Conversation.ipv4()
                .client(CLIENT_ISN, 0, Frames.SYN, "")
                .server(SERVER_ISN, CLIENT_ISN + 1, Frames.SYN | Frames.ACK, "")
                .client(CLIENT_ISN + 1, SERVER_ISN + 1, Frames.ACK, "");
    }

    @Test
    void handshakeDataAndFinGiveBothStreams() {
        Conversation c = Conversation.standard(Conversation.ipv4());
        TcpConnection t = only(c);
        assertThat(t.client()).isEqualTo(c.clientEndpoint());
        assertThat(t.server()).isEqualTo(c.serverEndpoint());
        assertThat(t.client()).hasToString("10.0.0.1:40000");
        assertThat(t.start()).isEqualTo(T0);
        assertThat(text(t.clientToServer())).isEqualTo(Conversation.STANDARD_UP);
        assertThat(text(t.serverToClient())).isEqualTo(Conversation.STANDARD_DOWN);
        assertThat(t.warnings()).isEmpty();
        // step 3 (0-based) carried the client's data, step 4 the server's
        assertThat(t.clientToServer().marks()).containsExactly(new TcpStream.Mark(0, T0.plusMillis(3)));
        assertThat(t.serverToClient().marks()).containsExactly(new TcpStream.Mark(0, T0.plusMillis(4)));
    }

    @Test
    void outOfOrderSegmentsAreReordered() {
        Conversation c = opened().up(10, "KLMNO").up(5, "FGHIJ").up(0, "ABCDE").down(3, "def").down(0, "abc");
        TcpConnection t = only(c);
        assertThat(text(t.clientToServer())).isEqualTo("ABCDEFGHIJKLMNO");
        assertThat(text(t.serverToClient())).isEqualTo("abcdef");
        assertThat(t.warnings()).isEmpty();
        // marks are in stream order, each with the time its bytes were captured
        assertThat(t.clientToServer().marks()).containsExactly(
                new TcpStream.Mark(0, T0.plusMillis(5)), new TcpStream.Mark(5, T0.plusMillis(4)), new TcpStream.Mark(10, T0.plusMillis(3)));
    }

    @Test
    void retransmissionsAreDroppedAndOverlapsKeepTheFirstCopy() {
        Conversation c = opened()
                .up(0, "ABCDE")
                .up(0, "ABCDE")      // plain retransmission
                .up(3, "xxFGH")      // overlaps 3..4 with different bytes: the first copy stays
                .up(10, "KLM")
                .up(6, "yyIJzz")     // 6..7 already there, 8..9 new, 10..11 already there
                .up(0, "qqqqqqqqqqqqqqqq"); // everything up to 12 known; 13..15 new
        TcpConnection t = only(c);
        assertThat(text(t.clientToServer())).isEqualTo("ABCDEFGHIJKLMqqq");
        assertThat(t.warnings()).isEmpty();
    }

    @Test
    void aLaterSegmentDoesNotOverwriteAnEarlierOutOfOrderOne() {
        Conversation c = opened().up(4, "EFGH").up(0, "ABCDxxxxIJ");
        assertThat(text(only(c).clientToServer())).isEqualTo("ABCDEFGHIJ");
    }

    @Test
    void sequenceNumbersWrapAround() {
        long isn = 0xfffffff8L;
        Conversation c = Conversation.ipv4()
                .client(isn, 0, Frames.SYN, "")
                .server(0xfffffffeL, isn + 1, Frames.SYN | Frames.ACK, "")
                .client(isn + 1, 0xffffffffL, Frames.ACK, "0123456")         // ends exactly at 2^32
                .client(isn + 8 + 5, 0xffffffffL, Frames.ACK, "CDEF")        // past the wrap, out of order
                .client(isn + 8, 0xffffffffL, Frames.ACK, "789AB")           // seq 0
                .server(0xffffffffL, isn + 1, Frames.ACK, "abc")             // first byte at 2^32-1, wraps inside
                .server(2, isn + 1, Frames.ACK, "def");
        TcpConnection t = only(c);
        assertThat(text(t.clientToServer())).isEqualTo("0123456789ABCDEF");
        assertThat(text(t.serverToClient())).isEqualTo("abcdef");
        assertThat(t.warnings()).isEmpty();
    }

    @Test
    void aMissingSegmentStopsTheStreamWithAWarning() {
        Conversation c = opened().up(0, "ABCDE").up(10, "KLMNO").up(15, "PQ").down(0, "ok");
        TcpConnection t = only(c);
        assertThat(text(t.clientToServer())).isEqualTo("ABCDE");
        assertThat(text(t.serverToClient())).isEqualTo("ok");
        assertThat(t.warnings()).containsExactly(
                "the client's stream stops at byte 5: the capture misses bytes 5 to 10, so the 7 byte(s) captured after them were dropped");
    }

    @Test
    void aFinBeyondTheCapturedBytesIsReported() {
        Conversation c = opened().up(0, "ABCDE").client(CLIENT_ISN + 1 + 9, SERVER_ISN + 1, Frames.FIN | Frames.ACK, "");
        TcpConnection t = only(c);
        assertThat(text(t.clientToServer())).isEqualTo("ABCDE");
        assertThat(t.warnings()).singleElement().asString()
                .contains("the client's stream ends at byte 5 but its FIN comes after byte 9");
    }

    @Test
    void withoutAHandshakeTheFirstSenderIsTheClient() {
        // Captured mid-connection: the server speaks first, and one of its segments arrives out of order.
        Conversation c = Conversation.ipv4()
                .server(7005, 3000, Frames.ACK, "world")
                .server(7000, 3000, Frames.ACK, "hello")
                .client(3000, 7010, Frames.ACK, "reply");
        TcpConnection t = only(c);
        assertThat(t.client()).isEqualTo(c.serverEndpoint());
        assertThat(t.server()).isEqualTo(c.clientEndpoint());
        assertThat(text(t.clientToServer())).isEqualTo("helloworld"); // starts at the lowest byte captured
        assertThat(text(t.serverToClient())).isEqualTo("reply");
        assertThat(t.warnings()).singleElement().asString().startsWith("the connection's handshake was not captured: 10.0.0.2:443");
    }

    @Test
    void aSynAckSeenFirstMakesItsReceiverTheClient() {
        Conversation c = Conversation.ipv4()
                .server(SERVER_ISN, CLIENT_ISN + 1, Frames.SYN | Frames.ACK, "")
                .up(0, "hi")
                .down(0, "yo");
        TcpConnection t = only(c);
        assertThat(t.client()).isEqualTo(c.clientEndpoint());
        assertThat(text(t.clientToServer())).isEqualTo("hi");
        assertThat(text(t.serverToClient())).isEqualTo("yo");
        assertThat(t.warnings()).isEmpty();
    }

    @Test
    void aRetransmittedSynStaysInTheSameConnection() {
        Conversation c = Conversation.ipv4()
                .client(CLIENT_ISN, 0, Frames.SYN, "")
                .client(CLIENT_ISN, 0, Frames.SYN, "")
                .server(SERVER_ISN, CLIENT_ISN + 1, Frames.SYN | Frames.ACK, "")
                .up(0, "one");
        assertThat(text(only(c).clientToServer())).isEqualTo("one");
    }

    @Test
    void dataOnASynFollowsIt() {
        Conversation c = Conversation.ipv4()
                .client(CLIENT_ISN, 0, Frames.SYN, "early")
                .server(SERVER_ISN, CLIENT_ISN + 6, Frames.SYN | Frames.ACK, "")
                .up(5, " data");
        assertThat(text(only(c).clientToServer())).isEqualTo("early data");
    }

    @Test
    void aReusedFourTupleAfterFinStartsANewConnection() {
        Conversation c = Conversation.standard(Conversation.ipv4())
                // the same ports again, a new ISN
                .client(90000, 0, Frames.SYN, "")
                .server(80000, 90001, Frames.SYN | Frames.ACK, "")
                .client(90001, 80001, Frames.ACK, "second")
                .server(80001, 90007, Frames.ACK, "reply two")
                // a late retransmission of the old connection's FIN changes nothing
                .client(CLIENT_ISN + 13, SERVER_ISN + 30, Frames.FIN | Frames.ACK, "");
        List<TcpConnection> all = reassemble(c);
        assertThat(all).hasSize(2);
        assertThat(text(all.get(0).clientToServer())).isEqualTo(Conversation.STANDARD_UP);
        assertThat(text(all.get(1).clientToServer())).isEqualTo("second");
        assertThat(text(all.get(1).serverToClient())).isEqualTo("reply two");
        assertThat(all.get(1).start()).isEqualTo(T0.plusMillis(8));
        assertThat(all).allSatisfy(t -> assertThat(t.warnings()).isEmpty());
    }

    @Test
    void aReusedFourTupleAfterRstStartsANewConnection() {
        Conversation c = opened().up(0, "first").server(SERVER_ISN + 1, 0, Frames.RST, "reset text is not data")
                .client(CLIENT_ISN, 0, Frames.SYN, "") // same ISN as before, but the old connection was reset
                .up(0, "again");
        List<TcpConnection> all = reassemble(c);
        assertThat(all).hasSize(2);
        assertThat(text(all.get(0).clientToServer())).isEqualTo("first");
        assertThat(all.get(0).serverToClient().length()).isZero();
        assertThat(text(all.get(1).clientToServer())).isEqualTo("again");
    }

    @Test
    void aSynWithAnotherIsnStartsANewConnectionEvenWithoutAFinishedOne() {
        Conversation c = opened().up(0, "old")
                .client(CLIENT_ISN + 50_000, 0, Frames.SYN, "")
                .client(CLIENT_ISN + 50_001, 0, Frames.ACK, "new");
        List<TcpConnection> all = reassemble(c);
        assertThat(all).extracting(t -> text(t.clientToServer())).containsExactly("old", "new");
    }

    @Test
    void connectionsComeInTheOrderOfTheirFirstPacketAndThePortFilterKeepsEitherEnd() {
        Conversation a = Conversation.standard(new Conversation("10.0.0.1", 40001, "10.0.0.2", 443));
        Conversation b = Conversation.standard(new Conversation("10.0.0.3", 8443, "10.0.0.4", 9000));
        List<TcpSegment> as = a.segments();
        List<TcpSegment> bs = b.segments();
        List<TcpSegment> mixed = new ArrayList<>();
        for (int i = 0; i < as.size(); i++) { // b's first packet comes before a's
            mixed.add(bs.get(i));
            mixed.add(as.get(i));
        }
        List<TcpConnection> all = TcpStreams.reassemble(mixed, TcpStreams.ANY_PORT, TcpStreams.MAX_STREAM);
        assertThat(all).extracting(TcpConnection::server).containsExactly(b.serverEndpoint(), a.serverEndpoint());
        assertThat(all).extracting(t -> text(t.serverToClient())).containsOnly(Conversation.STANDARD_DOWN);
        assertThat(TcpStreams.reassemble(mixed, 443, TcpStreams.MAX_STREAM))
                .extracting(TcpConnection::client).containsExactly(a.clientEndpoint());
        assertThat(TcpStreams.reassemble(mixed, 8443, TcpStreams.MAX_STREAM))
                .extracting(TcpConnection::client).containsExactly(b.clientEndpoint());
        assertThat(TcpStreams.reassemble(mixed, 80, TcpStreams.MAX_STREAM)).isEmpty();
    }

    @Test
    void ipv6ConnectionsReassembleLikeIpv4() {
        Conversation c = Conversation.standard(Conversation.ipv6());
        TcpConnection t = only(c);
        assertThat(t.client()).hasToString("[2001:db8:0:0:0:0:0:1]:40000");
        assertThat(text(t.serverToClient())).isEqualTo(Conversation.STANDARD_DOWN);
    }

    @Test
    void aStreamOverItsLimitIsRefused() {
        Conversation c = opened().up(0, "0123456789").up(10, "0123456789").up(15, "0123456789"); // 25 distinct bytes
        assertThat(TcpStreams.reassemble(c.segments(), TcpStreams.ANY_PORT, 25)).hasSize(1);
        assertThatThrownBy(() -> TcpStreams.reassemble(c.up(25, "x").segments(), TcpStreams.ANY_PORT, 25))
                .isInstanceOfSatisfying(KeywayException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED);
                    assertThat(e.getMessage()).isEqualTo("the client's stream of 10.0.0.1:40000 -> 10.0.0.2:443 holds more than 25 bytes,"
                            + " more than keyway reassembles");
                });
        assertThat(TcpStreams.MAX_STREAM).isEqualTo(256L << 20);
    }

    @Test
    void aStreamReturnsCopies() {
        TcpStream s = only(Conversation.standard(Conversation.ipv4())).clientToServer();
        s.bytes()[0] = 'X';
        assertThat(text(s)).isEqualTo(Conversation.STANDARD_UP);
    }
}
