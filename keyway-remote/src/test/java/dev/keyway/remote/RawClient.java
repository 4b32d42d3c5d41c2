package dev.keyway.remote;

import dev.keyway.core.identity.Identity;
import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.params.TlsException;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A remote-session client that says exactly what a test tells it to: any frame, in any order, with any payload, or
 * raw bytes; and reads the host's frames one by one. It speaks TLS through Keyway's own {@link TlsConnection} with
 * whatever certificate and key the test gives (an identity's own, another's, none), and can resume with any ticket.
 */
final class RawClient implements Closeable {
    /** How long a read waits before the test fails instead of hanging. */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(20);

    final Socket socket;
    final TlsConnection tls;
    private final InputStream in;
    private final OutputStream out;

    private RawClient(Socket socket, TlsConnection tls) {
        this.socket = socket;
        this.tls = tls;
        this.in = new BufferedInputStream(tls.getInputStream(), 64 * 1024);
        this.out = tls.getOutputStream();
    }

    /** TLS only (no HELLO) as {@code identity}, with its own certificate and key. */
    static RawClient tls(int port, X509Certificate hostCert, Identity identity, Ticket resume) throws IOException {
        KeyPair keys = RemoteKeys.signingKeyPair(identity);
        return tls(port, hostCert, List.of(RemoteKeys.clientCertificate(identity, keys)), keys.getPrivate(), resume);
    }

