package dev.keyway.remote;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;

import java.io.IOException;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** The host's side of each request (docs/REMOTE.md, "Wire protocol"), run on the connection's worker thread. */
final class Requests {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final RemoteHost host;
    private final FileRequests files;

    Requests(RemoteHost host) {
        this.host = host;
        this.files = new FileRequests(host);
    }

    void handle(HostConnection hc, Frame f, StdinBuffer stdin) {
        Fields.Reader r = f.reader();
        try {
            // a connection can outlive a revocation: every request asks clients.json again
            stillAllowed(hc);
            switch (f.type()) {
                case Frame.OPEN -> open(hc, r);
                case Frame.ATTACH -> attach(hc, r);
                case Frame.DETACH -> detach(hc, r);
                case Frame.RUN -> run(hc, r, stdin);
                case Frame.START_JOB -> startJob(hc, r);
                case Frame.RECEIVE -> receive(hc, r);
                case Frame.LIST -> list(hc, r);
                case Frame.REMOVE -> remove(hc, r);
                case Frame.PUT -> files.put(hc, attached(hc), r);
                case Frame.GET -> files.get(hc, attached(hc), r);
                default -> throw KeywayException.malformed("unknown request type " + f.type(), "the client does not speak this protocol version");
            }
        } catch (KeywayException e) {
            if (stdin != null) {
                stdin.abandon(); // a refused RUN's stdin is dropped as it comes
            }
            if (e.code() == ErrorCode.POLICY || e.code() == ErrorCode.AUTH_FAILED) {
                HostSession s = hc.session;
                host.audit("refused", hc.clientName, s == null ? null : s.id, s == null ? null : s.config.name(),
                        e.code() == ErrorCode.POLICY ? "denied" : "auth-failed", Map.of("reason", e.getMessage()));
            }
            throw e;
        }
    }

    static void ok(HostConnection hc) {
        hc.send(new Frame(Frame.OK, new byte[0]));
    }

    private HostSession attached(HostConnection hc) {
        HostSession s = hc.session;
        if (s == null || s.removed) {
            hc.session = null;
            throw KeywayException.usage("no session is attached on this connection", "open or attach one first");
        }
        if (s.attached != hc) {
            hc.session = null;
            throw KeywayException.policy("the session was attached from another connection", "attach it again");
        }
        s.lastActive = host.now();
        return s;
    }

    private void sendSession(HostConnection hc, HostSession s) {
        hc.send(new Frame(Frame.SESSION, new Fields.Writer().str(s.id).str(s.name).str(s.config.name())
                .str(s.config.kind().name().toLowerCase(Locale.ROOT)).str(s.created.toString())));
    }

    private void open(HostConnection hc, Fields.Reader r) {
        String name = r.str();
        String configName = r.str();
        r.end();
        HostDir.checkName(name, "session");
        stillAllowed(hc);
        Configuration config = host.dir().configuration(configName);
        if (!config.allows(hc.clientName)) {
            throw KeywayException.policy(hc.clientName + " may not open sessions in configuration " + configName, "ask the host's administrator to 'keyway remote allow' it there");
        }
        long mine;
        HostSession s;
        // the checks and the new session in one step: a client opening sessions on many connections at once must
        // not get past the limit, or two sessions of one name, by racing itself
        synchronized (host.sessions()) {
            mine = host.sessions().values().stream().filter(x -> x.ownerKey.equals(hc.clientKey)).count();
            long here = host.sessions().values().stream().filter(x -> x.ownerKey.equals(hc.clientKey) && x.config.name().equals(configName)).count();
            if (here >= config.sessionsPerClient()) {
                throw KeywayException.policy("you have " + here + " sessions in configuration " + configName + ", its limit", "remove one first ('keyway remote rm')");
            }
            if (host.sessions().values().stream().anyMatch(x -> x.ownerKey.equals(hc.clientKey) && x.name.equals(name))) {
                throw KeywayException.usage("you already have a session named " + name + " on this host", "choose another name, or remove it first");
            }
            if (!Files.isDirectory(config.workingDirectory())) {
                throw new KeywayException(ErrorCode.IO, "configuration " + configName + "'s working directory " + config.workingDirectory() + " does not exist",
                        "ask the host's administrator to fix the configuration");
            }
            byte[] idBytes = new byte[16];
            RANDOM.nextBytes(idBytes);
            try {
                s = new HostSession(HexFormat.of().formatHex(idBytes), name, hc.clientName, hc.clientKey, config, host.now(), host.runRoot());
            } catch (IOException e) {
                throw HostSession.io("cannot make the session's directory", e);
            }
            host.sessions().put(s.id, s);
        }
        attach(hc, s);
        host.audit("open", hc.clientName, s.id, configName, "ok", Map.of("name", name, "from", hc.c.remote().toString(),
                "sessions", Long.toString(mine + 1)));
        sendSession(hc, s);
    }

