/**
 * Passive decryption: a captured TLS 1.0-1.3 connection's two byte streams (from {@code dev.keyway.tls.capture})
 * opened with the secrets of a key log ({@code dev.keyway.core.keylog.ParsedKeyLog}), as {@code keyway tls
 * decrypt} does. {@link dev.keyway.tls.decrypt.TrafficDecryptor} is the entry point and
 * {@link dev.keyway.tls.decrypt.DecryptedConnection} its result. Hellos and handshake messages are read through
 * {@link dev.keyway.tls.handshake.ObservedHandshake}, records opened by {@code dev.keyway.tls.record}'s
 * protections; only what a live Keyway connection never reads (TLS 1.0's chained CBC IVs, encrypt-then-MAC) has
 * code of its own here.
 */
package dev.keyway.tls.decrypt;
