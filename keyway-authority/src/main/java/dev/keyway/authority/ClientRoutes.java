package dev.keyway.authority;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Recipient;
import io.javalin.http.Context;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The routes about enrolled keys: enroll (signed by the key being enrolled), whoami and self-revocation
 * (signed), and the admin's approve, revoke and client list (the admin token).
 */
final class ClientRoutes {
    private final AuthorityStore store;
    private final RequestAuth auth;
    private final FailureLog failures;
    private final boolean autoApprove;

    ClientRoutes(AuthorityStore store, RequestAuth auth, FailureLog failures, boolean autoApprove) {
        this.store = store;
        this.auth = auth;
        this.failures = failures;
        this.autoApprove = autoApprove;
    }

    void enroll(Context ctx) {
        byte[] body = RequestBodies.body(ctx);
        JsonNode j = RequestBodies.parse(body, Set.of("name", "recipient"));
        String name;
        try {
            name = OwnerNames.canonical(RequestBodies.text(j, "name", true));
        } catch (KeywayException e) {
            throw new Refusal(400, "name: " + e.getMessage());
        }
        Recipient r;
        try {
            r = Recipient.parse(RequestBodies.text(j, "recipient", true));
        } catch (KeywayException e) {
            throw new Refusal(400, "recipient: " + e.getMessage());
        }
        // Proof of possession: the enrolment is signed by the key being enrolled.
        auth.authenticate(ctx, body, r, false);
        // A new name must pass the UTS #39 restriction checks, unless it looks like an enrolled one: then the
        // store refuses it as a conflict, naming the name it looks like (the clearer reason).
        String problem = OwnerNames.restrictionProblem(name);
        if (problem != null && !store.ownerExists(name) && !store.looksLikeEnrolled(name)) {
            throw new Refusal(400, "name: " + problem + "; choose a name in one writing system");
        }
        Client c;
        try {
            c = store.enroll(name, r, autoApprove, auth.now());
        } catch (AuthorityStore.Conflict | AuthorityStore.Forbidden e) {
            // Anyone can make a key and try a look-alike name: counted per source and minute, not a row each.
            failures.record(ctx.ip(), RequestSigning.Kind.REFUSED_ENROLLMENT);
            throw new Refusal(e instanceof AuthorityStore.Conflict ? 409 : 403, e.getMessage());
        }
        ctx.status(c.approved() ? 201 : 202).json(ClientStatus.of(c).toJson());
    }

    void approve(Context ctx) {
        auth.requireAdmin(ctx, "approve");
        JsonNode j = RequestBodies.parse(RequestBodies.body(ctx), Set.of("client_id", "roles"));
        String id = RequestBodies.text(j, "client_id", true);
        Set<String> roles = new HashSet<>();
        JsonNode r = j.get("roles");
        if (r != null) {
            if (!r.isArray()) {
                throw new Refusal(400, "roles must be an array of strings");
            }
            for (JsonNode role : r) {
                if (!role.isTextual() || !role.asText().equals(Client.RECOVERY_OFFICER)) {
                    throw new Refusal(400, "unknown role " + Printable.escape(role.toString()) + " (known: " + Client.RECOVERY_OFFICER + ")");
                }
                roles.add(role.asText());
            }
        }
        Client approved = store.approve(id, roles, "admin", auth.now());
        auth.forget(id); // new roles take effect at once on this node
        ctx.json(ClientStatus.of(approved).toJson());
    }

    /** An admin revokes any key (a lost or stolen one). */
    void adminRevoke(Context ctx) {
        auth.requireAdmin(ctx, "revoke");
        JsonNode j = RequestBodies.parse(RequestBodies.body(ctx), Set.of("client_id"));
        Client revoked = store.revoke(RequestBodies.text(j, "client_id", true), "admin", auth.now());
        auth.forget(revoked.id()); // refused at once on this node; other nodes within APPROVED_CACHE_MILLIS
        ctx.json(ClientStatus.of(revoked).toJson());
    }

    /** A client revokes its own key (it signs the request with the key it gives up). */
    void selfRevoke(Context ctx) {
        byte[] body = RequestBodies.body(ctx);
        Client c = auth.authenticateClient(ctx, body, "revoke", false, true);
        RequestBodies.parse(body, Set.of());
        Client revoked = store.revoke(c.id(), c.id(), auth.now());
        auth.forget(revoked.id());
        ctx.json(ClientStatus.of(revoked).toJson());
    }

    void clients(Context ctx) {
        auth.requireAdmin(ctx, "list-clients");
        List<Object> out = new ArrayList<>();
        for (Client c : store.clients()) {
            out.add(ClientStatus.of(c).toJson());
        }
        ctx.json(Map.of("clients", out));
    }

    /** The signed caller's own record: its owner name (what escrow blobs are bound to), status and roles. */
    void self(Context ctx) {
        Client c = auth.authenticateClient(ctx, new byte[0], "whoami", false, true);
        ctx.json(ClientStatus.of(c).toJson());
    }
}
