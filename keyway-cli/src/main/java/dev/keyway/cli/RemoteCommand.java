package dev.keyway.cli;

import dev.keyway.authority.EscrowKeyLog;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Durations;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.io.AtomicFile;
import dev.keyway.core.keylog.KeyLog;
import dev.keyway.core.keylog.KeyLogFile;
import dev.keyway.remote.HostDir;
import dev.keyway.remote.RemoteClient;
import dev.keyway.remote.RemoteHost;
import dev.keyway.tls.cert.Certificates;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

@Command(name = "remote", mixinStandardHelpOptions = true,
        header = "Persistent, named remote sessions on one or many hosts, over Keyway's mutual TLS 1.3.",
        description = {"A host runs 'keyway remote serve'; clients open named sessions there in which many commands share "
                + "state (working directory, variables, functions), as PowerShell's PSSession does. Sessions outlive the client's "
                + "connection: detach, reattach from another process or machine (same identity), run detached jobs and receive "
                + "their output later. Every command's end comes with a receipt the host signs. See docs/REMOTE.md.",
                "",
                "Host side:   init, allow, revoke, serve, audit verify",
                "Client side: new, run, receive, enter, list, disconnect, connect, rm, cp"},
        subcommands = {RemoteCommand.Init.class, RemoteCommand.Allow.class, RemoteCommand.Revoke.class, RemoteCommand.Serve.class,
                RemoteCommand.Audit.class, RemoteSessionCommands.New.class, RemoteRunCommands.Run.class,
                RemoteRunCommands.Receive.class, RemoteRunCommands.Enter.class, RemoteSessionCommands.ListSessions.class,
                RemoteSessionCommands.Disconnect.class, RemoteSessionCommands.Connect.class, RemoteSessionCommands.Remove.class,
                RemoteSessionCommands.Copy.class})
final class RemoteCommand extends GroupCommand {
    @Command(name = "init", mixinStandardHelpOptions = true, header = "Make a host directory.",
            description = {"Creates the host's identity (it signs receipts and the audit log's head), a TLS certificate "
                    + "(self-signed over the identity's Ed25519 key, for 127.0.0.1 and localhost unless --san or --cert/--key say "
                    + "otherwise), the session-ticket secret, configurations/default.json (a persistent /bin/sh in your home "
                    + "directory), an empty client list and the audit log. Prints the certificate's SHA-256: clients give the "
                    + "certificate (DIR/tls.crt) to --cacert."})
    static final class Init implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", paramLabel = "DIR", required = true, description = "The host directory (new).")
        Path dir;

        @Option(names = "--cert", paramLabel = "PEM", description = "Use this TLS certificate (with --key) instead of a self-signed one.")
        Path cert;

        @Option(names = "--key", paramLabel = "PEM", description = "The private key of --cert.")
        Path key;

        @Option(names = "--san", paramLabel = "NAME", split = ",",
                description = "Names of the self-signed certificate, e.g. DNS:build1.example,IP:10.0.0.5 (default: IP:127.0.0.1,DNS:localhost).")
        List<String> sans = List.of("IP:127.0.0.1", "DNS:localhost");

