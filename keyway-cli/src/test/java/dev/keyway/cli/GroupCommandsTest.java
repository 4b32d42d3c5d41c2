package dev.keyway.cli;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** A command that only groups others, run alone, prints its usage with the subcommands on stdout and exits 0. */
class GroupCommandsTest {
    @ParameterizedTest
    @CsvSource({
            "'', Usage: keyway, encrypt",
            "key, Usage: keyway key, unwrap",
            "tls, Usage: keyway tls, connect",
            "tls keylog, Usage: keyway tls keylog, check",
            "cert, Usage: keyway cert, csr",
            "capi, Usage: keyway capi, export-blob",
            "authority, Usage: keyway authority, enroll",
            "authority audit, Usage: keyway authority audit, verify",
            "remote, Usage: keyway remote, init",
            "remote audit, Usage: keyway remote audit, verify"})
    void aGroupAlonePrintsItsUsage(String command, String usage, String subcommand) {
        Cli.Result r = Cli.run(command.isEmpty() ? new String[0] : command.split(" "));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).contains(usage + " [").contains("\n  " + subcommand + " ");
    }
}
