package dev.keyway.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.remote.Registry;
import dev.keyway.remote.RemoteClient;
import dev.keyway.remote.RemoteSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

/** The client side of {@code keyway remote}: thin commands over {@link RemoteClient} and the {@link Registry}. */
final class RemoteSessionCommands {
    private static final ObjectMapper JSON_LINES = new ObjectMapper();

    private RemoteSessionCommands() {
    }

    /** Shared by the commands: the client, opened once per command run. */
    abstract static class Base implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        RemoteClientOptions options;

        Identity identity;
        RemoteClient client;

        @Override
        public final Integer call() throws Exception {
            identity = options.identity();
            try {
                client = options.client(identity);
                return execute();
            } finally {
                options.close();
                identity.destroy();
            }
        }

        abstract int execute() throws Exception;

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        PrintWriter err() {
            return spec.commandLine().getErr();
        }

        /** Attaches to each entry (at most {@code throttle} at a time), runs {@code task}, detaches, saves the new tickets. */
        <T> List<RemoteFanout.Outcome<T>> eachSession(List<Registry.Entry> entries, int throttle, boolean connect,
                                                     Function<RemoteSession, T> task) {
            Map<Registry.Entry, Registry.Entry> updated = new java.util.concurrent.ConcurrentHashMap<>();
            List<RemoteFanout.Outcome<T>> outcomes = RemoteFanout.run(entries, throttle, e -> {
                try (RemoteSession s = client.attach(e.address(), e.id(), e.savedTicket(), connect)) {
                    T v = task.apply(s);
                    updated.put(e, e.withTicket(s.ticket()));
                    return v;
                }
            });
            if (!updated.isEmpty()) {
                Registry.update(options.registryPath(), r -> {
                    updated.values().forEach(r::replace);
                    return null;
                });
            }
            return outcomes;
        }

