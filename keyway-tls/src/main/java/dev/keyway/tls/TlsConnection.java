package dev.keyway.tls;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.keylog.KeyLog;
import dev.keyway.tls.handshake.Alerts;
import dev.keyway.tls.handshake.ClientHandshake13;
import dev.keyway.tls.handshake.HandshakeResult;
import dev.keyway.tls.handshake.NamedGroup;
import dev.keyway.tls.handshake.PostHandshake;
import dev.keyway.tls.handshake.ServerHandshake13;
import dev.keyway.tls.record.RecordLayer;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;

/**
 * A TLS 1.3 connection over a socket, after its handshake: blocking streams for application data, the
 * negotiated parameters, KeyUpdate both ways, the keying-material exporter, close_notify. A fatal error
 * sends its alert and closes the socket.
 */
public final class TlsConnection implements Closeable {
    private final Socket socket;
    private final RecordLayer records;
    private final HandshakeResult session;
    private final PostHandshake post;
    private final boolean client;
    private final Object writeLock = new Object();
    private byte[] pending = new byte[0];
    private int pendingAt;
    private boolean peerClosed;
    private boolean closed;

    private final boolean exposeSecrets;

    /** The first application traffic secrets of both directions (RFC 8446 section 7.1), as the key log has them. */
    public record TrafficSecrets(byte[] clientRandom, byte[] client, byte[] server) {
        @Override
        public String toString() {
            return "TrafficSecrets[" + client.length * 8 + "-bit]";
        }
    }

    private TlsConnection(Socket socket, RecordLayer records, HandshakeResult session, boolean client, KeyLog keyLog, boolean exposeSecrets,
                          java.time.Clock clock) {
        this.exposeSecrets = exposeSecrets;
        this.socket = socket;
        this.records = records;
        this.session = session;
        this.client = client;
        this.post = new PostHandshake(records, session, client, keyLog, clock);
    }

    /** Runs the client handshake over {@code socket} and returns the connection. */
    public static TlsConnection connect(Socket socket, TlsConfig config) throws IOException {
        return handshake(socket, config, true);
    }

    /** Runs the server handshake over an accepted {@code socket} and returns the connection. */
    public static TlsConnection accept(Socket socket, TlsConfig config) throws IOException {
        return handshake(socket, config, false);
    }

