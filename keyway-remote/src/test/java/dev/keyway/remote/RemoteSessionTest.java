package dev.keyway.remote;

import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RemoteSessionTest {
    @TempDir
    Path tmp;
    RemoteHost host;
    Identity alice;
    RemoteClient client;

    @BeforeEach
    void start() throws Exception {
        HostDir.init(tmp.resolve("host"), null, null, List.of("IP:127.0.0.1", "DNS:localhost"));
        HostDir dir = HostDir.open(tmp.resolve("host"));
        alice = Identity.generate(KeyType.X25519);
        dir.allow("alice", alice.recipient(), "default");
        host = RemoteHost.start(dir, new InetSocketAddress("127.0.0.1", 0), RemoteHost.Options.defaults());
        client = RemoteClient.builder().identity(alice).trust(List.of(dir.certificate())).build();
    }

    @AfterEach
    void stop() {
        host.close();
    }

    RemoteClient.HostAddress addr() {
        return new RemoteClient.HostAddress("127.0.0.1", host.address().getPort());
    }

    @Test
    void stateIsSharedBetweenRuns() {
        try (RemoteSession s = client.open(addr(), "t1", "default")) {
            RemoteSession.RunResult a = s.run("cd /tmp; X=1");
            assertThat(a.exit()).isEqualTo(0);
            RemoteSession.RunResult b = s.run("pwd; echo $X");
            assertThat(b.out()).isEqualTo("/tmp\n1\n");
            assertThat(b.receipt().cwd()).isEqualTo("/tmp");
            RemoteSession.RunResult c = s.run("echo err >&2; exit 7");
            assertThat(c.exit()).isEqualTo(7);
            assertThat(c.err()).isEqualTo("err\n");
        }
    }

    @Test
    void stdinIsPassedThrough() {
        try (RemoteSession s = client.open(addr(), "t2", "default")) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            RemoteSession.RunResult r = s.run(List.of("wc -c"), Map.of(), new java.io.ByteArrayInputStream("abc".getBytes()), out, new java.io.ByteArrayOutputStream());
            assertThat(r.exit()).isZero();
            assertThat(out.toString().strip()).isEqualTo("3");
        }
    }
}
