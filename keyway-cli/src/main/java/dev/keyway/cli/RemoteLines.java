package dev.keyway.cli;

import dev.keyway.core.encoding.Printable;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * One host's output when several hosts print to the same stream: each line goes out whole, prefixed with the host,
 * so lines from different hosts never mix (as parallel-ssh -i and pdsh do). A last line without a newline gets one.
 */
final class RemoteLines extends OutputStream {
    private final OutputStream target;
    private final byte[] prefix;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    RemoteLines(OutputStream target, String host) {
        this.target = target;
        this.prefix = (Printable.escape(host) + ": ").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void write(int b) throws IOException {
        line.write(b);
        if (b == '\n') {
            emit();
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        int start = off;
        for (int i = off; i < off + len; i++) {
            if (b[i] == '\n') {
                line.write(b, start, i + 1 - start);
                emit();
                start = i + 1;
            }
        }
        line.write(b, start, off + len - start);
    }

    private void emit() throws IOException {
        synchronized (target) {
            target.write(prefix);
            line.writeTo(target);
            target.flush();
        }
        line.reset();
    }

    /** Writes a last unfinished line, with a newline. */
    void finish() throws IOException {
        if (line.size() > 0) {
            line.write('\n');
            emit();
        }
    }
}
