package dev.keyway.core.kdf;

import javax.security.auth.Destroyable;
import java.util.Arrays;

/** A TLS 1.3 write key and IV (RFC 8446 section 7.3). Never printed. */
public final class TrafficKeys implements Destroyable {
    private final byte[] key;
    private final byte[] iv;
    private boolean destroyed;

    TrafficKeys(byte[] key, byte[] iv) {
        this.key = key;
        this.iv = iv;
    }

    public byte[] key() {
        check();
        return key.clone();
    }

    public byte[] iv() {
        check();
        return iv.clone();
    }

    private void check() {
        if (destroyed) {
            throw new IllegalStateException("traffic keys destroyed");
        }
    }

    @Override
    public void destroy() {
        Arrays.fill(key, (byte) 0);
        Arrays.fill(iv, (byte) 0);
        destroyed = true;
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }

    @Override
    public String toString() {
        return "TrafficKeys[" + key.length * 8 + "-bit key]";
    }
}
