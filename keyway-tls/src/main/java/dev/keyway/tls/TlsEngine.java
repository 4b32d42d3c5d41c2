package dev.keyway.tls;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.handshake.ClientHandshake;
import dev.keyway.tls.handshake.Handshake;
import dev.keyway.tls.handshake.HandshakeResult;
import dev.keyway.tls.handshake.PostHandshake;
import dev.keyway.tls.handshake.ServerHandshake;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.record.RecordLayer;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * A TLS connection with no I/O of its own: bytes from the network go in ({@link #receive}), bytes for the
 * network come out ({@link #takeOutput}), application data goes in with {@link #write} and comes out with
 * {@link #read}. Nothing here blocks or starts a thread, so it fits any transport: a blocking socket
 * ({@link TlsConnection} is built on it), a selector loop, a test that passes bytes by hand.
 *
 * <p>The usual loop: after {@link #client} (whose ClientHello is already queued) or {@link #server}, send
 * whatever {@link #takeOutput} gives, feed what arrives to {@link #receive}, until {@link #isHandshakeComplete}.
 * A failure is a {@link TlsException}; its alert is queued, so send the output once more before closing the
 * transport. One thread may read (receive, read) while another writes (write, takeOutput, keyUpdate, close).
 */
public final class TlsEngine {
    private final TlsConfig config;
    private final boolean client;
    private final RecordLayer records = new RecordLayer();
    /** The handshake in progress; null once it is complete, so its state (messages, transcript, buffers) can go. */
    private Handshake handshake;
    /** After the handshake: what a fatal error does to its session (a TLS 1.2 server forgets it). */
    private Runnable invalidator;
    /** Guards the read side: receive, read and what they change. */
    private final Object inLock = new Object();
    /** Guards the write side: the record layer's output, write keys and sequence numbers. */
    private final Object outLock = new Object();
    private volatile HandshakeResult session;
    private PostHandshake post;
    private final ApplicationData application = new ApplicationData();
    private volatile boolean inboundDone;
    private boolean outboundDone;
    private volatile RuntimeException failure;
    private final PeerAlerts peerAlerts = new PeerAlerts();

    private TlsEngine(TlsConfig config, boolean client) {
        this.config = config;
        this.client = client;
        this.handshake = client ? new ClientHandshake(config, records) : new ServerHandshake(config, records);
        synchronized (outLock) {
            handshake.start();
        }
    }

    /** A client engine; its ClientHello is queued for {@link #takeOutput} at once. */
    public static TlsEngine client(TlsConfig config) {
        return new TlsEngine(config, true);
    }

    /** A server engine (the config needs a certificate and its key); it waits for a ClientHello. */
    public static TlsEngine server(TlsConfig config) {
        return new TlsEngine(config, false);
    }

    public boolean isClient() {
        return client;
    }

    // ---- network side ----

    /**
     * Takes bytes that arrived from the peer, in any split: every byte of {@code b[off, off + len)} is
     * consumed; a partial record waits for the rest. Handshake messages are answered (see
     * {@link #takeOutput}), application data becomes readable.
     *
     * @throws TlsException when the peer broke the protocol or sent a fatal alert; the alert we owe is queued
     */
    public void receive(byte[] b, int off, int len) {
        synchronized (inLock) {
            checkNotFailed();
            if (inboundDone) {
                return; // after the peer's close_notify every byte is ignored (RFC 8446 section 6.1), not even kept
            }
            records.receive(b, off, len);
            process();
        }
    }

    /**
     * Handles buffered records in order. It stops after the record that completes the handshake, so a
     * problem in what follows belongs to the first read, not to the handshake; {@link #read} goes on. It stops
     * for good at the peer's close_notify: "any data received after a closure alert has been received MUST be
     * ignored" (RFC 8446 section 6.1), so what follows is not even parsed (a record that does not open is no error).
     */
    private void process() {
        try {
            boolean handshaking = session == null;
            RecordLayer.Record r;
            while (!inboundDone && (r = records.next()) != null) {
                dispatch(r);
                if (handshaking && session != null) {
                    return;
                }
            }
        } catch (TlsException e) {
            fail(e);
            throw e;
        } catch (RuntimeException e) {
            failure = e;
            throw e;
        }
    }

    /** {@link #receive(byte[], int, int)} for a buffer: consumes all of {@code src}'s remaining bytes. */
    public void receive(ByteBuffer src) {
        ByteBuffers.drain(src, this::receive);
    }

    /**
     * The peer's transport ended (a read returned end of stream). Fine after its close_notify; otherwise
     * the connection was cut: an {@link EOFException} (inside a record, in the handshake, or a truncation
     * of the application data), or a TlsException with its alert queued.
     */
    public void receiveEnd() throws EOFException {
        synchronized (inLock) {
            if (!inboundDone && session != null && failure == null && records.buffered() > 0) {
                // Whole records may still wait behind the one that completed the handshake (receive stops
                // there): the peer's close_notify may be among them.
                process();
            }
            if (inboundDone) {
                return;
            }
            try {
                records.endOfInput();
            } catch (TlsException e) {
                fail(e);
                throw e;
            } catch (EOFException e) {
                throw cut(e);
            }
            throw cut(new EOFException(session == null ? "the peer closed the connection during the handshake"
                    : "the peer closed the connection without close_notify (truncation?)"));
        }
    }

    /** Keeps a cut transport as the failure for later calls (unless one came first); returns {@code e} to throw. */
    private EOFException cut(EOFException e) {
        if (failure == null) {
            failure = new IllegalStateException("the connection was cut", e);
        }
        return e;
    }

    private void dispatch(RecordLayer.Record r) {
        if ((r.type() == RecordLayer.APPLICATION_DATA || r.type() == RecordLayer.CHANGE_CIPHER_SPEC) && partialHandshakeMessage()) {
            // A handshake message split over records has nothing else between its pieces (RFC 8446 section 5.1).
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "a record of type " + r.type() + " inside a fragmented handshake message");
        }
        switch (r.type()) {
            case RecordLayer.HANDSHAKE -> {
                if (session == null) {
                    synchronized (outLock) {
                        handshake.receive(r.bytes(), 0, r.length());
                        HandshakeResult done = handshake.result();
                        if (done != null) {
                            post = done.version() == TlsVersion.TLS13 ? new PostHandshake(records, done, client, config.clock()) : null;
                            invalidator = handshake.invalidator();
                            handshake = null; // an idle connection keeps only what it needs from here
                            session = done;
                        }
                    }
                } else if (post == null) {
                    Renegotiation12.checkRequest(r.data(), client);
                    synchronized (outLock) {
                        if (!outboundDone) {
                            records.writeAlert(Alert.NO_RENEGOTIATION);
                        }
                    }
                } else {
                    post.handle(r.bytes(), 0, r.length());
                    if (post.takeAnswerOwed()) {
                        synchronized (outLock) {
                            if (!outboundDone) { // no KeyUpdate after our close_notify (RFC 8446 section 6.1)
                                post.sendKeyUpdate(false);
                            }
                        }
                    }
                }
            }
            case RecordLayer.CHANGE_CIPHER_SPEC -> {
                if (session != null) {
                    throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "ChangeCipherSpec after the handshake");
                }
                synchronized (outLock) {
                    handshake.changeCipherSpec();
                }
            }
            case RecordLayer.APPLICATION_DATA -> {
                if (session == null) {
                    throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "application data during the handshake (Keyway takes no 0-RTT)");
                }
                application.add(r);
            }
            case RecordLayer.ALERT -> {
                if (peerAlerts.closes(r.data(), session != null)) {
                    inboundDone = true;
                }
            }
            default -> throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "record of type " + r.type() + " here");
        }
    }

    private boolean partialHandshakeMessage() {
        return session == null ? handshake.partialMessage() : post != null && post.partialMessage();
    }

    /** Queues the alert we owe (unless the peer sent one) and keeps the failure for later calls. */
    private void fail(TlsException e) {
        if (failure == null) {
            failure = e;
            if (handshake != null) {
                handshake.invalidate();
            } else {
                invalidator.run();
            }
        }
        synchronized (outLock) {
            if (!outboundDone && !e.received() && e.alert() != null) {
                records.writeAlert(e.alert());
            }
            outboundDone = true;
        }
    }

    private void checkNotFailed() {
        RuntimeException f = failure;
        if (f instanceof TlsException t) {
            throw t;
        }
        if (f != null) {
            throw new IllegalStateException("the TLS connection failed earlier", f);
        }
    }

    /** Under the out lock: application data and KeyUpdates need a finished handshake and an open output. */
    private void checkWritable() {
        checkNotFailed();
        if (session == null || outboundDone) {
            throw new IllegalStateException(session == null ? "the handshake is not complete" : "the TLS connection is closed for writing");
        }
    }

    /** Bytes waiting to go to the network. */
    public int outputLength() {
        synchronized (outLock) {
            return records.outputLength();
        }
    }

    /** Moves up to {@code len} bytes for the network into {@code dst}; returns how many. */
    public int takeOutput(byte[] dst, int off, int len) {
        synchronized (outLock) {
            return records.takeOutput(dst, off, len);
        }
    }

    /** Moves as many bytes for the network as fit into {@code dst}; returns how many. */
    public int takeOutput(ByteBuffer dst) {
        synchronized (outLock) {
            return records.takeOutput(dst);
        }
    }

    /** All bytes for the network, handed over without a copy (for {@link TlsConnection}); recycle the array after. */
    RecordLayer.Output swapOutput() {
        synchronized (outLock) {
            return records.swapOutput();
        }
    }

    void recycle(byte[] buffer) {
        synchronized (outLock) {
            records.recycle(buffer);
        }
    }

    // ---- application side ----

    /** Whether the handshake has finished (application data can flow). */
    public boolean isHandshakeComplete() {
        return session != null;
    }

    /** Seals application data for the network (as many records as it takes). */
    public void write(byte[] b, int off, int len) {
        synchronized (outLock) {
            checkWritable();
            if (len > 0) {
                records.write(RecordLayer.APPLICATION_DATA, b, off, len);
            }
        }
    }

    public void write(ByteBuffer src) {
        ByteBuffers.drain(src, this::write);
    }

    /** Application bytes decrypted and ready to {@link #read} (records still buffered are opened by read). */
    public int readable() {
        synchronized (inLock) {
            return application.available();
        }
    }

    /**
     * Copies up to {@code len} received application bytes into {@code b}: the count, 0 when none is ready
     * yet, -1 once the peer's close_notify came and everything before it was read.
     */
    public int read(byte[] b, int off, int len) {
        synchronized (inLock) {
            if (application.available() == 0 && session != null && records.buffered() > 0 && failure == null) {
                process();
            }
            if (application.available() == 0) {
                if (inboundDone) {
                    return -1;
                }
                checkNotFailed();
                return 0;
            }
            return application.read(b, off, len);
        }
    }

    public int read(ByteBuffer dst) {
        return ByteBuffers.fill(dst, this::read, RecordLayer.MAX_FRAGMENT);
    }

    /** The peer's close_notify has arrived. */
    public boolean isInboundDone() {
        return inboundDone;
    }

    /**
     * Queues close_notify (once); nothing can be written after it. Reading goes on until the peer's. During the
     * handshake there is nothing to close: abandon it by closing the transport.
     */
    public void closeOutbound() {
        if (session == null) {
            throw new IllegalStateException("the handshake is not complete: close the transport to abandon it");
        }
        synchronized (outLock) {
            if (!outboundDone) {
                outboundDone = true;
                records.writeAlert(Alert.CLOSE_NOTIFY);
            }
        }
    }

    /**
     * Gives up the handshake from this side: queues user_canceled and close_notify (RFC 8446 section 6.1; protected
     * under whatever keys the handshake reached), after which nothing more is written. For an API that lets a caller
     * close a connection at any time (JSSE's {@code closeOutbound}); after the handshake use {@link #closeOutbound}.
     */
    public void cancelHandshake() {
        synchronized (outLock) {
            if (session != null) {
                throw new IllegalStateException("the handshake is complete: use closeOutbound");
            }
            if (!outboundDone && failure == null) {
                outboundDone = true;
                records.writeAlert(Alert.USER_CANCELED);
                records.writeAlert(Alert.CLOSE_NOTIFY);
            }
        }
    }

    public boolean isOutboundDone() {
        synchronized (outLock) {
            return outboundDone;
        }
    }

    /** Queues a KeyUpdate and moves our writing to the next traffic secret; with {@code requestPeer} the peer updates too. */
    public void keyUpdate(boolean requestPeer) {
        synchronized (outLock) {
            checkWritable();
            if (post == null) {
                throw new IllegalStateException("TLS 1.2 has no KeyUpdate");
            }
            post.sendKeyUpdate(requestPeer);
        }
    }

    // ---- the negotiated session ----

    private HandshakeResult session() {
        HandshakeResult s = session;
        if (s == null) {
            throw new IllegalStateException("the handshake is not complete");
        }
        return s;
    }

    /** "TLSv1.3" or "TLSv1.2", as OpenSSL and the JDK name them. */
    public String version() {
        return Negotiated.version(session());
    }

    public CipherSuite suite() {
        return session().suite();
    }

    /** The key-exchange group, or null for a PSK-only resumption. */
    public NamedGroup group() {
        return session().group();
    }

    public boolean resumed() {
        return session().resumed();
    }

    public String alpn() {
        return session().alpn();
    }

    /**
     * The peer's chain, leaf first, as it was checked: a server's chain on the client side; on the server side the
     * client's chain when this server requires one, in a resumed session too (the chain sealed in the ticket or
     * session-cache entry, checked again against the current trust anchors); empty otherwise.
     */
    public List<X509Certificate> peerCertificates() {
        return session().peerCertificates();
    }

    /** The peer's leaf as a name and a key hash ({@link PeerIdentity}); empty when {@link #peerCertificates()} is. */
    public Optional<PeerIdentity> peerIdentity() {
        return Negotiated.peerIdentity(peerCertificates());
    }

    /**
     * One line naming the peer, for a per-connection log: {@code client CN=alice, client-spki=<hex>} on a server
     * ({@code server …} on a client), or {@code no client certificate}. The CN is the peer's text, not escaped.
     */
    public String peerSummary() {
        return Negotiated.peerSummary(peerCertificates(), client);
    }

    /** Tickets the server sent so far, for resumption later (client side). */
    public List<Ticket> tickets() {
        HandshakeResult s = session();
        if (post != null) {
            return post.tickets();
        }
        return s.session() == null ? List.of() : List.of(s.session());
    }

    /**
     * The connection's first application traffic secrets, when the config allowed it
     * ({@link TlsConfig.Builder#exposeTrafficSecrets}); the same values a key log gets.
     */
    public TrafficSecrets trafficSecrets() {
        if (!config.exposeTrafficSecrets()) {
            throw new IllegalStateException("traffic secrets are not exposed: enable TlsConfig.Builder.exposeTrafficSecrets");
        }
        return Negotiated.trafficSecrets(session());
    }

    /**
     * TLS 1.2: whether the master secret is the extended one (RFC 7627); false only in a session a config with
     * {@link TlsConfig.Builder#legacyNoExtendedMasterSecret} let through. Always true for TLS 1.3, whose key
     * schedule binds the whole handshake anyway.
     */
    public boolean extendedMasterSecret() {
        return Negotiated.extendedMasterSecret(session());
    }

    /**
     * TLS-Exporter(label, context, length): RFC 8446 section 7.5, or for TLS 1.2 RFC 5705 section 4. A TLS 1.2
     * session without the extended master secret refuses (a KeywayException, refused by policy): RFC 7627
     * section 5.4 forbids exporting from it, since a man in the middle can share its master secret.
     */
    public byte[] exportKeyingMaterial(String label, byte[] context, int length) {
        return Exporter.export(session(), label, context, length);
    }

    /** One line for humans: version, suite, key exchange (none in a resumed TLS 1.2 session), resumed or not. */
    public String summary() {
        return Negotiated.summary(session());
    }
}
