package dev.keyway.tls;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <p>Handshakes run on the loop threads (one per core by default); a {@link dev.keyway.tls.session.SessionStore}
 * that goes over the network (Redis) is called from there too.
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
         * {@link java.util.concurrent.TimeoutException} (handshake or idle timeout), an {@link IOException}.
         */
        default void closed(Connection c, Exception failure) {
        }
    }

    /** Called (on the accepting thread) for a connection closed at once because of a cap; must not block. */
    public interface RefusalListener {
        void refused(InetSocketAddress remote, String reason);
    }

    private static final int READ_BUFFER = 64 * 1024;
    /** Output waiting for a slow reader beyond which the server stops reading from that connection. */
    private static final int OUTPUT_HIGH_WATER = 1 << 20;
    /**
     * A closing connection is drained (what the peer still sends is read and dropped) until the peer closes too, or
     * is silent this long, or {@link #DEFAULT_LINGER_MAX_NANOS} have passed: as nginx's lingering close does, so that a peer
     * still sending sees our last bytes (close_notify or an alert), not a reset.
     */
    private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long DEFAULT_LINGER_MAX_NANOS = TimeUnit.SECONDS.toNanos(60);
    /**
     * Output waiting for slow readers, all connections together, beyond which every connection with output waiting
     * stops reading: a quarter of the heap. The high-water mark alone bounds one connection, not 10,000 of them
     * (10 GiB: non-reading clients from a few addresses would exhaust the heap).
     */
    private static final long DEFAULT_OUTPUT_BUDGET = Runtime.getRuntime().maxMemory() / 4;

    private final TlsConfig config;
    private final Handler handler;
    private final RefusalListener refusals;
    private final long handshakeNanos;
    private final long idleNanos;
    private final int maxPerAddress;
    private final int maxConnections;
    private final long acceptLimit;
    private final long outputBudget;
    private final long lingerMaxNanos;
    /** Output waiting in all, as each connection last measured it when its output stalled. */
    private final AtomicLong waitingOutput = new AtomicLong();
    private final ServerSocketChannel listener;
    private final Loop[] loops;
    private final InetSocketAddress bound;
    /** Open connections per {@link #source}. */
    private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicLong accepted = new AtomicLong();
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean accepting = true;
    private volatile boolean closed;
    private int nextLoop;

    private TlsServer(Builder b) throws IOException {
        this.config = b.config;
        this.handler = b.handler;
        this.refusals = b.refusals;
        this.handshakeNanos = b.handshakeTimeout.toNanos();
        this.idleNanos = b.idleTimeout.toNanos();
        this.maxPerAddress = b.maxPerAddress;
        this.maxConnections = b.maxConnections;
        this.acceptLimit = b.acceptLimit;
        this.outputBudget = b.outputBudget;
        this.lingerMaxNanos = b.lingerMax.toNanos();
        this.listener = ServerSocketChannel.open();
        this.loops = new Loop[b.loops];
        try {
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(b.address, b.backlog);
            listener.configureBlocking(false);
            bound = (InetSocketAddress) listener.getLocalAddress();
            for (int i = 0; i < loops.length; i++) {
                loops[i] = new Loop(i);
            }
            loops[0].selector.wakeup();
            loops[0].acceptKey = listener.register(loops[0].selector, SelectionKey.OP_ACCEPT);
        } catch (IOException | RuntimeException e) {
            for (Loop l : loops) {
                if (l != null) {
                    l.selector.close();
                }
            }
            listener.close();
            throw e;
        }
        for (Loop l : loops) {
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
        return open.get();
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
        for (Loop l : loops) {
            l.selector.wakeup();
        }
        for (Loop l : loops) {
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

    private void stopAccepting(Loop acceptLoop) {
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

    private void release(InetAddress address) {
        perAddress.computeIfPresent(source(address), (a, n) -> n == 1 ? null : n - 1);
    }

    /**
     * What the per-address cap counts a connection under: its IPv4 address, or the /64 its IPv6 address is in. An
     * IPv6 host is usually given a whole /64 (interface IDs are 64 bits, RFC 4291 section 2.5.1) and may pick any
     * address in it, so a cap per single address would hold it to nothing.
     */
    static InetAddress source(InetAddress address) {
        if (!(address instanceof java.net.Inet6Address)) {
            return address;
        }
        byte[] prefix = address.getAddress();
        java.util.Arrays.fill(prefix, 8, 16, (byte) 0);
        try {
            return InetAddress.getByAddress(prefix);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("16 bytes are an IPv6 address", e);
        }
    }

    /** A source as a refusal names it: {@code 192.0.2.7}, or {@code 2001:db8:0:1:0:0:0:0/64}. */
    private static String describe(InetAddress source) {
        return source.getHostAddress() + (source instanceof java.net.Inet6Address ? "/64" : "");
    }

    private void checkDone() {
        if (!accepting && open.get() == 0) {
            done.countDown();
        }
    }

    /** One connection as the handler sees it. Writing and closing may be called from any thread. */
    public final class Connection {
        private final Loop loop;
        private final SocketChannel channel;
        private final InetSocketAddress remote;
        private final long acceptedAt;
        private SelectionKey key;
        private TlsEngine engine;
        private boolean opened;
        private boolean peerClosedSeen;
        /** The peer's TCP stream ended after its close_notify (a half-close): nothing more to read, output still goes. */
        private boolean inputEnded;
        /** Bytes the channel did not take yet. */
        private ByteBuffer pending;
        /**
         * When application data last moved (in to the handler, or out from its write) or the handshake ended. Records
         * without data (KeyUpdates, empty records, refused renegotiations) do not count: TLS has no keepalive, and a
         * peer could hold its slot with them for ever. Written from other threads too (write).
         */
        private volatile long lastActivity;
        /** While {@link #pending} waits: when the peer last took a byte of it (or when it began to wait). */
        private long lastTaken;
        /** This connection's share of {@link #waitingOutput}. */
        private long counted;
        /** Set when the socket's output was shut: drain the peer until EOF or this deadline. */
        private long lingerUntil;
        private long lingerStop;
        /** Why the connection is ending while it lingers (reported when it ends); null for a clean close. */
        private Exception failure;
        /** Shut the socket's output once what waits has gone (the alert of a failure). */
        private boolean shutWhenFlushed;
        private boolean ended;
        /** {@link #ended} for other threads: write refuses once it is set. */
        private volatile boolean gone;
        private volatile boolean closeRequested;
        private volatile boolean shutdownRequested;
        private volatile Object attachment;

        private Connection(Loop loop, SocketChannel channel, InetSocketAddress remote, long now) {
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

    private final class Loop implements Runnable {
        private final Selector selector;
        private final Thread thread;
        /** Connections the accepting loop admitted for this one, with the address they were counted under. */
        private final ConcurrentLinkedQueue<Handoff> adopted = new ConcurrentLinkedQueue<>();
        private final ConcurrentLinkedQueue<Connection> requests = new ConcurrentLinkedQueue<>();
        private final Set<Connection> connections = new LinkedHashSet<>();
        private final byte[] readBuffer = new byte[READ_BUFFER];
        private final ByteBuffer readWindow = ByteBuffer.wrap(readBuffer);
        private final ByteBuffer writeBuffer = ByteBuffer.allocateDirect(READ_BUFFER);
        private final byte[] appBuffer = new byte[READ_BUFFER];
        private SelectionKey acceptKey;
        private long nextSweep;

        Loop(int index) throws IOException {
            this.selector = Selector.open();
            this.thread = new Thread(this, "keyway-tls-loop-" + index);
            thread.setDaemon(true);
        }

        void requestFlush(Connection c) {
            if (Thread.currentThread() == thread) {
                service(c);
            } else {
                requests.add(c);
                selector.wakeup();
            }
        }

        @Override
        public void run() {
            try {
                while (!closed) {
                    long now = System.nanoTime();
                    long wait = connections.isEmpty() ? 0 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextSweep - now) + 1);
                    selector.select(wait);
                    if (closed) {
                        break;
                    }
                    now = System.nanoTime();
                    Handoff h;
                    while ((h = adopted.poll()) != null) {
                        adopt(h.channel(), h.remote(), now);
                    }
                    Connection c;
                    while ((c = requests.poll()) != null) {
                        service(c);
                    }
                    for (SelectionKey k : selector.selectedKeys()) {
                        if (!k.isValid()) {
                            continue;
                        }
                        if (k == acceptKey) {
                            acceptSome();
                            continue;
                        }
                        Connection conn = (Connection) k.attachment();
                        if (k.isWritable()) {
                            flush(conn);
                        }
                        if (!conn.ended && k.isValid() && k.isReadable()) {
                            read(conn);
                        }
                    }
                    selector.selectedKeys().clear();
                    if (System.nanoTime() - nextSweep >= 0) {
                        sweep(System.nanoTime());
                    }
                }
            } catch (IOException | ClosedSelectorException e) {
                // the selector broke: nothing below can go on; the connections are closed below
            } finally {
                for (Connection c : new ArrayList<>(connections)) {
                    end(c, null);
                }
                dropHandoffs();
                try {
                    selector.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
                if (!closed) {
                    // This loop died (its selector broke, or the JVM failed: see failureOf) while the others would
                    // go on handing it connections nobody serves: the whole server stops instead of half-serving.
                    TlsServer.this.close();
                }
            }
        }

        private void acceptSome() {
            for (int i = 0; i < 64 && accepting; i++) {
                SocketChannel ch;
                try {
                    ch = listener.accept();
                } catch (IOException e) {
                    return; // e.g. out of file descriptors: try again on the next wake-up
                }
                if (ch == null) {
                    return;
                }
                InetSocketAddress remote;
                try {
                    remote = (InetSocketAddress) ch.getRemoteAddress();
                } catch (IOException e) {
                    closeQuietly(ch);
                    continue;
                }
                String refusal = admit(remote);
                if (refusal != null) {
                    closeQuietly(ch);
                    if (refusals != null) {
                        try {
                            refusals.refused(remote, refusal);
                        } catch (RuntimeException e) {
                            // a listener's bug must not stop this loop, the only one that accepts
                        }
                    }
                    continue;
                }
                loops[nextLoop].hand(ch, remote);
                nextLoop = (nextLoop + 1) % loops.length;
                if (accepted.incrementAndGet() >= acceptLimit) {
                    stopAccepting(this);
                    return;
                }
            }
        }

        /** Counts the connection in, or says why it is refused. */
        private String admit(InetSocketAddress remote) {
            if (open.incrementAndGet() > maxConnections) {
                open.decrementAndGet();
                return "the server holds " + maxConnections + " connections, its limit";
            }
            InetAddress source = source(remote.getAddress());
            int n = perAddress.merge(source, 1, Integer::sum);
            if (n > maxPerAddress) {
                release(remote.getAddress());
                open.decrementAndGet();
                return maxPerAddress + " connections from " + describe(source) + " are open already, the limit per address";
            }
            return null;
        }

        void hand(SocketChannel ch, InetSocketAddress remote) {
            if (Thread.currentThread() == thread) {
                adopt(ch, remote, System.nanoTime());
            } else {
                adopted.add(new Handoff(ch, remote));
                selector.wakeup();
                if (closed) {
                    dropHandoffs(); // that loop may have emptied its queue for the last time already
                }
            }
        }

        /**
         * Closes the connections handed to this loop and not adopted yet (it was busy, then the server closed): they
         * were counted in, and nobody else would ever close them.
         */
        private void dropHandoffs() {
            Handoff h;
            while ((h = adopted.poll()) != null) {
                closeQuietly(h.channel());
                forget(h.remote());
            }
        }

        /** {@code remote} is the address the connection was counted under (asked once, when it was accepted). */
        private void adopt(SocketChannel ch, InetSocketAddress remote, long now) {
            Connection c = new Connection(this, ch, remote, now);
            try {
                ch.configureBlocking(false);
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                c.key = ch.register(selector, SelectionKey.OP_READ, c);
            } catch (IOException e) {
                closeQuietly(ch);
                forget(remote);
                return;
            }
            connections.add(c);
            if (connections.size() == 1) {
                nextSweep = now + sweepInterval();
            }
        }

        private void forget(InetSocketAddress remote) {
            release(remote.getAddress());
            open.decrementAndGet();
            checkDone();
        }

        private void read(Connection c) {
            for (int round = 0; round < 4; round++) {
                int n;
                try {
                    readWindow.clear();
                    n = c.channel.read(readWindow);
                } catch (IOException e) {
                    end(c, e);
                    return;
                }
                if (n == 0) {
                    return;
                }
                if (n < 0) {
                    endOfInput(c);
                    return;
                }
                if (c.lingerUntil != 0) {
                    // closing: what the peer still sends is dropped, and it has another moment to finish
                    c.lingerUntil = Math.min(System.nanoTime() + LINGER_NANOS, c.lingerStop);
                    continue;
                }
                if (c.engine == null) {
                    c.engine = TlsEngine.server(config);
                }
                try {
                    c.engine.receive(readBuffer, 0, n);
                    deliver(c);
                } catch (RuntimeException | Error e) { // a TlsException: its alert is queued
                    failAndLinger(c, failureOf(e));
                    return;
                }
                if (c.ended) {
                    return;
                }
                service(c);
                if (c.ended || (c.key.interestOps() & SelectionKey.OP_READ) == 0 || n < readBuffer.length) {
                    return;
                }
            }
        }

        /**
         * A fatal error: the alert goes out, then a FIN, and what the peer still sends is read and dropped for a
         * moment before the socket closes. Closing at once, with the peer's bytes unread, would reset the connection,
         * and a reset can wipe the alert from the peer's receive buffer before it reads it.
         */
        private void failAndLinger(Connection c, Exception failure) {
            c.failure = failure;
            linger(c);
            c.shutWhenFlushed = true;
            flush(c);
        }

        private void linger(Connection c) {
            long now = System.nanoTime();
            c.lingerStop = now + lingerMaxNanos;
            c.lingerUntil = now + LINGER_NANOS;
        }

        /** Hands the handler what the engine has: the end of the handshake, data, the peer's close_notify. */
        private void deliver(Connection c) {
            TlsEngine e = c.engine;
            if (!c.opened) {
                if (!e.isHandshakeComplete()) {
                    return;
                }
                c.opened = true;
                c.lastActivity = System.nanoTime();
                handler.opened(c);
            }
            while (!c.ended && !c.peerClosedSeen) {
                int n = e.read(appBuffer, 0, appBuffer.length);
                if (n > 0) {
                    c.lastActivity = System.nanoTime();
                    handler.received(c, appBuffer, 0, n);
                } else {
                    if (n < 0) {
                        c.peerClosedSeen = true;
                        handler.peerClosed(c);
                    }
                    return;
                }
            }
        }

        private void endOfInput(Connection c) {
            if (c.lingerUntil != 0 || c.engine == null) {
                end(c, c.lingerUntil != 0 ? c.failure : new EOFException("the peer closed the connection before sending anything"));
                return;
            }
            try {
                c.engine.receiveEnd();
                // A half-close (close_notify, then FIN) while the peer may still be reading: what we owe it (the
                // rest of an echo, say) must still go, so the connection ends once that has gone (service), not now.
                c.inputEnded = true;
                if (!c.peerClosedSeen) {
                    deliver(c);
                }
                if (!c.ended) {
                    c.key.interestOps(c.key.interestOps() & ~SelectionKey.OP_READ);
                    service(c);
                }
            } catch (EOFException e) {
                end(c, e);
            } catch (TlsException e) {
                flush(c);
                end(c, e);
            } catch (RuntimeException | Error e) {
                end(c, failureOf(e));
            }
        }

        /** Carries out requests (shutdown, close) and sends what the engine has for the peer. */
        private void service(Connection c) {
            if (c.ended) {
                return;
            }
            if ((c.closeRequested || c.shutdownRequested) && c.engine != null && c.opened && !c.engine.isOutboundDone()) {
                c.engine.closeOutbound();
            }
            if (!flush(c)) {
                return;
            }
            if (c.closeRequested && c.lingerUntil == 0) {
                if (c.engine == null || !c.opened || c.inputEnded) {
                    end(c, null);
                    return;
                }
                try {
                    c.channel.shutdownOutput();
                } catch (IOException e) {
                    end(c, null);
                    return;
                }
                linger(c);
                c.key.interestOps(SelectionKey.OP_READ);
            }
        }

        /** Writes what waits; true when everything went (else OP_WRITE is armed and reading may pause). */
        private boolean flush(Connection c) {
            if (c.ended) {
                return false;
            }
            try {
                if (c.pending != null) {
                    if (c.channel.write(c.pending) > 0) {
                        c.lastTaken = System.nanoTime();
                    }
                    if (c.pending.hasRemaining()) {
                        return waitForWrite(c);
                    }
                    c.pending = null;
                    c.lastActivity = System.nanoTime(); // a slow reader that took a big answer at last was not idle
                }
                while (c.engine != null && c.engine.outputLength() > 0) {
                    writeBuffer.clear();
                    c.engine.takeOutput(writeBuffer);
                    writeBuffer.flip();
                    c.channel.write(writeBuffer);
                    if (writeBuffer.hasRemaining()) {
                        c.pending = ByteBuffer.allocate(writeBuffer.remaining());
                        c.pending.put(writeBuffer).flip();
                        c.lastTaken = System.nanoTime();
                        return waitForWrite(c);
                    }
                }
            } catch (IOException e) {
                end(c, e);
                return false;
            }
            uncount(c);
            if (c.key.isValid() && c.key.interestOps() != readInterest(c)) {
                c.key.interestOps(readInterest(c));
            }
            if (c.shutWhenFlushed) {
                c.shutWhenFlushed = false;
                try {
                    c.channel.shutdownOutput();
                } catch (IOException e) {
                    end(c, c.failure);
                    return false;
                }
            }
            return true;
        }

        private boolean waitForWrite(Connection c) {
            int waiting = c.pending.remaining() + (c.engine == null ? 0 : c.engine.outputLength());
            long all = waitingOutput.addAndGet(waiting - c.counted);
            c.counted = waiting;
            // A peer that does not read while it sends would make us buffer without end: stop reading from it. So do
            // many such peers together: past the budget, every connection whose output waits stops reading until
            // its own output has gone (a reading client soon is; one that does not read holds little more).
            boolean stop = waiting > OUTPUT_HIGH_WATER || all > outputBudget;
            c.key.interestOps(stop ? SelectionKey.OP_WRITE : SelectionKey.OP_WRITE | readInterest(c));
            return false;
        }

        private void uncount(Connection c) {
            if (c.counted != 0) {
                waitingOutput.addAndGet(-c.counted);
                c.counted = 0;
            }
        }

        /** OP_READ, or nothing once the peer's input has ended (its end of stream would be reported forever). */
        private int readInterest(Connection c) {
            return c.inputEnded ? 0 : SelectionKey.OP_READ;
        }

        private void sweep(long now) {
            for (Connection c : connections.toArray(new Connection[0])) {
                if (c.ended) {
                    continue;
                }
                if (c.lingerUntil != 0) {
                    if (now - c.lingerUntil >= 0) {
                        end(c, c.failure);
                    }
                } else if (!c.opened && now - c.acceptedAt >= handshakeNanos) {
                    flush(c);
                    end(c, new java.util.concurrent.TimeoutException("no complete handshake within " + seconds(handshakeNanos)));
                } else if (c.opened && c.pending != null && now - c.lastTaken >= idleNanos) {
                    // A peer that reads nothing while it goes on sending (a byte now and then, KeyUpdates) is not
                    // idle by the rule below, yet it holds our output and its slot for ever: what it sends does
                    // not count while our output for it is stuck.
                    end(c, new java.util.concurrent.TimeoutException("the peer took no data for " + seconds(idleNanos) + ": closed"));
                } else if (c.opened && c.pending == null && now - c.lastActivity >= idleNanos) {
                    // (while output waits, the rule above applies: a slow reader taking a big answer is not idle)
                    end(c, new java.util.concurrent.TimeoutException("idle for " + seconds(idleNanos) + ": closed"));
                }
            }
            nextSweep = now + sweepInterval();
        }

        private void end(Connection c, Exception failure) {
            if (c.ended) {
                return;
            }
            c.ended = true;
            c.gone = true;
            uncount(c);
            if (c.key != null) {
                c.key.cancel();
            }
            closeQuietly(c.channel);
            connections.remove(c);
            try {
                handler.closed(c, failure);
            } catch (RuntimeException | Error e) {
                failureOf(e); // a handler's bug must not take the loop down with it
            } finally {
                // Only now: connections() and awaitDone() must not report the connection gone before its handler knows.
                forget(c.remote);
            }
        }
    }

    /**
     * What a handler (or the engine) threw, as the failure that ends its connection. A handler's bug, even an Error
     * such as an AssertionError or a StackOverflowError, ends that connection and not the loop that serves the
     * others. A JVM in trouble (out of memory, an internal error) is thrown on: the loop dies and the server stops.
     */
    private static Exception failureOf(Throwable t) {
        if (t instanceof Exception e) {
            return e;
        }
        if (t instanceof VirtualMachineError && !(t instanceof StackOverflowError)) {
            throw (Error) t;
        }
        return new IllegalStateException("the connection's handler failed (" + t + ")", t);
    }

    /** A connection on its way from the accepting loop to another. */
    private record Handoff(SocketChannel channel, InetSocketAddress remote) {
    }

    /** Timeouts are checked this often: a tenth of the shorter one, between 10 ms and 1 s. */
    private long sweepInterval() {
        long tenth = Math.min(handshakeNanos, idleNanos) / 10;
        return Math.max(TimeUnit.MILLISECONDS.toNanos(10), Math.min(tenth, TimeUnit.SECONDS.toNanos(1)));
    }

    private static String seconds(long nanos) {
        long ms = TimeUnit.NANOSECONDS.toMillis(nanos);
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    private static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing anyway
        }
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

        /** Output waiting for slow readers in all before they stop being read (default: a quarter of the heap); for tests. */
        /** The longest a closing connection is drained (default 60 s); for tests. */
        Builder lingerMax(Duration d) {
            this.lingerMax = positive(d, "linger");
            return this;
        }

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
