package dev.keyway.cli;

import dev.keyway.authority.EscrowKeyLog;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.remote.HostDir;
import dev.keyway.remote.RemoteClient;
import dev.keyway.remote.RemoteHost;
import dev.keyway.remote.RemoteSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.keyway.cli.Cli.p;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code keyway remote serve --escrow}: a session's TLS traffic secrets go to a backup authority, owned by the host, and
 * what an auditor recovers is what the client's own key log says (so a capture of the session can be decrypted later
 * without anything stored on the host).
 */
@Timeout(120)
class RemoteEscrowTest {
    @TempDir
    Path dir;
    LocalAuthority authority;
    RemoteHost host;

    @AfterEach
    void stop() {
        if (host != null) {
            host.close();
        }
        if (authority != null) {
            authority.close();
        }
    }

    @Test
    void escrowedSecretsAreTheConnectionsOwnAndRecoverable() throws Exception {
        authority = new LocalAuthority(dir.resolve("auth"));

        Path hostDir = dir.resolve("host");
        HostDir.init(hostDir, null, null, List.of("IP:127.0.0.1"));
        HostDir hd = HostDir.open(hostDir);
        String hostIdentity = p(hostDir.resolve("host.identity"));
        authority.enroll(hostIdentity, "build-host");

        Identity alice = Identity.generate(KeyType.X25519);
        hd.allow("alice", alice.recipient(), "default");
        List<String> hostLog = new CopyOnWriteArrayList<>();
        Identity hostId = hd.identity();
        EscrowKeyLog escrow = new EscrowKeyLog(authority.client(), hostId, "remote host test", hostLog::add);
        assertThat(escrow.owner()).isEqualTo("build-host");
        host = RemoteHost.start(hd, new InetSocketAddress("127.0.0.1", 0), RemoteHost.Options.defaults().withKeyLog(escrow));

        Map<String, byte[]> clientLog = new ConcurrentHashMap<>();
        RemoteClient client = RemoteClient.builder().identity(alice).trust(List.of(hd.certificate()))
                .keyLog((label, cr, secret) -> clientLog.put(label + " " + HexFormat.of().formatHex(cr), secret.clone())).build();
        try (RemoteSession s = client.open(new RemoteClient.HostAddress("127.0.0.1", host.address().getPort()), "audited", "default")) {
            assertThat(s.run("echo hi").out()).isEqualTo("hi\n");
        }
        escrow.close();
        assertThat(hostLog).isEmpty();

        String key = clientLog.keySet().stream().filter(k -> k.startsWith("CLIENT_TRAFFIC_SECRET_0 ")).findFirst().orElseThrow();
        String clientRandom = key.substring(key.indexOf(' ') + 1);
        Cli.Result list = Cli.run("authority", "list", "--authority", authority.url, "--cacert", authority.cacert, "-i", hostIdentity);
        assertThat(list.exit()).as(list.err()).isZero();
        assertThat(list.out().lines().filter(l -> l.contains(clientRandom)).toList()).hasSize(4);
        assertThat(authority.recoverTlsSecret(hostIdentity, "CLIENT_TRAFFIC_SECRET_0", clientRandom, dir))
                .isEqualTo(HexFormat.of().formatHex(clientLog.get(key)));
        hostId.destroy();
    }

    @Test
    void escrowWithoutItsCertificateIsAUsageError() {
        Path hostDir = dir.resolve("host2");
        HostDir.init(hostDir, null, null, List.of("IP:127.0.0.1"));
        Cli.Result r = Cli.run("remote", "serve", "--dir", p(hostDir), "--listen", "127.0.0.1:0", "--escrow", "https://127.0.0.1:1");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.oneLineError()).isTrue();
        assertThat(r.err()).contains("--escrow and --escrow-cacert go together");
    }
}
