/**
 * What a connection is configured with: {@link dev.keyway.tls.config.TlsConfig} and its builder, the
 * application's hooks (certificate checks, the ClientHello callback), the server's ticket keys and the
 * cipher-suite policy. The handshakes read a config and {@code dev.keyway.tls} builds connections from one;
 * this package imports neither, so the three form no cycle.
 */
package dev.keyway.tls.config;
