package dev.keyway.tls.capture;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Captures made with dumpcap on this project's build machine (see src/test/resources/capture/README.txt):
 * two connections to port 47321 on lo, over 127.0.0.1 and ::1, with known bytes both ways.
 */
class RealCaptureTest {
    static final int SERVER_PORT = 47321;

    static byte[] fixture(String name) {
        try (InputStream in = RealCaptureTest.class.getResourceAsStream("/capture/" + name)) {
            assertThat(in).as("fixture " + name).isNotNull();
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"lo.pcapng, PCAPNG, 48638, 41328", "lo.pcap, PCAP, 48642, 59738"})
    void bothConnectionsReassembleToTheBytesThatWereSent(String file, Capture.Format format, int v4ClientPort, int v6ClientPort)
            throws IOException {
        Capture capture;
        try (InputStream in = RealCaptureTest.class.getResourceAsStream("/capture/" + file)) {
            capture = Capture.read(in);
        }
        assertThat(capture.format()).isEqualTo(format);
        assertThat(capture.packets()).isEqualTo(34);
        assertThat(capture.warnings()).isEmpty();
        List<TcpConnection> all = capture.connections();
        assertThat(all).hasSize(2);
        assertThat(capture.connections(SERVER_PORT)).hasSize(2);
        assertThat(capture.connections(v4ClientPort)).hasSize(1);
        assertThat(capture.connections(SERVER_PORT + 1)).isEmpty();

        check(all.get(0), "ipv4", InetAddress.getByName("127.0.0.1"), v4ClientPort);
        check(all.get(1), "ipv6", InetAddress.getByName("::1"), v6ClientPort);
        assertThat(all.get(0).client().address()).isInstanceOf(Inet4Address.class);
        assertThat(all.get(1).client().address()).isInstanceOf(Inet6Address.class);
        assertThat(all.get(1).start()).isAfter(all.get(0).start());
    }

    private static void check(TcpConnection t, String tag, InetAddress loopback, int clientPort) {
        assertThat(t.client()).isEqualTo(new Endpoint(loopback, clientPort));
        assertThat(t.server()).isEqualTo(new Endpoint(loopback, SERVER_PORT));
        assertThat(t.warnings()).isEmpty();
        assertThat(t.clientToServer().bytes()).isEqualTo(fixture("lo-" + tag + "-client-to-server.bin"));
        assertThat(t.serverToClient().bytes()).isEqualTo(fixture("lo-" + tag + "-server-to-client.bin"));
        // Each side sent three messages, each in its own segment, answered before the next: so the six parts
        // alternate in time, client first.
        List<TcpStream.Mark> up = t.clientToServer().marks();
        List<TcpStream.Mark> down = t.serverToClient().marks();
        assertThat(up).extracting(TcpStream.Mark::offset).containsExactly(0L, 32L, 632L);
        assertThat(down).extracting(TcpStream.Mark::offset).containsExactly(0L, 32L, 932L);
        for (int i = 0; i < 3; i++) {
            assertThat(down.get(i).time()).isAfter(up.get(i).time());
            if (i < 2) {
                assertThat(up.get(i + 1).time()).isAfter(down.get(i).time());
            }
        }
    }
}
