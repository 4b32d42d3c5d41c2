package dev.keyway.tls.record;

import dev.keyway.tls.Alert;
import dev.keyway.tls.TlsException;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * The TLS record layer over a pair of streams: framing, the length limits, fragmentation and (once keys
 * are set) TLS 1.3 protection with the inner content type. Middlebox-compatibility ChangeCipherSpec
 * records are dropped on read and can be written.
 */
public final class RecordLayer {
    public static final int CHANGE_CIPHER_SPEC = 20;
    public static final int ALERT = 21;
    public static final int HANDSHAKE = 22;
    public static final int APPLICATION_DATA = 23;
    /** Largest plaintext fragment (RFC 8446 section 5.1). */
    public static final int MAX_FRAGMENT = 1 << 14;

    /** A record as the layer above sees it: the (inner) content type and the plaintext. */
    public record Record(int type, byte[] data) {
    }

    private final InputStream in;
    private final OutputStream out;
    private RecordProtection readProtection;
    private RecordProtection writeProtection;
    private boolean ccsAllowed = true;
    /** A ChangeCipherSpec is only legal once a hello has gone by (RFC 8446 section 5). */
    private boolean helloSeen;
    private long recordsRead;

    public RecordLayer(InputStream in, OutputStream out) {
        this.in = in;
        this.out = out;
    }

    public void setReadProtection(RecordProtection p) {
        this.readProtection = p;
    }

    public void setWriteProtection(RecordProtection p) {
        this.writeProtection = p;
    }

    /** After the handshake a ChangeCipherSpec is an error (RFC 8446 section 5). */
    public void handshakeDone() {
        ccsAllowed = false;
    }

    public boolean readProtected() {
        return readProtection != null;
    }

    /** Writes {@code data} as one or more records of {@code type}. */
    public void write(int type, byte[] data) throws IOException {
        int at = 0;
        do {
            int n = Math.min(MAX_FRAGMENT, data.length - at);
            writeRecord(type, Arrays.copyOfRange(data, at, at + n));
            at += n;
        } while (at < data.length);
        out.flush();
    }

    /** The one-byte ChangeCipherSpec of middlebox-compatibility mode (RFC 8446 appendix D.4), unprotected. */
    public void writeChangeCipherSpec() throws IOException {
        out.write(new byte[] {CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1});
        out.flush();
    }

    private void writeRecord(int type, byte[] fragment) throws IOException {
        if (type == HANDSHAKE) {
            helloSeen = true;
        }
        if (writeProtection == null) {
            byte[] header = {(byte) type, 3, (byte) (type == HANDSHAKE && recordsRead == 0 ? 1 : 3), (byte) (fragment.length >> 8),
                    (byte) fragment.length};
            out.write(header);
            out.write(fragment);
            return;
        }
        byte[] inner = Arrays.copyOf(fragment, fragment.length + 1);
        inner[fragment.length] = (byte) type;
        int length = inner.length + RecordProtection.TAG;
        byte[] header = {APPLICATION_DATA, 3, 3, (byte) (length >> 8), (byte) length};
        byte[] sealed = writeProtection.seal(header, inner);
        out.write(header);
        out.write(sealed);
    }

    /**
     * Reads the next record, opening it when protected; null at a clean end of stream between records.
     * Framing and MAC problems are TlsExceptions with the alert to send.
     */
    public Record read() throws IOException {
        while (true) {
            byte[] header = new byte[5];
            int got = in.readNBytes(header, 0, 5);
            if (got == 0) {
                return null;
            }
            if (got < 5) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "the connection ended inside a record header");
            }
            recordsRead++;
            int type = header[0] & 0xff;
            int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
            if (type < CHANGE_CIPHER_SPEC || type > APPLICATION_DATA) {
                throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "record of unknown type " + type);
            }
            if ((header[1] & 0xff) != 3) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "not a TLS record (version byte " + (header[1] & 0xff) + ")");
            }
            int limit = readProtection != null && type == APPLICATION_DATA ? MAX_FRAGMENT + 256 : MAX_FRAGMENT;
            if (length > limit) {
                throw TlsException.fatal(Alert.RECORD_OVERFLOW, "record of " + length + " bytes (limit " + limit + ")");
            }
            byte[] fragment = new byte[length];
            if (in.readNBytes(fragment, 0, length) < length) {
                throw new EOFException("the connection ended inside a record");
            }
            if (type == CHANGE_CIPHER_SPEC) {
                if (!ccsAllowed || !helloSeen || length != 1 || fragment[0] != 1) {
                    throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "ChangeCipherSpec outside the handshake");
                }
                continue;
            }
            if (readProtection == null) {
                if (type == APPLICATION_DATA) {
                    throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "protected record before the keys are known");
                }
                if (length == 0 && type != APPLICATION_DATA) {
                    throw TlsException.fatal(Alert.DECODE_ERROR, "empty " + (type == ALERT ? "alert" : "handshake") + " record");
                }
                if (type == HANDSHAKE) {
                    helloSeen = true;
                }
                return new Record(type, fragment);
            }
            if (type != APPLICATION_DATA) {
                // An unprotected alert can arrive during the handshake, before the peer has our keys; after it,
                // accepting one would let anyone on the path end the connection (a truncation attack).
                if (type == ALERT && ccsAllowed) {
                    return new Record(type, fragment); // an unprotected alert can arrive before the peer has our keys
                }
                throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "unprotected record of type " + type + " after the keys changed");
            }
            byte[] inner = readProtection.open(header, fragment);
            if (inner == null) {
                throw TlsException.fatal(Alert.BAD_RECORD_MAC, "a record did not decrypt (tampered, or keys out of step)");
            }
            if (inner.length > MAX_FRAGMENT + 1) {
                throw TlsException.fatal(Alert.RECORD_OVERFLOW, "inner plaintext (with padding) over 2^14 + 1 bytes");
            }
            int end = inner.length - 1;
            while (end >= 0 && inner[end] == 0) {
                end--;
            }
            if (end < 0) {
                throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "a protected record with no content type");
            }
            if (end > MAX_FRAGMENT) {
                throw TlsException.fatal(Alert.RECORD_OVERFLOW, "inner plaintext over 2^14 bytes");
            }
            int innerType = inner[end] & 0xff;
            return new Record(innerType, Arrays.copyOf(inner, end));
        }
    }

    /** Sends an alert (protected when keys are set). */
    public void sendAlert(Alert alert) {
        try {
            write(ALERT, new byte[] {(byte) (alert == Alert.CLOSE_NOTIFY || alert == Alert.USER_CANCELED ? 1 : 2), (byte) alert.code()});
        } catch (IOException | RuntimeException ignored) {
            // the peer may be gone; the alert is a courtesy
        }
    }
}
