package dev.keyway.tls.capture;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.io.AtomicFile;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;

/** The capture's bytes, read in records, with the offset of the next byte for error messages. */
final class CaptureInput {
    private final InputStream in;
    private long offset;

    CaptureInput(InputStream in) {
        this.in = new BufferedInputStream(in, 1 << 16);
    }

    long offset() {
        return offset;
    }

    /** The next {@code n} bytes (fewer at the end of the input), without consuming them. */
    byte[] peek(int n) {
        try {
            in.mark(n);
            byte[] b = in.readNBytes(n);
            in.reset();
            return b;
        } catch (IOException e) {
            throw failure(e);
        }
    }

    /**
     * The next {@code n} bytes, or fewer when the input ends first. readNBytes collects what arrives in small
     * chunks, so a length field that lies costs memory for the bytes that really exist, not for the claim.
     */
    byte[] read(int n) {
        try {
            byte[] b = in.readNBytes(n);
            offset += b.length;
            return b;
        } catch (IOException e) {
            throw failure(e);
        }
    }

    private KeywayException failure(IOException e) {
        return new KeywayException(ErrorCode.IO, "cannot read the capture at byte " + offset + " (" + AtomicFile.describe(e) + ")",
                "check the file and its permissions");
    }
}
