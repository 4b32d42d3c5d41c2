package dev.keyway.tls;

import dev.keyway.tls.TlsServer.Connection;
import dev.keyway.tls.params.TlsException;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ServerLoop}'s I/O on its connections: bytes from the channel into the engine and what it decrypts to the
 * {@link TlsServer.Handler}; the engine's output to the channel, with what the channel does not take kept and counted
 * against the output limits; closing, lingering after a failure, and the end of a connection. Runs on the loop's
 * thread only, so one set of buffers serves all of the loop's connections.
 */
final class ConnectionIo {
    private static final int READ_BUFFER = 64 * 1024;
    /** Output waiting for a slow reader beyond which the server stops reading from that connection. */
    private static final int OUTPUT_HIGH_WATER = 1 << 20;
    /**
     * A closing connection is drained (what the peer still sends is read and dropped) until the peer closes too, or
     * is silent this long, or the server's linger maximum has passed: as nginx's lingering close does, so that a peer
     * still sending sees our last bytes (close_notify or an alert), not a reset.
     */
    private static final long LINGER_NANOS = TimeUnit.SECONDS.toNanos(2);

    private final TlsServer server;
    private final ServerLoop loop;
    private final byte[] readBuffer = new byte[READ_BUFFER];
    private final ByteBuffer readWindow = ByteBuffer.wrap(readBuffer);
    private final ByteBuffer writeBuffer = ByteBuffer.allocateDirect(READ_BUFFER);
    private final byte[] appBuffer = new byte[READ_BUFFER];

    ConnectionIo(TlsServer server, ServerLoop loop) {
        this.server = server;
        this.loop = loop;
    }

    void read(Connection c) {
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
                c.engine = TlsEngine.server(server.config);
            }
            try {
                c.engine.receive(readBuffer, 0, n);
                deliver(c);
            } catch (RuntimeException | Error e) { // a TlsException: its alert is queued
                failAndLinger(c, TlsServer.failureOf(e));
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
        c.lingerStop = now + server.lingerMaxNanos;
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
            server.handler.opened(c);
        }
        while (!c.ended && !c.peerClosedSeen) {
            int n = e.read(appBuffer, 0, appBuffer.length);
            if (n > 0) {
                c.lastActivity = System.nanoTime();
                server.handler.received(c, appBuffer, 0, n);
            } else {
                if (n < 0) {
                    c.peerClosedSeen = true;
                    server.handler.peerClosed(c);
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
            end(c, TlsServer.failureOf(e));
        }
    }

    /** Carries out requests (shutdown, close) and sends what the engine has for the peer. */
    void service(Connection c) {
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
    boolean flush(Connection c) {
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
        long all = server.waitingOutput.addAndGet(waiting - c.counted);
        c.counted = waiting;
        // A peer that does not read while it sends would make us buffer without end: stop reading from it. So do
        // many such peers together: past the budget, every connection whose output waits stops reading until
        // its own output has gone (a reading client soon is; one that does not read holds little more).
        boolean stop = waiting > OUTPUT_HIGH_WATER || all > server.outputBudget;
        c.key.interestOps(stop ? SelectionKey.OP_WRITE : SelectionKey.OP_WRITE | readInterest(c));
        return false;
    }

    private void uncount(Connection c) {
        if (c.counted != 0) {
            server.waitingOutput.addAndGet(-c.counted);
            c.counted = 0;
        }
    }

    /** OP_READ, or nothing once the peer's input has ended (its end of stream would be reported forever). */
    private static int readInterest(Connection c) {
        return c.inputEnded ? 0 : SelectionKey.OP_READ;
    }

    void end(Connection c, Exception failure) {
        if (c.ended) {
            return;
        }
        c.ended = true;
        c.gone = true;
        uncount(c);
        if (c.key != null) {
            c.key.cancel();
        }
        ServerLoop.closeQuietly(c.channel);
        loop.remove(c);
        try {
            server.handler.closed(c, failure);
        } catch (RuntimeException | Error e) {
            TlsServer.failureOf(e); // a handler's bug must not take the loop down with it
        } finally {
            // Only now: connections() and awaitDone() must not report the connection gone before its handler knows.
            server.forget(c.remote);
        }
    }
}
