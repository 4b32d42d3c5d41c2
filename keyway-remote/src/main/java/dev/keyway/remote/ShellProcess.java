package dev.keyway.remote;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A session's persistent {@code /bin/sh}, in a process group of its own ({@code setsid}) so that ending the session
 * ends every process it started.
 *
 * <p>The shell reads its script from a pipe only the host writes. Each command line is passed to
 * {@code command eval} inside single quotes (so no text can end the quoting, and a syntax error is the command's
 * status 2 instead of the end of the shell), with its stdin, stdout and stderr redirected to that command's own
 * FIFOs. The shell's real stdout is the <em>status channel</em>: after each command the shell writes
 * {@code F <status> <length> <working directory>} there, and a detached job's subshell writes
 * {@code J <id> <status>}; a command's own output never reaches it, so the status is never parsed out of output.
 */
final class ShellProcess {
    private static final String SHELL = "/bin/sh";
    private final Process process;
    private final OutputStream script;
    private final Map<String, CompletableFuture<Integer>> jobs = new ConcurrentHashMap<>();
    private volatile CompletableFuture<Result> foreground;
    private volatile String pwd;

    /** A foreground command's end: its status and the shell's working directory after it (null if the shell ended). */
    record Result(int status, String pwd, boolean shellEnded) {
    }

    private ShellProcess(Process process, String pwd) {
        this.process = process;
        this.script = process.getOutputStream();
        this.pwd = pwd;
        Thread status = new Thread(this::readStatus, "keyway-remote-status-" + process.pid());
        status.setDaemon(true);
        status.start();
        Thread err = new Thread(this::drainStderr, "keyway-remote-stderr-" + process.pid());
        err.setDaemon(true);
        err.start();
        process.onExit().thenRun(() -> {
            CompletableFuture<Result> f = foreground;
            if (f != null) {
                f.complete(new Result(process.exitValue(), null, true));
            }
        });
    }

