package dev.keyway.authority;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.OwnerName;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.SessionKey;
import io.javalin.Javalin;
import io.javalin.http.Context;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The backup authority's HTTPS JSON API (docs/AUTHORITY.md). Every request but {@code /healthz} is
 * authenticated: client requests by {@link RequestSigning}, admin requests by the admin token. Refusals
 * answer with a JSON error and a status (400 malformed, 401 unauthenticated, 403 forbidden, 404 not
 * found, 409 conflict) and are audited; nothing is stored for a refused request.
 */
public final class AuthorityServer implements AutoCloseable {
    /** Request bodies larger than this are refused (400) before they are parsed. */
    public static final int MAX_BODY = 1024 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    /** How long an approved recovery request may be collected (again, if a delivery failed). */
    public static final Duration DEFAULT_APPROVAL_LIFETIME = Duration.ofHours(24);

    private final AuthorityHome home;
    private final AuthorityStore store;
    private final Identity identity;
    private final boolean autoApprove;
    private volatile boolean twoPerson;
    private final Clock clock;
    private final FailureLog failures;
    private Duration approvalLifetime = DEFAULT_APPROVAL_LIFETIME;
    private Javalin app;
    /** Requests being handled (a gauge in /metrics). */
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private final io.micrometer.prometheusmetrics.PrometheusMeterRegistry metrics =
            new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);

    public AuthorityServer(AuthorityHome home, AuthorityStore store, Identity identity, boolean autoApprove, Clock clock) {
        this.home = home;
        this.store = store;
        this.identity = identity;
        this.autoApprove = autoApprove;
        this.clock = clock;
        this.failures = new FailureLog(store, clock);
    }

    /** Requires a second recovery officer's approval before any key is released (the two-person rule). */
    public AuthorityServer twoPersonRule(boolean on) {
        this.twoPerson = on;
        return this;
    }

    /** How long an approved recovery may be collected by its requester (default 24 hours). */
    public AuthorityServer approvalLifetime(Duration lifetime) {
        if (lifetime.isNegative() || lifetime.isZero()) {
            throw KeywayException.usage("the approval lifetime must be positive", "give e.g. 24h");
        }
        this.approvalLifetime = lifetime;
        return this;
    }

    /** Writes the counts of refused unauthenticated requests now (tests; the server does it every minute). */
    void flushFailures() {
        failures.flush(Long.MAX_VALUE);
    }

    /** Starts serving HTTPS on {@code host:port} (port 0: any free port); returns the bound port. */
    public int start(String host, int port) {
        char[] ksPassword = AuthorityStore.randomId().toCharArray();
        KeyStore ks = home.tlsKeyStore(ksPassword);
        app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.startup.showOldJavalinVersionWarning = false;
            // Jetty may read up to twice the limit, so a body just over it is read whole and answered 400 by
            // body(); refused while still arriving, the client would see a closed connection, not the reason.
            config.http.maxRequestSize = 2L * MAX_BODY;
            config.jetty.addConnector((server, httpConfig) -> {
                SslContextFactory.Server ssl = new SslContextFactory.Server();
                ssl.setKeyStore(ks);
                ssl.setKeyStorePassword(new String(ksPassword));
                ssl.setIncludeProtocols("TLSv1.3", "TLSv1.2");
                httpConfig.addCustomizer(new SecureRequestCustomizer(false));
                ServerConnector c = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
                        new HttpConnectionFactory(httpConfig));
                c.setHost(host);
                c.setPort(port);
                return c;
            });
            // Graceful stop (Ctrl-C, SIGTERM): Jetty stops accepting connections and lets the requests in flight
            // finish, for up to this long (slowRequestsInFlightWhenTheServerStopsStillComplete shows it).
            config.jetty.modifyServer(server -> server.setStopTimeout(30_000));
            config.requestLogger.http((ctx, ms) -> {
                io.javalin.router.Endpoint matched = ctx.endpoints().matchedHttpEndpoint();
                String route = matched == null ? "unmatched" : matched.path;
                requestTimer(ctx.method().name(), route, ctx.status().getCode())
                        .record((long) (ms * 1_000_000), java.util.concurrent.TimeUnit.NANOSECONDS);
            });
            io.micrometer.core.instrument.Gauge.builder("keyway_authority_escrows", store, AuthorityStore::escrowCount)
                    .description("escrowed keys stored").register(metrics);
            config.routes.before(ctx -> inFlight.incrementAndGet());
            config.routes.after(ctx -> inFlight.decrementAndGet());
            io.micrometer.core.instrument.Gauge.builder("keyway_authority_requests_in_flight", inFlight, Number::doubleValue)
                    .description("requests being handled").register(metrics);
            config.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
            config.routes.get("/healthz", ctx -> ctx.json(Map.of("status", "ok")));
            config.routes.get("/v1/authority", ctx -> ctx.json(Map.of("recipient", identity.recipient().encode(),
                    "recipient_id", identity.recipient().idHex())));
            config.routes.post("/v1/enroll", this::enroll);
            config.routes.get("/v1/client", this::self);
            config.routes.post("/v1/revoke", this::selfRevoke);
            config.routes.post("/v1/admin/approve", this::approve);
            config.routes.post("/v1/admin/revoke", this::adminRevoke);
            config.routes.get("/v1/admin/clients", this::clients);
            config.routes.post("/v1/escrow", this::escrow);
            config.routes.post("/v1/recover", this::recover);
            config.routes.post("/v1/recover/approve", this::approveRecovery);
            config.routes.get("/v1/escrows", this::list);
            config.routes.exception(Refusal.class, (e, ctx) -> {
                ctx.status(e.status).json(Map.of("error", e.getMessage()));
            });
            // The contract is 400 for an oversized body, with a message that says so.
            config.routes.exception(io.javalin.http.ContentTooLargeResponse.class, (e, ctx) ->
                    ctx.status(400).json(Map.of("error", "the request body is larger than " + MAX_BODY + " bytes")));
            config.routes.exception(AuthorityStore.NotFound.class, (e, ctx) -> ctx.status(404).json(Map.of("error", e.getMessage())));
            config.routes.exception(AuthorityStore.Conflict.class, (e, ctx) -> ctx.status(409).json(Map.of("error", e.getMessage())));
            config.routes.exception(AuthorityStore.Forbidden.class, (e, ctx) -> ctx.status(403).json(Map.of("error", e.getMessage())));
            config.routes.exception(KeywayException.class, (e, ctx) -> {
                int status = e.code() == ErrorCode.PEER || e.code() == ErrorCode.IO || e.code() == ErrorCode.INTERNAL ? 503 : 400;
                ctx.status(status).json(Map.of("error", e.getMessage()));
            });
        });
        app.start();
        // Every start is an audit entry, which also signs the head of a log written by an older Keyway.
        store.audit(now(), "authority", "start", identity.recipient().idHex(), "ok", "{\"two_person\":" + twoPerson + "}");
        return ((ServerConnector) app.jettyServer().server().getConnectors()[0]).getLocalPort();
    }

    /** A request refused with an HTTP status and a one-line reason. */
    static final class Refusal extends RuntimeException {
        final int status;

        Refusal(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    // ---- handlers ----

    private void enroll(Context ctx) {
        byte[] body = body(ctx);
        JsonNode j = parse(body, Set.of("name", "recipient"));
        String name;
        try {
            name = OwnerNames.canonical(text(j, "name", true));
        } catch (KeywayException e) {
            throw new Refusal(400, "name: " + e.getMessage());
        }
        Recipient r;
        try {
            r = Recipient.parse(text(j, "recipient", true));
        } catch (KeywayException e) {
            throw new Refusal(400, "recipient: " + e.getMessage());
        }
        // Proof of possession: the enrolment is signed by the key being enrolled.
        authenticate(ctx, body, r, false);
        // A new name must pass the UTS #39 restriction checks, unless it looks like an enrolled one: then the
        // store refuses it as a conflict, naming the name it looks like (the clearer reason).
        String problem = OwnerNames.restrictionProblem(name);
        if (problem != null && !store.ownerExists(name) && !store.looksLikeEnrolled(name)) {
            throw new Refusal(400, "name: " + problem + "; choose a name in one writing system");
        }
        Client c;
        try {
            c = store.enroll(name, r, autoApprove, now());
        } catch (AuthorityStore.Conflict | AuthorityStore.Forbidden e) {
            // Anyone can make a key and try a look-alike name: counted per source and minute, not a row each.
            failures.record(ctx.ip(), RequestSigning.Kind.REFUSED_ENROLLMENT);
            throw new Refusal(e instanceof AuthorityStore.Conflict ? 409 : 403, e.getMessage());
        }
        ctx.status(c.approved() ? 201 : 202).json(clientJson(c));
    }

    private void approve(Context ctx) {
        requireAdmin(ctx, "approve");
        JsonNode j = parse(body(ctx), Set.of("client_id", "roles"));
        String id = text(j, "client_id", true);
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
        Client approved = store.approve(id, roles, "admin", now());
        forget(id); // new roles take effect at once on this node
        ctx.json(clientJson(approved));
    }

    /** An admin revokes any key (a lost or stolen one). */
    private void adminRevoke(Context ctx) {
        requireAdmin(ctx, "revoke");
        JsonNode j = parse(body(ctx), Set.of("client_id"));
        Client revoked = store.revoke(text(j, "client_id", true), "admin", now());
        forget(revoked.id()); // refused at once on this node; other nodes within APPROVED_CACHE_MILLIS
        ctx.json(clientJson(revoked));
    }

    /** A client revokes its own key (it signs the request with the key it gives up). */
    private void selfRevoke(Context ctx) {
        byte[] body = body(ctx);
        Client c = authenticateClient(ctx, body, "revoke", false, true);
        parse(body, Set.of());
        Client revoked = store.revoke(c.id(), c.id(), now());
        forget(revoked.id());
        ctx.json(clientJson(revoked));
    }

    private void clients(Context ctx) {
        requireAdmin(ctx, "list-clients");
        List<Object> out = new ArrayList<>();
        for (Client c : store.clients()) {
            out.add(clientJson(c));
        }
        ctx.json(Map.of("clients", out));
    }

    /** The signed caller's own record: its owner name (what escrow blobs are bound to), status and roles. */
    private void self(Context ctx) {
        Client c = authenticateClient(ctx, new byte[0], "whoami", false, true);
        ctx.json(clientJson(c));
    }

    private void escrow(Context ctx) {
        byte[] body = body(ctx);
        RequestSigning.Signed signed = signedHeaders(ctx);
        Client c = authenticateClient(ctx, body, "escrow", true, false);
        JsonNode j = parse(body, Set.of("blob", "description", "serial", "message_id", "owner"));
        String owner = ownerField(ctx, j, c, "escrow");
        byte[] blobBytes = base64(text(j, "blob", true), "blob");
        KeyBlob blob;
        try {
            blob = KeyBlob.decode(blobBytes);
        } catch (KeywayException e) {
            throw refuse(ctx, c, "escrow", "-", 400, "blob: " + e.getMessage());
        }
        if (!MessageDigest.isEqual(blob.recipientId(), identity.recipient().id())) {
            throw refuse(ctx, c, "escrow", "-", 400, "the blob is not wrapped for this authority (it is for " + blob.recipientIdHex()
                    + ", the authority is " + identity.recipient().idHex() + ")");
        }
        String description = text(j, "description", true);
        if (description.isEmpty() || description.length() > 1000) {
            throw new Refusal(400, "description must be 1 to 1000 characters");
        }
        Long serial = optionalLong(j, "serial");
        String messageId = text(j, "message_id", false);
        if (messageId != null && !messageId.matches("[0-9a-f]{32}")) {
            throw new Refusal(400, "message_id must be 32 lowercase hex digits");
        }
        // The binding: the blob must open for this owner (and message), or nothing is stored.
        checkBinding(ctx, c, blob, EscrowBinding.of(owner, messageId), "escrow");
        AuthorityStore.Escrowed e;
        try {
            e = store.escrow(c, owner, blobBytes, description, serial, messageId,
                    new AuthorityStore.Nonce(c.id(), signed.nonce(), RequestSigning.nonceExpiry(signed)), now());
        } catch (AuthorityStore.ReplayedRequest replay) {
            failures.record(ctx.ip(), RequestSigning.Kind.REPLAYED);
            throw new Refusal(401, replay.getMessage());
        }
        ctx.status(e.created() ? 201 : 200).json(receipt(e.record()));
    }

    /**
     * Refuses (403, audited) a blob that does not open for {@code binding}: one bound to another owner or
     * message (a copied escrow stanza), or a plain blob without a binding (which says how to make one).
     */
    private void checkBinding(Context ctx, Client c, KeyBlob blob, EscrowBinding binding, String action) {
        try (SessionKey ignored = KeyWrap.unwrapEscrow(blob, identity, binding)) {
            return;
        } catch (KeywayException bound) {
            boolean plain;
            try (SessionKey ignored = KeyWrap.unwrap(blob, identity)) {
                plain = true;
            } catch (KeywayException e) {
                plain = false;
            }
            String who = "owner '" + binding.owner() + "'" + (binding.messageId() == null ? "" : " and message "
                    + Hex.encode(binding.messageId()));
            throw refuse(ctx, c, action, binding.owner(), 403, plain
                    ? "the blob is not bound to an owner (made by 'keyway key wrap'?); nothing stored: escrow a session key with "
                    + "'keyway escrow --key-file KEY' or a file's escrow stanza with 'keyway escrow --file FILE', which bind it"
                    : "the blob is not bound to " + who + " (a copied escrow stanza, or bound to another owner or message); "
                    + "nothing stored");
        }
    }

    /** The owner a request is about: the client's own name, or (recovery officers only) the one it names. */
    private String ownerField(Context ctx, JsonNode j, Client c, String action) {
        String raw = text(j, "owner", false);
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

    private void recover(Context ctx) {
        byte[] body = body(ctx);
        Client c = authenticateClient(ctx, body, "recover");
        JsonNode j = parse(body, Set.of("owner", "serial", "message_id", "escrow_id", "request_id"));
        String requestId = text(j, "request_id", false);
        if (requestId != null) {
            checkRequestId(requestId);
            if (j.size() != 1) {
                throw new Refusal(400, "request_id goes alone");
            }
            collect(ctx, c, requestId);
            return;
        }
        String owner = ownerField(ctx, j, c, "recover");
        Long serial = optionalLong(j, "serial");
        String messageId = text(j, "message_id", false);
        String escrowId = text(j, "escrow_id", false);
        if ((serial == null ? 0 : 1) + (messageId == null ? 0 : 1) + (escrowId == null ? 0 : 1) != 1) {
            throw new Refusal(400, "give exactly one of serial, message_id, escrow_id");
        }
        List<EscrowRecord> found = escrowId != null
                ? store.escrow(escrowId).stream().toList()
                : store.find(new AuthorityStore.Query(owner, null, serial, messageId, null, null, 2));
        if (found.isEmpty() || !found.get(0).owner().equals(owner)) {
            throw refuse(ctx, c, "recover", owner, 404, "no escrowed key matches for owner '" + owner + "'");
        }
        if (found.size() > 1) {
            throw refuse(ctx, c, "recover", owner, 409, "several escrowed keys match; ask by escrow_id");
        }
        EscrowRecord rec = found.get(0);
        if (twoPerson) {
            AuthorityStore.RecoveryRequest req = store.requestRecovery(rec.id(), c, now());
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("request_id", req.id());
            out.put("escrow_id", rec.id());
            out.put("status", "pending");
            out.put("message", "a recovery officer who is another person must approve this request; then ask again with request_id");
            ctx.status(202).json(out);
            return;
        }
        release(ctx, c, rec);
    }

    /** The two-person rule's second step: an officer who is another person than the requester approves. */
    private void approveRecovery(Context ctx) {
        byte[] body = body(ctx);
        Client officer = authenticateClient(ctx, body, "recover-approve");
        JsonNode j = parse(body, Set.of("request_id"));
        String id = text(j, "request_id", true);
        checkRequestId(id);
        if (!officer.officer()) {
            throw refuse(ctx, officer, "recover-approve", id, 403, "only a recovery officer may approve a recovery");
        }
        AuthorityStore.RecoveryRequest req;
        try {
            req = store.approveRecovery(id, officer, approvalLifetime, now());
        } catch (AuthorityStore.Forbidden e) {
            throw refuse(ctx, officer, "recover-approve", id, 403, e.getMessage());
        } catch (AuthorityStore.Conflict e) {
            throw refuse(ctx, officer, "recover-approve", id, 409, e.getMessage());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("request_id", id);
        out.put("status", "approved");
        out.put("expires_at", req.expiresAt().toString());
        ctx.json(out);
    }

    /** A request id is what requestRecovery made (32 hex digits); anything else never reaches an audit row or an error. */
    private static void checkRequestId(String id) {
        if (!id.matches("[0-9a-f]{32}")) {
            throw new Refusal(400, "request_id must be 32 lowercase hex digits (the id a recovery request answered with)");
        }
    }

    /** The requester collects an approved request; again, if delivery failed, until the approval expires. */
    private void collect(Context ctx, Client c, String requestId) {
        // The output is checked first: a stored blob the release check refuses (a re-labelled row) must not leave
        // the request marked collected, nor a "recover-collected ok" row for a key that was never released. The
        // store decides who may collect, in its transaction; this read only spares others the unwrapping.
        Optional<AuthorityStore.RecoveryRequest> seen = store.recoveryRequest(requestId);
        EscrowRecord rec = null;
        KeyBlob rewrapped = null;
        if (seen.isPresent() && seen.get().requester().equals(c.id())) {
            rec = store.escrow(seen.get().escrowId()).orElseThrow(() -> new Refusal(404, "the escrowed key is gone"));
            rewrapped = rewrapChecked(ctx, c, rec);
        }
        AuthorityStore.RecoveryRequest req;
        try {
            req = store.collectRecovery(requestId, c, now());
        } catch (AuthorityStore.Forbidden e) {
            throw refuse(ctx, c, "recover", requestId, 403, e.getMessage());
        } catch (AuthorityStore.Conflict e) {
            throw refuse(ctx, c, "recover", requestId, 409, e.getMessage());
        }
        if (rec == null || !rec.id().equals(req.escrowId())) {
            rec = store.escrow(req.escrowId()).orElseThrow(() -> new Refusal(404, "the escrowed key is gone"));
            rewrapped = rewrapChecked(ctx, c, rec);
        }
        respond(ctx, c, rec, rewrapped);
    }

    private void release(Context ctx, Client c, EscrowRecord rec) {
        respond(ctx, c, rec, rewrapChecked(ctx, c, rec));
    }

    /**
     * Unwraps with the authority key, checking the blob is bound to the owner and message its row names
     * (a second line of defence against a re-labelled row), and wraps again for the requester; no plaintext
     * key leaves this method. Refuses (409, audited) a blob that does not open so.
     */
    private KeyBlob rewrapChecked(Context ctx, Client c, EscrowRecord rec) {
        Recipient requester = recipientOf(c);
        KeyBlob stored = KeyBlob.decode(rec.blob());
        EscrowBinding binding = EscrowBinding.of(rec.owner(), rec.messageId());
        try (SessionKey key = KeyWrap.unwrapEscrow(stored, identity, binding)) {
            return KeyWrap.wrap(key, requester);
        } catch (KeywayException e) {
            boolean plain;
            try (SessionKey ignored = KeyWrap.unwrap(stored, identity)) {
                plain = true;
            } catch (KeywayException e2) {
                plain = false;
            }
            throw refuse(ctx, c, "recover", rec.id(), 409, plain
                    ? "escrow " + rec.id() + " was stored before owner binding and is not released: the authority's admin binds "
                    + "stored escrows to their owners with 'keyway authority bind-legacy'"
                    : "escrow " + rec.id() + " is not bound to the owner and message its record names (the database was "
                    + "altered?); nothing released");
        }
    }

    /** Audits the release and answers with the blob re-wrapped for the requester. */
    private void respond(Context ctx, Client c, EscrowRecord rec, KeyBlob rewrapped) {
        store.audit(now(), c.id(), "release", rec.id(), "ok", "{\"owner\":" + AuthorityStore.json(rec.owner()) + ",\"to\":\""
                + c.id() + "\"}");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("escrow_id", rec.id());
        out.put("owner", rec.owner());
        out.put("serial", rec.serial());
        out.put("message_id", rec.messageId());
        out.put("description", rec.description());
        out.put("blob", Base64.getEncoder().encodeToString(rewrapped.encode()));
        ctx.json(out);
    }

    private void list(Context ctx) {
        Client c = authenticateClient(ctx, new byte[0], "list");
        // An owner name like everywhere else: canonical, so 'ａｌｉｃｅ' lists alice's escrows as recover finds them,
        // and a control character or an overlong name is refused before it can reach a refusal's audit row.
        String owner;
        try {
            owner = ctx.queryParam("owner") == null ? c.name() : OwnerName.normalize(ctx.queryParam("owner"));
        } catch (KeywayException e) {
            throw new Refusal(400, "query parameter 'owner': " + e.getMessage());
        }
        if (!owner.equals(c.name()) && !c.officer()) {
            throw refuse(ctx, c, "list", owner, 403, "client " + c.id() + " may not list keys of owner '" + owner + "'");
        }
        Long serial = ctx.queryParam("serial") == null ? null : parseLong(ctx.queryParam("serial"), "serial");
        Instant from = ctx.queryParam("from") == null ? null : parseInstant(ctx.queryParam("from"), "from");
        Instant to = ctx.queryParam("to") == null ? null : parseInstant(ctx.queryParam("to"), "to");
        int limit = ctx.queryParam("limit") == null ? 1000 : (int) Math.min(10_000, parseLong(ctx.queryParam("limit"), "limit"));
        List<Object> out = new ArrayList<>();
        for (EscrowRecord r : store.find(new AuthorityStore.Query(owner, ctx.queryParam("description"), serial,
                ctx.queryParam("message_id"), from, to, limit))) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("escrow_id", r.id());
            m.put("owner", r.owner());
            m.put("serial", r.serial());
            m.put("message_id", r.messageId());
            m.put("description", r.description());
            m.put("created_at", r.createdAt().toString());
            out.add(m);
        }
        ctx.json(Map.of("escrows", out));
    }

    /**
     * Parsed client recipients, by client id. Parsing validates the key-exchange public key (for x25519
     * and xwing, an elliptic-curve check), which profiling showed as the largest cost of a request; the
     * id is a hash of the recipient string, so an entry can never go stale.
     */
    private final Map<String, Recipient> recipients = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * One timer per method, route and status, built once: building (a registry lookup and a validated
     * config) on every request cost more than the rest of the metrics path.
     */
    private final Map<String, io.micrometer.core.instrument.Timer> timers = new java.util.concurrent.ConcurrentHashMap<>();

    private io.micrometer.core.instrument.Timer requestTimer(String method, String route, int status) {
        return timers.computeIfAbsent(method + " " + route + " " + status, k -> io.micrometer.core.instrument.Timer
                .builder("keyway_authority_requests")
                .description("HTTP requests by route and status")
                .tag("method", method).tag("route", route).tag("status", Integer.toString(status))
                .publishPercentiles(0.5, 0.99)
                .register(metrics));
    }

    /**
     * Approved clients, by id, for {@link #APPROVED_CACHE_MILLIS}: every signed request looks its client
     * up, and that read was a database round trip per request. Only approved clients are kept, and only
     * briefly, so a node of a cluster sees another node's changes to a client (new roles, a revocation)
     * within that time; the node that made the change drops its entry at once.
     */
    private final Map<String, CachedClient> approvedClients = new java.util.concurrent.ConcurrentHashMap<>();
    public static final long APPROVED_CACHE_MILLIS = 5_000;

    private record CachedClient(Client client, long until) {
    }

    /**
     * Bumped by every change to a client made on this node: a lookup that read the database before the change
     * must not put its (stale) answer in the cache after the change dropped it.
     */
    private final java.util.concurrent.atomic.AtomicLong clientChanges = new java.util.concurrent.atomic.AtomicLong();

    private void forget(String id) {
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
            approvedClients.put(id, new CachedClient(c.get(), nowNanos + APPROVED_CACHE_MILLIS * 1_000_000));
            if (clientChanges.get() != changes) {
                approvedClients.remove(id); // a change raced this read: the next request reads again
            }
        } else {
            approvedClients.remove(id);
        }
        return c;
    }

    private Recipient recipientOf(Client c) {
        if (recipients.size() > 100_000) {
            recipients.clear();
        }
        return recipients.computeIfAbsent(c.id(), id -> Recipient.parse(c.recipient()));
    }

    // ---- authentication ----

    private Client authenticateClient(Context ctx, byte[] body, String action) {
        return authenticateClient(ctx, body, action, false, false);
    }

    /**
     * The enrolled, approved, unrevoked client that signed this request (401 otherwise, counted per source
     * and minute; 403 for a key not approved yet, audited).
     *
     * @param deferNonce   the caller records the nonce itself, in the same transaction as its change
     * @param allowPending a key not approved yet may make this request (whoami, revoking itself)
     */
    private Client authenticateClient(Context ctx, byte[] body, String action, boolean deferNonce, boolean allowPending) {
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
    private void authenticate(Context ctx, byte[] body, Recipient signer, boolean deferNonce) {
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

    private static RequestSigning.Signed signedHeaders(Context ctx) {
        return new RequestSigning.Signed(ctx.header(RequestSigning.CLIENT), ctx.header(RequestSigning.TIMESTAMP),
                ctx.header(RequestSigning.NONCE), ctx.header(RequestSigning.SIGNATURE));
    }

    /** A 401, counted per source and minute in the audit log (a flood of bad requests costs one row a minute). */
    private Refusal unauthenticated(Context ctx, RequestSigning.Kind kind, String message) {
        failures.record(ctx.ip(), kind);
        return new Refusal(401, message);
    }

    private void requireAdmin(Context ctx, String action) {
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
    private Refusal refuse(Context ctx, Client c, String action, String subject, int status, String reason) {
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


    // ---- JSON ----

    private static byte[] body(Context ctx) {
        if (ctx.contentLength() > 2L * MAX_BODY) {
            // Declared too large: read and drop it first when that is bounded, so the client, still sending, gets
            // this answer and not a reset ("no response": seen in CI for a 3 MiB body); beyond the bound it may.
            if (ctx.contentLength() <= DRAIN_LIMIT) {
                drain(ctx);
            }
            throw new Refusal(400, "the request body is larger than " + MAX_BODY + " bytes");
        }
        // Read at most one byte past the limit ourselves: a chunked body has no Content-Length, and Javalin's own
        // limit answers it 413 text/plain, not the 400 JSON refusal every other oversized body gets.
        byte[] b;
        try {
            b = ctx.bodyInputStream().readNBytes(MAX_BODY + 1);
        } catch (java.io.IOException e) {
            throw new Refusal(400, "the request body could not be read");
        }
        if (b.length > MAX_BODY) {
            // The client is still sending: read and drop the rest (up to a bound), so it gets this answer rather
            // than a reset, which an HTTP client reports as "no response" (a race seen in AuthorityAttackTest).
            drain(ctx);
            throw new Refusal(400, "the request body is larger than " + MAX_BODY + " bytes");
        }
        return b;
    }

    /** Reads and drops what is left of the request body, at most {@link #DRAIN_LIMIT} bytes. */
    private static void drain(Context ctx) {
        try {
            long left = DRAIN_LIMIT;
            byte[] sink = new byte[8192];
            int n;
            java.io.InputStream in = ctx.bodyInputStream();
            while (left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) > 0) {
                left -= n;
            }
        } catch (java.io.IOException | RuntimeException ignored) {
            // the client gave up, or the server refuses to read more: nothing more to do
        }
    }

    /** How much of an oversized chunked body is read and dropped before the 400 goes out. */
    private static final long DRAIN_LIMIT = 8L * MAX_BODY;

    /**
     * Parses a JSON object, refusing unknown fields (a typo must not pass silently), a field given twice
     * (which one counts would depend on the parser), and a lone surrogate (text that is not Unicode, which
     * the database would store as '?').
     */
    private static JsonNode parse(byte[] body, Set<String> allowed) {
        JsonNode j;
        try {
            j = JSON.readTree(body);
        } catch (com.fasterxml.jackson.core.JsonParseException e) {
            String m = String.valueOf(e.getOriginalMessage());
            throw new Refusal(400, m.startsWith("Duplicate field") ? "the body names a field twice ("
                    + Printable.escape(m.length() > 80 ? m.substring(0, 80) : m) + ")" : "the body is not valid JSON");
        } catch (java.io.IOException e) {
            throw new Refusal(400, "the body is not valid JSON");
        }
        if (j == null || !j.isObject()) {
            throw new Refusal(400, "the body must be a JSON object");
        }
        for (Iterator<String> it = j.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw new Refusal(400, "unknown field '" + Printable.escape(f.length() > 40 ? f.substring(0, 40) + "..." : f)
                        + "' (allowed: " + String.join(", ", new java.util.TreeSet<>(allowed)) + ")");
            }
        }
        checkUnicode(j);
        return j;
    }

    private static void checkUnicode(JsonNode node) {
        if (node.isTextual() && hasLoneSurrogate(node.asText())) {
            throw new Refusal(400, "the body holds a lone surrogate (\\uD800 to \\uDFFF not in a pair): not valid Unicode text");
        }
        for (JsonNode child : node) {
            checkUnicode(child);
        }
    }

    static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    private static String text(JsonNode j, String field, boolean required) {
        JsonNode v = j.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw new Refusal(400, "missing field '" + field + "'");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw new Refusal(400, "field '" + field + "' must be a string");
        }
        return v.asText();
    }

    private static Long optionalLong(JsonNode j, String field) {
        JsonNode v = j.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0) {
            throw new Refusal(400, "field '" + field + "' must be a non-negative integer");
        }
        return v.asLong();
    }

    private static byte[] base64(String s, String field) {
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new Refusal(400, "field '" + field + "' is not base64");
        }
    }

    private static long parseLong(String s, String name) {
        try {
            long v = Long.parseLong(s);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new Refusal(400, "query parameter '" + name + "' must be a non-negative integer");
        }
    }

    private static Instant parseInstant(String s, String name) {
        try {
            return Instant.parse(s);
        } catch (java.time.format.DateTimeParseException e) {
            throw new Refusal(400, "query parameter '" + name + "' must be an ISO-8601 instant, e.g. 2026-11-21T00:00:00Z");
        }
    }

    private static Map<String, Object> clientJson(Client c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("client_id", c.id());
        m.put("name", c.name());
        m.put("status", c.status().name().toLowerCase());
        m.put("roles", new ArrayList<>(c.roles()));
        m.put("enrolled_at", c.enrolledAt().toString());
        if (c.revokedAt() != null) {
            m.put("revoked_at", c.revokedAt().toString());
        }
        return m;
    }

    /** The receipt: what was stored, signed by the authority's Ed25519 key. */
    private Map<String, Object> receipt(EscrowRecord r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("escrow_id", r.id());
        n.put("owner", r.owner());
        if (r.serial() == null) {
            n.putNull("serial");
        } else {
            n.put("serial", r.serial());
        }
        n.put("created_at", r.createdAt().toString());
        n.put("blob_sha256", AuthorityStore.sha256(r.blob()));
        String canonical = "keyway-authority-receipt-v1\n" + r.id() + "\n" + r.owner() + "\n" + r.serial() + "\n"
                + r.createdAt().toEpochMilli() + "\n" + AuthorityStore.sha256(r.blob());
        Map<String, Object> m = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> m.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class)));
        m.put("signature", Base64.getEncoder().encodeToString(identity.sign(canonical.getBytes(StandardCharsets.UTF_8))));
        return m;
    }

    private Instant now() {
        return Instant.ofEpochMilli(clock.millis());
    }

    /** Stops gracefully: no new connections, requests in flight finish (up to 30 s), then the server stops. */
    @Override
    public void close() {
        if (app != null) {
            app.stop();
            app = null;
        }
        failures.close();
    }

    /** Requests being handled right now. */
    int inFlight() {
        return inFlight.get();
    }
}
