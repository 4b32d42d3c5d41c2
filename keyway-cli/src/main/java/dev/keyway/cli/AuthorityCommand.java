package dev.keyway.cli;

import dev.keyway.authority.AuthorityClient;
import dev.keyway.authority.AuthorityHome;
import dev.keyway.authority.AuthorityServer;
import dev.keyway.authority.AuthorityStore;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Durations;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

@Command(name = "authority", mixinStandardHelpOptions = true,
        header = "Run a backup authority, or enroll with one and approve clients.",
        description = {"A backup authority keeps session keys wrapped for its public key and gives them back, re-wrapped, "
                + "to their proven owner. See docs/AUTHORITY.md."},
        subcommands = {AuthorityCommand.Init.class, AuthorityCommand.Serve.class, AuthorityCommand.Enroll.class,
                AuthorityCommand.Approve.class, AuthorityCommand.Revoke.class, AuthorityCommand.Clients.class, AuthorityCommand.Whoami.class,
                AuthorityCommand.ApproveRecovery.class, AuthorityCommand.ListEscrows.class, AuthorityCommand.Rotate.class, AuthorityCommand.BindLegacy.class,
                AuthorityCommand.Audit.class})
final class AuthorityCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

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

    @Command(name = "enroll", mixinStandardHelpOptions = true, header = "Enroll an identity's signing key with an authority.",
            description = {"Sends the identity's recipient string under NAME, signed by the identity itself. The authority's "
                    + "admin then approves it (unless the authority runs with --auto-approve). Re-enrolling a new identity "
                    + "under an existing name is how an owner who lost a key gets it back."})
    static final class Enroll implements Runnable {
        @Spec
        CommandSpec spec;

        @Mixin
        AuthorityOptions authority;

        @Mixin
        ClientIdentity identity;

        @Option(names = "--name", paramLabel = "NAME", required = true, description = "The owner name to enroll under.")
        String name;

        @Override
        public void run() {
            try (Identity id = identity.read()) {
                AuthorityClient.Response r = AuthorityOptions.check(authority.client().signed(id, "POST", "v1/enroll",
                        Map.of("name", name, "recipient", id.recipient().encode())), "enroll");
                PrintWriter out = spec.commandLine().getOut();
                out.println("client " + r.body().get("client_id").asText() + " enrolled as '"
                        + Printable.escape(r.body().get("name").asText()) + "': " + r.body().get("status").asText());
                out.flush();
            }
        }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true, header = "Approve an enrolled client (admin).",
            description = {"Approves the client with this id (its recipient id, as enroll printed it), optionally with the "
                    + "recovery-officer role. Needs the admin token."})
    static final class Approve implements Runnable {
        @Spec
        CommandSpec spec;

        @Mixin
        AuthorityOptions authority;

        @Option(names = "--admin-token-file", paramLabel = "FILE", required = true, description = "File holding the admin token.")
        String tokenFile;

        @Option(names = "--role", paramLabel = "ROLE", description = "Grant a role: recovery-officer.")
        List<String> roles = new ArrayList<>();

        @Parameters(index = "0", paramLabel = "CLIENT_ID", description = "The client to approve.")
        String clientId;

        @Override
        public void run() {
            String token = adminToken(tokenFile);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("client_id", clientId);
            body.put("roles", roles);
            AuthorityClient.Response r = AuthorityOptions.check(authority.client().admin(token, "POST", "v1/admin/approve", body),
                    "approve");
            spec.commandLine().getOut().println("client " + Printable.escape(clientId) + " approved" + (roles.isEmpty() ? "" : " with " + roles)
                    + " (owner '" + Printable.escape(r.body().get("name").asText()) + "')");
            spec.commandLine().getOut().flush();
        }
    }

    @Command(name = "approve-recovery", mixinStandardHelpOptions = true,
            header = "Approve another officer's or owner's recovery request (two-person rule).",
            description = {"With 'serve --two-person', a recovery waits for a second recovery officer, not the requester, "
                    + "to approve it. The requester then runs 'keyway recover ... --request-id ID' to collect the key."})
    static final class ApproveRecovery implements Runnable {
        @Spec
        CommandSpec spec;

        @Mixin
        AuthorityOptions authority;

        @Mixin
        ClientIdentity identity;

        @Parameters(index = "0", paramLabel = "REQUEST_ID", description = "The recovery request to approve.")
        String requestId;

        @Override
        public void run() {
            try (Identity id = identity.read()) {
                AuthorityOptions.check(authority.client().signed(id, "POST", "v1/recover/approve", Map.of("request_id", requestId)),
                        "approve the recovery");
                spec.commandLine().getOut().println("recovery request " + requestId + " approved");
                spec.commandLine().getOut().flush();
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, header = "List and search escrowed keys.",
            description = {"Lists the escrows of your owner name (or, for a recovery officer, of --owner), filtered by "
                    + "description, serial and creation time. Shows metadata only: no key, no blob."})
    static final class ListEscrows implements Runnable {
        @Spec
        CommandSpec spec;

        @Mixin
        AuthorityOptions authority;

        @Mixin
        ClientIdentity identity;

        @Option(names = "--owner", paramLabel = "NAME", description = "Another owner's escrows (recovery officers only).")
        String owner;

        @Option(names = "--description", paramLabel = "TEXT", description = "Only descriptions containing TEXT.")
        String description;

        @Option(names = "--serial", paramLabel = "N", description = "Only this serial.")
        Long serial;

        @Option(names = "--from", paramLabel = "TIME", description = "Created at or after TIME (ISO-8601, e.g. 2026-11-01T00:00:00Z).")
        String from;

        @Option(names = "--to", paramLabel = "TIME", description = "Created before TIME.")
        String to;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public void run() {
            StringBuilder q = new StringBuilder("v1/escrows?limit=10000");
            param(q, "owner", owner);
            param(q, "description", description);
            param(q, "serial", serial == null ? null : serial.toString());
            param(q, "from", from);
            param(q, "to", to);
            try (Identity id = identity.read()) {
                AuthorityClient.Response r = AuthorityOptions.check(authority.client().signed(id, "GET", q.toString(), null), "list");
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(r.body().toPrettyString());
                } else {
                    for (var e : r.body().get("escrows")) {
                        out.println(e.get("created_at").asText() + "  " + e.get("escrow_id").asText() + "  "
                                + Printable.escape(e.get("owner").asText()) + "  serial " + e.get("serial") + "  "
                                + Printable.escape(e.get("description").asText()));
                    }
                }
                out.flush();
            }
        }

        private static void param(StringBuilder q, String name, String value) {
            if (value != null) {
                q.append('&').append(name).append('=').append(java.net.URLEncoder.encode(value, StandardCharsets.UTF_8));
            }
        }
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
            KeyType kt = keyType(type);
            AuthorityHome home = authority.home();
            byte[] newPass = newPassphraseFile == null ? null : CliIo.readSecret(newPassphraseFile, "new passphrase file");
            try (Identity old = CliIo.readIdentity(home.dir().resolve(AuthorityHome.IDENTITY).toString(), passphraseFile);
                 AuthorityStore store = AuthorityStore.open(authority.databaseUrl(), old);
                 Identity fresh = home.rotate(store, old, kt, newPass, java.time.Instant.now())) {
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
                long n = home.bindLegacy(store, identity, java.time.Instant.now());
                spec.commandLine().getOut().println(n == 0 ? "every stored escrow is bound already"
                        : n + " stored escrow" + (n == 1 ? "" : "s") + " bound to their owners");
                spec.commandLine().getOut().flush();
            }
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true, header = "Check the audit log's hash chain.",
            subcommands = {Audit.Verify.class})
    static final class Audit implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            spec.commandLine().usage(spec.commandLine().getOut());
        }

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
                dev.keyway.core.identity.Recipient signer = recipient != null
                        ? dev.keyway.core.identity.Recipient.parse(recipient) : home.recipient();
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

    @Command(name = "revoke", mixinStandardHelpOptions = true, header = "Revoke a client key (admin), or your own key.",
            description = {"An admin revokes any client by id (--admin-token-file); a client revokes its own key with -i. A "
                    + "revoked key is refused at once by the node that revoked it and by other nodes sharing the database "
                    + "within their cache lifetime (5 seconds), and can never enroll again; the owner enrolls a new identity. "
                    + "Audited."})
    static final class Revoke implements Runnable {
        @Spec
        CommandSpec spec;

        @Mixin
        AuthorityOptions authority;

        @Option(names = "--admin-token-file", paramLabel = "FILE", description = "File holding the admin token (to revoke CLIENT_ID).")
        String tokenFile;

        @Option(names = {"-i", "--identity"}, paramLabel = "IDENTITY", description = "Revoke this identity's own key.")
        String identityFile;

        @Option(names = "--identity-passphrase-file", paramLabel = "FILE", description = "Passphrase of an encrypted identity.")
        String identityPassphraseFile;

        @Parameters(index = "0", arity = "0..1", paramLabel = "CLIENT_ID", description = "The client to revoke (with --admin-token-file).")
        String clientId;

        @Override
        public void run() {
            AuthorityClient.Response r;
            if (tokenFile != null && identityFile == null && clientId != null) {
                r = AuthorityOptions.check(authority.client().admin(adminToken(tokenFile), "POST", "v1/admin/revoke",
                        Map.of("client_id", clientId)), "revoke the client");
            } else if (identityFile != null && tokenFile == null && clientId == null) {
                try (Identity id = CliIo.readIdentity(identityFile, identityPassphraseFile)) {
                    r = AuthorityOptions.check(authority.client().signed(id, "POST", "v1/revoke", Map.of()), "revoke the key");
                }
            } else {
                throw KeywayException.usage("give either --admin-token-file and CLIENT_ID, or -i IDENTITY (your own key)",
                        "see 'keyway authority revoke --help'");
            }
            spec.commandLine().getOut().println("client " + r.body().get("client_id").asText() + " (owner '"
                    + Printable.escape(r.body().get("name").asText()) + "') revoked");
            spec.commandLine().getOut().flush();
        }
    }

    @Command(name = "clients", mixinStandardHelpOptions = true, header = "List enrolled clients and their status (admin).",
            description = {"Every enrolled key: its id, owner name, status (pending, approved, revoked), roles and dates."})
    static final class Clients implements Runnable {
        @Spec
        CommandSpec spec;

        @Mixin
        AuthorityOptions authority;

        @Option(names = "--admin-token-file", paramLabel = "FILE", required = true, description = "File holding the admin token.")
        String tokenFile;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public void run() {
            AuthorityClient.Response r = AuthorityOptions.check(authority.client().admin(adminToken(tokenFile), "GET",
                    "v1/admin/clients", null), "list clients");
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(r.body().toPrettyString());
            } else {
                for (var c : r.body().get("clients")) {
                    out.println(c.get("client_id").asText() + "  " + String.format("%-8s", c.get("status").asText()) + "  "
                            + Printable.escape(c.get("name").asText())
                            + (c.get("roles").isEmpty() ? "" : "  " + Printable.escape(c.get("roles").toString()))
                            + "  enrolled " + c.get("enrolled_at").asText()
                            + (c.hasNonNull("revoked_at") ? "  revoked " + c.get("revoked_at").asText() : ""));
                }
            }
            out.flush();
        }
    }

    @Command(name = "whoami", mixinStandardHelpOptions = true, header = "Show the owner name and status the authority has for an identity.",
            description = {"The owner name is what escrowed keys are bound to (an escrow policy file names it)."})
    static final class Whoami implements Runnable {
        @Spec
        CommandSpec spec;

        @Mixin
        AuthorityOptions authority;

        @Mixin
        ClientIdentity identity;

        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        public void run() {
            try (Identity id = identity.read()) {
                AuthorityClient.Response r = AuthorityOptions.check(authority.client().signed(id, "GET", "v1/client", null), "say who you are");
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(r.body().toPrettyString());
                } else {
                    out.println("client " + r.body().get("client_id").asText() + ", owner '" + Printable.escape(r.body().get("name").asText())
                            + "', " + r.body().get("status").asText()
                            + (r.body().get("roles").isEmpty() ? "" : ", roles " + Printable.escape(r.body().get("roles").toString())));
                }
                out.flush();
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
    }
}
