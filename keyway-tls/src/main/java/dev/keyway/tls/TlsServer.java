package dev.keyway.tls;

import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.session.SessionStore;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TLS server driven by selector loops: every connection is a {@link TlsEngine} fed from a non-blocking
 * channel, so a silent or half-open connection costs a few hundred bytes and no thread, and cannot make a
 * normal client wait. What happens on a connection is the {@link Handler}'s business; its methods run on
 * the connection's loop thread, one at a time per connection, and must not block.
 *
 * <p>Limits a server on the internet needs, each a {@link Builder} setting: a handshake timeout (from accept to
 * the end of the handshake, default 10 s), an idle timeout (no application data in either direction, or output
 * for the peer that it has taken none of, whatever it sends meanwhile; default 2 min), a
 * cap on concurrent connections from one source address (default 256) and in all (default 10,000).
 * A connection over a cap is closed at once, before a byte of TLS. The engine is made on a connection's
 * first byte, so an idle socket holds no record buffers. Output is bounded too: while more than 1 MiB waits
 * for a slow reader, or more than a quarter of the heap for all of them, the server stops reading from a
 * connection whose output waits.
 *
 * <p>Handshakes run on the loop threads (one per core by default); a {@link SessionStore}
 * that goes over the network (Redis) is called from there too.
 *
 * <p>The pieces: this class is the public face (handler, connection, builder) and the lifecycle; each
 * {@code ServerLoop} is a selector thread (accepting on loop 0, adopting connections, timeouts), its
 * {@code ConnectionIo} does a connection's reads, writes, closing and lingering, and {@code ConnectionLimits}
 * counts connections against the caps.
 */
public final class TlsServer implements Closeable {
    /**
     * What the server does with a connection. Methods run on the connection's loop thread; they must not block.
     * What a method throws (an Error too, short of the JVM's own) ends that connection only: closed() is told why.
     */
    public interface Handler {
        /** The handshake is complete: {@link Connection#engine()} tells what was negotiated. */
        default void opened(Connection c) {
        }

        /** Application data arrived; {@code b[off, off + len)} is valid only during the call. */
        void received(Connection c, byte[] b, int off, int len);

        /** The peer sent close_notify: by default the server closes too. */
        default void peerClosed(Connection c) {
            c.close();
        }

        /**
         * The connection is gone. {@code failure} is null after a clean close, else why it ended: a
         * {@link TlsException} (the alert, sent or received), an {@link EOFException} (cut short), a
         * {@link TimeoutException} (handshake or idle timeout), an {@link IOException}.
         */
        default void closed(Connection c, Exception failure) {
        }
    }

    /** Called (on the accepting thread) for a connection closed at once because of a cap; must not block. */
    public interface RefusalListener {
        void refused(InetSocketAddress remote, String reason);
    }

    /** Default of {@link Builder#lingerMax}: the longest a closing connection is drained. */
    private static final long DEFAULT_LINGER_MAX_NANOS = TimeUnit.SECONDS.toNanos(60);
    /**
     * Output waiting for slow readers, all connections together, beyond which every connection with output waits
     * stops reading: a quarter of the heap. The high-water mark alone bounds one connection, not 10,000 of them
     * (10 GiB: non-reading clients from a few addresses would exhaust the heap).
     */
    private static final long DEFAULT_OUTPUT_BUDGET = Runtime.getRuntime().maxMemory() / 4;

    final TlsConfig config;
    final Handler handler;
    private final RefusalListener refusals;
    final long handshakeNanos;
    final long idleNanos;
    final ConnectionLimits limits;
    private final long acceptLimit;
    final long outputBudget;
    final long lingerMaxNanos;
    /** Output waiting in all, as each connection last measured it when its output stalled. */
    final AtomicLong waitingOutput = new AtomicLong();
    final ServerSocketChannel listener;
    private final ServerLoop[] loops;
    private final InetSocketAddress bound;
    private final AtomicLong accepted = new AtomicLong();
    private final CountDownLatch done = new CountDownLatch(1);
    volatile boolean accepting = true;
    volatile boolean closed;
    private int nextLoop;

    private TlsServer(Builder b) throws IOException {
        this.config = b.config;
        this.handler = b.handler;
        this.refusals = b.refusals;
        this.handshakeNanos = b.handshakeTimeout.toNanos();
        this.idleNanos = b.idleTimeout.toNanos();
        this.limits = new ConnectionLimits(b.maxPerAddress, b.maxConnections);
        this.acceptLimit = b.acceptLimit;
        this.outputBudget = b.outputBudget;
        this.lingerMaxNanos = b.lingerMax.toNanos();
        this.listener = ServerSocketChannel.open();
        this.loops = new ServerLoop[b.loops];
        try {
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(b.address, b.backlog);
            listener.configureBlocking(false);
            bound = (InetSocketAddress) listener.getLocalAddress();
            for (int i = 0; i < loops.length; i++) {
                loops[i] = new ServerLoop(this, i);
            }
            loops[0].selector.wakeup();
            loops[0].acceptKey = listener.register(loops[0].selector, SelectionKey.OP_ACCEPT);
        } catch (IOException | RuntimeException e) {
            for (ServerLoop l : loops) {
                if (l != null) {
                    l.selector.close();
                }
            }
            listener.close();
            throw e;
        }
        for (ServerLoop l : loops) {
            l.thread.start();
        }
    }

