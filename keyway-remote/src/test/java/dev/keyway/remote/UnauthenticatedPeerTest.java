package dev.keyway.remote;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.tls.TlsConnection;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Alert;
import dev.keyway.tls.params.TlsException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.SecureRandom;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Nothing a peer sends is acted on before it has proven an allowed identity: not over TLS with an unknown key (the
 * handshake ends with access_denied), not in plain TCP, and not from an allowed key before its HELLO proof. Each
 * peer sends, right behind its handshake, the frames that would open a session and run a command that leaves a
 * mark; the mark never appears, no session opens, and the audit log records no command.
 */
@Timeout(60)
class UnauthenticatedPeerTest {
    @TempDir
    Path tmp;
    HostFixture f;
    Path marker;

    @BeforeEach
    void start() throws Exception {
        f = HostFixture.start(tmp);
        marker = f.work.resolve("ran");
    }

    @AfterEach
    void stop() {
        f.close();
    }

    /** OPEN, then RUN of a command that would leave the marker, with the end of its stdin. */
    byte[] openAndRun() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new Frame(Frame.OPEN, new Fields.Writer().str("x").str("default")).encode());
        b.writeBytes(new Frame(Frame.RUN, new Fields.Writer().strs(List.of("touch " + marker)).strs(List.of()).u8(0)).encode());
        b.writeBytes(new Frame(Frame.STDIN_END, new byte[0]).encode());
        return b.toByteArray();
    }

    TlsConnection connect(Identity id) throws IOException {
        KeyPair keys = RemoteKeys.signingKeyPair(id);
        TlsConfig config = TlsConfig.builder()
                .trustAnchors(List.of(f.dir.certificate()))
                .serverName("127.0.0.1")
                .certificate(List.of(RemoteKeys.clientCertificate(id, keys)), keys.getPrivate())
                .alpn(List.of(RemoteKeys.ALPN))
                .build();
        Socket socket = new Socket("127.0.0.1", f.host.address().getPort());
        socket.setSoTimeout(10_000);
        return TlsConnection.connect(socket, config);
    }

    static byte[] hello(Identity id, TlsConnection tls) {
        byte[] exporter = tls.exportKeyingMaterial(RemoteKeys.EXPORTER_LABEL, new byte[0], 32);
        return new Frame(Frame.HELLO, new Fields.Writer().bytes(id.sign(RemoteKeys.proofMessage(exporter)))).encode();
    }

    void assertNothingRan() throws InterruptedException {
        Thread.sleep(300); // a command the host had started would have touched the marker by now
        assertThat(marker).doesNotExist();
        assertThat(f.host.sessionIds()).isEmpty();
        assertThat(f.audit("open")).isEmpty();
        assertThat(f.audit("command")).isEmpty();
    }

    @Test
    void anUnknownKeyIsRefusedInTheHandshakeAndItsFramesAreNeverRead() throws Exception {
        try (Identity mallory = Identity.generate(KeyType.X25519)) {
            TlsException failure = null;
            try (TlsConnection tls = connect(mallory)) {
                // TLS 1.3: the client has sent its Finished; the frames go right behind it
                OutputStream out = tls.getOutputStream();
                out.write(hello(mallory, tls));
                out.write(openAndRun());
                out.flush();
                InputStream in = tls.getInputStream();
                assertThat(in.read()).as("the host sends nothing but the alert").isEqualTo(-1);
            } catch (TlsException e) {
                failure = e;
            }
            assertThat(failure).isNotNull();
            assertThat(failure.alert()).isEqualTo(Alert.ACCESS_DENIED);
            assertThat(failure.received()).isTrue();
            // the same through the client API: exit 4, with the hint to ask for 'keyway remote allow'
            RemoteClient client = f.clientOf(mallory);
            assertThatThrownBy(() -> client.open(f.addr(), "x", "default")).isInstanceOfSatisfying(KeywayException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.POLICY);
                assertThat(e.getMessage()).contains("does not allow this identity");
            });
        }
        assertNothingRan();
    }

    @Test
    void plainTcpGarbageGetsAnAlertOrNothing() throws Exception {
        byte[] garbage = new byte[4096];
        new SecureRandom().nextBytes(garbage);
        for (byte[] attempt : List.of("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII), garbage, openAndRun())) {
            try (Socket s = new Socket("127.0.0.1", f.host.address().getPort())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(attempt);
                s.getOutputStream().flush();
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                try {
                    InputStream in = s.getInputStream();
                    byte[] buf = new byte[1024];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        got.write(buf, 0, n);
                    }
                } catch (SocketTimeoutException e) {
                    throw new AssertionError("the host kept the connection open", e);
                } catch (IOException reset) {
                    // a reset is an answer too
                }
                byte[] r = got.toByteArray();
                if (r.length > 0) {
                    // one TLS alert record (content type 21) in the clear: 5 bytes of header, level and description
                    assertThat(r).hasSize(7);
                    assertThat(r[0]).isEqualTo((byte) 21);
                    assertThat(r[1]).isEqualTo((byte) 3);
                    assertThat(r[5]).isEqualTo((byte) 2); // fatal
                }
            }
        }
        assertNothingRan();
    }

    @Test
    void anAllowedKeyMustProveItselfInItsFirstFrameBeforeAnythingIsRead() throws Exception {
        // a request before HELLO: refused, the connection closed, the request never run
        try (TlsConnection tls = connect(f.alice)) {
            tls.getOutputStream().write(openAndRun());
            Frame reply = Frame.read(tls.getInputStream());
            assertThat(reply.type()).isEqualTo(Frame.ERROR);
            Fields.Reader r = reply.reader();
            assertThat(r.u8()).isEqualTo(2);
            assertThat(r.str()).contains("the first frame must be HELLO");
            assertThat(Frame.read(tls.getInputStream())).isNull();
        }
        // a HELLO whose signature is over another connection's exporter: exit 3, audited, and nothing after it read
        try (TlsConnection other = connect(f.alice); TlsConnection tls = connect(f.alice)) {
            OutputStream out = tls.getOutputStream();
            out.write(hello(f.alice, other));
            out.write(openAndRun());
            Frame reply = Frame.read(tls.getInputStream());
            assertThat(reply.type()).isEqualTo(Frame.ERROR);
            Fields.Reader r = reply.reader();
            assertThat(r.u8()).isEqualTo(3);
            assertThat(r.str()).contains("does not verify");
        }
        assertThat(f.audit("refused")).singleElement().satisfies(e -> {
            assertThat(e.path("client").asText()).isEqualTo("alice");
            assertThat(e.path("outcome").asText()).isEqualTo("auth-failed");
        });
        assertNothingRan();
        // the same key with a good proof gets in
        try (TlsConnection tls = connect(f.alice)) {
            tls.getOutputStream().write(hello(f.alice, tls));
            assertThat(Frame.read(tls.getInputStream()).type()).isEqualTo(Frame.WELCOME);
        }
    }
}
