package dev.keyway.tls.config;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.TlsVersion;
import dev.keyway.core.keylog.KeyLog;
import dev.keyway.tls.params.NamedGroup;
import dev.keyway.tls.params.Ticket;
import dev.keyway.tls.session.MemorySessionStore;
import dev.keyway.tls.session.SessionStore;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Everything a TLS client or server is configured with, built once and shared. The defaults are the
 * safe ones: TLS 1.3, the three TLS 1.3 suites (AES-128-GCM first), x25519 then P-256, certificate
 * validation against the given trust anchors with the server name checked.
 */
public final class TlsConfig {
    /** The hint id of a refusal of an old TLS 1.2 peer that {@link Builder#legacyNoExtendedMasterSecret} would allow. */
    public static final String HINT_LEGACY_NO_EMS = "tls.legacy-no-ems";

    private final List<X509Certificate> trustAnchors;
    private final boolean insecure;
    private final String serverName;
    private final List<NamedGroup> groups;
    private final List<CipherSuite> suites;
    /** The suites split by version once: handshakes ask for them on every connection. */
    private final List<CipherSuite> suites13;
    private final List<CipherSuite> suites12;
    private final List<String> alpn;
    private final KeyLog keyLog;
    private final List<X509Certificate> certificateChain;
    private final PrivateKey privateKey;
    private final boolean requireClientCertificate;
    private final boolean middleboxCompatibility;
    private final Clock clock;
    private final TicketKeys ticketKeys;
    private final int ticketCount;
    private final Duration ticketLifetime;
    private final Ticket resumeWith;
    private final boolean exposeTrafficSecrets;
    private final List<TlsVersion> versions;
    private final SessionStore sessionStore;
    private final boolean legacyNoExtendedMasterSecret;
    private final ClientCertificateCheck clientCertificateCheck;
    private final ServerCertificateCheck serverCertificateCheck;
    private final boolean clientCertificateOptional;
    private final Function<List<String>, String> alpnSelector;
    private final Function<ClientHelloInfo, TlsConfig> configForClient;

    private TlsConfig(Builder b) {
        this.versions = List.copyOf(b.versions);
        this.trustAnchors = List.copyOf(b.trustAnchors);
        this.insecure = b.insecure;
        this.serverName = b.serverName;
        this.groups = List.copyOf(b.groups);
        this.suites = List.copyOf(b.suites);
        this.suites13 = suites.stream().filter(CipherSuite::tls13).toList();
        this.suites12 = suites.stream().filter(s -> !s.tls13()).toList();
        this.alpn = List.copyOf(b.alpn);
        this.keyLog = b.keyLog;
        this.certificateChain = List.copyOf(b.certificateChain);
        this.privateKey = b.privateKey;
        this.requireClientCertificate = b.requireClientCertificate;
        this.clientCertificateOptional = b.clientCertificateOptional;
        this.middleboxCompatibility = b.middleboxCompatibility;
        this.clock = b.clock;
        // Only a config that can serve needs ticket keys: a client config does not draw a random key it never uses.
        this.ticketKeys = b.ticketKeys != null ? b.ticketKeys
                : b.privateKey != null ? TicketKeys.rotatingEvery(Duration.ofHours(1)) : null;
        this.ticketCount = b.ticketCount;
        this.sessionStore = b.sessionStore != null ? b.sessionStore
                : b.privateKey != null && b.versions.contains(TlsVersion.TLS12) ? new MemorySessionStore() : null;
        this.ticketLifetime = b.ticketLifetime;
        this.resumeWith = b.resumeWith;
        this.exposeTrafficSecrets = b.exposeTrafficSecrets;
        this.legacyNoExtendedMasterSecret = b.legacyNoExtendedMasterSecret;
        this.clientCertificateCheck = b.clientCertificateCheck;
        this.serverCertificateCheck = b.serverCertificateCheck;
        this.alpnSelector = b.alpnSelector;
        this.configForClient = b.configForClient;
    }

    /** Server: the config chosen per ClientHello ({@link Builder#configForClient}); or null. */
    public Function<ClientHelloInfo, TlsConfig> configForClient() {
        return configForClient;
    }

    /** Server: who picks the application protocol from the client's offer instead of {@link #alpn()}; or null. */
    public Function<List<String>, String> alpnSelector() {
        return alpnSelector;
    }

    /** Client: who decides on the server's chain instead of the trust anchors; null to validate it to them. */
    public ServerCertificateCheck serverCertificateCheck() {
        return serverCertificateCheck;
    }

