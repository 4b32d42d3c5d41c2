package dev.keyway.tls;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link TlsServer}'s caps on open connections: in all, and per source (an IPv4 address, or an IPv6 /64). A
 * connection is counted in when it is accepted ({@link #admit}) and out when it has ended ({@link #release}), from
 * any loop's thread.
 */
final class ConnectionLimits {
    private final int maxPerAddress;
    private final int maxConnections;
    /** Open connections per {@link #source}. */
    private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
    private final AtomicInteger open = new AtomicInteger();

    ConnectionLimits(int maxPerAddress, int maxConnections) {
        this.maxPerAddress = maxPerAddress;
        this.maxConnections = maxConnections;
    }

    /** Connections counted in and not released yet. */
    int open() {
        return open.get();
    }

    /** Counts the connection in, or says why it is refused (and counts nothing). */
    String admit(InetSocketAddress remote) {
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            return "the server holds " + maxConnections + " connections, its limit";
        }
        InetAddress source = source(remote.getAddress());
        int n = perAddress.merge(source, 1, Integer::sum);
        if (n > maxPerAddress) {
            releaseSource(remote.getAddress());
            open.decrementAndGet();
            return maxPerAddress + " connections from " + describe(source) + " are open already, the limit per address";
        }
        return null;
    }

    /** Counts out a connection {@link #admit} let in. */
    void release(InetSocketAddress remote) {
        releaseSource(remote.getAddress());
        open.decrementAndGet();
    }

    private void releaseSource(InetAddress address) {
        perAddress.computeIfPresent(source(address), (a, n) -> n == 1 ? null : n - 1);
    }

    /**
     * What the per-address cap counts a connection under: its IPv4 address, or the /64 its IPv6 address is in. An
     * IPv6 host is usually given a whole /64 (interface IDs are 64 bits, RFC 4291 section 2.5.1) and may pick any
     * address in it, so a cap per single address would hold it to nothing.
     */
    static InetAddress source(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address;
        }
        byte[] prefix = address.getAddress();
        Arrays.fill(prefix, 8, 16, (byte) 0);
        try {
            return InetAddress.getByAddress(prefix);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("16 bytes are an IPv6 address", e);
        }
    }

    /** A source as a refusal names it: {@code 192.0.2.7}, or {@code 2001:db8:0:1:0:0:0:0/64}. */
    private static String describe(InetAddress source) {
        return source.getHostAddress() + (source instanceof Inet6Address ? "/64" : "");
    }
}
