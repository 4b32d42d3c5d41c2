package dev.keyway.tls;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordLayer;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A TLS connection over a blocking socket: a {@link TlsEngine} driven by socket reads and writes, with
 * streams for application data, the negotiated parameters, KeyUpdate, the exporter and close_notify. Each
 * flight goes out in one socket write. A fatal error sends its alert and closes the socket. One thread may
 * read while another writes.
 */
public final class TlsConnection implements Closeable {
    /** Largest application write sealed before the socket gets it: bounds the memory a huge write takes. */
    private static final int WRITE_CHUNK = 4 * RecordLayer.MAX_FRAGMENT;

    private final Socket socket;
    private final TlsEngine engine;
    private final InputStream net;
    private final OutputStream netOut;
    /** Held while engine output goes to the socket, so bytes leave in the order they were sealed. */
    private final ReentrantLock sendLock = new ReentrantLock();
    private final Object readLock = new Object();
    private final byte[] readBuffer = new byte[RecordLayer.HEADER + RecordLayer.MAX_FRAGMENT + 256];

    private TlsConnection(Socket socket, TlsEngine engine) throws IOException {
        this.socket = socket;
        this.engine = engine;
        this.net = socket.getInputStream();
        this.netOut = socket.getOutputStream();
    }

    /** Runs the client handshake over {@code socket} and returns the connection. */
    public static TlsConnection connect(Socket socket, TlsConfig config) throws IOException {
        return handshake(socket, TlsEngine.client(config));
    }

    /** Runs the server handshake over an accepted {@code socket} and returns the connection. */
    public static TlsConnection accept(Socket socket, TlsConfig config) throws IOException {
        return handshake(socket, TlsEngine.server(config));
    }

    /** A failed handshake sends its alert (unless the peer sent one) and closes the socket. */
    private static TlsConnection handshake(Socket socket, TlsEngine engine) throws IOException {
        TlsConnection c;
        try {
            c = new TlsConnection(socket, engine);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
        try {
            c.send();
            while (!engine.isHandshakeComplete()) {
                c.receiveOnce();
                c.send(); // each flight in one write: a HelloRetryRequest's answer, the server's flight, the client's last
            }
            return c;
        } catch (TlsException e) {
            c.failed();
            throw e;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** One socket read into the engine; at end of stream the engine says what that means. */
    private void receiveOnce() throws IOException {
        int n = net.read(readBuffer);
        if (n < 0) {
            engine.receiveEnd();
            return;
        }
        engine.receive(readBuffer, 0, n);
    }

    /** Writes everything the engine has queued; the caller holds sendLock. */
    private void drain() throws IOException {
        while (engine.outputLength() > 0) {
            RecordLayer.Output o = engine.swapOutput();
            netOut.write(o.bytes(), o.offset(), o.length());
            engine.recycle(o.bytes());
        }
        netOut.flush();
    }

    private void send() throws IOException {
        sendLock.lock();
        try {
            drain();
        } finally {
            sendLock.unlock();
        }
    }

    /**
     * Output the reader side queued (a KeyUpdate answer): sent now unless a writer holds the socket, in
     * which case that writer sends it when it lets go (it checks again after unlocking).
     */
    private void sendPending() throws IOException {
        while (engine.outputLength() > 0 && sendLock.tryLock()) {
            try {
                drain();
            } finally {
                sendLock.unlock();
            }
        }
    }

    /** After a TlsException: the queued alert goes out (waiting a moment for a writer), then the socket closes. */
    private void failed() throws IOException {
        try {
            if (sendLock.tryLock(1, TimeUnit.SECONDS)) {
                try {
                    drain();
                } catch (IOException ignored) {
                    // the peer may be gone; the alert is a courtesy
                } finally {
                    sendLock.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            socket.close();
        }
    }

    public String version() {
        return engine.version();
    }

    public CipherSuite suite() {
        return engine.suite();
    }

    /** The key-exchange group, or null for a PSK-only resumption. */
    public NamedGroup group() {
        return engine.group();
    }

    public boolean resumed() {
        return engine.resumed();
    }

    public String alpn() {
        return engine.alpn();
    }

    /** See {@link TlsEngine#peerCertificates()}: on a server, the client's chain in resumed sessions too. */
    public List<X509Certificate> peerCertificates() {
        return engine.peerCertificates();
    }

    /** See {@link TlsEngine#peerIdentity()}. */
    public Optional<PeerIdentity> peerIdentity() {
        return engine.peerIdentity();
    }

    /** See {@link TlsEngine#peerSummary()}: e.g. {@code client CN=alice, client-spki=<hex>}. */
    public String peerSummary() {
        return engine.peerSummary();
    }

    /** Tickets the server sent on this connection so far, for resumption later (client side). */
    public List<Ticket> tickets() {
        return engine.tickets();
    }

    /** See {@link TlsEngine#trafficSecrets()}. */
    public TrafficSecrets trafficSecrets() {
        return engine.trafficSecrets();
    }

    /** RFC 8446 section 7.5: TLS-Exporter(label, context, length). */
    public byte[] exportKeyingMaterial(String label, byte[] context, int length) {
        return engine.exportKeyingMaterial(label, context, length);
    }

    /** See {@link TlsEngine#extendedMasterSecret()}. */
    public boolean extendedMasterSecret() {
        return engine.extendedMasterSecret();
    }

    /** One line for humans: version, suite, group, resumed or not. */
    public String summary() {
        return engine.summary();
    }

    /** Sends a KeyUpdate and switches our write keys; with {@code requestPeer} the peer updates too. */
    public void keyUpdate(boolean requestPeer) throws IOException {
        sendLock.lock();
        try {
            engine.keyUpdate(requestPeer);
            drain();
        } finally {
            sendLock.unlock();
        }
        sendPending();
    }

    /** Application bytes, reading the socket until some are ready; -1 after the peer's close_notify. */
    private int readApplication(byte[] b, int off, int len) throws IOException {
        while (true) {
            int n;
            try {
                n = engine.read(b, off, len);
                if (n != 0) {
                    sendPending(); // a KeyUpdate answer the records before the data may have asked for
                    return n;
                }
                receiveOnce();
            } catch (TlsException e) {
                failed();
                throw e;
            }
            sendPending();
        }
    }

    private final InputStream in = new InputStream() {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            synchronized (readLock) {
                return readApplication(b, off, len);
            }
        }

        @Override
        public int available() {
            return engine.readable();
        }
    };

    private final OutputStream out = new OutputStream() {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (engine.isOutboundDone()) {
                throw new IOException("the TLS connection is closed");
            }
            sendLock.lock();
            try {
                for (int at = off, end = off + len; at < end; ) {
                    int n = Math.min(WRITE_CHUNK, end - at);
                    engine.write(b, at, n);
                    drain();
                    at += n;
                }
            } finally {
                sendLock.unlock();
            }
            sendPending();
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
        engine.closeOutbound();
        try {
            send();
        } catch (IOException ignored) {
            // the peer may be gone; close_notify is a courtesy then
        }
    }

    public boolean isClient() {
        return engine.isClient();
    }

    /** Sends close_notify (if not yet) and closes the socket. */
    @Override
    public void close() throws IOException {
        try {
            shutdownOutput();
        } finally {
            socket.close();
        }
    }
}
