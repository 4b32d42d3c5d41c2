package dev.keyway.remote;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.io.AtomicFile;
import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.params.Ticket;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A session on one host, attached over one connection: run commands in it (their state persists between runs),
 * start and receive detached jobs, copy files, detach (the session stays on the host), or remove it.
 * Not for use by several threads at once.
 */
public final class RemoteSession implements Closeable {
    private final Link link;
    private final Info info;
    /** Detached already: close() need not say so again. */
    private boolean detached;

    /** What the host says about a session. */
    public record Info(String id, String name, String config, String kind, Instant created, RemoteClient.HostAddress host) {
    }

    /** A command's end: its exit status, the receipt the host signed, and how long it took. */
    public record RunResult(int exit, Receipt receipt, byte[] signature, Duration elapsed, byte[] stdout, byte[] stderr) {
        /** stdout as UTF-8 text (only when the run captured it). */
        public String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        public String err() {
            return new String(stderr, StandardCharsets.UTF_8);
        }
    }

    /** A job's state as a receive left it. */
    public record JobState(String id, String command, boolean done, int exit, long droppedStdout, long droppedStderr) {
    }

    /** One of the identity's sessions on a host. */
    public record Listing(String id, String name, String config, String state, Instant created, long idleSeconds, int jobs, int running) {
    }

    private RemoteSession(Link link, Info info) {
        this.link = link;
        this.info = info;
    }

    static RemoteSession open(Link link, String name, String config) {
        link.send(Frame.OPEN, new Fields.Writer().str(name).str(config));
        return new RemoteSession(link, link.sessionInfo());
    }

    static RemoteSession attach(Link link, String id, boolean connect) {
        link.send(Frame.ATTACH, new Fields.Writer().str(id).u8(connect ? 1 : 0));
        return new RemoteSession(link, link.sessionInfo());
    }

    public Info info() {
        return info;
    }

    /** Whether the connection resumed a TLS session (no certificate exchange; the identity was proven in HELLO). */
    public boolean resumed() {
        return link.tls.resumed();
    }

    /** The TLS group of this connection (e.g. X25519MLKEM768). */
    public String group() {
        return link.tls.group() == null ? "" : link.tls.group().name();
    }

    /** The newest session ticket the host gave on this connection, to reattach later without a full handshake. */
    public Ticket ticket() {
        List<Ticket> t = link.tls.tickets();
        return t.isEmpty() ? null : t.get(t.size() - 1);
    }

    /** The host's recipient: the key its receipts are signed with. */
    public String hostRecipient() {
        return link.hostRecipient;
    }

