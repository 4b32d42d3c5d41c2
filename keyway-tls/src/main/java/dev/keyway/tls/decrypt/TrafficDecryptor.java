package dev.keyway.tls.decrypt;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.ByteReader;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.KeyBlock12;
import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.core.kdf.Prf12;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.kdf.TrafficKeys;
import dev.keyway.core.keylog.KeyLogLabel;
import dev.keyway.core.keylog.ParsedKeyLog;
import dev.keyway.tls.decrypt.DecryptedConnection.AppData;
import dev.keyway.tls.decrypt.DecryptedConnection.Direction;
import dev.keyway.tls.decrypt.DecryptedConnection.Status;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Decrypts one captured TLS connection (both TCP byte streams) with the secrets of a key log, as a
 * passive observer: it reads the ClientHello and ServerHello in the clear to learn the client random,
 * version and suite, derives the record keys (TLS 1.0-1.2 key block from the master secret, TLS 1.3
 * traffic keys from the logged traffic secrets) and opens every protected record in order, following
 * ChangeCipherSpec, the TLS 1.3 Finished messages and KeyUpdate.
 */
public final class TrafficDecryptor {
    static final int CT_CHANGE_CIPHER_SPEC = 20;
    static final int CT_ALERT = 21;
    static final int CT_HANDSHAKE = 22;
    static final int CT_APPLICATION_DATA = 23;

    static final int HS_CLIENT_HELLO = 1;
    static final int HS_SERVER_HELLO = 2;
    static final int HS_NEW_SESSION_TICKET = 4;
    static final int HS_END_OF_EARLY_DATA = 5;
    static final int HS_SERVER_HELLO_DONE = 14;
    static final int HS_FINISHED = 20;
    static final int HS_KEY_UPDATE = 24;

    private static final int EXT_EARLY_DATA = 42;
    private static final int EXT_PRE_SHARED_KEY = 41;
    private static final int EXT_SUPPORTED_VERSIONS = 43;
    private static final int EXT_ENCRYPT_THEN_MAC = 22;

    /** SHA-256("HelloRetryRequest"), the random of a HelloRetryRequest (RFC 8446 section 4.1.3). */
    private static final byte[] HRR_RANDOM = Hex.decode(
            "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c", "HRR random");

    private final ParsedKeyLog keyLog;

    public TrafficDecryptor(ParsedKeyLog keyLog) {
        this.keyLog = keyLog;
    }

    /** Decrypts one connection from its client-to-server and server-to-client streams. */
    public DecryptedConnection decrypt(byte[] clientToServer, byte[] serverToClient) {
        Attempt a = new Attempt(clientToServer, serverToClient);
        a.run();
        return new DecryptedConnection(a.version, a.suite, a.clientRandom, a.resumed, a.status, List.copyOf(a.data),
                List.copyOf(a.notes));
    }

    /** One record as read from a stream. */
    record Record(long offset, int type, int version, byte[] fragment) {
        byte[] header() {
            return new byte[] {(byte) type, (byte) (version >> 8), (byte) version,
                    (byte) (fragment.length >> 8), (byte) fragment.length};
        }
    }

    /** A handshake message: type and body. */
    record Message(int type, byte[] body) {
    }

    /** Splits a stream into records; stops with a note at the first thing that is not a TLS record. */
    static List<Record> records(byte[] stream, Direction dir, List<String> notes) {
        List<Record> out = new ArrayList<>();
        int at = 0;
        while (at < stream.length) {
            if (stream.length - at < 5) {
                notes.add(dir.arrow() + ": stream ends inside a record header at byte " + at + " (capture truncated?)");
                break;
            }
            int type = stream[at] & 0xff;
            int version = ((stream[at + 1] & 0xff) << 8) | (stream[at + 2] & 0xff);
            int length = ((stream[at + 3] & 0xff) << 8) | (stream[at + 4] & 0xff);
            if (type < 20 || type > 24 || (version >> 8) != 3 || length > (1 << 14) + 2048) {
                notes.add(dir.arrow() + ": bytes at offset " + at + " are not a TLS record");
                break;
            }
            if (stream.length - at - 5 < length) {
                notes.add(dir.arrow() + ": stream ends inside a " + length + "-byte record at byte " + at
                        + " (capture truncated?)");
                break;
            }
            out.add(new Record(at, type, version, Arrays.copyOfRange(stream, at + 5, at + 5 + length)));
            at += 5 + length;
        }
        return out;
    }

    /** Collects handshake bytes of one direction and yields whole messages. */
    static final class HandshakeBuffer {
        private static final int MAX_MESSAGE = 1 << 20;
        private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

