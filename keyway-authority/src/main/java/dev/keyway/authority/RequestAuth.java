package dev.keyway.authority;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.OwnerName;
import dev.keyway.core.identity.Recipient;
import io.javalin.http.Context;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Who is asking, and may they: a client by its request signature ({@link RequestSigning}: key, time window,
 * nonce), the admin by the admin token, and whose escrows a client may act on. Failures are 401s counted
 * per source and minute ({@link FailureLog}); refusals of an authenticated client are audited. Approved
 * clients and parsed recipients are cached briefly, since every request looks its client up.
 */
final class RequestAuth {
    private final AuthorityHome home;
    private final AuthorityStore store;
    private final FailureLog failures;
    private final Clock clock;

    RequestAuth(AuthorityHome home, AuthorityStore store, FailureLog failures, Clock clock) {
        this.home = home;
        this.store = store;
        this.failures = failures;
        this.clock = clock;
    }

    Instant now() {
        return Instant.ofEpochMilli(clock.millis());
    }

    Client authenticateClient(Context ctx, byte[] body, String action) {
        return authenticateClient(ctx, body, action, false, false);
    }

    /**
     * The enrolled, approved, unrevoked client that signed this request (401 otherwise, counted per source
     * and minute; 403 for a key not approved yet, audited).
     *
     * @param deferNonce   the caller records the nonce itself, in the same transaction as its change
     * @param allowPending a key not approved yet may make this request (whoami, revoking itself)
     */
    Client authenticateClient(Context ctx, byte[] body, String action, boolean deferNonce, boolean allowPending) {
        String id = ctx.header(RequestSigning.CLIENT);
        if (id == null) {
            throw unauthenticated(ctx, RequestSigning.Kind.UNSIGNED, "the request is not signed (headers " + RequestSigning.CLIENT
                    + ", " + RequestSigning.TIMESTAMP + ", " + RequestSigning.NONCE + ", " + RequestSigning.SIGNATURE + ")");
        }
        Optional<Client> client = id.matches("[0-9a-f]{16}") ? lookUpClient(id) : Optional.empty();
        if (client.isEmpty()) {
            throw unauthenticated(ctx, RequestSigning.Kind.UNKNOWN_CLIENT, "client " + Printable.escape(id.length() > 16
                    ? id.substring(0, 16) + "..." : id) + " is not enrolled");
        }
        Client c = client.get();
        authenticate(ctx, body, recipientOf(c), deferNonce);
        if (deferNonce) {
            ctx.attribute(DEFERRED_NONCE, signedHeaders(ctx));
        }
        if (c.revoked()) {
            throw unauthenticated(ctx, RequestSigning.Kind.REVOKED, "client " + c.id() + " was revoked on " + c.revokedAt());
        }
        if (!c.approved() && !allowPending) {
            // A pending key has no rights, and anyone can enroll one: its refusals are counted, not logged one by one.
            failures.record(ctx.ip(), RequestSigning.Kind.NOT_APPROVED);
            throw new Refusal(403, "client " + c.id() + " is not approved yet (ask the authority's admin)");
        }
        return c;
    }

    /** Checks the signature by {@code signer}, the time window and (unless deferred) the nonce; 401 otherwise. */
    void authenticate(Context ctx, byte[] body, Recipient signer, boolean deferNonce) {
        RequestSigning.Signed s = signedHeaders(ctx);
        String pathAndQuery = ctx.path() + (ctx.queryString() == null ? "" : "?" + ctx.queryString());
        Instant now = now();
        RequestSigning.Problem problem = s.clientId() != null && !s.clientId().equals(signer.idHex())
                ? new RequestSigning.Problem(RequestSigning.Kind.MALFORMED, "the " + RequestSigning.CLIENT
                + " header does not name the signing key")
                : RequestSigning.verify(s, signer, ctx.method().name(), pathAndQuery, body, now);
        if (problem == null && !deferNonce && !store.useNonce(signer.idHex(), s.nonce(), RequestSigning.nonceExpiry(s), now)) {
            problem = new RequestSigning.Problem(RequestSigning.Kind.REPLAYED, "the request nonce was already used (a replayed request)");
        }
        if (problem != null) {
            throw unauthenticated(ctx, problem.kind(), problem.message());
        }
    }

    static RequestSigning.Signed signedHeaders(Context ctx) {
        return new RequestSigning.Signed(ctx.header(RequestSigning.CLIENT), ctx.header(RequestSigning.TIMESTAMP),
                ctx.header(RequestSigning.NONCE), ctx.header(RequestSigning.SIGNATURE));
    }

    /** A 401, counted per source and minute in the audit log (a flood of bad requests costs one row a minute). */
    Refusal unauthenticated(Context ctx, RequestSigning.Kind kind, String message) {
        failures.record(ctx.ip(), kind);
        return new Refusal(401, message);
    }

