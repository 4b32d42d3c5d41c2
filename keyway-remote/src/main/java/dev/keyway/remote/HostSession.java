package dev.keyway.remote;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.io.AtomicFile;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * One session on the host: its owner, configuration, persistent state (a shell, or the restricted session's working
 * directory and variables), its detached jobs, and which connection is attached. It lives until it is removed, its
 * idle timeout or lifetime runs out, or the service stops; a client's disconnect leaves it running.
 */
final class HostSession {
    /** The longest command line, as a receipt names it (a text field of the protocol). */
    static final int MAX_COMMAND = 0xFFFF;
    final String id;
    final String name;
    final String owner;
    final String ownerKey;
    final Configuration config;
    final Instant created;
    private final Path runDir;
    private final Fifos fifos;
    private final Map<String, String> baseEnvironment;
    /** Restricted sessions: the working directory and the variables the client set. */
    private Path cwd;
    private final Map<String, String> vars = new TreeMap<>();
    /** Written under the session's lock; read without it by {@link #kill}. */
    private volatile ShellProcess shell;
    private final List<Process> restricted = new ArrayList<>();
    final Map<String, HostJob> jobs = new LinkedHashMap<>();
    private int nextJob = 1;
    volatile Instant lastActive;
    volatile HostConnection attached;
    volatile boolean disconnected;
    volatile boolean busy;
    volatile boolean removed;

    HostSession(String id, String name, String owner, String ownerKey, Configuration config, Instant now, Path runRoot) throws IOException {
        this.id = id;
        this.name = name;
        this.owner = owner;
        this.ownerKey = ownerKey;
        this.config = config;
        this.created = now;
        this.lastActive = now;
        this.cwd = config.workingDirectory();
        this.runDir = Files.createDirectory(runRoot.resolve(id), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        this.fifos = new Fifos(runDir);
        Map<String, String> env = new TreeMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", System.getProperty("user.home"));
        env.put("USER", System.getProperty("user.name"));
        env.put("LOGNAME", System.getProperty("user.name"));
        env.put("SHELL", "/bin/sh");
        env.put("LANG", System.getenv().getOrDefault("LANG", "C.UTF-8"));
        env.put("KEYWAY_SESSION", name);
        this.baseEnvironment = Map.copyOf(env);
    }

    /** A command as the host will run it: a shell line, or a restricted argv already checked. */
    record Command(String text, List<String> argv, Map<String, String> exports) {
    }

    /** A started command's streams (opened by the caller, in threads: a FIFO's open waits for the other side) and its end. */
    interface Started {
        ReadableByteChannel openOut() throws IOException;

        ReadableByteChannel openErr() throws IOException;

        /** Foreground commands only. */
        WritableByteChannel openIn() throws IOException;

        CompletableFuture<Integer> status();

        /** The working directory the command started in. */
        String cwd();

        /** The working directory after it (the shell's, as it reported it). */
        String cwdAfter();

        /** Releases threads blocked opening the streams, and deletes the pipes. */
        void release();
    }

    /** Checks a RUN's words and variables against the configuration. Refusals are POLICY errors (exit 4). */
    Command check(List<String> words, Map<String, String> env) {
        if (words.isEmpty()) {
            throw KeywayException.usage("no command given", "put the command after --");
        }
        for (String w : words) {
            if (w.indexOf('\0') >= 0) {
                throw KeywayException.usage("a command cannot contain a NUL character", "remove it");
            }
        }
        Map<String, String> exports = new TreeMap<>();
        env.forEach((k, v) -> {
            checkVariable(k, v);
            exports.put(k, v);
        });
        String text = config.kind() == Configuration.Kind.SHELL ? String.join(" ", words) : Restricted.display(words);
        int bytes = text.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_COMMAND) {
            // refused before it runs: its receipt (and a job's state) names it in full, in a field of at most this
            throw KeywayException.usage("a command line of " + bytes + " bytes (the limit is " + MAX_COMMAND + ")",
                    "put a long command in a script ('keyway remote cp' copies it in) and run that");
        }
        if (config.kind() == Configuration.Kind.SHELL) {
            return new Command(text, List.copyOf(words), exports);
        }
        return new Command(text, Restricted.check(config, words), exports);
    }

    void checkVariable(String k, String v) {
        if (!config.environment().contains(k) || Configuration.NEVER.contains(k) || !Configuration.VARIABLE.matcher(k).matches()) {
            throw KeywayException.policy("configuration " + config.name() + " does not let clients set " + Printable.escape(k),
                    "it allows: " + (config.environment().isEmpty() ? "none" : String.join(", ", new TreeSet<>(config.environment()))));
        }
        if (v.indexOf('\0') >= 0) {
            throw KeywayException.usage("a variable's value cannot contain a NUL character", "remove it");
        }
    }

