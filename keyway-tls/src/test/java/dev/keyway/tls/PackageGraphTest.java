package dev.keyway.tls;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The packages of keyway-tls form no cycle (DESIGN.md: params at the bottom, then record, config, session, cert,
 * handshake, and {@code dev.keyway.tls} on top). jdeps reads the compiled classes, so a new import that closes a
 * loop fails here, named with the packages on it.
 */
class PackageGraphTest {
    private static final Pattern EDGE = Pattern.compile("^\\s+(dev\\.keyway\\.tls\\S*)\\s+->\\s+(dev\\.keyway\\.tls\\S*)\\s+\\S+$");

    @Test
    void theTlsPackagesHaveNoCycle() throws URISyntaxException {
        Optional<ToolProvider> jdeps = ToolProvider.findFirst("jdeps");
        if (jdeps.isEmpty()) {
            System.out.println("PackageGraphTest skipped: this Java runtime has no jdeps (a JRE, not a JDK)");
        }
        Assumptions.assumeTrue(jdeps.isPresent(), "no jdeps in this runtime");
        Path classes = Path.of(TlsEngine.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        StringWriter out = new StringWriter();
        int rc = jdeps.get().run(new PrintWriter(out), new PrintWriter(new StringWriter()), "-verbose:package",
                classes.toString());
        assertThat(rc).as("jdeps exit status\n%s", out).isZero();

        Map<String, Set<String>> graph = edges(out.toString());
        // the graph is really read: known edges are there, so an empty or misparsed output cannot pass
        assertThat(graph.getOrDefault("dev.keyway.tls.handshake", Set.of()))
                .contains("dev.keyway.tls.config", "dev.keyway.tls.params", "dev.keyway.tls.record");
        assertThat(graph.getOrDefault("dev.keyway.tls", Set.of())).contains("dev.keyway.tls.handshake");
        assertThat(cycles(graph)).as("package cycles in keyway-tls").isEmpty();
    }

    @Test
    void theCycleFinderFindsALoop() {
        Map<String, Set<String>> graph = new TreeMap<>();
        graph.put("a", Set.of("b"));
        graph.put("b", Set.of("c", "d"));
        graph.put("c", Set.of("a"));
        graph.put("d", Set.of());
        assertThat(cycles(graph)).containsExactly(List.of("a", "b", "c"));
        graph.put("c", Set.of("d"));
        assertThat(cycles(graph)).isEmpty();
    }

    @Test
    void edgesAreReadFromJdepsOutput() {
        String out = "classes -> java.base\n"
                + "   dev.keyway.tls                -> dev.keyway.core                  not found\n"
                + "   dev.keyway.tls                -> dev.keyway.tls.config            classes\n"
                + "   dev.keyway.tls.config         -> dev.keyway.tls.params            classes\n"
                + "   dev.keyway.tls.config         -> java.util                        java.base\n";
        assertThat(edges(out)).containsOnlyKeys("dev.keyway.tls", "dev.keyway.tls.config");
        assertThat(edges(out).get("dev.keyway.tls")).containsExactly("dev.keyway.tls.config");
    }

    private static Map<String, Set<String>> edges(String jdepsOutput) {
        Map<String, Set<String>> graph = new TreeMap<>();
        for (String line : jdepsOutput.split("\n")) {
            Matcher m = EDGE.matcher(line.stripTrailing());
            if (m.matches() && !m.group(1).equals(m.group(2))) {
                graph.computeIfAbsent(m.group(1), k -> new TreeSet<>()).add(m.group(2));
            }
        }
        return graph;
    }

    /** The strongly connected components with more than one package (Tarjan), each sorted. */
    private static List<List<String>> cycles(Map<String, Set<String>> graph) {
        return new Object() {
            final Map<String, Integer> index = new TreeMap<>();
            final Map<String, Integer> low = new TreeMap<>();
            final Deque<String> stack = new ArrayDeque<>();
            final Set<String> onStack = new TreeSet<>();
            final List<List<String>> found = new ArrayList<>();

            List<List<String>> run() {
                for (String v : graph.keySet()) {
                    if (!index.containsKey(v)) {
                        visit(v);
                    }
                }
                return found;
            }

            void visit(String v) {
                index.put(v, index.size());
                low.put(v, index.get(v));
                stack.push(v);
                onStack.add(v);
                for (String w : graph.getOrDefault(v, Set.of())) {
                    if (!index.containsKey(w)) {
                        visit(w);
                        low.put(v, Math.min(low.get(v), low.get(w)));
                    } else if (onStack.contains(w)) {
                        low.put(v, Math.min(low.get(v), index.get(w)));
                    }
                }
                if (low.get(v).equals(index.get(v))) {
                    List<String> component = new ArrayList<>();
                    String w;
                    do {
                        w = stack.pop();
                        onStack.remove(w);
                        component.add(w);
                    } while (!w.equals(v));
                    if (component.size() > 1) {
                        component.sort(null);
                        found.add(component);
                    }
                }
            }
        }.run();
    }
}
