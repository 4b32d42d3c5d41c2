package dev.keyway.core.kdf;

import dev.keyway.core.keys.Secret;

/**
 * A TLS 1.0-1.2 key block split into its six parts (RFC 5246 section 6.3). Empty arrays where the
 * suite has no such part (no MAC keys for AEAD suites, no IVs for CBC suites after TLS 1.0).
 * Never printed: {@link #toString()} names the suite only.
 */
public final class KeyBlock12 extends Secret {
    private final CipherSuite suite;
    private final byte[] clientMacKey;
    private final byte[] serverMacKey;
    private final byte[] clientKey;
    private final byte[] serverKey;
    private final byte[] clientIv;
    private final byte[] serverIv;

    KeyBlock12(CipherSuite suite, byte[] clientMacKey, byte[] serverMacKey, byte[] clientKey, byte[] serverKey,
               byte[] clientIv, byte[] serverIv) {
        super(clientMacKey, serverMacKey, clientKey, serverKey, clientIv, serverIv);
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
        return copy(clientMacKey);
    }

    public byte[] serverMacKey() {
        return copy(serverMacKey);
    }

    public byte[] clientKey() {
        return copy(clientKey);
    }

    public byte[] serverKey() {
        return copy(serverKey);
    }

    public byte[] clientIv() {
        return copy(clientIv);
    }

    public byte[] serverIv() {
        return copy(serverIv);
    }

    @Override
    protected String describe() {
        return suite.name();
    }
}
