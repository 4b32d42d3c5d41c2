package dev.keyway.tls.decrypt;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.keylog.ParsedKeyLog;
import dev.keyway.tls.decrypt.DecryptedConnection.Direction;
import dev.keyway.tls.decrypt.DecryptedConnection.Status;
import dev.keyway.tls.handshake.ObservedHandshake;
import dev.keyway.tls.record.RecordLayer;

import java.util.List;

/**
 * Decrypts one captured TLS connection (both TCP byte streams) with the secrets of a key log, as a
 * passive observer: it reads the ClientHello and ServerHello in the clear to learn the client random,
 * version and suite, derives the record keys (TLS 1.0-1.2 key block from the master secret, TLS 1.3
 * traffic keys from the logged traffic secrets) and opens every protected record in order, following
 * ChangeCipherSpec, the TLS 1.3 Finished messages and KeyUpdate ({@link Tls12Decryption},
 * {@link Tls13Decryption}). Hellos and handshake messages are read by keyway-tls's own handshake code
 * ({@link ObservedHandshake}), records opened by its record protections where they read them.
 */
public final class TrafficDecryptor {
    private final ParsedKeyLog keyLog;

    public TrafficDecryptor(ParsedKeyLog keyLog) {
        this.keyLog = keyLog;
    }

    /** Decrypts one connection from its client-to-server and server-to-client streams. */
    public DecryptedConnection decrypt(byte[] clientToServer, byte[] serverToClient) {
        Decryption d = new Decryption();
        List<CapturedRecord> client = CapturedRecord.split(clientToServer, Direction.CLIENT_TO_SERVER, d.notes);
        List<CapturedRecord> server = CapturedRecord.split(serverToClient, Direction.SERVER_TO_CLIENT, d.notes);
        try {
            run(d, client, server);
        } catch (IllegalStateException | KeywayException e) {
            d.stop(Status.FAILED, "malformed handshake: " + e.getMessage());
        }
        return d.result();
    }

    private void run(Decryption d, List<CapturedRecord> client, List<CapturedRecord> server) {
        ObservedHandshake.Hello ch = clientHello(client);
        ObservedHandshake.Hello sh = serverHello(server);
        if (ch == null || sh == null) {
            d.stop(Status.NOT_TLS, "no " + (ch == null ? "ClientHello" : "ServerHello")
                    + " in the capture: was the start of the connection captured?");
            return;
        }
        d.clientRandom = ch.random();
        d.suite = CipherSuites.byCode(sh.suite());
        d.version = TlsVersion.ofCode(sh.version());
        if (d.suite == null || d.version == null || !d.suite.usableWith(d.version)) {
            d.stop(Status.FAILED, String.format("the server chose suite 0x%04X with version 0x%04X, which Keyway cannot decrypt",
                    sh.suite(), sh.version()));
            return;
        }
        ParsedKeyLog.Connection secrets = keyLog.connection(d.clientRandom);
        if (secrets == null) {
            d.stop(Status.NO_SECRETS, "the key log has no line for client random " + Hex.encode(d.clientRandom));
            return;
        }
        if (d.version == TlsVersion.TLS13) {
            d.resumed = sh.has(ObservedHandshake.EXTENSION_PRE_SHARED_KEY);
            new Tls13Decryption(d, secrets).run(client, server, ch);
        } else {
            new Tls12Decryption(d, secrets, sh).run(client, server);
        }
    }

    /** The ClientHello, when it is the first message of the connection. */
    private static ObservedHandshake.Hello clientHello(List<CapturedRecord> records) {
        ObservedHandshake.Reader handshake = new ObservedHandshake.Reader();
        for (CapturedRecord r : records) {
            if (r.type() != RecordLayer.HANDSHAKE) {
                return null;
            }
            List<ObservedHandshake.Message> messages = handshake.add(r.fragment());
            if (!messages.isEmpty()) { // the first message of the connection decides
                ObservedHandshake.Message first = messages.get(0);
                return first.type() == ObservedHandshake.CLIENT_HELLO ? ObservedHandshake.clientHello(first.body()) : null;
            }
        }
        return null;
    }

    /** The ServerHello, skipping a HelloRetryRequest. */
    private static ObservedHandshake.Hello serverHello(List<CapturedRecord> records) {
        ObservedHandshake.Reader handshake = new ObservedHandshake.Reader();
        for (CapturedRecord r : records) {
            if (r.type() == RecordLayer.CHANGE_CIPHER_SPEC) {
                continue;
            }
            if (r.type() != RecordLayer.HANDSHAKE) {
                return null;
            }
            for (ObservedHandshake.Message m : handshake.add(r.fragment())) {
                if (m.type() != ObservedHandshake.SERVER_HELLO) {
                    return null;
                }
                ObservedHandshake.Hello h = ObservedHandshake.serverHello(m.body());
                if (!h.retryRequest()) {
                    return h;
                }
            }
        }
        return null;
    }
}
