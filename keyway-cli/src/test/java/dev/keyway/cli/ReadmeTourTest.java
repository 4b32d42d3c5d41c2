package dev.keyway.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * README.md's "Tour of the commands", run as written (issue 19): its {@code ```sh} blocks, in order, as one bash
 * script ({@code set -euo pipefail}) in an empty directory, with {@code keyway} on PATH meaning this build's CLI.
 * Blocks fenced {@code ```sh no-run} are left out. The ports the tour listens on (127.0.0.1:PORT) are replaced by free
 * ones, so two builds on one machine do not collide; the servers the tour starts in the background are stopped by the
 * script's EXIT trap (and by the tour's own last line). A failure names the README line that failed.
 */
class ReadmeTourTest {
    private static final String SECTION = "## Tour of the commands";
    private static final Pattern PORT = Pattern.compile("127\\.0\\.0\\.1:(\\d{4,5})\\b");
    private static final long TIMEOUT_SECONDS = 240;

    /** A line of the script, and where it came from in README.md (0: the test's own). */
    private record Line(String text, int readmeLine) {
    }

    @Test
    void theTourRunsAsWritten(@TempDir Path dir) throws Exception {
        Path readme = readme();
        List<Line> tour = tour(Files.readAllLines(readme, StandardCharsets.UTF_8));
        assertThat(tour).as("shell lines in README.md's tour").hasSizeGreaterThan(50);
        Map<String, String> ports = freePorts(tour);

        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path work = Files.createDirectories(dir.resolve("work"));
        Path wrapper = bin.resolve("keyway");
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Files.writeString(wrapper, "#!/bin/sh\nexec '" + javaBin + "' -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto"
                + " -cp '" + System.getProperty("java.class.path") + "' dev.keyway.cli.Main \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));

        List<Line> script = new ArrayList<>();
        script.add(new Line("set -eEuo pipefail", 0));
        script.add(new Line("trap 'echo \"TOUR-FAILED $LINENO $?\" >> " + dir.resolve("failed") + "' ERR", 0));
        // stop the tour's servers and wait for them: a host writes its audit head as it exits, and a file written
        // into the temporary directory after the script ended would stop JUnit from deleting it
        script.add(new Line("trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT", 0));
        for (Line l : tour) {
            String text = l.text();
            for (Map.Entry<String, String> p : ports.entrySet()) {
                text = text.replaceAll("(?<![0-9])" + p.getKey() + "(?![0-9])", p.getValue());
            }
            script.add(new Line(text, l.readmeLine()));
        }
        Path file = dir.resolve("tour.sh");
        Files.writeString(file, String.join("\n", script.stream().map(Line::text).toList()) + "\n");

        Path log = dir.resolve("tour.log");
        ProcessBuilder pb = new ProcessBuilder("bash", file.toString()).directory(work.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("PATH", bin + java.io.File.pathSeparator + System.getenv("PATH"));
        pb.environment().put("HOME", work.toString());
        long start = System.nanoTime();
        Process bash = pb.start();
        boolean done = bash.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!done) {
            bash.descendants().forEach(ProcessHandle::destroyForcibly);
            bash.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
        System.out.println("README tour: " + tour.size() + " lines in " + seconds + " s");
        String output = Files.readString(log, StandardCharsets.UTF_8);
        if (!done) {
            fail("README.md's tour did not finish in " + TIMEOUT_SECONDS + " s; last output:\n" + tail(output));
        }
        if (bash.exitValue() != 0) {
            fail(failure(readme, script, dir.resolve("failed"), bash.exitValue(), output));
        }
    }

    /** The tour section's runnable shell lines, with their line numbers in README.md. */
    private static List<Line> tour(List<String> readme) {
        List<Line> lines = new ArrayList<>();
        boolean inSection = false;
        boolean inBlock = false;
        boolean runs = false;
        for (int i = 0; i < readme.size(); i++) {
            String l = readme.get(i);
            if (!inBlock && l.startsWith("## ")) {
                inSection = l.strip().equals(SECTION);
            } else if (inSection && l.startsWith("```")) {
                if (!inBlock) {
                    runs = l.strip().equals("```sh");
                    assertThat(runs || l.strip().equals("```sh no-run") || l.strip().equals("```"))
                            .as("README.md line %d: a tour block is ```sh or ```sh no-run", i + 1).isTrue();
                }
                inBlock = !inBlock;
            } else if (inSection && inBlock && runs) {
                lines.add(new Line(l, i + 1));
            }
        }
        return lines;
    }

    /** One free port of 127.0.0.1 for each port the tour names. */
    private static Map<String, String> freePorts(List<Line> tour) throws IOException {
        Map<String, String> ports = new LinkedHashMap<>();
        for (Line l : tour) {
            Matcher m = PORT.matcher(l.text());
            while (m.find()) {
                if (!ports.containsKey(m.group(1))) {
                    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                        ports.put(m.group(1), Integer.toString(s.getLocalPort()));
                    }
                }
            }
        }
        return ports;
    }

    private static String failure(Path readme, List<Line> script, Path failed, int exit, String output) throws IOException {
        String where = "the script";
        if (Files.exists(failed)) {
            String[] first = Files.readAllLines(failed).get(0).split(" ");
            int scriptLine = Integer.parseInt(first[1]);
            if (scriptLine >= 1 && scriptLine <= script.size()) {
                Line l = script.get(scriptLine - 1);
                where = readme.getFileName() + " line " + l.readmeLine() + ": " + l.text().strip() + " (exit " + first[2] + ")";
            }
        }
        return "README.md's tour failed (bash exit " + exit + ") at " + where + "\nlast output:\n" + tail(output);
    }

    private static String tail(String output) {
        List<String> lines = output.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    private static Path readme() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("README.md")) && Files.isRegularFile(p.resolve("mvnw"))) {
                return p.resolve("README.md");
            }
        }
        throw new IllegalStateException("README.md not found above " + Path.of("").toAbsolutePath());
    }
}