        List<Message> add(byte[] bytes) {
            pending.writeBytes(bytes);
            List<Message> out = new ArrayList<>();
            byte[] buf = pending.toByteArray();
            int at = 0;
            while (buf.length - at >= 4) {
                int len = ((buf[at + 1] & 0xff) << 16) | ((buf[at + 2] & 0xff) << 8) | (buf[at + 3] & 0xff);
                if (len > MAX_MESSAGE) {
                    throw new IllegalStateException("handshake message of " + len + " bytes");
                }
                if (buf.length - at - 4 < len) {
                    break;
                }
                out.add(new Message(buf[at] & 0xff, Arrays.copyOfRange(buf, at + 4, at + 4 + len)));
                at += 4 + len;
            }
            pending.reset();
            pending.write(buf, at, buf.length - at);
            return out;
        }
    }

    /** Hello fields the decryptor needs. */
    record Hello(byte[] random, byte[] sessionId, int suite, int version, List<Integer> extensions, int selectedVersion) {
        boolean has(int ext) {
            return extensions.contains(ext);
        }
    }

    static Hello parseHello(byte[] body, boolean client) {
        ByteReader c = new ByteReader(body, "handshake message");
        int legacyVersion = c.u16();
        byte[] random = c.bytes(32);
        byte[] sessionId = c.bytes(c.u8());
        int suite;
        if (client) {
            c.bytes(c.u16());
            c.bytes(c.u8());
            suite = -1;
        } else {
            suite = c.u16();
            c.u8();
        }
        List<Integer> exts = new ArrayList<>();
        int selected = legacyVersion;
        if (c.remaining() >= 2) {
            int end = c.u16();
            ByteReader e = new ByteReader(c.bytes(end), "extensions");
            while (e.remaining() > 0) {
                int type = e.u16();
                byte[] data = e.bytes(e.u16());
                exts.add(type);
                if (!client && type == EXT_SUPPORTED_VERSIONS && data.length == 2) {
                    selected = ((data[0] & 0xff) << 8) | (data[1] & 0xff);
                }
            }
        }
        return new Hello(random, sessionId, suite, legacyVersion, exts, selected);
    }

    /** The state of one decryption. */
    private final class Attempt {
        final byte[] c2s;
        final byte[] s2c;
        final List<String> notes = new ArrayList<>();
        final List<AppData> data = new ArrayList<>();
        TlsVersion version;
        CipherSuite suite;
        byte[] clientRandom;
        boolean resumed;
        Status status = Status.DECRYPTED;

        Attempt(byte[] c2s, byte[] s2c) {
            this.c2s = c2s;
            this.s2c = s2c;
        }

        void run() {
            List<Record> client = records(c2s, Direction.CLIENT_TO_SERVER, notes);
            List<Record> server = records(s2c, Direction.SERVER_TO_CLIENT, notes);
            try {
                Hello ch = firstHello(client, HS_CLIENT_HELLO, true);
                Hello sh = serverHello(server);
                if (ch == null || sh == null) {
                    status = Status.NOT_TLS;
                    notes.add("no " + (ch == null ? "ClientHello" : "ServerHello") + " in the capture: was the start of the connection captured?");
                    return;
                }
                clientRandom = ch.random();
                suite = CipherSuites.byCode(sh.suite());
                version = TlsVersion.ofCode(sh.selectedVersion());
                if (suite == null || version == null || !suite.usableWith(version)) {
                    status = Status.FAILED;
                    notes.add(String.format("the server chose suite 0x%04X with version 0x%04X, which Keyway cannot decrypt",
                            sh.suite(), sh.selectedVersion()));
                    return;
                }
                ParsedKeyLog.Connection secrets = keyLog.connection(clientRandom);
                if (secrets == null) {
                    status = Status.NO_SECRETS;
                    notes.add("the key log has no line for client random " + Hex.encode(clientRandom));
                    return;
                }
                if (version == TlsVersion.TLS13) {
                    resumed = sh.has(EXT_PRE_SHARED_KEY);
                    new Tls13(secrets, ch).run(client, server);
                } else {
                    new Tls12(secrets, sh).run(client, server);
                }
            } catch (IllegalStateException | KeywayException e) {
                status = Status.FAILED;
                notes.add("malformed handshake: " + e.getMessage());
            }
        }

        private Hello firstHello(List<Record> records, int type, boolean client) {
            HandshakeBuffer hb = new HandshakeBuffer();
            for (Record r : records) {
                if (r.type() != CT_HANDSHAKE) {
                    return null;
                }
                List<Message> messages = hb.add(r.fragment());
                if (!messages.isEmpty()) { // the first message of the connection decides
                    return messages.get(0).type() == type ? parseHello(messages.get(0).body(), client) : null;
                }
            }
            return null;
        }

