package dev.keyway.remote;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.tls.TlsServer;

import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * One client connection on the host. Frames are decoded on the server's loop thread; the first must be the HELLO
 * that proves the identity (nothing else is looked at before it), then requests go, one at a time, to a worker
 * thread of the connection, while the frames that belong to the request in progress (stdin, acknowledgements, a
 * file's bytes) go straight to it. A client may have at most {@link #MAX_QUEUED} requests waiting; more is a
 * protocol violation and ends the connection.
 */
final class HostConnection {
    static final int MAX_QUEUED = 16;
    /** Output waiting in the TLS engine beyond which a sender waits for the client to read. */
    private static final int HIGH_WATER = 512 * 1024;
    private static final int MAX_HELLO = 256;

    final RemoteHost host;
    final TlsServer.Connection c;
    private final Frame.Decoder decoder = new Frame.Decoder(MAX_HELLO);
    private final BlockingQueue<Request> requests = new ArrayBlockingQueue<>(MAX_QUEUED);
    /** The stdin of the last RUN decoded (its frames follow it). */
    private StdinBuffer stdin;
    private volatile boolean authenticated;
    private volatile boolean gone;
    private Thread worker;
    /** The client: its name in clients.json and its Ed25519 key (hex). */
    volatile String clientName;
    volatile String clientKey;
    volatile String clientRecipient;
    /** The attached session, or null. */
    volatile HostSession session;
    /** Where the frames of the request in progress go (stdin, acknowledgements, file data), or null. */
    volatile Consumer<Frame> side;

    HostConnection(RemoteHost host, TlsServer.Connection c) {
        this.host = host;
        this.c = c;
    }

    /** On the loop: bytes from the client. */
    void received(byte[] b, int off, int len) {
        List<Frame> frames;
        try {
            frames = decoder.feed(b, off, len);
        } catch (KeywayException e) {
            fail(e);
            return;
        }
        for (Frame f : frames) {
            if (gone) {
                return;
            }
            if (!authenticated) {
                hello(f);
                continue;
            }
            switch (f.type()) {
                case Frame.ACK -> {
                    // on the loop, in order with the requests after it: a DETACH's reply means every ACK before it was applied
                    try {
                        host.acknowledge(this, f);
                    } catch (KeywayException e) {
                        fail(e);
                        return;
                    }
                }
                case Frame.STDIN, Frame.STDIN_END -> {
                    try {
                        if (stdin == null) {
                            throw KeywayException.malformed("stdin without a RUN", "send stdin after RUN");
                        }
                        stdin.offer(f.type() == Frame.STDIN ? f.payload() : null);
                    } catch (KeywayException e) {
                        fail(e);
                        return;
                    }
                }
                case Frame.FILE_DATA, Frame.FILE_END -> {
                    Consumer<Frame> s = side;
                    if (s != null) {
                        s.accept(f);
                    } else if (f.type() == Frame.FILE_DATA || f.type() == Frame.FILE_END) {
                        // a transfer's bytes after the host refused it: the client sent them before it saw the refusal
                        continue;
                    }
                    // a file's bytes in flight when its transfer failed: dropped
                }
                default -> {
                    StdinBuffer in = null;
                    if (f.type() == Frame.RUN) {
                        if (stdin != null && !stdin.ended()) {
                            fail(KeywayException.malformed("a RUN before the last one's STDIN_END", "end each RUN's stdin"));
                            return;
                        }
                        in = stdin = new StdinBuffer();
                    }
                    if (!requests.offer(new Request(f, in))) {
                        fail(KeywayException.malformed("more than " + MAX_QUEUED + " requests waiting", "wait for each reply"));
                        return;
                    }
                    startWorker();
                }
            }
        }
    }

    /** The first frame: the client's proof that it holds the key its certificate (or its ticket's) named. */
    private void hello(Frame f) {
        if (f.type() != Frame.HELLO || f.payload().length > MAX_HELLO) {
            fail(KeywayException.malformed("the first frame must be HELLO", "use a Keyway remote client"));
            return;
        }
        List<X509Certificate> chain = c.engine().peerCertificates();
        byte[] key = chain.isEmpty() ? null : RemoteKeys.ed25519Key(chain.get(0));
        HostDir.Client client = key == null ? null : host.clientByKey(key);
        if (client == null) {
            host.audit("refused", null, null, null, "denied", Map.of("reason", "identity not allowed", "from", c.remote().toString()));
            fail(new KeywayException(ErrorCode.POLICY, "this identity is not allowed on this host", "ask its administrator to 'keyway remote allow' it"));
            return;
        }
        byte[] signature;
        try {
            Fields.Reader r = f.reader();
            signature = r.bytes();
            r.end();
        } catch (KeywayException e) {
            fail(e);
            return;
        }
        byte[] exporter = c.engine().exportKeyingMaterial(RemoteKeys.EXPORTER_LABEL, new byte[0], 32);
        if (!RemoteKeys.verify(key, RemoteKeys.proofMessage(exporter), signature)) {
            host.audit("refused", client.name(), null, null, "auth-failed",
                    Map.of("reason", "the HELLO proof does not verify" + (c.engine().resumed() ? " (resumed with a ticket of " + client.name() + ")" : ""),
                            "from", c.remote().toString()));
            fail(KeywayException.authFailed("the identity proof does not verify"
                    + (c.engine().resumed() ? ": the session ticket belongs to another identity" : ""), "connect with the identity that made the session"));
            return;
        }
        clientName = client.name();
        clientKey = HexFormat.of().formatHex(key);
        clientRecipient = client.recipient().encode();
        authenticated = true;
        send(new Frame(Frame.WELCOME, new Fields.Writer().str(host.recipient()).str(host.hostName())));
    }

    private synchronized void startWorker() {
        if (worker == null) {
            worker = new Thread(this::work, "keyway-remote-conn-" + c.remote());
            worker.setDaemon(true);
            worker.start();
        }
    }

    private void work() {
        try {
            while (!gone) {
                Request q = requests.poll(1, TimeUnit.SECONDS);
                if (q == null) {
                    continue;
                }
                try {
                    handle(q);
                } catch (IllegalStateException e) {
                    // the connection went away under a send: the reply's, or the error's (which escaped this thread,
                    // a stack trace on the service's stderr each time a client left while its error was on the way)
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One request, its failure reported to the client. */
    private void handle(Request q) {
        try {
            host.dispatch(this, q.frame(), q.stdin());
        } catch (KeywayException e) {
            side = null;
            sendError(e);
        } catch (IllegalStateException e) {
            throw e;
        } catch (RuntimeException e) {
            side = null;
            host.log("request failed: " + e);
            sendError(new KeywayException(ErrorCode.INTERNAL, "the host failed: " + Printable.escape(String.valueOf(e.getMessage())), "see the host's log"));
        }
    }

    /** A request and, for a RUN, its stdin. */
    private record Request(Frame frame, StdinBuffer stdin) {
    }

    void sendError(KeywayException e) {
        send(errorFrame(e));
    }

    private static Frame errorFrame(KeywayException e) {
        return new Frame(Frame.ERROR, new Fields.Writer().u8(e.code().exitCode()).str(bounded(e.getMessage()))
                .str(e.hint() == null ? "" : bounded(e.hint())));
    }

    /** The longest error text sent, in characters: a message naming a client's word escaped can be 4 times as long. */
    static final int MAX_ERROR_TEXT = 4096;

    /**
     * An error text cut to {@link #MAX_ERROR_TEXT} (a text field holds at most 65535 bytes: a longer one threw in
     * the worker's error handling, which ended the worker and left the client waiting for ever).
     */
    static String bounded(String text) {
        if (text.length() <= MAX_ERROR_TEXT) {
            return text;
        }
        int end = Character.isHighSurrogate(text.charAt(MAX_ERROR_TEXT - 1)) ? MAX_ERROR_TEXT - 1 : MAX_ERROR_TEXT;
        return text.substring(0, end) + "...";
    }

    /** Sends a frame once the client has read enough of what waits; throws IllegalStateException when it is gone. */
    void send(Frame f) {
        byte[] bytes = f.encode();
        while (c.engine().outputLength() > HIGH_WATER) {
            if (gone) {
                throw new IllegalStateException("the connection is closed");
            }
            LockSupport.parkNanos(200_000);
            if (Thread.interrupted()) {
                // the connection is ending (its worker is interrupted): give up rather than spin
                throw new IllegalStateException("interrupted while the client was not reading");
            }
        }
        synchronized (this) {
            c.write(bytes);
        }
    }

    boolean gone() {
        return gone;
    }

    /**
     * Sends the error, then closes (a protocol violation or a refused identity). It does not wait for the client to
     * read what waits for it, as {@link #send} does: it runs on the server's loop (which is what sends, so waiting
     * there would freeze every connection of the loop) and on the worker of a connection taking the session over
     * (which would wait as long as the old client does not read). One frame more is all it adds.
     */
    void fail(KeywayException e) {
        gone = true; // senders waiting for room give up
        try {
            byte[] bytes = errorFrame(e).encode();
            synchronized (this) {
                c.write(bytes);
            }
        } catch (IllegalStateException ignored) {
            // already gone
        }
        c.close();
    }

    /** The connection ended (on the loop). */
    void closed() {
        gone = true;
        Thread w;
        synchronized (this) {
            w = worker;
        }
        if (w != null) {
            w.interrupt();
        }
        Consumer<Frame> s = side;
        if (s != null) {
            s.accept(null);
        }
        host.connectionEnded(this);
    }
}
