package dev.keyway.core.kdf;

import javax.security.auth.Destroyable;
import java.util.Arrays;

/**
 * A TLS 1.0-1.2 key block split into its six parts (RFC 5246 section 6.3). Empty arrays where the
 * suite has no such part (no MAC keys for AEAD suites, no IVs for CBC suites after TLS 1.0).
 * Never printed: {@link #toString()} names the suite only.
 */
public final class KeyBlock12 implements Destroyable {
    private final CipherSuite suite;
    private final byte[] clientMacKey;
    private final byte[] serverMacKey;
    private final byte[] clientKey;
    private final byte[] serverKey;
    private final byte[] clientIv;
    private final byte[] serverIv;
    private boolean destroyed;

    KeyBlock12(CipherSuite suite, byte[] clientMacKey, byte[] serverMacKey, byte[] clientKey, byte[] serverKey,
               byte[] clientIv, byte[] serverIv) {
        this.suite = suite;
        this.clientMacKey = clientMacKey;
        this.serverMacKey = serverMacKey;
        this.clientKey = clientKey;
        this.serverKey = serverKey;
        this.clientIv = clientIv;
        this.serverIv = serverIv;
    }

    public CipherSuite suite() {
        return suite;
    }

    public byte[] clientMacKey() {
        return live(clientMacKey).clone();
    }

    public byte[] serverMacKey() {
        return live(serverMacKey).clone();
    }

    public byte[] clientKey() {
        return live(clientKey).clone();
    }

    public byte[] serverKey() {
        return live(serverKey).clone();
    }

    public byte[] clientIv() {
        return live(clientIv).clone();
    }

    public byte[] serverIv() {
        return live(serverIv).clone();
    }

    private byte[] live(byte[] part) {
        if (destroyed) {
            throw new IllegalStateException("key block destroyed");
        }
        return part;
    }

    @Override
    public void destroy() {
        for (byte[] part : new byte[][] {clientMacKey, serverMacKey, clientKey, serverKey, clientIv, serverIv}) {
            Arrays.fill(part, (byte) 0);
        }
        destroyed = true;
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public String toString() {
        return "KeyBlock12[" + suite.name() + "]";
    }
}