        /** The ServerHello, skipping a HelloRetryRequest. */
        private Hello serverHello(List<Record> records) {
            HandshakeBuffer hb = new HandshakeBuffer();
            for (Record r : records) {
                if (r.type() == CT_CHANGE_CIPHER_SPEC) {
                    continue;
                }
                if (r.type() != CT_HANDSHAKE) {
                    return null;
                }
                for (Message m : hb.add(r.fragment())) {
                    if (m.type() != HS_SERVER_HELLO) {
                        return null;
                    }
                    Hello h = parseHello(m.body(), false);
                    if (!Arrays.equals(h.random(), HRR_RANDOM)) {
                        return h;
                    }
                }
            }
            return null;
        }

        /** Records a failure to open a record; returns false so callers stop that direction. */
        boolean failed(Direction dir, Record r, int index) {
            if (status == Status.DECRYPTED) {
                status = Status.FAILED;
            }
            notes.add(dir.arrow() + ": record " + index + " at offset " + r.offset()
                    + " did not decrypt: the key log's secrets do not belong to this connection, or the capture is damaged");
            return false;
        }

        void alert(Direction dir, byte[] body) {
            if (body.length == 2) {
                notes.add(dir.arrow() + ": alert " + (body[1] & 0xff) + (body[1] == 0 ? " (close_notify)" : "")
                        + ((body[0] & 0xff) == 2 ? ", fatal" : ""));
            }
        }

        // ---- TLS 1.3 ------------------------------------------------------------------------------

        private final class Tls13 {
            final ParsedKeyLog.Connection secrets;
            final Hello clientHello;
            final KeySchedule13 ks;

            Tls13(ParsedKeyLog.Connection secrets, Hello clientHello) {
                this.secrets = secrets;
                this.clientHello = clientHello;
                this.ks = KeySchedule13.of(suite);
            }

            void run(List<Record> client, List<Record> server) {
                if (secrets.secret(KeyLogLabel.CLIENT_TRAFFIC_SECRET_0) == null
                        || secrets.secret(KeyLogLabel.SERVER_TRAFFIC_SECRET_0) == null) {
                    status = Status.NO_SECRETS;
                    notes.add("the key log lacks CLIENT_TRAFFIC_SECRET_0 or SERVER_TRAFFIC_SECRET_0 for this connection");
                    return;
                }
                side(server, Direction.SERVER_TO_CLIENT, KeyLogLabel.SERVER_HANDSHAKE_TRAFFIC_SECRET,
                        KeyLogLabel.SERVER_TRAFFIC_SECRET_0, null);
                byte[] early = clientHello.has(EXT_EARLY_DATA) ? secrets.secret(KeyLogLabel.CLIENT_EARLY_TRAFFIC_SECRET) : null;
                side(client, Direction.CLIENT_TO_SERVER, KeyLogLabel.CLIENT_HANDSHAKE_TRAFFIC_SECRET,
                        KeyLogLabel.CLIENT_TRAFFIC_SECRET_0, early);
            }

            /**
             * Opens one direction. Handshake records are under the handshake secret until this side's
             * Finished; then the traffic secret, stepped by KeyUpdate. Without the handshake secret,
             * records are tried under the first traffic key until one opens (the handshake is skipped).
             */
            void side(List<Record> records, Direction dir, KeyLogLabel hsLabel, KeyLogLabel apLabel, byte[] earlySecret) {
                byte[] hsSecret = secrets.secret(hsLabel);
                byte[] apSecret = secrets.secret(apLabel);
                Aead13 hs = hsSecret == null ? null : new Aead13(hsSecret);
                Aead13 early = earlySecret == null ? null : new Aead13(earlySecret);
                Aead13 ap = new Aead13(apSecret);
                boolean application = false;
                boolean earlyPhase = early != null;
                HandshakeBuffer hb = new HandshakeBuffer();
                int index = 0;
                for (Record r : records) {
                    index++;
                    if (r.type() != CT_APPLICATION_DATA) {
                        continue; // ClientHello/ServerHello, middlebox-compatibility ChangeCipherSpec
                    }
                    byte[] plain = null;
                    Aead13 used = null;
                    if (!application) {
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
                            if (plain == null) {
                                continue; // an encrypted handshake record we have no key for
                            }
                            application = true;
                            used = ap;
                            notes.add(dir.arrow() + ": no " + hsLabel + " in the key log; handshake records skipped");
                        }
                    } else {
                        plain = ap.open(r);
                        used = ap;
                    }
                    if (plain == null) {
                        failed(dir, r, index);
                        return;
                    }
                    int at = innerTypeIndex(plain);
                    int type = at < 0 ? 0 : plain[at] & 0xff;
                    byte[] content = Arrays.copyOf(plain, Math.max(at, 0));
                    if (type == CT_APPLICATION_DATA) {
                        data.add(new AppData(dir, r.offset(), content));
                    } else if (type == CT_ALERT) {
                        alert(dir, content);
                    } else if (type == CT_HANDSHAKE) {
                        for (Message m : hb.add(content)) {
                            if (used == early && m.type() == HS_END_OF_EARLY_DATA) {
                                earlyPhase = false;
                            } else if (used == hs && m.type() == HS_FINISHED) {
                                application = true;
                            } else if (used == ap && m.type() == HS_KEY_UPDATE) {
                                apSecret = ks.nextApplicationTrafficSecret(apSecret);
                                ap = new Aead13(apSecret);
                                notes.add(dir.arrow() + ": KeyUpdate");
                            }
                        }
                    }
                }
            }

