package dev.keyway.tls.handshake;

import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;

/** Reading an alert record's two bytes. */
public final class Alerts {
    private Alerts() {
    }

    /** The exception for a received alert; close_notify is reported as such too (callers check). */
    public static TlsException received(byte[] body) {
        if (body.length != 2) {
            return TlsException.fatal(Alert.DECODE_ERROR, "an alert record of " + body.length + " bytes");
        }
        int code = body[1] & 0xff;
        return TlsException.received(Alert.of(code), code);
    }
}
