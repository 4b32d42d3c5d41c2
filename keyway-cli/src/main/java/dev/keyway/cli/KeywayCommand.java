package dev.keyway.cli;

import picocli.CommandLine.Command;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The top-level {@code keyway} command. */
@Command(name = "keyway", mixinStandardHelpOptions = true, versionProvider = KeywayCommand.Version.class,
        description = {"Keyway: make, exchange, use, keep and reveal session keys.", ""},
        footer = {"", "Exit codes: 0 ok, 1 other failure, 2 usage or bad input,",
                "3 authentication failed, 4 refused by policy, 5 peer or network failure.",
                "Add --verbose for a stack trace. Start with 'keyway demo' for a walkthrough."})
public final class KeywayCommand extends GroupCommand {
    /**
     * The subcommands, in help order. Built lazily: picocli reflects over every registered command at
     * start-up, so a run registers only the one it needs (see {@link Main#commandLine(String[])}).
     */
    static final Map<String, Supplier<Object>> SUBCOMMANDS = subcommands();

    private static Map<String, Supplier<Object>> subcommands() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        m.put("demo", DemoCommand::new);
        m.put("keygen", KeygenCommand::new);
        m.put("pubkey", PubkeyCommand::new);
        m.put("encrypt", EncryptCommand::new);
        m.put("decrypt", DecryptCommand::new);
        m.put("inspect", InspectCommand::new);
        m.put("rekey", RekeyCommand::new);
        m.put("escrow", EscrowCommand::new);
        m.put("recover", RecoverCommand::new);
        m.put("authority", AuthorityCommand::new);
        m.put("key", KeyCommand::new);
        m.put("tls", TlsCommand::new);
        m.put("remote", RemoteCommand::new);
        m.put("capi", CapiCommand::new);
        m.put("cert", CertCommand::new);
        m.put("algorithms", AlgorithmsCommand::new);
        m.put("help", picocli.CommandLine.HelpCommand::new);
        return m;
    }

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces with errors.")
    boolean verbose;

    static final class Version implements picocli.CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = KeywayCommand.class.getPackage().getImplementationVersion();
            return new String[]{"keyway " + (v == null ? "development build" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