    /** Server: who decides on a client's chain instead of the trust anchors; null to validate it to them. */
    public ClientCertificateCheck clientCertificateCheck() {
        return clientCertificateCheck;
    }

    /**
     * TLS 1.2: whether a peer without the extended master secret (RFC 7627) may connect, with the plain
     * RFC 5246 master secret. Such a session is never resumed and exports no keying material (RFC 7627
     * sections 5.3 and 5.4).
     */
    public boolean legacyNoExtendedMasterSecret() {
        return legacyNoExtendedMasterSecret;
    }

    /** Server, TLS 1.2: where sessions are kept by session ID (null: no session IDs are handed out). */
    public SessionStore sessionStore() {
        return sessionStore;
    }

    /** The versions this side speaks, newest first (default TLS 1.3 only). */
    public List<TlsVersion> versions() {
        return versions;
    }

    public boolean allows(TlsVersion v) {
        return versions.contains(v);
    }

    /** The configured suites of one version, in preference order. */
    public List<CipherSuite> suites(TlsVersion v) {
        return v == TlsVersion.TLS13 ? suites13 : suites12;
    }

    /**
     * Whether connections hand out their application traffic secrets
     * ({@link dev.keyway.tls.TlsConnection#trafficSecrets()}).
     */
    public boolean exposeTrafficSecrets() {
        return exposeTrafficSecrets;
    }

    public static Builder builder() {
        return new Builder();
    }

    public List<X509Certificate> trustAnchors() {
        return trustAnchors;
    }

    public boolean insecure() {
        return insecure;
    }

    public String serverName() {
        return serverName;
    }

    public List<NamedGroup> groups() {
        return groups;
    }

    public List<CipherSuite> suites() {
        return suites;
    }

    public List<String> alpn() {
        return alpn;
    }

    public KeyLog keyLog() {
        return keyLog;
    }

    public List<X509Certificate> certificateChain() {
        return certificateChain;
    }

    public PrivateKey privateKey() {
        return privateKey;
    }

    /** Server: a client certificate is asked for but a client may send none ({@link Builder#requestClientCertificate}). */
    public boolean clientCertificateOptional() {
        return clientCertificateOptional;
    }

    public boolean requireClientCertificate() {
        return requireClientCertificate;
    }

    public boolean middleboxCompatibility() {
        return middleboxCompatibility;
    }

    public Clock clock() {
        return clock;
    }

    /** Server: the keys that seal session tickets (null in a config without a certificate, which cannot serve). */
    public TicketKeys ticketKeys() {
        return ticketKeys;
    }

    /** Server: how many NewSessionTickets to send after a handshake (0: no resumption). */
    public int ticketCount() {
        return ticketCount;
    }

    public Duration ticketLifetime() {
        return ticketLifetime;
    }

    /** Client: the ticket to offer for resumption, or null. */
    public Ticket resumeWith() {
        return resumeWith;
    }

    /** The suites a config offers unless told otherwise: TLS 1.3's three, then TLS 1.2's ECDHE with AEADs. */
    public static List<CipherSuite> defaultSuites() {
        return SuitePolicy.DEFAULT_SUITES;
    }

    public static final class Builder {
        private List<X509Certificate> trustAnchors = List.of();
        private boolean insecure;
        private String serverName;
        private List<NamedGroup> groups = List.of(NamedGroup.X25519, NamedGroup.SECP256R1);
        private List<CipherSuite> suites = SuitePolicy.DEFAULT_SUITES;
        private List<TlsVersion> versions = List.of(TlsVersion.TLS13);
        private SessionStore sessionStore;
        private boolean legacyRsaKeyExchange;
        private boolean legacyCbc;
        private boolean legacyNoExtendedMasterSecret;
        private boolean suitesChosen;
        private List<String> alpn = List.of();
        private KeyLog keyLog = KeyLog.NONE;
        private List<X509Certificate> certificateChain = List.of();
        private PrivateKey privateKey;
        private boolean requireClientCertificate;
        private boolean clientCertificateOptional;
        private boolean middleboxCompatibility = true;
        private Clock clock = Clock.systemUTC();
        private TicketKeys ticketKeys;
        private int ticketCount = 1;
        private Duration ticketLifetime = Duration.ofHours(2);
        private Ticket resumeWith;
        private boolean exposeTrafficSecrets;
        private ClientCertificateCheck clientCertificateCheck;
        private ServerCertificateCheck serverCertificateCheck;
        private Function<List<String>, String> alpnSelector;
        private Function<ClientHelloInfo, TlsConfig> configForClient;

