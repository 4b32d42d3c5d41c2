package dev.keyway.tls;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.KeySchedule13;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.NamedGroup;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A TLS 1.3 client played by hand against a server {@link TlsEngine}, for conformance tests that must send what
 * a real client never would (RFC 8446 violations, as tlsfuzzer does). The ClientHello starts as a Keyway
 * client's and is edited field by field ({@link Hello}); the server's key log gives the secrets, so a test can
 * seal records under the client's handshake and application keys and compute a Finished that verifies.
 * TLS_AES_128_GCM_SHA256 only.
 */
final class HandClient {
    static final CipherSuite SUITE = CipherSuites.byCode(0x1301);
    static final KeySchedule13 KS = KeySchedule13.of(SUITE);

    final TlsEngine server;
    private final Map<String, byte[]> secrets = new ConcurrentHashMap<>();
    private final List<byte[]> transcript = new ArrayList<>();
    private RecordCrypto handshakeSealer;
    private RecordCrypto applicationSealer;

    /** A server engine built from {@code server} with a key log this client reads its secrets from. */
    HandClient(TlsConfig.Builder server) {
        this.server = TlsEngine.server(server.suites(List.of(SUITE)).keyLog((label, random, secret) -> secrets.put(label, secret.clone())).build());
    }

    /** A Keyway client's ClientHello (x25519 share, middlebox session id), to edit. */
    static Hello keywayHello(List<NamedGroup> groups) {
        TlsEngine c = TlsEngine.client(TlsConfig.builder().insecure(true).serverName("localhost").groups(groups)
                .suites(List.of(SUITE)).build());
        byte[] out = new byte[c.outputLength()];
        c.takeOutput(out, 0, out.length);
        return Hello.parse(Arrays.copyOfRange(out, 5, out.length));
    }

    static Hello keywayHello() {
        return keywayHello(List.of(NamedGroup.X25519, NamedGroup.SECP256R1));
    }

    // ---- to the server ----

    /** {@code body} as one unprotected record of {@code type}. */
    static byte[] plain(int type, byte[] body) {
        byte[] r = new byte[5 + body.length];
        r[0] = (byte) type;
        r[1] = 3;
        r[2] = 3;
        r[3] = (byte) (body.length >> 8);
        r[4] = (byte) body.length;
        System.arraycopy(body, 0, r, 5, body.length);
        return r;
    }

    void send(byte[]... records) {
        for (byte[] r : records) {
            server.receive(r, 0, r.length);
        }
    }

    /** Sends the hello (it joins the transcript) in one plaintext record. */
    void sendHello(Hello h) {
        byte[] m = h.encode();
        transcript.add(m);
        send(plain(22, m));
    }

