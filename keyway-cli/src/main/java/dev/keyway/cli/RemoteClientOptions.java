package dev.keyway.cli;

import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.keylog.KeyLogFile;
import dev.keyway.remote.Registry;
import dev.keyway.remote.RemoteClient;
import dev.keyway.tls.cert.Pem;
import dev.keyway.tls.params.NamedGroup;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/** What every client-side {@code keyway remote} command needs: the identity, the trusted host certificates, the registry. */
final class RemoteClientOptions {
    @Option(names = {"-i", "--identity"}, paramLabel = "IDENTITY", required = true,
            description = "Your identity file: hosts know you by its key, and your sessions belong to it.")
    String identityFile;

    @Option(names = "--identity-passphrase-file", paramLabel = "FILE", description = "Passphrase of an encrypted identity.")
    String passphraseFile;

    @Option(names = "--cacert", paramLabel = "PEM",
            description = "The hosts' certificates (each host's DIR/tls.crt) or the CA that issued them; repeatable. Default: $KEYWAY_REMOTE_CACERT.")
    List<String> cacerts = new ArrayList<>();

    @Option(names = "--registry", paramLabel = "FILE",
            description = "The session registry (default: $KEYWAY_REMOTE_REGISTRY, else $XDG_STATE_HOME/keyway/remote-sessions.json, else ~/.local/state/keyway/remote-sessions.json).")
    Path registry;

    @Option(names = "--keylog", paramLabel = "FILE", description = "Append the connections' TLS secrets to FILE (SSLKEYLOGFILE format, 0600).")
    Path keylog;

    @Option(names = "--groups", paramLabel = "GROUP", split = ",",
            description = "Key-exchange groups in order of preference (default: X25519MLKEM768,x25519).")
    List<String> groups = List.of("X25519MLKEM768", "x25519");

    private KeyLogFile keyLogFile;

    Path registryPath() {
        return registry != null ? registry : Registry.defaultPath();
    }

    /** The client; the caller closes it with {@link #close} (the identity is destroyed there). */
    RemoteClient client(Identity identity) {
        List<String> files = new ArrayList<>(cacerts);
        if (files.isEmpty()) {
            String env = System.getenv("KEYWAY_REMOTE_CACERT");
            if (env != null && !env.isEmpty()) {
                files.add(env);
            }
        }
        if (files.isEmpty()) {
            throw KeywayException.usage("no trusted host certificate", "give --cacert HOSTDIR/tls.crt (or the CA that issued the hosts' certificates)");
        }
        List<X509Certificate> trust = new ArrayList<>();
        for (String f : files) {
            trust.addAll(Pem.readCertificates(CliIo.readInput(f, Pem.MAX_BYTES, "certificate file")));
        }
        List<NamedGroup> g = groups.stream().map(NamedGroup::parse).toList();
        RemoteClient.Builder b = RemoteClient.builder().identity(identity).trust(trust).groups(g);
        if (keylog != null) {
            keyLogFile = KeyLogFile.open(keylog);
            b.keyLog(keyLogFile);
        }
        return b.build();
    }

    Identity identity() {
        return CliIo.readIdentity(identityFile, passphraseFile);
    }

    void close() {
        if (keyLogFile != null) {
            try {
                keyLogFile.close();
            } catch (IOException ignored) {
                // appended line by line
            }
        }
    }
}
