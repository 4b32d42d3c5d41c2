package dev.keyway.tls.handshake;

import dev.keyway.core.encoding.Hex;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A TLS 1.3 ServerHello that resumes in psk_ke mode carries pre_shared_key and no key_share (RFC 8446 section
 * 4.2.9). Our client offers no PSK-only mode and refuses it (missing_extension); an observer of other peers'
 * handshakes (passive decryption) must read it.
 */
class ServerHelloPskOnlyTest {
    // legacy_version 0303, random, empty session id, TLS_AES_128_GCM_SHA256, no compression,
    // extensions: supported_versions 0304, pre_shared_key index 0
    static final byte[] PSK_ONLY = Hex.decode("0303" + "11".repeat(32) + "00" + "1301" + "00"
            + "000c" + "002b00020304" + "002900020000", "ServerHello");

    @Test
    void anObserverReadsAPskOnlyServerHello() {
        ServerHello sh = ServerHello.parse(PSK_ONLY);
        assertThat(sh.selectedVersion()).isEqualTo(0x0304);
        assertThat(sh.pskSelected()).isZero();
        assertThat(sh.retry()).isFalse();
        ObservedHandshake.Hello seen = ObservedHandshake.serverHello(PSK_ONLY);
        assertThat(seen.has(Extensions.PRE_SHARED_KEY)).isTrue();
        assertThat(seen.has(Extensions.KEY_SHARE)).isFalse();
    }

    @Test
    void ourClientRefusesIt() {
        assertThatThrownBy(() -> ServerHello.parseAsClient(PSK_ONLY)).isInstanceOfSatisfying(TlsException.class,
                e -> assertThat(e.alert()).isEqualTo(Alert.MISSING_EXTENSION));
    }
}