    /** A failed handshake sends its alert (unless the peer sent one) and closes the socket. */
    private static TlsConnection handshake(Socket socket, TlsConfig config, boolean client) throws IOException {
        RecordLayer records = new RecordLayer(new BufferedInputStream(socket.getInputStream(), 16_640),
                new BufferedOutputStream(socket.getOutputStream(), 16_640));
        try {
            HandshakeResult r = client ? new ClientHandshake13(config, records).run() : new ServerHandshake13(config, records).run();
            return new TlsConnection(socket, records, r, client, config.keyLog(), config.exposeTrafficSecrets(), config.clock());
        } catch (TlsException e) {
            fail(records, socket, e);
            throw e;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private static void fail(RecordLayer records, Socket socket, TlsException e) throws IOException {
        if (!e.received() && e.alert() != null) {
            records.sendAlert(e.alert());
        }
        socket.close();
    }

    /** After the handshake: the alert goes out under the write lock, so it cannot interleave with a writer's record. */
    private void fail(TlsException e) throws IOException {
        synchronized (writeLock) {
            closed = true;
            fail(records, socket, e);
        }
    }

    public String version() {
        return "TLSv1.3";
    }

    public CipherSuite suite() {
        return session.suite();
    }

    /** The key-exchange group, or null for a PSK-only resumption. */
    public NamedGroup group() {
        return session.group();
    }

    public boolean resumed() {
        return session.resumed();
    }

    public String alpn() {
        return session.alpn();
    }

    public List<X509Certificate> peerCertificates() {
        return session.peerCertificates();
    }

    /** Tickets the server sent on this connection, for resumption later (client side). */
    public List<dev.keyway.tls.handshake.Ticket> tickets() {
        return post.tickets();
    }

    /**
     * The connection's first application traffic secrets, when the config allowed it
     * ({@link TlsConfig.Builder#exposeTrafficSecrets}); the same values a key log gets.
     */
    public TrafficSecrets trafficSecrets() {
        if (!exposeSecrets) {
            throw new IllegalStateException("traffic secrets are not exposed: enable TlsConfig.Builder.exposeTrafficSecrets");
        }
        return new TrafficSecrets(session.clientRandom().clone(), session.clientTrafficSecret().clone(), session.serverTrafficSecret().clone());
    }

    /** RFC 8446 section 7.5: TLS-Exporter(label, context, length). */
    public byte[] exportKeyingMaterial(String label, byte[] context, int length) {
        return session.schedule().exporter(session.exporterMasterSecret(), label, context, length);
    }

    /** One line for humans: version, suite, group, resumed or not. */
    public String summary() {
        return version() + ", " + suite().name() + ", " + (group() == null ? "psk_ke" : group().label())
                + (resumed() ? ", resumed" : ", full handshake") + (alpn() == null ? "" : ", ALPN " + alpn());
    }

    /** Sends a KeyUpdate and switches our write keys; with {@code requestPeer} the peer updates too. */
    public void keyUpdate(boolean requestPeer) throws IOException {
        synchronized (writeLock) {
            post.sendKeyUpdate(requestPeer);
        }
    }

    /** Reads the next application bytes; -1 after the peer's close_notify. */
    private int fill() throws IOException {
        while (pendingAt == pending.length) {
            if (peerClosed) {
                return -1;
            }
            RecordLayer.Record r;
            try {
                r = records.read();
            } catch (TlsException e) {
                fail(e);
                throw e;
            }
            if (r == null) {
                throw new EOFException("the peer closed the connection without close_notify (truncation?)");
            }
            switch (r.type()) {
                case RecordLayer.APPLICATION_DATA -> {
                    pending = r.data();
                    pendingAt = 0;
                }
                case RecordLayer.ALERT -> {
                    if (r.data().length == 2 && r.data()[1] == 0) {
                        peerClosed = true;
                    } else {
                        TlsException e = Alerts.received(r.data());
                        fail(e);
                        throw e;
                    }
                }
                case RecordLayer.HANDSHAKE -> {
                    try {
                        synchronized (writeLock) {
                            post.handle(r.data());
                        }
                    } catch (TlsException e) {
                        fail(e);
                        throw e;
                    }
                }
                default -> {
                    TlsException e = TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "record type " + r.type() + " after the handshake");
                    fail(e);
                    throw e;
                }
            }
        }
        return pending.length - pendingAt;
    }

    private final InputStream in = new InputStream() {
        @Override
        public int read() throws IOException {
            return fill() < 0 ? -1 : pending[pendingAt++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            int n = fill();
            if (n < 0) {
                return -1;
            }
            n = Math.min(n, len);
            System.arraycopy(pending, pendingAt, b, off, n);
            pendingAt += n;
            return n;
        }

        @Override
        public int available() {
            return pending.length - pendingAt;
        }
    };

    private final OutputStream out = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return;
            }
            synchronized (writeLock) {
                if (closed) {
                    throw new IOException("the TLS connection is closed");
                }
                records.write(RecordLayer.APPLICATION_DATA, Arrays.copyOfRange(b, off, off + len));
            }
        }

        @Override
        public void close() throws IOException {
            TlsConnection.this.shutdownOutput();
        }
    };

    public InputStream getInputStream() {
        return in;
    }

    public OutputStream getOutputStream() {
        return out;
    }

    /** Sends close_notify; reading goes on until the peer's. */
    public void shutdownOutput() {
        synchronized (writeLock) {
            if (!closed) {
                closed = true;
                records.sendAlert(Alert.CLOSE_NOTIFY);
            }
        }
    }

    public boolean isClient() {
        return client;
    }

    /** Sends close_notify (if not yet) and closes the socket. */
    @Override
    public void close() throws IOException {
        shutdownOutput();
        socket.close();
    }
}