        @Override
        public void run() {
            if ((cert == null) != (key == null)) {
                throw KeywayException.usage("--cert and --key go together", "give both, or neither for a self-signed certificate");
            }
            X509Certificate c = HostDir.init(dir, cert == null ? null : CliIo.readInput(cert.toString(), 1 << 20, "certificate"),
                    key == null ? null : CliIo.readInput(key.toString(), 1 << 20, "key"), sans);
            PrintWriter out = spec.commandLine().getOut();
            out.println("host directory " + dir + " ready");
            out.println("TLS certificate " + dir.resolve("tls.crt") + " (clients: --cacert), SHA-256 " + Certificates.sha256Fingerprint(c));
            out.println("next: keyway remote allow --dir " + dir + " --client RECIPIENT --name NAME; then keyway remote serve --dir " + dir);
            out.flush();
        }
    }

    @Command(name = "allow", mixinStandardHelpOptions = true, header = "Let an identity open sessions on this host.",
            description = {"Adds the identity (its recipient string, as 'keyway pubkey' prints it) under NAME to clients.json and "
                    + "to the configuration's allowed clients. The client proves the recipient's Ed25519 key in every TLS handshake "
                    + "and on every reattach. Takes effect at the client's next connection; no restart."})
    static final class Allow implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", paramLabel = "DIR", required = true, description = "The host directory.")
        Path dir;

        @Option(names = "--client", paramLabel = "RECIPIENT", required = true, description = "The client's recipient string.")
        String client;

        @Option(names = "--name", paramLabel = "NAME", required = true, description = "A name for the client (in the audit log).")
        String name;

        @Option(names = "--config", paramLabel = "CONF", description = "The configuration it may use (default: ${DEFAULT-VALUE}).")
        String config = "default";

        @Override
        public void run() {
            Recipient r;
            try {
                r = Recipient.parse(client);
            } catch (KeywayException e) {
                throw KeywayException.usage("--client is not a recipient: " + e.getMessage(), "give the line 'keyway pubkey -i IDENTITY' prints");
            }
            HostDir.open(dir).allow(name, r, config);
            spec.commandLine().getOut().println("client " + Printable.escape(name) + " (" + r.idHex() + ") may open sessions in configuration "
                    + Printable.escape(config));
            spec.commandLine().getOut().flush();
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, header = "Stop an identity from connecting.",
            description = {"Removes NAME from clients.json and from every configuration. Its next handshake is refused (a "
                    + "resumed one too), and it can no longer attach to its sessions; sessions already open run on until they are "
                    + "removed or reaped."})
    static final class Revoke implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", paramLabel = "DIR", required = true, description = "The host directory.")
        Path dir;

        @Option(names = "--name", paramLabel = "NAME", required = true, description = "The client's name.")
        String name;

        @Override
        public void run() {
            if (!HostDir.open(dir).revoke(name)) {
                throw KeywayException.usage("no client named " + Printable.escape(name), "see " + dir.resolve("clients.json"));
            }
            spec.commandLine().getOut().println("client " + Printable.escape(name) + " revoked");
            spec.commandLine().getOut().flush();
        }
    }

    @Command(name = "serve", mixinStandardHelpOptions = true, header = "Run the host service.",
            description = {"Listens for clients with mutual TLS 1.3 (X25519MLKEM768 preferred): only a client whose Ed25519 key "
                    + "is allowed gets past the handshake, and nothing is read from it before. Sessions live in this process: they "
                    + "survive a client's disconnect, not a restart (stopping the service ends every process its sessions "
                    + "started). Commands run as this service's user. Prints 'keyway: listening on HOST:PORT' to standard error "
                    + "once ready; Ctrl-C stops it."})
    static final class Serve implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", paramLabel = "DIR", required = true, description = "The host directory.")
        Path dir;

        @Option(names = "--listen", paramLabel = "HOST:PORT",
                description = "Where to listen (default: 127.0.0.1:5986, PowerShell's HTTPS remoting port; 0.0.0.0:5986 for other machines; port 0: any free port, named in the listening line).")
        String listen = "127.0.0.1:" + RemoteHost.DEFAULT_PORT;

        @Option(names = "--keylog", paramLabel = "FILE",
                description = "Append every connection's TLS secrets to FILE (SSLKEYLOGFILE format, 0600): Wireshark can then read captured sessions.")
        Path keylog;

        @Option(names = "--escrow", paramLabel = "URL",
                description = "Escrow every connection's TLS traffic secrets with this backup authority, owned by the host (enroll DIR/host.identity there first); see docs/REMOTE.md.")
        String escrow;

        @Option(names = "--escrow-cacert", paramLabel = "FILE", description = "The authority's certificate (with --escrow).")
        Path escrowCacert;

        @Option(names = "--reap-every", paramLabel = "DURATION", description = "How often idle and expired sessions are looked for (default: ${DEFAULT-VALUE}).")
        String reapEvery = "5s";

        @Override
        public void run() {
            HostDir home = HostDir.open(dir);
            // port 0: any free port (the listening line below names it), as 'tls serve' allows
            String l = listen.strip();
            boolean anyPort = l.endsWith(":0");
            RemoteClient.HostAddress a = RemoteClient.HostAddress.parse(anyPort ? l.substring(0, l.length() - 2) : l);
            if ((escrow == null) != (escrowCacert == null)) {
                throw KeywayException.usage("--escrow and --escrow-cacert go together", "give the authority's URL and its certificate");
            }
            PrintWriter err = spec.commandLine().getErr();
            Consumer<String> log = line -> {
                synchronized (err) {
                    err.println("keyway: " + Printable.escape(line));
                    err.flush();
                }
            };
            EscrowKeyLog escrowed = null;
            Identity hostId = null;
            if (escrow != null) {
                AuthorityOptions ao = new AuthorityOptions();
                ao.url = escrow;
                ao.cacert = escrowCacert;
                hostId = home.identity();
                escrowed = new EscrowKeyLog(ao.client(), hostId, "remote host " + listen, log);
            }
            KeyLogFile kl = keylog == null ? null : KeyLogFile.open(keylog);
            KeyLog sink = kl == null ? KeyLog.NONE : kl;
            if (escrowed != null) {
                KeyLog file = sink;
                EscrowKeyLog e = escrowed;
                sink = (label, cr, secret) -> {
                    file.log(label, cr, secret);
                    e.log(label, cr, secret);
                };
            }
            RemoteHost.Options o = RemoteHost.Options.defaults()
                    .withKeyLog(sink)
                    .withReapEvery(Durations.parse(reapEvery, "--reap-every"))
                    .withLog(log);
            RemoteHost host;
            try {
                host = RemoteHost.start(home, new InetSocketAddress(a.host(), anyPort ? 0 : a.port()), o);
            } catch (IOException e) {
                throw new KeywayException(ErrorCode.PEER, "cannot listen on " + Printable.escape(l) + " (" + AtomicFile.describe(e) + ")",
                        "choose another --listen address or port");
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                host.close();
                stopped.countDown();
            }, "keyway-remote-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            err.println("keyway: listening on " + a.host() + ":" + host.address().getPort() + " (host " + host.recipient() + ")"
                    + (escrowed != null ? "; escrowing TLS secrets as owner " + Printable.escape(escrowed.owner()) : ""));
            err.flush();
            try {
                host.awaitDone(Duration.ofDays(36500));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                    host.close();
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs
                }
                if (escrowed != null) {
                    escrowed.close();
                    hostId.destroy();
                }
                if (kl != null) {
                    try {
                        kl.close();
                    } catch (IOException ignored) {
                        // the key log was appended line by line
                    }
                }
            }
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true, header = "Check the host's audit log.",
            subcommands = {Audit.Verify.class})
    static final class Audit extends GroupCommand {
        @Command(name = "verify", mixinStandardHelpOptions = true, header = "Verify the audit log's chain and signed head.",
                description = {"Checks that every entry follows the one before it and has the hash of its fields, and that the "
                        + "head file is signed by the host's identity and names the last entry. Exit 0 when intact, 3 with the "
                        + "first line that does not hold otherwise."})
        static final class Verify implements Runnable {
            @Spec
            CommandSpec spec;

            @Option(names = "--dir", paramLabel = "DIR", required = true, description = "The host directory.")
            Path dir;

            @Override
            public void run() {
                long n = HostDir.open(dir).verifyAudit();
                spec.commandLine().getOut().println("audit log intact: " + n + " entries, head signed by the host");
                spec.commandLine().getOut().flush();
            }
        }
    }
}
