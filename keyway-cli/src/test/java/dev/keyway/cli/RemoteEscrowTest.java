package dev.keyway.cli;

import dev.keyway.authority.EscrowKeyLog;
import dev.keyway.authority.AuthorityClient;
import dev.keyway.authority.AuthorityHome;
import dev.keyway.authority.AuthorityServer;
import dev.keyway.authority.AuthorityStore;
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
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
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
    AuthorityServer server;
    AuthorityStore store;
    RemoteHost host;

    @AfterEach
    void stop() {
        if (host != null) {
            host.close();
        }
        if (server != null) {
            server.close();
            store.close();
        }
    }

    @Test
    void escrowedSecretsAreTheConnectionsOwnAndRecoverable() throws Exception {
        Path auth = dir.resolve("auth");
        assertThat(Cli.run("authority", "init", "--dir", p(auth), "--type", "x25519").exit()).isZero();
        AuthorityHome home = new AuthorityHome(auth);
        Identity authority = home.identity(f -> null);
        store = AuthorityStore.open(home.databaseUrl(), authority);
        server = new AuthorityServer(home, store, authority, true, Clock.systemUTC());
        String url = "https://127.0.0.1:" + server.start("127.0.0.1", 0);
        String cacert = p(auth.resolve(AuthorityHome.TLS_CERT));

        Path hostDir = dir.resolve("host");
        HostDir.init(hostDir, null, null, List.of("IP:127.0.0.1"));
        HostDir hd = HostDir.open(hostDir);
        String hostIdentity = p(hostDir.resolve("host.identity"));
        Cli.Result enroll = Cli.run("authority", "enroll", "--authority", url, "--cacert", cacert, "-i", hostIdentity, "--name", "build-host");
        assertThat(enroll.exit()).as(enroll.err()).isZero();

        Identity alice = Identity.generate(KeyType.X25519);
        hd.allow("alice", alice.recipient(), "default");
        List<String> hostLog = new CopyOnWriteArrayList<>();
        Identity hostId = hd.identity();
        EscrowKeyLog escrow = new EscrowKeyLog(new AuthorityClient(URI.create(url + "/"), AuthorityHome.readCertificate(Path.of(cacert))),
                hostId, "remote host test", hostLog::add);
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
        Cli.Result list = Cli.run("authority", "list", "--authority", url, "--cacert", cacert, "-i", hostIdentity);
        assertThat(list.exit()).as(list.err()).isZero();
        List<String> mine = list.out().lines().filter(l -> l.contains(clientRandom)).toList();
        assertThat(mine).hasSize(4).anyMatch(l -> l.contains("TLS CLIENT_TRAFFIC_SECRET_0 " + clientRandom));
        String line = mine.stream().filter(l -> l.contains("CLIENT_TRAFFIC_SECRET_0")).findFirst().orElseThrow();
        String serial = line.replaceAll(".*serial (\\d+).*", "$1");

        Path blob = dir.resolve("s.blob");
        Cli.Result rec = Cli.run("recover", "--authority", url, "--cacert", cacert, "-i", hostIdentity, "--serial", serial, "-o", p(blob));
        assertThat(rec.exit()).as(rec.err()).isZero();
        Cli.Result unwrapped = Cli.run("key", "unwrap", "-i", hostIdentity, p(blob));
        assertThat(unwrapped.exit()).as(unwrapped.err()).isZero();
        assertThat(unwrapped.out().strip()).isEqualTo(HexFormat.of().formatHex(clientLog.get(key)));
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
