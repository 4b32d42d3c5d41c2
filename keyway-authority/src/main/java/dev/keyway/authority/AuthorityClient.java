package dev.keyway.authority;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Talks to a backup authority over HTTPS, trusting exactly the authority's certificate (its tls-cert.pem),
 * and signs every client request with the caller's identity ({@link RequestSigning}). One typed method per
 * route (docs/AUTHORITY.md): each takes typed arguments, returns a record, and turns a refusal into a
 * {@link KeywayException} whose {@link ErrorCode} says what kind ({@link #checked}); callers never build a
 * wire path or look at an HTTP status.
 */
public final class AuthorityClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final HttpClient http;

    /** What the authority answered: the status and the JSON body (raw requests, {@link #send}). */
    public record Response(int status, JsonNode body) {
        public boolean ok() {
            return status >= 200 && status < 300;
        }

        public String error() {
            return body != null && body.has("error") ? body.get("error").asText() : "HTTP " + status;
        }
    }

    public AuthorityClient(URI base, X509Certificate authorityCertificate) {
        this.base = base;
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("authority", authorityCertificate);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            this.http = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
        } catch (Exception e) {
            throw new IllegalStateException("TLS setup failed", e);
        }
    }

    // ---- anyone ----

    /** The authority's recipient string (what escrow blobs are wrapped for); the pinned TLS certificate vouches for it. */
    public String authorityRecipient() {
        Response r = send("GET", "v1/authority", new byte[0], Map.of());
        if (!r.ok() || r.body() == null || !r.body().has("recipient")) {
            throw new KeywayException(ErrorCode.PEER, "the authority did not say its recipient (" + r.error() + ")",
                    "check the URL points at a Keyway authority");
        }
        return r.body().get("recipient").asText();
    }

    // ---- a client, signed by its own key ----

    /**
     * Enrolls {@code identity}'s key under the owner {@code name}, signed by that key (proof of possession):
     * pending until an admin approves it, or approved at once by an authority that auto-approves.
     */
    public ClientStatus enroll(Identity identity, String name) {
        Response r = checked(signed(identity, "POST", "v1/enroll", Map.of("name", name, "recipient", identity.recipient().encode())),
                "enroll");
        return ClientStatus.fromJson(r.body());
    }

    /** The authority's record of {@code identity}'s key: owner name, status, roles (a pending key may ask too). */
    public ClientStatus whoAmI(Identity identity) {
        return ClientStatus.fromJson(checked(signed(identity, "GET", "v1/client", null), "say who you are").body());
    }

    /** The owner name {@code identity} is enrolled under (what escrows it files are bound to). */
    public String enrolledName(Identity identity) {
        return whoAmI(identity).name();
    }

    /** Revokes {@code identity}'s own key (a lost device, a key retired): refused from now on, never to enroll again. */
    public ClientStatus revoke(Identity identity) {
        return ClientStatus.fromJson(checked(signed(identity, "POST", "v1/revoke", Map.of()), "revoke the key").body());
    }

    /**
     * Files an escrow signed by {@code identity}: the blob (wrapped for the authority and bound as its binding says),
     * a description, and optionally a serial, a message id and the owner it is bound to when that is not the sender.
     */
    public EscrowReceipt escrow(Identity identity, KeyBlob blob, String description, Long serial, String messageId, String owner) {
        Response r = checked(signed(identity, "POST", "v1/escrow", escrowBody(blob, description, serial, messageId, owner)),
                "escrow the key");
        return EscrowReceipt.fromJson(r.body(), r.status() == 201);
    }

    /** The escrows {@code filter} selects (metadata only), oldest first, at most 10,000. */
    public List<EscrowSummary> listEscrows(Identity identity, EscrowSummary.Filter filter) {
        StringBuilder q = new StringBuilder("v1/escrows?limit=10000");
        param(q, "owner", filter.owner());
        param(q, "description", filter.descriptionContains());
        param(q, "serial", filter.serial() == null ? null : filter.serial().toString());
        param(q, "from", filter.from() == null ? null : filter.from().toString());
        param(q, "to", filter.to() == null ? null : filter.to().toString());
        Response r = checked(signed(identity, "GET", q.toString(), null), "list");
        List<EscrowSummary> out = new ArrayList<>();
        Wire.required(r.body(), "escrows").forEach(e -> out.add(EscrowSummary.fromJson(e)));
        return out;
    }

    /**
     * Asks for an escrowed key back, re-wrapped for {@code identity}; under the two-person rule the first answer
     * is {@link Recovery.Pending}, and the same call with {@link Recovery.Query#collect} fetches it once approved.
     */
    public Recovery recover(Identity identity, Recovery.Query query) {
        Map<String, Object> body = new LinkedHashMap<>();
        putIfSet(body, "serial", query.serial());
        putIfSet(body, "message_id", query.messageId());
        putIfSet(body, "escrow_id", query.escrowId());
        putIfSet(body, "request_id", query.requestId());
        putIfSet(body, "owner", query.owner());
        Response r = checked(signed(identity, "POST", "v1/recover", body), "release the key");
        JsonNode j = r.body();
        if (r.status() == 202) {
            return new Recovery.Pending(Wire.text(j, "request_id"), Wire.optionalText(j, "escrow_id"));
        }
        KeyBlob blob;
        try {
            blob = KeyBlob.decode(Base64.getDecoder().decode(Wire.text(j, "blob")));
        } catch (IllegalArgumentException e) {
            throw KeywayException.malformed("the authority's answer holds no valid key blob", "report it to the authority's admin");
        }
        return new Recovery.Released(Wire.text(j, "escrow_id"), Wire.text(j, "owner"), Wire.optionalLong(j, "serial"),
                Wire.optionalText(j, "message_id"), Wire.optionalText(j, "description"), blob);
    }

    /** A recovery officer, another person than the requester, approves recovery request {@code requestId}. */
    public Recovery.Approval approveRecovery(Identity officer, String requestId) {
        Response r = checked(signed(officer, "POST", "v1/recover/approve", Map.of("request_id", requestId)), "approve the recovery");
        return new Recovery.Approval(Wire.text(r.body(), "request_id"), Wire.instant(r.body(), "expires_at"));
    }

    // ---- the admin, by the admin token ----

    /** Approves enrolled client {@code clientId}, adding {@code roles} (e.g. {@link Client#RECOVERY_OFFICER}). */
    public ClientStatus approve(String adminToken, String clientId, List<String> roles) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("client_id", clientId);
        body.put("roles", roles);
        return ClientStatus.fromJson(checked(admin(adminToken, "POST", "v1/admin/approve", body), "approve").body());
    }

    /** Revokes any client's key (lost or stolen). */
    public ClientStatus adminRevoke(String adminToken, String clientId) {
        return ClientStatus.fromJson(checked(admin(adminToken, "POST", "v1/admin/revoke", Map.of("client_id", clientId)),
                "revoke the client").body());
    }

    /** Every enrolled key: pending first, then approved, then revoked. */
    public List<ClientStatus> listClients(String adminToken) {
        Response r = checked(admin(adminToken, "GET", "v1/admin/clients", null), "list clients");
        List<ClientStatus> out = new ArrayList<>();
        Wire.required(r.body(), "clients").forEach(c -> out.add(ClientStatus.fromJson(c)));
        return out;
    }

    // ---- requests built ahead of time (load generators) ----

    /** A request whose body is built, to be signed now or later ({@link #sign}) and sent with {@link #send(Prepared, Map)}. */
    public record Prepared(String method, String path, byte[] body) {
        /** The signature headers for this request by {@code identity} at {@code now}. */
        public Map<String, String> sign(Identity identity, Instant now) {
            return RequestSigning.sign(identity, method, path, body, now);
        }
    }

    /** An escrow request ({@link #escrow}'s), built now; {@link Prepared#path} is the absolute path it is signed for. */
    public Prepared prepareEscrow(KeyBlob blob, String description, Long serial, String messageId, String owner) {
        return new Prepared("POST", base.resolve("v1/escrow").getRawPath(), json(escrowBody(blob, description, serial, messageId, owner)));
    }

    /** Sends a prepared request with its signature headers, as it is (the answer is not checked). */
    public Response send(Prepared request, Map<String, String> signature) {
        return send(request.method(), request.path(), request.body(), signature);
    }

    // ---- raw requests: for tests that exercise the wire itself (a replay, a crash mid-request, a malformed body);
    // every route has its typed method above, and the CLI uses only those ----

    /**
     * {@code r} when it is a success; otherwise the authority's refusal as a {@link KeywayException} with the exit
     * code it means (401: authentication, 403: policy, 400/404/409: usage, else the peer) and its words escaped.
     */
    static Response checked(Response r, String what) {
        if (r.ok()) {
            return r;
        }
        ErrorCode code = switch (r.status()) {
            case 401 -> ErrorCode.AUTH_FAILED;
            case 403 -> ErrorCode.POLICY;
            case 400, 404, 409 -> ErrorCode.USAGE;
            default -> ErrorCode.PEER;
        };
        throw new KeywayException(code, "the authority refused to " + what + " (" + r.status() + "): " + Printable.escape(r.error()),
                r.status() == 403 ? "ask the authority's admin" : "see 'keyway authority --help'");
    }

    /** A request signed by {@code identity}, unchecked (tests send what the typed methods never would). */
    public Response signed(Identity identity, String method, String pathAndQuery, Object body) {
        byte[] bytes = body == null ? new byte[0] : json(body);
        // Sign what the server will see: the absolute path and the raw query.
        URI u = base.resolve(pathAndQuery);
        String canonical = u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
        return send(method, pathAndQuery, bytes, RequestSigning.sign(identity, method, canonical, bytes, Instant.now()));
    }

    /** An admin request, authorized by the admin token, unchecked. */
    public Response admin(String adminToken, String method, String pathAndQuery, Object body) {
        byte[] bytes = body == null ? new byte[0] : json(body);
        return send(method, pathAndQuery, bytes, Map.of("Authorization", "Bearer " + adminToken));
    }

    /**
     * What went wrong on the network, in a few words: the JDK's HttpClient throws a ConnectException without a message
     * for a refused connection (its cause has one), so the first message in the chain, or the kind of failure.
     */
    static String networkFailure(IOException e) {
        if (e instanceof HttpTimeoutException) {
            return "no answer in time";
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException && (t.getMessage() == null || t.getMessage().isBlank())) {
                continue;
            }
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return Printable.escape(t.getMessage());
            }
        }
        return e instanceof ConnectException ? "connection refused" : e.getClass().getSimpleName();
    }

    /** Any request, as given (tests use it to send what a well-behaved client never would). */
    public Response send(String method, String pathAndQuery, byte[] body, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(pathAndQuery)).timeout(Duration.ofSeconds(60))
                .method(method, body.length == 0 && method.equals("GET") ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", "application/json");
        headers.forEach(b::header);
        try {
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            JsonNode j = r.body().length == 0 ? null : JSON.readTree(r.body());
            return new Response(r.statusCode(), j);
        } catch (IOException e) {
            throw new KeywayException(ErrorCode.PEER, "cannot reach the authority at " + base + " (" + networkFailure(e) + ")",
                    "check the URL, that the authority is running, and its certificate", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KeywayException(ErrorCode.PEER, "interrupted while talking to the authority", "try again", e);
        }
    }

    private static Map<String, Object> escrowBody(KeyBlob blob, String description, Long serial, String messageId, String owner) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("blob", Base64.getEncoder().encodeToString(blob.encode()));
        body.put("description", description);
        putIfSet(body, "serial", serial);
        putIfSet(body, "message_id", messageId);
        putIfSet(body, "owner", owner);
        return body;
    }

    private static void putIfSet(Map<String, Object> body, String field, Object value) {
        if (value != null) {
            body.put(field, value);
        }
    }

    private static void param(StringBuilder q, String name, String value) {
        if (value != null) {
            q.append('&').append(name).append('=').append(URLEncoder.encode(value, StandardCharsets.UTF_8));
        }
    }

    private static byte[] json(Object body) {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
