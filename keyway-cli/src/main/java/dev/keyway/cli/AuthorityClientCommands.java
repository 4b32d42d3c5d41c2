package dev.keyway.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyway.authority.ClientStatus;
import dev.keyway.authority.EscrowSummary;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The {@code authority} subcommands that talk to a running authority, as a client (signed) or as its admin (the token). */
final class AuthorityClientCommands {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AuthorityClientCommands() {
    }

    @Command(name = "enroll", mixinStandardHelpOptions = true, header = "Enroll an identity's signing key with an authority.",
            description = {"Sends the identity's recipient string under NAME, signed by the identity itself. The authority's "
                    + "admin then approves it (unless the authority runs with --auto-approve); until then escrow and recovery "
                    + "are refused. Re-enrolling a new identity under an existing name is how an owner who lost a key gets it "
                    + "back. Prints what happens next on standard error."})
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
                ClientStatus c = authority.client().enroll(id, name);
                PrintWriter out = spec.commandLine().getOut();
                out.println("client " + c.clientId() + " enrolled as '" + Printable.escape(c.name()) + "': " + c.status());
                out.flush();
                PrintWriter err = spec.commandLine().getErr();
                if (c.approved()) {
                    err.println("keyway: next: escrow keys with 'keyway escrow' or 'keyway encrypt --escrow', signed by this identity");
                } else {
                    err.println("keyway: next: the authority's admin approves this key; until then escrow and recovery are refused:");
                    err.println("  keyway authority approve --authority " + Printable.escape(authority.url) + " --cacert "
                            + Printable.escape(String.valueOf(authority.cacert)) + " --admin-token-file ADMIN_TOKEN_FILE " + c.clientId());
                    err.println("keyway: then 'keyway authority whoami' with this identity says 'approved'");
                }
                err.flush();
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
            String token = AuthorityCommand.adminToken(tokenFile);
            ClientStatus c = authority.client().approve(token, clientId, roles);
            spec.commandLine().getOut().println("client " + Printable.escape(clientId) + " approved" + (roles.isEmpty() ? "" : " with " + roles)
                    + " (owner '" + Printable.escape(c.name()) + "')");
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
                authority.client().approveRecovery(id, requestId);
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
            EscrowSummary.Filter filter = new EscrowSummary.Filter(owner, description, serial, instant(from, "--from"),
                    instant(to, "--to"));
            try (Identity id = identity.read()) {
                List<EscrowSummary> escrows = authority.client().listEscrows(id, filter);
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(pretty(Map.of("escrows", escrows.stream().map(EscrowSummary::toJson).toList())));
                } else {
                    for (EscrowSummary e : escrows) {
                        out.println(e.createdAt() + "  " + e.escrowId() + "  " + Printable.escape(e.owner()) + "  serial "
                                + e.serial() + "  " + Printable.escape(e.description()));
                    }
                }
                out.flush();
            }
        }

        private static Instant instant(String value, String option) {
            try {
                return value == null ? null : Instant.parse(value);
            } catch (DateTimeParseException e) {
                throw KeywayException.usage(option + " '" + Printable.escape(value) + "' is not an ISO-8601 instant",
                        "write it like 2026-11-21T00:00:00Z");
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
            ClientStatus c;
            if (tokenFile != null && identityFile == null && clientId != null) {
                c = authority.client().adminRevoke(AuthorityCommand.adminToken(tokenFile), clientId);
            } else if (identityFile != null && tokenFile == null && clientId == null) {
                try (Identity id = CliIo.readIdentity(identityFile, identityPassphraseFile)) {
                    c = authority.client().revoke(id);
                }
            } else {
                throw KeywayException.usage("give either --admin-token-file and CLIENT_ID, or -i IDENTITY (your own key)",
                        "see 'keyway authority revoke --help'");
            }
            spec.commandLine().getOut().println("client " + c.clientId() + " (owner '" + Printable.escape(c.name()) + "') revoked");
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
            List<ClientStatus> clients = authority.client().listClients(AuthorityCommand.adminToken(tokenFile));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(pretty(Map.of("clients", clients.stream().map(ClientStatus::toJson).toList())));
            } else {
                for (ClientStatus c : clients) {
                    out.println(c.clientId() + "  " + String.format("%-8s", c.status()) + "  " + Printable.escape(c.name())
                            + (c.roles().isEmpty() ? "" : "  " + Printable.escape(roles(c)))
                            + "  enrolled " + c.enrolledAt() + (c.revokedAt() != null ? "  revoked " + c.revokedAt() : ""));
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
                ClientStatus c = authority.client().whoAmI(id);
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(pretty(c.toJson()));
                } else {
                    out.println("client " + c.clientId() + ", owner '" + Printable.escape(c.name()) + "', " + c.status()
                            + (c.roles().isEmpty() ? "" : ", roles " + Printable.escape(roles(c))));
                }
                out.flush();
            }
        }
    }

    /** The roles as the JSON array they were printed as before: {@code ["recovery-officer"]}. */
    private static String roles(ClientStatus c) {
        return JSON.valueToTree(c.roles()).toString();
    }

    /** JSON as {@code --json} prints it: indented, as the authority's answer was printed before it was typed. */
    static String pretty(Object value) {
        return JSON.valueToTree(value).toPrettyString();
    }
}
