package dev.keyway.remote;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.io.AtomicFile;
import dev.keyway.core.keylog.KeyLog;
import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.params.TlsException;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The client side of remote sessions, as a Java API (the {@code keyway remote} commands are a thin shell over it):
 * opens sessions on hosts, attaches to existing ones, and hands out {@link RemoteSession}s that run commands. It
 * connects with mutual TLS 1.3 (X25519MLKEM768 preferred), shows the identity's Ed25519 key as its certificate,
 * checks the host's certificate against the trusted certificates given, and proves the identity on every
 * connection, resumed ones included.
 *
 * <pre>{@code
 * RemoteClient client = RemoteClient.builder().identity(id).trust(hostCerts).build();
 * try (RemoteSession s = client.open(new HostAddress("10.0.0.5", 5986), "build", "default")) {
 *     s.run("cd /tmp; X=1");
 *     RunResult r = s.run("pwd; echo $X"); // "/tmp\n1\n"
 * }
 * }</pre>
 */
public final class RemoteClient {
    /** Hint ids (the CLI names its flag for them): no trusted certificate given; the host's is not among them. */
    public static final String HINT_NO_TRUST = "remote.no-trust";
    public static final String HINT_UNTRUSTED_HOST = "remote.untrusted-host";

    private final Identity identity;
    private final KeyPair keys;
    private final X509Certificate certificate;
    private final List<X509Certificate> trust;
    private final KeyLog keyLog;
    private final List<NamedGroup> groups;
    private final Duration connectTimeout;

