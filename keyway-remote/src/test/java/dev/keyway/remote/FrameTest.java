package dev.keyway.remote;

import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The frame codec: any split of the byte stream gives the same frames; lengths are bounded before allocation. */
class FrameTest {
    @Test
    void framesSurviveAnySplit() {
        byte[] a = new Frame(Frame.RUN, new Fields.Writer().strs(List.of("echo", "hi")).strs(List.of()).u8(0)).encode();
        byte[] b = new Frame(Frame.STDIN, new byte[70_000]).encode();
        byte[] c = new Frame(Frame.STDIN_END, new byte[0]).encode();
        byte[] all = new byte[a.length + b.length + c.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        System.arraycopy(c, 0, all, a.length + b.length, c.length);
        for (int step : new int[] {1, 2, 5, 4096, all.length}) {
            Frame.Decoder d = new Frame.Decoder();
            List<Frame> got = new ArrayList<>();
            for (int off = 0; off < all.length; off += step) {
                got.addAll(d.feed(all, off, Math.min(step, all.length - off)));
            }
            assertThat(got).extracting(Frame::type).containsExactly(Frame.RUN, Frame.STDIN, Frame.STDIN_END);
            assertThat(got.get(1).payload()).hasSize(70_000);
            assertThat(d.midFrame()).isFalse();
            Fields.Reader r = got.get(0).reader();
            assertThat(r.strs()).containsExactly("echo", "hi");
            assertThat(r.strs()).isEmpty();
            assertThat(r.u8()).isZero();
            r.end();
        }
    }

    @Test
    void aHugeLengthIsRefusedBeforeAllocating() {
        byte[] head = {(byte) Frame.OUT, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF};
        assertThatThrownBy(() -> new Frame.Decoder().feed(head, 0, head.length)).isInstanceOf(KeywayException.class)
                .hasMessageContaining("over the limit");
        assertThatThrownBy(() -> Frame.read(new ByteArrayInputStream(head))).isInstanceOf(KeywayException.class);
        byte[] limit = {(byte) Frame.OUT, 0, 0x10, 0, 1}; // 1 MiB + 1
        assertThatThrownBy(() -> new Frame.Decoder().feed(limit, 0, limit.length)).isInstanceOf(KeywayException.class);
    }

    @Test
    void truncatedStreamsAndFieldsAreErrors() {
        byte[] f = new Frame(Frame.OUT, new byte[10]).encode();
        assertThatThrownBy(() -> Frame.read(new ByteArrayInputStream(f, 0, 8))).isInstanceOf(EOFException.class);
        // a string whose length runs past its frame, a list with an absurd count, bytes left over, bad UTF-8
        assertThatThrownBy(() -> new Fields.Reader(new byte[] {0, 9, 'a'}).str()).isInstanceOf(KeywayException.class);
        assertThatThrownBy(() -> new Fields.Reader(new byte[] {(byte) 0xFF, (byte) 0xFF}).strs()).isInstanceOf(KeywayException.class);
        Fields.Reader extra = new Fields.Reader(new byte[] {1, 2});
        extra.u8();
        assertThatThrownBy(extra::end).isInstanceOf(KeywayException.class).hasMessageContaining("after its last field");
        assertThatThrownBy(() -> new Fields.Reader(new byte[] {0, 1, (byte) 0xC3}).str()).isInstanceOf(KeywayException.class)
                .hasMessageContaining("UTF-8");
        assertThatThrownBy(() -> new Fields.Reader(new byte[] {(byte) 0x80, 0, 0, 0}).bytes()).isInstanceOf(KeywayException.class);
    }
}
