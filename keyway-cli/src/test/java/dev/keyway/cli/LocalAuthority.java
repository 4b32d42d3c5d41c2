package dev.keyway.cli;

import dev.keyway.authority.AuthorityClient;
import dev.keyway.authority.AuthorityHome;
import dev.keyway.authority.AuthorityServer;
import dev.keyway.authority.AuthorityStore;
import dev.keyway.core.identity.Identity;

import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

import static dev.keyway.cli.Cli.p;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A backup authority made with {@code keyway authority init} in {@code dir} and served on 127.0.0.1 (auto-approving
 * enrollments), for tests that escrow TLS secrets with it and recover them through the CLI.
 */
final class LocalAuthority implements AutoCloseable {
    final String url;
    final String cacert;
    private final AuthorityStore store;
    private final AuthorityServer server;

    LocalAuthority(Path dir) {
        assertThat(Cli.run("authority", "init", "--dir", p(dir), "--type", "x25519").exit()).isZero();
        AuthorityHome home = new AuthorityHome(dir);
        Identity authority = home.identity(f -> null);
        store = AuthorityStore.open(home.databaseUrl(), authority);
        server = new AuthorityServer(home, store, authority, true, Clock.systemUTC());
        url = "https://127.0.0.1:" + server.start("127.0.0.1", 0);
        cacert = p(dir.resolve(AuthorityHome.TLS_CERT));
    }

    AuthorityClient client() {
        return new AuthorityClient(URI.create(url + "/"), AuthorityHome.readCertificate(Path.of(cacert)));
    }

    /** {@code keyway authority enroll} of the identity in {@code identityFile} as {@code name}. */
    void enroll(String identityFile, String name) {
        Cli.Result enroll = Cli.run("authority", "enroll", "--authority", url, "--cacert", cacert, "-i", identityFile, "--name", name);
        assertThat(enroll.exit()).as(enroll.err()).isZero();
    }

    /**
     * The escrowed TLS secret {@code label} of the connection {@code clientRandom} (hex), as its owner gets it back:
     * found with {@code authority list}, recovered with {@code recover --serial}, opened with {@code key unwrap}.
     */
    String recoverTlsSecret(String identityFile, String label, String clientRandom, Path work) {
        Cli.Result list = Cli.run("authority", "list", "--authority", url, "--cacert", cacert, "-i", identityFile);
        assertThat(list.exit()).as(list.err()).isZero();
        List<String> lines = list.out().lines().filter(l -> l.contains("TLS " + label + " " + clientRandom)).toList();
        assertThat(lines).hasSize(1);
        String serial = lines.get(0).replaceAll(".*serial (\\d+).*", "$1");
        Path blob = work.resolve("recovered-" + serial + ".blob");
        Cli.Result rec = Cli.run("recover", "--authority", url, "--cacert", cacert, "-i", identityFile, "--serial", serial, "-o", p(blob));
        assertThat(rec.exit()).as(rec.err()).isZero();
        Cli.Result unwrapped = Cli.run("key", "unwrap", "-i", identityFile, p(blob));
        assertThat(unwrapped.exit()).as(unwrapped.err()).isZero();
        return unwrapped.out().strip();
    }

    @Override
    public void close() {
        server.close();
        store.close();
    }
}
