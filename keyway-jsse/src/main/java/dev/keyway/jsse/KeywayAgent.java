package dev.keyway.jsse;

import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.keylog.KeyLog;
import dev.keyway.core.keylog.KeyLogFile;

import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.Security;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Java agent that gives an unmodified program Keyway's TLS and an SSLKEYLOGFILE:
 *
 * <pre>
 * java -javaagent:keyway-jsse.jar=keylog=/tmp/keys.log -jar app.jar
 * </pre>
 *
 * It installs the {@link KeywayProvider} first in line, so {@code SSLContext.getDefault()}, every
 * {@code SSLContext.getInstance("TLS")} and every library built on them (the JDK's HttpClient and
 * HttpsURLConnection, Netty, Jetty, OkHttp) make Keyway connections, whose secrets go to the key log.
 *
 * <p>Options, comma-separated {@code name=value}:
 * <ul>
 *   <li>{@code keylog=FILE}: append every connection's secrets to FILE (created 0600), in the SSLKEYLOGFILE format;
 *       default: the {@code SSLKEYLOGFILE} environment variable, else no key log;</li>
 *   <li>{@code provider=keyway} (the default): Keyway first in line, as above;</li>
 *   <li>{@code provider=default}: the JDK's own TLS (SunJSSE) stays the default and Keyway is added last. JSSE gives
 *       its secrets to nobody without patching its internals, which this agent does not do, so only connections the
 *       program makes through the Keyway provider by name ({@code SSLContext.getInstance("TLS", "Keyway")}) are
 *       logged; the agent says so on standard error when it starts.</li>
 * </ul>
 * A bad option stops the JVM before the program starts, with one line saying what is wrong.
 */
public final class KeywayAgent {
    private KeywayAgent() {
    }

    /** Before {@code main}: {@code -javaagent:keyway-jsse.jar[=OPTIONS]}. */
    public static void premain(String args, Instrumentation inst) {
        install(args, System.getenv("SSLKEYLOGFILE"));
    }

    /** Loaded into a running JVM: contexts made from now on are Keyway's; ones made before stay as they are. */
    public static void agentmain(String args, Instrumentation inst) {
        install(args, System.getenv("SSLKEYLOGFILE"));
    }

    /** Parses the options and installs the provider; returns it. */
    static KeywayProvider install(String args, String envKeyLog) {
        Map<String, String> options = parse(args);
        String provider = options.getOrDefault("provider", "keyway");
        if (!provider.equals("keyway") && !provider.equals("default")) {
            throw new IllegalArgumentException("keyway-jsse agent: unknown provider '" + Printable.escape(provider)
                    + "': use keyway (the default: Keyway's TLS for everything) or default (the JDK's TLS stays the default)");
        }
        String file = options.getOrDefault("keylog", envKeyLog == null || envKeyLog.isEmpty() ? null : envKeyLog);
        KeyLog log = KeyLog.NONE;
        if (file != null) {
            KeyLogFile f;
            try {
                f = KeyLogFile.open(Path.of(file));
            } catch (KeywayException | InvalidPathException e) {
                throw new IllegalArgumentException("keyway-jsse agent: " + Printable.escape(e.getMessage()), e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    f.close();
                } catch (IOException ignored) {
                    // every line was written whole when it was logged; nothing is lost
                }
            }, "keyway-jsse-keylog"));
            log = f;
        }
        KeywayProvider p = new KeywayProvider(log);
        Security.removeProvider(KeywayProvider.NAME);
        if (provider.equals("keyway")) {
            Security.insertProviderAt(p, 1);
        } else {
            Security.addProvider(p);
            System.err.println("keyway-jsse agent: provider=default: the JDK's TLS stays the default and its connections are not"
                    + " logged (JSSE gives its secrets to nobody without patching its internals); only connections made through"
                    + " SSLContext.getInstance(\"TLS\", \"Keyway\") use Keyway's TLS" + (file == null ? "" : " and are logged"));
        }
        return p;
    }

    static Map<String, String> parse(String args) {
        Map<String, String> out = new LinkedHashMap<>();
        if (args == null || args.isBlank()) {
            return out;
        }
        for (String part : args.split(",")) {
            int eq = part.indexOf('=');
            String name = eq < 0 ? part.strip() : part.substring(0, eq).strip();
            if (eq < 0 || (!name.equals("keylog") && !name.equals("provider"))) {
                throw new IllegalArgumentException("keyway-jsse agent: bad option '" + Printable.escape(part)
                        + "': use keylog=FILE and provider=keyway|default, comma-separated");
            }
            if (out.put(name, part.substring(eq + 1)) != null) {
                throw new IllegalArgumentException("keyway-jsse agent: " + name + " given twice");
            }
        }
        return out;
    }
}
