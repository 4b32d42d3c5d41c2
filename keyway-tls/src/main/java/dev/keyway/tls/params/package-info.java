/**
 * The vocabulary every layer of Keyway's TLS shares, at the bottom of the package graph: key-exchange groups
 * ({@link dev.keyway.tls.params.NamedGroup}), a kept session to resume ({@link dev.keyway.tls.params.Ticket}),
 * alert descriptions ({@link dev.keyway.tls.params.Alert}) and the error that carries one
 * ({@link dev.keyway.tls.params.TlsException}). The record layer, the handshakes, passive decryption and the
 * config all use these and none of them is used here.
 */
package dev.keyway.tls.params;
