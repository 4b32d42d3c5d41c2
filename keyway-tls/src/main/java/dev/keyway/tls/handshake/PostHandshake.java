package dev.keyway.tls.handshake;

import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordLayer;
import dev.keyway.tls.record.RecordProtection13;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Handshake messages after the handshake (RFC 8446 section 4.6): NewSessionTicket (kept by a client) and
 * KeyUpdate (both ways). {@link #handle} runs on the read side; {@link #sendKeyUpdate}, for our own update
 * or the answer to update_requested, runs on the write side.
 */
public final class PostHandshake {
    private static final int MAX_TICKETS = 16;

    private final RecordLayer records;
    private final HandshakeResult session;
    private final boolean client;
    private final List<Ticket> tickets = new ArrayList<>();
    private byte[] readSecret;
    private byte[] writeSecret;
    private final Clock clock;
    private final HandshakeIo io;
    /** The peer asked for our KeyUpdate (update_requested); the writer sends it, once. */
    private boolean answerOwed;

    public PostHandshake(RecordLayer records, HandshakeResult session, boolean client, Clock clock) {
        this.clock = clock;
        this.records = records;
        this.io = new HandshakeIo(records);
        this.session = session;
        this.client = client;
        this.readSecret = client ? session.serverTrafficSecret().clone() : session.clientTrafficSecret().clone();
        this.writeSecret = client ? session.clientTrafficSecret().clone() : session.serverTrafficSecret().clone();
    }

    public List<Ticket> tickets() {
        synchronized (tickets) {
            return List.copyOf(tickets);
        }
    }

    /** Whether the peer asked for our KeyUpdate since the last call; the caller then sends it from the write side. */
    public boolean takeAnswerOwed() {
        boolean owed = answerOwed;
        answerOwed = false;
        return owed;
    }

    /** Part of a handshake message is buffered, waiting for the rest of it in the next records. */
    public boolean partialMessage() {
        return !io.empty();
    }

    /** Handles the handshake bytes of one record (messages may span records). */
    public void handle(byte[] data, int off, int len) {
        io.add(data, off, len);
        HandshakeIo.Message m;
        while ((m = io.next()) != null) {
            switch (m.type()) {
                case HandshakeIo.NEW_SESSION_TICKET -> {
                    if (!client) {
                        throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "a client sent NewSessionTicket");
                    }
                    ticket(m.body());
                }
                case HandshakeIo.KEY_UPDATE -> {
                    if (!io.empty()) {
                        throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "KeyUpdate is not the last message of its record");
                    }
                    keyUpdate(m.body());
                }
                default -> throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "handshake message type " + m.type() + " after the handshake");
            }
        }
    }

    private void ticket(byte[] body) {
        HandshakeMessage.NewSessionTicket13 nst = HandshakeMessage.NewSessionTicket13.parse(body);
        long lifetime = nst.lifetime();
        long ageAdd = nst.ageAdd();
        byte[] nonce = nst.nonce();
        byte[] ticket = nst.ticket();
        if (lifetime > 604_800) {
            throw TlsException.fatal(Alert.ILLEGAL_PARAMETER, "a ticket lifetime over 7 days");
        }
        if (ticket.length == 0) {
            throw TlsException.fatal(Alert.DECODE_ERROR, "an empty ticket");
        }
        synchronized (tickets) {
            if (tickets.size() < MAX_TICKETS) {
                byte[] psk = session.schedule().resumptionPsk(session.resumptionMasterSecret(), nonce);
                tickets.add(new Ticket(ticket, psk, lifetime, ageAdd, clock.instant(), session.suite(), session.serverName()));
            }
        }
    }

    private void keyUpdate(byte[] body) {
        HandshakeMessage.KeyUpdate update = HandshakeMessage.KeyUpdate.parse(body);
        byte[] next = session.schedule().nextApplicationTrafficSecret(readSecret);
        Arrays.fill(readSecret, (byte) 0);
        readSecret = next;
        records.setReadProtection(RecordProtection13.of(session.schedule(), session.suite(), readSecret));
        if (update.updateRequested()) {
            answerOwed = true;
        }
    }

    /** Sends KeyUpdate under the current keys, then moves our writing to the next secret. */
    public void sendKeyUpdate(boolean requestPeer) {
        records.write(RecordLayer.HANDSHAKE, new HandshakeMessage.KeyUpdate(requestPeer).encode());
        byte[] next = session.schedule().nextApplicationTrafficSecret(writeSecret);
        Arrays.fill(writeSecret, (byte) 0);
        writeSecret = next;
        records.setWriteProtection(RecordProtection13.of(session.schedule(), session.suite(), writeSecret));
    }
}
