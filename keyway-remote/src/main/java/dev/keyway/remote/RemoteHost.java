package dev.keyway.remote;

import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.keylog.KeyLog;
import dev.keyway.tls.TlsServer;
import dev.keyway.tls.config.TicketKeys;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.NamedGroup;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The host service ({@code keyway remote serve}): Keyway's event-driven TLS server, mutual TLS 1.3 only, where a
 * client gets past the handshake only with a certificate whose Ed25519 key is an allowed identity's; the sessions
 * that live here; the reaper that ends idle and expired ones; the audit log.
 *
 * <p>Sessions live in this process: they survive a client's disconnect, not a restart of the service (which
 * ends every process they started).
 */
public final class RemoteHost implements Closeable {
    /** PowerShell's HTTPS remoting port. */
    public static final int DEFAULT_PORT = 5986;

    private final HostDir dir;
    private final Identity identity;
    private final String recipient;
    private final String hostName;
    private final AuditLog audit;
    private final Clock clock;
    private final Consumer<String> log;
    private final Path runRoot;
    private final Map<String, HostSession> sessions = new ConcurrentHashMap<>();
    private final Requests requests;
    private final TlsServer server;
    private final ScheduledExecutorService reaper;
    /** How often a client waiting for a quiet command hears from the host: well within the connection idle timeout. */
    private final Duration keepAlive;

    /** How the service runs, beyond its directory and address. */
    public record Options(KeyLog keyLog, Clock clock, Duration reapEvery, Duration connectionIdleTimeout, List<NamedGroup> groups,
                          Consumer<String> log) {
        public static Options defaults() {
            return new Options(KeyLog.NONE, Clock.systemUTC(), Duration.ofSeconds(5), Duration.ofMinutes(10),
                    List.of(NamedGroup.X25519MLKEM768, NamedGroup.X25519), s -> { });
        }

        public Options withKeyLog(KeyLog k) {
            return new Options(k, clock, reapEvery, connectionIdleTimeout, groups, log);
        }

        public Options withClock(Clock c) {
            return new Options(keyLog, c, reapEvery, connectionIdleTimeout, groups, log);
        }

        public Options withReapEvery(Duration d) {
            return new Options(keyLog, clock, d, connectionIdleTimeout, groups, log);
        }

        public Options withLog(Consumer<String> l) {
            return new Options(keyLog, clock, reapEvery, connectionIdleTimeout, groups, l);
        }

        public Options withGroups(List<NamedGroup> g) {
            return new Options(keyLog, clock, reapEvery, connectionIdleTimeout, g, log);
        }
    }

