package dev.keyway.remote;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The checks of a restricted configuration: a command is an argv, never a shell line. Its first word must be one
 * of the configuration's programs, written exactly as configured (an absolute path without {@code .} or {@code ..};
 * no search of PATH, no relative names), and every argument must match that program's pattern as a whole. The
 * host keeps the session's directory ({@code cd DIR}, confined to the configuration's working directory) and its
 * variables ({@code NAME=VALUE}, for the names the configuration lists) itself.
 */
final class Restricted {
    private static final Pattern SAFE_WORD = Pattern.compile("[A-Za-z0-9_@%+=:,./-]+");

    private Restricted() {
    }

    /** The argv to run (or a builtin's words), refused with a POLICY error when the configuration does not allow it. */
    static List<String> check(Configuration config, List<String> words) {
        String prog = words.get(0);
        if (prog.equals("cd")) {
            if (words.size() > 2) {
                throw KeywayException.policy("cd takes one directory", "give one");
            }
            return List.copyOf(words);
        }
        if (prog.indexOf('=') > 0 && Configuration.VARIABLE.matcher(prog.substring(0, prog.indexOf('='))).matches()) {
            return List.copyOf(words);
        }
        for (Configuration.Program p : config.programs()) {
            if (p.path().equals(prog)) {
                for (String arg : words.subList(1, words.size())) {
                    if (!p.args().matcher(arg).matches()) {
                        throw KeywayException.policy("configuration " + config.name() + " does not allow the argument "
                                + Printable.escape(arg) + " to " + prog, "arguments must match " + Printable.escape(p.args().pattern()));
                    }
                }
                return List.copyOf(words);
            }
        }
        throw KeywayException.policy("configuration " + config.name() + " does not allow running " + Printable.escape(prog),
                "it allows: " + String.join(", ", config.programs().stream().map(Configuration.Program::path).toList())
                        + " (absolute paths, arguments as separate words; no shell)");
    }

    /** The argv as one line for the audit log and receipts: words quoted where the shell would need it. */
    static String display(List<String> words) {
        StringBuilder sb = new StringBuilder();
        for (String w : words) {
            if (sb.length() > 0) {
                sb.append(' ');
            }
            sb.append(SAFE_WORD.matcher(w).matches() ? w : ShellProcess.quote(w));
        }
        return sb.toString();
    }
}
