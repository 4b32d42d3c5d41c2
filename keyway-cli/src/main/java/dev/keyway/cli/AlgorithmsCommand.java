package dev.keyway.cli;

import dev.keyway.core.keys.Algorithm;
import dev.keyway.core.keys.Algorithms;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

@Command(name = "algorithms", mixinStandardHelpOptions = true,
        header = "List algorithms and their key-length policy (minimum, default, maximum bits).",
        description = {"List the algorithms Keyway makes session keys for, with each one's key-length policy (minimum, default and maximum bits). Legacy algorithms are for reading old data only."})
final class AlgorithmsCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (Algorithm a : Algorithms.all()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", a.name());
                m.put("status", a.status().name().toLowerCase(Locale.ROOT));
                m.put("minBits", a.minBits());
                m.put("defaultBits", a.defaultBits());
                m.put("maxBits", a.maxBits());
                m.put("stepBits", a.stepBits());
                m.put("keyBytes", a.keyBytes(a.defaultBits()));
                m.put("aliases", a.aliases());
                m.put("use", a.use());
                rows.add(m);
            }
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("algorithms", rows);
            out.print(CliIo.json(doc));
            out.flush();
            return;
        }
        String fmt = "%-18s %-7s %5s %8s %5s %5s  %s%n";
        out.printf(fmt, "ALGORITHM", "STATUS", "MIN", "DEFAULT", "MAX", "STEP", "USE");
        for (Algorithm a : Algorithms.all()) {
            out.printf(fmt, a.name(), a.status().name().toLowerCase(Locale.ROOT), a.minBits(), a.defaultBits(),
                    a.maxBits(), a.minBits() == a.maxBits() ? "-" : String.valueOf(a.stepBits()), a.use());
        }
        out.println();
        out.println("Lengths are effective key bits (DES keys carry a parity bit in every byte).");
        out.flush();
    }
}
