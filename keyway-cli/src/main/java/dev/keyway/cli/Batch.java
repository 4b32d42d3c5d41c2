package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.io.AtomicFile;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Many files in one process ({@code keyway encrypt|decrypt --output-dir DIR FILE...}): each file is handled as the
 * one-file command would handle it, its output appearing only when complete; a failure on one file is reported on
 * one line and the others go on; a summary line ends the run, and the exit status says whether every file made it.
 *
 * <p>Output names: a file argument {@code a/b.txt} becomes {@code DIR/b.txt} renamed by the command ({@code .kw}
 * added or removed); with {@code --recursive} a directory argument {@code src} becomes {@code DIR/src/...}, its
 * tree mirrored. Symbolic links to directories are not followed, and nothing inside {@code DIR} itself is taken.
 * Two inputs that would write the same output are refused before anything runs (the second one fails), and an
 * output that exists already is never replaced.
 */
final class Batch {
    /** The work on one file: read {@code input}, write {@code output} (a new file, committed by the job). */
    interface Job {
        void run(Path input, Path output) throws IOException;
    }

    /** One input and where its output goes. */
    record Item(Path input, Path output) {
    }

    /** A file that failed: how it was named on the command line (or found), and why. */
    record Failure(String input, KeywayException error) {
    }

    /** What the planning found: the items to run, and the arguments that failed already. */
    record Plan(List<Item> items, List<Failure> failures) {
    }

    private static final long DRAW_INTERVAL_NANOS = 100_000_000L;

    private Batch() {
    }

    /**
     * Whether a command line asks for a batch (--output-dir, or several inputs), after refusing the combinations
     * that make no sense: -o with several inputs, several inputs without --output-dir, --output-dir without input,
     * --recursive alone.
     *
     * @param command "encrypt"
     * @param each    how an input is named in DIR, for the hint: "each IN becomes DIR/NAME.kw"
     */
    static boolean requested(Path outputDir, String output, List<String> inputs, boolean recursive, String command, String each) {
        boolean batch = outputDir != null || inputs.size() > 1;
        if (batch && output != null) {
            throw KeywayException.usage("give -o for one input or --output-dir for several, not both", "see 'keyway " + command + " --help'");
        }
        if (batch && outputDir == null) {
            throw KeywayException.usage(inputs.size() + " inputs and no --output-dir", "give --output-dir DIR (" + each + ")");
        }
        if (batch && inputs.isEmpty()) {
            throw KeywayException.usage("--output-dir without an input", "give the files to " + command);
        }
        if (recursive && !batch) {
            throw KeywayException.usage("--recursive goes with --output-dir", "give --output-dir DIR");
        }
        return batch;
    }

    /**
     * The items for {@code args}: {@code rename} maps an input file name to its output file name, or throws a
     * {@link KeywayException} saying why that input cannot be named (it then fails alone).
     */
    static Plan plan(List<String> args, boolean recursive, Path outputDir, Function<String, String> rename) {
        Path outAbs = outputDir.toAbsolutePath().normalize();
        List<Item> items = new ArrayList<>();
        List<Failure> failures = new ArrayList<>();
        Map<Path, Path> taken = new HashMap<>();
        Path outReal = realPath(outAbs);
        Map<Path, Path> realDirs = new HashMap<>();
        for (String arg : args) {
            if (arg.equals("-")) {
                failures.add(new Failure(arg, KeywayException.usage("standard input cannot be one of several inputs",
                        "give files, or drop --output-dir to read standard input")));
                continue;
            }
            Path p = Path.of(arg);
            if (Files.isDirectory(p)) {
                if (!recursive) {
                    failures.add(new Failure(arg, KeywayException.usage("is a directory", "give --recursive to take the files in it")));
                    continue;
                }
                Path top = p.toAbsolutePath().normalize();
                Path base = top.getFileName() == null ? outAbs : outAbs.resolve(top.getFileName().toString());
                List<Path> found;
                try (Stream<Path> walk = Files.walk(p)) {
                    found = walk.filter(f -> !insideOutputDir(f, outAbs, outReal, realDirs)).sorted().toList();
                } catch (IOException | UncheckedIOException e) {
                    IOException io = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
                    failures.add(new Failure(arg, new KeywayException(ErrorCode.IO, "cannot list it (" + AtomicFile.describe(io) + ")",
                            "check its permissions")));
                    continue;
                }
                for (Path f : found) {
                    if (Files.isDirectory(f, LinkOption.NOFOLLOW_LINKS)) {
                        continue;
                    }
                    String shown = f.toString();
                    if (!Files.isRegularFile(f)) {
                        failures.add(new Failure(shown, KeywayException.usage("is not a regular file", "it was left alone")));
                        continue;
                    }
                    Path rel = p.relativize(f);
                    add(items, failures, taken, f, shown, base.resolve(rel).getParent(), rel.getFileName().toString(), rename);
                }
            } else if (!Files.exists(p)) {
                failures.add(new Failure(arg, KeywayException.usage(
                        Files.exists(p, LinkOption.NOFOLLOW_LINKS) ? "is a dangling link" : "no such file", "check the path")));
            } else {
                Path name = p.getFileName();
                add(items, failures, taken, p, arg, outAbs, name == null ? arg : name.toString(), rename);
            }
        }
        return new Plan(items, failures);
    }

