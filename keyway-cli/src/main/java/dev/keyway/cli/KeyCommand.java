package dev.keyway.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "key", mixinStandardHelpOptions = true,
        header = "Make, derive, wrap and unwrap session keys.",
        description = "Make session keys, derive them from passwords, and wrap or unwrap them as key blobs.",
        subcommands = {KeyNewCommand.class, KeyDeriveCommand.class, KeyWrapCommand.class, KeyUnwrapCommand.class})
final class KeyCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
