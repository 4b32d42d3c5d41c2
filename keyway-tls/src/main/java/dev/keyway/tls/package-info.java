/**
 * Keyway's own TLS 1.3 and 1.2 connections: {@link dev.keyway.tls.TlsEngine} (no I/O of its own),
 * {@link dev.keyway.tls.TlsConnection} over a socket and {@link dev.keyway.tls.TlsServer}, with every secret
 * going through a {@link dev.keyway.core.keylog.KeyLog}. The pieces sit in packages below this one, with no
 * cycle between them: {@code params} (groups, tickets, alerts, the exception), {@code record},
 * {@code config}, {@code session}, {@code cert}, {@code handshake}; passive decryption of captures is in
 * {@code capture} and {@code decrypt}.
 */
package dev.keyway.tls;
