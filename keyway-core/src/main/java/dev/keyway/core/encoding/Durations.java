package dev.keyway.core.encoding;

import dev.keyway.core.KeywayException;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations written as {@code 90s}, {@code 5m}, {@code 2h}, {@code 7d} or ISO-8601 ({@code PT5M}). */
public final class Durations {
    private static final Pattern SHORT = Pattern.compile("(\\d{1,9})([smhd])");

    private Durations() {
    }

    /**
     * @param flag what the text is called in an error message (a flag such as {@code --idle-timeout}, or a field)
     */
    public static Duration parse(String text, String flag) {
        String t = text.strip();
        Matcher m = SHORT.matcher(t);
        Duration d;
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            d = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        } else {
            try {
                d = Duration.parse(t.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                throw KeywayException.usage(flag + " '" + text + "' is not a duration", "write it like 30s, 5m, 2h or 7d");
            }
        }
        if (d.isNegative() || d.isZero()) {
            throw KeywayException.usage(flag + " must be positive", "write it like 30s, 5m, 2h or 7d");
        }
        return d;
    }
}
