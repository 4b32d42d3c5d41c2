package dev.keyway.core.kdf;

import dev.keyway.core.keys.Secret;

/** A TLS 1.3 write key and IV (RFC 8446 section 7.3). Never printed. */
public final class TrafficKeys extends Secret {
    private final byte[] key;
    private final byte[] iv;

    TrafficKeys(byte[] key, byte[] iv) {
        super(key, iv);
        this.key = key;
        this.iv = iv;
    }

    public byte[] key() {
        return copy(key);
    }

    public byte[] iv() {
        return copy(iv);
    }

    @Override
    protected String describe() {
        return key.length * 8 + "-bit key";
    }
}
