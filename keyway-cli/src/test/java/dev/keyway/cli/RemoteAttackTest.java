package dev.keyway.cli;

import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.IdentityFile;
import dev.keyway.core.identity.KeyType;
import dev.keyway.remote.HostDir;
import dev.keyway.remote.RemoteHost;
import dev.keyway.tls.TlsServer;
import dev.keyway.tls.cert.Certificates;
import dev.keyway.tls.cert.Pem;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.NamedGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@code keyway remote} prints when the other side is hostile: a host (or something answering as one, with a
 * certificate the user was given) that puts terminal escapes in every text it sends, and a client that puts them in
 * names and command lines. Anything the CLI prints that came from a peer must have its control characters escaped.
 */
@Timeout(60)
class RemoteAttackTest {
    /** Sets the window title, clears the screen, returns the cursor to the line's start. */
    private static final String EVIL = "\u001b]0;pwned\u0007\u001b[2J\r\u009b31m";

    @TempDir
    Path tmp;
    TlsServer server;
    Path cacert;
    Path identity;
    Path registry;

    @BeforeEach
    void keys() throws Exception {
        identity = tmp.resolve("me.key");
        try (Identity id = Identity.generate(KeyType.X25519)) {
            IdentityFile.write(identity, id, null);
        }
        registry = tmp.resolve("registry.json");
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static boolean clean(String s) {
        return s.codePoints().noneMatch(c -> (c < 0x20 && c != '\n') || (c >= 0x7F && c < 0xA0));
    }

    /** {@code keyway remote SUBCOMMAND} with the client options, then the rest of {@code command}. */
    private String[] args(String... command) {
        List<String> a = new java.util.ArrayList<>(List.of("remote", command[0]));
        a.addAll(List.of("-i", identity.toString(), "--cacert", cacert.toString(), "--registry", registry.toString(), "--groups", "x25519"));
        a.addAll(List.of(command).subList(1, command.length));
        return a.toArray(new String[0]);
    }

    // ---------------------------------------------------------------- a hostile host

    /** Frames as the protocol writes them (type, 4-byte length, payload), built by hand: the test speaks it from outside. */
    private static final class W {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();

        W u8(int v) {
            b.write(v);
            return this;
        }

        W u32(long v) {
            for (int s = 24; s >= 0; s -= 8) {
                b.write((int) (v >>> s));
            }
            return this;
        }

        W i64(long v) {
            return u32(v >>> 32).u32(v);
        }

        W str(String s) {
            byte[] t = s.getBytes(StandardCharsets.UTF_8);
            b.write(t.length >>> 8);
            b.write(t.length);
            b.writeBytes(t);
            return this;
        }

        byte[] frame(int type) {
            byte[] p = b.toByteArray();
            return concat(new W().u8(type).u32(p.length).b.toByteArray(), p);
        }

        private static byte[] concat(byte[] a, byte[] c) {
            byte[] out = java.util.Arrays.copyOf(a, a.length + c.length);
            System.arraycopy(c, 0, out, a.length, c.length);
            return out;
        }
    }

    /** Answers every request of the protocol with texts full of terminal escapes. */
    private void startHostileHost() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
        KeyPair keys = g.generateKeyPair();
        X509Certificate cert = Certificates.selfSigned(keys, "hostile", List.of("IP:127.0.0.1"), Duration.ofDays(1));
        cacert = tmp.resolve("hostile.crt");
        Files.writeString(cacert, Pem.writeCertificate(cert));
        TlsConfig config = TlsConfig.builder().certificate(List.of(cert), keys.getPrivate()).requireClientCertificate(chain -> true)
                .alpn(List.of("keyway-remote/1")).groups(List.of(NamedGroup.X25519)).build();
        server = TlsServer.builder(config, new TlsServer.Handler() {
            @Override
            public void received(TlsServer.Connection c, byte[] b, int off, int len) {
                ByteArrayOutputStream buf = (ByteArrayOutputStream) c.attachment();
                if (buf == null) {
                    buf = new ByteArrayOutputStream();
                    c.attach(buf);
                }
                buf.write(b, off, len);
                byte[] all = buf.toByteArray();
                int at = 0;
                while (all.length - at >= 5) {
                    int n = ((all[at + 1] & 0xFF) << 24) | ((all[at + 2] & 0xFF) << 16) | ((all[at + 3] & 0xFF) << 8) | (all[at + 4] & 0xFF);
                    if (all.length - at - 5 < n) {
                        break;
                    }
                    answer(c, all[at] & 0xFF);
                    at += 5 + n;
                }
                buf.reset();
                buf.write(all, at, all.length - at);
            }
        }).address(new InetSocketAddress("127.0.0.1", 0)).start();
    }

