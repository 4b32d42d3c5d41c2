package dev.keyway.tls.decrypt;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.decrypt.DecryptedConnection.AppData;
import dev.keyway.tls.decrypt.DecryptedConnection.Direction;
import dev.keyway.tls.decrypt.DecryptedConnection.Status;

import java.util.ArrayList;
import java.util.List;

/** One connection's decryption as it goes: what the handshake said, the data read, the notes, how far it got. */
final class Decryption {
    final List<String> notes = new ArrayList<>();
    final List<AppData> data = new ArrayList<>();
    TlsVersion version;
    CipherSuite suite;
    byte[] clientRandom;
    boolean resumed;
    Status status = Status.DECRYPTED;

    DecryptedConnection result() {
        return new DecryptedConnection(version, suite, clientRandom, resumed, status, List.copyOf(data), List.copyOf(notes));
    }

    /** Ends with {@code status} and says why. */
    void stop(Status status, String why) {
        this.status = status;
        notes.add(why);
    }

    /** Records a failure to open a record; returns false so callers stop that direction. */
    boolean failed(Direction dir, CapturedRecord r, int index) {
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

    void applicationData(Direction dir, CapturedRecord r, byte[] plain) {
        data.add(new AppData(dir, r.offset(), plain));
    }
}
