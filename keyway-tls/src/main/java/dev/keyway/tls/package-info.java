/**
 * Keyway's own TLS 1.3 (and, later, 1.2): record layer, handshakes, certificates, with every secret going
 * through a {@link dev.keyway.core.keylog.KeyLog}.
 */
package dev.keyway.tls;