    private RemoteClient(Builder b) {
        this.identity = Objects.requireNonNull(b.identity, "identity");
        this.keys = RemoteKeys.signingKeyPair(identity);
        this.certificate = RemoteKeys.clientCertificate(identity, keys);
        if (b.trust.isEmpty()) {
            throw KeywayException.usage("no trusted host certificate given", "give the hosts' certificates (or their CA) to trust").hintId(HINT_NO_TRUST);
        }
        this.trust = List.copyOf(b.trust);
        this.keyLog = b.keyLog;
        this.groups = List.copyOf(b.groups);
        this.connectTimeout = b.connectTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Where a host listens. */
    public record HostAddress(String host, int port) {
        public HostAddress {
            Objects.requireNonNull(host);
            if (port < 1 || port > 65535) {
                throw KeywayException.usage("port " + port + " is out of range", "give 1 to 65535");
            }
        }

        /** {@code HOST:PORT}, {@code HOST} (port 5986), or {@code [v6]:PORT}. */
        public static HostAddress parse(String text) {
            String t = text.strip();
            String host = t;
            int port = RemoteHost.DEFAULT_PORT;
            if (t.startsWith("[")) {
                int end = t.indexOf(']');
                if (end < 0) {
                    throw KeywayException.usage("bad host '" + Printable.escape(text) + "'", "write [v6-address]:port");
                }
                host = t.substring(1, end);
                if (t.length() > end + 1) {
                    port = port(t.substring(end + 1), text);
                }
            } else if (t.indexOf(':') >= 0 && t.indexOf(':') == t.lastIndexOf(':')) {
                host = t.substring(0, t.indexOf(':'));
                port = port(t.substring(t.indexOf(':')), text);
            }
            if (host.isEmpty()) {
                throw KeywayException.usage("no host in '" + Printable.escape(text) + "'", "write HOST:PORT");
            }
            return new HostAddress(host, port);
        }

        private static int port(String colonPort, String text) {
            try {
                if (!colonPort.startsWith(":")) {
                    throw new NumberFormatException();
                }
                return Integer.parseInt(colonPort.substring(1));
            } catch (NumberFormatException e) {
                throw KeywayException.usage("bad port in '" + Printable.escape(text) + "'", "write HOST:PORT");
            }
        }

        @Override
        public String toString() {
            return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
        }
    }

    /** Opens a new session named {@code name} in configuration {@code config} on {@code host}. */
    public RemoteSession open(HostAddress host, String name, String config) {
        HostDir.checkName(name, "session");
        RemoteSession.Link link = connect(host, null);
        try {
            return RemoteSession.open(link, name, config);
        } catch (RuntimeException e) {
            link.closeQuietly();
            throw e;
        }
    }

    /**
     * Attaches to an existing session by its id, resuming with {@code ticket} when given (a ticket that no longer
     * opens, e.g. after the host's restart, just means a full handshake). {@code connect} also reconnects a session
     * that was disconnected.
     */
    public RemoteSession attach(HostAddress host, String sessionId, Ticket ticket, boolean connect) {
        RemoteSession.Link link = connect(host, ticket);
        try {
            return RemoteSession.attach(link, sessionId, connect);
        } catch (RuntimeException e) {
            link.closeQuietly();
            throw e;
        }
    }

    /** A connection not attached to any session (to list or remove sessions). */
    public RemoteSession.Link link(HostAddress host, Ticket ticket) {
        return connect(host, ticket);
    }

    RemoteSession.Link connect(HostAddress host, Ticket ticket) {
        TlsConfig.Builder b = TlsConfig.builder()
                .trustAnchors(trust)
                .serverName(host.host())
                .certificate(List.of(certificate), keys.getPrivate())
                .alpn(List.of(RemoteKeys.ALPN))
                .groups(groups)
                .keyLog(keyLog);
        if (ticket != null) {
            b.resumeWith(ticket);
        }
        TlsConfig config = b.build();
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(host.host(), host.port()), (int) connectTimeout.toMillis());
            socket.setSoTimeout((int) connectTimeout.toMillis());
            socket.setTcpNoDelay(true);
            TlsConnection tls = TlsConnection.connect(socket, config);
            RemoteSession.Link link = new RemoteSession.Link(tls, socket, host);
            try {
                link.hello(identity);
                socket.setSoTimeout(0);
            } catch (IOException | RuntimeException e) {
                link.closeQuietly();
                throw e;
            }
            return link;
        } catch (TlsException e) {
            closeQuietly(socket);
            throw handshakeFailure(host, e);
        } catch (SocketTimeoutException e) {
            closeQuietly(socket);
            throw new KeywayException(ErrorCode.PEER, host + " did not answer within " + connectTimeout.toSeconds() + " s", "check the host and port");
        } catch (IOException e) {
            closeQuietly(socket);
            throw new KeywayException(ErrorCode.PEER, "cannot connect to " + host + " (" + AtomicFile.describe(e) + ")",
                    "check that 'keyway remote serve' runs there");
        }
    }

    private static KeywayException handshakeFailure(HostAddress host, TlsException e) {
        Alert a = e.alert();
        String msg = Printable.escape(e.getMessage());
        if (a == Alert.ACCESS_DENIED || a == Alert.CERTIFICATE_REQUIRED) {
            return new KeywayException(ErrorCode.POLICY, host + " does not allow this identity (" + msg + ")",
                    "ask its administrator to 'keyway remote allow' your recipient ('keyway pubkey')");
        }
        if (a == Alert.UNKNOWN_CA || a == Alert.BAD_CERTIFICATE || a == Alert.CERTIFICATE_EXPIRED || a == Alert.DECRYPT_ERROR) {
            return new KeywayException(ErrorCode.AUTH_FAILED, "the TLS handshake with " + host + " failed: " + msg,
                    "check that the trusted certificates hold the host's certificate (keyway remote init printed its SHA-256)")
                    .hintId(HINT_UNTRUSTED_HOST);
        }
        return new KeywayException(ErrorCode.PEER, "the TLS handshake with " + host + " failed: " + msg, "check the host is a Keyway remote host");
    }

    static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    public static final class Builder {
        private Identity identity;
        private List<X509Certificate> trust = List.of();
        private KeyLog keyLog = KeyLog.NONE;
        private List<NamedGroup> groups = List.of(NamedGroup.X25519MLKEM768, NamedGroup.X25519);
        private Duration connectTimeout = Duration.ofSeconds(15);

        /** The identity that proves itself to hosts and owns the sessions it opens. */
        public Builder identity(Identity identity) {
            this.identity = identity;
            return this;
        }

        /** The hosts' certificates, or the CA that issued them. */
        public Builder trust(List<X509Certificate> certificates) {
            this.trust = certificates;
            return this;
        }

        public Builder keyLog(KeyLog keyLog) {
            this.keyLog = Objects.requireNonNull(keyLog);
            return this;
        }

        /** Key-exchange groups in order of preference (X25519MLKEM768, then x25519, by default). */
        public Builder groups(List<NamedGroup> groups) {
            this.groups = groups;
            return this;
        }

        public Builder connectTimeout(Duration d) {
            this.connectTimeout = d;
            return this;
        }

        public RemoteClient build() {
            return new RemoteClient(this);
        }
    }
}
