package dev.keyway.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.io.AtomicFile;
import dev.keyway.remote.Registry;
import dev.keyway.remote.RemoteClient;
import dev.keyway.remote.RemoteSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The client side of {@code keyway remote}: thin commands over {@link RemoteClient} and the {@link Registry}. */
/** The client side of {@code keyway remote} that manages sessions: new, list, disconnect, connect, rm, cp. */
final class RemoteSessionCommands {
    private static final ObjectMapper JSON_LINES = new ObjectMapper();

    private RemoteSessionCommands() {
    }

    @Command(name = "new", mixinStandardHelpOptions = true, header = "Open a named session on one or many hosts.",
            description = {"Opens one persistent session per host, concurrently (at most --throttle at a time), and records them "
                    + "in the registry under NAME. The sessions stay on the hosts until 'keyway remote rm NAME' (or the host's "
                    + "idle timeout or lifetime)."})
    static final class New extends RemoteClientCommand {
        @Parameters(index = "0", arity = "0..1", paramLabel = "HOST:PORT[,HOST:PORT...]", description = "The hosts (port 5986 when left out).")
        String hostList;

        @Option(names = "--hosts-file", paramLabel = "FILE", description = "More hosts, one per line ('#' starts a comment).")
        Path hostsFile;

        @Option(names = "--name", paramLabel = "NAME", required = true, description = "The session's friendly name.")
        String name;

        @Option(names = "--config", paramLabel = "CONF", description = "The host configuration to open it in (default: ${DEFAULT-VALUE}).")
        String config = "default";

        @Option(names = "--throttle", paramLabel = "N", description = "At most N hosts at a time (default: ${DEFAULT-VALUE}).")
        int throttle = RemoteFanout.DEFAULT_THROTTLE;

        @Option(names = "--json", description = "One JSON object per host.")
        boolean json;

        @Override
        int execute() {
            List<String> hosts = RemoteClientCommand.hosts(hostList, hostsFile);
            List<Registry.Entry> existing = Registry.read(options.registryPath()).named(name);
            if (!existing.isEmpty()) {
                throw KeywayException.usage("a session named " + Printable.escape(name) + " exists already", "choose another name, or 'keyway remote rm " + name + "' first");
            }
            List<RemoteFanout.Outcome<Registry.Entry>> outcomes = RemoteFanout.run(hosts, throttle, h -> {
                RemoteClient.HostAddress a = RemoteClient.HostAddress.parse(h);
                try (RemoteSession s = client.open(a, name, config)) {
                    RemoteSession.Info i = s.info();
                    Registry.Entry e = new Registry.Entry(name, a.toString(), i.id(), i.config(), i.kind(), i.created(), false, s.hostRecipient(), "");
                    return e.withTicket(s.ticket());
                }
            });
            Registry.update(options.registryPath(), r -> {
                outcomes.stream().filter(o -> o.value() != null).forEach(o -> r.add(o.value()));
                return null;
            });
            for (int i = 0; i < hosts.size(); i++) {
                RemoteFanout.Outcome<Registry.Entry> o = outcomes.get(i);
                if (json) {
                    ObjectNode n = JSON_LINES.createObjectNode().put("host", hosts.get(i)).put("name", name);
                    if (o.value() != null) {
                        n.put("session", o.value().id()).put("config", o.value().config());
                    } else {
                        n.put("error", o.failure().getMessage()).put("exit", o.failure().code().exitCode());
                    }
                    out().println(n);
                } else if (o.value() != null) {
                    out().println(Printable.escape(hosts.get(i)) + ": session " + Printable.escape(name) + " opened (" + Printable.escape(o.value().id()) + ", configuration "
                            + Printable.escape(o.value().config()) + ")");
                }
            }
            out().flush();
            if (!json) {
                report(hosts.stream().map(h -> new Registry.Entry(name, h, "", "", "", Instant.EPOCH, false, "", "")).toList(), outcomes);
            }
            return RemoteFanout.failureCode(outcomes);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, header = "List your sessions: in the registry and on their hosts.",
            description = {"For each host in the registry: your sessions there, with their state (available, attached, busy, "
                    + "disconnected; 'gone' when the host no longer has it), idle time and jobs. Sessions on a host that the "
                    + "registry does not name are listed too (e.g. made from another machine)."})
    static final class ListSessions extends RemoteClientCommand {
        @Option(names = "--json", description = "One JSON object per session.")
        boolean json;

