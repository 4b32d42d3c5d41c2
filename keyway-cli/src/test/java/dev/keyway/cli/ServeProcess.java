package dev.keyway.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code keyway tls serve} (or {@code keyway remote serve}) as a child JVM on this test's class path, listening on
 * 127.0.0.1 on a free port: unlike an in-process server it can serve without --naccept and still be stopped for sure
 * ({@link #close} kills it).
 * Its standard error (the listening line, one line per connection) is kept for assertions.
 */
final class ServeProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on [^\\s]*:(\\d+)");

    private final Process process;
    private final int port;
    private final StringBuffer err = new StringBuffer();

    /**
     * JVM options for keyway children that start often and live briefly: the C1 compiler alone and the serial collector
     * start about twice as fast on a busy two-core machine.
     */
    static final List<String> QUICK_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    /**
     * {@code cmd} started with SIGINT at its default action (the Ctrl-C tests): a process started in the background by
     * a non-interactive shell (a CI job, {@code nohup ... &}) inherits SIGINT ignored, and the JVM then keeps ignoring
     * it. coreutils' {@code env --default-signal} undoes that and execs the command (same pid). As AtomicFileExitTest
     * in keyway-core does.
     */
    static List<String> withSigintDefault(List<String> cmd) {
        List<String> out = new ArrayList<>();
        try {
            Process probe = new ProcessBuilder("env", "--default-signal=INT", "true").redirectErrorStream(true).start();
            probe.getInputStream().readAllBytes();
            if (probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0) {
                out.addAll(List.of("env", "--default-signal=INT"));
            }
        } catch (IOException e) {
            // no such env: run as it is
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.addAll(cmd);
        return out;
    }

    /** {@code java JVM-OPTIONS -cp (this test's class path) dev.keyway.cli.Main ARGS}: the keyway command as a child process. */
    static List<String> keyway(List<String> jvmOptions, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.keyway.cli.Main"));
        cmd.addAll(args);
        return cmd;
    }

    private ServeProcess(List<String> jvmOptions, List<String> args) throws Exception {
        process = new ProcessBuilder(keyway(jvmOptions, args)).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        CountDownLatch ready = new CountDownLatch(1);
        int[] found = {-1};
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    err.append(line).append('\n');
                    Matcher m = LISTENING.matcher(line);
                    if (found[0] < 0 && m.find()) {
                        found[0] = Integer.parseInt(m.group(1));
                        ready.countDown();
                    }
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            } finally {
                ready.countDown();
            }
        }, "serve-stderr");
        reader.setDaemon(true);
        reader.start();
        if (!ready.await(60, TimeUnit.SECONDS) || found[0] < 0) {
            process.destroyForcibly();
            throw new IllegalStateException("keyway " + args.get(0) + " serve did not start: " + err);
        }
        port = found[0];
    }

    /** Starts {@code keyway tls serve ARGS --listen 127.0.0.1:0} and waits for its listening line. */
    static ServeProcess start(List<String> serveArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of("tls", "serve", "--listen", "127.0.0.1:0"));
        args.addAll(serveArgs);
        return new ServeProcess(List.of(), args);
    }

    /** Starts {@code keyway remote serve --dir DIR --listen 127.0.0.1:0} and waits for its listening line. */
    static ServeProcess startRemote(Path dir) throws Exception {
        return new ServeProcess(QUICK_JVM, List.of("remote", "serve", "--dir", dir.toString(), "--listen", "127.0.0.1:0"));
    }

    int port() {
        return port;
    }

    /** Everything the server printed on standard error so far. */
    String err() {
        return err.toString();
    }

    /** Waits up to {@code seconds} for a line of standard error containing {@code text}; whether it came. */
    boolean awaitErr(String text, int seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (err.indexOf(text) >= 0) {
                return true;
            }
            Thread.sleep(50);
        }
        return err.indexOf(text) >= 0;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
