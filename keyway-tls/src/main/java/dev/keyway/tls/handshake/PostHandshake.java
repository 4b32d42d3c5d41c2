package dev.keyway.tls.handshake;

import dev.keyway.core.keylog.KeyLog;
import dev.keyway.tls.Alert;
import dev.keyway.tls.TlsException;
import dev.keyway.tls.record.RecordLayer;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Handshake messages after the handshake (RFC 8446 section 4.6): NewSessionTicket (kept by a client) and
 * KeyUpdate (both ways, answering update_requested once). The caller holds the connection's write lock.
 */
public final class PostHandshake {
    private static final int MAX_TICKETS = 16;

    private final RecordLayer records;
    private final HandshakeResult session;
    private final boolean client;
    private final List<Ticket> tickets = new ArrayList<>();
    private byte[] readSecret;
    private byte[] writeSecret;
    private final java.time.Clock clock;
    /** Buffered bytes are buf[start, end), grown by doubling: reassembly stays linear. */
    private byte[] buf = new byte[1024];
    private int start;
    private int end;

    public PostHandshake(RecordLayer records, HandshakeResult session, boolean client, KeyLog keyLog, java.time.Clock clock) {
        this.clock = clock;
        this.records = records;
        this.session = session;
        this.client = client;
        this.readSecret = client ? session.serverTrafficSecret().clone() : session.clientTrafficSecret().clone();
        this.writeSecret = client ? session.clientTrafficSecret().clone() : session.serverTrafficSecret().clone();
    }

    public List<Ticket> tickets() {
        return List.copyOf(tickets);
    }

    /** Handles the handshake bytes of one record (messages may span records). */
    public void handle(byte[] data) throws IOException {
        if (end - start + data.length > HandshakeIo.MAX_MESSAGE + 4 + RecordLayer.MAX_FRAGMENT) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "too much buffered post-handshake data");
        }
        if (end + data.length > buf.length) {
            int live = end - start;
            byte[] bigger = buf.length >= live + data.length ? buf : new byte[Math.max(buf.length * 2, live + data.length)];
            System.arraycopy(buf, start, bigger, 0, live);
            buf = bigger;
            start = 0;
            end = live;
        }
        System.arraycopy(data, 0, buf, end, data.length);
        end += data.length;
        while (end - start >= 4) {
            int type = buf[start] & 0xff;
            int len = ((buf[start + 1] & 0xff) << 16) | ((buf[start + 2] & 0xff) << 8) | (buf[start + 3] & 0xff);
            if (len > HandshakeIo.MAX_MESSAGE) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "post-handshake message of " + len + " bytes");
            }
            if (end - start - 4 < len) {
                break;
            }
            byte[] body = Arrays.copyOfRange(buf, start + 4, start + 4 + len);
            start += 4 + len;
            switch (type) {
                case HandshakeIo.NEW_SESSION_TICKET -> {
                    if (!client) {
                        throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "a client sent NewSessionTicket");
                    }
                    ticket(body);
                }
                case HandshakeIo.KEY_UPDATE -> {
                    if (start != end) {
                        throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "KeyUpdate is not the last message of its record");
                    }
                    keyUpdate(body);
                }
                default -> throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "handshake message type " + type + " after the handshake");
            }
        }
        if (start == end) {
            start = 0;
            end = 0;
        }
    }

    private void ticket(byte[] body) {
        Wire.Reader r = new Wire.Reader(body);
        long lifetime = r.u32();
        long ageAdd = r.u32();
        byte[] nonce = r.vec8();
        byte[] ticket = r.vec16();
        r.vec16(); // extensions (early_data: not used, no 0-RTT)
        r.end("NewSessionTicket");
        if (lifetime > 604_800) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "a ticket lifetime over 7 days");
        }
        if (ticket.length == 0) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "an empty ticket");
        }
        if (tickets.size() < MAX_TICKETS) {
            byte[] psk = session.schedule().resumptionPsk(session.resumptionMasterSecret(), nonce);
            tickets.add(new Ticket(ticket, psk, lifetime, ageAdd, clock.instant(), session.suite(), session.serverName()));
        }
    }

    private void keyUpdate(byte[] body) throws IOException {
        if (body.length != 1 || (body[0] != 0 && body[0] != 1)) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "a malformed KeyUpdate");
        }
        byte[] next = session.schedule().nextApplicationTrafficSecret(readSecret);
        Arrays.fill(readSecret, (byte) 0);
        readSecret = next;
        records.setReadProtection(ClientHandshake13.protection(session.schedule(), session.suite(), readSecret));
        if (body[0] == 1) {
            sendKeyUpdate(false);
        }
    }

    /** Sends KeyUpdate under the current keys, then moves our writing to the next secret. */
    public void sendKeyUpdate(boolean requestPeer) throws IOException {
        records.write(RecordLayer.HANDSHAKE, Wire.message(HandshakeIo.KEY_UPDATE, new byte[] {(byte) (requestPeer ? 1 : 0)}));
        byte[] next = session.schedule().nextApplicationTrafficSecret(writeSecret);
        Arrays.fill(writeSecret, (byte) 0);
        writeSecret = next;
        records.setWriteProtection(ClientHandshake13.protection(session.schedule(), session.suite(), writeSecret));
    }
}
