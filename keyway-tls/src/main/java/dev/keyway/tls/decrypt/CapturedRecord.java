package dev.keyway.tls.decrypt;

import dev.keyway.tls.decrypt.DecryptedConnection.Direction;
import dev.keyway.tls.record.RecordLayer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One TLS record as it lies in a captured TCP stream: its header at {@code stream[offset]}, its fragment after
 * it. Opening it hands the stream to the record protections as it is, without a copy.
 *
 * @param stream  the direction's whole stream
 * @param offset  where the record's header starts
 * @param type    the header's content type
 * @param version the header's legacy version
 * @param length  the fragment's length
 */
record CapturedRecord(byte[] stream, int offset, int type, int version, int length) {
    /** heartbeat (RFC 6520): a record type a stream may hold; passed over, never opened. */
    private static final int HEARTBEAT = 24;

    /** The fragment, copied out. */
    byte[] fragment() {
        return Arrays.copyOfRange(stream, offset + RecordLayer.HEADER, offset + RecordLayer.HEADER + length);
    }

    /**
     * Splits a stream into records; stops with a note at the first thing that is not a TLS record (an unknown
     * content type, a version that is not 3.x, a length over what any version allows) or at a cut record.
     */
    static List<CapturedRecord> split(byte[] stream, Direction dir, List<String> notes) {
        List<CapturedRecord> out = new ArrayList<>();
        int at = 0;
        while (at < stream.length) {
            if (stream.length - at < RecordLayer.HEADER) {
                notes.add(dir.arrow() + ": stream ends inside a record header at byte " + at + " (capture truncated?)");
                break;
            }
            int type = stream[at] & 0xff;
            int version = ((stream[at + 1] & 0xff) << 8) | (stream[at + 2] & 0xff);
            int length = ((stream[at + 3] & 0xff) << 8) | (stream[at + 4] & 0xff);
            if (type < RecordLayer.CHANGE_CIPHER_SPEC || type > HEARTBEAT || (version >> 8) != 3
                    || length > RecordLayer.MAX_CIPHERTEXT) {
                notes.add(dir.arrow() + ": bytes at offset " + at + " are not a TLS record");
                break;
            }
            if (stream.length - at - RecordLayer.HEADER < length) {
                notes.add(dir.arrow() + ": stream ends inside a " + length + "-byte record at byte " + at
                        + " (capture truncated?)");
                break;
            }
            out.add(new CapturedRecord(stream, at, type, version, length));
            at += RecordLayer.HEADER + length;
        }
        return out;
    }
}