    /** TLS only, with any chain and key (null: no client certificate). */
    static RawClient tls(int port, X509Certificate hostCert, List<X509Certificate> chain, PrivateKey key, Ticket resume) throws IOException {
        TlsConfig.Builder b = TlsConfig.builder()
                .trustAnchors(List.of(hostCert))
                .serverName("127.0.0.1")
                .alpn(List.of(RemoteKeys.ALPN))
                .groups(List.of(NamedGroup.X25519));
        if (chain != null) {
            b.certificate(chain, key);
        }
        if (resume != null) {
            b.resumeWith(resume);
        }
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout((int) READ_TIMEOUT.toMillis());
        s.setTcpNoDelay(true);
        try {
            return new RawClient(s, TlsConnection.connect(s, b.build()));
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** TLS and a correct HELLO as {@code identity}; the WELCOME is read. */
    static RawClient authenticated(int port, X509Certificate hostCert, Identity identity) throws IOException {
        RawClient c = tls(port, hostCert, identity, null);
        c.hello(identity);
        c.expect(Frame.WELCOME);
        return c;
    }

    byte[] exporter() {
        return tls.exportKeyingMaterial(RemoteKeys.EXPORTER_LABEL, new byte[0], 32);
    }

    /** The signature a correct HELLO on this connection carries, made with {@code identity}'s key. */
    byte[] proof(Identity identity) {
        return identity.sign(RemoteKeys.proofMessage(exporter()));
    }

    void hello(Identity identity) throws IOException {
        send(Frame.HELLO, new Fields.Writer().bytes(proof(identity)).toByteArray());
    }

    void send(int type, byte[] payload) throws IOException {
        out.write(new Frame(type, payload).encode());
        out.flush();
    }

    void send(int type, Fields.Writer w) throws IOException {
        send(type, w.toByteArray());
    }

    /** Bytes as they are: a header that lies about its length, half a frame, anything. */
    void raw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    static byte[] header(int type, long length) {
        return new byte[] {(byte) type, (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
    }

    /** The next frame, PINGs included; null at the end of the connection (a clean close or a reset). */
    Frame next() throws IOException {
        try {
            return Frame.read(in);
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the host sent nothing for " + READ_TIMEOUT.toSeconds() + " s", e);
        } catch (IOException | RuntimeException e) {
            if (e instanceof TlsException t) {
                throw t;
            }
            if (e instanceof EOFException || e instanceof SocketException) {
                return null;
            }
            throw e;
        }
    }

    /** The next frame that is not a PING. */
    Frame nextNonPing() throws IOException {
        while (true) {
            Frame f = next();
            if (f == null || f.type() != Frame.PING) {
                return f;
            }
        }
    }

    /** The next frame (not PING), which must be {@code type}. */
    Frame expect(int type) throws IOException {
        Frame f = nextNonPing();
        if (f == null) {
            throw new AssertionError("the host closed the connection; expected frame type " + type);
        }
        if (f.type() != type) {
            throw new AssertionError("expected frame type " + type + ", got " + describe(f));
        }
        return f;
    }

    /** The next frame must be an ERROR: returns its code and message. */
    HostError expectError() throws IOException {
        Frame f = expect(Frame.ERROR);
        Fields.Reader r = f.reader();
        return new HostError(r.u8(), r.str(), r.str());
    }

    record HostError(int code, String message, String hint) {
    }

    static String describe(Frame f) {
        if (f.type() == Frame.ERROR) {
            Fields.Reader r = f.reader();
            return "ERROR " + r.u8() + " " + r.str();
        }
        return "frame " + f.type() + " (" + f.payload().length + " bytes)";
    }

    /** Reads and drops frames until the host closes; true if it closed within {@code d}. */
    boolean closesWithin(Duration d) throws IOException {
        long deadline = System.nanoTime() + d.toNanos();
        socket.setSoTimeout(200);
        try {
            while (System.nanoTime() < deadline) {
                try {
                    if (Frame.read(in) == null) {
                        return true;
                    }
                } catch (SocketTimeoutException e) {
                    // keep waiting
                } catch (EOFException | SocketException | TlsException e) {
                    return true;
                }
            }
            return false;
        } finally {
            if (!socket.isClosed()) {
                socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
            }
        }
    }

    // ---- requests, as the real client sends them, for tests that need a working session around an attack

    String open(String name, String config) throws IOException {
        send(Frame.OPEN, new Fields.Writer().str(name).str(config));
        return sessionId(expect(Frame.SESSION));
    }

    String attach(String id, boolean connect) throws IOException {
        send(Frame.ATTACH, new Fields.Writer().str(id).u8(connect ? 1 : 0));
        return sessionId(expect(Frame.SESSION));
    }

    private static String sessionId(Frame f) {
        return f.reader().str();
    }

    /** What a RUN came to: its status, its output, and what else the host sent meanwhile. */
    record Ran(int exit, String out, String err) {
    }

    static Fields.Writer runPayload(List<String> words, List<String> env, boolean stdin) {
        return new Fields.Writer().strs(words).strs(env).u8(stdin ? 1 : 0);
    }

    /** A RUN of one shell line (or argv) without stdin, to its EXIT. */
    Ran run(String... words) throws IOException {
        send(Frame.RUN, runPayload(List.of(words), List.of(), false));
        send(Frame.STDIN_END, new byte[0]);
        return collect();
    }

    /** The OUT/ERR frames up to the EXIT of the RUN in progress. */
    Ran collect() throws IOException {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        while (true) {
            Frame f = expectAny(Frame.OUT, Frame.ERR, Frame.EXIT, Frame.CREDIT);
            switch (f.type()) {
                case Frame.OUT -> o.writeBytes(f.payload());
                case Frame.ERR -> e.writeBytes(f.payload());
                case Frame.EXIT -> {
                    int status = (int) f.reader().u32();
                    return new Ran(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
                }
                default -> {
                }
            }
        }
    }

    /** The next non-PING frame, which must be one of {@code types} (an ERROR fails the test with its text). */
    Frame expectAny(int... types) throws IOException {
        Frame f = nextNonPing();
        if (f == null) {
            throw new AssertionError("the host closed the connection");
        }
        for (int t : types) {
            if (f.type() == t) {
                return f;
            }
        }
        throw new AssertionError("unexpected " + describe(f));
    }

    String startJob(String... words) throws IOException {
        send(Frame.START_JOB, new Fields.Writer().strs(List.of(words)).strs(List.of()));
        return expect(Frame.JOB).reader().str();
    }

    /** Session ids the host lists for this identity. */
    List<String> list() throws IOException {
        send(Frame.LIST, new byte[0]);
        Fields.Reader r = expect(Frame.LISTING).reader();
        long n = r.u32();
        ArrayList<String> ids = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            ids.add(r.str());
            r.str();
            r.str();
            r.str();
            r.str();
            r.i64();
            r.u32();
            r.u32();
        }
        r.end();
        return ids;
    }

    @Override
    public void close() {
        try {
            tls.close();
        } catch (IOException | RuntimeException ignored) {
            // closing
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
