package dev.keyway.authority;

import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How a client proves who it is on every request (docs/AUTHORITY.md, "Authentication"): an Ed25519
 * signature by its identity's signing key over
 *
 * <pre>
 * "keyway-authority-request-v1" LF METHOD LF PATH-AND-QUERY LF hex(SHA-256(body)) LF TIMESTAMP-MS LF NONCE
 * </pre>
 *
 * sent in four headers. The server refuses a timestamp more than {@link #WINDOW} away from its clock and
 * a nonce the same client already used while that timestamp could still be accepted, so a captured
 * request cannot be replayed.
 */
public final class RequestSigning {
    public static final String CLIENT = "Keyway-Client";
    public static final String TIMESTAMP = "Keyway-Timestamp";
    public static final String NONCE = "Keyway-Nonce";
    public static final String SIGNATURE = "Keyway-Signature";
    public static final Duration WINDOW = Duration.ofMinutes(5);
    private static final Pattern NONCE_FORMAT = Pattern.compile("[0-9a-f]{32}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private RequestSigning() {
    }

    /** The headers that sign this request with {@code identity}. */
    public static Map<String, String> sign(Identity identity, String method, String pathAndQuery, byte[] body, Instant now) {
        byte[] n = new byte[16];
        RANDOM.nextBytes(n);
        String nonce = HexFormat.of().formatHex(n);
        long ts = now.toEpochMilli();
        byte[] signature = identity.sign(canonical(method, pathAndQuery, body, ts, nonce));
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(CLIENT, identity.recipient().idHex());
        headers.put(TIMESTAMP, Long.toString(ts));
        headers.put(NONCE, nonce);
        headers.put(SIGNATURE, Base64.getEncoder().encodeToString(signature));
        return headers;
    }

    /** The parsed signature headers of a request; null fields mean the header was absent. */
    public record Signed(String clientId, String timestamp, String nonce, String signature) {
        public boolean complete() {
            return clientId != null && timestamp != null && nonce != null && signature != null;
        }
    }

    /** Why a request failed authentication: a kind (what the audit log counts) and a one-line message. */
    public record Problem(Kind kind, String message) {
    }

    /**
     * The kinds of refused request counted per source and minute in the audit log (one row per source and
     * minute, not one per request): authentication failures, and what a key nobody approved can try.
     */
    public enum Kind {
        UNSIGNED("unsigned"), MALFORMED("malformed signature headers"), STALE("timestamp outside the window"),
        BAD_SIGNATURE("bad signature"), UNKNOWN_CLIENT("unknown client"), REVOKED("revoked client"),
        REPLAYED("replayed nonce"), BAD_ADMIN_TOKEN("bad admin token"),
        /** Signed by a key that is enrolled but not approved: it has no rights, so its refusals are counted, not logged one by one. */
        NOT_APPROVED("key not approved"),
        /** An enrollment under a name that looks like an enrolled one, or by a revoked key. */
        REFUSED_ENROLLMENT("refused enrollment");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * Checks the signature and freshness (not the nonce's uniqueness, which needs the store). Returns a
     * reason for refusal, or null when the request is good.
     */
    public static String check(Signed s, Recipient signer, String method, String pathAndQuery, byte[] body, Instant now) {
        Problem p = verify(s, signer, method, pathAndQuery, body, now);
        return p == null ? null : p.message();
    }

    /** {@link #check}, with the kind of failure. */
    public static Problem verify(Signed s, Recipient signer, String method, String pathAndQuery, byte[] body, Instant now) {
        if (!s.complete()) {
            return new Problem(Kind.UNSIGNED, "the request is not signed (headers " + CLIENT + ", " + TIMESTAMP + ", " + NONCE + ", "
                    + SIGNATURE + ")");
        }
        long ts;
        try {
            ts = Long.parseLong(s.timestamp());
        } catch (NumberFormatException e) {
            return new Problem(Kind.MALFORMED, "the request timestamp is not a number");
        }
        // Compared without subtracting from ts: now - ts can overflow (to Long.MIN_VALUE, whose Math.abs is negative).
        if (ts < now.toEpochMilli() - WINDOW.toMillis() || ts > now.toEpochMilli() + WINDOW.toMillis()) {
            return new Problem(Kind.STALE, "the request timestamp is more than " + WINDOW.toMinutes()
                    + " minutes from the server's clock (stale or replayed)");
        }
        if (!NONCE_FORMAT.matcher(s.nonce()).matches()) {
            return new Problem(Kind.MALFORMED, "the request nonce must be 32 lowercase hex digits");
        }
        byte[] signature;
        try {
            signature = Base64.getDecoder().decode(s.signature());
        } catch (IllegalArgumentException e) {
            return new Problem(Kind.MALFORMED, "the request signature is not base64");
        }
        if (!signer.verify(canonical(method, pathAndQuery, body, ts, s.nonce()), signature)) {
            return new Problem(Kind.BAD_SIGNATURE, "the request signature does not verify");
        }
        return null;
    }

    /**
     * Until when a request's nonce must be remembered: as long as its timestamp could still be accepted
     * (timestamp + window), so a request stamped in the future cannot be replayed after its nonce is forgotten.
     */
    public static Instant nonceExpiry(Signed s) {
        return Instant.ofEpochMilli(Long.parseLong(s.timestamp())).plus(WINDOW);
    }

    static byte[] canonical(String method, String pathAndQuery, byte[] body, long timestamp, String nonce) {
        String text = "keyway-authority-request-v1\n" + method + "\n" + pathAndQuery + "\n" + AuthorityStore.sha256(body) + "\n" + timestamp + "\n" + nonce;
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