        /** Let connections report their first application traffic secrets (off by default: they are keys). */
        public Builder exposeTrafficSecrets(boolean expose) {
            this.exposeTrafficSecrets = expose;
            return this;
        }

        /**
         * Server, TLS 1.2: the session-ID cache (default: in memory, 20,000 sessions). Entries are sealed with the
         * ticket keys, so servers sharing a store (e.g. Redis) share {@link TicketKeys#fromSecret} too.
         */
        public Builder sessionStore(SessionStore store) {
            this.sessionStore = store;
            return this;
        }

        /** Server: seal tickets with these keys (share one instance among servers that resume each other's sessions). */
        public Builder ticketKeys(TicketKeys keys) {
            this.ticketKeys = keys;
            return this;
        }

        /** Server: NewSessionTickets per handshake, 0 to 8 (default 1). */
        public Builder ticketCount(int n) {
            if (n < 0 || n > 8) {
                throw new IllegalArgumentException("ticket count 0 to 8");
            }
            this.ticketCount = n;
            return this;
        }

        /** Server: how long a ticket may be used, at most 7 days (default 2 hours). */
        public Builder ticketLifetime(Duration lifetime) {
            if (lifetime.isNegative() || lifetime.compareTo(Duration.ofDays(7)) > 0) {
                throw new IllegalArgumentException("ticket lifetime 0 to 7 days");
            }
            this.ticketLifetime = lifetime;
            return this;
        }

        /** Client: offer this ticket (PSK with (EC)DHE); a full handshake follows if the server declines. */
        public Builder resumeWith(Ticket ticket) {
            this.resumeWith = ticket;
            return this;
        }

        /** The CAs a peer's chain must lead to. */
        public Builder trustAnchors(List<X509Certificate> anchors) {
            this.trustAnchors = Objects.requireNonNull(anchors);
            return this;
        }

        /** Accept any server certificate (tests and captures only; the CLI says so loudly). */
        public Builder insecure(boolean insecure) {
            this.insecure = insecure;
            return this;
        }

        /** Client: the name sent as SNI and checked against the certificate. */
        public Builder serverName(String name) {
            this.serverName = name;
            return this;
        }

        /** Groups in preference order; the client sends a key share for the first. */
        public Builder groups(List<NamedGroup> groups) {
            if (groups.isEmpty()) {
                throw new IllegalArgumentException("at least one group");
            }
            this.groups = groups;
            return this;
        }

        /**
         * The versions to speak, from TLS 1.3 and TLS 1.2. With both, a client offers both and a server picks
         * 1.3 when the client has it; a 1.2 connection between two 1.3-capable sides is refused as a downgrade
         * (RFC 8446 section 4.1.3).
         */
        public Builder versions(List<TlsVersion> versions) {
            if (versions.isEmpty()) {
                throw new IllegalArgumentException("at least one TLS version");
            }
            for (TlsVersion v : versions) {
                if (v != TlsVersion.TLS13 && v != TlsVersion.TLS12) {
                    throw new IllegalArgumentException(v + " is not supported: Keyway speaks TLS 1.3 and TLS 1.2");
                }
            }
            this.versions = versions.stream().distinct().sorted((a, b) -> Integer.compare(b.code(), a.code())).toList();
            return this;
        }

        /**
         * Suites in preference order: TLS 1.3 suites, and TLS 1.2 suites: ECDHE with AEAD ciphers by default;
         * static RSA key transport only with {@link #legacyRsaKeyExchange}, CBC only with {@link #legacyCbc}.
         * Checked when the config is built.
         */
        public Builder suites(List<CipherSuite> suites) {
            if (suites.isEmpty()) {
                throw new IllegalArgumentException("at least one suite");
            }
            this.suites = suites;
            this.suitesChosen = true;
            return this;
        }

        /**
         * TLS 1.2: allow static RSA key transport (the client encrypts the pre-master secret to the server's
         * RSA key: no forward secrecy). Off by default; for peers that can do nothing else.
         */
        public Builder legacyRsaKeyExchange(boolean allow) {
            this.legacyRsaKeyExchange = allow;
            return this;
        }

        /** TLS 1.2: allow AES-CBC suites with HMAC (MAC-then-encrypt, checked in constant time). Off by default. */
        public Builder legacyCbc(boolean allow) {
            this.legacyCbc = allow;
            return this;
        }

