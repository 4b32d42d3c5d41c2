package dev.keyway.jsse;

import dev.keyway.core.keylog.KeyLog;

import java.security.Provider;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code Keyway} security provider: Keyway's TLS 1.3 and 1.2 behind the standard JSSE API.
 *
 * <pre>{@code
 * Security.insertProviderAt(new KeywayProvider(), 1);          // every SSLContext.getInstance("TLS") is Keyway's
 * SSLContext tls = SSLContext.getInstance("TLS", "Keyway");     // or ask for it by name
 * tls.init(keyManagers, trustManagers, null);
 * }</pre>
 *
 * <p>Services: {@code SSLContext} algorithms {@code TLS}, {@code TLSv1.3}, {@code TLSv1.2} (a context for one
 * version enables only that one) and {@code Default} (initialised with the JDK's default key and trust managers, as
 * {@code SSLContext.getDefault()} expects). Key and trust managers are the JDK's own ({@code KeyManagerFactory},
 * {@code TrustManagerFactory}); the provider does not replace them. See docs/JSSE.md for what is supported.
 */
public final class KeywayProvider extends Provider {
    private static final long serialVersionUID = 1L;

    /** The provider's name, for {@code SSLContext.getInstance(algorithm, NAME)}. */
    public static final String NAME = "Keyway";

    private final transient KeyLog keyLog;

    /** The provider; its connections log no secrets. */
    public KeywayProvider() {
        this(KeyLog.NONE);
    }

    /**
     * The provider, with every connection's secrets going to {@code keyLog} (RFC 9850 labels, as Keyway's own TLS
     * logs them): a {@link dev.keyway.core.keylog.KeyLogFile} for an SSLKEYLOGFILE that Wireshark reads, or any sink
     * of the application's, such as one that escrows them to a backup authority.
     */
    public KeywayProvider(KeyLog keyLog) {
        super(NAME, "0.1", "Keyway TLS 1.3 and 1.2 (SSLContext TLS, TLSv1.3, TLSv1.2, Default)");
        this.keyLog = Objects.requireNonNull(keyLog, "keyLog");
        for (String algorithm : List.of("TLS", "TLSv1.3", "TLSv1.2", "Default")) {
            putService(new Service(this, "SSLContext", algorithm, KeywaySslContext.class.getName(), List.of(), Map.of()) {
                @Override
                public Object newInstance(Object parameter) {
                    return new KeywaySslContext(algorithm, KeywayProvider.this.keyLog);
                }
            });
        }
    }
}