    private void attach(HostConnection hc, HostSession s) {
        HostConnection before = s.attached;
        s.attached = hc;
        s.disconnected = false;
        s.lastActive = host.now();
        hc.session = s;
        if (before != null && before != hc) {
            before.session = null;
            before.fail(KeywayException.policy("the session was attached from another connection", "this connection is closed"));
        }
    }

    /** A connection outlives a revocation: each open and attach asks clients.json again. */
    private void stillAllowed(HostConnection hc) {
        if (host.clientByKey(HexFormat.of().parseHex(hc.clientKey)) == null) {
            throw KeywayException.policy(hc.clientName + " has been revoked on this host", "ask its administrator");
        }
    }

    private HostSession owned(HostConnection hc, String id, String action) {
        HostSession s = host.sessions().get(id);
        if (s == null) {
            throw KeywayException.usage("the host has no session " + Printable.escape(id) + " (removed, reaped, or the service restarted)",
                    "remove it from the registry with 'keyway remote rm', then open a new one");
        }
        if (!s.ownerKey.equals(hc.clientKey)) {
            throw KeywayException.policy("session " + s.id + " belongs to another identity", "you may " + action + " only your own sessions");
        }
        return s;
    }

    private void attach(HostConnection hc, Fields.Reader r) {
        String id = r.str();
        boolean connect = r.u8() == 1;
        r.end();
        HostSession s = owned(hc, id, "attach");
        stillAllowed(hc);
        if (!host.dir().configuration(s.config.name()).allows(hc.clientName)) {
            throw KeywayException.policy(hc.clientName + " is no longer allowed in configuration " + s.config.name(), "ask the host's administrator");
        }
        if (s.disconnected && !connect) {
            throw KeywayException.usage("session " + s.name + " is disconnected", "reconnect it with 'keyway remote connect'");
        }
        boolean takeover = s.attached != null && s.attached != hc;
        attach(hc, s);
        host.audit(connect ? "connect" : "attach", hc.clientName, s.id, s.config.name(), "ok",
                Map.of("from", hc.c.remote().toString(), "resumed", Boolean.toString(hc.c.engine().resumed()), "takeover", Boolean.toString(takeover)));
        sendSession(hc, s);
    }

    private void detach(HostConnection hc, Fields.Reader r) {
        boolean disconnect = r.u8() == 1;
        r.end();
        HostSession s = hc.session;
        if (s != null && s.attached == hc) {
            s.attached = null;
            s.disconnected = disconnect;
            s.lastActive = host.now();
            host.audit(disconnect ? "disconnect" : "detach", hc.clientName, s.id, s.config.name(), "ok", Map.of());
        }
        hc.session = null;
        ok(hc);
    }

    private static Map<String, String> env(List<String> pairs) {
        Map<String, String> out = new TreeMap<>();
        for (String p : pairs) {
            int eq = p.indexOf('=');
            if (eq <= 0) {
                throw KeywayException.usage("a variable must be NAME=VALUE (got " + Printable.escape(p) + ")", "write it so");
            }
            out.put(p.substring(0, eq), p.substring(eq + 1));
        }
        return out;
    }

