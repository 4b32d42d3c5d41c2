package dev.keyway.core.blob;

import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;

/** A binary key blob split per KeyBlob's documented layout, parsed here without KeyBlob. */
record BlobLayout(byte[] header, byte[] enc, byte[] ct) {
    static BlobLayout parse(byte[] blob) {
        ByteBuffer b = ByteBuffer.wrap(blob);
        byte[] header = new byte[15];
        b.get(header);
        byte[] enc = new byte[b.getShort() & 0xffff];
        b.get(enc);
        byte[] ct = new byte[b.getShort() & 0xffff];
        b.get(ct);
        assertThat(b.remaining()).as("bytes after the ciphertext").isZero();
        return new BlobLayout(header, enc, ct);
    }
}
