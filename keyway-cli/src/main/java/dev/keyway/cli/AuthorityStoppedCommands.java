package dev.keyway.cli;

import dev.keyway.authority.AuthorityHome;
import dev.keyway.authority.AuthorityStore;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;

/** The {@code authority} subcommands that open an authority's directory and database while its server is stopped. */
final class AuthorityStoppedCommands {
    private AuthorityStoppedCommands() {
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true, header = "Replace the authority key and re-wrap every stored key.",
            description = {"With the server stopped: makes a new authority identity, re-wraps every escrowed blob for it "
                    + "(unwrap with the old key, wrap for the new; no key is written anywhere in plaintext), then replaces "
                    + "authority.key. The old key is not kept. Interrupted, run it again: it resumes. Give clients the new "
                    + "recipient (encrypt --escrow fetches it by itself)."})
    static final class Rotate implements Runnable {
        @Spec
        CommandSpec spec;

        @Mixin
        StoppedAuthority authority;

        @Option(names = {"--identity-passphrase-file", "--passphrase-file"}, paramLabel = "FILE", description = "Passphrase of the current (sealed) identity.")
        String passphraseFile;

        @Option(names = "--new-passphrase-file", paramLabel = "FILE", description = "Seal the new identity with this passphrase.")
        String newPassphraseFile;

        @Option(names = "--type", paramLabel = "TYPE", description = "Key-exchange type of the new key (default xwing).")
        String type = "xwing";

        @Override
        public void run() {
            KeyType kt = AuthorityCommand.keyType(type);
            AuthorityHome home = authority.home();
            byte[] newPass = newPassphraseFile == null ? null : CliIo.readSecret(newPassphraseFile, "new passphrase file");
            try (Identity old = CliIo.readIdentity(home.dir().resolve(AuthorityHome.IDENTITY).toString(), passphraseFile);
                 AuthorityStore store = AuthorityStore.open(authority.databaseUrl(), old);
                 Identity fresh = home.rotate(store, old, kt, newPass, Instant.now())) {
                PrintWriter out = spec.commandLine().getOut();
                out.println("authority key rotated; every stored key re-wrapped and bound to its owner");
                out.println("recipient: " + fresh.recipient().encode());
                out.flush();
            } finally {
                if (newPass != null) {
                    Arrays.fill(newPass, (byte) 0);
                }
            }
        }
    }

    @Command(name = "bind-legacy", mixinStandardHelpOptions = true,
            header = "Bind escrows stored before owner binding to their owners (once, after an upgrade).",
            description = {"With the server stopped: re-wraps every escrow stored as a plain blob (by a Keyway before owner "
                    + "binding), which the authority no longer releases, as an escrow blob bound to the owner and message id "
                    + "its row names, for the same authority key. Escrows already bound are left alone; safe to run again. "
                    + "Audited."})
    static final class BindLegacy implements Runnable {
        @Spec
        CommandSpec spec;

        @Mixin
        StoppedAuthority authority;

        @Option(names = {"--identity-passphrase-file", "--passphrase-file"}, paramLabel = "FILE", description = "Passphrase of a sealed authority identity.")
        String passphraseFile;

        @Override
        public void run() {
            AuthorityHome home = authority.home();
            try (Identity identity = CliIo.readIdentity(home.dir().resolve(AuthorityHome.IDENTITY).toString(), passphraseFile);
                 AuthorityStore store = AuthorityStore.open(authority.databaseUrl(), identity)) {
                long n = home.bindLegacy(store, identity, Instant.now());
                spec.commandLine().getOut().println(n == 0 ? "every stored escrow is bound already"
                        : n + " stored escrow" + (n == 1 ? "" : "s") + " bound to their owners");
                spec.commandLine().getOut().flush();
            }
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true, header = "Check the audit log's hash chain.",
            subcommands = {Audit.Verify.class})
    static final class Audit extends GroupCommand {
        @Command(name = "verify", mixinStandardHelpOptions = true, header = "Check the audit log: its hash chain and its signed head.",
                description = {"Recomputes every entry's hash, checks that the head names the last entry and carries the "
                        + "authority's Ed25519 signature over the count and hash, and that the log still holds the head "
                        + "this command saw last time (D/audit-head.seen; --expect-head checks one recorded elsewhere). "
                        + "Exit 3 names what is wrong: an edited, removed or re-chained entry, a rewritten head, a rollback."})
        static final class Verify implements Runnable {
            @Spec
            CommandSpec spec;

            @Mixin
            StoppedAuthority authority;

            @Option(names = "--recipient", paramLabel = "RECIPIENT",
                    description = "The authority's recipient string, from a record kept apart from the directory (default: read "
                            + "from DIR/authority.key, which needs no passphrase).")
            String recipient;

            @Option(names = "--expect-head", paramLabel = "COUNT:HASH",
                    description = "A head recorded earlier (what this command prints): the log must still hold that entry.")
            String expectHead;

            @Override
            public void run() {
                AuthorityHome home = authority.home();
                Recipient signer = recipient != null
                        ? Recipient.parse(recipient) : home.recipient();
                try (AuthorityStore store = AuthorityStore.open(authority.databaseUrl())) {
                    AuthorityStore.AuditCheck check = store.verifyAudit(signer);
                    if (!check.intact()) {
                        throw KeywayException.authFailed("the audit log is broken at entry " + check.firstBroken() + ": "
                                + check.problem(), "restore the database from a backup and investigate");
                    }
                    if (expectHead != null) {
                        AuthorityHome.checkHead(store, AuthorityHome.Head.parse(expectHead, "--expect-head"), "--expect-head");
                    }
                    home.checkAndRememberHead(store, new AuthorityHome.Head(check.entries(), check.headHash()));
                    PrintWriter out = spec.commandLine().getOut();
                    out.println("audit log intact: " + check.entries() + " entries, head signed by authority " + signer.idHex());
                    out.println("head: " + check.entries() + ":" + check.headHash());
                    out.flush();
                }
            }
        }
    }

    /** The directory (and database) of an authority whose server is stopped: rotate, bind-legacy, audit verify. */
    static final class StoppedAuthority {
        @Option(names = "--dir", paramLabel = "DIR", required = true, description = "The authority's directory.")
        Path dir;

        @Option(names = "--db", paramLabel = "JDBC-URL", description = "The database, if not DIR/authority.db.")
        String db;

        AuthorityHome home() {
            return new AuthorityHome(dir);
        }

        String databaseUrl() {
            return db == null ? home().databaseUrl() : db;
        }
    }}