    private void run(HostConnection hc, Fields.Reader r, StdinBuffer in) {
        ForegroundRun run;
        HostSession s;
        HostSession.Command cmd;
        try {
            s = attached(hc);
            List<String> words = r.strs();
            Map<String, String> env = env(r.strs());
            boolean stdin = r.u8() == 1;
            r.end();
            cmd = s.check(words, env);
            synchronized (s) {
                if (s.busy) {
                    throw KeywayException.policy("a command is still running in session " + s.name, "wait for it, or start it as a detached job");
                }
                s.busy = true;
            }
            try {
                run = new ForegroundRun(hc, s.start(cmd), stdin ? in : null, host.now());
            } catch (IOException e) {
                s.busy = false;
                throw HostSession.io("the command could not start", e);
            } catch (RuntimeException e) {
                s.busy = false;
                throw e;
            }
        } catch (RuntimeException e) {
            in.abandon(); // a refused command's stdin is dropped as it comes
            throw e;
        }
        run.start();
        int status;
        try {
            status = run.awaitStatus(host.keepAlive());
            run.finish();
        } catch (InterruptedException e) {
            // the connection ended: the command runs on, its output read and dropped, and is audited when it ends
            Thread t = new Thread(() -> {
                try {
                    int st = run.awaitStatus(host.keepAlive());
                    run.finish();
                    finishRun(hc, s, cmd, run, st, false);
                } catch (InterruptedException ignored) {
                    // the service is stopping
                }
            }, "keyway-remote-orphan");
            t.setDaemon(true);
            t.start();
            return;
        }
        finishRun(hc, s, cmd, run, status, true);
    }

    private void finishRun(HostConnection hc, HostSession s, HostSession.Command cmd, ForegroundRun run, int status, boolean reply) {
        Instant ended = host.now();
        s.busy = false;
        s.lastActive = ended;
        Receipt receipt = new Receipt(host.recipient(), s.id, hc.clientRecipient, s.config.name(), cmd.text(), run.cwd(),
                run.startedAt, ended, status, run.out().count(), run.out().sha256(), run.err().count(), run.err().sha256());
        Map<String, String> d = new LinkedHashMap<>();
        d.put("command", cmd.text());
        d.put("cwd", run.cwd());
        d.put("exit", Integer.toString(status));
        d.put("started", run.startedAt.toString());
        d.put("stdoutBytes", Long.toString(receipt.stdoutBytes()));
        d.put("stdoutSha256", receipt.stdoutSha256());
        d.put("stderrBytes", Long.toString(receipt.stderrBytes()));
        d.put("stderrSha256", receipt.stderrSha256());
        if (!cmd.exports().isEmpty()) {
            d.put("variables", String.join(",", cmd.exports().keySet()));
        }
        if (!reply) {
            d.put("client", "gone before the end");
        }
        host.audit("command", hc.clientName, s.id, s.config.name(), status == 0 ? "ok" : "exit " + status, d);
        if (reply && !hc.gone()) {
            byte[] signed = receipt.encode();
            hc.send(new Frame(Frame.EXIT, new Fields.Writer().u32(status & 0xFFFFFFFFL).bytes(signed).bytes(host.identity().sign(signed))));
        }
    }

    private void startJob(HostConnection hc, Fields.Reader r) {
        HostSession s = attached(hc);
        List<String> words = r.strs();
        Map<String, String> env = env(r.strs());
        r.end();
        HostSession.Command cmd = s.check(words, env);
        HostJob job;
        try {
            job = s.startJob(cmd);
        } catch (IOException e) {
            throw HostSession.io("the job could not start", e);
        }
        String client = hc.clientName;
        host.audit("job-start", client, s.id, s.config.name(), "ok", Map.of("job", job.id(), "command", cmd.text()));
        job.finished().thenAccept(j -> {
            Map<String, String> d = new LinkedHashMap<>();
            d.put("job", j.id());
            d.put("command", j.command());
            d.put("exit", String.valueOf(j.exit()));
            d.put("stdoutBytes", Long.toString(j.output().produced() + j.output().dropped()));
            d.put("stdoutSha256", Receipt.hex(j.output().sha256()));
            d.put("stderrBytes", Long.toString(j.errors().produced() + j.errors().dropped()));
            d.put("stderrSha256", Receipt.hex(j.errors().sha256()));
            host.audit("job-end", client, s.id, s.config.name(), j.exit() != null && j.exit() == 0 ? "ok" : "exit " + j.exit(), d);
        });
        hc.send(new Frame(Frame.JOB, new Fields.Writer().str(job.id())));
    }