        void report(List<Registry.Entry> entries, List<? extends RemoteFanout.Outcome<?>> outcomes) {
            for (int i = 0; i < outcomes.size(); i++) {
                KeywayException f = outcomes.get(i).failure();
                if (f != null) {
                    String host = Printable.escape(entries.get(i).host());
                    String line = CliIo.errorText(f.oneLine());
                    err().println("keyway: " + (line.startsWith(host) || line.contains(" " + host + " ") ? line : host + ": " + line));
                }
            }
            err().flush();
        }
    }

    static List<String> hosts(String list, Path file) {
        List<String> out = new ArrayList<>();
        if (list != null) {
            for (String h : list.split(",")) {
                if (!h.isBlank()) {
                    out.add(h.strip());
                }
            }
        }
        if (file != null) {
            String text = new String(CliIo.readInput(file.toString(), 1 << 20, "hosts file"), StandardCharsets.UTF_8);
            for (String line : text.split("\n")) {
                String l = line.strip();
                if (!l.isEmpty() && !l.startsWith("#")) {
                    out.add(l);
                }
            }
        }
        if (out.isEmpty()) {
            throw KeywayException.usage("no host given", "give HOST:PORT[,HOST:PORT...] or --hosts-file");
        }
        List<String> normal = new ArrayList<>();
        for (String h : out) {
            String n = RemoteClient.HostAddress.parse(h).toString();
            if (normal.contains(n)) {
                throw KeywayException.usage("host " + Printable.escape(n) + " is given twice", "give each host once");
            }
            normal.add(n);
        }
        return normal;
    }

    @Command(name = "new", mixinStandardHelpOptions = true, header = "Open a named session on one or many hosts.",
            description = {"Opens one persistent session per host, concurrently (at most --throttle at a time), and records them "
                    + "in the registry under NAME. The sessions stay on the hosts until 'keyway remote rm NAME' (or the host's "
                    + "idle timeout or lifetime)."})
    static final class New extends Base {
        @Parameters(index = "0", arity = "0..1", paramLabel = "HOST:PORT[,HOST:PORT...]", description = "The hosts (port 5986 when left out).")
        String hostList;

        @Option(names = "--hosts-file", paramLabel = "FILE", description = "More hosts, one per line ('#' starts a comment).")
        Path hostsFile;

        @Option(names = "--name", paramLabel = "NAME", required = true, description = "The session's friendly name.")
        String name;

        @Option(names = "--config", paramLabel = "CONF", description = "The host configuration to open it in (default: ${DEFAULT-VALUE}).")
        String config = "default";

        @Option(names = "--throttle", paramLabel = "N", description = "At most N hosts at a time (default: ${DEFAULT-VALUE}).")
        int throttle = RemoteFanout.DEFAULT_THROTTLE;

        @Option(names = "--json", description = "One JSON object per host.")
        boolean json;

        @Override
        int execute() {
            List<String> hosts = hosts(hostList, hostsFile);
            List<Registry.Entry> existing = Registry.read(options.registryPath()).named(name);
            if (!existing.isEmpty()) {
                throw KeywayException.usage("a session named " + Printable.escape(name) + " exists already", "choose another name, or 'keyway remote rm " + name + "' first");
            }
            List<RemoteFanout.Outcome<Registry.Entry>> outcomes = RemoteFanout.run(hosts, throttle, h -> {
                RemoteClient.HostAddress a = RemoteClient.HostAddress.parse(h);
                try (RemoteSession s = client.open(a, name, config)) {
                    RemoteSession.Info i = s.info();
                    Registry.Entry e = new Registry.Entry(name, a.toString(), i.id(), i.config(), i.kind(), i.created(), false, s.hostRecipient(), "");
                    return e.withTicket(s.ticket());
                }
            });
            Registry.update(options.registryPath(), r -> {
                outcomes.stream().filter(o -> o.value() != null).forEach(o -> r.add(o.value()));
                return null;
            });
            for (int i = 0; i < hosts.size(); i++) {
                RemoteFanout.Outcome<Registry.Entry> o = outcomes.get(i);
                if (json) {
                    ObjectNode n = JSON_LINES.createObjectNode().put("host", hosts.get(i)).put("name", name);
                    if (o.value() != null) {
                        n.put("session", o.value().id()).put("config", o.value().config());
                    } else {
                        n.put("error", o.failure().getMessage()).put("exit", o.failure().code().exitCode());
                    }
                    out().println(n);
                } else if (o.value() != null) {
                    out().println(Printable.escape(hosts.get(i)) + ": session " + Printable.escape(name) + " opened (" + Printable.escape(o.value().id()) + ", configuration "
                            + Printable.escape(o.value().config()) + ")");
                }
            }
            out().flush();
            if (!json) {
                report(hosts.stream().map(h -> new Registry.Entry(name, h, "", "", "", Instant.EPOCH, false, "", "")).toList(), outcomes);
            }
            return RemoteFanout.failureCode(outcomes);
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true, header = "Run a command in every session named NAME.",
            description = {"In a shell configuration the words after -- form one shell command line, run in the session's "
                    + "persistent shell: cd, variables and functions persist between runs. In a restricted one they are the "
                    + "program and its arguments. stdout and stderr stay separate and byte-exact; stdin is passed through (to "
                    + "every host) until its end.",
                    "",
                    "One host: its output as is. Several hosts: each line prefixed with the host, or with --json one JSON "
                            + "object per host. Exit status: 0 when every command exited 0; 1 when one exited otherwise (its "
                            + "status on stderr); with --pass-exit a single host's status as it is (as ssh does); 2 to 5 for "
                            + "Keyway's own failures.",
                    "",
                    "Examples:",
                    "  keyway remote run build -i me.key --cacert host.crt -- 'cd /src && make'",
                    "  printf abc | keyway remote run build -i me.key --cacert host.crt -- wc -c"})
    static final class Run extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The session's name.")
        String name;

        @Parameters(index = "1..*", paramLabel = "COMMAND", description = "The command (after --).")
        List<String> command = new ArrayList<>();

        @Option(names = "--throttle", paramLabel = "N", description = "At most N hosts at a time (default: ${DEFAULT-VALUE}).")
        int throttle = RemoteFanout.DEFAULT_THROTTLE;

        @Option(names = "--detach", description = "Start a background job and print its id; see 'keyway remote receive'.")
        boolean detach;

        @Option(names = "--json", description = "One JSON object per host: host, exit, stdout, stderr, timings, the signed receipt.")
        boolean json;

        @Option(names = "--pass-exit", description = "Exit with the remote command's own status (one host only).")
        boolean passExit;

        @Option(names = {"-n", "--no-stdin"}, description = "Send no stdin (the command reads an immediate end), as ssh -n.")
        boolean noStdin;

        @Option(names = {"-e", "--env"}, paramLabel = "NAME=VALUE", description = "Set a variable for the command (only names the configuration allows); repeatable.")
        List<String> env = new ArrayList<>();

        @Override
        int execute() throws IOException {
            if (command.isEmpty()) {
                throw KeywayException.usage("no command given", "put it after --, e.g. keyway remote run " + name + " -- uname -a");
            }
            List<Registry.Entry> entries = Registry.read(options.registryPath()).require(name);
            if (passExit && entries.size() > 1) {
                throw KeywayException.usage("--pass-exit needs a session on one host (" + name + " has " + entries.size() + ")", "use --json to see each host's status");
            }
            Map<String, String> vars = new LinkedHashMap<>();
            for (String e : env) {
                int eq = e.indexOf('=');
                if (eq <= 0) {
                    throw KeywayException.usage("-e wants NAME=VALUE (got " + Printable.escape(e) + ")", "write it so");
                }
                vars.put(e.substring(0, eq), e.substring(eq + 1));
            }
            if (detach) {
                return detached(entries, vars);
            }
            boolean many = entries.size() > 1;
            byte[] stdinBytes = null;
            if (!noStdin && many) {
                // every host gets the same stdin: read it once (bounded)
                stdinBytes = StdStreams.in.readNBytes(64 << 20);
            }
            final byte[] shared = stdinBytes;
            Instant started = Instant.now();
            List<RemoteFanout.Outcome<RemoteSession.RunResult>> outcomes = eachSession(entries, throttle, false, s -> {
                String host = s.info().host().toString();
                java.io.InputStream in = noStdin ? null : shared != null ? new java.io.ByteArrayInputStream(shared) : StdStreams.in;
                if (json) {
                    ByteArrayOutputStream o = new ByteArrayOutputStream();
                    ByteArrayOutputStream e = new ByteArrayOutputStream();
                    RemoteSession.RunResult r = s.run(command, vars, in, o, e);
                    printJson(host, r, o.toByteArray(), e.toByteArray());
                    return r;
                }
                if (!many) {
                    return s.run(command, vars, in, StdStreams.out, StdStreams.err);
                }
                RemoteLines o = new RemoteLines(StdStreams.out, host);
                RemoteLines e = new RemoteLines(StdStreams.err, host);
                RemoteSession.RunResult r = s.run(command, vars, in, o, e);
                try {
                    o.finish();
                    e.finish();
                } catch (IOException x) {
                    throw CliIo.ioFailure(x);
                }
                return r;
            });
            int failure = RemoteFanout.failureCode(outcomes);
            report(entries, outcomes);
            if (json) {
                for (int i = 0; i < outcomes.size(); i++) {
                    if (outcomes.get(i).failure() != null) {
                        KeywayException f = outcomes.get(i).failure();
                        synchronized (JSON_LINES) {
                            out().println(JSON_LINES.createObjectNode().put("host", entries.get(i).host()).put("error", f.getMessage())
                                    .put("keywayExit", f.code().exitCode()));
                        }
                    }
                }
                out().flush();
            }
            if (failure != 0) {
                return failure;
            }
            int worst = 0;
            for (int i = 0; i < outcomes.size(); i++) {
                int exit = outcomes.get(i).value().exit();
                if (exit != 0) {
                    worst = exit;
                    if (!passExit && !json) {
                        err().println("keyway: " + Printable.escape(entries.get(i).host()) + ": the command exited with status " + exit);
                    }
                }
            }
            err().flush();
            if (passExit) {
                return worst;
            }
            return worst == 0 ? 0 : 1;
        }

        private void printJson(String host, RemoteSession.RunResult r, byte[] o, byte[] e) {
            ObjectNode n = JSON_LINES.createObjectNode();
            n.put("host", host);
            n.put("exit", r.exit());
            text(n, "stdout", o);
            text(n, "stderr", e);
            n.put("started", r.receipt().started().toString());
            n.put("ended", r.receipt().ended().toString());
            n.put("elapsedMs", r.elapsed().toMillis());
            ObjectNode rc = n.putObject("receipt");
            rc.put("host", r.receipt().host());
            rc.put("session", r.receipt().session());
            rc.put("client", r.receipt().client());
            rc.put("config", r.receipt().config());
            rc.put("command", r.receipt().command());
            rc.put("cwd", r.receipt().cwd());
            rc.put("stdoutSha256", r.receipt().stdoutSha256());
            rc.put("stderrSha256", r.receipt().stderrSha256());
            rc.put("signed", Base64.getEncoder().encodeToString(r.receipt().signedBytes()));
            rc.put("signature", Base64.getEncoder().encodeToString(r.signature()));
            synchronized (JSON_LINES) {
                out().println(n);
                out().flush();
            }
        }

        private static void text(ObjectNode n, String field, byte[] b) {
            java.nio.charset.CharsetDecoder d = StandardCharsets.UTF_8.newDecoder();
            try {
                n.put(field, d.decode(java.nio.ByteBuffer.wrap(b)).toString());
            } catch (java.nio.charset.CharacterCodingException x) {
                n.put(field + "Base64", Base64.getEncoder().encodeToString(b));
            }
        }

        private int detached(List<Registry.Entry> entries, Map<String, String> vars) {
            List<RemoteFanout.Outcome<String>> outcomes = eachSession(entries, throttle, false, s -> s.startJob(command, vars));
            for (int i = 0; i < outcomes.size(); i++) {
                String id = outcomes.get(i).value();
                if (id == null) {
                    continue;
                }
                if (json) {
                    out().println(JSON_LINES.createObjectNode().put("host", entries.get(i).host()).put("job", id));
                } else {
                    out().println(entries.size() == 1 ? Printable.escape(id) : Printable.escape(entries.get(i).host()) + ": job " + Printable.escape(id));
                }
            }
            out().flush();
            report(entries, outcomes);
            return RemoteFanout.failureCode(outcomes);
        }
    }

    @Command(name = "receive", mixinStandardHelpOptions = true, header = "Print what detached jobs have written so far.",
            description = {"Prints each job's output since the last receive (stdout to stdout, stderr to stderr), then, for a job "
                    + "that has ended, its exit status on stderr; the host then forgets that job. Each piece is acknowledged once "
                    + "written, so every byte is printed once across receives and reconnects (a receive killed between writing a "
                    + "piece and acknowledging it prints that piece, at most 32 KiB, again next time). Exit 1 when a job that "
                    + "ended exited non-zero."})
    static final class Receive extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The session's name.")
        String name;

        @Option(names = "--job", paramLabel = "ID", description = "Only this job (default: every job of the session).")
        String job = "";

        @Override
        int execute() {
            List<Registry.Entry> entries = Registry.read(options.registryPath()).require(name);
            boolean many = entries.size() > 1;
            List<RemoteFanout.Outcome<List<RemoteSession.JobState>>> outcomes = eachSession(entries, 1, false, s -> {
                String host = s.info().host().toString();
                OutputStream o = many ? new RemoteLines(StdStreams.out, host) : StdStreams.out;
                OutputStream e = many ? new RemoteLines(StdStreams.err, host) : StdStreams.err;
                List<RemoteSession.JobState> st = s.receive(job, o, e);
                try {
                    if (many) {
                        ((RemoteLines) o).finish();
                        ((RemoteLines) e).finish();
                    }
                } catch (IOException x) {
                    throw CliIo.ioFailure(x);
                }
                return st;
            });
            report(entries, outcomes);
            int worst = 0;
            for (int i = 0; i < outcomes.size(); i++) {
                if (outcomes.get(i).value() == null) {
                    continue;
                }
                String where = many ? Printable.escape(entries.get(i).host()) + ": " : "";
                for (RemoteSession.JobState j : outcomes.get(i).value()) {
                    if (j.done()) {
                        err().println("keyway: " + where + "job " + Printable.escape(j.id()) + " (" + Printable.escape(j.command()) + ") exited with status " + j.exit()
                                + (j.droppedStdout() + j.droppedStderr() > 0 ? "; " + (j.droppedStdout() + j.droppedStderr()) + " bytes were dropped (output buffer full)" : ""));
                        if (j.exit() != 0) {
                            worst = 1;
                        }
                    } else {
                        err().println("keyway: " + where + "job " + Printable.escape(j.id()) + " (" + Printable.escape(j.command()) + ") is still running");
                    }
                }
            }
            err().flush();
            int f = RemoteFanout.failureCode(outcomes);
            return f != 0 ? f : worst;
        }
    }

    @Command(name = "enter", mixinStandardHelpOptions = true, header = "An interactive session (line by line).",
            description = {"Reads command lines from stdin and runs each in the session, as Enter-PSSession does; the session's "
                    + "state persists between lines and after you leave. 'exit' (or end of input) leaves; the session stays."})
    static final class Enter extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The session's name (on one host).")
        String name;

        @Override
        int execute() throws IOException {
            List<Registry.Entry> entries = Registry.read(options.registryPath()).require(name);
            if (entries.size() != 1) {
                throw KeywayException.usage(name + " has sessions on " + entries.size() + " hosts", "enter a session on one host; use 'keyway remote run' for several");
            }
            Registry.Entry e = entries.get(0);
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(StdStreams.in, StandardCharsets.UTF_8));
            try (RemoteSession s = client.attach(e.address(), e.id(), e.savedTicket(), false)) {
                Registry.update(options.registryPath(), r -> {
                    r.replace(e.withTicket(s.ticket()));
                    return null;
                });
                String prompt = "[" + Printable.escape(name) + "@" + Printable.escape(e.host()) + "]$ ";
                int last = 0;
                while (true) {
                    err().print(prompt);
                    err().flush();
                    String line = in.readLine();
                    if (line == null || line.strip().equals("exit")) {
                        break;
                    }
                    if (line.isBlank()) {
                        continue;
                    }
                    last = s.run(List.of(line), Map.of(), null, StdStreams.out, StdStreams.err).exit();
                    if (last != 0) {
                        err().println("(exit " + last + ")");
                    }
                }
                err().println();
                err().flush();
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, header = "List your sessions: in the registry and on their hosts.",
            description = {"For each host in the registry: your sessions there, with their state (available, attached, busy, "
                    + "disconnected; 'gone' when the host no longer has it), idle time and jobs. Sessions on a host that the "
                    + "registry does not name are listed too (e.g. made from another machine)."})
    static final class ListSessions extends Base {
        @Option(names = "--json", description = "One JSON object per session.")
        boolean json;

        @Override
        int execute() {
            Registry reg = Registry.read(options.registryPath());
            List<String> hosts = reg.all().stream().map(Registry.Entry::host).distinct().toList();
            Map<String, Registry.Entry> byTicket = new LinkedHashMap<>();
            reg.all().forEach(e -> byTicket.putIfAbsent(e.host(), e));
            List<RemoteFanout.Outcome<List<RemoteSession.Listing>>> outcomes = RemoteFanout.run(hosts, RemoteFanout.DEFAULT_THROTTLE, h -> {
                try (RemoteSession.Link link = client.link(RemoteClient.HostAddress.parse(h), byTicket.get(h).savedTicket())) {
                    return link.list();
                }
            });
            if (!json) {
                out().printf("%-16s %-24s %-12s %-12s %8s %6s  %s%n", "NAME", "HOST", "CONFIG", "STATE", "IDLE", "JOBS", "ID");
            }
            for (int i = 0; i < hosts.size(); i++) {
                String h = hosts.get(i);
                List<RemoteSession.Listing> there = outcomes.get(i).value();
                for (Registry.Entry e : reg.all()) {
                    if (!e.host().equals(h)) {
                        continue;
                    }
                    RemoteSession.Listing l = there == null ? null : there.stream().filter(x -> x.id().equals(e.id())).findFirst().orElse(null);
                    String state = there == null ? "unreachable" : l == null ? "gone" : l.state();
                    row(e.name(), h, e.config(), state, l == null ? -1 : l.idleSeconds(), l == null ? "" : l.running() + "/" + l.jobs(), e.id());
                }
                if (there != null) {
                    for (RemoteSession.Listing l : there) {
                        if (reg.all().stream().noneMatch(e -> e.host().equals(h) && e.id().equals(l.id()))) {
                            row(l.name(), h, l.config(), l.state() + " (not in registry)", l.idleSeconds(), l.running() + "/" + l.jobs(), l.id());
                        }
                    }
                }
            }
            out().flush();
            report(hosts.stream().map(h -> new Registry.Entry("", h, "", "", "", Instant.EPOCH, false, "", "")).toList(), outcomes);
            return 0;
        }

        private void row(String name, String host, String config, String state, long idle, String jobs, String id) {
            if (json) {
                out().println(JSON_LINES.createObjectNode().put("name", name).put("host", host).put("config", config).put("state", state)
                        .put("idleSeconds", idle).put("jobs", jobs).put("id", id));
            } else {
                // the state and the id come from the host (the registry's id too, as the host gave it): escaped like the rest
                out().printf("%-16s %-24s %-12s %-12s %8s %6s  %s%n", Printable.escape(name), Printable.escape(host), Printable.escape(config),
                        Printable.escape(state), idle < 0 ? "-" : idle + "s", jobs.isEmpty() ? "-" : jobs, Printable.escape(id));
            }
        }
    }

    @Command(name = "disconnect", mixinStandardHelpOptions = true, header = "Disconnect a session: it keeps running on its hosts.",
            description = {"Marks the sessions named NAME disconnected (as Disconnect-PSSession does): their jobs run on, and no "
                    + "command runs in them until 'keyway remote connect NAME', from this machine or another with the same "
                    + "identity and a copy of the registry."})
    static final class Disconnect extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The session's name.")
        String name;

        @Override
        int execute() {
            List<Registry.Entry> entries = Registry.read(options.registryPath()).require(name);
            List<RemoteFanout.Outcome<Boolean>> outcomes = RemoteFanout.run(entries, RemoteFanout.DEFAULT_THROTTLE, e -> {
                try (RemoteSession s = client.attach(e.address(), e.id(), e.savedTicket(), true)) {
                    s.detach(true);
                    return true;
                }
            });
            Registry.update(options.registryPath(), r -> {
                for (int i = 0; i < entries.size(); i++) {
                    if (outcomes.get(i).value() != null) {
                        r.replace(entries.get(i).withDisconnected(true));
                    }
                }
                return null;
            });
            report(entries, outcomes);
            int ok = (int) outcomes.stream().filter(o -> o.value() != null).count();
            out().println("session " + Printable.escape(name) + " disconnected on " + ok + " of " + entries.size() + " hosts");
            out().flush();
            return RemoteFanout.failureCode(outcomes);
        }
    }

    @Command(name = "connect", mixinStandardHelpOptions = true, header = "Reconnect a disconnected session.",
            description = {"Reattaches to the sessions named NAME (a resumed TLS handshake when the registry's ticket still opens, "
                    + "and the identity proven again either way) and makes them available for commands."})
    static final class Connect extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The session's name.")
        String name;

        @Override
        int execute() {
            List<Registry.Entry> entries = Registry.read(options.registryPath()).require(name);
            List<RemoteFanout.Outcome<Boolean>> outcomes = eachSession(entries, RemoteFanout.DEFAULT_THROTTLE, true, RemoteSession::resumed);
            Registry.update(options.registryPath(), r -> {
                for (int i = 0; i < entries.size(); i++) {
                    if (outcomes.get(i).value() != null) {
                        for (Registry.Entry now : r.named(name)) {
                            if (now.id().equals(entries.get(i).id())) {
                                r.replace(now.withDisconnected(false));
                            }
                        }
                    }
                }
                return null;
            });
            report(entries, outcomes);
            for (int i = 0; i < entries.size(); i++) {
                Boolean resumed = outcomes.get(i).value();
                if (resumed != null) {
                    out().println(Printable.escape(entries.get(i).host()) + ": session " + Printable.escape(name) + " connected"
                            + (resumed ? " (resumed)" : " (full handshake)"));
                }
            }
            out().flush();
            return RemoteFanout.failureCode(outcomes);
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, header = "End a session on its hosts and forget it.",
            description = {"Ends the sessions named NAME and every process they started, and removes them from the registry. A "
                    + "session the host no longer has (reaped, or the service restarted) is only removed from the registry."})
    static final class Remove extends Base {
        @Parameters(index = "0", paramLabel = "NAME", description = "The session's name.")
        String name;

        @Override
        int execute() {
            List<Registry.Entry> entries = Registry.read(options.registryPath()).require(name);
            List<RemoteFanout.Outcome<Boolean>> outcomes = RemoteFanout.run(entries, RemoteFanout.DEFAULT_THROTTLE, e -> {
                try (RemoteSession.Link link = client.link(e.address(), e.savedTicket())) {
                    try {
                        link.remove(e.id());
                    } catch (KeywayException x) {
                        if (x.code() != ErrorCode.USAGE) {
                            throw x;
                        }
                        // the host has no such session any more: forgetting it is all there is to do
                    }
                    return true;
                }
            });
            Registry.update(options.registryPath(), r -> {
                for (int i = 0; i < entries.size(); i++) {
                    if (outcomes.get(i).value() != null) {
                        r.remove(entries.get(i));
                    }
                }
                return null;
            });
            report(entries, outcomes);
            int ok = (int) outcomes.stream().filter(o -> o.value() != null).count();
            out().println("session " + Printable.escape(name) + " removed from " + ok + " of " + entries.size() + " hosts");
            out().flush();
            return RemoteFanout.failureCode(outcomes);
        }
    }

    @Command(name = "cp", mixinStandardHelpOptions = true, header = "Copy a file into or out of a session.",
            description = {"One side is NAME:PATH: a path in the session (relative to its working directory), confined to the "
                    + "configuration's working directory with symbolic links resolved; the configuration may forbid transfers. "
                    + "Copying in goes to every host of NAME; copying out needs a session on one host. Files are written "
                    + "atomically (a temporary name, then a rename) and checked by SHA-256.",
                    "",
                    "  keyway remote cp build.tar build:src/build.tar -i me.key --cacert host.crt",
                    "  keyway remote cp build:out/report.txt ./report.txt -i me.key --cacert host.crt"})
    static final class Copy extends Base {
        @Parameters(index = "0", paramLabel = "SRC", description = "LOCAL or NAME:PATH.")
        String src;

        @Parameters(index = "1", paramLabel = "DST", description = "NAME:PATH or LOCAL.")
        String dst;

        @Override
        int execute() throws IOException {
            Registry reg = Registry.read(options.registryPath());
            String[] remoteSrc = split(src, reg);
            String[] remoteDst = split(dst, reg);
            if ((remoteSrc == null) == (remoteDst == null)) {
                throw KeywayException.usage("exactly one of SRC and DST must be NAME:PATH", "e.g. keyway remote cp file.txt build:file.txt");
            }
            if (remoteDst != null) {
                Path local = Path.of(src);
                if (!Files.isRegularFile(local)) {
                    throw KeywayException.usage(src + " is not a regular file", "give a file to copy");
                }
                List<Registry.Entry> entries = reg.require(remoteDst[0]);
                List<RemoteFanout.Outcome<Boolean>> outcomes = eachSession(entries, RemoteFanout.DEFAULT_THROTTLE, false, s -> {
                    s.put(local, remoteDst[1]);
                    return true;
                });
                report(entries, outcomes);
                return RemoteFanout.failureCode(outcomes);
            }
            List<Registry.Entry> entries = reg.require(remoteSrc[0]);
            if (entries.size() != 1) {
                throw KeywayException.usage(remoteSrc[0] + " has sessions on " + entries.size() + " hosts", "copy out of a session on one host");
            }
            Path target = Path.of(dst);
            if (Files.isDirectory(target)) {
                target = target.resolve(Path.of(remoteSrc[1]).getFileName());
            }
            Path finalTarget = target;
            try (dev.keyway.core.io.AtomicFile.Output o = dev.keyway.core.io.AtomicFile.create(finalTarget, false)) {
                List<RemoteFanout.Outcome<Long>> outcomes = eachSession(entries, 1, false, s -> s.get(remoteSrc[1], o.stream()));
                report(entries, outcomes);
                int f = RemoteFanout.failureCode(outcomes);
                if (f == 0) {
                    o.commit();
                }
                return f;
            }
        }

        /** {@code [NAME, PATH]} when {@code arg} is NAME:PATH with NAME in the registry, else null (a local path). */
        private static String[] split(String arg, Registry reg) {
            int c = arg.indexOf(':');
            if (c <= 0 || arg.startsWith("/") || arg.startsWith("./")) {
                return null;
            }
            String name = arg.substring(0, c);
            if (reg.named(name).isEmpty()) {
                return null;
            }
            return new String[] {name, arg.substring(c + 1)};
        }
    }
}
