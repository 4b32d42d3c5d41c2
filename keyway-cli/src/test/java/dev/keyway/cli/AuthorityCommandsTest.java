package dev.keyway.cli;

import dev.keyway.authority.AuthorityHome;
import dev.keyway.authority.AuthorityServer;
import dev.keyway.authority.AuthorityStore;
import dev.keyway.core.identity.Identity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;

import static dev.keyway.cli.Cli.p;
import static org.assertj.core.api.Assertions.assertThat;

/** The lost-key story through the CLI, against an authority served in process on 127.0.0.1. */
class AuthorityCommandsTest {
    @TempDir
    Path dir;
    AuthorityServer server;
    AuthorityStore store;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
            store.close();
        }
    }

    @Test
    void encryptWithEscrowLoseTheIdentityReEnrollRecover() throws Exception {
        Path auth = dir.resolve("auth");
        Cli.Result init = Cli.run("authority", "init", "--dir", p(auth), "--type", "x25519");
        assertThat(init.exit()).as(init.err()).isZero();
        String token = init.out().lines().filter(l -> l.startsWith("admin token:")).findFirst().orElseThrow()
                .substring("admin token:".length()).strip();
        Files.writeString(dir.resolve("admin.token"), token + "\n");
        AuthorityHome home = new AuthorityHome(auth);
        Identity authority = home.identity(f -> null);
        store = AuthorityStore.open(home.databaseUrl(), authority);
        server = new AuthorityServer(home, store, authority, false, Clock.systemUTC());
        String url = "https://127.0.0.1:" + server.start("127.0.0.1", 0);
        String cacert = p(auth.resolve(AuthorityHome.TLS_CERT));

        Path alice = dir.resolve("alice.key");
        assertThat(Cli.run("keygen", "--type", "x25519", "-o", p(alice)).exit()).isZero();
        String aliceId = Identity.parse(Files.readAllLines(alice).get(2)).recipient().idHex();
        Cli.Result enroll = Cli.run("authority", "enroll", "--authority", url, "--cacert", cacert, "-i", p(alice), "--name", "alice");
        assertThat(enroll.out()).contains("pending");
        // What happens next, as the admin would type it: the approve command for this very key.
        assertThat(enroll.err()).contains("keyway authority approve --authority " + url + " --cacert " + cacert
                + " --admin-token-file ADMIN_TOKEN_FILE " + aliceId);

        Path plain = dir.resolve("plans.txt");
        Files.writeString(plain, "secret plans\n");
        Path enc = dir.resolve("plans.kw");
        String aliceRecipient = Cli.run("pubkey", "-i", p(alice)).out().strip();
        // Not approved yet: the escrow is refused and no encrypted file is left behind.
        Cli.Result refused = Cli.run("encrypt", "-r", aliceRecipient, "--sign-with", p(alice), "--escrow", url, "--cacert", cacert,
                "--serial", "1", "-o", p(enc), p(plain));
        assertThat(refused.exit()).isEqualTo(4);
        assertThat(refused.oneLineError()).isTrue();
        assertThat(enc).doesNotExist();

        assertThat(Cli.run("authority", "approve", "--authority", url, "--cacert", cacert, "--admin-token-file",
                p(dir.resolve("admin.token")), aliceId).exit()).isZero();
        Cli.Result encrypted = Cli.run("encrypt", "-r", aliceRecipient, "--sign-with", p(alice), "--escrow", url, "--cacert", cacert,
                "--serial", "1", "-o", p(enc), p(plain));
        assertThat(encrypted.exit()).as(encrypted.err()).isZero();
        assertThat(encrypted.err()).contains("escrowed with the authority");
        assertThat(Cli.run("inspect", p(enc)).out()).contains("escrow x25519 " + authority.recipient().idHex());

        // Alice loses her identity and enrolls a new one under the same name.
        Files.delete(alice);
        Path alice2 = dir.resolve("alice2.key");
        assertThat(Cli.run("keygen", "--type", "x25519", "-o", p(alice2)).exit()).isZero();
        String alice2Id = Identity.parse(Files.readAllLines(alice2).get(2)).recipient().idHex();
        Cli.run("authority", "enroll", "--authority", url, "--cacert", cacert, "-i", p(alice2), "--name", "alice");
        Path out = dir.resolve("plans.out");
        assertThat(Cli.run("recover", "--authority", url, "--cacert", cacert, "-i", p(alice2), "--serial", "1", "--file", p(enc),
                "-o", p(out)).exit()).as("not approved yet").isEqualTo(4);
        assertThat(Cli.run("authority", "approve", "--authority", url, "--cacert", cacert, "--admin-token-file",
                p(dir.resolve("admin.token")), alice2Id).exit()).isZero();
        Cli.Result recovered = Cli.run("recover", "--authority", url, "--cacert", cacert, "-i", p(alice2), "--serial", "1",
                "--file", p(enc), "-o", p(out));
        assertThat(recovered.exit()).as(recovered.err()).isZero();
        assertThat(Files.readString(out)).isEqualTo("secret plans\n");

        Cli.Result list = Cli.run("authority", "list", "--authority", url, "--cacert", cacert, "-i", p(alice2), "--description", "plans");
        assertThat(list.exit()).as(list.err()).isZero();
        assertThat(list.out().lines()).hasSize(1).allMatch(l -> l.contains("alice") && l.contains("serial 1"));
        assertThat(Cli.run("authority", "list", "--authority", url, "--cacert", cacert, "-i", p(alice2), "--description", "nothing like it")
                .out()).isEmpty();
        assertThat(Cli.run("authority", "list", "--authority", url, "--cacert", cacert, "-i", p(alice2), "--owner", "bob").exit())
                .isEqualTo(4);

        Cli.Result audit = Cli.run("authority", "audit", "verify", "--dir", p(auth));
        assertThat(audit.out()).contains("audit log intact");

        // Someone edits the database behind the authority's back: verify names the entry (exit 3).
        server.close();
        store.close();
        server = null;
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(home.databaseUrl());
             java.sql.Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE audit SET actor = 'nobody' WHERE seq = 3");
        }
        Cli.Result broken = Cli.run("authority", "audit", "verify", "--dir", p(auth));
        assertThat(broken.exit()).isEqualTo(3);
        assertThat(broken.err()).contains("broken at entry 3");
        assertThat(broken.oneLineError()).isTrue();
    }

    @Test
    void aWrongCertificateIsAPeerFailure() throws Exception {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        assertThat(Cli.run("authority", "init", "--dir", p(a), "--type", "x25519").exit()).isZero();
        assertThat(Cli.run("authority", "init", "--dir", p(b), "--type", "x25519").exit()).isZero();
        AuthorityHome home = new AuthorityHome(a);
        Identity authority = home.identity(f -> null);
        store = AuthorityStore.open(home.databaseUrl(), authority);
        server = new AuthorityServer(home, store, authority, true, Clock.systemUTC());
        String url = "https://127.0.0.1:" + server.start("127.0.0.1", 0);
        Path key = dir.resolve("k.key");
        Cli.run("keygen", "--type", "x25519", "-o", p(key));
        Cli.Result r = Cli.run("authority", "enroll", "--authority", url, "--cacert", p(b.resolve(AuthorityHome.TLS_CERT)), "-i", p(key),
                "--name", "k");
        assertThat(r.exit()).isEqualTo(5);
        assertThat(r.oneLineError()).isTrue();
    }
}