    public static Builder builder(TlsConfig config, Handler handler) {
        return new Builder(config, handler);
    }

    /** Where the server listens (the port chosen when the builder asked for port 0). */
    public InetSocketAddress address() {
        return bound;
    }

    /** Connections open now. */
    public int connections() {
        return limits.open();
    }

    /**
     * Waits until the server has accepted its {@link Builder#acceptLimit} connections and every one of them has
     * ended, or it was closed; true when that happened within the timeout.
     */
    public boolean awaitDone(Duration timeout) throws InterruptedException {
        return done.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Stops accepting, closes every connection at once (no close_notify) and stops the loop threads. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        accepting = false;
        for (ServerLoop l : loops) {
            l.selector.wakeup();
        }
        for (ServerLoop l : loops) {
            if (Thread.currentThread() != l.thread) {
                try {
                    l.thread.join(TimeUnit.SECONDS.toMillis(5));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        try {
            listener.close();
        } catch (IOException ignored) {
            // nothing left to do with it
        }
        done.countDown();
    }

    /** The loop the next accepted connection goes to (on the accepting loop's thread): round robin. */
    ServerLoop nextLoop() {
        ServerLoop l = loops[nextLoop];
        nextLoop = (nextLoop + 1) % loops.length;
        return l;
    }

    /** Counts an accepted connection; true when it was the last the accept limit allows. */
    boolean acceptedOne() {
        return accepted.incrementAndGet() >= acceptLimit;
    }

    /** Tells the refusal listener, if any, of a connection closed at once by a cap. */
    void refused(InetSocketAddress remote, String reason) {
        if (refusals != null) {
            try {
                refusals.refused(remote, reason);
            } catch (RuntimeException e) {
                // a listener's bug must not stop the accepting loop, the only one that accepts
            }
        }
    }

    void stopAccepting(ServerLoop acceptLoop) {
        accepting = false;
        if (acceptLoop.acceptKey != null) {
            acceptLoop.acceptKey.cancel();
            acceptLoop.acceptKey = null;
        }
        try {
            listener.close();
        } catch (IOException ignored) {
            // nothing left to do with it
        }
        checkDone();
    }

    /** A connection counted in has ended (or was never adopted): counted out. */
    void forget(InetSocketAddress remote) {
        limits.release(remote);
        checkDone();
    }

    private void checkDone() {
        if (!accepting && limits.open() == 0) {
            done.countDown();
        }
    }

    /** One connection as the handler sees it. Writing and closing may be called from any thread. */
    public static final class Connection {
        private final ServerLoop loop;
        final SocketChannel channel;
        final InetSocketAddress remote;
        final long acceptedAt;
        SelectionKey key;
        TlsEngine engine;
        boolean opened;
        boolean peerClosedSeen;
        /** The peer's TCP stream ended after its close_notify (a half-close): nothing more to read, output still goes. */
        boolean inputEnded;
        /** Bytes the channel did not take yet. */
        ByteBuffer pending;
        /**
         * When application data last moved (in to the handler, or out from its write) or the handshake ended. Records
         * without data (KeyUpdates, empty records, refused renegotiations) do not count: TLS has no keepalive, and a
         * peer could hold its slot with them for ever. Written from other threads too (write).
         */
        volatile long lastActivity;
        /** While {@link #pending} waits: when the peer last took a byte of it (or when it began to wait). */
        long lastTaken;
        /** This connection's share of {@link TlsServer#waitingOutput}. */
        long counted;
        /** Set when the socket's output was shut: drain the peer until EOF or this deadline. */
        long lingerUntil;
        long lingerStop;
        /** Why the connection is ending while it lingers (reported when it ends); null for a clean close. */
        Exception failure;
        /** Shut the socket's output once what waits has gone (the alert of a failure). */
        boolean shutWhenFlushed;
        boolean ended;
        /** {@link #ended} for other threads: write refuses once it is set. */
        volatile boolean gone;
        volatile boolean closeRequested;
        volatile boolean shutdownRequested;
        private volatile Object attachment;

        Connection(ServerLoop loop, SocketChannel channel, InetSocketAddress remote, long now) {
            this.loop = loop;
            this.channel = channel;
            this.remote = remote;
            this.acceptedAt = now;
            this.lastActivity = now;
        }

        /** The connection's engine: after {@link Handler#opened}, the negotiated version, suite, client certificates. */
        public TlsEngine engine() {
            return engine;
        }

        public InetSocketAddress remote() {
            return remote;
        }

        public void attach(Object o) {
            attachment = o;
        }

        public Object attachment() {
            return attachment;
        }

        /**
         * Seals application data and sends it as soon as the peer takes it. A thread that produces data should wait
         * while {@code engine().outputLength()} is large: the peer may read slowly, or not at all.
         *
         * @throws IllegalStateException before the handshake is complete, after {@link #shutdownOutput}, or once the
         *                               connection has ended: its bytes would wait for a peer that is gone
         */
        public void write(byte[] b, int off, int len) {
            TlsEngine e = engine;
            if (gone || e == null) {
                throw new IllegalStateException(gone ? "the connection is closed" : "the handshake is not complete");
            }
            e.write(b, off, len);
            lastActivity = System.nanoTime();
            loop.requestFlush(this);
        }

        public void write(byte[] b) {
            write(b, 0, b.length);
        }

        /** Sends close_notify; reading goes on until the peer's (then {@link Handler#peerClosed}). */
        public void shutdownOutput() {
            shutdownRequested = true;
            loop.requestFlush(this);
        }

        /** Sends close_notify (after the handshake), then closes once the output has gone. */
        public void close() {
            closeRequested = true;
            loop.requestFlush(this);
        }
    }

    /**
     * What a handler (or the engine) threw, as the failure that ends its connection. A handler's bug, even an Error
     * such as an AssertionError or a StackOverflowError, ends that connection and not the loop that serves the
     * others. A JVM in trouble (out of memory, an internal error) is thrown on: the loop dies and the server stops.
     */
    static Exception failureOf(Throwable t) {
        if (t instanceof Exception e) {
            return e;
        }
        if (t instanceof VirtualMachineError && !(t instanceof StackOverflowError)) {
            throw (Error) t;
        }
        return new IllegalStateException("the connection's handler failed (" + t + ")", t);
    }

    /** Settings of a {@link TlsServer}; {@link #start} binds and starts the loops. */
    public static final class Builder {
        private final TlsConfig config;
        private final Handler handler;
        private InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        private int backlog = 1024;
        private Duration handshakeTimeout = Duration.ofSeconds(10);
        private Duration idleTimeout = Duration.ofMinutes(2);
        private int maxPerAddress = 256;
        private int maxConnections = 10_000;
        private long acceptLimit = Long.MAX_VALUE;
        private long outputBudget = DEFAULT_OUTPUT_BUDGET;
        private Duration lingerMax = Duration.ofNanos(DEFAULT_LINGER_MAX_NANOS);
        private int loops = Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
        private RefusalListener refusals;

        private Builder(TlsConfig config, Handler handler) {
            this.config = Objects.requireNonNull(config, "config");
            this.handler = Objects.requireNonNull(handler, "handler");
        }

        /** Where to listen (default: the loopback address, a free port). */
        public Builder address(InetSocketAddress address) {
            this.address = Objects.requireNonNull(address, "address");
            return this;
        }

        /** Connections the kernel may queue before they are accepted (default 1024). */
        public Builder backlog(int backlog) {
            this.backlog = positive(backlog, "backlog");
            return this;
        }

        /** From accept to the end of the handshake (default 10 s); a slower peer is cut off. */
        public Builder handshakeTimeout(Duration d) {
            this.handshakeTimeout = positive(d, "handshake timeout");
            return this;
        }

        /**
         * After the handshake, how long no application data may move either way before the connection is closed
         * (default 2 min; records without data do not count); also how long output may wait with none of it taken
         * by the peer, whatever the peer sends meanwhile.
         */
        public Builder idleTimeout(Duration d) {
            this.idleTimeout = positive(d, "idle timeout");
            return this;
        }

        /** Concurrent connections from one source address, or one IPv6 /64 (default 256). */
        public Builder maxConnectionsPerAddress(int n) {
            this.maxPerAddress = positive(n, "connections per address");
            return this;
        }

        /** Concurrent connections in all (default 10,000); the process needs a file descriptor for each. */
        public Builder maxConnections(int n) {
            this.maxConnections = positive(n, "connections");
            return this;
        }

        /** Stop accepting after this many connections (default: never); see {@link TlsServer#awaitDone}. */
        public Builder acceptLimit(long n) {
            if (n < 1) {
                throw new IllegalArgumentException("the accept limit must be 1 or more");
            }
            this.acceptLimit = n;
            return this;
        }

        /** The longest a closing connection is drained (default 60 s); for tests. */
        Builder lingerMax(Duration d) {
            this.lingerMax = positive(d, "linger");
            return this;
        }

        /** Output waiting for slow readers in all before they stop being read (default: a quarter of the heap); for tests. */
        Builder outputBudget(long bytes) {
            if (bytes < 1) {
                throw new IllegalArgumentException("the output budget must be 1 byte or more");
            }
            this.outputBudget = bytes;
            return this;
        }

        /** Selector loops, each a thread (default: one per core, at most 8). */
        public Builder loops(int n) {
            this.loops = positive(n, "loops");
            return this;
        }

        /** Told about each connection closed at once by a cap. */
        public Builder onRefused(RefusalListener l) {
            this.refusals = l;
            return this;
        }

        public TlsServer start() throws IOException {
            return new TlsServer(this);
        }

        private static int positive(int n, String what) {
            if (n < 1) {
                throw new IllegalArgumentException(what + " must be 1 or more");
            }
            return n;
        }

        private static Duration positive(Duration d, String what) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("the " + what + " must be positive");
            }
            return d;
        }
    }
}