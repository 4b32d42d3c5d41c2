package dev.keyway.authority;

import com.ibm.icu.text.SpoofChecker;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.OwnerName;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The authority's rule for owner names (docs/AUTHORITY.md, "Owner names"). A name is taken in its
 * canonical form ({@link OwnerName}: NFKC, trimmed), must use only letters, combining marks, digits,
 * spaces and {@code . _ @ -}, and must pass Unicode's UTS #39 checks at the "highly restrictive" level
 * (one script, or the Han/Japanese/Korean combinations; no invisible characters; no mixed digit
 * systems). Look-alikes are compared by UTS #39 skeleton of the lower-cased name: "Alice", "аlice"
 * (Cyrillic a) and "alice" share one, so only the first to enroll gets it.
 */
final class OwnerNames {
    private static final Pattern ALLOWED = Pattern.compile("[\\p{L}\\p{M}\\p{Nd} ._@-]+");
    private static final SpoofChecker RESTRICTION = new SpoofChecker.Builder()
            .setRestrictionLevel(SpoofChecker.RestrictionLevel.HIGHLY_RESTRICTIVE)
            .setChecks(SpoofChecker.RESTRICTION_LEVEL | SpoofChecker.INVISIBLE | SpoofChecker.MIXED_NUMBERS
                    | SpoofChecker.HIDDEN_OVERLAY)
            .build();
    private static final SpoofChecker CONFUSABLES = new SpoofChecker.Builder().build();
    /** The column that stores skeletons holds this many characters. */
    static final int MAX_SKELETON = 1024;

    private OwnerNames() {
    }

    /** The canonical form of a name a client asks to enroll under; a refused name throws USAGE with the reason. */
    static String canonical(String raw) {
        String name = OwnerName.normalize(raw);
        if (!ALLOWED.matcher(name).matches()) {
            throw KeywayException.usage("an owner name may hold only letters, digits, spaces and . _ @ -",
                    "choose a name without other characters");
        }
        if (skeleton(name).length() > MAX_SKELETON) {
            throw KeywayException.usage("the owner name is too long", "choose a shorter name");
        }
        return name;
    }

    /**
     * Why a canonical name is refused by the UTS #39 checks (mixed scripts, invisible characters, mixed
     * digit systems), or null when it passes. Names enrolled before these checks are kept as they were.
     */
    static String restrictionProblem(String canonical) {
        SpoofChecker.CheckResult result = new SpoofChecker.CheckResult();
        if (!RESTRICTION.failsChecks(canonical, result)) {
            return null;
        }
        if ((result.checks & SpoofChecker.RESTRICTION_LEVEL) != 0) {
            return "the name mixes writing systems (for example a Cyrillic letter among Latin ones)";
        }
        if ((result.checks & SpoofChecker.MIXED_NUMBERS) != 0) {
            return "the name mixes digits of different systems";
        }
        return "the name holds invisible or overlaid characters";
    }

    /** The key names are compared by: the UTS #39 skeleton of the lower-cased canonical name. */
    static String skeleton(String canonical) {
        return CONFUSABLES.getSkeleton(canonical.toLowerCase(Locale.ROOT));
    }
}
