package dev.keyway.authority;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import io.javalin.Javalin;
import io.javalin.router.Endpoint;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The backup authority's HTTPS JSON API (docs/AUTHORITY.md). Every request but {@code /healthz} is
 * authenticated: client requests by {@link RequestSigning}, admin requests by the admin token. Refusals
 * answer with a JSON error and a status (400 malformed, 401 unauthenticated, 403 forbidden, 404 not
 * found, 409 conflict) and are audited; nothing is stored for a refused request.
 *
 * <p>This class sets up HTTPS, metrics and the routes; the work is done by its parts: {@link RequestBodies}
 * (reading a request within its limits), {@link RequestAuth} (who is asking, and may they),
 * {@link ClientRoutes}, {@link EscrowRoutes} and {@link RecoveryRoutes} (with the two-person rule).
 */
public final class AuthorityServer implements AutoCloseable {
    /** Request bodies larger than this are refused (400) before they are parsed. */
    public static final int MAX_BODY = 1024 * 1024;
    /** How long an approved recovery request may be collected (again, if a delivery failed). */
    public static final Duration DEFAULT_APPROVAL_LIFETIME = Duration.ofHours(24);
    /** How long an approved client's record is cached ({@link RequestAuth}): another node's change shows within it. */
    public static final long APPROVED_CACHE_MILLIS = 5_000;

    private final AuthorityHome home;
    private final AuthorityStore store;
    private final Identity identity;
    private volatile boolean twoPerson;
    private final FailureLog failures;
    private final RequestAuth auth;
    private final ClientRoutes clients;
    private final EscrowRoutes escrows;
    private final RecoveryRoutes recoveries;
    private Javalin app;
    /** Requests being handled (a gauge in /metrics). */
    private final AtomicInteger inFlight = new AtomicInteger();
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /**
     * One timer per method, route and status, built once: building (a registry lookup and a validated
     * config) on every request cost more than the rest of the metrics path.
     */
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

    public AuthorityServer(AuthorityHome home, AuthorityStore store, Identity identity, boolean autoApprove, Clock clock) {
        this.home = home;
        this.store = store;
        this.identity = identity;
        this.failures = new FailureLog(store, clock);
        this.auth = new RequestAuth(home, store, failures, clock);
        this.clients = new ClientRoutes(store, auth, failures, autoApprove);
        this.escrows = new EscrowRoutes(store, identity, auth, failures);
        this.recoveries = new RecoveryRoutes(store, identity, auth);
    }

    /** Requires a second recovery officer's approval before any key is released (the two-person rule). */
    public AuthorityServer twoPersonRule(boolean on) {
        this.twoPerson = on;
        recoveries.twoPersonRule(on);
        return this;
    }

    /** How long an approved recovery may be collected by its requester (default 24 hours). */
    public AuthorityServer approvalLifetime(Duration lifetime) {
        if (lifetime.isNegative() || lifetime.isZero()) {
            throw KeywayException.usage("the approval lifetime must be positive", "give e.g. 24h");
        }
        recoveries.approvalLifetime(lifetime);
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
                Endpoint matched = ctx.endpoints().matchedHttpEndpoint();
                String route = matched == null ? "unmatched" : matched.path;
                requestTimer(ctx.method().name(), route, ctx.status().getCode())
                        .record((long) (ms * 1_000_000), TimeUnit.NANOSECONDS);
            });
            Gauge.builder("keyway_authority_escrows", store, AuthorityStore::escrowCount)
                    .description("escrowed keys stored").register(metrics);
            config.routes.before(ctx -> inFlight.incrementAndGet());
            config.routes.after(ctx -> inFlight.decrementAndGet());
            Gauge.builder("keyway_authority_requests_in_flight", inFlight, Number::doubleValue)
                    .description("requests being handled").register(metrics);
            config.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
            config.routes.get("/healthz", ctx -> ctx.json(Map.of("status", "ok")));
            config.routes.get("/v1/authority", ctx -> ctx.json(Map.of("recipient", identity.recipient().encode(),
                    "recipient_id", identity.recipient().idHex())));
            config.routes.post("/v1/enroll", clients::enroll);
            config.routes.get("/v1/client", clients::self);
            config.routes.post("/v1/revoke", clients::selfRevoke);
            config.routes.post("/v1/admin/approve", clients::approve);
            config.routes.post("/v1/admin/revoke", clients::adminRevoke);
            config.routes.get("/v1/admin/clients", clients::clients);
            config.routes.post("/v1/escrow", escrows::escrow);
            config.routes.post("/v1/recover", recoveries::recover);
            config.routes.post("/v1/recover/approve", recoveries::approveRecovery);
            config.routes.get("/v1/escrows", escrows::list);
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
        store.audit(auth.now(), "authority", "start", identity.recipient().idHex(), "ok", "{\"two_person\":" + twoPerson + "}");
        return ((ServerConnector) app.jettyServer().server().getConnectors()[0]).getLocalPort();
    }

    private Timer requestTimer(String method, String route, int status) {
        return timers.computeIfAbsent(method + " " + route + " " + status, k -> Timer
                .builder("keyway_authority_requests")
                .description("HTTP requests by route and status")
                .tag("method", method).tag("route", route).tag("status", Integer.toString(status))
                .publishPercentiles(0.5, 0.99)
                .register(metrics));
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