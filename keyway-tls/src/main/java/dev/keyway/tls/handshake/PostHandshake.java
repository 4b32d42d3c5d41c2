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
    private byte[] pending = new byte[0];

    public PostHandshake(RecordLayer records, HandshakeResult session, boolean client, KeyLog keyLog) {
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
        byte[] buf = Arrays.copyOf(pending, pending.length + data.length);
        System.arraycopy(data, 0, buf, pending.length, data.length);
        int at = 0;
        while (buf.length - at >= 4) {
            int type = buf[at] & 0xff;
            int len = ((buf[at + 1] & 0xff) << 16) | ((buf[at + 2] & 0xff) << 8) | (buf[at + 3] & 0xff);
            if (len > HandshakeIo.MAX_MESSAGE) {
                throw TlsException.fatal(Alert.DECODE_ERROR, "post-handshake message of " + len + " bytes");
            }
            if (buf.length - at - 4 < len) {
                break;
            }
            byte[] body = Arrays.copyOfRange(buf, at + 4, at + 4 + len);
            at += 4 + len;
            switch (type) {
                case HandshakeIo.NEW_SESSION_TICKET -> {
                    if (!client) {
                        throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "a client sent NewSessionTicket");
                    }
                    ticket(body);
                }
                case HandshakeIo.KEY_UPDATE -> {
                    if (at != buf.length) {
                        throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "KeyUpdate is not the last message of its record");
                    }
                    keyUpdate(body);
                }
                default -> throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "handshake message type " + type + " after the handshake");
            }
        }
        pending = Arrays.copyOfRange(buf, at, buf.length);
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
            tickets.add(new Ticket(ticket, psk, lifetime, ageAdd, Instant.now(), session.suite(), session.serverName()));
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