    /** Runs a shell line (or, in a restricted session, the words split on spaces) and captures its output. */
    public RunResult run(String line) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        RunResult r = run(words(line), Map.of(), null, out, err);
        return new RunResult(r.exit(), r.receipt(), r.signature(), r.elapsed(), out.toByteArray(), err.toByteArray());
    }

    /**
     * A command line as the words of a RUN: the line itself in a shell session (the shell parses it); in a restricted
     * session, which has no shell, the words between spaces (no quoting: an argument with a space needs the list form).
     */
    public List<String> words(String line) {
        if (!"restricted".equals(info.kind())) {
            return List.of(line);
        }
        return Arrays.stream(line.strip().split(" +")).filter(w -> !w.isEmpty()).toList();
    }

    /**
     * Runs a command: in a shell session the words joined by spaces form one shell line; in a restricted one they
     * are the argv. Its stdout and stderr are written to {@code out} and {@code err} as they come; {@code stdin}
     * (null: none, the command reads an immediate end) is passed through to its end. The host's signed receipt is
     * checked against what arrived.
     */
    public RunResult run(List<String> words, Map<String, String> env, InputStream stdin, OutputStream out, OutputStream err) {
        List<String> pairs = new ArrayList<>();
        env.forEach((k, v) -> pairs.add(k + "=" + v));
        long t0 = System.nanoTime();
        link.send(Frame.RUN, new Fields.Writer().strs(words).strs(pairs).u8(stdin == null ? 0 : 1), stdin != null);
        StdinPump pump = null;
        if (stdin == null) {
            link.send(Frame.STDIN_END, new byte[0]); // every RUN's stdin ends with exactly one STDIN_END
        } else {
            pump = new StdinPump(link, stdin);
        }
        MessageDigest outMd = Receipt.sha256();
        MessageDigest errMd = Receipt.sha256();
        long outN = 0;
        long errN = 0;
        try {
            while (true) {
                Frame f = link.next();
                switch (f.type()) {
                    case Frame.OUT -> {
                        out.write(f.payload());
                        out.flush();
                        outMd.update(f.payload());
                        outN += f.payload().length;
                    }
                    case Frame.ERR -> {
                        err.write(f.payload());
                        err.flush();
                        errMd.update(f.payload());
                        errN += f.payload().length;
                    }
                    case Frame.CREDIT -> {
                        if (pump != null) {
                            Fields.Reader r = f.reader();
                            pump.credit((int) r.u32());
                        }
                    }
                    case Frame.EXIT -> {
                        Fields.Reader r = f.reader();
                        int exit = (int) r.u32();
                        byte[] signed = r.bytes();
                        byte[] sig = r.bytes();
                        r.end();
                        Receipt receipt = Receipt.decode(signed);
                        if (!receipt.host().equals(link.hostRecipient) || !receipt.verify(sig) || receipt.exit() != exit
                                || !receipt.session().equals(info.id()) || receipt.stdoutBytes() != outN || receipt.stderrBytes() != errN
                                || !receipt.stdoutSha256().equals(Receipt.hex(outMd.digest()))
                                || !receipt.stderrSha256().equals(Receipt.hex(errMd.digest()))) {
                            throw KeywayException.authFailed("the host's receipt for the command does not match what arrived", "do not trust this output");
                        }
                        return new RunResult(exit, receipt, sig, Duration.ofNanos(System.nanoTime() - t0), new byte[0], new byte[0]);
                    }
                    case Frame.PING -> {
                    }
                    default -> throw link.unexpected(f);
                }
            }
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot write the command's output (" + AtomicFile.describe(e) + ")", "check the output");
        } finally {
            if (pump != null) {
                pump.stop();
            }
        }
    }

    /** Starts a detached job; returns its id. */
    public String startJob(List<String> words, Map<String, String> env) {
        List<String> pairs = new ArrayList<>();
        env.forEach((k, v) -> pairs.add(k + "=" + v));
        link.send(Frame.START_JOB, new Fields.Writer().strs(words).strs(pairs));
        Frame f = link.expect(Frame.JOB);
        Fields.Reader r = f.reader();
        String id = r.str();
        r.end();
        return id;
    }

    /**
     * Writes what the session's jobs (or job {@code jobId}; empty for all) have printed since the last receive, and
     * acknowledges each piece once written: a byte is delivered again only if this process ends between writing it
     * and acknowledging it. A job whose end has been received is forgotten by the host.
     */
    public List<JobState> receive(String jobId, OutputStream out, OutputStream err) {
        link.send(Frame.RECEIVE, new Fields.Writer().str(jobId));
        List<JobState> states = new ArrayList<>();
        Map<String, long[]> offsets = new HashMap<>();
        try {
            while (true) {
                Frame f = link.next();
                if (f.type() == Frame.OK) {
                    return states;
                }
                Fields.Reader r = f.reader();
                if (f.type() == Frame.JOB_DATA) {
                    String id = r.str();
                    int stream = r.u8();
                    long at = r.i64();
                    byte[] data = r.bytes();
                    r.end();
                    long[] o = offsets.computeIfAbsent(id, k -> new long[] {-1, -1});
                    int i = stream == 1 ? 0 : 1;
                    if (o[i] >= 0 && at != o[i]) {
                        throw KeywayException.malformed("the host sent job output out of order", "receive again");
                    }
                    (stream == 1 ? out : err).write(data);
                    (stream == 1 ? out : err).flush();
                    o[i] = at + data.length;
                    link.send(Frame.ACK, new Fields.Writer().str(id).i64(Math.max(o[0], 0)).i64(Math.max(o[1], 0)).u8(0), false);
                } else if (f.type() == Frame.JOB_STATE) {
                    String id = r.str();
                    String command = r.str();
                    boolean done = r.u8() == 1;
                    int exit = (int) r.u32();
                    long d1 = r.i64();
                    long d2 = r.i64();
                    r.end();
                    states.add(new JobState(id, command, done, exit, d1, d2));
                    if (done) {
                        long[] o = offsets.getOrDefault(id, new long[] {-1, -1});
                        // offsets never seen mean nothing was left: acknowledge what the host kept (it ignores lower values)
                        link.send(Frame.ACK, new Fields.Writer().str(id).i64(o[0] < 0 ? Long.MAX_VALUE : o[0])
                                .i64(o[1] < 0 ? Long.MAX_VALUE : o[1]).u8(1), false);
                    }
                } else if (f.type() != Frame.PING) {
                    throw link.unexpected(f);
                }
            }
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.IO, "cannot write the job's output (" + AtomicFile.describe(e) + ")", "check the output");
        }
    }

    /** Copies a local file into the session (a relative path is under the session's working directory). */
    public void put(Path local, String remote) {
        FileTransfer.put(link, local, remote);
    }

    /** Copies a file out of the session into {@code out}; returns its size. Its SHA-256 is checked at the end. */
    public long get(String remote, OutputStream out) {
        return FileTransfer.get(link, remote, out);
    }

    /** Leaves the session running on the host; {@code disconnect} marks it disconnected until a connect. */
    public void detach(boolean disconnect) {
        link.send(Frame.DETACH, new Fields.Writer().u8(disconnect ? 1 : 0));
        link.expect(Frame.OK);
        detached = true;
    }

    /** Ends the session on the host and every process it started. */
    public void remove() {
        link.send(Frame.REMOVE, new Fields.Writer().str(info.id()));
        link.expect(Frame.OK);
    }

    /** The identity's sessions on this host. */
    public List<Listing> list() {
        return link.list();
    }

    /** Detaches (if still attached) and closes the connection. */
    @Override
    public void close() {
        try {
            if (!link.closed && !detached) {
                detach(false);
            }
        } catch (RuntimeException ignored) {
            // the host or the connection went away: the session stays on the host either way
        }
        link.closeQuietly();
    }

    /** One authenticated connection to a host: frames in and out, and the host's errors as exceptions. */
    public static final class Link implements Closeable {
        private final TlsConnection tls;
        private final Socket socket;
        private final RemoteClient.HostAddress host;
        private final InputStream in;
        private final OutputStream out;
        private String hostRecipient;
        private volatile boolean closed;

        Link(TlsConnection tls, Socket socket, RemoteClient.HostAddress host) {
            this.tls = tls;
            this.socket = socket;
            this.host = host;
            this.in = new BufferedInputStream(tls.getInputStream(), 64 * 1024);
            this.out = tls.getOutputStream();
        }

        void hello(Identity identity) throws IOException {
            byte[] exporter = tls.exportKeyingMaterial(RemoteKeys.EXPORTER_LABEL, new byte[0], 32);
            send(Frame.HELLO, new Fields.Writer().bytes(identity.sign(RemoteKeys.proofMessage(exporter))));
            Frame f = expect(Frame.WELCOME);
            Fields.Reader r = f.reader();
            hostRecipient = r.str();
            r.str();
            r.end();
        }

        public RemoteClient.HostAddress host() {
            return host;
        }

        public boolean resumed() {
            return tls.resumed();
        }

        /** The newest session ticket of this connection, or null. */
        public Ticket ticket() {
            List<Ticket> t = tls.tickets();
            return t.isEmpty() ? null : t.get(t.size() - 1);
        }

        void send(int type, Fields.Writer w) {
            send(type, w.toByteArray());
        }

        void send(int type, byte[] payload) {
            send(type, payload, true);
        }

        void send(int type, Fields.Writer w, boolean flush) {
            send(type, w.toByteArray(), flush);
        }

        synchronized void send(int type, byte[] payload, boolean flush) {
            try {
                out.write(new Frame(type, payload).encode());
                if (flush) {
                    out.flush();
                }
            } catch (IOException e) {
                closed = true;
                throw new KeywayException(ErrorCode.PEER, "the connection to " + host + " broke (" + AtomicFile.describe(e) + ")",
                        "the session is still on the host: reattach it");
            }
        }

        /** The next frame; an ERROR frame is thrown as the host's error. */
        Frame next() {
            Frame f;
            try {
                f = Frame.read(in);
            } catch (IOException e) {
                closed = true;
                throw new KeywayException(ErrorCode.PEER, "the connection to " + host + " broke (" + AtomicFile.describe(e) + ")",
                        "the session is still on the host: reattach it");
            }
            if (f == null) {
                closed = true;
                throw new KeywayException(ErrorCode.PEER, host + " closed the connection", "the session may still be on the host: reattach it");
            }
            if (f.type() == Frame.ERROR) {
                Fields.Reader r = f.reader();
                int code = r.u8();
                String msg = r.str();
                String hint = r.str();
                // the host's own words (escaped: they come from a peer); the caller says which host when it matters
                throw new KeywayException(codeOf(code), Printable.escape(msg), hint.isEmpty() ? null : Printable.escape(hint));
            }
            return f;
        }

        Frame expect(int type) {
            while (true) {
                Frame f = next();
                if (f.type() == type) {
                    return f;
                }
                if (f.type() != Frame.PING) {
                    throw unexpected(f);
                }
            }
        }

        KeywayException unexpected(Frame f) {
            return KeywayException.malformed(host + " sent an unexpected frame (type " + f.type() + ")", "the host does not speak this protocol version");
        }

        Info sessionInfo() {
            Frame f = expect(Frame.SESSION);
            Fields.Reader r = f.reader();
            Info info = new Info(r.str(), r.str(), r.str(), r.str(), Instant.parse(r.str()), host);
            r.end();
            return info;
        }

        /** The identity's sessions on this host. */
        public List<Listing> list() {
            send(Frame.LIST, new byte[0]);
            Fields.Reader r = expect(Frame.LISTING).reader();
            long n = r.u32();
            List<Listing> out = new ArrayList<>();
            for (long i = 0; i < n; i++) {
                out.add(new Listing(r.str(), r.str(), r.str(), r.str(), Instant.parse(r.str()), r.i64(), (int) r.u32(), (int) r.u32()));
            }
            r.end();
            return out;
        }

        /** Removes a session of this identity by id. */
        public void remove(String id) {
            send(Frame.REMOVE, new Fields.Writer().str(id));
            expect(Frame.OK);
        }

        private static ErrorCode codeOf(int exit) {
            return switch (exit) {
                case 2 -> ErrorCode.USAGE;
                case 3 -> ErrorCode.AUTH_FAILED;
                case 4 -> ErrorCode.POLICY;
                case 5 -> ErrorCode.PEER;
                default -> ErrorCode.IO;
            };
        }

        void closeQuietly() {
            closed = true;
            try {
                tls.close();
            } catch (IOException | RuntimeException ignored) {
                // closing
            }
            RemoteClient.closeQuietly(socket);
        }

        @Override
        public void close() {
            closeQuietly();
        }
    }
}
