package dev.keyway.tls.session;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MemorySessionStoreTest {
    private static final Duration HOUR = Duration.ofHours(1);

    /** A clock the test moves by hand, so expiry is checked without sleeping. */
    static final class TestClock extends Clock {
        private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    static byte[] id(int n) {
        byte[] id = new byte[32];
        for (int i = 0; i < 4; i++) {
            id[i] = (byte) (n >>> (8 * i));
        }
        id[31] = 0x5a;
        return id;
    }

    static byte[] state(int n) {
        return ("state-" + n).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Test
    void roundTrip() {
        MemorySessionStore store = new MemorySessionStore();
        store.put(id(1), state(1), HOUR);
        assertThat(store.get(id(1))).isEqualTo(state(1));
        assertThat(store.get(id(2))).isNull();
    }

    @Test
    void defaultBoundIsTwentyThousand() {
        assertThat(new MemorySessionStore().maxEntries()).isEqualTo(20_000);
    }

    @Test
    void shortAndLongIdsAreDistinctKeys() {
        MemorySessionStore store = new MemorySessionStore();
        store.put(new byte[] {7}, state(1), HOUR);
        store.put(new byte[] {7, 0}, state(2), HOUR);
        assertThat(store.get(new byte[] {7})).isEqualTo(state(1));
        assertThat(store.get(new byte[] {7, 0})).isEqualTo(state(2));
    }

    @Test
    void copiesBytesInAndOut() {
        MemorySessionStore store = new MemorySessionStore();
        byte[] id = id(1);
        byte[] state = state(1);
        store.put(id, state, HOUR);
        byte[] idCopy = id.clone();
        // the caller zeroes its arrays after handing them over
        java.util.Arrays.fill(state, (byte) 0);
        java.util.Arrays.fill(id, (byte) 0);
        byte[] out = store.get(idCopy);
        assertThat(out).isEqualTo(state(1));
        // and scribbling on what get returned changes nothing inside
        java.util.Arrays.fill(out, (byte) 0);
        assertThat(store.get(idCopy)).isEqualTo(state(1));
        assertThat(store.get(id)).isNull();
    }

    @Test
    void evictsTheLeastRecentlyUsedAtTheBound() {
        MemorySessionStore store = new MemorySessionStore(3, new TestClock());
        store.put(id(1), state(1), HOUR);
        store.put(id(2), state(2), HOUR);
        store.put(id(3), state(3), HOUR);
        // a lookup makes 1 recently used, so 2 is now the eldest
        assertThat(store.get(id(1))).isEqualTo(state(1));
        store.put(id(4), state(4), HOUR);
        assertThat(store.size()).isEqualTo(3);
        assertThat(store.get(id(2))).isNull();
        assertThat(store.get(id(1))).isEqualTo(state(1));
        assertThat(store.get(id(3))).isEqualTo(state(3));
        assertThat(store.get(id(4))).isEqualTo(state(4));
    }

    @Test
    void expiresByTheClock() {
        TestClock clock = new TestClock();
        MemorySessionStore store = new MemorySessionStore(10, clock);
        store.put(id(1), state(1), Duration.ofMinutes(5));
        store.put(id(2), state(2), Duration.ofMinutes(10));
        clock.advance(Duration.ofMinutes(5).minusMillis(1));
        assertThat(store.get(id(1))).isEqualTo(state(1));
        clock.advance(Duration.ofMillis(1));
        assertThat(store.get(id(1))).isNull();
        assertThat(store.get(id(2))).isEqualTo(state(2));
        // an expired entry found by a lookup is dropped, not kept taking a slot
        assertThat(store.size()).isEqualTo(1);
        clock.advance(Duration.ofMinutes(5));
        assertThat(store.get(id(2))).isNull();
        assertThat(store.size()).isZero();
    }

    @Test
    void replacementTakesTheNewStateAndLifetime() {
        TestClock clock = new TestClock();
        MemorySessionStore store = new MemorySessionStore(10, clock);
        store.put(id(1), state(1), Duration.ofMinutes(1));
        store.put(id(1), state(2), Duration.ofMinutes(10));
        assertThat(store.size()).isEqualTo(1);
        clock.advance(Duration.ofMinutes(2));
        assertThat(store.get(id(1))).isEqualTo(state(2));
    }

    @Test
    void replacementCountsAsRecentUse() {
        MemorySessionStore store = new MemorySessionStore(2, new TestClock());
        store.put(id(1), state(1), HOUR);
        store.put(id(2), state(2), HOUR);
        store.put(id(1), state(11), HOUR);
        store.put(id(3), state(3), HOUR);
        assertThat(store.get(id(1))).isEqualTo(state(11));
        assertThat(store.get(id(2))).isNull();
    }

    @Test
    void removeForgets() {
        MemorySessionStore store = new MemorySessionStore();
        store.put(id(1), state(1), HOUR);
        store.put(id(2), state(2), HOUR);
        store.remove(id(1));
        store.remove(id(9)); // absent: nothing to do, no error
        assertThat(store.get(id(1))).isNull();
        assertThat(store.get(id(2))).isEqualTo(state(2));
    }

    @Test
    void closeDropsEverything() {
        MemorySessionStore store = new MemorySessionStore();
        store.put(id(1), state(1), HOUR);
        store.close();
        assertThat(store.get(id(1))).isNull();
        assertThat(store.size()).isZero();
    }

    @Test
    void boundsAreChecked() {
        MemorySessionStore store = new MemorySessionStore();
        assertThatThrownBy(() -> store.put(new byte[0], state(1), HOUR))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1..32");
        assertThatThrownBy(() -> store.put(new byte[33], state(1), HOUR))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("33");
        assertThatThrownBy(() -> store.get(new byte[33])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.get(new byte[0])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.remove(new byte[33])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.put(id(1), new byte[16 * 1024 + 1], HOUR))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16384");
        assertThatThrownBy(() -> store.put(id(1), state(1), Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.put(id(1), state(1), Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.put(id(1), state(1), Duration.ofHours(24).plusNanos(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new MemorySessionStore(0, Clock.systemUTC())).isInstanceOf(IllegalArgumentException.class);
        assertThat(store.size()).isZero();

        // the limits themselves are allowed
        store.put(new byte[1], new byte[16 * 1024], Duration.ofHours(24));
        store.put(new byte[32], new byte[0], Duration.ofNanos(1));
        assertThat(store.get(new byte[1])).hasSize(16 * 1024);
    }

    @Test
    void concurrentPutsAndGetsStayWithinTheBound() throws Exception {
        int bound = 500;
        MemorySessionStore store = new MemorySessionStore(bound, Clock.systemUTC());
        int threads = 8;
        int perThread = 5_000;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * perThread;
                results.add(pool.submit(() -> {
                    start.await();
                    int wrong = 0;
                    for (int i = 0; i < perThread; i++) {
                        int n = base + i;
                        store.put(id(n), state(n), HOUR);
                        byte[] back = store.get(id(n));
                        // evicted by another thread in between is fine; someone else's state is not
                        if (back != null && !java.util.Arrays.equals(back, state(n))) {
                            wrong++;
                        }
                        byte[] older = store.get(id(base + i / 2));
                        if (older != null && !java.util.Arrays.equals(older, state(base + i / 2))) {
                            wrong++;
                        }
                        if (i % 7 == 0) {
                            store.remove(id(n));
                        }
                        if (store.size() > bound) {
                            wrong++;
                        }
                    }
                    return wrong;
                }));
            }
            start.countDown();
            for (Future<Integer> f : results) {
                assertThat(f.get(60, TimeUnit.SECONDS)).isZero();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(store.size()).isLessThanOrEqualTo(bound).isGreaterThan(bound / 2);
        // the most recent put of the last thread to finish is still there, unless it was removed
        int hits = 0;
        for (int t = 0; t < threads; t++) {
            int n = t * perThread + perThread - 1;
            if (store.get(id(n)) != null) {
                hits++;
            }
        }
        assertThat(hits).isPositive();
    }
}
