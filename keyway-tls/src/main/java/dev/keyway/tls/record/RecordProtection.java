package dev.keyway.tls.record;

/**
 * One direction's record protection: TLS 1.3's (RFC 8446 section 5.2, the content type inside the
 * ciphertext) or TLS 1.2's (RFC 5246 section 6.2.3). It owns the key and the sequence number; callers
 * never see a nonce.
 */
public interface RecordProtection {
    /** Bytes a protected record may add to its plaintext, header included: a writer's buffer size. */
    int expansion();

    /**
     * Largest ciphertext fragment a peer may send under this protection (RFC 8446 section 5.2: 2^14 + 256;
     * RFC 5246 section 6.2.3: 2^14 + 2048).
     */
    int maxCiphertext();

    /**
     * Writes the protected record of one plaintext fragment of {@code type}, header included, into
     * {@code dst} at {@code at}; returns the bytes written (at most {@code len + expansion()}).
     */
    int seal(int type, byte[] src, int off, int len, byte[] dst, int at);

    /**
     * Opens the record whose 5-byte header starts at {@code buf[off]} and whose fragment follows it;
     * the record's (inner) content type and plaintext, or a TlsException with the alert to send.
     */
    RecordLayer.Record open(byte[] buf, int off, int fragmentLength);

    /** Records sealed or opened so far. */
    long sequence();
}
