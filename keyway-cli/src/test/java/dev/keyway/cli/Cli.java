package dev.keyway.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

/** Runs the CLI in process and captures what it prints. */
final class Cli {
    record Result(int exit, String out, String err) {
        /** Standard error must be one line with no stack trace for every failure. */
        boolean oneLineError() {
            return err.strip().lines().count() == 1 && err.startsWith("keyway: ") && !err.contains("\tat ");
        }
    }

    private Cli() {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    /** A command line from strings, paths and lists of them, flattened (each part by its toString). */
    static java.util.List<String> args(Object... parts) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (Object o : parts) {
            if (o instanceof java.util.List<?> l) {
                l.forEach(x -> out.add(x.toString()));
            } else {
                out.add(o.toString());
            }
        }
        return out;
    }

    static String p(Path path) {
        return path.toString();
    }
}
