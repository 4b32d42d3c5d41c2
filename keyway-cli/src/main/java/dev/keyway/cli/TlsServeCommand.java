package dev.keyway.cli;

import dev.keyway.core.KeywayException;
import dev.keyway.tls.TlsConfig;
import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.TlsException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

@Command(name = "serve", mixinStandardHelpOptions = true,
        header = "Serve TLS 1.3 and 1.2 (like openssl s_server): echo, a status page, or stdin/stdout for one client.",
        description = {"Accept TLS 1.3 (and TLS 1.2, unless --tls1.3) connections with Keyway's own TLS. --echo sends every client's data back; --www "
                + "answers each client's first request with an HTTP page describing the connection (version, suite, group, "
                + "resumed); without either, the first client's data goes to standard output and standard input goes to it.",
                "",
                "Session tickets are issued (one per connection) under keys that rotate every --ticket-rotation, so clients "
                + "can resume; TLS 1.2 clients can also resume by session ID (--session-cache). --verify-client CA.pem requires a client certificate from that CA. --keylog writes every "
                + "connection's secrets (SSLKEYLOGFILE).",
                "",
                "Prints 'keyway: listening on HOST:PORT' to standard error once ready, and one summary line per connection."})
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

    @Mixin
    TlsOptions tls;

    @Override
    public void run() {
        if (echo && www) {
            throw KeywayException.usage("--echo and --www exclude each other", "pick one");
        }
        if (naccept != null && naccept < 1) {
            throw KeywayException.usage("--naccept must be 1 or more", "or leave it out to serve until stopped");
        }
        java.time.Duration rotation = Durations.parse(ticketRotation, "--ticket-rotation");
        TlsConfig.Builder b = TlsConfig.builder().certificate(TlsOptions.certificates(cert, "certificate"), TlsOptions.privateKey(key))
                .ticketKeys(ticketKeyFile == null ? dev.keyway.tls.TicketKeys.rotatingEvery(rotation)
                        : dev.keyway.tls.TicketKeys.fromSecret(secret(ticketKeyFile), rotation));
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
        boolean interactive = !echo && !www;
        int limit = interactive ? 1 : naccept == null ? Integer.MAX_VALUE : naccept;
        ExecutorService workers = Executors.newFixedThreadPool(interactive ? 1 : 16, r -> {
            Thread t = new Thread(r, "keyway-tls-conn");
            t.setDaemon(true);
            return t;
        });
        Semaphore slots = new Semaphore(64);
        try (ServerSocket server = new ServerSocket()) {
            TlsConfig config = TlsOptions.build(tls.apply(b));
            server.setReuseAddress(true);
            server.bind(address, 64);
            err.println("keyway: listening on " + address.getHostString() + ":" + server.getLocalPort());
            err.flush();
            for (int served = 0; served < limit; served++) {
                Socket s = server.accept();
                slots.acquireUninterruptibly();
                workers.submit(() -> {
                    try {
                        handle(s, config, err, interactive);
                    } finally {
                        slots.release();
                    }
                });
            }
            workers.shutdown();
            workers.awaitTermination(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new KeywayException(dev.keyway.core.ErrorCode.PEER, "cannot listen on " + listen + " (" + e.getMessage() + ")",
                    "pick another port, or stop what uses this one");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            workers.shutdownNow();
            tls.close();
        }
    }

    private void handle(Socket s, TlsConfig config, PrintWriter err, boolean interactive) {
        String peer = s.getRemoteSocketAddress().toString();
        try {
            s.setSoTimeout(interactive ? 0 : 120_000);
            try (TlsConnection c = TlsConnection.accept(s, config)) {
                synchronized (err) {
                    err.println("keyway: " + peer + ": " + CliIo.errorText(c.summary()));
                    err.flush();
                }
                if (echo) {
                    c.getInputStream().transferTo(c.getOutputStream());
                } else if (www) {
                    page(c);
                } else {
                    TlsOptions.pumpStdio(c);
                }
            }
        } catch (TlsException e) {
            synchronized (err) {
                err.println("keyway: " + peer + ": " + CliIo.errorText(e.oneLine())); // may quote what the client sent
                err.flush();
            }
        } catch (IOException e) {
            synchronized (err) {
                err.println("keyway: " + peer + ": connection failed (" + CliIo.errorText(String.valueOf(e.getMessage())) + ")");
                err.flush();
            }
        }
    }

    private static void page(TlsConnection c) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.ISO_8859_1));
        String line;
        while ((line = r.readLine()) != null && !line.isEmpty()) {
            // read the request head
        }
        String body = "<html><body><pre>\nKeyway TLS\n" + c.summary() + "\n" + (c.resumed() ? "Reused session\n" : "New session\n")
                + "</pre></body></html>\n";
        c.getOutputStream().write(("HTTP/1.0 200 ok\r\nContent-Type: text/html\r\n\r\n" + body).getBytes(StandardCharsets.ISO_8859_1));
        c.shutdownOutput();
    }

    private static byte[] secret(Path file) {
        byte[] secret = CliIo.readInput(file.toString(), 4096, "ticket-key file");
        if (secret.length < 32) {
            throw KeywayException.usage(file + " holds " + secret.length + " bytes; a ticket-key secret needs 32 or more",
                    "make one with: head -c 32 /dev/urandom > " + file);
        }
        return secret;
    }

    private static dev.keyway.tls.session.SessionStore sessionStore(String uri) {
        if (uri.equals("memory")) {
            return new dev.keyway.tls.session.MemorySessionStore();
        }
        if (!uri.startsWith("redis://") && !uri.startsWith("rediss://")) {
            throw KeywayException.usage("--session-cache must be 'memory' or a redis:// URI, not '" + uri + "'", "e.g. redis://127.0.0.1:6379");
        }
        return new dev.keyway.tls.session.RedisSessionStore(java.net.URI.create(uri));
    }
}
