package dev.keyway.tls;

import dev.keyway.tls.record.RecordLayer;

import java.util.ArrayDeque;

/** Opened application-data records waiting to be read, handed out in order and across record boundaries. */
final class ApplicationData {
    private final ArrayDeque<RecordLayer.Record> records = new ArrayDeque<>();
    /** How much of the first record was read already. */
    private int offset;
    private int available;

    /** Keeps a record's data for reading (an empty record adds nothing). */
    void add(RecordLayer.Record r) {
        if (r.length() > 0) {
            records.add(r);
            available += r.length();
        }
    }

    /** Bytes ready to read. */
    int available() {
        return available;
    }

    /** Copies up to {@code len} bytes into {@code b}; returns how many (0 when none is ready). */
    int read(byte[] b, int off, int len) {
        int done = 0;
        while (done < len && !records.isEmpty()) {
            RecordLayer.Record r = records.peek();
            int n = Math.min(len - done, r.length() - offset);
            System.arraycopy(r.bytes(), offset, b, off + done, n);
            done += n;
            offset += n;
            if (offset == r.length()) {
                records.poll();
                offset = 0;
            }
        }
        available -= done;
        return done;
    }
}
