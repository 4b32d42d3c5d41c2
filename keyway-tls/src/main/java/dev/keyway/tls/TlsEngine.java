package dev.keyway.tls;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.Prf12;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.tls.handshake.Alerts;
import dev.keyway.tls.handshake.ClientHandshake;
import dev.keyway.tls.handshake.Handshake;
import dev.keyway.tls.handshake.HandshakeResult;
import dev.keyway.tls.handshake.PostHandshake;
import dev.keyway.tls.handshake.ServerHandshake;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.record.RecordLayer;

import java.io.EOFException;
import java.nio.ByteBuffer;
import java.security.cert.X509Certificate;
import java.util.ArrayDeque;
import java.util.List;

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
    private final ArrayDeque<RecordLayer.Record> application = new ArrayDeque<>();
    private int applicationOffset;
    private int applicationAvailable;
    private volatile boolean inboundDone;
    private boolean outboundDone;
    private volatile RuntimeException failure;
    /** user_canceled warnings passed over after the handshake; a peer that keeps sending them is refused. */
    private int userCanceledIgnored;

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
        int n = src.remaining();
        if (src.hasArray()) {
            receive(src.array(), src.arrayOffset() + src.position(), n);
            src.position(src.limit());
        } else {
            byte[] copy = new byte[n];
            src.get(copy);
            receive(copy, 0, n);
        }
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
                if (failure == null) {
                    failure = new IllegalStateException("the connection was cut", e);
                }
                throw e;
            }
            EOFException e = new EOFException(session == null ? "the peer closed the connection during the handshake"
                    : "the peer closed the connection without close_notify (truncation?)");
            if (failure == null) {
                failure = new IllegalStateException("the connection was cut", e);
            }
            throw e;
        }
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
                    refuseRenegotiation(r);
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
                if (r.length() > 0) {
                    application.add(r);
                    applicationAvailable += r.length();
                }
            }
            case RecordLayer.ALERT -> {
                byte[] body = r.data();
                if (body.length == 2 && body[1] == 0 && session != null) {
                    inboundDone = true;
                } else if (body.length == 2 && body[0] == 1 && (body[1] & 0xff) == Alert.USER_CANCELED.code() && session != null
                        && ++userCanceledIgnored <= 16) {
                    // A warning after the handshake that a close_notify should follow (RFC 8446 section 6.1; the JDK
                    // sends one when it closes): the close_notify ends the stream, this one is passed over.
                    return;
                } else {
                    throw Alerts.received(body);
                }
            }
            default -> throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "record of type " + r.type() + " here");
        }
    }

    private boolean partialHandshakeMessage() {
        return session == null ? handshake.partialMessage() : post != null && post.partialMessage();
    }

    /**
     * TLS 1.2 after its handshake: a HelloRequest (or a client's new ClientHello) asks for renegotiation, which
     * Keyway never does; the answer is a no_renegotiation warning (RFC 5746 section 4.2) and the connection
     * goes on. Any other handshake message is out of place.
     */
    private void refuseRenegotiation(RecordLayer.Record r) {
        byte[] m = r.data();
        boolean helloRequest = client && m.length == 4 && m[0] == 0 && m[1] == 0 && m[2] == 0 && m[3] == 0;
        boolean clientHello = !client && m.length >= 4 && m[0] == 1;
        if (!helloRequest && !clientHello) {
            throw TlsException.fatal(Alert.UNEXPECTED_MESSAGE, "handshake message type " + (m[0] & 0xff) + " after the TLS 1.2 handshake");
        }
        synchronized (outLock) {
            if (!outboundDone) {
                records.writeAlert(Alert.NO_RENEGOTIATION);
            }
        }
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
            checkNotFailed();
            if (session == null) {
                throw new IllegalStateException("the handshake is not complete");
            }
            if (outboundDone) {
                throw new IllegalStateException("the TLS connection is closed for writing");
            }
            if (len > 0) {
                records.write(RecordLayer.APPLICATION_DATA, b, off, len);
            }
        }
    }

    public void write(ByteBuffer src) {
        if (src.hasArray()) {
            write(src.array(), src.arrayOffset() + src.position(), src.remaining());
            src.position(src.limit());
            return;
        }
        byte[] chunk = new byte[src.remaining()];
        src.get(chunk);
        write(chunk, 0, chunk.length);
    }

    /** Application bytes decrypted and ready to {@link #read} (records still buffered are opened by read). */
    public int readable() {
        synchronized (inLock) {
            return applicationAvailable;
        }
    }

    /**
     * Copies up to {@code len} received application bytes into {@code b}: the count, 0 when none is ready
     * yet, -1 once the peer's close_notify came and everything before it was read.
     */
    public int read(byte[] b, int off, int len) {
        synchronized (inLock) {
            if (applicationAvailable == 0 && session != null && records.buffered() > 0 && failure == null) {
                process();
            }
            if (applicationAvailable == 0) {
                if (inboundDone) {
                    return -1;
                }
                checkNotFailed();
                return 0;
            }
            int done = 0;
            while (done < len && !application.isEmpty()) {
                RecordLayer.Record r = application.peek();
                int n = Math.min(len - done, r.length() - applicationOffset);
                System.arraycopy(r.bytes(), applicationOffset, b, off + done, n);
                done += n;
                applicationOffset += n;
                if (applicationOffset == r.length()) {
                    application.poll();
                    applicationOffset = 0;
                }
            }
            applicationAvailable -= done;
            return done;
        }
    }

    public int read(ByteBuffer dst) {
        if (dst.hasArray()) {
            int n = read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
            if (n > 0) {
                dst.position(dst.position() + n);
            }
            return n;
        }
        // A direct buffer: through a bounded bounce array, not one as large as the buffer on every call.
        byte[] chunk = new byte[Math.min(dst.remaining(), RecordLayer.MAX_FRAGMENT)];
        int n = read(chunk, 0, chunk.length);
        if (n > 0) {
            dst.put(chunk, 0, n);
        }
        return n;
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
            checkNotFailed();
            if (session == null || outboundDone) {
                throw new IllegalStateException(session == null ? "the handshake is not complete" : "the TLS connection is closed for writing");
            }
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
        return session().version() == TlsVersion.TLS13 ? "TLSv1.3" : "TLSv1.2";
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
    public java.util.Optional<PeerIdentity> peerIdentity() {
        List<X509Certificate> chain = peerCertificates();
        return chain.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(PeerIdentity.of(chain.get(0)));
    }

    /**
     * One line naming the peer, for a per-connection log: {@code client CN=alice, client-spki=<hex>} on a server
     * ({@code server …} on a client), or {@code no client certificate}. The CN is the peer's text, not escaped.
     */
    public String peerSummary() {
        String role = client ? "server" : "client";
        return peerIdentity().map(id -> id.summary(role)).orElse("no " + role + " certificate");
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
        HandshakeResult s = session();
        if (s.version() != TlsVersion.TLS13) {
            throw new IllegalStateException("a TLS 1.2 connection has no traffic secrets; its key-log line is CLIENT_RANDOM (the master secret)");
        }
        return new TrafficSecrets(s.clientRandom().clone(), s.clientTrafficSecret().clone(), s.serverTrafficSecret().clone());
    }

    /**
     * TLS 1.2: whether the master secret is the extended one (RFC 7627); false only in a session a config with
     * {@link TlsConfig.Builder#legacyNoExtendedMasterSecret} let through. Always true for TLS 1.3, whose key
     * schedule binds the whole handshake anyway.
     */
    public boolean extendedMasterSecret() {
        HandshakeResult s = session();
        return s.version() == TlsVersion.TLS13 || s.extendedMasterSecret();
    }

    /**
     * TLS-Exporter(label, context, length): RFC 8446 section 7.5, or for TLS 1.2 RFC 5705 section 4. A TLS 1.2
     * session without the extended master secret refuses (a KeywayException, refused by policy): RFC 7627
     * section 5.4 forbids exporting from it, since a man in the middle can share its master secret.
     */
    public byte[] exportKeyingMaterial(String label, byte[] context, int length) {
        HandshakeResult s = session();
        if (s.version() == TlsVersion.TLS13) {
            return s.schedule().exporter(s.exporterMasterSecret(), label, context, length);
        }
        if (!s.extendedMasterSecret()) {
            throw dev.keyway.core.KeywayException.policy("this TLS 1.2 session was made without the extended master secret, so it "
                    + "exports no keying material (RFC 7627 section 5.4)", "use TLS 1.3, or a TLS 1.2 peer that offers the extension");
        }
        byte[] ctx = context == null ? new byte[0] : context;
        if (ctx.length > 0xffff) {
            throw new IllegalArgumentException("an exporter context of at most 65535 bytes");
        }
        java.io.ByteArrayOutputStream seed = new java.io.ByteArrayOutputStream();
        seed.writeBytes(s.clientRandom());
        seed.writeBytes(s.serverRandom());
        if (context != null) {
            seed.write(ctx.length >> 8);
            seed.write(ctx.length);
            seed.writeBytes(ctx);
        }
        return Prf12.prf(s.suite().prfHash(), s.masterSecret(), label, seed.toByteArray(), length);
    }

    /** One line for humans: version, suite, key exchange (none in a resumed TLS 1.2 session), resumed or not. */
    public String summary() {
        HandshakeResult s = session();
        String kx = s.group() != null ? s.group().label()
                : s.version() == TlsVersion.TLS13 ? "psk_ke" : s.resumed() ? null : "RSA key transport";
        return version() + ", " + s.suite().name() + (kx == null ? "" : ", " + kx)
                + (s.resumed() ? ", resumed" : ", full handshake") + (s.alpn() == null ? "" : ", ALPN " + s.alpn())
                + (extendedMasterSecret() ? "" : ", no extended master secret (legacy)");
    }
}
