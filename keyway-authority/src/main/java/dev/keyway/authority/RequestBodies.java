package dev.keyway.authority;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keyway.core.encoding.Printable;
import io.javalin.http.Context;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reading a request at the edge: the body within {@link AuthorityServer#MAX_BODY}, strict JSON (no unknown or
 * repeated field, no lone surrogate), and typed fields and query parameters. Anything else is a 400
 * {@link Refusal} naming what is wrong.
 */
final class RequestBodies {
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private RequestBodies() {
    }

    static byte[] body(Context ctx) {
        if (ctx.contentLength() > 2L * AuthorityServer.MAX_BODY) {
            // Declared too large: read and drop it first when that is bounded, so the client, still sending, gets
            // this answer and not a reset ("no response": seen in CI for a 3 MiB body); beyond the bound it may.
            if (ctx.contentLength() <= DRAIN_LIMIT) {
                drain(ctx);
            }
            throw new Refusal(400, "the request body is larger than " + AuthorityServer.MAX_BODY + " bytes");
        }
        // Read at most one byte past the limit ourselves: a chunked body has no Content-Length, and Javalin's own
        // limit answers it 413 text/plain, not the 400 JSON refusal every other oversized body gets.
        byte[] b;
        try {
            b = ctx.bodyInputStream().readNBytes(AuthorityServer.MAX_BODY + 1);
        } catch (IOException e) {
            throw new Refusal(400, "the request body could not be read");
        }
        if (b.length > AuthorityServer.MAX_BODY) {
            // The client is still sending: read and drop the rest (up to a bound), so it gets this answer rather
            // than a reset, which an HTTP client reports as "no response" (a race seen in AuthorityAttackTest).
            drain(ctx);
            throw new Refusal(400, "the request body is larger than " + AuthorityServer.MAX_BODY + " bytes");
        }
        return b;
    }

    /** Reads and drops what is left of the request body, at most {@link #DRAIN_LIMIT} bytes. */
    private static void drain(Context ctx) {
        try {
            long left = DRAIN_LIMIT;
            byte[] sink = new byte[8192];
            int n;
            InputStream in = ctx.bodyInputStream();
            while (left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) > 0) {
                left -= n;
            }
        } catch (IOException | RuntimeException ignored) {
            // the client gave up, or the server refuses to read more: nothing more to do
        }
    }

    /** How much of an oversized chunked body is read and dropped before the 400 goes out. */
    private static final long DRAIN_LIMIT = 8L * AuthorityServer.MAX_BODY;

    /**
     * Parses a JSON object, refusing unknown fields (a typo must not pass silently), a field given twice
     * (which one counts would depend on the parser), and a lone surrogate (text that is not Unicode, which
     * the database would store as '?').
     */
    static JsonNode parse(byte[] body, Set<String> allowed) {
        JsonNode j;
        try {
            j = JSON.readTree(body);
        } catch (JsonParseException e) {
            String m = String.valueOf(e.getOriginalMessage());
            throw new Refusal(400, m.startsWith("Duplicate field") ? "the body names a field twice ("
                    + Printable.escape(m.length() > 80 ? m.substring(0, 80) : m) + ")" : "the body is not valid JSON");
        } catch (IOException e) {
            throw new Refusal(400, "the body is not valid JSON");
        }
        if (j == null || !j.isObject()) {
            throw new Refusal(400, "the body must be a JSON object");
        }
        for (Iterator<String> it = j.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw new Refusal(400, "unknown field '" + Printable.escape(f.length() > 40 ? f.substring(0, 40) + "..." : f)
                        + "' (allowed: " + String.join(", ", new TreeSet<>(allowed)) + ")");
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

    static String text(JsonNode j, String field, boolean required) {
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

    static Long optionalLong(JsonNode j, String field) {
        JsonNode v = j.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0) {
            throw new Refusal(400, "field '" + field + "' must be a non-negative integer");
        }
        return v.asLong();
    }

    static byte[] base64(String s, String field) {
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            throw new Refusal(400, "field '" + field + "' is not base64");
        }
    }

    static long parseLong(String s, String name) {
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

    static Instant parseInstant(String s, String name) {
        try {
            return Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw new Refusal(400, "query parameter '" + name + "' must be an ISO-8601 instant, e.g. 2026-11-21T00:00:00Z");
        }
    }
}
