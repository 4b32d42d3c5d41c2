package dev.keyway.cli;

import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.envelope.EnvelopeWriter;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
