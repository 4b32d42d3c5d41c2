package dev.keyway.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** The top-level {@code keyway} command. */
@Command(name = "keyway", mixinStandardHelpOptions = true, versionProvider = KeywayCommand.Version.class,
        description = {"Keyway: make, exchange, use, keep and reveal session keys.", ""},
        subcommands = {DemoCommand.class, KeygenCommand.class, PubkeyCommand.class, EncryptCommand.class, DecryptCommand.class,
                InspectCommand.class, RekeyCommand.class, KeyCommand.class, AlgorithmsCommand.class,
                picocli.CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 ok, 1 other failure, 2 usage or bad input,",
                "3 authentication failed, 4 refused by policy, 5 peer or network failure.",
                "Add --verbose for a stack trace. Start with 'keyway demo' for a walkthrough."})
public final class KeywayCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces with errors.")
    boolean verbose;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements picocli.CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = KeywayCommand.class.getPackage().getImplementationVersion();
            return new String[]{"keyway " + (v == null ? "development build" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
