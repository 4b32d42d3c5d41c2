package dev.keyway.tls.capture;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One TCP connection found in a capture, with its two reassembled byte streams.
 *
 * @param client   the side that sent the SYN; when the handshake was not captured, the side that sent the
 *                 first packet (a warning says so)
 * @param start    the time of the connection's first packet
 * @param warnings what is missing or guessed, one sentence each; empty for a cleanly captured connection
 */
public record TcpConnection(Endpoint client, Endpoint server, Instant start, TcpStream clientToServer, TcpStream serverToClient,
                            List<String> warnings) {
    public TcpConnection {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(clientToServer, "clientToServer");
        Objects.requireNonNull(serverToClient, "serverToClient");
        warnings = List.copyOf(warnings);
    }

    @Override
    public String toString() {
        return client + " -> " + server + " (" + clientToServer.length() + " and " + serverToClient.length() + " bytes)";
    }
}
