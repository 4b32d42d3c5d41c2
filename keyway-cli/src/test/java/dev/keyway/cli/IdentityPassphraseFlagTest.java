package dev.keyway.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.keyway.cli.Cli.p;
import static dev.keyway.cli.Cli.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 19: every command that reads a sealed identity takes {@code --identity-passphrase-file}, and without a
 * terminal (tests run with none) the hint names that flag; following the hint works.
 */
class IdentityPassphraseFlagTest {
    @TempDir
    Path dir;

    private String sealed;
    private String sealedRecipient;
    private String pass;
    private String plainRecipient;

    @BeforeEach
    void identities() throws Exception {
        pass = p(Files.writeString(dir.resolve("pass.txt"), "correct horse\n"));
        sealed = p(dir.resolve("sealed.key"));
        Cli.Result gen = run("keygen", "--type", "x25519", "-o", sealed, "--passphrase-file", pass);
        assertThat(gen.exit()).as(gen.err()).isZero();
        sealedRecipient = gen.out().strip();
        plainRecipient = EnvelopeFixtures.keygen(dir, "plain.key");
        Files.writeString(dir.resolve("file.txt"), "hello\n");
    }

    /** The command without the passphrase fails with the hint; with {@code --identity-passphrase-file} it succeeds. */
    private Cli.Result hintThenFollow(String... args) {
        Cli.Result hinted = run(args);
        assertThat(hinted.exit()).as(hinted.err()).isEqualTo(2);
        assertThat(hinted.oneLineError()).as(hinted.err()).isTrue();
        assertThat(hinted.err()).contains("no terminal to ask on", "give --identity-passphrase-file FILE")
                .doesNotContain("give --passphrase-file");
        List<String> followed = new ArrayList<>(List.of(args));
        followed.add("--identity-passphrase-file");
        followed.add(pass);
        Cli.Result ok = run(followed.toArray(new String[0]));
        assertThat(ok.exit()).as(String.join(" ", followed) + "\n" + ok.err()).isZero();
        return ok;
    }

    private String encryptTo(String recipient, String name) {
        String out = p(dir.resolve(name));
        Cli.Result r = run("encrypt", "-r", recipient, "-o", out, p(dir.resolve("file.txt")));
        assertThat(r.exit()).as(r.err()).isZero();
        return out;
    }

    @Test
    void decrypt() {
        String kw = encryptTo(sealedRecipient, "f.kw");
        hintThenFollow("decrypt", "-i", sealed, "-o", p(dir.resolve("out.txt")), kw);
    }

    @Test
    void encryptSignWith() {
        hintThenFollow("encrypt", "-r", plainRecipient, "--sign-with", sealed, "-o", p(dir.resolve("s.kw")), p(dir.resolve("file.txt")));
        // The file is signed and to the recipient: not turned into a passphrase-encrypted file.
        Cli.Result d = run("decrypt", "-i", p(dir.resolve("plain.key")), "--expect-signer", sealedRecipient, "-o",
                p(dir.resolve("s.out")), p(dir.resolve("s.kw")));
        assertThat(d.exit()).as(d.err()).isZero();
    }

    @Test
    void rekeyWithASealedIdentityAndSigner() {
        String kw = encryptTo(sealedRecipient, "f.kw");
        hintThenFollow("rekey", kw, "-i", sealed, "--add", plainRecipient, "-o", p(dir.resolve("f2.kw")));
        hintThenFollow("rekey", p(dir.resolve("f2.kw")), "-i", p(dir.resolve("plain.key")), "-i", sealed, "--sign-with", sealed, "--remove", plainRecipient,
                "-o", p(dir.resolve("f3.kw")));
    }

    @Test
    void keyUnwrapAndItsOldSpelling() throws Exception {
        Path key = Files.writeString(dir.resolve("session.key"), run("key", "new").out());
        String blob = p(dir.resolve("session.blob"));
        assertThat(run("key", "wrap", "-r", sealedRecipient, "-o", blob, p(key)).exit()).isZero();
        Cli.Result ok = hintThenFollow("key", "unwrap", "-i", sealed, blob);
        assertThat(ok.out()).isEqualTo(Files.readString(key));
        Cli.Result old = run("key", "unwrap", "-i", sealed, "--passphrase-file", pass, blob);
        assertThat(old.exit()).as(old.err()).isZero();
        assertThat(old.out()).isEqualTo(Files.readString(key));
    }

    @Test
    void capiConvertSignWith() throws Exception {
        String pw = p(Files.writeString(dir.resolve("pw.txt"), "legacy secret"));
        String legacy = p(dir.resolve("old.bin"));
        assertThat(run("capi", "encrypt", "--hash", "sha256", "--password-file", pw, "--alg", "aes128", p(dir.resolve("file.txt")),
                "-o", legacy).exit()).isZero();
        hintThenFollow("capi", "convert", legacy, "--hash", "sha256", "--password-file", pw, "--alg", "aes128", "-r", plainRecipient,
                "--sign-with", sealed, "-o", p(dir.resolve("new.kw")));
    }

    @Test
    void authorityClientCommands() throws Exception {
        try (LocalAuthority authority = new LocalAuthority(dir.resolve("auth"))) {
            String[] a = {"--authority", authority.url, "--cacert", authority.cacert};
            hintThenFollow(Cli.args("authority", "enroll", List.of(a), "-i", sealed, "--name", "sam").toArray(new String[0]));
            hintThenFollow(Cli.args("authority", "whoami", List.of(a), "-i", sealed).toArray(new String[0]));
            String kw = p(dir.resolve("e.kw"));
            Cli.Result enc = run(Cli.args("encrypt", "-r", plainRecipient, "--sign-with", sealed, "--identity-passphrase-file", pass,
                    "--escrow", authority.url, "--cacert", authority.cacert, "--serial", "1", "-o", kw, p(dir.resolve("file.txt")))
                    .toArray(new String[0]));
            assertThat(enc.exit()).as(enc.err()).isZero();
            hintThenFollow(Cli.args("recover", List.of(a), "-i", sealed, "--serial", "1", "--file", kw, "-o", p(dir.resolve("r.txt")))
                    .toArray(new String[0]));
            assertThat(Files.readString(dir.resolve("r.txt"))).isEqualTo("hello\n");
        }
    }

    @Test
    void sealedAuthorityIdentity() {
        String home = p(dir.resolve("sealed-auth"));
        assertThat(run("authority", "init", "--dir", home, "--type", "x25519", "--passphrase-file", pass).exit()).isZero();
        hintThenFollow("authority", "bind-legacy", "--dir", home);
        Cli.Result serve = run("authority", "serve", "--dir", home, "--listen", "127.0.0.1:0");
        assertThat(serve.exit()).isEqualTo(2);
        assertThat(serve.err()).contains("give --identity-passphrase-file FILE");
    }

    @Test
    void remoteClient() {
        Cli.Result r = run("remote", "list", "-i", sealed, "--registry", p(dir.resolve("sessions.json")));
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("give --identity-passphrase-file FILE");
    }
}
