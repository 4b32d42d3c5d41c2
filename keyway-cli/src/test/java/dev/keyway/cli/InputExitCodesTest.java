package dev.keyway.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.keyway.cli.Cli.p;
import static dev.keyway.cli.Cli.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 19: one exit-code rule for an input that is not what the command needs (README, "Tour of the commands"):
 * missing, a directory, empty, or not the kind of file the command reads is exit 2 on every command; 3 is kept for
 * authentication, which includes any non-empty input that is not an intact envelope (its header is authenticated). And the small things a new user met: a file name where a recipient belongs, an empty blob.
 */
class InputExitCodesTest {
    @TempDir
    Path dir;

    private String alice;
    private String aliceKey;
    private String kw;

    @BeforeEach
    void files() throws Exception {
        alice = EnvelopeFixtures.keygen(dir, "alice.key");
        aliceKey = p(dir.resolve("alice.key"));
        Files.writeString(dir.resolve("file.txt"), "hello\n");
        kw = p(dir.resolve("f.kw"));
        EnvelopeFixtures.ok("encrypt", "-r", alice, "-o", kw, p(dir.resolve("file.txt")));
        Files.createDirectories(dir.resolve("adir"));
        Files.write(dir.resolve("empty"), new byte[0]);
        Files.writeString(dir.resolve("text"), "just some text, not Keyway's\n");
    }