    /** After the ServerHello: {@code content} of {@code type} plus {@code padding} zeros, under the client's handshake keys. */
    byte[] sealHandshakeKeys(byte[] content, int type, int padding) {
        if (handshakeSealer == null) {
            handshakeSealer = RecordCrypto.of(SUITE, secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET"));
        }
        return handshakeSealer.seal(RecordCrypto.inner(content, type, padding));
    }

    /** After our Finished: a record under the client's first application keys. */
    byte[] sealApplicationKeys(byte[] content, int type, int padding) {
        if (applicationSealer == null) {
            applicationSealer = RecordCrypto.of(SUITE, secret("CLIENT_TRAFFIC_SECRET_0"));
        }
        return applicationSealer.seal(RecordCrypto.inner(content, type, padding));
    }

    // ---- from the server ----

    /** Everything the server queued. */
    byte[] takeOutput() {
        byte[] b = new byte[server.outputLength()];
        server.takeOutput(b, 0, b.length);
        return b;
    }

    /**
     * Reads the server's first flight from its output: the ServerHello in the clear, its ChangeCipherSpec, and the
     * encrypted messages up to Finished, which join the transcript. Returns the handshake message types seen.
     */
    List<Integer> readServerFlight() {
        byte[] out = takeOutput();
        RecordCrypto opener = null;
        List<Integer> types = new ArrayList<>();
        for (int at = 0; at < out.length; ) {
            int type = out[at] & 0xff;
            int len = ((out[at + 3] & 0xff) << 8) | (out[at + 4] & 0xff);
            byte[] record = Arrays.copyOfRange(out, at, at + 5 + len);
            at += 5 + len;
            byte[] content;
            if (type == 22) {
                content = Arrays.copyOfRange(record, 5, record.length);
            } else if (type == 23) {
                if (opener == null) {
                    opener = RecordCrypto.of(SUITE, secret("SERVER_HANDSHAKE_TRAFFIC_SECRET"));
                }
                byte[] inner = opener.open(record);
                assertThat(inner).as("a server record under its handshake keys").isNotNull();
                int end = inner.length - 1;
                while (inner[end] == 0) {
                    end--;
                }
                assertThat(inner[end]).as("inner content type").isEqualTo((byte) 22);
                content = Arrays.copyOf(inner, end);
            } else {
                continue; // the middlebox ChangeCipherSpec
            }
            for (int m = 0; m < content.length; ) {
                int mlen = ((content[m + 1] & 0xff) << 16) | ((content[m + 2] & 0xff) << 8) | (content[m + 3] & 0xff);
                transcript.add(Arrays.copyOfRange(content, m, m + 4 + mlen));
                types.add(content[m] & 0xff);
                m += 4 + mlen;
            }
        }
        return types;
    }

    /** The client's Finished message (header included) over the transcript so far. */
    byte[] finished() {
        byte[] verify = KS.finishedVerifyData(secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET"), KS.transcriptHash(transcript.toArray(new byte[0][])));
        return message(20, verify);
    }

    /** A whole handshake: hello, the server's flight, our Finished; the server's output after it is dropped. */
    void handshake() {
        sendHello(keywayHello());
        readServerFlight();
        send(sealHandshakeKeys(finished(), 22, 0));
        assertThat(server.isHandshakeComplete()).isTrue();
        takeOutput();
    }

    byte[] secret(String label) {
        byte[] s = secrets.get(label);
        assertThat(s).as(label + " in the server's key log").isNotNull();
        return s;
    }

    static byte[] message(int type, byte[] body) {
        byte[] m = new byte[4 + body.length];
        m[0] = (byte) type;
        m[1] = (byte) (body.length >> 16);
        m[2] = (byte) (body.length >> 8);
        m[3] = (byte) body.length;
        System.arraycopy(body, 0, m, 4, body.length);
        return m;
    }

    /** A ClientHello taken apart: every field can be changed, extensions kept in order. */
    static final class Hello {
        int legacyVersion;
        byte[] random;
        byte[] sessionId;
        byte[] suites;
        byte[] compression;
        final List<Extension> extensions = new ArrayList<>();

        record Extension(int type, byte[] data) {
        }

        static Hello parse(byte[] message) {
            assertThat(message[0]).isEqualTo((byte) 1);
            Reader r = new Reader(Arrays.copyOfRange(message, 4, message.length));
            Hello h = new Hello();
            h.legacyVersion = r.u16();
            h.random = r.bytes(32);
            h.sessionId = r.bytes(r.u8());
            h.suites = r.bytes(r.u16());
            h.compression = r.bytes(r.u8());
            Reader ext = new Reader(r.bytes(r.u16()));
            while (ext.remaining() > 0) {
                int type = ext.u16();
                h.extensions.add(new Extension(type, ext.bytes(ext.u16())));
            }
            return h;
        }

        Hello copy() {
            return parse(encode());
        }

        byte[] get(int type) {
            return extensions.stream().filter(e -> e.type() == type).map(Extension::data).findFirst().orElse(null);
        }

        /** Replaces the extension in place, or adds it at the end. */
        Hello put(int type, byte[] data) {
            for (int i = 0; i < extensions.size(); i++) {
                if (extensions.get(i).type() == type) {
                    extensions.set(i, new Extension(type, data));
                    return this;
                }
            }
            extensions.add(new Extension(type, data));
            return this;
        }

        Hello remove(int type) {
            extensions.removeIf(e -> e.type() == type);
            return this;
        }

        byte[] encode() {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            b.write(legacyVersion >> 8);
            b.write(legacyVersion);
            b.writeBytes(random);
            b.write(sessionId.length);
            b.writeBytes(sessionId);
            u16(b, suites.length);
            b.writeBytes(suites);
            b.write(compression.length);
            b.writeBytes(compression);
            ByteArrayOutputStream ext = new ByteArrayOutputStream();
            for (Extension e : extensions) {
                u16(ext, e.type());
                u16(ext, e.data().length);
                ext.writeBytes(e.data());
            }
            u16(b, ext.size());
            b.writeBytes(ext.toByteArray());
            return message(1, b.toByteArray());
        }
    }

    /** A key_share extension holding one share of {@code group}. */
    static byte[] keyShare(NamedGroup group) {
        byte[] share = group.generate().keyExchange();
        ByteArrayOutputStream entry = new ByteArrayOutputStream();
        u16(entry, group.code());
        u16(entry, share.length);
        entry.writeBytes(share);
        return vec16(entry.toByteArray());
    }

    static byte[] vec16(byte[] data) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        u16(b, data.length);
        b.writeBytes(data);
        return b.toByteArray();
    }

    static void u16(ByteArrayOutputStream b, int v) {
        b.write(v >> 8);
        b.write(v);
    }

    private static final class Reader {
        private final byte[] data;
        private int at;

        Reader(byte[] data) {
            this.data = data;
        }

        int remaining() {
            return data.length - at;
        }

        int u8() {
            return data[at++] & 0xff;
        }

        int u16() {
            return (u8() << 8) | u8();
        }

        byte[] bytes(int n) {
            byte[] b = Arrays.copyOfRange(data, at, at + n);
            at += n;
            return b;
        }
    }
}
