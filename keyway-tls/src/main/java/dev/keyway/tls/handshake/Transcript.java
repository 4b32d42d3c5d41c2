package dev.keyway.tls.handshake;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.Prf12;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/** The handshake transcript (RFC 8446 section 4.4.1): the messages so far, hashed on demand. */
final class Transcript {
    private final ByteArrayOutputStream messages = new ByteArrayOutputStream();
    private String algorithm = "SHA-256";

    void add(byte[] raw) {
        messages.writeBytes(raw);
    }

    /** The suite's hash, once the ServerHello chose it: TLS 1.3's HKDF hash, TLS 1.2's PRF hash (the same enum value). */
    void algorithm(CipherSuite suite) {
        this.algorithm = suite.prfHash() == Prf12.Hash.SHA384 ? "SHA-384" : "SHA-256";
    }

    /** The messages themselves (TLS 1.2's CertificateVerify signs them, not their hash). */
    byte[] messages() {
        return messages.toByteArray();
    }

    byte[] hash() {
        return digest(messages.toByteArray());
    }

    /** The hash of the transcript followed by {@code extra} (a truncated ClientHello, for PSK binders). */
    byte[] hashWith(byte[] extra) {
        byte[] all = messages.toByteArray();
        byte[] joined = Arrays.copyOf(all, all.length + extra.length);
        System.arraycopy(extra, 0, joined, all.length, extra.length);
        return digest(joined);
    }

    /** After a HelloRetryRequest, ClientHello1 is replaced by message_hash(Hash(ClientHello1)). */
    void replaceWithMessageHash() {
        byte[] h = hash();
        messages.reset();
        messages.write(HandshakeIo.MESSAGE_HASH);
        messages.write(0);
        messages.write(0);
        messages.write(h.length);
        messages.writeBytes(h);
    }

    private byte[] digest(byte[] data) {
        try {
            return MessageDigest.getInstance(algorithm).digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
