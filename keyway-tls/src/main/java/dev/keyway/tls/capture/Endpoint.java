package dev.keyway.tls.capture;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Objects;

/** One end of a TCP connection: an IPv4 or IPv6 address and a port. */
public record Endpoint(InetAddress address, int port) {
    /** Orders endpoints by address bytes, then port; gives the two ends of a connection a fixed order. */
    static final Comparator<Endpoint> ORDER = Comparator
            .comparing((Endpoint e) -> e.address.getAddress(), Arrays::compareUnsigned)
            .thenComparingInt(Endpoint::port);

    public Endpoint {
        Objects.requireNonNull(address, "address");
        if (port < 0 || port > 0xffff) {
            throw new IllegalArgumentException("port " + port + " is not between 0 and 65535");
        }
    }

    /** {@code 127.0.0.1:443} or {@code [::1]:443}. */
    @Override
    public String toString() {
        String host = address.getHostAddress();
        return (address instanceof Inet6Address ? "[" + host + "]" : host) + ":" + port;
    }
}