    /** The commands that read a named input, with INPUT where it goes. */
    private List<List<String>> commands() {
        return List.of(
                List.of("decrypt", "-i", aliceKey, "-o", p(dir.resolve("out")), "INPUT"),
                List.of("inspect", "INPUT"),
                List.of("rekey", "INPUT", "-i", aliceKey, "--add", alice, "-o", p(dir.resolve("r.kw"))),
                List.of("key", "unwrap", "-i", aliceKey, "INPUT"),
                List.of("key", "wrap", "-r", alice, "INPUT"),
                List.of("pubkey", "-i", "INPUT"),
                List.of("decrypt", "-i", "INPUT", "-o", p(dir.resolve("out")), kw),
                List.of("key", "derive", "--password-file", "INPUT"),
                List.of("cert", "show", "INPUT"));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"missing", "adir", "empty", "text"})
    void anInputThatIsNotWhatTheCommandNeedsIsExit2(String input) {
        for (List<String> command : commands()) {
            if (input.equals("text") && command.contains("--password-file")) {
                continue; // any text is a password
            }
            List<String> args = new ArrayList<>();
            command.forEach(a -> args.add(a.equals("INPUT") ? p(dir.resolve(input)) : a));
            Cli.Result r = run(args.toArray(new String[0]));
            // An envelope's header is authenticated: a non-empty stranger's file is reported as damage (3).
            boolean envelope = input.equals("text") && command.indexOf("INPUT") == command.size() - 1
                    && List.of("decrypt", "inspect").contains(command.get(0)) || input.equals("text") && command.get(0).equals("rekey");
            assertThat(r.exit()).as("keyway %s\n%s", String.join(" ", args), r.err()).isEqualTo(envelope ? 3 : 2);
            assertThat(r.oneLineError()).as(r.err()).isTrue();
            assertThat(Files.exists(dir.resolve("out"))).isFalse();
        }
    }

    @Test
    void missingAndDirectoryInputsSaySo() throws Exception {
        assertThat(run("decrypt", "-i", aliceKey, p(dir.resolve("missing"))).err()).contains("no such file");
        assertThat(run("decrypt", "-i", aliceKey, p(dir.resolve("adir"))).err()).contains("is a directory");
        assertThat(run("pubkey", "-i", p(dir.resolve("adir"))).err()).contains("is a directory");
        assertThat(run("tls", "keylog", "check", p(dir.resolve("missing"))).exit()).isEqualTo(2);
        assertThat(run("tls", "keylog", "check", p(dir.resolve("adir"))).exit()).isEqualTo(2);
        Cli.Result emptyLog = run("tls", "keylog", "check", p(dir.resolve("empty")));
        assertThat(emptyLog.exit()).isEqualTo(2);
        assertThat(emptyLog.err()).contains("holds no secrets (the key log is empty)");
        Cli.Result recipients = run("encrypt", "-R", p(dir.resolve("missing")), p(dir.resolve("file.txt")));
        assertThat(recipients.exit()).as(recipients.err()).isEqualTo(2);
        assertThat(recipients.err()).contains("no such file");
        Path keys = Files.writeString(dir.resolve("keys.log"), "CLIENT_RANDOM " + "ab".repeat(32) + " " + "cd".repeat(48) + "\n");
        Cli.Result capture = run("tls", "decrypt", "--pcap", p(dir.resolve("missing")), "--keylog", p(keys));
        assertThat(capture.exit()).as(capture.err()).isEqualTo(2);
        assertThat(capture.err()).contains("cannot read capture", "no such file");
    }

    @Test
    void aKeywayFileThatFailsAuthenticationIsStill3() throws Exception {
        Path bob = dir.resolve("bob.key");
        EnvelopeFixtures.keygen(dir, "bob.key");
        Cli.Result wrongKey = run("decrypt", "-i", p(bob), kw);
        assertThat(wrongKey.exit()).as(wrongKey.err()).isEqualTo(3);
        byte[] b = Files.readAllBytes(Path.of(kw));
        b[0] ^= 1; // one bit of the magic: a damaged Keyway file, not a stranger's
        Path damaged = Files.write(dir.resolve("damaged.kw"), b);
        assertThat(run("decrypt", "-i", aliceKey, p(damaged)).exit()).isEqualTo(3);
        Path cut = Files.write(dir.resolve("cut.kw"), java.util.Arrays.copyOf(Files.readAllBytes(Path.of(kw)), 3));
        assertThat(run("decrypt", "-i", aliceKey, p(cut)).exit()).isEqualTo(3);
        Cli.Result text = run("decrypt", "-i", aliceKey, p(dir.resolve("text")));
        assertThat(text.exit()).isEqualTo(3);
        assertThat(text.err()).contains("this is not a Keyway encrypted file");
    }

    @Test
    void keyUnwrapOfAnEmptyInputSaysTheInputIsEmpty() {
        Cli.Result r = run("key", "unwrap", "-i", aliceKey, p(dir.resolve("empty")));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("the input is empty");
        Cli.Result d = run("decrypt", "-i", aliceKey, p(dir.resolve("empty")));
        assertThat(d.err()).contains("the input is empty");
    }

    @Test
    void anIdentityFileWhereARecipientBelongsGetsThePubkeyHint() {
        for (List<String> args : List.of(
                List.of("encrypt", "-r", aliceKey, "-o", p(dir.resolve("x.kw")), p(dir.resolve("file.txt"))),
                List.of("key", "wrap", "-r", aliceKey, p(dir.resolve("text"))),
                List.of("rekey", kw, "-i", aliceKey, "--add", aliceKey, "-o", p(dir.resolve("y.kw"))),
                List.of("decrypt", "-i", aliceKey, "--expect-signer", aliceKey, kw))) {
            Cli.Result r = run(args.toArray(new String[0]));
            assertThat(r.exit()).as(String.join(" ", args) + "\n" + r.err()).isEqualTo(2);
            assertThat(r.oneLineError()).isTrue();
            assertThat(r.err()).contains("this looks like an identity file", "keyway pubkey -i " + aliceKey);
        }
        Cli.Result other = run("encrypt", "-r", p(dir.resolve("text")), p(dir.resolve("file.txt")));
        assertThat(other.exit()).isEqualTo(2);
        assertThat(other.err()).contains("is a file, not a recipient string", "-R ");
        Cli.Result notAFile = run("encrypt", "-r", "kwnonsense", p(dir.resolve("file.txt")));
        assertThat(notAFile.exit()).isEqualTo(2);
        assertThat(notAFile.err()).contains("recipient 'kwnonsense'");
    }

    @Test
    void anInterruptedProgressBarEndsItsLine() throws Exception {
        boolean was = StdStreams.errTerminal;
        StdStreams.errTerminal = true;
        StringWriter err = new StringWriter();
        try (Progress progress = new Progress(new ByteArrayInputStream(new byte[1024]), new PrintWriter(err, true), "decrypting",
                Progress.THRESHOLD + 1)) {
            assertThat(progress.read(new byte[512])).isEqualTo(512);
            assertThat(err.toString()).startsWith("\rkeyway: decrypting [").doesNotEndWith("\n");
            progress.interrupted(); // what the shutdown hook does on Ctrl-C
            assertThat(err.toString()).endsWith("\n");
        } finally {
            StdStreams.errTerminal = was;
        }
    }
}