    void requireAdmin(Context ctx, String action) {
        String auth = ctx.header("Authorization");
        if (auth == null || !auth.startsWith("Bearer ") || !home.isAdminToken(auth.substring(7).strip())) {
            throw unauthenticated(ctx, RequestSigning.Kind.BAD_ADMIN_TOKEN, "admin requests need 'Authorization: Bearer <admin token>'");
        }
    }

    /**
     * A refusal of an authenticated client's request, audited. A request whose nonce was deferred to its
     * change's transaction (an escrow) records the nonce first, so a captured refused request cannot be
     * replayed to fill the log: a replay is a 401.
     */
    Refusal refuse(Context ctx, Client c, String action, String subject, int status, String reason) {
        RequestSigning.Signed deferred = ctx.attribute(DEFERRED_NONCE);
        if (deferred != null) {
            ctx.attribute(DEFERRED_NONCE, null);
            if (!store.useNonce(c.id(), deferred.nonce(), RequestSigning.nonceExpiry(deferred), now())) {
                return unauthenticated(ctx, RequestSigning.Kind.REPLAYED, "the request nonce was already used (a replayed request)");
            }
        }
        store.audit(now(), c.id(), action, subject, "refused", "{\"status\":" + status + ",\"reason\":" + AuthorityStore.json(reason) + "}");
        return new Refusal(status, reason);
    }

    /** The request attribute holding a signed request whose nonce is not recorded yet. */
    private static final String DEFERRED_NONCE = "keyway.deferred-nonce";

    /** The owner a request is about: the client's own name, or (recovery officers only) the one it names. */
    String ownerField(Context ctx, JsonNode j, Client c, String action) {
        String raw = RequestBodies.text(j, "owner", false);
        if (raw == null) {
            return c.name();
        }
        String owner;
        try {
            owner = OwnerName.normalize(raw);
        } catch (KeywayException e) {
            throw new Refusal(400, "owner: " + e.getMessage());
        }
        if (!owner.equals(c.name()) && !c.officer()) {
            throw refuse(ctx, c, action, owner, 403, "client " + c.id() + " may not act for owner '" + owner + "'");
        }
        if (!owner.equals(c.name()) && !store.ownerExists(owner)) {
            throw refuse(ctx, c, action, owner, 404, "no owner '" + owner + "' is enrolled");
        }
        return owner;
    }

    /**
     * Parsed client recipients, by client id. Parsing validates the key-exchange public key (for x25519
     * and xwing, an elliptic-curve check), which profiling showed as the largest cost of a request; the
     * id is a hash of the recipient string, so an entry can never go stale.
     */
    private final Map<String, Recipient> recipients = new ConcurrentHashMap<>();

    /**
     * Approved clients, by id, for {@link AuthorityServer#APPROVED_CACHE_MILLIS}: every signed request looks its client
     * up, and that read was a database round trip per request. Only approved clients are kept, and only
     * briefly, so a node of a cluster sees another node's changes to a client (new roles, a revocation)
     * within that time; the node that made the change drops its entry at once.
     */
    private final Map<String, CachedClient> approvedClients = new ConcurrentHashMap<>();

    private record CachedClient(Client client, long until) {
    }

    /**
     * Bumped by every change to a client made on this node: a lookup that read the database before the change
     * must not put its (stale) answer in the cache after the change dropped it.
     */
    private final AtomicLong clientChanges = new AtomicLong();

    /** Drops {@code id}'s cached record: a change made on this node takes effect on it at once. */
    void forget(String id) {
        clientChanges.incrementAndGet();
        approvedClients.remove(id);
    }

    private Optional<Client> lookUpClient(String id) {
        long nowNanos = System.nanoTime();
        CachedClient cached = approvedClients.get(id);
        if (cached != null && nowNanos - cached.until() < 0) {
            return Optional.of(cached.client());
        }
        long changes = clientChanges.get();
        Optional<Client> c = store.client(id);
        if (c.isPresent() && c.get().approved()) {
            if (approvedClients.size() > 100_000) {
                approvedClients.clear();
            }
            approvedClients.put(id, new CachedClient(c.get(), nowNanos + AuthorityServer.APPROVED_CACHE_MILLIS * 1_000_000));
            if (clientChanges.get() != changes) {
                approvedClients.remove(id); // a change raced this read: the next request reads again
            }
        } else {
            approvedClients.remove(id);
        }
        return c;
    }

    Recipient recipientOf(Client c) {
        if (recipients.size() > 100_000) {
            recipients.clear();
        }
        return recipients.computeIfAbsent(c.id(), id -> Recipient.parse(c.recipient()));
    }
}
