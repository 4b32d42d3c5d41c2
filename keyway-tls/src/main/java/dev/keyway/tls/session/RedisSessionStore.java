package dev.keyway.tls.session;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.encoding.Printable;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.DefaultRedisCredentials;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.SslOptions;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.SetParams;
import redis.clients.jedis.util.JedisURIHelper;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Sessions in Redis: for several servers that should resume each other's sessions, or one that should
 * keep them across restarts. Key = prefix + lowercase hex of the id, value = the sealed state as given,
 * written with {@code SET key value PX lifetime} so that Redis itself expires entries.
 *
 * <p>A failed lookup is not an error (the client just gets a full handshake), so {@link #get} returns
 * null when Redis is unreachable or too slow; {@link #put} and {@link #remove} throw a
 * {@link KeywayException} ({@link ErrorCode#PEER}) because a lost remove could let a session that ended
 * in an alert be resumed. Messages and {@link #toString} name the server without user or password.
 */
public final class RedisSessionStore implements SessionStore {
    public static final String DEFAULT_PREFIX = "keyway:tls:session:";
    // Short, because a server waits for the store inside a handshake; a lookup that has not answered in
    // this time is better given up for a full handshake.
    private static final int TIMEOUT_MILLIS = 2_000;
    private static final int MAX_CONNECTIONS = 32;
    private static final int DEFAULT_PORT = 6379;
    private static final HexFormat HEX = HexFormat.of();

    private final String where;
    private final String prefix;
    private final RedisClient redis;
    private volatile boolean closed;

    /** {@code redis://[user:password@]host[:port][/db]} (or {@code rediss://} for TLS), keys under {@value #DEFAULT_PREFIX}. */
    public RedisSessionStore(URI uri) {
        this(uri, DEFAULT_PREFIX);
    }

    /** As {@link #RedisSessionStore(URI)}, with keys under {@code keyPrefix}: one per group of servers that share sessions. */
    public RedisSessionStore(URI uri, String keyPrefix) {
        Objects.requireNonNull(uri, "uri");
        this.prefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
        this.where = redacted(uri);
        if (uri.getScheme() == null || uri.getHost() == null
                || !(JedisURIHelper.isRedisScheme(uri) || JedisURIHelper.isRedisSSLScheme(uri))) {
            throw KeywayException.usage("not a Redis URI: " + where, "use redis://host:port or rediss://host:port");
        }
        // Jedis 8 deprecates its own URI parsing (builder fromURI), so the parts are taken here; its
        // JedisURIHelper.getHostAndPort passes a missing port on as -1, hence port(uri)
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(TIMEOUT_MILLIS)
                .socketTimeoutMillis(TIMEOUT_MILLIS)
                .database(JedisURIHelper.hasDbIndex(uri) ? JedisURIHelper.getDBIndex(uri) : 0);
        String user = JedisURIHelper.getUser(uri);
        String password = JedisURIHelper.getPassword(uri);
        if (user != null || password != null) {
            config.credentials(new DefaultRedisCredentials(user, password));
        }
        if (JedisURIHelper.isRedisSSLScheme(uri)) {
            // the JDK's trust store, and the certificate must name the host (SslVerifyMode.FULL)
            config.sslOptions(SslOptions.defaults());
        }
        ConnectionPoolConfig pool = new ConnectionPoolConfig();
        pool.setMaxTotal(MAX_CONNECTIONS);
        pool.setMaxIdle(MAX_CONNECTIONS);
        // without a bound, a handshake thread would wait forever for a free connection under load
        pool.setMaxWait(Duration.ofMillis(TIMEOUT_MILLIS));
        // RedisClient replaced JedisPooled in Jedis 8. It connects lazily: an unreachable server fails
        // the first command, not this constructor.
        this.redis = RedisClient.builder()
                .hostAndPort(new HostAndPort(uri.getHost(), port(uri)))
                .clientConfig(config.build())
                .poolConfig(pool)
                .build();
    }

    @Override
    public void put(byte[] id, byte[] state, Duration lifetime) {
        SessionLimits.checkPut(id, state, lifetime);
        byte[] key = key(id);
        // at least 1 ms: PX 0 is an error in Redis, and a positive lifetime must not become one
        long millis = Math.max(1, lifetime.toMillis());
        try {
            redis.set(key, state, SetParams.setParams().px(millis));
        } catch (JedisException e) {
            throw failure("store a session", e);
        }
    }

    @Override
    public byte[] get(byte[] id) {
        SessionLimits.checkId(id);
        byte[] key = key(id);
        try {
            return redis.get(key);
        } catch (JedisConnectionException e) {
            // unreachable, or no answer within the timeout: a full handshake instead of a resumption
            return null;
        } catch (JedisException e) {
            // an error Redis answered (wrong password, wrong type): configuration, so say so
            throw failure("look up a session", e);
        }
    }

    @Override
    public void remove(byte[] id) {
        SessionLimits.checkId(id);
        byte[] key = key(id);
        try {
            redis.del(key);
        } catch (JedisException e) {
            throw failure("forget a session", e);
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            redis.close();
        }
    }

    @Override
    public String toString() {
        return "RedisSessionStore[" + where + ", prefix " + prefix + "]";
    }

    private byte[] key(byte[] id) {
        if (closed) {
            throw new IllegalStateException("RedisSessionStore for " + where + " is closed");
        }
        return (prefix + HEX.formatHex(id)).getBytes(StandardCharsets.UTF_8);
    }

    private KeywayException failure(String what, JedisException e) {
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        // Jedis messages name the host and the server's error, never the credentials; keep them to one line
        reason = Printable.escape(reason.replaceAll("\\s+", " ").strip().replaceAll("\\.$", "")); // the server's own text
        return new KeywayException(ErrorCode.PEER,
                "Redis session store at " + where + ": could not " + what + ": " + reason,
                "check that Redis runs there and that the URI's user, password and database are right", e);
    }

    private static int port(URI uri) {
        return uri.getPort() == -1 ? DEFAULT_PORT : uri.getPort();
    }

    /** scheme://host:port[/db], never the user or password of the URI. */
    static String redacted(URI uri) {
        String scheme = uri.getScheme() == null ? "?" : uri.getScheme();
        String host = uri.getHost() == null ? "?" : uri.getHost();
        String port = uri.getHost() == null ? "" : ":" + port(uri);
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/") ? "" : uri.getRawPath();
        return scheme + "://" + host + port + path;
    }
}