    private RemoteHost(HostDir dir, InetSocketAddress address, Options o) throws IOException {
        this.dir = dir;
        this.identity = dir.identity();
        this.recipient = identity.recipient().encode();
        this.hostName = address.getHostString() + ":" + address.getPort();
        this.clock = o.clock();
        this.log = o.log();
        this.audit = AuditLog.open(dir.auditFile(), dir.auditHead(), identity, clock);
        this.runRoot = dir.runDir();
        this.requests = new Requests(this);
        this.keepAlive = o.connectionIdleTimeout().dividedBy(3);
        KeyPair tls = dir.tlsKeys();
        byte[] secret = dir.ticketSecret();
        TlsConfig config = TlsConfig.builder()
                .certificate(List.of(dir.certificate()), tls.getPrivate())
                .requireClientCertificate(chain -> {
                    byte[] key = RemoteKeys.ed25519Key(chain.get(0));
                    return key != null && clientByKey(key) != null;
                })
                .alpn(List.of(RemoteKeys.ALPN))
                .groups(o.groups())
                .keyLog(o.keyLog())
                .ticketKeys(TicketKeys.fromSecret(secret, Duration.ofHours(12)))
                .ticketLifetime(Duration.ofDays(7))
                .clock(clock)
                .build();
        Arrays.fill(secret, (byte) 0);
        this.server = TlsServer.builder(config, new TlsServer.Handler() {
            @Override
            public void opened(TlsServer.Connection c) {
                if (!RemoteKeys.ALPN.equals(c.engine().alpn())) {
                    c.close();
                    return;
                }
                c.attach(new HostConnection(RemoteHost.this, c));
            }

            @Override
            public void received(TlsServer.Connection c, byte[] b, int off, int len) {
                if (c.attachment() instanceof HostConnection hc) {
                    hc.received(b, off, len);
                }
            }

            @Override
            public void closed(TlsServer.Connection c, Exception failure) {
                if (c.attachment() instanceof HostConnection hc) {
                    hc.closed();
                }
            }
        }).address(address).idleTimeout(o.connectionIdleTimeout()).start();
        this.reaper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "keyway-remote-reaper");
            t.setDaemon(true);
            return t;
        });
        long every = o.reapEvery().toMillis();
        reaper.scheduleWithFixedDelay(() -> {
            try {
                reap();
            } catch (RuntimeException e) {
                // a task that throws is never run again: one failure must not end every limit for good
                log("reaping failed: " + e);
            }
        }, every, every, TimeUnit.MILLISECONDS);
        audit("service-start", null, null, null, "ok", Map.of("listen", server.address().toString()));
    }

    public static RemoteHost start(HostDir dir, InetSocketAddress address, Options options) throws IOException {
        return new RemoteHost(dir, address, options);
    }

    public InetSocketAddress address() {
        return server.address();
    }

    /** The host identity's recipient: the key that signs receipts and the audit head. */
    public String recipient() {
        return recipient;
    }

    String hostName() {
        return hostName;
    }

    Instant now() {
        return clock.instant();
    }

    Identity identity() {
        return identity;
    }

    Duration keepAlive() {
        return keepAlive;
    }

    HostDir dir() {
        return dir;
    }

    Path runRoot() {
        return runRoot;
    }

    Map<String, HostSession> sessions() {
        return sessions;
    }

    /** The allowed client whose Ed25519 key this is, read from clients.json now (so revocation applies at once). */
    HostDir.Client clientByKey(byte[] key) {
        for (HostDir.Client c : dir.clients().values()) {
            if (MessageDigest.isEqual(c.recipient().signingPublicKey(), key)) {
                return c;
            }
        }
        return null;
    }

    void dispatch(HostConnection hc, Frame f, StdinBuffer stdin) {
        requests.handle(hc, f, stdin);
    }

    void acknowledge(HostConnection hc, Frame f) {
        requests.acknowledge(hc, f);
    }

    void audit(String event, String client, String session, String config, String outcome, Map<String, String> detail) {
        try {
            audit.append(event, client, session, config, outcome, detail);
        } catch (KeywayException e) {
            log("audit: " + e.oneLine());
        }
    }

    void log(String line) {
        log.accept(line);
    }

    void connectionEnded(HostConnection hc) {
        HostSession s = hc.session;
        if (s != null && s.attached == hc) {
            s.attached = null;
            s.lastActive = now();
            audit("detach", hc.clientName, s.id, s.config.name(), "ok", Map.of("reason", "connection ended"));
        }
    }

    /** Ends sessions past their lifetime, and idle ones (no command, no running job, no activity) past their idle timeout. */
    public void reap() {
        Instant now = now();
        for (HostSession s : List.copyOf(sessions.values())) {
            String why = null;
            if (Duration.between(s.created, now).compareTo(s.config.maxLifetime()) > 0) {
                why = "lifetime " + s.config.maxLifetime() + " reached";
            } else if (!s.busy && s.jobsAllDone() && Duration.between(s.lastActive, now).compareTo(s.config.idleTimeout()) > 0) {
                why = "idle for more than " + s.config.idleTimeout();
            }
            if (why != null) {
                remove(s, "reap", why);
            }
        }
    }

    void remove(HostSession s, String event, String why) {
        if (sessions.remove(s.id) == null) {
            return;
        }
        s.kill();
        HostConnection hc = s.attached;
        audit(event, s.owner, s.id, s.config.name(), "ok", Map.of("name", s.name, "reason", why));
        if (hc != null && event.equals("reap")) {
            hc.c.close();
        }
    }

    /** The sessions of this service (for tests and the operator). */
    public Collection<String> sessionIds() {
        return new ArrayList<>(sessions.keySet());
    }

    /** The processes of a session still alive (for tests: after a removal there are none). */
    public List<ProcessHandle> processesOf(String sessionId) {
        HostSession s = sessions.get(sessionId);
        return s == null ? List.of() : s.processes();
    }

    @Override
    public void close() {
        reaper.shutdownNow();
        server.close();
        for (HostSession s : List.copyOf(sessions.values())) {
            remove(s, "remove", "service stopped");
        }
        audit("service-stop", null, null, null, "ok", Map.of());
        audit.close(); // what ends after this (a command left running, a job) is logged, not appended unsigned
        identity.destroy();
    }

    public boolean awaitDone(Duration d) throws InterruptedException {
        return server.awaitDone(d);
    }
}
