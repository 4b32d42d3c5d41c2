package dev.keyway.tls.decrypt;

import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.core.kdf.TrafficKeys;
import dev.keyway.core.keylog.KeyLogLabel;
import dev.keyway.core.keylog.ParsedKeyLog;
import dev.keyway.tls.decrypt.DecryptedConnection.Direction;
import dev.keyway.tls.decrypt.DecryptedConnection.Status;
import dev.keyway.tls.handshake.ObservedHandshake;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordLayer;
import dev.keyway.tls.record.RecordProtection13;

import java.util.List;

/**
 * A TLS 1.3 connection's records, opened with the traffic secrets of a key log. Each direction is under its
 * early secret (0-RTT, until EndOfEarlyData), its handshake secret (until its Finished), then its application
 * traffic secret, stepped by KeyUpdate. The records are opened by the live connection's
 * {@link RecordProtection13}.
 */
final class Tls13Decryption {
    private final Decryption d;
    private final ParsedKeyLog.Connection secrets;
    private final KeySchedule13 ks;

    Tls13Decryption(Decryption d, ParsedKeyLog.Connection secrets) {
        this.d = d;
        this.secrets = secrets;
        this.ks = KeySchedule13.of(d.suite);
    }

    void run(List<CapturedRecord> client, List<CapturedRecord> server, ObservedHandshake.Hello clientHello) {
        if (secrets.secret(KeyLogLabel.CLIENT_TRAFFIC_SECRET_0) == null
                || secrets.secret(KeyLogLabel.SERVER_TRAFFIC_SECRET_0) == null) {
            d.stop(Status.NO_SECRETS, "the key log lacks CLIENT_TRAFFIC_SECRET_0 or SERVER_TRAFFIC_SECRET_0 for this connection");
            return;
        }
        side(server, Direction.SERVER_TO_CLIENT, KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET,
                KeyLogLabel.SERVER_TRAFFIC_SECRET_0, null);
        byte[] early = clientHello.has(ObservedHandshake.EXTENSION_EARLY_DATA)
                ? secrets.secret(KeyLogLabel.CLIENT_EARLY_TRAFFIC_SECRET) : null;
        side(client, Direction.CLIENT_TO_SERVER, KeyLogLabel.CLIENT_HANDSHAKE_TRAFFIC_SECRET,
                KeyLogLabel.CLIENT_TRAFFIC_SECRET_0, early);
    }

    /**
     * Opens one direction. Handshake records are under the handshake secret until this side's Finished; then
     * the traffic secret, stepped by KeyUpdate. Without the handshake secret, records are tried under the first
     * traffic key until one opens (the handshake is skipped).
     */
    private void side(List<CapturedRecord> records, Direction dir, KeyLogLabel hsLabel, KeyLogLabel apLabel, byte[] earlySecret) {
        byte[] hsSecret = secrets.secret(hsLabel);
        Keys keys = new Keys(earlySecret == null ? null : new Aead13(earlySecret), hsSecret == null ? null : new Aead13(hsSecret),
                new Aead13(secrets.secret(apLabel)));
        ObservedHandshake.Reader handshake = new ObservedHandshake.Reader();
        int index = 0;
        for (CapturedRecord r : records) {
            index++;
            if (r.type() != RecordLayer.APPLICATION_DATA) {
                continue; // ClientHello/ServerHello, middlebox-compatibility ChangeCipherSpec
            }
            RecordLayer.Record plain = keys.open(r);
            if (plain == null && keys.waitingForTraffic()) {
                continue; // an encrypted handshake record we have no key for
            }
            if (plain == null) {
                d.failed(dir, r, index);
                return;
            }
            if (keys.skippedHandshake) {
                keys.skippedHandshake = false;
                d.notes.add(dir.arrow() + ": no " + hsLabel + " in the key log; handshake records skipped");
            }
            if (plain.type() == RecordLayer.APPLICATION_DATA) {
                d.applicationData(dir, r, plain.data());
            } else if (plain.type() == RecordLayer.ALERT) {
                d.alert(dir, plain.data());
            } else if (plain.type() == RecordLayer.HANDSHAKE) {
                for (ObservedHandshake.Message m : handshake.add(plain.data())) {
                    keys.step(m.type(), dir);
                }
            }
        }
    }

    /** One direction's keys and which of them the next record is under. */
    private final class Keys {
        private final Aead13 early;
        private final Aead13 hs;
        private Aead13 ap;
        private boolean application;
        private boolean earlyPhase;
        private boolean skippedHandshake;
        private Aead13 used;

        Keys(Aead13 early, Aead13 hs, Aead13 ap) {
            this.early = early;
            this.hs = hs;
            this.ap = ap;
            this.earlyPhase = early != null;
        }

        /** The record opened under the key it is under; null when none opens it. */
        RecordLayer.Record open(CapturedRecord r) {
            used = null;
            if (application) {
                used = ap;
                return ap.open(r);
            }
            RecordLayer.Record plain = null;
            if (earlyPhase) {
                plain = early.open(r);
                used = plain != null ? early : null;
            }
            if (plain == null && hs != null) {
                plain = hs.open(r);
                if (plain != null) {
                    used = hs;
                    earlyPhase = false;
                }
            }
            if (plain == null && hs == null) {
                plain = ap.open(r);
                if (plain != null) {
                    application = true;
                    skippedHandshake = true;
                    used = ap;
                }
            }
            return plain;
        }

        /** Without the handshake secret, records that do not open are the handshake's, until one does. */
        boolean waitingForTraffic() {
            return !application && hs == null;
        }

        /** A handshake message under the key {@link #open} used: EndOfEarlyData, Finished and KeyUpdate move on. */
        void step(int type, Direction dir) {
            if (used == early && type == ObservedHandshake.END_OF_EARLY_DATA) {
                earlyPhase = false;
            } else if (used == hs && type == ObservedHandshake.FINISHED) {
                application = true;
            } else if (used == ap && type == ObservedHandshake.KEY_UPDATE) {
                ap = new Aead13(ks.nextApplicationTrafficSecret(ap.secret));
                d.notes.add(dir.arrow() + ": KeyUpdate");
            }
        }
    }

    /** Record protection under one traffic secret, with its sequence number. */
    private final class Aead13 {
        final byte[] secret;
        final RecordProtection13 protection;

        Aead13(byte[] secret) {
            this.secret = secret;
            TrafficKeys keys = ks.trafficKeys(secret, d.suite.cipher().keyLength());
            protection = new RecordProtection13(d.suite.cipher(), keys.key(), keys.iv());
            keys.destroy();
        }

        /** The record's inner type and content; null when it does not open, or opens to something TLS 1.3 forbids. */
        RecordLayer.Record open(CapturedRecord r) {
            try {
                return protection.tryOpen(r.stream(), r.offset(), r.length());
            } catch (TlsException e) {
                return null;
            }
        }
    }
}
