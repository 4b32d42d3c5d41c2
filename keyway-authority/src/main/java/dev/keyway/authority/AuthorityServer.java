package dev.keyway.authority;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
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
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final AuthorityHome home;
    private final AuthorityStore store;
    private final Identity identity;
    private final boolean autoApprove;
    private volatile boolean twoPerson;
    private final Clock clock;
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
    }

    /** Requires a second recovery officer's approval before any key is released (the two-person rule). */
    public AuthorityServer twoPersonRule(boolean on) {
        this.twoPerson = on;
        return this;
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
            config.routes.post("/v1/admin/approve", this::approve);
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
            config.routes.exception(KeywayException.class, (e, ctx) -> {
                int status = e.code() == ErrorCode.PEER || e.code() == ErrorCode.IO || e.code() == ErrorCode.INTERNAL ? 503 : 400;
                ctx.status(status).json(Map.of("error", e.getMessage()));
            });
        });
        app.start();
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
        String name = text(j, "name", true);
        if (name.isBlank() || name.length() > 128 || !name.matches("[\\p{L}\\p{N} ._@-]+")) {
            throw new Refusal(400, "name must be 1 to 128 letters, digits, spaces or . _ @ -");
        }
        Recipient r;
        try {
            r = Recipient.parse(text(j, "recipient", true));
        } catch (KeywayException e) {
            throw new Refusal(400, "recipient: " + e.getMessage());
        }
        // Proof of possession: the enrolment is signed by the key being enrolled.
        authenticate(ctx, body, r);
        Client c = store.enroll(name, r, autoApprove, now());
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
                    throw new Refusal(400, "unknown role " + role + " (known: " + Client.RECOVERY_OFFICER + ")");
                }
                roles.add(role.asText());
            }
        }
        if (store.client(id).isEmpty()) {
            throw new Refusal(404, "no client " + id + " is enrolled");
        }
        Client approved = store.approve(id, roles, "admin", now());
        approvedClients.remove(id); // new roles take effect at once on this node
        ctx.json(clientJson(approved));
    }

    private void clients(Context ctx) {
        requireAdmin(ctx, "list-clients");
        List<Object> out = new ArrayList<>();
        for (Client c : store.clients()) {
            out.add(clientJson(c));
        }
        ctx.json(Map.of("clients", out));
    }

    private void escrow(Context ctx) {
        byte[] body = body(ctx);
        Client c = authenticateClient(ctx, body, "escrow", true);
        JsonNode j = parse(body, Set.of("blob", "description", "serial", "message_id"));
        byte[] blobBytes = base64(text(j, "blob", true), "blob");
        KeyBlob blob;
        try {
            blob = KeyBlob.decode(blobBytes);
        } catch (KeywayException e) {
            throw refuse(c, "escrow", "-", 400, "blob: " + e.getMessage());
        }
        if (!MessageDigest.isEqual(blob.recipientId(), identity.recipient().id())) {
            throw refuse(c, "escrow", "-", 400, "the blob is not wrapped for this authority (it is for " + blob.recipientIdHex()
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
        AuthorityStore.Escrowed e;
        try {
            e = store.escrow(c, blobBytes, description, serial, messageId,
                    new AuthorityStore.Nonce(c.id(), ctx.header(RequestSigning.NONCE), RequestSigning.WINDOW), now());
        } catch (AuthorityStore.ReplayedRequest replay) {
            store.audit(now(), c.id(), "authenticate", ctx.path(), "refused", "{\"reason\":" + AuthorityStore.json(replay.getMessage()) + "}");
            throw new Refusal(401, replay.getMessage());
        }
        ctx.status(e.created() ? 201 : 200).json(receipt(e.record()));
    }

    private void recover(Context ctx) {
        byte[] body = body(ctx);
        Client c = authenticateClient(ctx, body, "recover");
        JsonNode j = parse(body, Set.of("owner", "serial", "message_id", "escrow_id", "request_id"));
        String requestId = text(j, "request_id", false);
        if (requestId != null) {
            releaseApproved(ctx, c, requestId);
            return;
        }
        String owner = Optional.ofNullable(text(j, "owner", false)).orElse(c.name());
        if (!owner.equals(c.name()) && !c.officer()) {
            throw refuse(c, "recover", owner, 403, "client " + c.id() + " may not recover keys of owner '" + owner + "'");
        }
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
            throw refuse(c, "recover", owner, 404, "no escrowed key matches for owner '" + owner + "'");
        }
        if (found.size() > 1) {
            throw refuse(c, "recover", owner, 409, "several escrowed keys match; ask by escrow_id");
        }
        EscrowRecord rec = found.get(0);
        if (twoPerson) {
            AuthorityStore.RecoveryRequest req = store.requestRecovery(rec.id(), c.id(), now());
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("request_id", req.id());
            out.put("escrow_id", rec.id());
            out.put("status", "pending");
            out.put("message", "a second recovery officer must approve this request; then ask again with request_id");
            ctx.status(202).json(out);
            return;
        }
        release(ctx, c, rec);
    }

    /** The two-person rule's second step: an officer other than the requester approves. */
    private void approveRecovery(Context ctx) {
        byte[] body = body(ctx);
        Client officer = authenticateClient(ctx, body, "recover-approve");
        JsonNode j = parse(body, Set.of("request_id"));
        String id = text(j, "request_id", true);
        if (!officer.officer()) {
            throw refuse(officer, "recover-approve", id, 403, "only a recovery officer may approve a recovery");
        }
        AuthorityStore.RecoveryRequest req = store.recoveryRequest(id)
                .orElseThrow(() -> new Refusal(404, "no recovery request " + id));
        if (req.requester().equals(officer.id())) {
            throw refuse(officer, "recover-approve", id, 403, "the requester cannot approve their own request (two-person rule)");
        }
        if (!store.advanceRecovery(id, "pending", "approved", officer.id(), now())) {
            throw new Refusal(409, "recovery request " + id + " is not pending (it is " + req.status() + ")");
        }
        ctx.json(Map.of("request_id", id, "status", "approved"));
    }

    private void releaseApproved(Context ctx, Client c, String requestId) {
        AuthorityStore.RecoveryRequest req = store.recoveryRequest(requestId)
                .orElseThrow(() -> new Refusal(404, "no recovery request " + requestId));
        if (!req.requester().equals(c.id())) {
            throw refuse(c, "recover", requestId, 403, "recovery request " + requestId + " belongs to another client");
        }
        if (!req.status().equals("approved")) {
            throw new Refusal(409, "recovery request " + requestId + " is " + req.status()
                    + (req.status().equals("pending") ? ": a second recovery officer must approve it first" : ""));
        }
        EscrowRecord rec = store.escrow(req.escrowId()).orElseThrow(() -> new Refusal(404, "the escrowed key is gone"));
        if (!store.advanceRecovery(requestId, "approved", "released", c.id(), now())) {
            throw new Refusal(409, "recovery request " + requestId + " was already released");
        }
        release(ctx, c, rec);
    }

    /** Unwraps with the authority key and wraps again for the requester; no plaintext key leaves this method. */
    private void release(Context ctx, Client c, EscrowRecord rec) {
        String owner = rec.owner();
        Recipient requester = recipientOf(c);
        KeyBlob rewrapped;
        try (SessionKey key = KeyWrap.unwrap(KeyBlob.decode(rec.blob()), identity)) {
            rewrapped = KeyWrap.wrap(key, requester);
        }
        store.audit(now(), c.id(), "release", rec.id(), "ok", "{\"owner\":" + AuthorityStore.json(owner) + ",\"to\":\""
                + requester.idHex() + "\"}");
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
        String owner = Optional.ofNullable(ctx.queryParam("owner")).orElse(c.name());
        if (!owner.equals(c.name()) && !c.officer()) {
            throw refuse(c, "list", owner, 403, "client " + c.id() + " may not list keys of owner '" + owner + "'");
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
     * up, and that read was a database round trip per request. Only approved clients are kept (approval
     * is the one change that matters and only goes one way), and only briefly, so a node of a cluster
     * sees another node's changes to a client within that time.
     */
    private final Map<String, CachedClient> approvedClients = new java.util.concurrent.ConcurrentHashMap<>();
    static final long APPROVED_CACHE_MILLIS = 5_000;

    private record CachedClient(Client client, long until) {
    }

    private Optional<Client> lookUpClient(String id) {
        long nowNanos = System.nanoTime();
        CachedClient cached = approvedClients.get(id);
        if (cached != null && nowNanos - cached.until() < 0) {
            return Optional.of(cached.client());
        }
        Optional<Client> c = store.client(id);
        if (c.isPresent() && c.get().approved()) {
            if (approvedClients.size() > 100_000) {
                approvedClients.clear();
            }
            approvedClients.put(id, new CachedClient(c.get(), nowNanos + APPROVED_CACHE_MILLIS * 1_000_000));
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
        return authenticateClient(ctx, body, action, false);
    }

    /** @param deferNonce the caller records the nonce itself, in the same transaction as its change */
    private Client authenticateClient(Context ctx, byte[] body, String action, boolean deferNonce) {
        String id = ctx.header(RequestSigning.CLIENT);
        if (id == null) {
            throw new Refusal(401, "the request is not signed (headers " + RequestSigning.CLIENT + ", " + RequestSigning.TIMESTAMP
                    + ", " + RequestSigning.NONCE + ", " + RequestSigning.SIGNATURE + ")");
        }
        Optional<Client> client = id.matches("[0-9a-f]{16}") ? lookUpClient(id) : Optional.empty();
        if (client.isEmpty()) {
            store.audit(now(), id.length() > 16 ? id.substring(0, 16) : id, action, "-", "refused", "{\"reason\":\"unknown client\"}");
            throw new Refusal(401, "client " + id + " is not enrolled");
        }
        Client c = client.get();
        authenticate(ctx, body, recipientOf(c), deferNonce);
        if (!c.approved()) {
            throw refuse(c, action, "-", 403, "client " + c.id() + " is not approved yet (ask the authority's admin)");
        }
        return c;
    }

    /** Checks the signature by {@code signer}, the time window and the nonce; 401 otherwise. */
    private void authenticate(Context ctx, byte[] body, Recipient signer) {
        authenticate(ctx, body, signer, false);
    }

    private void authenticate(Context ctx, byte[] body, Recipient signer, boolean deferNonce) {
        RequestSigning.Signed s = new RequestSigning.Signed(ctx.header(RequestSigning.CLIENT), ctx.header(RequestSigning.TIMESTAMP),
                ctx.header(RequestSigning.NONCE), ctx.header(RequestSigning.SIGNATURE));
        String pathAndQuery = ctx.path() + (ctx.queryString() == null ? "" : "?" + ctx.queryString());
        Instant now = now();
        String problem = s.clientId() != null && !s.clientId().equals(signer.idHex())
                ? "the " + RequestSigning.CLIENT + " header does not name the signing key"
                : RequestSigning.check(s, signer, ctx.method().name(), pathAndQuery, body, now);
        if (problem == null && !deferNonce && !store.useNonce(signer.idHex(), s.nonce(), now, RequestSigning.WINDOW)) {
            problem = "the request nonce was already used (a replayed request)";
        }
        if (problem != null) {
            store.audit(now, signer.idHex(), "authenticate", ctx.path(), "refused", "{\"reason\":" + AuthorityStore.json(problem) + "}");
            throw new Refusal(401, problem);
        }
    }

    private void requireAdmin(Context ctx, String action) {
        String auth = ctx.header("Authorization");
        if (auth == null || !auth.startsWith("Bearer ") || !home.isAdminToken(auth.substring(7).strip())) {
            store.audit(now(), "admin?", action, "-", "refused", "{\"reason\":\"bad admin token\"}");
            throw new Refusal(401, "admin requests need 'Authorization: Bearer <admin token>'");
        }
    }

    private Refusal refuse(Client c, String action, String subject, int status, String reason) {
        store.audit(now(), c.id(), action, subject, "refused", "{\"status\":" + status + ",\"reason\":" + AuthorityStore.json(reason) + "}");
        return new Refusal(status, reason);
    }

    // ---- JSON ----

    private static byte[] body(Context ctx) {
        if (ctx.contentLength() > 2L * MAX_BODY) {
            throw new Refusal(400, "the request body is larger than " + MAX_BODY + " bytes");
        }
        byte[] b = ctx.bodyAsBytes();
        if (b.length > MAX_BODY) {
            throw new Refusal(400, "the request body is larger than " + MAX_BODY + " bytes");
        }
        return b;
    }

    /** Parses a JSON object, refusing unknown fields (a typo must not pass silently). */
    private static JsonNode parse(byte[] body, Set<String> allowed) {
        JsonNode j;
        try {
            j = JSON.readTree(body);
        } catch (java.io.IOException e) {
            throw new Refusal(400, "the body is not valid JSON");
        }
        if (j == null || !j.isObject()) {
            throw new Refusal(400, "the body must be a JSON object");
        }
        for (Iterator<String> it = j.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw new Refusal(400, "unknown field '" + f + "' (allowed: " + String.join(", ", allowed) + ")");
            }
        }
        return j;
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
    }

    /** Requests being handled right now. */
    int inFlight() {
        return inFlight.get();
    }
}
