package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * Runs {@code keyway cert ...} in process, as {@link Cli} runs registered commands. Until "cert" is in
 * {@link KeywayCommand#SUBCOMMANDS} this adds it itself and maps failures to one line and an exit code the
 * way {@link Main} does; once registered, {@code Cli.run} does the same.
 */
final class CertCli {
    private CertCli() {
    }

    static Cli.Result run(String... args) {
        if (KeywayCommand.SUBCOMMANDS.containsKey("cert")) {
            return Cli.run(args);
        }
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new KeywayCommand());
        cl.addSubcommand("cert", new CertCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((e, c, parseResult) -> {
            PrintWriter w = c.getErr();
            if (e instanceof KeywayException ke) {
                w.println("keyway: " + ke.oneLine());
                w.flush();
                return ke.code().exitCode();
            }
            w.println("keyway: internal error (" + e + "): run again with --verbose and report it");
            e.printStackTrace(w);
            w.flush();
            return ErrorCode.INTERNAL.exitCode();
        });
        cl.setParameterExceptionHandler((e, a) -> {
            PrintWriter w = e.getCommandLine().getErr();
            String message = e.getMessage() == null ? "bad command line" : e.getMessage().replaceFirst("^Error: ", "");
            w.println("keyway: " + message + ": see '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'");
            w.flush();
            return ErrorCode.USAGE.exitCode();
        });
        int code = cl.execute(args);
        return new Cli.Result(code, out.toString(), err.toString());
    }
}
