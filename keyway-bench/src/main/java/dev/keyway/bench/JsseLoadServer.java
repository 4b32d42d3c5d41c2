package dev.keyway.bench;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import javax.net.ssl.SSLContext;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

import static dev.keyway.bench.JsseLoad.PASSWORD;
import static dev.keyway.bench.JsseLoad.load;
import static dev.keyway.bench.JsseLoad.serverContext;

/**
 * {@link JsseLoad}'s Jetty server: run in its own JVM ({@code JsseLoad serve}), with a SunJSSE and a Keyway TLS
 * connector counting their connections and handshakes, and a plain HTTP one that reports the counters; and that JVM
 * as the client sees it ({@link ServerProcess}).
 */
final class JsseLoadServer {
    private JsseLoadServer() {
    }

    /** Counters of one TLS connector. */
    static final class Counters {
        final LongAdder opened = new LongAdder();
        final LongAdder handshakes = new LongAdder();
        final LongAdder failed = new LongAdder();
        final AtomicReference<String> tls = new AtomicReference<>("-");
    }

    /** The Jetty server (in its own JVM): prints its ports, serves until its stdin closes. */
    static void serve(Path keyStoreFile, int bodySize) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keyStoreFile)) {
            ks.load(in, PASSWORD);
        }
        byte[] body = new byte[bodySize];
        Arrays.fill(body, (byte) 'k');
        if (bodySize > 0) {
            body[bodySize - 1] = '\n';
        }
        Server jetty = new Server();
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        Map<String, Counters> counters = new LinkedHashMap<>();
        Map<String, ServerConnector> connectors = new LinkedHashMap<>();
        for (String p : new String[]{"jsse", "keyway"}) {
            Counters c = new Counters();
            counters.put(p, c);
            ServerConnector conn = tlsConnector(jetty, http, serverContext(p, ks), c);
            conn.setHost("127.0.0.1");
            conn.setPort(0);
            jetty.addConnector(conn);
            connectors.put(p, conn);
        }
        ServerConnector control = new ServerConnector(jetty, new HttpConnectionFactory(http));
        control.setHost("127.0.0.1");
        control.setPort(0);
        jetty.addConnector(control);
        jetty.setHandler(new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                byte[] out = body;
                if (request.getHttpURI().getPath().equals("/stats")) {
                    StringBuilder b = new StringBuilder();
                    counters.forEach((p, c) -> b.append(p).append(' ').append(c.opened.sum()).append(' ').append(c.handshakes.sum())
                            .append(' ').append(c.failed.sum()).append(' ').append(c.tls.get()).append('\n'));
                    out = b.toString().getBytes(StandardCharsets.US_ASCII);
                }
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, out.length);
                response.write(true, ByteBuffer.wrap(out), callback);
                return true;
            }
        });
        jetty.start();
        System.out.println("PORTS jsse=" + connectors.get("jsse").getLocalPort() + " keyway=" + connectors.get("keyway").getLocalPort()
                + " control=" + control.getLocalPort() + " java=" + Runtime.version());
        System.out.flush();
        try {
            while (System.in.read() >= 0) {
                // until the parent closes our stdin (or dies)
            }
        } finally {
            jetty.stop();
        }
    }

    /** A TLS connector on {@code ctx} that counts its connections and handshakes in {@code c}. */
    static ServerConnector tlsConnector(Server jetty, HttpConfiguration http, SSLContext ctx, Counters c) {
        SslContextFactory.Server f = new SslContextFactory.Server();
        f.setSslContext(ctx);
        SslConnectionFactory ssl = new SslConnectionFactory(f, "http/1.1");
        ssl.addBean(new SslHandshakeListener() {
            @Override
            public void handshakeSucceeded(Event event) {
                c.handshakes.increment();
                var s = event.getSSLEngine().getSession();
                c.tls.set(s.getProtocol() + "/" + s.getCipherSuite());
            }

            @Override
            public void handshakeFailed(Event event, Throwable failure) {
                c.failed.increment();
            }
        });
        ServerConnector conn = new ServerConnector(jetty, ssl, new HttpConnectionFactory(http));
        conn.addEventListener(new Connection.Listener() {
            @Override
            public void onOpened(Connection connection) {
                if (connection instanceof SslConnection) {
                    c.opened.increment();
                }
            }

            @Override
            public void onClosed(Connection connection) {
            }
        });
        return conn;
    }

    /** The server JVM, seen from the client. */
    static final class ServerProcess implements AutoCloseable {
        final Process process;
        final Map<String, Integer> ports = new HashMap<>();
        final String javaVersion;
        final HttpClient control = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        ServerProcess(Path keyStore, int bodySize, String jvmOpts) throws Exception {
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElse("java"));
            if (jvmOpts != null && !jvmOpts.isBlank()) {
                cmd.addAll(Arrays.asList(jvmOpts.trim().split("\\s+")));
            }
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), JsseLoad.class.getName(), "serve", keyStore.toString(),
                    Integer.toString(bodySize)));
            process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
            BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
            String line;
            String java = "?";
            while ((line = r.readLine()) != null && !line.startsWith("PORTS ")) {
                System.out.println("server: " + line);
            }
            if (line == null) {
                throw new IOException("the server JVM ended before it listened");
            }
            for (String kv : line.substring(6).split(" ")) {
                String[] p = kv.split("=", 2);
                if (p[0].equals("java")) {
                    java = p[1];
                } else {
                    ports.put(p[0], Integer.parseInt(p[1]));
                }
            }
            javaVersion = java;
        }

        /** provider -> [opened, handshakes, failed], plus "tls" strings. */
        Map<String, String[]> stats() throws Exception {
            HttpResponse<String> r = control.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.get("control") + "/stats"))
                    .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            Map<String, String[]> m = new HashMap<>();
            for (String l : r.body().split("\n")) {
                String[] f = l.split(" ");
                m.put(f[0], f);
            }
            return m;
        }

        /** CPU time of the server JVM so far, nanoseconds (as the OS reports it; 10 ms ticks on Linux). */
        long cpuNanos() {
            return process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }
}