        @Override
        int execute() {
            Registry reg = Registry.read(options.registryPath());
            List<String> hosts = reg.all().stream().map(Registry.Entry::host).distinct().toList();
            Map<String, Registry.Entry> byTicket = new LinkedHashMap<>();
            reg.all().forEach(e -> byTicket.putIfAbsent(e.host(), e));
            List<RemoteFanout.Outcome<List<RemoteSession.Listing>>> outcomes = RemoteFanout.run(hosts, RemoteFanout.DEFAULT_THROTTLE, h -> {
                try (RemoteSession.Link link = client.link(RemoteClient.HostAddress.parse(h), byTicket.get(h).savedTicket())) {
                    return link.list();
                }
            });
            if (!json) {
                out().printf("%-16s %-24s %-12s %-12s %8s %6s  %s%n", "NAME", "HOST", "CONFIG", "STATE", "IDLE", "JOBS", "ID");
            }
            for (int i = 0; i < hosts.size(); i++) {
                String h = hosts.get(i);
                List<RemoteSession.Listing> there = outcomes.get(i).value();
                for (Registry.Entry e : reg.all()) {
                    if (!e.host().equals(h)) {
                        continue;
                    }
                    RemoteSession.Listing l = there == null ? null : there.stream().filter(x -> x.id().equals(e.id())).findFirst().orElse(null);
                    String state = there == null ? "unreachable" : l == null ? "gone" : l.state();
                    row(e.name(), h, e.config(), state, l == null ? -1 : l.idleSeconds(), l == null ? "" : l.running() + "/" + l.jobs(), e.id());
                }
                if (there != null) {
                    for (RemoteSession.Listing l : there) {
                        if (reg.all().stream().noneMatch(e -> e.host().equals(h) && e.id().equals(l.id()))) {
                            row(l.name(), h, l.config(), l.state() + " (not in registry)", l.idleSeconds(), l.running() + "/" + l.jobs(), l.id());
                        }
                    }
                }
            }
            out().flush();
            report(hosts.stream().map(h -> new Registry.Entry("", h, "", "", "", Instant.EPOCH, false, "", "")).toList(), outcomes);
            return 0;
        }

        private void row(String name, String host, String config, String state, long idle, String jobs, String id) {
            if (json) {
                out().println(JSON_LINES.createObjectNode().put("name", name).put("host", host).put("config", config).put("state", state)
                        .put("idleSeconds", idle).put("jobs", jobs).put("id", id));
            } else {
                out().printf("%-16s %-24s %-12s %-12s %8s %6s  %s%n", Printable.escape(name), Printable.escape(host), Printable.escape(config),
                        Printable.escape(state), idle < 0 ? "-" : idle + "s", jobs.isEmpty() ? "-" : jobs, Printable.escape(id));
            }
        }
    }

    @Command(name = "disconnect", mixinStandardHelpOptions = true, header = "Disconnect a session: it keeps running on its hosts.",
            description = {"Marks the sessions named NAME disconnected (as Disconnect-PSSession does): their jobs run on, and no "
                    + "command runs in them until 'keyway remote connect NAME', from this machine or another with the same "
                    + "identity and a copy of the registry."})
    static final class Disconnect extends RemoteClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "The session's name.")
        String name;