    static ShellProcess start(Path workingDirectory, Map<String, String> environment) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("setsid", SHELL);
        pb.directory(workingDirectory.toFile());
        pb.environment().clear();
        pb.environment().putAll(environment);
        return new ShellProcess(pb.start(), workingDirectory.toString());
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** The working directory after the last foreground command (the configuration's before the first). */
    String pwd() {
        return pwd;
    }

    /** POSIX single quoting: {@code 'it'\''s'}. NUL cannot appear in a shell word and is refused earlier. */
    static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /** Starts a foreground command; it opens {@code fifos} in the order in, out, err. */
    synchronized CompletableFuture<Result> run(String line, Map<String, String> exports, Fifos.Set fifos) throws IOException {
        CompletableFuture<Result> f = new CompletableFuture<>();
        foreground = f;
        StringBuilder sb = new StringBuilder();
        exports.forEach((k, v) -> sb.append("export ").append(k).append('=').append(quote(v)).append('\n'));
        sb.append("command eval ").append(quote(line))
                .append(" <").append(quote(fifos.in().toString()))
                .append(" >").append(quote(fifos.out().toString()))
                .append(" 2>").append(quote(fifos.err().toString()))
                .append("; printf 'F %d %d %s\\n' \"$?\" \"${#PWD}\" \"$PWD\"\n");
        write(sb.toString());
        if (!process.isAlive()) {
            f.complete(new Result(process.isAlive() ? -1 : process.exitValue(), null, true));
        }
        return f;
    }

    /** Starts a detached job in a subshell (which has the session's variables, functions and directory). */
    synchronized CompletableFuture<Integer> startJob(String id, String line, Map<String, String> exports, Fifos.Set fifos) throws IOException {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        jobs.put(id, f);
        StringBuilder sb = new StringBuilder();
        exports.forEach((k, v) -> sb.append("export ").append(k).append('=').append(quote(v)).append('\n'));
        sb.append("{ ( command eval ").append(quote(line)).append(" ) </dev/null")
                .append(" >").append(quote(fifos.out().toString()))
                .append(" 2>").append(quote(fifos.err().toString()))
                .append("; printf 'J %s %d\\n' ").append(quote(id)).append(" \"$?\"; } &\n");
        write(sb.toString());
        return f;
    }

    private void write(String s) throws IOException {
        script.write(s.getBytes(StandardCharsets.UTF_8));
        script.flush();
    }

    /** Kills the shell's whole process group, then anything left of its descendants. */
    void kill() {
        long pid = process.pid();
        try {
            Process k = new ProcessBuilder("kill", "-KILL", "--", "-" + pid).redirectErrorStream(true).start();
            k.getInputStream().readAllBytes();
            k.waitFor(5, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException ignored) {
            // the descendants walk below still runs
        }
        List<ProcessHandle> rest = process.descendants().toList();
        rest.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        jobs.values().forEach(j -> j.complete(-1));
    }

    /** The processes of the session still alive (the shell and what it started), for tests and for listing. */
    List<ProcessHandle> processes() {
        ArrayList<ProcessHandle> all = new ArrayList<>();
        all.add(process.toHandle());
        process.descendants().forEach(all::add);
        return all.stream().filter(ProcessHandle::isAlive).toList();
    }

    private void readStatus() {
        try (InputStream in = new BufferedInputStream(process.getInputStream())) {
            while (true) {
                int kind = in.read();
                if (kind < 0) {
                    break;
                }
                if (kind == 'F') {
                    expect(in, ' ');
                    int status = (int) number(in, ' ');
                    long len = number(in, ' ');
                    String dir = rest(in, len);
                    pwd = dir;
                    CompletableFuture<Result> f = foreground;
                    if (f != null) {
                        f.complete(new Result(status, dir, false));
                    }
                } else if (kind == 'J') {
                    expect(in, ' ');
                    String id = token(in, ' ');
                    int status = (int) number(in, '\n');
                    CompletableFuture<Integer> f = jobs.remove(id);
                    if (f != null) {
                        f.complete(status);
                    }
                } else {
                    rest(in, 0); // not ours (a process that wrote to the shell's stdout): skip the line
                }
            }
        } catch (IOException ignored) {
            // the shell is gone
        } finally {
            // every writer of the channel is gone: a job that did not report cannot report any more
            jobs.values().forEach(j -> j.complete(-1));
        }
    }

    private static void expect(InputStream in, char c) throws IOException {
        int b = in.read();
        if (b != c) {
            throw new IOException("status channel out of step");
        }
    }

    private static long number(InputStream in, char end) throws IOException {
        long v = 0;
        boolean neg = false;
        int digits = 0;
        while (true) {
            int b = in.read();
            if (b == end) {
                return neg ? -v : v;
            }
            if (b == '-' && digits == 0 && !neg) {
                neg = true;
            } else if (b >= '0' && b <= '9' && digits < 12) {
                v = v * 10 + (b - '0');
                digits++;
            } else {
                throw new IOException("status channel out of step");
            }
        }
    }

    private static String token(InputStream in, char end) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != end) {
            if (b < 0 || out.size() > 256) {
                throw new IOException("status channel out of step");
            }
            out.write(b);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** {@code len} bytes, then to the end of the line (a shell that counted characters, not bytes, gets the rest too). */
    private static String rest(InputStream in, long len) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (long i = 0; i < len && i < 65536; i++) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("status channel ended");
            }
            out.write(b);
        }
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                throw new IOException("status channel ended");
            }
            if (out.size() < 65536) {
                out.write(b);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private void drainStderr() {
        try (InputStream in = process.getErrorStream()) {
            byte[] buf = new byte[4096];
            while (in.read(buf) >= 0) {
                // the shell's own messages (redirection failures before a command's stderr exists): not a client's
            }
        } catch (IOException ignored) {
            // gone
        }
    }
}
