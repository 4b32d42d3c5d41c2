package dev.keyway.cli;

import dev.keyway.core.KeywayException;
import dev.keyway.core.keys.Algorithm;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.keys.SessionKeys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "new", mixinStandardHelpOptions = true,
        header = "Print a new random session key.",
        description = {"Print a new random session key (hex) drawn from SecureRandom. A length outside the algorithm's policy is refused (exit 4); see 'keyway algorithms'."})
final class KeyNewCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--alg", paramLabel = "NAME", description = "Algorithm the key is for (default: ${DEFAULT-VALUE}).",
            defaultValue = "AES-256-GCM")
    String alg;

    @Option(names = "--bits", paramLabel = "N", description = "Key length in bits (default: the algorithm's default).")
    Integer bits;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the key to FILE (mode 0600) instead of standard output.")
    String output;

    @Option(names = "--json", description = "Print JSON: key, algorithm, bits.")
    boolean json;

    @Option(names = "--legacy", description = "Allow a legacy algorithm (RC2, RC4, DES, 3DES), e.g. to make test data for old software.")
    boolean legacy;

    @Override
    public void run() {
        Algorithm a = Algorithms.byName(alg);
        if (a.isLegacy() && !legacy) {
            throw KeywayException.policy(a.name() + " is a legacy algorithm, kept for reading old data",
                    "add --legacy if you really need a new " + a.name() + " key");
        }
        try (SessionKey key = SessionKeys.generate(a, bits == null ? a.defaultBits() : bits)) {
            CliIo.emit(spec.commandLine().getOut(), output, CliIo.keyText(key, json, null), true);
        }
    }

}