    /** Starts a foreground command; the caller has marked the session busy. */
    synchronized Started start(Command c) throws IOException {
        if (config.kind() == Configuration.Kind.SHELL) {
            ShellProcess sh = shell();
            String before = sh.pwd();
            Fifos.Set set = fifos.take();
            CompletableFuture<ShellProcess.Result> end = sh.run(c.text(), c.exports(), set);
            CompletableFuture<Integer> status = end.thenApply(ShellProcess.Result::status);
            return new FifoStarted(set, status, before) {
                @Override
                public String cwdAfter() {
                    ShellProcess.Result r = end.getNow(null);
                    return r == null || r.pwd() == null ? before : r.pwd();
                }
            };
        }
        return startRestricted(c, false);
    }

    /** Starts a detached job. */
    synchronized HostJob startJob(Command c) throws IOException {
        long running = jobs.values().stream().filter(j -> !j.drained()).count();
        if (running >= config.jobsPerSession()) {
            throw KeywayException.policy("the session has " + running + " jobs not yet received (the configuration's limit)",
                    "receive them first with 'keyway remote receive'");
        }
        String jid = Integer.toString(nextJob++);
        Started st;
        if (config.kind() == Configuration.Kind.SHELL) {
            Fifos.Set set = fifos.take();
            CompletableFuture<Integer> status = shell().startJob(jid, c.text(), c.exports(), set);
            String at = shell().pwd();
            st = new FifoStarted(set, status, at);
        } else {
            st = startRestricted(c, true);
        }
        HostJob job = new HostJob(jid, c.text(), st, config, Instant.now());
        jobs.put(jid, job);
        return job;
    }

    private ShellProcess shell() throws IOException {
        if (shell == null || !shell.alive()) {
            Map<String, String> env = new TreeMap<>(baseEnvironment);
            shell = ShellProcess.start(config.workingDirectory(), env);
        }
        return shell;
    }

