package dev.keyway.tls.handshake;

import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.ByteQueue;
import dev.keyway.tls.record.RecordLayer;

import java.util.Arrays;

/** Handshake messages over the record layer: reassembled across records, each with its raw bytes for the transcript; sent as records. */
final class HandshakeIo {
    static final int CLIENT_HELLO = 1;
    static final int SERVER_HELLO = 2;
    static final int NEW_SESSION_TICKET = 4;
    /** Never sent or read by Keyway's handshakes (no 0-RTT); passive decryption on main reads it in captures. */
    static final int END_OF_EARLY_DATA = 5;
    static final int ENCRYPTED_EXTENSIONS = 8;
    static final int CERTIFICATE = 11;
    static final int SERVER_KEY_EXCHANGE = 12;
    static final int CERTIFICATE_REQUEST = 13;
    static final int SERVER_HELLO_DONE = 14;
    static final int CERTIFICATE_VERIFY = 15;
    static final int CLIENT_KEY_EXCHANGE = 16;
    static final int FINISHED = 20;
    static final int KEY_UPDATE = 24;
    static final int MESSAGE_HASH = 254;
    /** Largest handshake message accepted (a long certificate chain fits easily). */
    static final int MAX_MESSAGE = 256 * 1024;

    /** A message: its type, its body, and header plus body as sent. */
    record Message(int type, byte[] body, byte[] raw) {
    }

    private final RecordLayer records;
    private final ByteQueue buf = new ByteQueue(512); // grows to the largest message; most are small

    HandshakeIo(RecordLayer records) {
        this.records = records;
    }

    RecordLayer records() {
        return records;
    }

    /** Takes the handshake bytes of one record; messages may span records. */
    void add(byte[] data, int off, int len) {
        if (buf.size() + len > MAX_MESSAGE + 4 + RecordLayer.MAX_FRAGMENT) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "too much buffered handshake data");
        }
        if (len == 0) {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "an empty handshake record");
        }
        buf.append(data, off, len);
    }

    /** The next whole handshake message, or null until more bytes arrive (the record layer learns whether part of one waits). */
    Message next() {
        int available = buf.size();
        records.handshakeFragment(available > 0);
        if (available < 4) {
            return null;
        }
        int len = (buf.at(1) << 16) | (buf.at(2) << 8) | buf.at(3);
        if (len > MAX_MESSAGE) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "handshake message of " + len + " bytes");
        }
        if (available < 4 + len) {
            return null;
        }
        byte[] raw = Arrays.copyOfRange(buf.array(), buf.start(), buf.start() + 4 + len);
        buf.drop(4 + len);
        records.handshakeFragment(buf.size() > 0);
        return new Message(raw[0] & 0xff, Arrays.copyOfRange(raw, 4, raw.length), raw);
    }

    /** No partial message is buffered. */
    boolean empty() {
        return buf.size() == 0;
    }

    /** {@code m}, which must be of {@code type}; anything else is an unexpected_message alert. */
    static Message expect(Message m, int type, String name) {
        if (m.type() != type) {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "expected " + name + ", got handshake message type " + m.type());
        }
        return m;
    }

    /** Handshake messages must not span a key change (RFC 8446 section 5.1). */
    void requireBoundary() {
        if (!empty()) {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "handshake data left over at a key change");
        }
    }

    /** Queues a handshake message for the network. */
    void send(byte[] raw) {
        records.write(RecordLayer.HANDSHAKE, raw);
    }
}
