package dev.keyway.tls.decrypt;

import dev.keyway.core.kdf.KeyBlock12;
import dev.keyway.core.kdf.Prf12;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.keylog.KeyLogLabel;
import dev.keyway.core.keylog.ParsedKeyLog;
import dev.keyway.tls.decrypt.DecryptedConnection.Direction;
import dev.keyway.tls.decrypt.DecryptedConnection.Status;
import dev.keyway.tls.handshake.ObservedHandshake;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordLayer;
import dev.keyway.tls.record.RecordProtection12;

import java.util.Arrays;
import java.util.List;

/**
 * A TLS 1.0 to 1.2 connection's records, opened with the master secret of a key log: the key block (RFC 5246
 * section 6.3) gives each direction its keys, and every record after that direction's ChangeCipherSpec is
 * protected. TLS 1.1 and 1.2 records are opened by the live connection's {@link RecordProtection12}; what it
 * does not read, TLS 1.0's chained CBC IVs and encrypt-then-MAC (RFC 7366, which Keyway does not offer but
 * OpenSSL negotiates for CBC suites), by {@link RecordCipher12}.
 */
final class Tls12Decryption {
    /** encrypt_then_mac (RFC 7366). */
    static final int EXTENSION_ENCRYPT_THEN_MAC = 22;

    /** One direction's record opening: the plaintext, or null when the record does not open. */
    interface Opener {
        byte[] open(CapturedRecord r);
    }

    private final Decryption d;
    private final ParsedKeyLog.Connection secrets;
    private final ObservedHandshake.Hello serverHello;

    Tls12Decryption(Decryption d, ParsedKeyLog.Connection secrets, ObservedHandshake.Hello serverHello) {
        this.d = d;
        this.secrets = secrets;
        this.serverHello = serverHello;
    }

    void run(List<CapturedRecord> client, List<CapturedRecord> server) {
        byte[] master = secrets.secret(KeyLogLabel.CLIENT_RANDOM);
        if (master == null) {
            d.stop(Status.NO_SECRETS, "the key log has no CLIENT_RANDOM (master secret) line for this connection");
            return;
        }
        KeyBlock12 kb = Prf12.keyBlock(d.suite, d.version, master, d.clientRandom, serverHello.random());
        Arrays.fill(master, (byte) 0);
        boolean etm = !d.suite.cipher().aead() && serverHello.has(EXTENSION_ENCRYPT_THEN_MAC);
        d.resumed = !sentServerHelloDone(server);
        side(server, Direction.SERVER_TO_CLIENT, opener(etm, kb.serverKey(), kb.serverIv(), kb.serverMacKey()));
        side(client, Direction.CLIENT_TO_SERVER, opener(etm, kb.clientKey(), kb.clientIv(), kb.clientMacKey()));
        kb.destroy();
        if (etm) {
            d.notes.add("encrypt-then-MAC (RFC 7366) in use");
        }
    }

    private Opener opener(boolean etm, byte[] key, byte[] iv, byte[] macKey) {
        if (etm || d.version == TlsVersion.TLS10) {
            return new RecordCipher12(d.suite, d.version, etm, key, iv, macKey)::open;
        }
        RecordProtection12 protection = new RecordProtection12(d.suite, key, iv, macKey);
        return r -> {
            try {
                return protection.open(r.stream(), r.offset(), r.length()).data();
            } catch (TlsException e) {
                return null; // bad_record_mac, record_overflow: this direction stops here
            }
        };
    }

    private static boolean sentServerHelloDone(List<CapturedRecord> server) {
        ObservedHandshake.Reader handshake = new ObservedHandshake.Reader();
        for (CapturedRecord r : server) {
            if (r.type() != RecordLayer.HANDSHAKE) {
                return false;
            }
            for (ObservedHandshake.Message m : handshake.add(r.fragment())) {
                if (m.type() == ObservedHandshake.SERVER_HELLO_DONE) {
                    return true;
                }
            }
        }
        return false;
    }

    private void side(List<CapturedRecord> records, Direction dir, Opener cipher) {
        boolean protectedPhase = false;
        int index = 0;
        for (CapturedRecord r : records) {
            index++;
            if (!protectedPhase) {
                if (r.type() == RecordLayer.CHANGE_CIPHER_SPEC) {
                    protectedPhase = true;
                } else if (r.type() == RecordLayer.ALERT) {
                    d.alert(dir, r.fragment());
                }
                continue;
            }
            byte[] plain = cipher.open(r);
            if (plain == null) {
                d.failed(dir, r, index);
                return;
            }
            if (r.type() == RecordLayer.APPLICATION_DATA) {
                d.applicationData(dir, r, plain);
            } else if (r.type() == RecordLayer.ALERT) {
                d.alert(dir, plain);
            }
        }
    }
}
