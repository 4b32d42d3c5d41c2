package dev.keyway.bench;

import dev.keyway.bench.TlsBenchImpls.Conn;
import dev.keyway.bench.TlsBenchImpls.Impl;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static dev.keyway.bench.TlsBenchModes.threadCpuNanos;

/**
 * {@link TlsBench}'s server shape, the same for both implementations: a plain listener on 127.0.0.1, an acceptor
 * thread and a pool of workers, running the echo (handshake modes) or the bulk sink.
 */
final class TlsBenchServer {
    private TlsBenchServer() {
    }

    interface Handler {
        void handle(Conn c) throws IOException;
    }

    /** A server under measurement: where it listens, and the errors it met. */
    interface Listening extends Closeable {
        int port();

        int errors();
    }

    static final class Server implements Listening {
        final ServerSocket listener;
        private final ExecutorService workers;
        private final Thread acceptor;
        final AtomicInteger errors = new AtomicInteger();
        final ConcurrentLinkedQueue<String> firstErrors = new ConcurrentLinkedQueue<>();
        private volatile boolean closing;

        Server(Impl impl, Handler handler, int threads, boolean noDelay) throws IOException {
            listener = new ServerSocket();
            listener.setReuseAddress(true);
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
            AtomicInteger n = new AtomicInteger();
            workers = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, impl.name() + "-server-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            acceptor = new Thread(() -> {
                while (!closing) {
                    Socket s;
                    try {
                        s = listener.accept();
                        s.setTcpNoDelay(noDelay);
                    } catch (IOException e) {
                        if (!closing) {
                            note(this, "accept: " + e);
                        }
                        return;
                    }
                    workers.execute(() -> {
                        try (Conn c = impl.accept(s)) {
                            handler.handle(c);
                        } catch (IOException | RuntimeException e) {
                            if (!closing) {
                                note(this, "server: " + e);
                            }
                            closeQuietly(s);
                        }
                    });
                }
            }, impl.name() + "-acceptor");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        @Override
        public int port() {
            return listener.getLocalPort();
        }

        @Override
        public int errors() {
            return errors.get();
        }

        @Override
        public void close() throws IOException {
            closing = true;
            listener.close();
            workers.shutdown();
            try {
                if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
                    workers.shutdownNow();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void note(Server s, String error) {
        s.errors.incrementAndGet();
        if (s.firstErrors.size() < 5) {
            s.firstErrors.add(error);
        }
    }

    static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /** Server side of a handshake-mode connection: echo one byte, then read to the client's close. */
    static void echo(Conn c) throws IOException {
        InputStream in = c.in();
        int b = in.read();
        if (b < 0) {
            throw new IOException("the client closed before its byte");
        }
        c.out().write(b);
        c.out().flush();
        byte[] sink = new byte[256];
        try {
            while (in.read(sink) >= 0) {
                // nothing else is expected but close_notify
            }
        } catch (SocketException | EOFException e) {
            // the client closed its socket right after close_notify: not an error of the exchange
        }
    }

    /** The bulk server thread's CPU time at its last acknowledgement (ns), for the split of CPU between the sides. */
    static final AtomicLong SINK_CPU = new AtomicLong();

    /** Server side of bulk: count bytes, answer each full round with one byte. */
    static Handler bulkSink(long roundBytes) {
        return c -> {
            InputStream in = c.in();
            byte[] buf = new byte[64 * 1024];
            long got = 0;
            int n;
            try {
                while ((n = in.read(buf)) >= 0) {
                    got += n;
                    while (got >= roundBytes) {
                        got -= roundBytes;
                        SINK_CPU.set(threadCpuNanos());
                        c.out().write(1);
                        c.out().flush();
                    }
                }
            } catch (SocketException | EOFException e) {
                // the client closed its socket right after close_notify
            }
        };
    }
}
