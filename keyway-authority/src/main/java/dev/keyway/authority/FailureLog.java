package dev.keyway.authority;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Refused unauthenticated requests, counted per source address and minute: each (source, minute) becomes
 * one audit row with a count and the count of each kind of failure, written once the minute is over (and
 * when the server stops). A flood of bad requests costs the log one row per source and minute, not one
 * row per request. At most {@link #MAX_SOURCES} sources are told apart per minute; the rest are counted
 * together under the source {@code "other"}. Counts of a minute not yet written are lost if the process is
 * killed (docs/AUTHORITY.md, "The audit log").
 */
final class FailureLog implements AutoCloseable {
    static final int MAX_SOURCES = 10_000;
    static final String OTHER = "other";

    private final AuthorityStore store;
    private final Clock clock;
    private final Map<Key, Counts> counts = new ConcurrentHashMap<>();
    private final ScheduledExecutorService flusher;

    private record Key(String source, long minute) {
    }

    private static final class Counts {
        final AtomicLong total = new AtomicLong();
        final Map<RequestSigning.Kind, AtomicLong> kinds = new ConcurrentHashMap<>();
    }

    FailureLog(AuthorityStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
        this.flusher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "keyway-failure-log");
            t.setDaemon(true);
            return t;
        });
        flusher.scheduleWithFixedDelay(this::flushPast, 10, 10, TimeUnit.SECONDS);
    }

    /** Counts one refused request from {@code source}. */
    void record(String source, RequestSigning.Kind kind) {
        long minute = clock.millis() / 60_000;
        Key key = new Key(source == null ? "unknown" : source, minute);
        Counts c = counts.get(key);
        if (c == null) {
            if (counts.size() >= MAX_SOURCES) {
                key = new Key(OTHER, minute);
            }
            c = counts.computeIfAbsent(key, k -> new Counts());
        }
        c.total.incrementAndGet();
        c.kinds.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    }

    /** Writes the rows of every minute that is over. */
    void flushPast() {
        flush(clock.millis() / 60_000);
    }

    /** Writes the rows of every minute before {@code beforeMinute} (everything, for {@code Long.MAX_VALUE}). */
    synchronized void flush(long beforeMinute) {
        for (Key key : counts.keySet()) {
            if (key.minute() >= beforeMinute) {
                continue;
            }
            Counts c = counts.remove(key);
            if (c == null) {
                continue;
            }
            Map<String, Long> kinds = new TreeMap<>();
            c.kinds.forEach((k, v) -> kinds.put(k.label(), v.get()));
            StringBuilder detail = new StringBuilder("{\"minute\":\"").append(Instant.ofEpochMilli(key.minute() * 60_000))
                    .append("\",\"count\":").append(c.total.get()).append(",\"kinds\":{");
            boolean first = true;
            for (Map.Entry<String, Long> e : kinds.entrySet()) {
                detail.append(first ? "" : ",").append(AuthorityStore.json(e.getKey())).append(':').append(e.getValue());
                first = false;
            }
            detail.append("}}");
            try {
                store.audit(Instant.ofEpochMilli(clock.millis()), "unauthenticated", "authenticate", key.source(), "refused",
                        detail.toString());
            } catch (RuntimeException e) {
                // The database is down: keep the counts for the next flush rather than lose them.
                counts.merge(key, c, (a, b) -> {
                    a.total.addAndGet(b.total.get());
                    b.kinds.forEach((k, v) -> a.kinds.computeIfAbsent(k, x -> new AtomicLong()).addAndGet(v.get()));
                    return a;
                });
                return;
            }
        }
    }

    /** Writes everything counted, then stops the flusher. */
    @Override
    public void close() {
        flusher.shutdownNow();
        try {
            flush(Long.MAX_VALUE);
        } catch (RuntimeException e) {
            // the store is already closed: nothing more can be written
        }
    }
}
