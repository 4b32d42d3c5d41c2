package dev.keyway.tls;

import dev.keyway.tls.TlsServer.Connection;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One selector loop of a {@link TlsServer}, on its own thread: it adopts the connections the accepting loop hands it,
 * wakes up for their I/O (done by its {@link ConnectionIo}) and for requests from other threads, and sweeps them for
 * the handshake and idle timeouts. Loop 0 also accepts, and admits each connection under the server's
 * {@link ConnectionLimits}.
 */
final class ServerLoop implements Runnable {
    final Selector selector;
    final Thread thread;
    private final TlsServer server;
    private final ConnectionIo io;
    /** Connections the accepting loop admitted for this one, with the address they were counted under. */
    private final ConcurrentLinkedQueue<Handoff> adopted = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Connection> requests = new ConcurrentLinkedQueue<>();
    private final Set<Connection> connections = new LinkedHashSet<>();
    SelectionKey acceptKey;
    private long nextSweep;

    /** A connection on its way from the accepting loop to another. */
    private record Handoff(SocketChannel channel, InetSocketAddress remote) {
    }

    ServerLoop(TlsServer server, int index) throws IOException {
        this.server = server;
        this.io = new ConnectionIo(server, this);
        this.selector = Selector.open();
        this.thread = new Thread(this, "keyway-tls-loop-" + index);
        thread.setDaemon(true);
    }

    void requestFlush(Connection c) {
        if (Thread.currentThread() == thread) {
            io.service(c);
        } else {
            requests.add(c);
            selector.wakeup();
        }
    }

    @Override
    public void run() {
        try {
            while (!server.closed) {
                long now = System.nanoTime();
                long wait = connections.isEmpty() ? 0 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(nextSweep - now) + 1);
                selector.select(wait);
                if (server.closed) {
                    break;
                }
                runOnce(System.nanoTime());
            }
        } catch (IOException | ClosedSelectorException e) {
            // the selector broke: nothing below can go on; the connections are closed below
        } finally {
            for (Connection c : new ArrayList<>(connections)) {
                io.end(c, null);
            }
            dropHandoffs();
            try {
                selector.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            if (!server.closed) {
                // This loop died (its selector broke, or the JVM failed: see failureOf) while the others would
                // go on handing it connections nobody serves: the whole server stops instead of half-serving.
                server.close();
            }
        }
    }

    /** After a wake-up: adopts handed connections, carries out requests, serves ready keys, sweeps when due. */
    private void runOnce(long now) {
        Handoff h;
        while ((h = adopted.poll()) != null) {
            adopt(h.channel(), h.remote(), now);
        }
        Connection c;
        while ((c = requests.poll()) != null) {
            io.service(c);
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
                io.flush(conn);
            }
            if (!conn.ended && k.isValid() && k.isReadable()) {
                io.read(conn);
            }
        }
        selector.selectedKeys().clear();
        if (System.nanoTime() - nextSweep >= 0) {
            sweep(System.nanoTime());
        }
    }

    private void acceptSome() {
        for (int i = 0; i < 64 && server.accepting; i++) {
            SocketChannel ch;
            try {
                ch = server.listener.accept();
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
            String refusal = server.limits.admit(remote);
            if (refusal != null) {
                closeQuietly(ch);
                server.refused(remote, refusal);
                continue;
            }
            server.nextLoop().hand(ch, remote);
            if (server.acceptedOne()) {
                server.stopAccepting(this);
                return;
            }
        }
    }

    void hand(SocketChannel ch, InetSocketAddress remote) {
        if (Thread.currentThread() == thread) {
            adopt(ch, remote, System.nanoTime());
        } else {
            adopted.add(new Handoff(ch, remote));
            selector.wakeup();
            if (server.closed) {
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
            server.forget(h.remote());
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
            server.forget(remote);
            return;
        }
        connections.add(c);
        if (connections.size() == 1) {
            nextSweep = now + sweepInterval();
        }
    }

    /** A connection has ended ({@link ConnectionIo#end}): it is no longer swept or closed with the loop. */
    void remove(Connection c) {
        connections.remove(c);
    }

    private void sweep(long now) {
        long handshakeNanos = server.handshakeNanos;
        long idleNanos = server.idleNanos;
        for (Connection c : connections.toArray(new Connection[0])) {
            if (c.ended) {
                continue;
            }
            if (c.lingerUntil != 0) {
                if (now - c.lingerUntil >= 0) {
                    io.end(c, c.failure);
                }
            } else if (!c.opened && now - c.acceptedAt >= handshakeNanos) {
                io.flush(c);
                io.end(c, new TimeoutException("no complete handshake within " + seconds(handshakeNanos)));
            } else if (c.opened && c.pending != null && now - c.lastTaken >= idleNanos) {
                // A peer that reads nothing while it goes on sending (a byte now and then, KeyUpdates) is not
                // idle by the rule below, yet it holds our output and its slot for ever: what it sends does
                // not count while our output for it is stuck.
                io.end(c, new TimeoutException("the peer took no data for " + seconds(idleNanos) + ": closed"));
            } else if (c.opened && c.pending == null && now - c.lastActivity >= idleNanos) {
                // (while output waits, the rule above applies: a slow reader taking a big answer is not idle)
                io.end(c, new TimeoutException("idle for " + seconds(idleNanos) + ": closed"));
            }
        }
        nextSweep = now + sweepInterval();
    }

    /** Timeouts are checked this often: a tenth of the shorter one, between 10 ms and 1 s. */
    private long sweepInterval() {
        long tenth = Math.min(server.handshakeNanos, server.idleNanos) / 10;
        return Math.max(TimeUnit.MILLISECONDS.toNanos(10), Math.min(tenth, TimeUnit.SECONDS.toNanos(1)));
    }

    private static String seconds(long nanos) {
        long ms = TimeUnit.NANOSECONDS.toMillis(nanos);
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    static void closeQuietly(SocketChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
