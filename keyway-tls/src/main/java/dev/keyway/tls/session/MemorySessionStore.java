package dev.keyway.tls.session;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Sessions in this process's memory: the default, for a single server. Bounded in entries, least recently
 * used first out when full, so a flood of full handshakes costs resumption for old clients but never
 * memory beyond {@code maxEntries} times {@link SessionLimits#MAX_STATE}. Entries expire by the clock.
 * Bytes are copied in and out, so callers may zero their arrays.
 */
public final class MemorySessionStore implements SessionStore {
    /** About 20,000 sessions of a few hundred bytes each: a few MiB, enough for a busy single server. */
    public static final int DEFAULT_MAX_ENTRIES = 20_000;

    private record Entry(byte[] state, Instant expires) {
    }

    private final int maxEntries;
    private final Clock clock;
    // Access order, so iteration starts at the least recently used entry. Expired entries are not swept:
    // they are removed when looked up, and, never being touched again, drift to the eldest end and are
    // the first evicted. Sweeping on every put would cost O(n) per handshake once the store is full.
    private final LinkedHashMap<Id, Entry> entries;

    /** {@value #DEFAULT_MAX_ENTRIES} entries, the system clock. */
    public MemorySessionStore() {
        this(DEFAULT_MAX_ENTRIES, Clock.systemUTC());
    }

    public MemorySessionStore(int maxEntries, Clock clock) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be positive, not " + maxEntries);
        }
        this.maxEntries = maxEntries;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Id, MemorySessionStore.Entry> eldest) {
                return size() > MemorySessionStore.this.maxEntries;
            }
        };
    }

    @Override
    public void put(byte[] id, byte[] state, Duration lifetime) {
        SessionLimits.checkPut(id, state, lifetime);
        Entry e = new Entry(state.clone(), clock.instant().plus(lifetime));
        Id key = new Id(id.clone());
        synchronized (entries) {
            // in access order, replacing an entry also moves it to the most recently used end
            entries.put(key, e);
        }
    }

    @Override
    public byte[] get(byte[] id) {
        SessionLimits.checkId(id);
        Id key = new Id(id.clone());
        Instant now = clock.instant();
        synchronized (entries) {
            Entry e = entries.get(key);
            if (e == null) {
                return null;
            }
            if (!now.isBefore(e.expires())) {
                entries.remove(key);
                return null;
            }
            return e.state().clone();
        }
    }

    @Override
    public void remove(byte[] id) {
        SessionLimits.checkId(id);
        Id key = new Id(id.clone());
        synchronized (entries) {
            entries.remove(key);
        }
    }

    /** Entries held now, expired ones not yet dropped included. */
    public int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    public int maxEntries() {
        return maxEntries;
    }

    /** Drops every entry: sealed state should not outlive the server that sealed it longer than needed. */
    @Override
    public void close() {
        synchronized (entries) {
            entries.clear();
        }
    }

    @Override
    public String toString() {
        return "MemorySessionStore[" + size() + "/" + maxEntries + " entries]";
    }

    /** A session id as a map key: byte arrays compare by identity, ids must compare by content. */
    private record Id(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Id other && Arrays.equals(bytes, other.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return "Id[" + bytes.length + " bytes]";
        }
    }
}
