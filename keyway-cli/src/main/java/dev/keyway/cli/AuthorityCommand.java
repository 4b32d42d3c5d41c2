package dev.keyway.cli;

import dev.keyway.authority.AuthorityHome;
import dev.keyway.authority.AuthorityServer;
import dev.keyway.authority.AuthorityStore;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Durations;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;

@Command(name = "authority", mixinStandardHelpOptions = true,
        header = "Run a backup authority, or enroll with one and approve clients.",
        description = {"A backup authority keeps session keys wrapped for its public key and gives them back, re-wrapped, "
                + "to their proven owner. See docs/AUTHORITY.md."},
        subcommands = {AuthorityCommand.Init.class, AuthorityCommand.Serve.class, AuthorityClientCommands.Enroll.class,
                AuthorityClientCommands.Approve.class, AuthorityClientCommands.Revoke.class, AuthorityClientCommands.Clients.class,
                AuthorityClientCommands.Whoami.class, AuthorityClientCommands.ApproveRecovery.class, AuthorityClientCommands.ListEscrows.class,
                AuthorityStoppedCommands.Rotate.class, AuthorityStoppedCommands.BindLegacy.class, AuthorityStoppedCommands.Audit.class})
final class AuthorityCommand extends GroupCommand {
    static KeyType keyType(String type) {
        KeyType kt = KeyType.byId(type);
        if (kt == null) {
            throw KeywayException.usage("unknown --type '" + type + "'", "use xwing, x25519, p256 or rsa3072");
        }
        return kt;
    }

    @Command(name = "init", mixinStandardHelpOptions = true, header = "Create a new authority in a directory.",
            description = {"Creates the authority identity (xwing by default, plus its Ed25519 signing key; sealed with "
                    + "Argon2id and AES-256-GCM when --passphrase-file is given), an admin token (printed once: keep it), and a "
                    + "self-signed TLS certificate for 127.0.0.1 and localhost. Prints the authority's recipient string and "
                    + "fingerprints."})
    static final class Init implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", paramLabel = "DIR", required = true, description = "The authority's directory (new or empty).")
        Path dir;

        @Option(names = "--passphrase-file", paramLabel = "FILE", description = "Seal the authority identity with this passphrase.")
        String passphraseFile;

        @Option(names = "--type", paramLabel = "TYPE", description = "Key-exchange type: xwing (default), x25519, p256, rsa3072.")
        String type = "xwing";

        @Override
        public void run() {
            KeyType kt = keyType(type);
            byte[] pass = passphraseFile == null ? null : CliIo.readSecret(passphraseFile, "passphrase file");
            try {
                AuthorityHome.Initialized i = new AuthorityHome(dir).init(kt, pass);
                PrintWriter out = spec.commandLine().getOut();
                out.println("authority created in " + dir);
                out.println("recipient:        " + i.recipient());
                out.println("recipient id:     " + i.recipientId());
                out.println("TLS certificate:  " + dir.resolve(AuthorityHome.TLS_CERT) + " (SHA-256 " + i.tlsFingerprint() + ")");
                out.println("admin token:      " + i.adminToken());
                out.println("Keep the admin token: it is shown only now (the directory keeps its hash).");
                out.flush();
            } finally {
                if (pass != null) {
                    Arrays.fill(pass, (byte) 0);
                }
            }
        }
    }

    @Command(name = "serve", mixinStandardHelpOptions = true, header = "Serve the authority's HTTPS API.",
            description = {"Serves the HTTPS JSON API until interrupted (Ctrl-C or SIGTERM). The database is "
                    + "D/authority.db (SQLite) unless --db names a PostgreSQL database."})
    static final class Serve implements Runnable {
        @Spec
        CommandSpec spec;

        @Option(names = "--dir", paramLabel = "DIR", required = true, description = "The authority's directory.")
        Path dir;

        @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Where to listen (default 127.0.0.1:8443).")
        String listen = "127.0.0.1:8443";

        @Option(names = "--db", paramLabel = "JDBC-URL", description = "jdbc:postgresql://HOST/DB?user=... (default: SQLite in DIR).")
        String db;

        @Option(names = {"--identity-passphrase-file", "--passphrase-file"}, paramLabel = "FILE", description = "Passphrase of a sealed authority identity.")
        String passphraseFile;

        @Option(names = "--auto-approve", description = "Approve every enrollment at once (for demos; never in production).")
        boolean autoApprove;

        @Option(names = "--two-person", description = "Release a key only after a recovery officer who is another person "
                + "(another owner name) approved the request.")
        boolean twoPerson;

        @Option(names = "--approval-lifetime", paramLabel = "DURATION",
                description = "How long the requester may collect (again) an approved recovery (default 24h).")
        String approvalLifetime;

        @Override
        public void run() {
            int colon = listen.lastIndexOf(':');
            if (colon < 0) {
                throw KeywayException.usage("--listen '" + listen + "' has no port", "write it like 127.0.0.1:8443");
            }
            String host = listen.substring(0, colon);
            int port;
            try {
                port = Integer.parseInt(listen.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw KeywayException.usage("--listen '" + listen + "' has no valid port", "write it like 127.0.0.1:8443");
            }
            AuthorityHome home = new AuthorityHome(dir);
            Identity identity = CliIo.readIdentity(dir.resolve(AuthorityHome.IDENTITY).toString(), passphraseFile);
            AuthorityStore store = AuthorityStore.open(db == null ? home.databaseUrl() : db, identity);
            AuthorityServer server = new AuthorityServer(home, store, identity, autoApprove, Clock.systemUTC()).twoPersonRule(twoPerson);
            if (approvalLifetime != null) {
                server.approvalLifetime(Durations.parse(approvalLifetime, "--approval-lifetime"));
            }
            int bound = server.start(host, port);
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.close();
                store.close();
                identity.destroy();
                stopped.countDown();
            }, "keyway-authority-shutdown"));
            PrintWriter err = spec.commandLine().getErr();
            err.println("keyway: authority " + identity.recipient().idHex() + " serving https://" + host + ":" + bound
                    + (autoApprove ? " (auto-approve: demo mode)" : "") + (twoPerson ? " (two-person rule)" : "") + "; Ctrl-C to stop");
            err.flush();
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static String adminToken(String tokenFile) {
        String token = new String(CliIo.readSecret(tokenFile, "admin token file"), StandardCharsets.US_ASCII).strip();
        if (!token.matches("kwadmin_[0-9a-f]{64}")) {
            throw KeywayException.usage("the admin token file does not hold an admin token",
                    "put the token 'authority init' printed (kwadmin_ and 64 hex digits) alone in the file");
        }
        return token;
    }
}
