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
 * a nonce the same client already used within that window, so a captured request cannot be replayed.
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

    /**
     * Checks the signature and freshness (not the nonce's uniqueness, which needs the store). Returns a
     * reason for refusal, or null when the request is good.
     */
    public static String check(Signed s, Recipient signer, String method, String pathAndQuery, byte[] body, Instant now) {
        if (!s.complete()) {
            return "the request is not signed (headers " + CLIENT + ", " + TIMESTAMP + ", " + NONCE + ", " + SIGNATURE + ")";
        }
        long ts;
        try {
            ts = Long.parseLong(s.timestamp());
        } catch (NumberFormatException e) {
            return "the request timestamp is not a number";
        }
        if (Math.abs(now.toEpochMilli() - ts) > WINDOW.toMillis()) {
            return "the request timestamp is more than " + WINDOW.toMinutes() + " minutes from the server's clock (stale or replayed)";
        }
        if (!NONCE_FORMAT.matcher(s.nonce()).matches()) {
            return "the request nonce must be 32 lowercase hex digits";
        }
        byte[] signature;
        try {
            signature = Base64.getDecoder().decode(s.signature());
        } catch (IllegalArgumentException e) {
            return "the request signature is not base64";
        }
        if (!signer.verify(canonical(method, pathAndQuery, body, ts, s.nonce()), signature)) {
            return "the request signature does not verify";
        }
        return null;
    }

    static byte[] canonical(String method, String pathAndQuery, byte[] body, long timestamp, String nonce) {
        String text = "keyway-authority-request-v1\n" + method + "\n" + pathAndQuery + "\n" + AuthorityStore.sha256(body) + "\n" + timestamp + "\n" + nonce;
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
