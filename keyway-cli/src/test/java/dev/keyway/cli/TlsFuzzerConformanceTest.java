package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * tlsfuzzer, the TLS conformance suite, against {@code keyway tls serve}: every run of every
 * {@code conformance/tlsfuzzer-*.json} starts a server subprocess (its arguments, certificates filled in, on
 * 127.0.0.1 and a free port), runs the run's scripts against it two at a time, each with its arguments, its
 * expected failures ({@code -x case -X alert}) and exclusions ({@code -e case}), and stops it. One dynamic test
 * per script: a failure names the script and quotes its failed cases. conformance/README.md says how to run it.
 *
 * <p>Skipped, with the reason printed, when /usr/bin/python3 lacks the ecdsa module or
 * ../shared/tools/tlsfuzzer.tar.gz (beside the repository) is absent.
 */
@Tag("interop")
class TlsFuzzerConformanceTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final long SCRIPT_TIMEOUT_MINUTES = 5;
    private static final Pattern LISTENING = Pattern.compile("keyway: listening on (\\S+):(\\d+)");

    private static final ExecutorService SCRIPTS = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "tlsfuzzer-script");
        t.setDaemon(true);
        return t;
    });
    private static final List<Process> PROCESSES = Collections.synchronizedList(new ArrayList<>());

    private static Path root;
    private static Path work;
    private static Path tlsfuzzer;
    private static Map<String, String> placeholders;

    @AfterAll
    static void stop() {
        SCRIPTS.shutdownNow();
        synchronized (PROCESSES) {
            for (Process p : PROCESSES) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            }
        }
    }

    @TestFactory
    Stream<DynamicNode> tlsfuzzer() throws Exception {
        root = repositoryRoot();
        Path tarball = root.resolve("../shared/tools/tlsfuzzer.tar.gz").normalize();
        String skip = !Files.isExecutable(PYTHON) ? PYTHON + " is missing"
                : !pythonHas("ecdsa") ? PYTHON + " lacks the ecdsa module (apt-get install python3-ecdsa)"
                : !Files.isRegularFile(tarball) ? tarball + " is absent" : null;
        if (skip != null) {
            System.out.println("TlsFuzzerConformanceTest skipped: " + skip);
            Assumptions.abort(skip);
        }
        work = Files.createDirectories(root.resolve("keyway-cli/target/tlsfuzzer"));
        tlsfuzzer = unpack(tarball);
        placeholders = certificates(Files.createDirectories(work.resolve("certs")));

        List<DynamicNode> files = new ArrayList<>();
        try (Stream<Path> configs = Files.list(root.resolve("conformance"))) {
            for (Path config : configs.filter(p -> p.getFileName().toString().matches("tlsfuzzer-.*\\.json")).sorted().toList()) {
                JsonNode runs = new ObjectMapper().readTree(config.toFile());
                List<DynamicNode> containers = new ArrayList<>();
                int index = 0;
                for (JsonNode run : runs) {
                    containers.add(run(config.getFileName().toString(), ++index, run));
                }
                files.add(DynamicContainer.dynamicContainer(config.getFileName().toString(), containers));
            }
        }
        return files.stream();
    }

    /** One server and its scripts: the server starts when the first script's test runs, and stops after the last. */
    private DynamicContainer run(String file, int index, JsonNode run) {
        List<String> serverArgs = new ArrayList<>();
        run.path("server").forEach(a -> serverArgs.add(fill(a.asText())));
        String name = "run " + index + ": tls serve " + String.join(" ", serverArgs).replace(work.toString() + "/", "");
        Run r = new Run(file.replace(".json", "") + "-" + index, serverArgs, run.path("tests"));
        List<DynamicTest> tests = new ArrayList<>();
        for (int i = 0; i < r.tests.size(); i++) {
            int n = i;
            JsonNode test = r.tests.get(i);
            tests.add(DynamicTest.dynamicTest(test.path("name").asText(), () -> r.check(n)));
        }
        return DynamicContainer.dynamicContainer(name, tests);
    }

    /** A run's server and its scripts' results, started once. */
    private static final class Run {
        final String id;
        final List<String> serverArgs;
        final List<JsonNode> tests = new ArrayList<>();
        private List<CompletableFuture<Result>> results;
        private Process server;

        Run(String id, List<String> serverArgs, JsonNode tests) {
            this.id = id;
            this.serverArgs = serverArgs;
            tests.forEach(this.tests::add);
        }

        synchronized List<CompletableFuture<Result>> start() throws Exception {
            if (results != null) {
                return results;
            }
            Path logs = Files.createDirectories(work.resolve("logs").resolve(id));
            int port = startServer(logs.resolve("server.log"));
            results = new ArrayList<>();
            for (JsonNode test : tests) {
                String script = test.path("name").asText();
                String missing = null;
                for (JsonNode module : test.path("requires_python_modules")) {
                    if (!pythonHas(module.asText())) {
                        missing = PYTHON + " lacks the " + module.asText() + " module";
                    }
                }
                String skip = test.hasNonNull("skip") ? test.path("skip").asText() : missing;
                results.add(skip != null ? CompletableFuture.completedFuture(new Result(-1, skip, null))
                        : CompletableFuture.supplyAsync(() -> runScript(script, port, test, logs.resolve(script + ".log")), SCRIPTS));
            }
            CompletableFuture.allOf(results.toArray(new CompletableFuture[0])).whenComplete((v, e) -> stopServer());
            return results;
        }

        void check(int i) throws Exception {
            Result r = start().get(i).get(SCRIPT_TIMEOUT_MINUTES + 1, TimeUnit.MINUTES);
            if (r.exit() == -1) {
                System.out.println(tests.get(i).path("name").asText() + " skipped: " + r.summary());
                Assumptions.abort(r.summary());
            }
            if (r.exit() != 0) {
                throw new AssertionError(tests.get(i).path("name").asText() + " against tls serve " + String.join(" ", serverArgs)
                        + ": " + r.summary() + "\n(full log: " + r.log() + ")");
            }
        }

        private int startServer(Path log) throws Exception {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "dev.keyway.cli.Main", "tls", "serve"));
            cmd.addAll(serverArgs);
            cmd.addAll(List.of("--listen", "127.0.0.1:0"));
            Process p = new ProcessBuilder(cmd).redirectOutput(log.resolveSibling("server.out").toFile()).start();
            PROCESSES.add(p);
            server = p;
            p.getOutputStream().close();
            BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
            CompletableFuture<Integer> port = new CompletableFuture<>();
            Thread drain = new Thread(() -> {
                try (OutputStream out = Files.newOutputStream(log)) {
                    String line;
                    while ((line = err.readLine()) != null) {
                        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        Matcher m = LISTENING.matcher(line);
                        if (m.find() && !port.isDone()) {
                            port.complete(Integer.parseInt(m.group(2)));
                        }
                    }
                } catch (IOException e) {
                    port.completeExceptionally(e);
                } finally {
                    port.completeExceptionally(new IllegalStateException("tls serve exited before listening"));
                }
            }, "tlsfuzzer-server-log");
            drain.setDaemon(true);
            drain.start();
            try {
                return port.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                stopServer();
                throw new AssertionError("tls serve " + String.join(" ", serverArgs) + " did not start: " + Files.readString(log), e);
            }
        }

        private void stopServer() {
            Process p = server;
            if (p != null) {
                p.destroy();
                try {
                    if (!p.waitFor(10, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    p.destroyForcibly();
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** A script's exit code (-1: skipped), its summary (or the skip reason) and where its output went. */
    record Result(int exit, String summary, Path log) {
    }

    private static Result runScript(String script, int port, JsonNode test, Path log) {
        List<String> cmd = new ArrayList<>(List.of(PYTHON.toString(), tlsfuzzer.resolve("tlsfuzzer-14555fe/scripts").resolve(script).toString(),
                "-h", "127.0.0.1", "-p", Integer.toString(port)));
        for (JsonNode e : test.path("excluded")) {
            cmd.addAll(List.of("-e", e.path("case").asText()));
        }
        for (JsonNode x : test.path("expected_failures")) {
            cmd.addAll(List.of("-x", x.path("case").asText()));
            if (x.hasNonNull("alert")) {
                cmd.addAll(List.of("-X", x.path("alert").asText()));
            }
        }
        // The script's own arguments last: probe names among them are positional and end option parsing.
        test.path("arguments").forEach(a -> cmd.add(fill(a.asText())));
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(tlsfuzzer.resolve("tlsfuzzer-14555fe").toFile())
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("PYTHONPATH", tlsfuzzer.resolve("tlsfuzzer-14555fe") + ":" + tlsfuzzer.resolve("tlslite-ng-0d03169"));
            Process p = pb.start();
            PROCESSES.add(p);
            p.getOutputStream().close();
            if (!p.waitFor(SCRIPT_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                return new Result(124, "timed out after " + SCRIPT_TIMEOUT_MINUTES + " minutes (killed)\n" + tail(log, 30), log);
            }
            return new Result(p.exitValue(), summary(log), log);
        } catch (IOException e) {
            return new Result(1, "could not run: " + e.getMessage(), log);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(1, "interrupted", log);
        }
    }

    /** The script's totals and its FAILED/XPASSED lists, or the end of its output when it has none (a crash). */
    private static String summary(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            int at = -1;
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).startsWith("TOTAL:")) {
                    at = i;
                }
            }
            if (at < 0) {
                return "no summary (the script failed to run)\n" + tail(log, 30);
            }
            StringBuilder b = new StringBuilder();
            for (String l : lines.subList(at, lines.size())) {
                b.append(l).append('\n');
            }
            return b.toString();
        } catch (IOException e) {
            return "no log: " + e.getMessage();
        }
    }

    private static String tail(Path log, int n) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    private static String fill(String arg) {
        String out = arg;
        for (Map.Entry<String, String> e : placeholders.entrySet()) {
            out = out.replace("${" + e.getKey() + "}", e.getValue());
        }
        if (out.contains("${")) {
            throw new IllegalArgumentException("unknown placeholder in '" + arg + "' (known: " + placeholders.keySet() + ")");
        }
        return out;
    }

    private static Path repositoryRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("conformance"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("no conformance/ directory above " + Path.of("").toAbsolutePath());
        }
        return p;
    }

    private static boolean pythonHas(String module) {
        try {
            Process p = new ProcessBuilder(PYTHON.toString(), "-c", "import " + module).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Unpacks the tarball once into target/ (a marker file says it is complete). */
    private static Path unpack(Path tarball) throws Exception {
        Path dir = work.resolve("tools");
        Path marker = dir.resolve(".unpacked");
        if (!Files.exists(marker) || Files.getLastModifiedTime(marker).compareTo(Files.getLastModifiedTime(tarball)) < 0) {
            Files.createDirectories(dir);
            exec(dir, "tar", "-xzf", tarball.toString(), "-C", dir.toString());
            Files.writeString(marker, tarball.toString());
        }
        return dir;
    }

    /** Test certificates made by openssl once per build: RSA, ECDSA and Ed25519 servers, a CA and its client. */
    private static Map<String, String> certificates(Path d) throws Exception {
        if (!Files.exists(d.resolve("done"))) {
            exec(d, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa.key", "-out", "rsa.pem", "-days", "30",
                    "-subj", "/CN=localhost");
            exec(d, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ecdsa.key",
                    "-out", "ecdsa.pem", "-days", "30", "-subj", "/CN=localhost");
            exec(d, "openssl", "genpkey", "-algorithm", "ed25519", "-out", "ed25519.key");
            exec(d, "openssl", "req", "-x509", "-key", "ed25519.key", "-out", "ed25519.pem", "-days", "30", "-subj", "/CN=localhost");
            exec(d, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
                    "-subj", "/CN=Keyway tlsfuzzer CA");
            exec(d, "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=client");
            exec(d, "openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "client.pem", "-days", "30");
            exec(d, "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "client-ecdsa.key",
                    "-out", "client-ecdsa.csr", "-subj", "/CN=client");
            exec(d, "openssl", "x509", "-req", "-in", "client-ecdsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "client-ecdsa.pem", "-days", "30");
            exec(d, "openssl", "genpkey", "-algorithm", "ed25519", "-out", "client-ed25519.key");
            exec(d, "openssl", "req", "-new", "-key", "client-ed25519.key", "-out", "client-ed25519.csr", "-subj", "/CN=client");
            exec(d, "openssl", "x509", "-req", "-in", "client-ed25519.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "client-ed25519.pem", "-days", "30");
            Files.writeString(d.resolve("done"), "");
        }
        Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("RSA_CERT", d.resolve("rsa.pem").toString());
        m.put("RSA_KEY", d.resolve("rsa.key").toString());
        m.put("ECDSA_CERT", d.resolve("ecdsa.pem").toString());
        m.put("ECDSA_KEY", d.resolve("ecdsa.key").toString());
        m.put("ED25519_CERT", d.resolve("ed25519.pem").toString());
        m.put("ED25519_KEY", d.resolve("ed25519.key").toString());
        m.put("CA_CERT", d.resolve("ca.pem").toString());
        m.put("CLIENT_CERT", d.resolve("client.pem").toString());
        m.put("CLIENT_KEY", d.resolve("client.key").toString());
        m.put("CLIENT_ECDSA_CERT", d.resolve("client-ecdsa.pem").toString());
        m.put("CLIENT_ECDSA_KEY", d.resolve("client-ecdsa.key").toString());
        m.put("CLIENT_ED25519_CERT", d.resolve("client-ed25519.pem").toString());
        m.put("CLIENT_ED25519_KEY", d.resolve("client-ed25519.key").toString());
        return m;
    }

    private static void exec(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
