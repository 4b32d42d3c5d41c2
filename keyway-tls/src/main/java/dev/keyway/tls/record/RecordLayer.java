package dev.keyway.tls.record;

import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The TLS record layer as a codec, with no I/O of its own: bytes from the network go in with
 * {@link #receive}, whole records come out of {@link #next}; records written are queued as bytes for the
 * network ({@link #takeOutput}). It frames, enforces the length limits, fragments, and applies the current
 * {@link RecordProtection} in each direction. Middlebox-compatibility ChangeCipherSpec records (RFC 8446
 * appendix D.4) are dropped on read and can be written. One reader and one writer may use it at once: the
 * read side and the write side share no mutable state but the hello flag.
 */
public final class RecordLayer {
    public static final int CHANGE_CIPHER_SPEC = 20;
    public static final int ALERT = 21;
    public static final int HANDSHAKE = 22;
    public static final int APPLICATION_DATA = 23;
    /** Largest plaintext fragment (RFC 8446 section 5.1). */
    public static final int MAX_FRAGMENT = 1 << 14;
    public static final int HEADER = 5;
    /**
     * Largest ciphertext fragment of any version (RFC 5246 section 6.2.3: 2^14 + 2048; TLS 1.3's, 2^14 + 256, is
     * smaller): what a reader that has not learnt the version yet, or has no keys, lets a record header announce.
     */
    public static final int MAX_CIPHERTEXT = MAX_FRAGMENT + 2048;

    /** A record as the layer above sees it: the (inner) content type and the plaintext {@code bytes[0, length)}. */
    public record Record(int type, byte[] bytes, int length) {
        public Record(int type, byte[] data) {
            this(type, data, data.length);
        }

        /** The plaintext, exactly {@code length} bytes. */
        public byte[] data() {
            return length == bytes.length ? bytes : Arrays.copyOf(bytes, length);
        }
    }

    // Read side: received bytes wait here until they make whole records.
    // It starts small and grows to the largest record seen: an idle connection does not hold 16 KiB for nothing.
    private final ByteQueue in = new ByteQueue(2048);
    private RecordProtection readProtection;
    private boolean ccsAllowed = true;
    /** TLS 1.2: a ChangeCipherSpec is a protocol step for the handshake, not a middlebox courtesy to drop. */
    private boolean deliverCcs;
    private long recordsRead;
    /** Part of a handshake message came and the rest has not: no other record may come in between. */
    private boolean handshakeFragment;
    /** A ChangeCipherSpec is only legal once a hello has gone by (RFC 8446 section 5). */
    private volatile boolean helloSeen;
    /** TLS 1.3: how many more middlebox ChangeCipherSpec records may be dropped; one more is an error (appendix D.4). */
    private int ccsLeft = 1;
    /**
     * Server, TLS 1.3: bytes of rejected 0-RTT data we may still skip (RFC 8446 section 4.2.10), or -1 when not
     * skipping. Before read keys are set (after a HelloRetryRequest) every application_data record is skipped;
     * with handshake keys, records that fail to decrypt are, until the first one that opens.
     */
    private int earlyDataBudget = -1;

    // Write side: bytes for the network are out[outStart, outLength); taking them in pieces stays linear.
    private byte[] out = new byte[4096];
    private int outStart;
    private int outLength;
    private byte[] spare;
    private RecordProtection writeProtection;

    public void setReadProtection(RecordProtection p) {
        this.readProtection = p;
    }

    public void setWriteProtection(RecordProtection p) {
        this.writeProtection = p;
    }

    /** TLS 1.2: hand ChangeCipherSpec records up (the handshake switches keys on them) instead of dropping them. */
    public void deliverChangeCipherSpec(boolean deliver) {
        this.deliverCcs = deliver;
    }

    /**
     * Whether the handshake layer holds part of a message: until the rest comes, a record of another type
     * (a ChangeCipherSpec included, which would otherwise be dropped) is an unexpected_message (RFC 8446
     * section 5.1, RFC 5246 section 6.2.1: handshake messages are not interleaved with other records).
     */
    public void handshakeFragment(boolean pending) {
        this.handshakeFragment = pending;
    }

    private static TlsException interleaved(int type) {
        return TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "a record of type " + type + " in the middle of a fragmented handshake message");
    }

    /**
     * Client, TLS 1.3, after a HelloRetryRequest: the server may send its middlebox ChangeCipherSpec again after its
     * ServerHello (the JDK's server does: one after each of its hellos), so one more is dropped, not refused.
     */
    public void allowChangeCipherSpecAgain() {
        ccsLeft++;
    }

    /** After the handshake a ChangeCipherSpec is an error (RFC 8446 section 5). */
    public void handshakeDone() {
        ccsAllowed = false;
    }

    /**
     * Server, TLS 1.3: the client offered 0-RTT data we do not accept; skip up to {@code maxBytes} of it
     * (RFC 8446 section 4.2.10). Skipping ends with the first record that decrypts under the handshake keys, or
     * by {@link #stopSkippingEarlyData}; more than {@code maxBytes} is an unexpected_message alert.
     */
    public void skipEarlyData(int maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("a 0-RTT budget of " + maxBytes + " bytes");
        }
        this.earlyDataBudget = maxBytes;
    }

    /** The client's second ClientHello came (after a HelloRetryRequest): no 0-RTT data may follow it. */
    public void stopSkippingEarlyData() {
        this.earlyDataBudget = -1;
    }

    // ---- read side ----

    /** Takes bytes from the network; records come out of {@link #next}. */
    public void receive(byte[] b, int off, int len) {
        in.append(b, off, len);
    }

    /** Bytes received but not yet part of a whole record. */
    public int buffered() {
        return in.size();
    }

    /**
     * The next whole record, opened when protected; null when more bytes are needed. Framing and MAC
     * problems are TlsExceptions with the alert to send.
     */
    public Record next() {
        while (true) {
            int available = in.size();
            if (available < HEADER) {
                return null;
            }
            int type = in.at(0);
            int length = (in.at(3) << 8) | in.at(4);
            if (type < CHANGE_CIPHER_SPEC || type > APPLICATION_DATA) {
                throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "record of unknown type " + type);
            }
            if (in.at(1) != 3) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "not a TLS record (version byte " + in.at(1) + ")");
            }
            // Under protection every record is ciphertext (TLS 1.2 encrypts each type; in TLS 1.3 anything but 23
            // is refused when decoded), so the ciphertext limit applies to all.
            int limit = readProtection != null && (type == APPLICATION_DATA || deliverCcs) ? readProtection.maxCiphertext() : MAX_FRAGMENT;
            if (length > limit) {
                throw TlsException.fatal(Alert.RECORD_OVERFLOW, "record of " + length + " bytes (limit " + limit + ")");
            }
            if (available < HEADER + length) {
                return null;
            }
            int at = in.start();
            in.drop(HEADER + length); // the bytes stay in the array until the next receive
            recordsRead++;
            Record r = decode(in.array(), type, at, length);
            if (r != null && handshakeFragment && r.type() != HANDSHAKE) {
                throw interleaved(r.type());
            }
            if (r != null) {
                return r;
            }
        }
    }

    /** One framed record of {@code in[at, ...)}; null for a dropped ChangeCipherSpec. */
    private Record decode(byte[] in, int type, int at, int length) {
        if (type == CHANGE_CIPHER_SPEC) {
            if (handshakeFragment) {
                throw interleaved(type);
            }
            if (!ccsAllowed || !helloSeen || length != 1 || in[at + HEADER] != 1 || (deliverCcs && readProtection != null)) {
                throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "ChangeCipherSpec outside the handshake");
            }
            if (deliverCcs) {
                return new Record(type, new byte[] {1});
            }
            // TLS 1.3: a peer in middlebox-compatibility mode sends exactly one (RFC 8446 appendix D.4).
            if (ccsLeft == 0) {
                throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "a second ChangeCipherSpec in the handshake");
            }
            ccsLeft--;
            return null;
        }
        if (type == APPLICATION_DATA && earlyDataBudget >= 0) {
            // Rejected 0-RTT data (RFC 8446 section 4.2.10): before read keys are set (after a HelloRetryRequest)
            // every such record is skipped; under the handshake keys those that do not decrypt are, and the first
            // one that does ends the skipping and is the client's second flight.
            Record r = readProtection instanceof RecordProtection13 p ? p.tryOpen(in, at, length) : null;
            if (r == null) {
                skipEarlyDataRecord(length);
                return null;
            }
            earlyDataBudget = -1;
            return checked(r);
        }
        if (readProtection == null) {
            if (type == APPLICATION_DATA) {
                throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "protected record before the keys are known");
            }
            if (type == HANDSHAKE) {
                helloSeen = true;
            }
            return nonEmpty(new Record(type, Arrays.copyOfRange(in, at + HEADER, at + HEADER + length)));
        }
        if (type == ALERT && ccsAllowed && !deliverCcs) { // TLS 1.3 only: in TLS 1.2 a protected alert is encrypted
            // An unprotected alert can arrive during the handshake, before the peer has our keys; after it,
            // accepting one would let anyone on the path end the connection (a truncation attack).
            return nonEmpty(new Record(type, Arrays.copyOfRange(in, at + HEADER, at + HEADER + length)));
        }
        return checked(readProtection.open(in, at, length));
    }

    private static Record checked(Record r) {
        if (r.length() > MAX_FRAGMENT) {
            throw TlsException.fatal(Alert.RECORD_OVERFLOW, "plaintext over 2^14 bytes");
        }
        return nonEmpty(r);
    }

    /**
     * Handshake and alert records carry at least one byte of content, padding aside (RFC 8446 sections 5.1 and
     * 5.4: unexpected_message; RFC 5246 section 6.2.1). Empty application data is allowed (traffic analysis cover).
     */
    private static Record nonEmpty(Record r) {
        if (r.length() == 0 && r.type() != APPLICATION_DATA) {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "an empty " + (r.type() == ALERT ? "alert" : "handshake") + " record");
        }
        return r;
    }

    /** Counts a skipped 0-RTT record: at least the plaintext it could hold (its fragment less tag and type byte). */
    private void skipEarlyDataRecord(int length) {
        int plaintext = Math.max(0, length - RecordProtection13.TAG - 1);
        if (plaintext > earlyDataBudget) {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "more 0-RTT data than this server skips (it accepts none)");
        }
        earlyDataBudget -= plaintext;
    }

    /**
     * The network ended: fine between records, an error inside one (a decode_error alert inside a header,
     * as the connection can tell; an EOFException inside a record body).
     */
    public void endOfInput() throws EOFException {
        int available = in.size();
        if (available == 0) {
            return;
        }
        if (available < HEADER) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "the connection ended inside a record header");
        }
        throw new EOFException("the connection ended inside a record");
    }

    // ---- write side ----

    /** Queues {@code data[off, off + len)} as one or more records of {@code type}. */
    public void write(int type, byte[] data, int off, int len) {
        int at = off;
        int end = off + len;
        do {
            int n = Math.min(MAX_FRAGMENT, end - at);
            writeRecord(type, data, at, n);
            at += n;
        } while (at < end);
    }

    public void write(int type, byte[] data) {
        write(type, data, 0, data.length);
    }

    /** The one-byte ChangeCipherSpec of middlebox-compatibility mode (RFC 8446 appendix D.4), unprotected. */
    public void writeChangeCipherSpec() {
        ensure(6);
        header(out, outLength, CHANGE_CIPHER_SPEC, 0x0303, 1);
        out[outLength + HEADER] = 1;
        outLength += 6;
    }

    private void writeRecord(int type, byte[] src, int off, int len) {
        if (type == HANDSHAKE) {
            helloSeen = true;
        }
        if (writeProtection == null) {
            ensure(HEADER + len);
            // The first ClientHello goes out as record version 0x0301, as RFC 8446 section 5.1 advises.
            header(out, outLength, type, type == HANDSHAKE && recordsRead == 0 ? 0x0301 : 0x0303, len);
            System.arraycopy(src, off, out, outLength + HEADER, len);
            outLength += HEADER + len;
            return;
        }
        ensure(len + writeProtection.expansion());
        outLength += writeProtection.seal(type, src, off, len, out, outLength);
    }

    private void ensure(int more) {
        if (outLength + more > out.length) {
            int live = outLength - outStart;
            byte[] target = out.length >= live + more ? out : new byte[Math.max(out.length * 2, live + more)];
            System.arraycopy(out, outStart, target, 0, live);
            out = target;
            outStart = 0;
            outLength = live;
        }
    }

    static void header(byte[] b, int at, int type, int version, int length) {
        b[at] = (byte) type;
        b[at + 1] = (byte) (version >> 8);
        b[at + 2] = (byte) version;
        b[at + 3] = (byte) (length >> 8);
        b[at + 4] = (byte) length;
    }

    /** Queues an alert (protected when keys are set); fatal unless it is close_notify, user_canceled or no_renegotiation. */
    public void writeAlert(Alert alert) {
        boolean warning = alert == Alert.CLOSE_NOTIFY || alert == Alert.USER_CANCELED || alert == Alert.NO_RENEGOTIATION;
        write(ALERT, new byte[] {(byte) (warning ? 1 : 2), (byte) alert.code()});
    }

    /** Bytes queued for the network. */
    public int outputLength() {
        return outLength - outStart;
    }

    /** Copies up to {@code len} queued bytes into {@code dst} and drops them from the queue; returns the count. */
    public int takeOutput(byte[] dst, int off, int len) {
        int n = Math.min(len, outLength - outStart);
        System.arraycopy(out, outStart, dst, off, n);
        taken(n);
        return n;
    }

    private void taken(int n) {
        outStart += n;
        if (outStart == outLength) {
            outStart = 0;
            outLength = 0;
        }
    }

    /** Moves as many queued bytes as fit into {@code dst}; returns the count. */
    public int takeOutput(ByteBuffer dst) {
        int n = Math.min(dst.remaining(), outLength - outStart);
        dst.put(out, outStart, n);
        taken(n);
        return n;
    }

    /** Queued network bytes handed over without a copy: {@code bytes[offset, offset + length)}. */
    public record Output(byte[] bytes, int offset, int length) {
    }

    /** Hands over the whole queue without copying; give the array back with {@link #recycle} once written. */
    public Output swapOutput() {
        Output full = new Output(out, outStart, outLength - outStart);
        out = spare != null ? spare : new byte[Math.max(4096, out.length)];
        spare = null;
        outStart = 0;
        outLength = 0;
        return full;
    }

    public void recycle(byte[] buffer) {
        if (buffer != out) {
            spare = buffer;
        }
    }
}