    private Started startRestricted(Command c, boolean detached) throws IOException {
        if (c.argv().get(0).equals("cd") || c.argv().get(0).contains("=")) {
            if (detached) {
                throw KeywayException.usage("cd and variable assignments are not jobs", "run them in the session, not as a detached job");
            }
            return builtin(c);
        }
        List<String> argv = new ArrayList<>();
        argv.add("setsid");
        argv.addAll(c.argv());
        ProcessBuilder pb = new ProcessBuilder(argv).directory(cwd.toFile());
        pb.environment().clear();
        pb.environment().putAll(baseEnvironment);
        pb.environment().putAll(vars);
        pb.environment().putAll(c.exports());
        if (detached) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        }
        Process p = pb.start();
        restricted.add(p);
        String at = cwd.toString();
        CompletableFuture<Integer> status = p.onExit().thenApply(Process::exitValue);
        return new Started() {
            public ReadableByteChannel openOut() {
                return Channels.newChannel(p.getInputStream());
            }

            public ReadableByteChannel openErr() {
                return Channels.newChannel(p.getErrorStream());
            }

            public WritableByteChannel openIn() {
                return Channels.newChannel(p.getOutputStream());
            }

            public CompletableFuture<Integer> status() {
                return status;
            }

            public String cwd() {
                return at;
            }

            public String cwdAfter() {
                return at;
            }

            public void release() {
                synchronized (HostSession.this) {
                    restricted.remove(p);
                }
            }
        };
    }

    /** {@code cd DIR} and {@code NAME=VALUE} in a restricted session: the host keeps them. */
    private Started builtin(Command c) {
        String at = cwd.toString();
        List<String> a = c.argv();
        if (a.get(0).equals("cd")) {
            Path root = realOrPolicy(config.workingDirectory());
            Path target = a.size() > 1 ? cwd.resolve(a.get(1)) : root;
            Path real = realOrPolicy(target);
            if (!real.startsWith(root) || !Files.isDirectory(real)) {
                throw KeywayException.policy("cd outside the configuration's working directory, or to a missing directory: "
                        + Printable.escape(a.size() > 1 ? a.get(1) : ""), "stay under " + root);
            }
            cwd = real;
        } else {
            for (String w : a) {
                int eq = w.indexOf('=');
                if (eq <= 0) {
                    throw KeywayException.policy("variable assignments and commands cannot be mixed in a restricted session", "give them separately");
                }
                checkVariable(w.substring(0, eq), w.substring(eq + 1));
                vars.put(w.substring(0, eq), w.substring(eq + 1));
            }
        }
        String after = cwd.toString();
        return new Started() {
            public ReadableByteChannel openOut() {
                return Channels.newChannel(InputStream.nullInputStream());
            }

            public ReadableByteChannel openErr() {
                return Channels.newChannel(InputStream.nullInputStream());
            }

            public WritableByteChannel openIn() {
                return Channels.newChannel(OutputStream.nullOutputStream());
            }

            public CompletableFuture<Integer> status() {
                return CompletableFuture.completedFuture(0);
            }

            public String cwd() {
                return at;
            }

            public String cwdAfter() {
                return after;
            }

            public void release() {
            }
        };
    }

    private static Path realOrPolicy(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            throw KeywayException.policy("no such directory: " + Printable.escape(p.toString()), "give a directory that exists");
        }
    }

    /** Where a copied file goes or comes from: under the configuration's working directory, symlinks resolved. */
    synchronized Path confine(String path, boolean forWriting) {
        if (!config.fileTransfer()) {
            throw KeywayException.policy("configuration " + config.name() + " does not allow file transfer", "ask the host's administrator");
        }
        if (path.isEmpty() || path.indexOf('\0') >= 0) {
            throw KeywayException.usage("an empty path or one with NUL", "give a file name");
        }
        Path root = realOrPolicy(config.workingDirectory());
        String base = config.kind() == Configuration.Kind.SHELL && shell != null ? shell.pwd() : cwd.toString();
        Path p = Path.of(base).resolve(path).normalize();
        Path real;
        if (forWriting) {
            if (p.getFileName() == null) {
                // "/" or "/..": no file name to write (it failed with a NullPointerException, exit 1)
                throw KeywayException.usage(Printable.escape(path) + " names no file", "give the file's name");
            }
            Path parent = realOrPolicy(p.getParent() == null ? p : p.getParent());
            real = parent.resolve(p.getFileName().toString());
            if (Files.isSymbolicLink(real)) {
                throw KeywayException.policy("refusing to write through a symbolic link: " + Printable.escape(path), "remove the link first");
            }
            if (!parent.startsWith(root)) {
                throw KeywayException.policy(Printable.escape(path) + " is outside the configuration's working directory " + root, "copy under it");
            }
        } else {
            real = realOrPolicy(p);
            if (!real.startsWith(root)) {
                throw KeywayException.policy(Printable.escape(path) + " is outside the configuration's working directory " + root, "copy from under it");
            }
        }
        return real;
    }

    synchronized boolean jobsAllDone() {
        return jobs.values().stream().allMatch(HostJob::done);
    }

    Path runDir() {
        return runDir;
    }

    /** Ends everything the session started; idempotent. */
    void kill() {
        removed = true;
        // First, and without the session's lock: a request may hold it while it writes to the shell's script pipe,
        // which blocks while the shell is busy with an earlier command (one left running by a client that went
        // away); killing the shell breaks that write, and the lock comes free.
        ShellProcess sh = shell;
        if (sh != null) {
            sh.kill();
        }
        synchronized (this) {
            killRest();
        }
    }

    private void killRest() {
        if (shell != null && shell.alive()) {
            shell.kill(); // started after the kill above began
        }
        for (Process p : List.copyOf(restricted)) {
            killGroup(p);
        }
        restricted.clear();
        jobs.values().forEach(HostJob::abandon);
        fifos.close();
        try (var walk = Files.walk(runDir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | UncheckedIOException ignored) {
            // a command's pipes are deleted by its own release meanwhile (the walk then trips on one gone); whatever
            // is left is emptied at the service's next start
        }
    }

    private static void killGroup(Process p) {
        try {
            Process k = new ProcessBuilder("kill", "-KILL", "--", "-" + p.pid()).redirectErrorStream(true).start();
            k.getInputStream().readAllBytes();
            k.waitFor();
        } catch (IOException | InterruptedException ignored) {
            // below
        }
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    /** Every process of the session still alive. */
    synchronized List<ProcessHandle> processes() {
        List<ProcessHandle> all = new ArrayList<>();
        if (shell != null) {
            all.addAll(shell.processes());
        }
        for (Process p : restricted) {
            if (p.isAlive()) {
                all.add(p.toHandle());
            }
            p.descendants().filter(ProcessHandle::isAlive).forEach(all::add);
        }
        return all;
    }

    /** A foreground or job command whose streams are the FIFOs of {@code set}. */
    private static class FifoStarted implements Started {
        private final Fifos.Set set;
        private final CompletableFuture<Integer> status;
        private final String cwd;

        FifoStarted(Fifos.Set set, CompletableFuture<Integer> status, String cwd) {
            this.set = set;
            this.status = status;
            this.cwd = cwd;
        }

        public ReadableByteChannel openOut() throws IOException {
            return Fifos.openRead(set.out());
        }

        public ReadableByteChannel openErr() throws IOException {
            return Fifos.openRead(set.err());
        }

        public WritableByteChannel openIn() throws IOException {
            return Fifos.openWrite(set.in());
        }

        public CompletableFuture<Integer> status() {
            return status;
        }

        public String cwd() {
            return cwd;
        }

        public String cwdAfter() {
            return cwd;
        }

        public void release() {
            Fifos.unblock(set.in());
            Fifos.unblock(set.out());
            Fifos.unblock(set.err());
            set.delete();
        }
    }

    static KeywayException io(String what, IOException e) {
        return new KeywayException(ErrorCode.IO, what + " (" + AtomicFile.describe(e) + ")", "see the host's log");
    }
}
