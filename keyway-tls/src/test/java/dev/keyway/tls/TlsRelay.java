package dev.keyway.tls;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A man in the middle for tests: listens on 127.0.0.1, takes one connection, connects it to {@code upstream}
 * and pumps TLS records both ways, record by record, through a {@link Hook} that may change, add, cut or drop
 * bytes, or close everything. Every record seen is kept (as received, before the hook) for later replay.
 */
final class TlsRelay implements Closeable {
    /** What to send on for one record, and whether to close both connections right after it. */
    record Forward(byte[] bytes, boolean thenClose) {
        static Forward as(byte[] bytes) {
            return new Forward(bytes, false);
        }

        static Forward closeAfter(byte[] bytes) {
            return new Forward(bytes, true);
        }
    }

    /** Decides what a record turns into; {@code index} counts the records of one direction from 0. */
    @FunctionalInterface
    interface Hook {
        Forward apply(boolean toServer, int index, byte[] record) throws Exception;
    }

    static final Hook PASS = (toServer, index, record) -> Forward.as(record);

    private final ServerSocket listener;
    private final int upstream;
    private final Hook hook;
    private final List<byte[]> toServer = Collections.synchronizedList(new ArrayList<>());
    private final List<byte[]> toClient = Collections.synchronizedList(new ArrayList<>());
    private final List<Thread> threads = Collections.synchronizedList(new ArrayList<>());
    private final List<Socket> sockets = Collections.synchronizedList(new ArrayList<>());
    private volatile Throwable hookError;
    private int pumpsDone;

    TlsRelay(int upstream, Hook hook) throws IOException {
        this.listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        this.upstream = upstream;
        this.hook = hook;
        start("relay-accept", this::acceptOne);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** The records the client sent, as received. */
    List<byte[]> clientRecords() {
        synchronized (toServer) {
            return new ArrayList<>(toServer);
        }
    }

    /** The records the server sent, as received. */
    List<byte[]> serverRecords() {
        synchronized (toClient) {
            return new ArrayList<>(toClient);
        }
    }

    /** A failure inside the hook (an assertion in a test's hook, for instance), or null. */
    Throwable hookError() {
        return hookError;
    }

    private void start(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private void acceptOne() {
        try {
            listener.setSoTimeout(20_000);
            Socket client = listener.accept();
            sockets.add(client);
            Socket server = new Socket(InetAddress.getLoopbackAddress(), upstream);
            sockets.add(server);
            client.setSoTimeout(20_000);
            server.setSoTimeout(20_000);
            start("relay-c2s", () -> pump(client, server, true, toServer));
            start("relay-s2c", () -> pump(server, client, false, toClient));
        } catch (IOException e) {
            closeSockets();
        } finally {
            try {
                listener.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    private void pump(Socket from, Socket to, boolean towardsServer, List<byte[]> seen) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int index = 0;
            while (true) {
                byte[] header = in.readNBytes(5);
                if (header.length < 5) {
                    out.write(header);
                    break;
                }
                int length = ((header[3] & 0xff) << 8) | (header[4] & 0xff);
                byte[] body = in.readNBytes(length);
                byte[] record = Arrays.copyOf(header, 5 + body.length);
                System.arraycopy(body, 0, record, 5, body.length);
                if (body.length < length) {
                    out.write(record);
                    break;
                }
                seen.add(record.clone());
                Forward f;
                try {
                    f = hook.apply(towardsServer, index++, record);
                } catch (Throwable t) {
                    hookError = t;
                    closeSockets();
                    return;
                }
                out.write(f.bytes());
                out.flush();
                if (f.thenClose()) {
                    closeSockets();
                    return;
                }
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // One side went away. The other direction may still carry something (an alert): let it finish, the
            // sockets close when both directions are done.
            try {
                to.shutdownOutput();
            } catch (IOException ignored) {
                // already gone
            }
        } finally {
            boolean last;
            synchronized (this) {
                last = ++pumpsDone == 2;
            }
            if (last) {
                closeSockets();
            }
        }
    }

    private void closeSockets() {
        synchronized (sockets) {
            for (Socket s : sockets) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }
    }

    /** Whether both of the relay's sockets and its listener are closed and its threads have ended. */
    boolean finished() {
        synchronized (sockets) {
            for (Socket s : sockets) {
                if (!s.isClosed()) {
                    return false;
                }
            }
        }
        synchronized (threads) {
            for (Thread t : threads) {
                if (t.isAlive()) {
                    return false;
                }
            }
        }
        return listener.isClosed();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        closeSockets();
        List<Thread> copy;
        synchronized (threads) {
            copy = new ArrayList<>(threads);
        }
        for (Thread t : copy) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
