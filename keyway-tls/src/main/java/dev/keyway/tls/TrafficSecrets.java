package dev.keyway.tls;

/** The first application traffic secrets of both directions (RFC 8446 section 7.1), as the key log has them. */
public record TrafficSecrets(byte[] clientRandom, byte[] client, byte[] server) {
    @Override
    public String toString() {
        return "TrafficSecrets[" + client.length * 8 + "-bit]";
    }
}
