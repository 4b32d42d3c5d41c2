package dev.keyway.authority;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * Talks to a backup authority over HTTPS, trusting exactly the authority's certificate (its
 * tls-cert.pem), and signs every request with the caller's identity ({@link RequestSigning}).
 */
public final class AuthorityClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final HttpClient http;

    /** What the authority answered: the status and the JSON body. */
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

    /** A request signed by {@code identity}. */
    public Response signed(Identity identity, String method, String pathAndQuery, Object body) {
        byte[] bytes = body == null ? new byte[0] : json(body);
        // Sign what the server will see: the absolute path and the raw query.
        URI u = base.resolve(pathAndQuery);
        String canonical = u.getRawPath() + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
        return send(method, pathAndQuery, bytes, RequestSigning.sign(identity, method, canonical, bytes, Instant.now()));
    }

    /** The authority's recipient string (what escrow blobs are wrapped for); the pinned TLS certificate vouches for it. */
    public String authorityRecipient() {
        Response r = send("GET", "v1/authority", new byte[0], Map.of());
        if (!r.ok() || r.body() == null || !r.body().has("recipient")) {
            throw new KeywayException(ErrorCode.PEER, "the authority did not say its recipient (" + r.error() + ")",
                    "check the URL points at a Keyway authority");
        }
        return r.body().get("recipient").asText();
    }

    /** The owner name {@code identity} is enrolled under (what escrows it files are bound to). */
    public String enrolledName(Identity identity) {
        Response r = checked(signed(identity, "GET", "v1/client", null), "say who you are");
        if (r.body() == null || !r.body().hasNonNull("name")) {
            throw new KeywayException(ErrorCode.PEER, "the authority did not say the enrolled name", "check the URL points at a Keyway authority");
        }
        return r.body().get("name").asText();
    }

    /**
     * Files an escrow signed by {@code identity}: the blob (wrapped for the authority and bound as its binding says),
     * a description, and optionally a serial, a message id and the owner it is bound to when that is not the sender.
     * A refusal is a {@link KeywayException} ({@link #checked}).
     */
    public Response escrow(Identity identity, dev.keyway.core.blob.KeyBlob blob, String description, Long serial, String messageId,
                           String owner) {
        Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("blob", java.util.Base64.getEncoder().encodeToString(blob.encode()));
        body.put("description", description);
        if (serial != null) {
            body.put("serial", serial);
        }
        if (messageId != null) {
            body.put("message_id", messageId);
        }
        if (owner != null) {
            body.put("owner", owner);
        }
        return checked(signed(identity, "POST", "v1/escrow", body), "escrow the key");
    }

    /**
     * {@code r} when it is a success; otherwise the authority's refusal as a {@link KeywayException} with the exit
     * code it means (401: authentication, 403: policy, 400/404/409: usage, else the peer) and its words escaped.
     */
    public static Response checked(Response r, String what) {
        if (r.ok()) {
            return r;
        }
        ErrorCode code = switch (r.status()) {
            case 401 -> ErrorCode.AUTH_FAILED;
            case 403 -> ErrorCode.POLICY;
            case 400, 404, 409 -> ErrorCode.USAGE;
            default -> ErrorCode.PEER;
        };
        throw new KeywayException(code, "the authority refused to " + what + " (" + r.status() + "): "
                + dev.keyway.core.encoding.Printable.escape(r.error()),
                r.status() == 403 ? "ask the authority's admin" : "see 'keyway authority --help'");
    }

    /** An admin request, authorized by the admin token. */
    public Response admin(String adminToken, String method, String pathAndQuery, Object body) {
        byte[] bytes = body == null ? new byte[0] : json(body);
        return send(method, pathAndQuery, bytes, Map.of("Authorization", "Bearer " + adminToken));
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
            throw new KeywayException(ErrorCode.PEER, "cannot reach the authority at " + base + " (" + e.getMessage() + ")",
                    "check the URL, that the authority is running, and its certificate", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KeywayException(ErrorCode.PEER, "interrupted while talking to the authority", "try again", e);
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