        /**
         * TLS 1.2: let a peer that does not use the extended master secret (RFC 7627) connect, with the plain
         * RFC 5246 master secret. Off by default: without it a man in the middle can make two connections share
         * one master secret (the triple handshake attack). Keyway still offers and prefers the extension; a
         * session made without it is never stored or sealed into a ticket (it is never resumed, RFC 7627 section
         * 5.3) and refuses the RFC 5705 exporter (section 5.4).
         */
        public Builder legacyNoExtendedMasterSecret(boolean allow) {
            this.legacyNoExtendedMasterSecret = allow;
            return this;
        }

        public Builder alpn(List<String> protocols) {
            this.alpn = protocols;
            return this;
        }

        /** Where every secret goes (RFC 9850 labels). */
        public Builder keyLog(KeyLog keyLog) {
            this.keyLog = Objects.requireNonNull(keyLog);
            return this;
        }

        /** Server (or client, for client authentication): the chain, leaf first, and its private key. */
        public Builder certificate(List<X509Certificate> chain, PrivateKey key) {
            this.certificateChain = chain;
            this.privateKey = key;
            return this;
        }

        /** Server: ask for and require a client certificate that chains to the trust anchors. */
        public Builder requireClientCertificate(boolean require) {
            this.requireClientCertificate = require;
            return this;
        }

        /**
         * Server: require a client certificate and let {@code check} decide on it instead of path validation to the
         * trust anchors (clients known by their key, not by a CA). The leaf must still be within its validity dates,
         * allow digital signatures and sign the handshake.
         */
        public Builder requireClientCertificate(ClientCertificateCheck check) {
            this.requireClientCertificate = true;
            this.clientCertificateCheck = Objects.requireNonNull(check);
            return this;
        }

        /**
         * Client: let {@code check} decide on the server's certificate chain instead of path validation to the trust
         * anchors and the server name check (see {@link ServerCertificateCheck}).
         */
        public Builder serverCertificateCheck(ServerCertificateCheck check) {
            this.serverCertificateCheck = Objects.requireNonNull(check);
            return this;
        }

        /**
         * Server: {@code selector} picks the application protocol from the client's ALPN offer (never empty), in place
         * of the first of {@link #alpn} the client offers (JSSE's {@code setHandshakeApplicationProtocolSelector}): it
         * returns one of the offered names, or "" to answer without ALPN; null or a name not offered ends the
         * handshake with no_application_protocol (RFC 7301 section 3.2). It is not asked when the client offers none.
         */
        public Builder alpnSelector(Function<List<String>, String> selector) {
            this.alpnSelector = Objects.requireNonNull(selector);
            return this;
        }

        /**
         * Server: when a ClientHello arrives, {@code choose} gives the config for that handshake (as Go's
         * {@code GetConfigForClient}): a certificate picked by the server name asked for (SNI), or by the signature
         * schemes the client lists. It is asked once per handshake (not again after a HelloRetryRequest); the config it
         * returns must have a certificate and its key, and should share this one's ticket keys and session store so
         * sessions resume; null keeps this config. A {@link TlsException} it throws (e.g. unrecognized_name) ends the
         * handshake with its alert; any other exception with handshake_failure. This config then needs no certificate.
         */
        public Builder configForClient(Function<ClientHelloInfo, TlsConfig> choose) {
            this.configForClient = Objects.requireNonNull(choose);
            return this;
        }

        /**
         * Server: ask for a client certificate without requiring one (JSSE's {@code wantClientAuth}, Go's
         * {@code VerifyClientCertIfGiven}): a client that sends none goes on unauthenticated (no peer certificates); one
         * that sends a chain has it decided by {@code check}, the leaf's dates and key usage and its CertificateVerify,
         * and a refused one ends the handshake as with {@link #requireClientCertificate(ClientCertificateCheck)}.
         */
        public Builder requestClientCertificate(ClientCertificateCheck check) {
            requireClientCertificate(check);
            this.clientCertificateOptional = true;
            return this;
        }

        /** Send a legacy session id and a dummy ChangeCipherSpec (RFC 8446 appendix D.4); on by default. */
        public Builder middleboxCompatibility(boolean on) {
            this.middleboxCompatibility = on;
            return this;
        }

        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock);
            return this;
        }

        /**
         * The config. A suite Keyway does not offer, or a legacy one this builder does not allow, is refused: a
         * {@link dev.keyway.core.KeywayException} (usage) whose hint names the setting that allows it.
         */
        public TlsConfig build() {
            if (!suitesChosen) {
                suites = SuitePolicy.defaults(legacyRsaKeyExchange, legacyCbc);
            }
            SuitePolicy.check(suites, legacyRsaKeyExchange, legacyCbc);
            return new TlsConfig(this);
        }
    }
}
