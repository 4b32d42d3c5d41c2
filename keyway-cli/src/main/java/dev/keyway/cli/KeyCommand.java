package dev.keyway.cli;

import picocli.CommandLine.Command;

@Command(name = "key", mixinStandardHelpOptions = true,
        header = "Make, derive, wrap and unwrap session keys.",
        description = "Make session keys, derive them from passwords, and wrap or unwrap them as key blobs.",
        subcommands = {KeyNewCommand.class, KeyDeriveCommand.class, KeyWrapCommand.class, KeyUnwrapCommand.class})
final class KeyCommand extends GroupCommand {
}