            /** Index of the inner content type: the last non-zero byte (RFC 8446 section 5.2); -1 if there is none. */
            private int innerTypeIndex(byte[] plain) {
                int i = plain.length - 1;
                while (i >= 0 && plain[i] == 0) {
                    i--;
                }
                return i;
            }

            /** Record protection under one traffic secret, with its sequence number. */
            final class Aead13 {
                final RecordCipher cipher;
                long seq;

                Aead13(byte[] secret) {
                    TrafficKeys keys = ks.trafficKeys(secret, suite.cipher().keyLength());
                    cipher = new RecordCipher(suite.cipher(), keys.key(), keys.iv());
                    keys.destroy();
                }

                byte[] open(Record r) {
                    byte[] plain = cipher.openTls13(seq, r.header(), r.fragment());
                    if (plain != null) {
                        seq++;
                    }
                    return plain;
                }
            }
        }

        // ---- TLS 1.0 to 1.2 -----------------------------------------------------------------------

        private final class Tls12 {
            final ParsedKeyLog.Connection secrets;
            final Hello serverHello;

            Tls12(ParsedKeyLog.Connection secrets, Hello serverHello) {
                this.secrets = secrets;
                this.serverHello = serverHello;
            }

            void run(List<Record> client, List<Record> server) {
                byte[] master = secrets.secret(KeyLogLabel.CLIENT_RANDOM);
                if (master == null) {
                    status = Status.NO_SECRETS;
                    notes.add("the key log has no CLIENT_RANDOM (master secret) line for this connection");
                    return;
                }
                KeyBlock12 kb = Prf12.keyBlock(suite, version, master, clientRandom, serverHello.random());
                Arrays.fill(master, (byte) 0);
                boolean etm = !suite.cipher().aead() && serverHello.has(EXT_ENCRYPT_THEN_MAC);
                resumed = !sentServerHelloDone(server);
                side(server, Direction.SERVER_TO_CLIENT, new RecordCipher12(suite, version, etm, kb.serverKey(), kb.serverIv(), kb.serverMacKey()));
                side(client, Direction.CLIENT_TO_SERVER, new RecordCipher12(suite, version, etm, kb.clientKey(), kb.clientIv(), kb.clientMacKey()));
                kb.destroy();
                if (etm) {
                    notes.add("encrypt-then-MAC (RFC 7366) in use");
                }
            }

            private boolean sentServerHelloDone(List<Record> server) {
                HandshakeBuffer hb = new HandshakeBuffer();
                for (Record r : server) {
                    if (r.type() != CT_HANDSHAKE) {
                        return false;
                    }
                    for (Message m : hb.add(r.fragment())) {
                        if (m.type() == HS_SERVER_HELLO_DONE) {
                            return true;
                        }
                    }
                }
                return false;
            }

            void side(List<Record> records, Direction dir, RecordCipher12 cipher) {
                boolean protectedPhase = false;
                int index = 0;
                for (Record r : records) {
                    index++;
                    if (!protectedPhase) {
                        if (r.type() == CT_CHANGE_CIPHER_SPEC) {
                            protectedPhase = true;
                        } else if (r.type() == CT_ALERT) {
                            alert(dir, r.fragment());
                        }
                        continue;
                    }
                    byte[] plain = cipher.open(r);
                    if (plain == null) {
                        failed(dir, r, index);
                        return;
                    }
                    if (r.type() == CT_APPLICATION_DATA) {
                        data.add(new AppData(dir, r.offset(), plain));
                    } else if (r.type() == CT_ALERT) {
                        alert(dir, plain);
                    }
                }
            }
        }
    }
}
