package dev.keyway.envelope;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.SessionKey;

import dev.keyway.core.kdf.Hkdf;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** Helpers shared by the envelope tests: encrypt, decrypt, and take files apart the way an attacker would. */
final class Envelopes {
    static final int MAX = Header.DEFAULT_MAX_RECIPIENTS;

    private Envelopes() {
    }

    /** What a full decrypt produced. */
    record Decrypted(Header header, byte[] plaintext, EnvelopeReader.Result result) {
    }

    /** A header field as it is on disk. */
    record Field(int type, byte[] value) {
        byte[] encode() {
            byte[] out = new byte[6 + value.length];
            out[0] = (byte) (type >>> 8);
            out[1] = (byte) type;
            System.arraycopy(Header.be32(value.length), 0, out, 2, 4);
            System.arraycopy(value, 0, out, 6, value.length);
            return out;
        }
    }

    @FunctionalInterface
    interface Action {
        void run() throws Exception;
    }

    static byte[] random(long seed, int size) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] encrypt(EnvelopeWriter writer, byte[] plaintext) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writer.encrypt(new ByteArrayInputStream(plaintext), out);
        return out.toByteArray();
    }

    /** open + unwrap + authenticate + decrypt, with the given identities. */
    static Decrypted decrypt(byte[] file, Identity... identities) throws IOException {
        EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(file), MAX);
        try (SessionKey fk = r.unwrap(List.of(identities))) {
            r.authenticate(fk);
            ByteArrayOutputStream pt = new ByteArrayOutputStream();
            EnvelopeReader.Result res = r.decrypt(fk, pt);
            return new Decrypted(r.header(), pt.toByteArray(), res);
        }
    }

    /** open + unwrapWithPassphrase + authenticate + decrypt. */
    static Decrypted decryptWithPassphrase(byte[] file, byte[] passphrase) throws IOException {
        EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(file), MAX);
        try (SessionKey fk = r.unwrapWithPassphrase(passphrase)) {
            r.authenticate(fk);
            ByteArrayOutputStream pt = new ByteArrayOutputStream();
            EnvelopeReader.Result res = r.decrypt(fk, pt);
            return new Decrypted(r.header(), pt.toByteArray(), res);
        }
    }

    /** The file key of {@code file}, found with {@code identity} (the header authenticated). */
    static SessionKey fileKey(byte[] file, Identity identity) throws IOException {
        EnvelopeReader r = EnvelopeReader.open(new ByteArrayInputStream(file), MAX);
        SessionKey fk = r.unwrap(List.of(identity));
        r.authenticate(fk);
        return fk;
    }

    static Header header(byte[] file) throws IOException {
        return EnvelopeReader.open(new ByteArrayInputStream(file), MAX).header();
    }

    /** Runs {@code action}, which must throw a KeywayException; any other outcome fails the test with {@code context}. */
    static KeywayException keywayFailure(String context, Action action) {
        try {
            action.run();
        } catch (KeywayException e) {
            return e;
        } catch (Throwable t) {
            throw new AssertionError(context + ": expected a KeywayException, got " + t, t);
        }
        return fail(context + ": expected a KeywayException, but it succeeded");
    }

    /** Like {@link #keywayFailure} and also checks the code. */
    static KeywayException expectCode(ErrorCode code, String context, Action action) {
        KeywayException e = keywayFailure(context, action);
        assertThat(e.code()).as(context + " (message: " + e.getMessage() + ")").isEqualTo(code);
        return e;
    }

    /** Outcome of one decrypt attempt, as a short string, or null when it failed with AUTH_FAILED. */
    static String unlessAuthFailed(byte[] file, Identity identity) {
        try {
            decrypt(file, identity);
            return "decrypted successfully";
        } catch (KeywayException e) {
            return e.code() == ErrorCode.AUTH_FAILED ? null : e.code() + ": " + e.getMessage();
        } catch (Throwable t) {
            return t.toString();
        }
    }

    // --- taking files apart ---

    static int headerLength(byte[] file) {
        long fieldsLength = ((file[5] & 0xffL) << 24) | ((file[6] & 0xff) << 16) | ((file[7] & 0xff) << 8) | (file[8] & 0xff);
        return (int) (Header.PREFIX_LENGTH + fieldsLength + Header.MAC_LENGTH);
    }

    /** The body (the chunks), without the header and without the signature. */
    static byte[] body(byte[] file, boolean signed) {
        return Arrays.copyOfRange(file, headerLength(file), file.length - (signed ? Stream.SIGNATURE : 0));
    }

    /** The chunks of an unsigned or signed file's body, as they are on disk. */
    static List<byte[]> chunks(byte[] file, boolean signed) {
        byte[] body = body(file, signed);
        List<byte[]> out = new ArrayList<>();
        for (int off = 0; off < body.length; off += Stream.SEALED_CHUNK) {
            out.add(Arrays.copyOfRange(body, off, Math.min(body.length, off + Stream.SEALED_CHUNK)));
        }
        return out;
    }

    static List<Field> fields(byte[] file) {
        int end = headerLength(file) - Header.MAC_LENGTH;
        List<Field> out = new ArrayList<>();
        int p = Header.PREFIX_LENGTH;
        while (p < end) {
            int type = ((file[p] & 0xff) << 8) | (file[p + 1] & 0xff);
            int len = ((file[p + 2] & 0xff) << 24) | ((file[p + 3] & 0xff) << 16) | ((file[p + 4] & 0xff) << 8) | (file[p + 5] & 0xff);
            out.add(new Field(type, Arrays.copyOfRange(file, p + 6, p + 6 + len)));
            p += 6 + len;
        }
        return out;
    }

    /** The prefix ("KWEN", version, fields_length) for {@code fields}, without MAC. */
    static byte[] headerWithoutMac(List<Field> fields) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        for (Field x : fields) {
            f.writeBytes(x.encode());
        }
        byte[] fb = f.toByteArray();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(Header.MAGIC);
        out.write(Header.VERSION);
        out.writeBytes(Header.be32(fb.length));
        out.writeBytes(fb);
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** The signature a signer makes over {@code headerAndBody}, as the format defines it. */
    static byte[] sign(Identity signer, byte[] headerAndBody) {
        return signer.sign(Stream.signedMessage(sha256(headerAndBody)));
    }

    static byte[] sha256(byte[] data) {
        MessageDigest md = Stream.sha256();
        return md.digest(data);
    }

    // --- the format, written out from docs/FORMAT.md, independently of the code under test ---

    static byte[] hkdf(SessionKey fileKey, byte[] salt, String info) {
        return Hkdf.derive(Hkdf.Hash.SHA256, salt, fileKey.bytes(), info.getBytes(StandardCharsets.US_ASCII), 32);
    }

    /** nonce_i = i as an 11-byte big-endian integer || 0x01 if last else 0x00. */
    static byte[] chunkNonce(long index, boolean last) {
        byte[] n = new byte[12];
        for (int i = 0; i < 8; i++) {
            n[3 + i] = (byte) (index >>> (56 - 8 * i));
        }
        n[11] = (byte) (last ? 1 : 0);
        return n;
    }

    /** Seals or opens one chunk with the JDK, as the format defines it. */
    static byte[] chunk(int mode, PayloadAead aead, byte[] payloadKey, long index, boolean last, byte[] input)
            throws GeneralSecurityException {
        Cipher c;
        if (aead == PayloadAead.AES_256_GCM) {
            c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(mode, new SecretKeySpec(payloadKey, "AES"), new GCMParameterSpec(128, chunkNonce(index, last)));
        } else {
            c = Cipher.getInstance("ChaCha20-Poly1305");
            c.init(mode, new SecretKeySpec(payloadKey, "ChaCha20"), new IvParameterSpec(chunkNonce(index, last)));
        }
        return c.doFinal(input);
    }

    /** A copy of {@code h} with other extensions, not yet sealed. */
    static Header withExtensions(Header h, List<Header.Extension> extensions) {
        return h.toBuilder().extensions(extensions).build();
    }

    /** A copy of {@code h} with another sender, not yet sealed. */
    static Header withSender(Header h, Recipient sender) {
        return h.withStanzas(h.stanzas(), sender);
    }
}