        @Override
        int execute() {
            List<Registry.Entry> entries = Registry.read(options.registryPath()).require(name);
            List<RemoteFanout.Outcome<Boolean>> outcomes = RemoteFanout.run(entries, RemoteFanout.DEFAULT_THROTTLE, e -> {
                try (RemoteSession s = client.attach(e.address(), e.id(), e.savedTicket(), true)) {
                    s.detach(true);
                    return true;
                }
            });
            updateSucceeded(entries, outcomes, (r, e) -> r.replace(e.withDisconnected(true)));
            report(entries, outcomes);
            int ok = (int) outcomes.stream().filter(o -> o.value() != null).count();
            out().println("session " + Printable.escape(name) + " disconnected on " + ok + " of " + entries.size() + " hosts");
            out().flush();
            return RemoteFanout.failureCode(outcomes);
        }
    }

    @Command(name = "connect", mixinStandardHelpOptions = true, header = "Reconnect a disconnected session.",
            description = {"Reattaches to the sessions named NAME (a resumed TLS handshake when the registry's ticket still opens, "
                    + "and the identity proven again either way) and makes them available for commands."})
    static final class Connect extends RemoteClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "The session's name.")
        String name;

        @Override
        int execute() {
            List<Registry.Entry> entries = Registry.read(options.registryPath()).require(name);
            List<RemoteFanout.Outcome<Boolean>> outcomes = eachSession(entries, RemoteFanout.DEFAULT_THROTTLE, true, RemoteSession::resumed);
            updateSucceeded(entries, outcomes, (r, e) -> r.named(name).stream().filter(now -> now.id().equals(e.id()))
                    .forEach(now -> r.replace(now.withDisconnected(false))));
            report(entries, outcomes);
            for (int i = 0; i < entries.size(); i++) {
                Boolean resumed = outcomes.get(i).value();
                if (resumed != null) {
                    out().println(Printable.escape(entries.get(i).host()) + ": session " + Printable.escape(name) + " connected"
                            + (resumed ? " (resumed)" : " (full handshake)"));
                }
            }
            out().flush();
            return RemoteFanout.failureCode(outcomes);
        }
    }

    @Command(name = "rm", mixinStandardHelpOptions = true, header = "End a session on its hosts and forget it.",
            description = {"Ends the sessions named NAME and every process they started, and removes them from the registry. A "
                    + "session the host no longer has (reaped, or the service restarted) is only removed from the registry."})
    static final class Remove extends RemoteClientCommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "The session's name.")
        String name;

        @Override
        int execute() {
            List<Registry.Entry> entries = Registry.read(options.registryPath()).require(name);
            List<RemoteFanout.Outcome<Boolean>> outcomes = RemoteFanout.run(entries, RemoteFanout.DEFAULT_THROTTLE, e -> {
                try (RemoteSession.Link link = client.link(e.address(), e.savedTicket())) {
                    try {
                        link.remove(e.id());
                    } catch (KeywayException x) {
                        if (x.code() != ErrorCode.USAGE) {
                            throw x;
                        }
                        // the host has no such session any more: forgetting it is all there is to do
                    }
                    return true;
                }
            });
            updateSucceeded(entries, outcomes, Registry::remove);
            report(entries, outcomes);
            int ok = (int) outcomes.stream().filter(o -> o.value() != null).count();
            out().println("session " + Printable.escape(name) + " removed from " + ok + " of " + entries.size() + " hosts");
            out().flush();
            return RemoteFanout.failureCode(outcomes);
        }
    }

    @Command(name = "cp", mixinStandardHelpOptions = true, header = "Copy a file into or out of a session.",
            description = {"One side is NAME:PATH: a path in the session (relative to its working directory), confined to the "
                    + "configuration's working directory with symbolic links resolved; the configuration may forbid transfers. "
                    + "Copying in goes to every host of NAME; copying out needs a session on one host. Files are written "
                    + "atomically (a temporary name, then a rename) and checked by SHA-256.",
                    "",
                    "  keyway remote cp build.tar build:src/build.tar -i me.key --cacert host.crt",
                    "  keyway remote cp build:out/report.txt ./report.txt -i me.key --cacert host.crt"})
    static final class Copy extends RemoteClientCommand {
        @Parameters(index = "0", paramLabel = "SRC", description = "LOCAL or NAME:PATH.")
        String src;

        @Parameters(index = "1", paramLabel = "DST", description = "NAME:PATH or LOCAL.")
        String dst;

        @Override
        int execute() throws IOException {
            Registry reg = Registry.read(options.registryPath());
            String[] remoteSrc = split(src, reg);
            String[] remoteDst = split(dst, reg);
            if ((remoteSrc == null) == (remoteDst == null)) {
                throw KeywayException.usage("exactly one of SRC and DST must be NAME:PATH", "e.g. keyway remote cp file.txt build:file.txt");
            }
            if (remoteDst != null) {
                Path local = Path.of(src);
                if (!Files.isRegularFile(local)) {
                    throw KeywayException.usage(src + " is not a regular file", "give a file to copy");
                }
                List<Registry.Entry> entries = reg.require(remoteDst[0]);
                List<RemoteFanout.Outcome<Boolean>> outcomes = eachSession(entries, RemoteFanout.DEFAULT_THROTTLE, false, s -> {
                    s.put(local, remoteDst[1]);
                    return true;
                });
                report(entries, outcomes);
                return RemoteFanout.failureCode(outcomes);
            }
            List<Registry.Entry> entries = reg.require(remoteSrc[0]);
            if (entries.size() != 1) {
                throw KeywayException.usage(remoteSrc[0] + " has sessions on " + entries.size() + " hosts", "copy out of a session on one host");
            }
            Path target = Path.of(dst);
            if (Files.isDirectory(target)) {
                target = target.resolve(Path.of(remoteSrc[1]).getFileName());
            }
            Path finalTarget = target;
            try (AtomicFile.Output o = AtomicFile.create(finalTarget, false)) {
                List<RemoteFanout.Outcome<Long>> outcomes = eachSession(entries, 1, false, s -> s.get(remoteSrc[1], o.stream()));
                report(entries, outcomes);
                int f = RemoteFanout.failureCode(outcomes);
                if (f == 0) {
                    o.commit();
                }
                return f;
            }
        }

        /** {@code [NAME, PATH]} when {@code arg} is NAME:PATH with NAME in the registry, else null (a local path). */
        private static String[] split(String arg, Registry reg) {
            int c = arg.indexOf(':');
            if (c <= 0 || arg.startsWith("/") || arg.startsWith("./")) {
                return null;
            }
            String name = arg.substring(0, c);
            if (reg.named(name).isEmpty()) {
                return null;
            }
            return new String[] {name, arg.substring(c + 1)};
        }
    }
}
