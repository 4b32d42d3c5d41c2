package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Durations;
import dev.keyway.tls.TlsEngine;
import dev.keyway.tls.TlsServer;
import dev.keyway.tls.config.TicketKeys;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.TlsException;
import dev.keyway.tls.session.MemorySessionStore;
import dev.keyway.tls.session.RedisSessionStore;
import dev.keyway.tls.session.SessionStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeoutException;

@Command(name = "serve", mixinStandardHelpOptions = true,
        header = "Serve TLS 1.3 and 1.2 (like openssl s_server): echo, a status page, or stdin/stdout for one client.",
        description = {"Accept TLS 1.3 (and TLS 1.2, unless --tls1.3) connections with Keyway's own TLS. --echo sends every client's data back; --www "
                + "answers each client's first request with an HTTP page describing the connection (version, suite, group, "
                + "resumed; 'GET /keyupdate' first sends a TLS 1.3 KeyUpdate, for conformance tests); without either, the first client's data goes to standard output and standard input goes to it.",
                "",
                "Session tickets are issued (one per connection) under keys that rotate every --ticket-rotation, so clients "
                + "can resume; TLS 1.2 clients can also resume by session ID (--session-cache). --verify-client CA.pem requires a client certificate from that CA. --keylog writes every "
                + "connection's secrets (SSLKEYLOGFILE).",
                "",
                "Connections are served by selector loops (one thread per core), so idle or half-open sockets cost no thread: a handshake must finish within --handshake-timeout, a connection on which nothing moves is closed after --idle-timeout, and --max-per-address and --max-connections cap what one address and all clients can hold open.",
                "",
                "Prints 'keyway: listening on HOST:PORT' to standard error once ready, and one summary line per connection (with --verify-client: the client's CN and client-spki=SHA-256 of its public key, on resumed connections too)."})
