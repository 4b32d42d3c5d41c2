package dev.keyway.authority;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/** Reading the authority's answers: a field missing or of the wrong form is the peer's fault, one error for all. */
final class Wire {
    private Wire() {
    }

    static JsonNode required(JsonNode j, String field) {
        JsonNode v = j == null ? null : j.get(field);
        if (v == null || v.isNull()) {
            throw malformed(field);
        }
        return v;
    }

    static String text(JsonNode j, String field) {
        return required(j, field).asText();
    }

    /** A text field that may be absent or null. */
    static String optionalText(JsonNode j, String field) {
        return j.hasNonNull(field) ? j.get(field).asText() : null;
    }

    static Long optionalLong(JsonNode j, String field) {
        return j.hasNonNull(field) ? j.get(field).asLong() : null;
    }

    static Instant instant(JsonNode j, String field) {
        try {
            return Instant.parse(text(j, field));
        } catch (DateTimeParseException e) {
            throw malformed(field);
        }
    }

    static KeywayException malformed(String field) {
        return new KeywayException(ErrorCode.PEER, "the authority's answer has no valid '" + field + "'",
                "check the URL points at a Keyway authority of this version");
    }
}
