package dev.keyway.core.armor;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * Writes {@link Armor}'s text form as the bytes arrive, so a file of any size can be armored in constant
 * memory. {@link #close()} writes the last line and the END line (and closes the underlying stream);
 * {@link #finish()} does the same and leaves it open.
 */
public final class ArmorOutputStream extends FilterOutputStream {
    private static final int LINE_BYTES = Armor.LINE / 4 * 3;
    private static final Base64.Encoder LINES = Base64.getMimeEncoder(Armor.LINE, new byte[] {'\n'});

    private final String label;
    private final byte[] pending = new byte[LINE_BYTES];
    private int pendingLength;
    private boolean started;
    private boolean finished;

    public ArmorOutputStream(OutputStream out, String label) {
        super(out);
        this.label = label;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        start();
        if (pendingLength > 0) {
            int take = Math.min(len, LINE_BYTES - pendingLength);
            System.arraycopy(b, off, pending, pendingLength, take);
            pendingLength += take;
            off += take;
            len -= take;
            if (pendingLength < LINE_BYTES) {
                return;
            }
            writeLines(pending, 0, LINE_BYTES);
            pendingLength = 0;
        }
        int whole = len / LINE_BYTES * LINE_BYTES;
        // Encode in slices so a huge write does not double its size in memory.
        for (int done = 0; done < whole; ) {
            int n = Math.min(whole - done, LINE_BYTES * 1024);
            writeLines(b, off + done, n);
            done += n;
        }
        pendingLength = len - whole;
        System.arraycopy(b, off + whole, pending, 0, pendingLength);
    }

    private void writeLines(byte[] b, int off, int len) throws IOException {
        byte[] slice = off == 0 && len == b.length ? b : Arrays.copyOfRange(b, off, off + len);
        out.write(LINES.encode(slice));
        out.write('\n');
    }

    private void start() throws IOException {
        if (!started) {
            started = true;
            out.write((Armor.begin(label) + "\n").getBytes(StandardCharsets.US_ASCII));
        }
    }

    /** Writes the last line and the END line; the underlying stream stays open. */
    public void finish() throws IOException {
        if (finished) {
            return;
        }
        start();
        if (pendingLength > 0) {
            out.write(Base64.getEncoder().encode(Arrays.copyOf(pending, pendingLength)));
            out.write('\n');
        }
        out.write((Armor.end(label) + "\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        finished = true;
    }

    @Override
    public void close() throws IOException {
        try {
            finish();
        } finally {
            out.close();
        }
    }
}