final class TlsServeCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--cert", required = true, paramLabel = "CERT.pem", description = "Certificate chain, leaf first (PEM).")
    String cert;

    @Option(names = "--key", required = true, paramLabel = "KEY.pem", description = "The certificate's private key (PEM).")
    String key;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:4433", description = "Where to listen (default: ${DEFAULT-VALUE}; port 0 picks a free one).")
    String listen;

    @Option(names = "--echo", description = "Send each client's data back.")
    boolean echo;

    @Option(names = "--www", description = "Answer each client's first request with a status page.")
    boolean www;

    @Option(names = "--verify-client", paramLabel = "CA.pem", description = "Require a client certificate issued by these CAs.")
    String verifyClient;

    @Option(names = "--naccept", paramLabel = "N", description = "Exit after N connections (default: serve until stopped).")
    Integer naccept;

    @Option(names = "--ticket-rotation", paramLabel = "DURATION", defaultValue = "1h", description = "How often the session-ticket key changes (default: ${DEFAULT-VALUE}).")
    String ticketRotation;

    @Option(names = "--no-ticket", description = "Issue no session tickets (TLS 1.2 clients can still resume by session ID).")
    boolean noTicket;

    @Option(names = "--ticket-key-file", paramLabel = "FILE", description = "Derive the ticket keys from this secret (32 or more random bytes, e.g. 'head -c 32 /dev/urandom'): servers given the same file, or this one restarted, resume each other's sessions. Keep the file private: it opens every session.")
    Path ticketKeyFile;

    @Option(names = "--session-cache", paramLabel = "URI", description = "TLS 1.2 session-ID cache: 'memory' (default) or redis://HOST:PORT to share it among servers and across restarts (with --ticket-key-file: entries are sealed with the ticket keys).")
    String sessionCache;

    @Option(names = "--handshake-timeout", paramLabel = "DURATION", defaultValue = "10s", description = "Cut a connection whose handshake is not done this long after it connected (default: ${DEFAULT-VALUE}).")
    String handshakeTimeout;

    @Option(names = "--idle-timeout", paramLabel = "DURATION", description = "Close a connection on which no data moved for this long, or whose client took none of the data waiting for it for this long (default: 2m with --echo or --www, none for the standard input/output client).")
    String idleTimeout;

    @Option(names = "--max-per-address", paramLabel = "N", defaultValue = "256", description = "Concurrent connections from one source address (IPv6: one /64); more are closed at once (default: ${DEFAULT-VALUE}).")
    int maxPerAddress;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "10000", description = "Concurrent connections in all (default: ${DEFAULT-VALUE}); each needs a file descriptor ('ulimit -n').")
    int maxConnections;

    @Mixin
    TlsOptions tls;

    /** The longest HTTP request head --www reads before it answers. */
    private static final int MAX_REQUEST_HEAD = 16 * 1024;

    @Override
    public void run() {
        if (echo && www) {
            throw KeywayException.usage("--echo and --www exclude each other", "pick one");
        }
        if (naccept != null && naccept < 1) {
            throw KeywayException.usage("--naccept must be 1 or more", "or leave it out to serve until stopped");
        }
        if (maxPerAddress < 1 || maxConnections < 1) {
            throw KeywayException.usage((maxPerAddress < 1 ? "--max-per-address" : "--max-connections") + " must be 1 or more",
                    "give a connection count, e.g. 256");
        }
        boolean interactive = !echo && !www;
        Duration rotation = Durations.parse(ticketRotation, "--ticket-rotation");
        Duration handshake = Durations.parse(handshakeTimeout, "--handshake-timeout");
        Duration idle = idleTimeout != null ? Durations.parse(idleTimeout, "--idle-timeout")
                : interactive ? Duration.ofDays(3650) : Duration.ofMinutes(2);
        TlsConfig.Builder b = TlsConfig.builder().certificate(TlsOptions.certificates(cert, "certificate"), TlsOptions.privateKey(key))
                .ticketKeys(ticketKeyFile == null ? TicketKeys.rotatingEvery(rotation)
                        : TicketKeys.fromSecret(secret(ticketKeyFile), rotation));
        if (sessionCache != null) {
            b.sessionStore(sessionStore(sessionCache));
        }
        if (noTicket) {
            b.ticketCount(0);
        }
        if (verifyClient != null) {
            b.trustAnchors(TlsOptions.certificates(verifyClient, "client CA file")).requireClientCertificate(true);
        }
        PrintWriter err = spec.commandLine().getErr();
        InetSocketAddress address = TlsOptions.address(listen, "--listen");
        Log log = new Log(err);
        TlsServer.Handler handler = echo ? new Echo(log) : www ? new Www(log, handshake) : new Stdio(log);
        TlsServer.Builder server = TlsServer.builder(TlsOptions.build(tls.apply(b)), handler).address(address)
                .handshakeTimeout(handshake).idleTimeout(idle).maxConnectionsPerAddress(maxPerAddress).maxConnections(maxConnections)
                .onRefused(log::refused);
        if (interactive) {
            server.acceptLimit(1);
        } else if (naccept != null) {
            server.acceptLimit(naccept);
        }
        try (TlsServer running = server.start()) {
            err.println("keyway: listening on " + address.getHostString() + ":" + running.address().getPort());
            err.flush();
            running.awaitDone(Duration.ofDays(36500));
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.PEER, "cannot listen on " + listen + " (" + e.getMessage() + ")",
                    "pick another port, or stop what uses this one");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            tls.close();
        }
    }

    /** One line per connection on standard error: what was negotiated, or why it ended; refusals at most once a second. */
    private static final class Log {
        private final PrintWriter err;
        private long lastRefusal;
        private long refusedSince;

        Log(PrintWriter err) {
            this.err = err;
        }

        void line(TlsServer.Connection c, String text) {
            synchronized (err) {
                err.println("keyway: " + c.remote() + ": " + CliIo.errorText(text)); // may quote what the client sent
                err.flush();
            }
        }

        void opened(TlsServer.Connection c) {
            // With a client certificate (full or resumed connection): ", client CN=NAME, client-spki=HEX", what to authorize by.
            line(c, c.engine().summary() + c.engine().peerIdentity().map(id -> ", " + id.summary("client")).orElse(""));
        }

        void closed(TlsServer.Connection c, Exception failure) {
            if (failure instanceof TlsException t) {
                line(c, TlsOptions.withFlags(t).oneLine());
            } else if (failure instanceof TimeoutException) {
                line(c, failure.getMessage());
            } else if (failure != null) {
                line(c, "connection failed (" + failure.getMessage() + ")");
            }
        }

        void refused(InetSocketAddress remote, String reason) {
            long now = System.nanoTime();
            synchronized (err) {
                refusedSince++;
                if (lastRefusal != 0 && now - lastRefusal < 1_000_000_000L) {
                    return;
                }
                err.println("keyway: " + remote + ": refused: " + reason
                        + (refusedSince > 1 ? " (" + (refusedSince - 1) + " more refused since the last report)" : ""));
                err.flush();
                lastRefusal = now;
                refusedSince = 0;
            }
        }
    }

    private abstract static class Logged implements TlsServer.Handler {
        final Log log;

        Logged(Log log) {
            this.log = log;
        }

        @Override
        public void opened(TlsServer.Connection c) {
            log.opened(c);
        }

        @Override
        public void closed(TlsServer.Connection c, Exception failure) {
            log.closed(c, failure);
        }
    }

    /** --echo: every byte goes back. */
    private static final class Echo extends Logged {
        Echo(Log log) {
            super(log);
        }

        @Override
        public void received(TlsServer.Connection c, byte[] b, int off, int len) {
            c.write(b, off, len);
        }
    }

    /**
     * --www: reads the request head, answers with a page describing the connection, closes. The head must end
     * within 16 KiB (else 431) and within the handshake timeout of the handshake's end (else 408): a client that
     * drips it a byte at a time would otherwise hold its connection as long as it likes, since each byte resets
     * the idle timeout.
     */
    private static final class Www extends Logged {
        private final long headNanos;

        Www(Log log, Duration headTimeout) {
            super(log);
            this.headNanos = headTimeout.toNanos();
        }

        @Override
        public void opened(TlsServer.Connection c) {
            super.opened(c);
            c.attach(new RequestHead(System.nanoTime() + headNanos));
        }

        @Override
        public void received(TlsServer.Connection c, byte[] b, int off, int len) {
            if (!(c.attachment() instanceof RequestHead head)) {
                return; // answered already: the rest is ignored
            }
            if (head.add(b, off, len)) {
                if (head.startsWith("GET /keyupdate ") && c.engine().version().equals("TLSv1.3")) {
                    // As tlslite's and tlsfuzzer's test servers do: a KeyUpdate asking the client to update too,
                    // then the page under the new keys (RFC 8446 section 4.6.3).
                    c.engine().keyUpdate(true);
                }
                answer(c, page(c.engine()));
            } else if (head.size > MAX_REQUEST_HEAD) {
                log.line(c, "request head over " + MAX_REQUEST_HEAD / 1024 + " KiB: answered 431");
                answer(c, "HTTP/1.0 431 request header too large\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            } else if (System.nanoTime() - head.deadline > 0) {
                log.line(c, "no complete request head within " + headNanos / 1_000_000 + " ms of the handshake: answered 408");
                answer(c, "HTTP/1.0 408 request timeout\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            }
        }

        private static void answer(TlsServer.Connection c, byte[] response) {
            c.attach(Boolean.TRUE);
            c.write(response);
            c.close();
        }

        @Override
        public void peerClosed(TlsServer.Connection c) {
            // TLS 1.3 lets a peer half-close (RFC 8446 section 6.1): a request cut short before its blank line is
            // answered all the same. TLS 1.2 does not: after the peer's close_notify we send ours and nothing else
            // (RFC 5246 section 7.2.1). A whole request that came with the close_notify was answered already; a
            // client that closes without asking ('openssl s_client -reconnect' does, five times) gets no page.
            if (c.attachment() instanceof RequestHead head && head.size > 0 && c.engine().version().equals("TLSv1.3")) {
                c.attach(Boolean.TRUE);
                c.write(page(c.engine()));
            }
            c.close();
        }
    }

    /**
     * How much of a request head has come and whether its blank line has ("\r\n\r\n" or "\n\n"). Each byte is
     * looked at once and none is kept: searching the whole head again on every record made a 16 KiB head sent a byte
     * per record cost the loop thread 57 to 400 ms of CPU (measured alone, JIT warm to cold): quadratic in the head.
     */
    static final class RequestHead {
        final long deadline;
        long size;
        /** Bytes on the current line other than CR. */
        private int lineLength;
        private boolean lineEnded;

        RequestHead(long deadline) {
            this.deadline = deadline;
        }

        /** The head's first bytes, enough to recognise a request line. */
        private final byte[] start = new byte[32];

        /** Takes the next bytes; true once the head is complete (bytes after its blank line do not matter). */
        boolean add(byte[] b, int off, int len) {
            for (int i = off; i < off + len; i++) {
                if (size < start.length) {
                    start[(int) size] = b[i];
                }
                size++;
                if (b[i] == '\n') {
                    if (lineEnded && lineLength == 0) {
                        return true;
                    }
                    lineEnded = true;
                    lineLength = 0;
                } else if (b[i] != '\r') {
                    lineLength++;
                }
            }
            return false;
        }

        boolean startsWith(String prefix) {
            byte[] p = prefix.getBytes(StandardCharsets.ISO_8859_1);
            return p.length <= start.length && size >= p.length && Arrays.equals(start, 0, p.length, p, 0, p.length);
        }
    }

    static byte[] page(TlsEngine e) {
        String body = "<html><body><pre>\nKeyway TLS\n" + e.summary() + "\n" + (e.resumed() ? "Reused session\n" : "New session\n")
                + "</pre></body></html>\n";
        return ("HTTP/1.0 200 ok\r\nContent-Type: text/html\r\n\r\n" + body).getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Without --echo or --www: the one client's data to standard output, standard input to it. */
    private static final class Stdio extends Logged {
        Stdio(Log log) {
            super(log);
        }

        @Override
        public void opened(TlsServer.Connection c) {
            super.opened(c);
            Thread upload = new Thread(() -> upload(c), "keyway-tls-stdin");
            upload.setDaemon(true);
            upload.start();
        }

        private static void upload(TlsServer.Connection c) {
            byte[] buf = new byte[16384];
            try {
                int n;
                while ((n = StdStreams.in.read(buf)) >= 0) {
                    while (c.engine().outputLength() > (1 << 20)) {
                        Thread.sleep(5); // the client reads slower than standard input comes: wait for it
                    }
                    c.write(buf, 0, n);
                }
                c.shutdownOutput();
            } catch (IOException | RuntimeException e) {
                // the connection ended first
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void received(TlsServer.Connection c, byte[] b, int off, int len) {
            try {
                StdStreams.out.write(b, off, len);
                StdStreams.out.flush();
            } catch (IOException e) {
                c.close(); // standard output is gone: nowhere to put the data
            }
        }
    }

    private static byte[] secret(Path file) {
        byte[] secret = CliIo.readInput(file.toString(), 4096, "ticket-key file");
        if (secret.length < 32) {
            throw KeywayException.usage(file + " holds " + secret.length + " bytes; a ticket-key secret needs 32 or more",
                    "make one with: head -c 32 /dev/urandom > " + file);
        }
        return secret;
    }

    private static SessionStore sessionStore(String uri) {
        if (uri.equals("memory")) {
            return new MemorySessionStore();
        }
        if (!uri.startsWith("redis://") && !uri.startsWith("rediss://")) {
            throw KeywayException.usage("--session-cache must be 'memory' or a redis:// URI, not '" + uri + "'", "e.g. redis://127.0.0.1:6379");
        }
        return new RedisSessionStore(URI.create(uri));
    }
}
