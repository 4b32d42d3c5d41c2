package dev.keyway.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that only groups subcommands ({@code keyway tls}, {@code keyway authority audit}, ...): run on its
 * own, it prints its usage, which lists the subcommands, and exits 0.
 */
abstract class GroupCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
