package dev.keyway.tls;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.core.kdf.KeyBlock12;
import dev.keyway.core.kdf.Prf12;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.record.RecordLayer;
import dev.keyway.tls.record.RecordProtection12;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A TLS 1.2 client written out by hand for tests (RFC 5246 section 7.3): it builds ClientHellos byte by byte
 * (so a test can leave out an extension or break a field Keyway's own client never would) and can drive a whole
 * full handshake against a server {@link TlsEngine}, deriving the master secret itself, with or without the
 * extended master secret (RFC 7627). The record protection and PRF come from Keyway (tested on their own against
 * RFC vectors); the message flow, what goes into the transcript and which master secret is derived are this
 * class's own.
 */
final class RawTls12Client {
    static final int CHANGE_CIPHER_SPEC = 20;
    static final int ALERT = 21;
    static final int HANDSHAKE = 22;
    static final int APPLICATION_DATA = 23;
    static final int EXT_SERVER_NAME = 0;
    static final int EXT_SUPPORTED_GROUPS = 10;
    static final int EXT_EC_POINT_FORMATS = 11;
    static final int EXT_SIGNATURE_ALGORITHMS = 13;
    static final int EXT_EXTENDED_MASTER_SECRET = 23;
    static final int EXT_SESSION_TICKET = 35;
    static final int EXT_RENEGOTIATION_INFO = 0xff01;
    private static final SecureRandom RANDOM = new SecureRandom();

    // ---- building bytes ----

    static byte[] u16(int v) {
        return new byte[] {(byte) (v >> 8), (byte) v};
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] vec8(byte[] b) {
        return concat(new byte[] {(byte) b.length}, b);
    }

    static byte[] vec16(byte[] b) {
        return concat(u16(b.length), b);
    }

    static byte[] vec24(byte[] b) {
        return concat(new byte[] {(byte) (b.length >> 16), (byte) (b.length >> 8), (byte) b.length}, b);
    }

    static byte[] ext(int type, byte[] data) {
        return concat(u16(type), vec16(data));
    }

    static byte[] u16s(int... values) {
        byte[] out = new byte[2 * values.length];
        for (int i = 0; i < values.length; i++) {
            out[2 * i] = (byte) (values[i] >> 8);
            out[2 * i + 1] = (byte) values[i];
        }
        return out;
    }

    /** What a plain modern TLS 1.2 client sends besides EMS: renegotiation_info, x25519 and P-256, uncompressed points, SHA-256 signatures. */
    static List<byte[]> basicExtensions() {
        return new ArrayList<>(List.of(
                ext(EXT_RENEGOTIATION_INFO, new byte[] {0}),
                ext(EXT_SUPPORTED_GROUPS, vec16(u16s(0x001D, 0x0017))),
                ext(EXT_EC_POINT_FORMATS, vec8(new byte[] {0})),
                ext(EXT_SIGNATURE_ALGORITHMS, vec16(u16s(0x0804, 0x0403, 0x0401)))));
    }

    static byte[] handshake(int type, byte[] body) {
        return concat(new byte[] {(byte) type}, vec24(body));
    }

    /** A ClientHello handshake message: version 0x0303, the null compression method, the extensions in order. */
    static byte[] clientHello(byte[] random, byte[] sessionId, int[] suites, List<byte[]> extensions) {
        return clientHello(0x0303, random, sessionId, suites, extensions);
    }

    /** As above with {@code clientVersion} as ClientHello.client_version (legacy_version). */
    static byte[] clientHello(int clientVersion, byte[] random, byte[] sessionId, int[] suites, List<byte[]> extensions) {
        return handshake(1, concat(u16(clientVersion), random, vec8(sessionId), vec16(u16s(suites)), vec8(new byte[] {0}),
                vec16(concat(extensions.toArray(new byte[0][])))));
    }

    static byte[] record(int type, byte[] fragment) {
        return concat(new byte[] {(byte) type, 3, 3}, u16(fragment.length), fragment);
    }

    // ---- reading bytes ----

    record Record(int type, byte[] fragment) {
    }

    /** The records in {@code wire}, as framed (protected ones stay sealed). */
    static List<Record> records(byte[] wire) {
        List<Record> out = new ArrayList<>();
        int at = 0;
        while (at + 5 <= wire.length) {
            int length = ((wire[at + 3] & 0xff) << 8) | (wire[at + 4] & 0xff);
            out.add(new Record(wire[at] & 0xff, Arrays.copyOfRange(wire, at + 5, at + 5 + length)));
            at += 5 + length;
        }
        if (at != wire.length) {
            throw new AssertionError("a partial record in the server's output");
        }
        return out;
    }

    /** The unprotected alert the server sent last in {@code wire}, as level and description, or null. */
    static int[] alert(byte[] wire) {
        int[] last = null;
        for (Record r : records(wire)) {
            if (r.type() == ALERT && r.fragment().length == 2) {
                last = new int[] {r.fragment()[0] & 0xff, r.fragment()[1] & 0xff};
            }
        }
        return last;
    }

    record Message(int type, byte[] body, byte[] raw) {
    }

    /** The handshake messages in the unprotected handshake records of {@code records}. */
    static List<Message> messages(List<Record> records) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (Record r : records) {
            if (r.type() == HANDSHAKE) {
                all.writeBytes(r.fragment());
            }
        }
        byte[] b = all.toByteArray();
        List<Message> out = new ArrayList<>();
        int at = 0;
        while (at + 4 <= b.length) {
            int length = ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
            out.add(new Message(b[at] & 0xff, Arrays.copyOfRange(b, at + 4, at + 4 + length), Arrays.copyOfRange(b, at, at + 4 + length)));
            at += 4 + length;
        }
        return out;
    }

    /** A ServerHello's fields (RFC 5246 section 7.4.1.3). */
    record ServerHello(byte[] random, byte[] sessionId, int suite, Map<Integer, byte[]> extensions) {
        static ServerHello parse(byte[] body) {
            int at = 2;
            byte[] random = Arrays.copyOfRange(body, at, at + 32);
            at += 32;
            byte[] sid = Arrays.copyOfRange(body, at + 1, at + 1 + (body[at] & 0xff));
            at += 1 + sid.length;
            int suite = ((body[at] & 0xff) << 8) | (body[at + 1] & 0xff);
            at += 3;
            Map<Integer, byte[]> ext = new LinkedHashMap<>();
            if (at < body.length) {
                at += 2;
                while (at < body.length) {
                    int type = ((body[at] & 0xff) << 8) | (body[at + 1] & 0xff);
                    int len = ((body[at + 2] & 0xff) << 8) | (body[at + 3] & 0xff);
                    ext.put(type, Arrays.copyOfRange(body, at + 4, at + 4 + len));
                    at += 4 + len;
                }
            }
            return new ServerHello(random, sid, suite, ext);
        }
    }

    static byte[] take(TlsEngine e) {
        byte[] out = new byte[e.outputLength()];
        e.takeOutput(out, 0, out.length);
        return out;
    }

    // ---- a whole handshake ----

    private final TlsEngine server;
    private final boolean extendedMasterSecret;
    final byte[] clientRandom = new byte[32];
    private final ByteArrayOutputStream transcript = new ByteArrayOutputStream();
    ServerHello serverHello;
    CipherSuite suite;
    byte[] masterSecret;
    private RecordProtection12 write;
    private RecordProtection12 read;
    /** The version an RSA pre-master secret starts with: ClientHello.client_version (RFC 5246 section 7.4.7.1). */
    int preMasterVersion = 0x0303;
    /** Rewrites the ClientKeyExchange body before it is sent (a test's malformed key exchange). */
    java.util.function.UnaryOperator<byte[]> keyExchangeRewrite = x -> x;

    /** A client for {@code server} that offers the extended master secret or not. */
    RawTls12Client(TlsEngine server, boolean extendedMasterSecret) {
        this.server = server;
        this.extendedMasterSecret = extendedMasterSecret;
        RANDOM.nextBytes(clientRandom);
    }

    /** The ClientHello this client sends: {@code suites}, the basic extensions, EMS when asked for, and {@code sessionId}. */
    byte[] hello(byte[] sessionId, int... suites) {
        List<byte[]> ext = basicExtensions();
        if (extendedMasterSecret) {
            ext.add(ext(EXT_EXTENDED_MASTER_SECRET, new byte[0]));
        }
        return clientHello(clientRandom, sessionId, suites, ext);
    }

    /** Sends {@code clientHello} and returns what the server answered (its first flight, or an alert). */
    byte[] sendHello(byte[] clientHello) {
        transcript.writeBytes(clientHello);
        server.receive(record(HANDSHAKE, clientHello), 0, clientHello.length + 5);
        return take(server);
    }

    /**
     * A full handshake after {@link #sendHello}'s answer {@code flight}: ClientKeyExchange (ECDHE or RSA key
     * transport as the suite says), ChangeCipherSpec and Finished; then the server's ChangeCipherSpec and
     * Finished are checked against the master secret this class derived.
     */
    void finish(byte[] flight) throws Exception {
        List<Message> msgs = messages(records(flight));
        serverHello = ServerHello.parse(msgs.get(0).body());
        suite = CipherSuites.byCode(serverHello.suite());
        X509Certificate leaf = null;
        byte[] preMaster = null;
        byte[] keyExchange = null;
        for (Message m : msgs) {
            transcript.writeBytes(m.raw());
            if (m.type() == 11) {
                byte[] der = Arrays.copyOfRange(m.body(), 6, 6 + (((m.body()[3] & 0xff) << 16) | ((m.body()[4] & 0xff) << 8) | (m.body()[5] & 0xff)));
                leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
            } else if (m.type() == 12) {
                // ServerECDHParams: curve_type named_curve(3), the group, the point (RFC 8422 section 5.4); the signature is not checked here
                int group = ((m.body()[1] & 0xff) << 8) | (m.body()[2] & 0xff);
                byte[] point = Arrays.copyOfRange(m.body(), 4, 4 + (m.body()[3] & 0xff));
                NamedGroup.ClientShare share = NamedGroup.ofCode(group).generate();
                preMaster = share.finish(point);
                keyExchange = vec8(share.keyExchange());
            }
        }
        if (preMaster == null) {
            preMaster = new byte[48];
            RANDOM.nextBytes(preMaster);
            preMaster[0] = (byte) (preMasterVersion >> 8);
            preMaster[1] = (byte) preMasterVersion;
            javax.crypto.Cipher rsa = javax.crypto.Cipher.getInstance("RSA/ECB/PKCS1Padding");
            rsa.init(javax.crypto.Cipher.ENCRYPT_MODE, leaf.getPublicKey());
            keyExchange = vec16(rsa.doFinal(preMaster));
        }
        byte[] cke = handshake(16, keyExchangeRewrite.apply(keyExchange));
        transcript.writeBytes(cke);
        Prf12.Hash hash = suite.prfHash();
        String jca = hash == Prf12.Hash.SHA384 ? "SHA-384" : "SHA-256";
        masterSecret = extendedMasterSecret
                ? Prf12.extendedMasterSecret(hash, preMaster, MessageDigest.getInstance(jca).digest(transcript.toByteArray()))
                : Prf12.masterSecret(hash, preMaster, clientRandom, serverHello.random());
        KeyBlock12 keys = Prf12.keyBlock(suite, TlsVersion.TLS12, masterSecret, clientRandom, serverHello.random());
        write = new RecordProtection12(suite, keys.clientKey(), keys.clientIv(), keys.clientMacKey());
        read = new RecordProtection12(suite, keys.serverKey(), keys.serverIv(), keys.serverMacKey());
        byte[] finished = handshake(20, Prf12.verifyData(hash, masterSecret, true, MessageDigest.getInstance(jca).digest(transcript.toByteArray())));
        transcript.writeBytes(finished);
        byte[] out = concat(record(HANDSHAKE, cke), record(CHANGE_CIPHER_SPEC, new byte[] {1}), seal(HANDSHAKE, finished));
        server.receive(out, 0, out.length);
        List<Record> answer = records(take(server));
        int ccs = -1;
        for (int i = 0; i < answer.size(); i++) {
            if (answer.get(i).type() == CHANGE_CIPHER_SPEC) {
                ccs = i;
            } else if (ccs < 0 && answer.get(i).type() == HANDSHAKE) {
                transcript.writeBytes(answer.get(i).fragment()); // NewSessionTicket
            }
        }
        if (ccs < 0 || ccs + 1 >= answer.size()) {
            throw new AssertionError("the server sent no ChangeCipherSpec and Finished: " + answer.size() + " records");
        }
        byte[] serverFinished = open(answer.get(ccs + 1));
        byte[] expected = handshake(20, Prf12.verifyData(hash, masterSecret, false, MessageDigest.getInstance(jca).digest(transcript.toByteArray())));
        if (!Arrays.equals(serverFinished, expected)) {
            throw new AssertionError("the server's Finished does not verify under the master secret the client derived");
        }
    }

    /** One protected record of {@code type} with {@code content}, sealed under the client's write keys. */
    byte[] seal(int type, byte[] content) {
        byte[] out = new byte[content.length + write.expansion()];
        int n = write.seal(type, content, 0, content.length, out, 0);
        return Arrays.copyOf(out, n);
    }

    /** The plaintext of one of the server's protected records. */
    byte[] open(Record r) {
        byte[] whole = record(r.type(), r.fragment());
        RecordLayer.Record opened = read.open(whole, 0, r.fragment().length);
        return opened.data();
    }
}