    private static void answer(TlsServer.Connection c, int type) {
        String created = Instant.now().toString();
        byte[] reply = switch (type) {
            case 0x01 -> new W().str("host " + EVIL).str(EVIL).frame(0x81); // WELCOME
            case 0x02, 0x03 -> new W().str("id" + EVIL).str("evil").str("conf" + EVIL).str("shell" + EVIL).str(created).frame(0x82); // SESSION
            case 0x0B -> new W().frame(0x8B); // DETACH: OK
            case 0x07 -> new W().str("job" + EVIL).frame(0x87); // JOB
            case 0x08 -> { // RECEIVE: a job that ended, then OK
                byte[] state = new W().str("job" + EVIL).str("cmd" + EVIL).u8(1).u32(3).i64(0).i64(0).frame(0x89);
                yield W.concat(state, new W().frame(0x8B));
            }
            case 0x09 -> new byte[0]; // ACK
            case 0x0A -> new W().u32(2) // LISTING: the registry's session, and one it does not know
                    .str("id" + EVIL).str("evil").str("conf" + EVIL).str("state" + EVIL).str(created).i64(5).u32(1).u32(0)
                    .str("other" + EVIL).str("name" + EVIL).str("conf" + EVIL).str("state" + EVIL).str(created).i64(5).u32(1).u32(0)
                    .frame(0x8A);
            default -> new W().u8(5).str("refused " + EVIL).str("hint " + EVIL).frame(0x8C); // ERROR
        };
        if (reply.length > 0) {
            c.write(reply);
        }
    }

    @Test
    void textsFromAHostileHostArePrintedEscaped() throws Exception {
        startHostileHost();
        String host = "127.0.0.1:" + server.address().getPort();
        Cli.Result r = Cli.run(args("new", host, "--name", "evil"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("opened");
        assertThat(clean(r.out())).as("new: %s", r.out()).isTrue();
        assertThat(clean(r.err())).isTrue();

        r = Cli.run(args("run", "evil", "--detach", "--", "sleep", "1"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("job");
        assertThat(clean(r.out())).as("run --detach: %s", r.out()).isTrue();

        r = Cli.run(args("receive", "evil"));
        assertThat(r.err()).contains("exited with status 3");
        assertThat(clean(r.out() + r.err())).as("receive: %s", r.err()).isTrue();

        r = Cli.run(args("list"));
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("not in registry");
        assertThat(clean(r.out() + r.err())).as("list: %s", r.out()).isTrue();

        r = Cli.run(args("rm", "evil"));
        assertThat(r.exit()).isEqualTo(5);
        assertThat(r.err()).contains("refused");
        assertThat(clean(r.out() + r.err())).as("rm: %s", r.err()).isTrue();

        // --json is escaped by the JSON writer, exact otherwise (as everywhere in Keyway): no raw C0 control survives it
        for (String[] json : List.of(args("list", "--json"), args("run", "evil", "--detach", "--json", "--", "true"))) {
            r = Cli.run(json);
            assertThat(r.out()).isNotEmpty();
            assertThat((r.out() + r.err()).codePoints().noneMatch(c -> c < 0x20 && c != '\n')).as("%s", r.out()).isTrue();
        }
    }

    // ---------------------------------------------------------------- a hostile client's own texts

    @Test
    void namesAndCommandLinesWithEscapesArePrintedEscaped() throws Exception {
        Path dir = tmp.resolve("host");
        X509Certificate cert = HostDir.init(dir, null, null, List.of("IP:127.0.0.1"));
        cacert = dir.resolve("tls.crt");
        HostDir hd = HostDir.open(dir);
        try (Identity id = IdentityFile.read(identity, f -> null)) {
            hd.allow("me", id.recipient(), "default");
        }
        try (RemoteHost host = RemoteHost.start(hd, new InetSocketAddress("127.0.0.1", 0),
                RemoteHost.Options.defaults().withGroups(List.of(NamedGroup.X25519)))) {
            String addr = "127.0.0.1:" + host.address().getPort();
            Cli.Result r = Cli.run(args("new", addr, "--name", "x" + EVIL));
            assertThat(r.exit()).isEqualTo(2);
            assertThat(r.oneLineError()).isTrue();
            assertThat(clean(r.err())).as(r.err()).isTrue();
            r = Cli.run(args("new", addr, "--name", "ok", "--config", "c" + EVIL));
            assertThat(r.exit()).isEqualTo(2);
            assertThat(clean(r.err())).as(r.err()).isTrue();

            assertThat(Cli.run(args("new", addr, "--name", "ok")).exit()).isZero();
            r = Cli.run(args("run", "ok", "--detach", "--", ": '" + EVIL + "'"));
            assertThat(r.exit()).as(r.err()).isZero();
            Thread.sleep(300);
            r = Cli.run(args("receive", "ok"));
            assertThat(r.err()).contains("exited with status 0");
            assertThat(clean(r.err())).as(r.err()).isTrue();
            r = Cli.run(args("run", "ok", "-n", "-e", "X" + EVIL + "=1", "--", "true"));
            assertThat(r.exit()).isEqualTo(4);
            assertThat(clean(r.err())).as(r.err()).isTrue();
            assertThat(Cli.run(args("rm", "ok")).exit()).isZero();
        }
        assertThat(cert).isNotNull();
    }
}
