package dev.keyway.cli;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.remote.Registry;
import dev.keyway.remote.RemoteClient;
import dev.keyway.remote.RemoteSession;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * What the client-side {@code keyway remote} commands share: the identity, the client, the registry, fan-out and
 * reporting. The commands are thin shells over {@link RemoteClient} and the {@link Registry}.
 */
abstract class RemoteClientCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    RemoteClientOptions options;

    Identity identity;
    RemoteClient client;

    @Override
    public final Integer call() throws Exception {
        identity = options.identity();
        try {
            client = options.client(identity);
            return execute();
        } finally {
            options.close();
            identity.destroy();
        }
    }

    abstract int execute() throws Exception;

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** Attaches to each entry (at most {@code throttle} at a time), runs {@code task}, detaches, saves the new tickets. */
    <T> List<RemoteFanout.Outcome<T>> eachSession(List<Registry.Entry> entries, int throttle, boolean connect,
                                                 Function<RemoteSession, T> task) {
        Map<Registry.Entry, Registry.Entry> updated = new ConcurrentHashMap<>();
        List<RemoteFanout.Outcome<T>> outcomes = RemoteFanout.run(entries, throttle, e -> {
            try (RemoteSession s = client.attach(e.address(), e.id(), e.savedTicket(), connect)) {
                T v = task.apply(s);
                updated.put(e, e.withTicket(s.ticket()));
                return v;
            }
        });
        if (!updated.isEmpty()) {
            Registry.update(options.registryPath(), r -> {
                updated.values().forEach(r::replace);
                return null;
            });
        }
        return outcomes;
    }

    void report(List<Registry.Entry> entries, List<? extends RemoteFanout.Outcome<?>> outcomes) {
        for (int i = 0; i < outcomes.size(); i++) {
            KeywayException f = outcomes.get(i).failure();
            if (f != null) {
                String host = Printable.escape(entries.get(i).host());
                String line = CliIo.errorText(CliHints.oneLine(f));
                err().println("keyway: " + (line.startsWith(host) || line.contains(" " + host + " ") ? line : host + ": " + line));
            }
        }
        err().flush();
    }

    /** Applies {@code change} in the registry to each entry whose host succeeded. */
    void updateSucceeded(List<Registry.Entry> entries, List<? extends RemoteFanout.Outcome<?>> outcomes,
                         BiConsumer<Registry, Registry.Entry> change) {
        Registry.update(options.registryPath(), r -> {
            for (int i = 0; i < entries.size(); i++) {
                if (outcomes.get(i).value() != null) {
                    change.accept(r, entries.get(i));
                }
            }
            return null;
        });
    }

    static List<String> hosts(String list, Path file) {
        List<String> out = new ArrayList<>();
        if (list != null) {
            for (String h : list.split(",")) {
                if (!h.isBlank()) {
                    out.add(h.strip());
                }
            }
        }
        if (file != null) {
            String text = new String(CliIo.readInput(file.toString(), 1 << 20, "hosts file"), StandardCharsets.UTF_8);
            for (String line : text.split("\n")) {
                String l = line.strip();
                if (!l.isEmpty() && !l.startsWith("#")) {
                    out.add(l);
                }
            }
        }
        if (out.isEmpty()) {
            throw KeywayException.usage("no host given", "give HOST:PORT[,HOST:PORT...] or --hosts-file");
        }
        List<String> normal = new ArrayList<>();
        for (String h : out) {
            String n = RemoteClient.HostAddress.parse(h).toString();
            if (normal.contains(n)) {
                throw KeywayException.usage("host " + Printable.escape(n) + " is given twice", "give each host once");
            }
            normal.add(n);
        }
        return normal;
    }
}
