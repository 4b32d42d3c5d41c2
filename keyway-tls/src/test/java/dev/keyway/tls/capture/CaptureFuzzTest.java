package dev.keyway.tls.capture;

import dev.keyway.core.KeywayException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Fuzz-style negative tests for the capture reader (DESIGN.md, "Tests"): every prefix and thousands of
 * seeded mutations of the real fixtures end in a capture or a {@link KeywayException}, never another
 * exception, and never allocate much more than the input's size. Set {@code -Dkeyway.capture.seed=N} to
 * replay a failure.
 */
class CaptureFuzzTest {
    private static final long SEED = Long.getLong("keyway.capture.seed", 0x6b657977L);
    private static final int MUTATIONS = 3000;
    /** Far more than reading a ~7 KB file needs, far less than any length field can claim. */
    private static final long ALLOCATION_BOUND = 8 << 20;

    /** Every prefix reads (with a warning, unless it ends between records) or is refused; streams only shrink. */
    @ParameterizedTest
    @ValueSource(strings = {"lo.pcap", "lo.pcapng"})
    void everyPrefixReadsWithAWarningOrIsRefused(String name) {
        byte[] full = RealCaptureTest.fixture(name);
        Set<Integer> boundaries = recordBoundaries(full, name.endsWith("ng"));
        int header = boundaries.iterator().next(); // the file header, or the first section header block
        List<TcpConnection> whole = Capture.read(new ByteArrayInputStream(full)).connections();
        int lastPackets = 0;
        int refused = 0;
        for (int n = 0; n < full.length; n++) {
            Capture c;
            try {
                c = Capture.read(new ByteArrayInputStream(Arrays.copyOf(full, n)));
            } catch (KeywayException e) {
                refused++;
                assertThat(n).as("only a prefix inside the file header is refused: %s", e.getMessage()).isLessThan(header);
                continue;
            } catch (RuntimeException | Error e) {
                throw new AssertionError(name + " cut to " + n + " bytes threw " + e, e);
            }
            if (boundaries.contains(n)) {
                assertThat(c.warnings()).as("%s cut to %d bytes, between records", name, n).isEmpty();
            } else {
                assertThat(c.warnings()).as("%s cut to %d bytes", name, n).isNotEmpty();
            }
            assertThat(c.packets()).isGreaterThanOrEqualTo(lastPackets);
            lastPackets = c.packets();
            for (TcpConnection t : c.connections()) {
                TcpConnection w = whole.stream().filter(x -> x.client().equals(t.client())).findFirst().orElseThrow();
                assertPrefix(t.clientToServer().bytes(), w.clientToServer().bytes());
                assertPrefix(t.serverToClient().bytes(), w.serverToClient().bytes());
            }
        }
        assertThat(refused).as("every prefix inside the file header is refused").isEqualTo(header);
        assertThat(lastPackets).as("the last packet, or a block after it, was cut").isBetween(33, 34);
    }

    private static void assertPrefix(byte[] part, byte[] whole) {
        assertThat(part.length).isLessThanOrEqualTo(whole.length);
        assertThat(part).isEqualTo(Arrays.copyOf(whole, part.length));
    }

