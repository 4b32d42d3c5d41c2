package dev.keyway.cli;

import dev.keyway.authority.AuthorityHome;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.envelope.EnvelopeWriter;
import dev.keyway.remote.HostDir;
import dev.keyway.remote.Registry;
import dev.keyway.remote.RemoteClient;
import dev.keyway.tls.config.TlsConfig;
import dev.keyway.tls.params.Ticket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The libraries' hints name no flags; the CLI says which flag, by the hint's id. */
class CliHintsTest {
    @Test
    void aNamedHintIsSaidWithTheFlag() {
        KeywayException e = KeywayException.usage("no recipient given", "add a recipient or a passphrase")
                .hintId(EnvelopeWriter.HINT_NO_RECIPIENT);
        assertThat(e.oneLine()).isEqualTo("no recipient given: add a recipient or a passphrase");
        assertThat(CliHints.oneLine(e)).isEqualTo("no recipient given: give -r RECIPIENT, -R FILE or --passphrase-file FILE");
        KeywayException kek = KeywayException.usage("wrapped under a key-encryption key", "x").hintId(KeyWrap.HINT_USE_KEK);
        assertThat(CliHints.hint(kek)).contains("--kek-file");
    }

    /** A damaged --sess-in file: the TLS library names no flag, the CLI does. */
    @Test
    void aDamagedSessionFileNamesSessOut(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("s.pem"),
                "-----BEGIN KEYWAY TLS SESSION-----\nAhM=\n-----END KEYWAY TLS SESSION-----\n");
        KeywayException e = catchThrowableOfType(() -> Ticket.decode(Files.readString(f)),
                KeywayException.class);
        assertThat(e.oneLine()).doesNotContain("--");
        assertThat(CliHints.oneLine(e)).isEqualTo("the TLS session file is damaged: make a new one with --sess-out");
        Cli.Result r = Cli.run("tls", "connect", "127.0.0.1:1", "--insecure", "--sess-in", f.toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("the TLS session file is damaged: make a new one with --sess-out");
        KeywayException notOne = catchThrowableOfType(() -> Ticket.decode("hello"), KeywayException.class);
        assertThat(CliHints.hint(notOne)).isEqualTo("give a file written by 'keyway tls connect --sess-out'");
    }

    /** Every library that names a setting by hint id gets its flag back: remote, authority, TLS. */
    @Test
    void remoteAuthorityAndTlsHintsGetTheirFlags() {
        Map<String, String> flags = Map.of(HostDir.HINT_NOT_A_HOST_DIR, "keyway remote init --dir",
                HostDir.HINT_ALREADY_A_HOST_DIR, "--dir", Registry.HINT_REGISTRY_FILE, "--registry", RemoteClient.HINT_NO_TRUST, "--cacert",
                RemoteClient.HINT_UNTRUSTED_HOST, "--cacert", AuthorityHome.HINT_WRITABLE_DIR, "--dir",
                TlsConfig.HINT_LEGACY_NO_EMS, "--legacy-no-ems", Ticket.HINT_NEW_FILE, "--sess-out");
        flags.forEach((id, flag) -> assertThat(CliHints.hint(KeywayException.usage("m", "library words").hintId(id))).as(id).contains(flag));
    }

    @Test
    void otherHintsAreKept() {
        KeywayException plain = KeywayException.malformed("bad", "check the file");
        assertThat(CliHints.oneLine(plain)).isEqualTo(plain.oneLine());
        KeywayException unknown = KeywayException.malformed("bad", "check the file").hintId("nobody.knows");
        assertThat(CliHints.oneLine(unknown)).isEqualTo("bad: check the file");
        assertThat(CliHints.oneLine(KeywayException.usage("bad", null))).isEqualTo("bad");
    }

    @Test
    void aHintIdIsSetOnce() {
        KeywayException e = KeywayException.usage("m", "h").hintId("a");
        assertThatThrownBy(() -> e.hintId("b")).isInstanceOf(IllegalStateException.class);
        assertThat(e.hintId()).isEqualTo("a");
    }
}
