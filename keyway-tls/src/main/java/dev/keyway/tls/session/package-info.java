/**
 * The TLS 1.2 server's session-ID cache (RFC 5246 section 7.4.1.2): a {@link dev.keyway.tls.session.SessionStore}
 * keeps sealed session state by session ID, in memory ({@link dev.keyway.tls.session.MemorySessionStore}, the
 * default) or in Redis ({@link dev.keyway.tls.session.RedisSessionStore}, shared by several servers and kept
 * across restarts). A store only ever sees sealed bytes; it never logs ids or states.
 */
package dev.keyway.tls.session;
