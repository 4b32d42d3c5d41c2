package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import picocli.CommandLine;

import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/** Entry point: parse, run, map every failure to one line and a stable exit code (DESIGN.md). */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        int code = run(args, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs one command line with the given streams and returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = commandLine(args);
        cl.setOut(out);
        cl.setErr(err);
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("keyway: out of memory: give Java more heap (JAVA_OPTS=-Xmx...) or lower the KDF memory parameter");
            err.flush();
            return ErrorCode.INTERNAL.exitCode();
        }
    }

    static CommandLine commandLine() {
        return commandLine(new String[0]);
    }

    /** The command line with only the subcommand {@code args} names, or all of them when it names none. */
    static CommandLine commandLine(String[] args) {
        CommandLine cl = new CommandLine(new KeywayCommand());
        String first = null;
        for (String a : args) {
            if (!a.startsWith("-")) {
                first = a;
                break;
            }
        }
        if (first != null && !first.equals("help") && KeywayCommand.SUBCOMMANDS.containsKey(first)) {
            cl.addSubcommand(first, KeywayCommand.SUBCOMMANDS.get(first).get());
        } else {
            KeywayCommand.SUBCOMMANDS.forEach((name, make) -> cl.addSubcommand(name, make.get()));
        }
        cl.setExecutionExceptionHandler(Main::handleExecution);
        cl.setParameterExceptionHandler(Main::handleParameter);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    private static int handleExecution(Exception e, CommandLine cl, CommandLine.ParseResult parseResult) {
        PrintWriter err = cl.getErr();
        boolean verbose = isVerbose(parseResult);
        if (e instanceof KeywayException ke) {
            err.println("keyway: " + CliIo.errorText(CliHints.oneLine(ke)));
            if (verbose) {
                e.printStackTrace(err);
            }
            err.flush();
            return ke.code().exitCode();
        }
        err.println("keyway: internal error (" + e.getClass().getSimpleName()
                + (e.getMessage() == null ? "" : ": " + CliIo.errorText(e.getMessage())) + "): run again with --verbose and report it");
        if (verbose) {
            e.printStackTrace(err);
        }
        err.flush();
        return ErrorCode.INTERNAL.exitCode();
    }

    private static int handleParameter(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        String name = cl.getCommandSpec().qualifiedName();
        String message = e.getMessage() == null ? "bad command line" : e.getMessage().replaceFirst("^Error: ", "");
        err.println("keyway: " + CliIo.errorText(message) + ": see '" + name + " --help'");
        err.flush();
        return ErrorCode.USAGE.exitCode();
    }

    private static boolean isVerbose(CommandLine.ParseResult pr) {
        for (CommandLine.ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }
}
