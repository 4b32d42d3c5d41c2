/**
 * The values a {@link dev.keyway.tls.TlsConfig} is made of that the handshakes also use: key-exchange groups
 * ({@link dev.keyway.tls.params.NamedGroup}) and a kept session to resume ({@link dev.keyway.tls.params.Ticket}).
 * They sit below both {@code dev.keyway.tls} and {@code dev.keyway.tls.handshake}, so the config does not
 * import the handshakes that read it.
 */
package dev.keyway.tls.params;
