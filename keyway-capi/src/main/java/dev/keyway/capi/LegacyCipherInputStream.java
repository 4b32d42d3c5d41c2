package dev.keyway.capi;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * The plaintext of legacy ciphertext read from {@code in}, decrypted as it is read (for converting a
 * file without writing its plaintext anywhere). A wrong final padding surfaces as a CapiException
 * (NTE_BAD_DATA) at the end of the stream, so a consumer that commits only after reading to the end
 * commits nothing.
 */
public final class LegacyCipherInputStream extends FilterInputStream {
    private final LegacyCipher cipher;
    private final byte[] chunk = new byte[64 * 1024];
    private byte[] ready = new byte[0];
    private int readyAt;
    private boolean eof;

    public LegacyCipherInputStream(InputStream in, LegacyCipher cipher) {
        super(in);
        this.cipher = cipher;
    }

    private boolean fill() throws IOException {
        while (readyAt == ready.length) {
            if (eof) {
                return false;
            }
            int n = in.read(chunk);
            if (n < 0) {
                eof = true;
                ready = cipher.doFinal();
            } else {
                ready = cipher.update(chunk, 0, n);
            }
            readyAt = 0;
        }
        return true;
    }

    @Override
    public int read() throws IOException {
        return fill() ? ready[readyAt++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (!fill()) {
            return -1;
        }
        int n = Math.min(len, ready.length - readyAt);
        System.arraycopy(ready, readyAt, b, off, n);
        readyAt += n;
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        long skipped = 0;
        while (skipped < n && fill()) {
            int k = (int) Math.min(n - skipped, ready.length - readyAt);
            readyAt += k;
            skipped += k;
        }
        return skipped;
    }

    @Override
    public int available() {
        return ready.length - readyAt;
    }

    @Override
    public boolean markSupported() {
        return false;
    }
}
