package dev.keyway.tls.session;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Redis store against a real Redis at 127.0.0.1:6379 ({@code KEYWAY_TEST_REDIS} overrides the URI).
 * Skipped, with the reason printed, where none is reachable. Every run writes under its own random
 * prefix and deletes what is left under it afterwards.
 */
@Tag("redis")
class RedisSessionStoreTest {
    static final URI SERVER = URI.create(System.getenv().getOrDefault("KEYWAY_TEST_REDIS", "redis://127.0.0.1:6379"));
    static final Duration HOUR = Duration.ofHours(1);
    static String prefix;

    @BeforeAll
    static void reachable() {
        try (RedisClient c = RedisClient.create(SERVER)) {
            c.ping();
        } catch (RuntimeException e) {
            String reason = "Redis not reachable at " + RedisSessionStore.redacted(SERVER) + " (" + e.getMessage()
                    + "); start it or set KEYWAY_TEST_REDIS";
            System.out.println("SKIPPED RedisSessionStoreTest: " + reason);
            Assumptions.abort(reason);
        }
        byte[] r = new byte[6];
        new SecureRandom().nextBytes(r);
        prefix = "keyway:test:" + HexFormat.of().formatHex(r) + ":";
    }

    @AfterAll
    static void cleanUp() {
        if (prefix == null) {
            return;
        }
        try (RedisClient c = RedisClient.create(SERVER)) {
            String cursor = ScanParams.SCAN_POINTER_START;
            do {
                ScanResult<String> page = c.scan(cursor, new ScanParams().match(prefix + "*").count(500));
                List<String> keys = page.getResult();
                if (!keys.isEmpty()) {
                    c.del(keys.toArray(String[]::new));
                }
                cursor = page.getCursor();
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        }
    }

    static RedisSessionStore store() {
        return new RedisSessionStore(SERVER, prefix);
    }

    static byte[] randomId() {
        byte[] id = new byte[32];
        new SecureRandom().nextBytes(id);
        return id;
    }

    static byte[] state(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void roundTrip() {
        try (RedisSessionStore store = store()) {
            byte[] id = randomId();
            byte[] sealed = new byte[300];
            new SecureRandom().nextBytes(sealed);
            store.put(id, sealed, HOUR);
            assertThat(store.get(id)).isEqualTo(sealed);
            assertThat(store.get(randomId())).isNull();
            store.put(id, state("replaced"), HOUR);
            assertThat(store.get(id)).isEqualTo(state("replaced"));
        }
    }

    @Test
    void keyIsPrefixPlusLowercaseHexAndRedisHoldsTheLifetime() {
        byte[] id = {(byte) 0xAB, 0x01, (byte) 0xFF};
        try (RedisSessionStore store = store(); RedisClient c = RedisClient.create(SERVER)) {
            store.put(id, state("s"), Duration.ofSeconds(90));
            byte[] key = (prefix + "ab01ff").getBytes(StandardCharsets.UTF_8);
            assertThat(c.get(key)).isEqualTo(state("s"));
            assertThat(c.pttl(key)).isBetween(80_000L, 90_000L);
        }
    }

    @Test
    void twoServersShareEntries() {
        byte[] id = randomId();
        try (RedisSessionStore a = store(); RedisSessionStore b = store()) {
            a.put(id, state("from a"), HOUR);
            assertThat(b.get(id)).isEqualTo(state("from a"));
            // a session ended with an alert on one server cannot be resumed on the other
            b.remove(id);
            assertThat(a.get(id)).isNull();
        }
    }

    @Test
    void survivesAServerRestart() {
        byte[] id = randomId();
        try (RedisSessionStore before = store()) {
            before.put(id, state("kept"), HOUR);
        }
        try (RedisSessionStore after = store()) {
            assertThat(after.get(id)).isEqualTo(state("kept"));
        }
    }

    @Test
    void otherPrefixesDoNotSeeEachOther() {
        byte[] id = randomId();
        try (RedisSessionStore a = store(); RedisSessionStore other = new RedisSessionStore(SERVER, prefix + "other:")) {
            a.put(id, state("a"), HOUR);
            assertThat(other.get(id)).isNull();
        }
    }

    @Test
    void redisExpiresEntries() throws InterruptedException {
        byte[] id = randomId();
        try (RedisSessionStore store = store()) {
            store.put(id, state("short"), Duration.ofMillis(300));
            assertThat(store.get(id)).isEqualTo(state("short"));
            Thread.sleep(700);
            assertThat(store.get(id)).isNull();
        }
    }

    @Test
    void removeForgets() {
        byte[] id = randomId();
        try (RedisSessionStore store = store()) {
            store.put(id, state("x"), HOUR);
            store.remove(id);
            store.remove(id); // already gone: no error
            assertThat(store.get(id)).isNull();
        }
    }

    @Test
    void boundsAreCheckedBeforeRedisIsAsked() {
        try (RedisSessionStore store = store()) {
            assertThatThrownBy(() -> store.put(new byte[33], state("x"), HOUR)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.put(new byte[0], state("x"), HOUR)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.get(new byte[33])).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.remove(new byte[0])).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.put(randomId(), new byte[16 * 1024 + 1], HOUR)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.put(randomId(), state("x"), Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> store.put(randomId(), state("x"), Duration.ofHours(25))).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void unreachableRedisMeansNoResumptionOnGetAndAnErrorOnPut() {
        URI nowhere = URI.create("redis://keyway:hunter2secret@127.0.0.1:1");
        try (RedisSessionStore store = new RedisSessionStore(nowhere)) {
            byte[] id = randomId();
            assertThat(store.get(id)).isNull();
            assertThatThrownBy(() -> store.put(id, state("x"), HOUR))
                    .isInstanceOf(KeywayException.class)
                    .hasMessageContaining("redis://127.0.0.1:1")
                    .hasMessageNotContaining("hunter2secret")
                    .satisfies(e -> assertThat(((KeywayException) e).code()).isEqualTo(ErrorCode.PEER))
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
            assertThatThrownBy(() -> store.remove(id))
                    .isInstanceOf(KeywayException.class)
                    .hasMessageContaining("redis://127.0.0.1:1");
            assertThat(store.toString()).contains("127.0.0.1:1").doesNotContain("hunter2secret").doesNotContain("keyway@");
        }
    }

    @Test
    void silentRedisTimesOutQuickly() throws Exception {
        // accepts connections and never answers: a hung Redis must cost a handshake seconds, not forever
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> held = new CopyOnWriteArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept());
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            String where = "redis://127.0.0.1:" + silent.getLocalPort();
            try (RedisSessionStore store = new RedisSessionStore(URI.create(where), prefix)) {
                byte[] id = randomId();
                long t0 = System.nanoTime();
                assertThat(store.get(id)).isNull();
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
                t0 = System.nanoTime();
                assertThatThrownBy(() -> store.put(id, state("x"), HOUR))
                        .isInstanceOf(KeywayException.class)
                        .hasMessageContaining(where)
                        .hasMessageContaining("timed out");
                assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }

    @Test
    void wrongPasswordIsAnErrorEvenOnGetAndIsNeverShown() {
        // a misconfiguration, unlike an outage, should not hide behind "no such session"
        URI wrong = URI.create("redis://keyway-test-nobody:hunter2secret@" + SERVER.getHost() + ":"
                + (SERVER.getPort() == -1 ? 6379 : SERVER.getPort()));
        try (RedisSessionStore store = new RedisSessionStore(wrong, prefix)) {
            assertThatThrownBy(() -> store.get(randomId()))
                    .isInstanceOf(KeywayException.class)
                    .hasMessageContaining("redis://" + SERVER.getHost())
                    .hasMessageNotContaining("hunter2secret")
                    .hasMessageNotContaining("keyway-test-nobody");
            assertThatThrownBy(() -> store.put(randomId(), state("x"), HOUR))
                    .isInstanceOf(KeywayException.class)
                    .hasMessageNotContaining("hunter2secret");
        }
    }

    @Test
    void portDefaultsTo6379() {
        try (RedisSessionStore store = new RedisSessionStore(URI.create("redis://" + SERVER.getHost()), prefix)) {
            assertThat(store.toString()).contains("redis://" + SERVER.getHost() + ":6379");
            Assumptions.assumeTrue(SERVER.getPort() == -1 || SERVER.getPort() == 6379, "the test Redis is not on 6379");
            byte[] id = randomId();
            store.put(id, state("default port"), HOUR);
            assertThat(store.get(id)).isEqualTo(state("default port"));
        }
    }

    @Test
    void notARedisUriIsAUsageError() {
        assertThatThrownBy(() -> new RedisSessionStore(URI.create("http://user:pw@127.0.0.1:6379")))
                .isInstanceOf(KeywayException.class)
                .hasMessageContaining("http://127.0.0.1:6379")
                .hasMessageNotContaining("pw");
    }

    @Test
    void closedStoreRefusesWork() {
        RedisSessionStore store = store();
        store.close();
        store.close(); // twice is harmless
        assertThatThrownBy(() -> store.get(randomId())).isInstanceOf(IllegalStateException.class);
    }
}