    private void receive(HostConnection hc, Fields.Reader r) {
        HostSession s = attached(hc);
        String only = r.str();
        r.end();
        List<HostJob> jobs;
        synchronized (s) {
            jobs = s.jobs.values().stream().filter(j -> only.isEmpty() || j.id().equals(only)).toList();
        }
        if (!only.isEmpty() && jobs.isEmpty()) {
            throw KeywayException.usage("session " + s.name + " has no job " + Printable.escape(only), "'keyway remote list' shows the jobs");
        }
        for (HostJob j : jobs) {
            boolean done = j.done(); // read first: if done, every byte below is the last
            for (int stream = 1; stream <= 2; stream++) {
                JobOutput o = stream == 1 ? j.output() : j.errors();
                // what the job has printed so far, and no more: each acknowledgement makes room for a job that
                // prints without end, so a receive that followed it would never end for a client slower than the job
                long end = o.produced();
                long at = o.base();
                while (at < end) {
                    byte[] chunk = o.read(at, (int) Math.min(Frame.CHUNK, end - at));
                    if (chunk.length == 0) {
                        break;
                    }
                    hc.send(new Frame(Frame.JOB_DATA, new Fields.Writer().str(j.id()).u8(stream).i64(at).bytes(chunk)));
                    at += chunk.length;
                }
            }
            hc.send(new Frame(Frame.JOB_STATE, new Fields.Writer().str(j.id()).str(j.command()).u8(done ? 1 : 0)
                    .u32(done && j.exit() != null ? j.exit() & 0xFFFFFFFFL : 0)
                    .i64(j.output().dropped()).i64(j.errors().dropped())));
        }
        s.lastActive = host.now();
        ok(hc);
    }

    /** An ACK: the client has written a job's bytes up to these offsets (final: and seen its end). */
    void acknowledge(HostConnection hc, Frame f) {
        Fields.Reader r = f.reader();
        String id = r.str();
        long out = r.i64();
        long err = r.i64();
        boolean fin = r.u8() == 1;
        r.end();
        HostSession s = hc.session;
        if (s == null) {
            return;
        }
        HostJob j;
        synchronized (s) {
            j = s.jobs.get(id);
        }
        if (j == null) {
            return;
        }
        j.output().ack(out);
        j.errors().ack(err);
        if (fin && j.drained()) {
            synchronized (s) {
                s.jobs.remove(id);
            }
            host.audit("job-received", hc.clientName, s.id, s.config.name(), "ok", Map.of("job", id));
        }
    }

    private void list(HostConnection hc, Fields.Reader r) {
        r.end();
        Instant now = host.now();
        List<HostSession> mine = host.sessions().values().stream().filter(s -> s.ownerKey.equals(hc.clientKey))
                .sorted(Comparator.comparing(s -> s.created)).toList();
        Fields.Writer w = new Fields.Writer().u32(mine.size());
        for (HostSession s : mine) {
            long running;
            int total;
            synchronized (s) {
                total = s.jobs.size();
                running = s.jobs.values().stream().filter(j -> !j.done()).count();
            }
            String state = s.busy ? "busy" : s.attached != null ? "attached" : s.disconnected ? "disconnected" : "available";
            w.str(s.id).str(s.name).str(s.config.name()).str(state).str(s.created.toString())
                    .i64(Math.max(0, Duration.between(s.lastActive, now).toSeconds())).u32(total).u32(running);
        }
        hc.send(new Frame(Frame.LISTING, w));
    }

    private void remove(HostConnection hc, Fields.Reader r) {
        String id = r.str();
        r.end();
        HostSession s = owned(hc, id, "remove");
        if (hc.session == s) {
            hc.session = null;
        }
        host.remove(s, "remove", "removed by its owner");
        ok(hc);
    }
}
