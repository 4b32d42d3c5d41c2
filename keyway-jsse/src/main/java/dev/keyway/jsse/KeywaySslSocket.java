package dev.keyway.jsse;

import javax.net.ssl.HandshakeCompletedEvent;
import javax.net.ssl.HandshakeCompletedListener;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;

/**
 * An {@link SSLSocket} of the Keyway provider: a {@link KeywaySslEngine} driven over a plain TCP socket with
 * blocking reads and writes. The socket is either made by the factory (connected, or connected later by
 * {@link #connect}) or layered over one the caller already has ({@code createSocket(Socket, host, port, autoClose)},
 * as {@code HttpsURLConnection} does through a proxy). The handshake runs on {@link #startHandshake} or on the
 * first read or write.
 *
 * <p>The TLS settings (from the engine) and the TCP side (from the socket underneath) are in {@link DelegatingSslSocket}.
 *
 * <p>One thread may read while another writes (the engine allows it); reads and writes are each serialised.
 */
final class KeywaySslSocket extends DelegatingSslSocket {
    /** Whether closing this socket closes the one underneath: always when the factory made it, else autoClose. */
    private final boolean closesBase;
    private final List<HandshakeCompletedListener> listeners = new CopyOnWriteArrayList<>();
    private final Object readLock = new Object();
    private final Object writeLock = new Object();
    private final Object handshakeLock = new Object();
    private BiFunction<SSLSocket, List<String>, String> socketSelector;

    private InputStream rawIn;
    private OutputStream rawOut;
    private final ByteBuffer netIn;
    private final ByteBuffer appIn;
    private final ByteBuffer netOut;
    private volatile boolean handshakeDone;
    private volatile boolean closed;
    private final SslIn in = new SslIn();
    private final SslOut out = new SslOut();

    KeywaySslSocket(KeywaySslContext context, Socket base, String host, int port, boolean closesBase, boolean clientMode) {
        super(base, new KeywaySslEngine(context, host, port));
        this.closesBase = closesBase;
        engine.setUseClientMode(clientMode);
        int packet = KeywaySslEngine.MAX_RECORD;
        this.netIn = ByteBuffer.allocate(packet);
        this.netIn.flip();
        this.appIn = ByteBuffer.allocate(KeywaySslEngine.MAX_PLAINTEXT);
        this.appIn.flip();
        this.netOut = ByteBuffer.allocate(packet);
    }

    // ---- the handshake ----

    /** The session, after a handshake this call starts if none has run (as JSSE: a failure gives the null session). */
    @Override
    public SSLSession getSession() {
        if (!handshakeDone && !closed && base.isConnected()) {
            try {
                startHandshake();
            } catch (IOException e) {
                // as JSSE: the session stays the invalid null session
            }
        }
        return engine.getSession();
    }

    @Override
    public void addHandshakeCompletedListener(HandshakeCompletedListener listener) {
        if (listener == null) {
            throw new IllegalArgumentException("listener is null");
        }
        listeners.add(listener);
    }

    @Override
    public void removeHandshakeCompletedListener(HandshakeCompletedListener listener) {
        if (listener == null || !listeners.remove(listener)) {
            throw new IllegalArgumentException("no such listener");
        }
    }

    @Override
    public void setHandshakeApplicationProtocolSelector(BiFunction<SSLSocket, List<String>, String> selector) {
        socketSelector = selector;
        engine.setHandshakeApplicationProtocolSelector(selector == null ? null : (e, offer) -> selector.apply(this, offer));
    }

    @Override
    public BiFunction<SSLSocket, List<String>, String> getHandshakeApplicationProtocolSelector() {
        return socketSelector;
    }

    SSLEngine engine() {
        return engine;
    }