    /**
     * Whether a file found in a tree is in DIR: by its name, or by where it really is (DIR named through a link, or the
     * tree reached through one), so that DIR's contents are never taken as inputs.
     */
    private static boolean insideOutputDir(Path f, Path outAbs, Path outReal, Map<Path, Path> realDirs) {
        Path abs = f.toAbsolutePath().normalize();
        if (abs.startsWith(outAbs)) {
            return true;
        }
        Path parent = f.toAbsolutePath().getParent();
        if (outReal == null || parent == null) {
            return false;
        }
        Path real = realDirs.computeIfAbsent(parent, Batch::realPath);
        return real != null && real.startsWith(outReal);
    }

    /** {@code p} with every link resolved, or null when it cannot be (missing, unreadable). */
    private static Path realPath(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException | SecurityException e) {
            return null;
        }
    }

    private static void add(List<Item> items, List<Failure> failures, Map<Path, Path> taken, Path input, String shown,
                            Path outDir, String name, Function<String, String> rename) {
        String outName;
        try {
            outName = rename.apply(name);
        } catch (KeywayException e) {
            failures.add(new Failure(shown, e));
            return;
        }
        Path out = outDir.resolve(outName).normalize();
        if (!outDir.normalize().equals(out.getParent()) || !out.getFileName().toString().equals(outName)) {
            // "." or ".." (or a separator) would name DIR, a directory above it, or somewhere else: never a new file in outDir
            failures.add(new Failure(shown, KeywayException.usage("its output name '" + outName + "' is not a file name",
                    "rename it")));
            return;
        }
        Path before = taken.putIfAbsent(out, input);
        if (before != null) {
            failures.add(new Failure(shown, KeywayException.usage("would write " + out + ", as " + before + " does",
                    "give them separately, or rename one")));
            return;
        }
        items.add(new Item(input, out));
    }

    /**
     * Runs {@code job} on every item ({@code workers} at a time), reporting each failure on {@code err} as it
     * happens, a progress line on a terminal, and a summary at the end. Returns the exit status: 0 when every file
     * made it, else the failures' shared exit code, or 1 when they differ.
     *
     * @param verb    "encrypting"
     * @param done    "encrypted"
     */
    static int run(Plan plan, Job job, int workers, PrintWriter err, String verb, String done, Path outputDir) {
        Reporter r = new Reporter(err, verb, plan.items().size() + plan.failures().size());
        for (Failure f : plan.failures()) {
            r.failed(f);
        }
        Thread interrupted = new Thread(r::interrupted, "keyway-batch-interrupted");
        Runtime.getRuntime().addShutdownHook(interrupted);
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(workers, plan.items().size())), runnable -> {
            Thread t = new Thread(runnable, "keyway-batch");
            t.setDaemon(true);
            return t;
        });
        Set<Path> made = ConcurrentHashMap.newKeySet();
        Path outAbs = outputDir.toAbsolutePath().normalize();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (Item item : plan.items()) {
                futures.add(pool.submit(() -> {
                    try {
                        Path parent = item.output().getParent();
                        if (parent != null && !made.contains(parent)) {
                            makeDirectories(outAbs, parent);
                            made.add(parent);
                        }
                        job.run(item.input(), item.output());
                        r.succeeded();
                    } catch (KeywayException e) {
                        r.failed(new Failure(item.input().toString(), e));
                    } catch (IOException e) {
                        r.failed(new Failure(item.input().toString(), CliIo.ioFailure(e)));
                    } catch (RuntimeException e) {
                        r.failed(new Failure(item.input().toString(), new KeywayException(ErrorCode.INTERNAL,
                                "internal error (" + e.getClass().getSimpleName() + ")", "run it alone with --verbose and report it")));
                    }
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    // an Error on a worker: nothing sensible is left to do
                    if (e.getCause() instanceof Error fatal) {
                        throw fatal;
                    }
                    throw new IllegalStateException(e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new KeywayException(ErrorCode.INTERNAL, "interrupted", "run it again");
                }
            }
        } finally {
            pool.shutdownNow();
            r.finish();
            try {
                Runtime.getRuntime().removeShutdownHook(interrupted);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs
            }
        }
        return r.summary(done, outputDir);
    }

    /**
     * Makes {@code dir} (DIR or a mirrored directory below it): DIR as given (it may be a link the user chose), and
     * below it one level at a time, refusing anything in the way that is not a real directory, such as a link planted
     * where a mirrored directory goes, so that no output (and no directory) is ever made outside DIR through it.
     */
    private static void makeDirectories(Path outAbs, Path dir) throws IOException {
        Files.createDirectories(outAbs);
        if (dir.equals(outAbs) || !dir.startsWith(outAbs)) {
            Files.createDirectories(dir);
            return;
        }
        Path cur = outAbs;
        for (Path part : outAbs.relativize(dir)) {
            cur = cur.resolve(part);
            try {
                Files.createDirectory(cur);
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(cur, LinkOption.NOFOLLOW_LINKS)) {
                    throw KeywayException.usage(cur + " is in the way: a link or a file where a directory of the tree goes",
                            "remove it, or choose another --output-dir");
                }
            }
        }
    }

    /** Progress, failures and the summary, on standard error; called from the workers. */
    private static final class Reporter {
        private final PrintWriter err;
        private final String verb;
        private final int total;
        private final AtomicInteger ok = new AtomicInteger();
        private final List<Failure> failures = new ArrayList<>();
        private long lastDraw;
        private boolean drawn;
        private boolean finished;
        private boolean interrupted;

        Reporter(PrintWriter err, String verb, int total) {
            this.err = err;
            this.verb = verb;
            this.total = total;
        }

        void succeeded() {
            ok.incrementAndGet();
            synchronized (this) {
                draw(false);
            }
        }

        synchronized void failed(Failure f) {
            failures.add(f);
            if (interrupted) {
                return; // the files under way when Ctrl-C came fail as the JVM exits; the interrupted line said so
            }
            clear();
            err.println("keyway: " + Printable.escape(f.input()) + ": " + CliIo.errorText(CliHints.oneLine(f.error())));
            err.flush();
            draw(true);
        }

        private void draw(boolean force) {
            if (!StdStreams.errTerminal || total < 2) {
                return;
            }
            long now = System.nanoTime();
            if (!force && now - lastDraw < DRAW_INTERVAL_NANOS) {
                return;
            }
            lastDraw = now;
            int handled = ok.get() + failures.size();
            int bars = total == 0 ? 25 : (int) ((long) handled * 25 / total);
            err.print("\rkeyway: " + verb + " [" + "#".repeat(bars) + " ".repeat(25 - bars) + "] " + handled + " of " + total
                    + " files" + (failures.isEmpty() ? "" : ", " + failures.size() + " failed"));
            err.flush();
            drawn = true;
        }

        private void clear() {
            if (drawn) {
                err.print("\r" + " ".repeat(78) + "\r");
                drawn = false;
            }
        }

        synchronized void finish() {
            finished = true;
            clear();
            err.flush();
        }

        /** On Ctrl-C: the outputs being written are removed by their own hooks; say how far the run got. */
        synchronized void interrupted() {
            if (finished) {
                return;
            }
            interrupted = true;
            clear();
            err.println("keyway: interrupted: " + ok.get() + " of " + total + " files were written; the ones under way were not");
            err.flush();
        }

        synchronized int summary(String done, Path outputDir) {
            int n = ok.get();
            String where = " into " + Printable.escape(outputDir.toString());
            if (failures.isEmpty()) {
                err.println("keyway: " + done + " " + n + (n == 1 ? " file" : " files") + where);
                err.flush();
                return 0;
            }
            err.println("keyway: " + done + " " + n + " of " + total + " files" + where + "; " + failures.size()
                    + " failed (listed above)");
            err.flush();
            int first = failures.get(0).error().code().exitCode();
            for (Failure f : failures) {
                if (f.error().code().exitCode() != first) {
                    return 1;
                }
            }
            return first;
        }
    }
}
