package dev.keyway.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.remote.Registry;
import dev.keyway.remote.RemoteClient;
import dev.keyway.remote.RemoteSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The client side of {@code keyway remote}: thin commands over {@link RemoteClient} and the {@link Registry}. */
/** {@code keyway remote run}, {@code receive} and {@code enter}: commands in sessions. */
final class RemoteRunCommands {
    private static final ObjectMapper JSON_LINES = new ObjectMapper();

    private RemoteRunCommands() {
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
    static final class Run extends RemoteClientCommand {
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
            Map<String, String> vars = environment();
            if (detach) {
                return detached(entries, vars);
            }
            boolean many = entries.size() > 1;
            byte[] stdinBytes = null;
            if (!noStdin && many) {
                // every host gets the same stdin: read once (bounded); a terminal is not read to its end
                stdinBytes = StdStreams.inTerminal ? new byte[0] : readStdin();
            }
            final byte[] shared = stdinBytes;
            Instant started = Instant.now();
            List<RemoteFanout.Outcome<RemoteSession.RunResult>> outcomes = eachSession(entries, throttle, false, s -> {
                String host = s.info().host().toString();
                InputStream in = noStdin ? null : shared != null ? new ByteArrayInputStream(shared) : StdStreams.in;
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
                printJsonFailures(entries, outcomes);
            }
            return failure != 0 ? failure : exitStatus(entries, outcomes);
        }

        /** -e NAME=VALUE, in order. */
        private Map<String, String> environment() {
            Map<String, String> vars = new LinkedHashMap<>();
            for (String e : env) {
                int eq = e.indexOf('=');
                if (eq <= 0) {
                    throw KeywayException.usage("-e wants NAME=VALUE (got " + Printable.escape(e) + ")", "write it so");
                }
                vars.put(e.substring(0, eq), e.substring(eq + 1));
            }
            return vars;
        }

        private void printJsonFailures(List<Registry.Entry> entries, List<RemoteFanout.Outcome<RemoteSession.RunResult>> outcomes) {
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

        /** Every session ran the command: its exit status (--pass-exit), or 1 when one host's command failed. */
        private int exitStatus(List<Registry.Entry> entries, List<RemoteFanout.Outcome<RemoteSession.RunResult>> outcomes) {
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

        private static byte[] readStdin() throws IOException {
            byte[] b = StdStreams.in.readNBytes((64 << 20) + 1);
            if (b.length > 64 << 20) {
                throw KeywayException.usage("more than 64 MiB on stdin for several hosts", "copy large input with 'keyway remote cp' instead");
            }
            return b;
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
            CharsetDecoder d = StandardCharsets.UTF_8.newDecoder();
            try {
                n.put(field, d.decode(ByteBuffer.wrap(b)).toString());
            } catch (CharacterCodingException x) {
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
    static final class Receive extends RemoteClientCommand {
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
    static final class Enter extends RemoteClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "The session's name (on one host).")
        String name;

        @Override
        int execute() throws IOException {
            List<Registry.Entry> entries = Registry.read(options.registryPath()).require(name);
            if (entries.size() != 1) {
                throw KeywayException.usage(name + " has sessions on " + entries.size() + " hosts", "enter a session on one host; use 'keyway remote run' for several");
            }
            Registry.Entry e = entries.get(0);
            BufferedReader in = new BufferedReader(new InputStreamReader(StdStreams.in, StandardCharsets.UTF_8));
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
                    last = s.run(s.words(line), Map.of(), null, StdStreams.out, StdStreams.err).exit();
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
}
