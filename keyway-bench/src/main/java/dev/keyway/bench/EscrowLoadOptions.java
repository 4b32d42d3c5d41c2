package dev.keyway.bench;

import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/** {@link EscrowLoad}'s command line: what it read, and how. */
final class EscrowLoadOptions {
    URI url;
    Path cacert;
    String recipient;
    int clients = 32;
    int escrows = 1000;
    int warmup = 0;
    boolean json;
    boolean signInline;
    /** "lean": KeepAliveHttps, one blocking keep-alive TLS connection; "jdk": the JDK HttpClient (AuthorityClient). */
    String http = "lean";
    String namePrefix;
    long serverPid;

    static final String USAGE = String.join("\n",
            "usage: EscrowLoad --url URL --cacert FILE [options]",
            "",
            "  --url URL          the authority, e.g. https://127.0.0.1:8443 (required)",
            "  --cacert FILE      the authority's tls-cert.pem (required)",
            "  --recipient R      the authority's recipient string (default: GET /v1/authority)",
            "  --clients N        concurrent clients, one identity + thread + HTTPS client each (default 32)",
            "  --escrows M        measured escrows per client (default 1000)",
            "  --warmup W         escrows in total sent before the measured phase, not measured (default 0)",
            "  --name-prefix P    clients enroll as P-00, P-01, ... (default load-<random hex>)",
            "  --sign-inline      sign each request in the timed loop (default: pre-signed before timing)",
            "  --http lean|jdk    the load generator's HTTP client: lean = one blocking keep-alive TLS socket per",
            "                     client (default; least CPU taken from the server), jdk = java.net.http.HttpClient",
            "  --server-pid PID   also report the CPU time the server process used in the measured phase (Linux)",
            "  --json             print one JSON line on stdout; the human-readable summary goes to stderr",
            "  --help             this text",
            "",
            "The authority must run with 'keyway authority serve --auto-approve'. Exit status 1 when any",
            "request was not answered 2xx.");

    /** The options, or null for --help; IllegalArgumentException names what is wrong. */
    static EscrowLoadOptions parse(String[] args) {
        EscrowLoadOptions o = new EscrowLoadOptions();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            switch (a) {
                case "-h", "--help" -> {
                    return null;
                }
                case "--json" -> o.json = true;
                case "--sign-inline" -> o.signInline = true;
                case "--url", "--http", "--cacert", "--recipient", "--clients", "--escrows", "--warmup", "--name-prefix", "--server-pid" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException(a + " needs a value");
                        }
                        value = args[++i];
                    }
                    switch (a) {
                        case "--url" -> {
                            try {
                                o.url = URI.create(value.endsWith("/") ? value : value + "/");
                            } catch (IllegalArgumentException e) {
                                throw new IllegalArgumentException("--url '" + value + "' is not a URL");
                            }
                            if (!"https".equals(o.url.getScheme()) || o.url.getHost() == null) {
                                throw new IllegalArgumentException("--url must be https://HOST:PORT, not '" + value + "'");
                            }
                        }
                        case "--cacert" -> o.cacert = Path.of(value);
                        case "--http" -> {
                            if (!value.equals("lean") && !value.equals("jdk")) {
                                throw new IllegalArgumentException("--http must be lean or jdk, not " + value);
                            }
                            o.http = value;
                        }
                        case "--recipient" -> o.recipient = value;
                        case "--clients" -> o.clients = positive(a, value, false);
                        case "--escrows" -> o.escrows = positive(a, value, false);
                        case "--warmup" -> o.warmup = positive(a, value, true);
                        case "--server-pid" -> o.serverPid = positive(a, value, false);
                        case "--name-prefix" -> {
                            if (!value.matches("[A-Za-z0-9._@-]{1,100}")) {
                                throw new IllegalArgumentException("--name-prefix must be 1 to 100 of A-Z a-z 0-9 . _ @ -");
                            }
                            o.namePrefix = value;
                        }
                        default -> throw new IllegalStateException(a);
                    }
                }
                default -> throw new IllegalArgumentException("unknown argument '" + args[i] + "'");
            }
        }
        if (o.url == null || o.cacert == null) {
            throw new IllegalArgumentException("--url and --cacert are required");
        }
        if ((long) o.clients * o.escrows > 50_000_000L) {
            throw new IllegalArgumentException("clients x escrows is over 50,000,000; that is more than this tool holds in memory");
        }
        if (o.namePrefix == null) {
            byte[] r = new byte[4];
            new SecureRandom().nextBytes(r);
            o.namePrefix = "load-" + HexFormat.of().formatHex(r);
        }
        return o;
    }

    private static int positive(String option, String value, boolean zeroAllowed) {
        int v;
        try {
            v = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " must be a whole number, not '" + value + "'");
        }
        if (v < (zeroAllowed ? 0 : 1)) {
            throw new IllegalArgumentException(option + " must be " + (zeroAllowed ? "0 or more" : "1 or more") + ", not " + v);
        }
        return v;
    }
}