    @Override
    public void startHandshake() throws IOException {
        checkOpen();
        if (!base.isConnected()) {
            throw new SocketException("the socket is not connected");
        }
        synchronized (handshakeLock) {
            if (handshakeDone) {
                return;
            }
            synchronized (writeLock) {
                synchronized (readLock) {
                    streams();
                    engine.beginHandshake();
                    try {
                        while (!handshakeDone) {
                            SSLEngineResult.HandshakeStatus hs = engine.getHandshakeStatus();
                            switch (hs) {
                                case NEED_WRAP -> flushEngine();
                                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                                    if (readRecord(true) < 0) {
                                        throw new SSLException("the peer closed the connection during the handshake");
                                    }
                                }
                                case NOT_HANDSHAKING, FINISHED -> handshakeDone = engine.getSession().isValid();
                                case NEED_TASK -> throw new IllegalStateException("the Keyway engine has no delegated tasks");
                            }
                            if (hs == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING && !handshakeDone) {
                                throw new SSLException("the handshake ended without a session");
                            }
                        }
                    } catch (IOException e) {
                        sendPendingQuietly();
                        closeQuietly();
                        throw e;
                    }
                }
            }
        }
        if (!listeners.isEmpty()) {
            HandshakeCompletedEvent event = new HandshakeCompletedEvent(this, engine.getSession());
            for (HandshakeCompletedListener l : listeners) {
                l.handshakeCompleted(event);
            }
        }
    }

    private void streams() throws IOException {
        if (rawIn == null) {
            rawIn = base.getInputStream();
            rawOut = base.getOutputStream();
        }
    }

    /** Wraps whatever the engine has to send (handshake messages, alerts) and writes it out. */
    private void flushEngine() throws IOException {
        while (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
            netOut.clear();
            SSLEngineResult r = engine.wrap(ByteBuffer.allocate(0), netOut);
            rawOut.write(netOut.array(), 0, netOut.position());
            if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED) {
                handshakeDone = true;
            }
            if (r.getStatus() == SSLEngineResult.Status.CLOSED || r.bytesProduced() == 0) {
                break;
            }
        }
        rawOut.flush();
    }

    /**
     * Reads from the network until the engine has taken one record; plaintext goes to {@code appIn}. Returns -1 at
     * the end of the stream (the transport's, or the peer's close_notify), else the bytes of plaintext it gave.
     */
    private int readRecord(boolean handshaking) throws IOException {
        while (true) {
            appIn.compact();
            SSLEngineResult r;
            try {
                r = engine.unwrap(netIn, appIn);
            } finally {
                appIn.flip();
            }
            if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.FINISHED) {
                handshakeDone = true;
            }
            if (engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                synchronized (writeLock) {
                    flushEngine();
                }
            }
            switch (r.getStatus()) {
                case OK -> {
                    if (r.bytesProduced() > 0 || handshaking) {
                        return r.bytesProduced();
                    }
                }
                case CLOSED -> {
                    return r.bytesProduced() > 0 ? r.bytesProduced() : -1;
                }
                case BUFFER_UNDERFLOW -> {
                    if (fill() < 0) {
                        if (handshaking || !engine.isInboundDone()) {
                            try {
                                engine.closeInbound();
                            } catch (SSLException e) {
                                EOFException eof = new EOFException("the connection was cut (no close_notify from the peer)");
                                eof.initCause(e);
                                throw eof;
                            }
                        }
                        return -1;
                    }
                }
                case BUFFER_OVERFLOW -> throw new IllegalStateException("a record larger than the application buffer");
            }
        }
    }

    /** More bytes from the network into {@code netIn}; -1 at its end. */
    private int fill() throws IOException {
        netIn.compact();
        try {
            int n = rawIn.read(netIn.array(), netIn.arrayOffset() + netIn.position(), netIn.remaining());
            if (n > 0) {
                netIn.position(netIn.position() + n);
            }
            return n;
        } finally {
            netIn.flip();
        }
    }

    private void sendPendingQuietly() {
        try {
            synchronized (writeLock) {
                if (rawOut != null) {
                    flushEngine();
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // the alert could not go out; the connection is closed anyway
        }
    }

    private void checkOpen() throws SocketException {
        if (closed) {
            throw new SocketException("Socket is closed");
        }
    }

    // ---- streams ----

    @Override
    public InputStream getInputStream() throws IOException {
        checkOpen();
        if (!base.isConnected()) {
            throw new SocketException("Socket is not connected");
        }
        return in;
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
        checkOpen();
        if (!base.isConnected()) {
            throw new SocketException("Socket is not connected");
        }
        return out;
    }

    private final class SslIn extends InputStream {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            startHandshake();
            synchronized (readLock) {
                while (!appIn.hasRemaining()) {
                    checkOpen();
                    if (readRecord(false) < 0 && !appIn.hasRemaining()) {
                        return -1;
                    }
                }
                int n = Math.min(len, appIn.remaining());
                appIn.get(b, off, n);
                return n;
            }
        }

        @Override
        public int available() {
            synchronized (readLock) {
                return appIn.remaining();
            }
        }

        @Override
        public void close() throws IOException {
            KeywaySslSocket.this.close();
        }
    }

    private final class SslOut extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            startHandshake();
            synchronized (writeLock) {
                checkOpen();
                ByteBuffer src = ByteBuffer.wrap(b, off, len);
                while (src.hasRemaining()) {
                    netOut.clear();
                    SSLEngineResult r = engine.wrap(src, netOut);
                    if (r.getStatus() == SSLEngineResult.Status.CLOSED) {
                        throw new SocketException("the TLS connection is closed for writing");
                    }
                    rawOut.write(netOut.array(), 0, netOut.position());
                }
                rawOut.flush();
            }
        }

        @Override
        public void close() throws IOException {
            KeywaySslSocket.this.close();
        }
    }

    // ---- closing ----

    /** Sends close_notify (when a handshake ran) and closes the socket (a layered one only with autoClose). */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        if (base.isConnected() && !base.isClosed() && rawOut != null) {
            engine.closeOutbound();
            sendPendingQuietly();
        }
        closed = true;
        if (closesBase) {
            base.close();
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (IOException ignored) {
            // closing after a failure
        }
    }

    @Override
    public boolean isClosed() {
        return closed || base.isClosed();
    }

    @Override
    public void shutdownInput() throws IOException {
        throw new UnsupportedOperationException("shutdownInput is not supported on an SSLSocket");
    }

    @Override
    public void shutdownOutput() throws IOException {
        throw new UnsupportedOperationException("shutdownOutput is not supported on an SSLSocket");
    }

    @Override
    public void connect(SocketAddress endpoint) throws IOException {
        connect(endpoint, 0);
    }

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
        checkOpen();
        base.connect(endpoint, timeout);
    }

    @Override
    public String toString() {
        return "KeywaySslSocket[" + (handshakeDone ? engine.getSession().getProtocol() + " " + engine.getSession().getCipherSuite() : "no handshake")
                + ", " + base + "]";
    }
}
