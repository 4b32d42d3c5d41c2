package dev.keyway.cli;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/** Where an escrow policy is found (flag, $KEYWAY_ESCROW_POLICY, $XDG_CONFIG_HOME, ...) and how its file is read. */
class EscrowPolicyTest {
    @TempDir
    Path dir;
    Recipient first;
    Recipient second;

    @BeforeEach
    void keys() {
        try (Identity a = Identity.generate(KeyType.X25519); Identity b = Identity.generate(KeyType.X25519)) {
            first = a.recipient();
            second = b.recipient();
        }
    }

    private Path policy(Path file, Recipient authority, String owner) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "authority " + authority.encode() + "\n" + (owner == null ? "" : "owner " + owner + "\n"));
        return file;
    }

    @Test
    void theFlagComesFirstThenTheEnvironmentThenXdg() throws IOException {
        Path xdg = dir.resolve("xdg");
        Path inXdg = policy(xdg.resolve("keyway").resolve("escrow-policy"), first, "alice");
        Path inEnv = policy(dir.resolve("env-policy"), second, "bob");
        Path flag = policy(dir.resolve("flag-policy"), first, "carol");

        EscrowPolicy fromXdg = EscrowPolicy.find(null, Map.of("XDG_CONFIG_HOME", xdg.toString())).orElseThrow();
        assertThat(fromXdg).isEqualTo(new EscrowPolicy(inXdg, first, "alice"));

        Map<String, String> env = Map.of("XDG_CONFIG_HOME", xdg.toString(), EscrowPolicy.ENV, inEnv.toString());
        assertThat(EscrowPolicy.find(null, env)).contains(new EscrowPolicy(inEnv, second, "bob"));
        assertThat(EscrowPolicy.find(flag.toString(), env)).contains(new EscrowPolicy(flag, first, "carol"));
    }

    @Test
    void anEmptyEnvironmentVariableMeansNoPolicyEvenWithOneInXdg() throws IOException {
        Path xdg = dir.resolve("xdg");
        policy(xdg.resolve("keyway").resolve("escrow-policy"), first, "alice");
        assertThat(EscrowPolicy.find(null, Map.of("XDG_CONFIG_HOME", xdg.toString(), EscrowPolicy.ENV, ""))).isEmpty();
        assertThat(EscrowPolicy.find(null, Map.of("XDG_CONFIG_HOME", xdg.toString(), EscrowPolicy.ENV, "  "))).isEmpty();
    }

    @Test
    void aMissingFileNamedByTheEnvironmentIsAnError() {
        Path missing = dir.resolve("missing");
        assertThatThrownBy(() -> EscrowPolicy.find(null, Map.of(EscrowPolicy.ENV, missing.toString())))
                // issue 19's rule: a missing input is not what the command needs, USAGE (exit 2; it was IO, exit 1)
                .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE))
                .hasMessageContaining(missing.toString()).hasMessageContaining("no such file");
    }

    @Test
    void theDefaultLocations() {
        Path xdg = dir.resolve("xdg");
        assertThat(EscrowPolicy.defaultLocations(Map.of("XDG_CONFIG_HOME", xdg.toString())))
                .containsExactly(xdg.resolve("keyway/escrow-policy"), Path.of("/etc/keyway/escrow-policy"));
        Path home = Path.of(System.getProperty("user.home"), ".config", "keyway", "escrow-policy");
        assertThat(EscrowPolicy.defaultLocations(Map.of())).containsExactly(home, Path.of("/etc/keyway/escrow-policy"));
        assertThat(EscrowPolicy.defaultLocations(Map.of("XDG_CONFIG_HOME", " "))).first().isEqualTo(home);
    }

    @Test
    void nothingAtAnyLocationIsNoPolicy() {
        assumeThat(Path.of("/etc/keyway/escrow-policy")).as("this machine has a system-wide policy").doesNotExist();
        assertThat(EscrowPolicy.find(null, Map.of("XDG_CONFIG_HOME", dir.resolve("empty").toString()))).isEqualTo(Optional.empty());
    }

    @Test
    void theFileIsReadStrictly() throws IOException {
        Path ok = dir.resolve("ok");
        Files.writeString(ok, "# comment\r\n\r\n   authority   " + first.encode() + "   \r\n\towner \uff41lice\n# end");
        assertThat(EscrowPolicy.read(ok)).as("CRLF, blanks, comments; the owner NFKC-normalized")
                .isEqualTo(new EscrowPolicy(ok, first, "alice"));

        Path big = dir.resolve("big");
        Files.writeString(big, "# " + "x".repeat(EscrowPolicy.MAX_FILE) + "\nauthority " + first.encode() + "\n");
        refused(big, "larger than");

        Path twoOwners = dir.resolve("two-owners");
        Files.writeString(twoOwners, "owner alice\nauthority " + first.encode() + "\nowner bob\n");
        refused(twoOwners, twoOwners + " line 3: 'owner' is given twice");

        Path noValue = dir.resolve("no-value");
        Files.writeString(noValue, "authority\n");
        refused(noValue, noValue + " line 1: the authority is not a recipient string");

        Path longKeyword = dir.resolve("long-keyword");
        Files.writeString(longKeyword, "k".repeat(100) + " v\n");
        refused(longKeyword, "unknown keyword '" + "k".repeat(40) + "...'");
    }

    private static void refused(Path file, String fragment) {
        assertThatThrownBy(() -> EscrowPolicy.read(file))
                .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE))
                .hasMessageContaining(fragment);
    }
}