    /** Offsets where a record (pcap) or block (pcapng) ends, walked from the lengths in the file. */
    private static Set<Integer> recordBoundaries(byte[] f, boolean pcapng) {
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN); // both fixtures come from a little-endian host
        Set<Integer> out = new TreeSet<>();
        int p = pcapng ? 0 : 24;
        while (p < f.length) {
            p += pcapng ? b.getInt(p + 4) : 16 + b.getInt(p + 8);
            out.add(p);
        }
        if (!pcapng) {
            out.add(24);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"lo.pcap", "lo.pcapng"})
    void mutationsNeverThrowAnythingButKeywayException(String name) {
        byte[] full = RealCaptureTest.fixture(name);
        Random rnd = new Random(SEED ^ name.hashCode());
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        int read = 0;
        for (int i = 0; i < MUTATIONS; i++) {
            byte[] data = mutate(full, rnd);
            long before = mx.getThreadAllocatedBytes(tid);
            try {
                Capture c = Capture.read(new ByteArrayInputStream(data));
                for (TcpConnection t : c.connections()) {
                    assertThat(t.clientToServer().length() + t.serverToClient().length()).isLessThanOrEqualTo(data.length);
                }
                read++;
            } catch (KeywayException e) {
                assertThat(e.getMessage()).doesNotContain("\n");
            } catch (RuntimeException | Error e) {
                fail(name + ", seed " + SEED + ", mutation " + i + ": threw " + e, e);
            }
            long allocated = mx.getThreadAllocatedBytes(tid) - before;
            if (allocated > ALLOCATION_BOUND) {
                fail(name + ", seed " + SEED + ", mutation " + i + ": reading " + data.length + " bytes allocated " + allocated);
            }
        }
        // the mutations should not all be refused at the first byte: most damage is local
        assertThat(read).as("mutations that still read (seed %d)", SEED).isGreaterThan(MUTATIONS / 10);
    }

    private static final int[] EXTREMES = {0, -1, 0x7fffffff, 0x80000000, 1 << 24, (1 << 24) + 4, 0x00ffffff, 12, 11, 16, 28, 0x40001};

    /** One to four random edits: bytes, bits, extreme 32-bit values, cuts, repeats and random tails. */
    private static byte[] mutate(byte[] full, Random rnd) {
        byte[] d = full.clone();
        for (int k = 1 + rnd.nextInt(4); k > 0 && d.length > 8; k--) {
            int at = rnd.nextInt(d.length);
            switch (rnd.nextInt(7)) {
                case 0 -> d[at] = (byte) rnd.nextInt(256);
                case 1 -> d[at] ^= (byte) (1 << rnd.nextInt(8));
                case 2 -> {
                    int v = rnd.nextBoolean() ? EXTREMES[rnd.nextInt(EXTREMES.length)] : rnd.nextInt();
                    at = Math.min(at & ~3, d.length - 4);
                    ByteBuffer.wrap(d).order(rnd.nextBoolean() ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN).putInt(at, v);
                }
                case 3 -> d = Arrays.copyOf(d, at);
                case 4 -> { // repeat a chunk: shifts everything after it off its alignment
                    int len = Math.min(1 + rnd.nextInt(64), d.length - at);
                    byte[] out = new byte[d.length + len];
                    System.arraycopy(d, 0, out, 0, at + len);
                    System.arraycopy(d, at, out, at + len, d.length - at);
                    d = out;
                }
                case 5 -> { // random bytes from here on
                    for (int j = at; j < d.length; j++) {
                        d[j] = (byte) rnd.nextInt(256);
                    }
                }
                default -> { // a TCP/IP header field: flip a byte in the first 80 bytes of a packet-ish region
                    int base = Math.max(0, at - at % 64);
                    int j = Math.min(d.length - 1, base + rnd.nextInt(80));
                    d[j] = (byte) rnd.nextInt(256);
                }
            }
        }
        return d;
    }

    @ParameterizedTest
    @ValueSource(strings = {"lo.pcap", "lo.pcapng"})
    void randomBytesBehindAValidHeaderAreHandled(String name) {
        byte[] full = RealCaptureTest.fixture(name);
        int header = name.endsWith("ng") ? ByteBuffer.wrap(full).order(ByteOrder.LITTLE_ENDIAN).getInt(4) : 24;
        Random rnd = new Random(SEED + 1);
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            byte[] tail = new byte[rnd.nextInt(i % 10 == 0 ? 20_000 : 600)];
            rnd.nextBytes(tail);
            byte[] data = Frames.concat(Arrays.copyOf(full, header), tail);
            try {
                Capture.read(new ByteArrayInputStream(data)).connections();
            } catch (KeywayException e) {
                // refused: fine
            } catch (RuntimeException | Error e) {
                problems.add("seed " + (SEED + 1) + ", case " + i + ": " + e);
            }
        }
        assertThat(problems).isEmpty();
    }
}
