package dev.keyway.remote;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The host's list of allowed identities: read on every request (a revocation applies at once), parsed again only
 * when the file's bytes change. These pin down that the parse kept between requests never outlives the file.
 */
class HostDirClientsTest {
    @TempDir
    Path tmp;

    private HostDir hostWith(Identity... ids) {
        Path d = tmp.resolve("host");
        HostDir.init(d, null, null, List.of("127.0.0.1"));
        HostDir admin = HostDir.open(d);
        for (int i = 0; i < ids.length; i++) {
            admin.allow("c" + i, ids[i].recipient(), "default");
        }
        return HostDir.open(d);
    }

    @Test
    void anotherProcessesRevocationIsSeenByTheNextRead() {
        try (Identity a = Identity.generate(KeyType.X25519); Identity b = Identity.generate(KeyType.X25519)) {
            HostDir host = hostWith(a, b);
            assertThat(host.clients()).containsOnlyKeys("c0", "c1");
            assertThat(host.clients()).containsOnlyKeys("c0", "c1"); // from the kept parse
            HostDir.open(host.path()).revoke("c0"); // as `keyway remote revoke` would, from its own HostDir
            assertThat(host.clients()).containsOnlyKeys("c1");
            HostDir.open(host.path()).allow("c0", a.recipient(), "default");
            assertThat(host.clients()).containsOnlyKeys("c1", "c0");
        }
    }

    @Test
    void anInPlaceEditOfTheSameLengthIsSeen() throws Exception {
        try (Identity a = Identity.generate(KeyType.X25519); Identity b = Identity.generate(KeyType.X25519)) {
            HostDir host = hostWith(a, b);
            assertThat(host.clients().get("c0").recipient()).isEqualTo(a.recipient());
            // The names swapped, written over the same file (same inode, same size): no rename, maybe the same mtime.
            Path f = host.clientsFile();
            String text = Files.readString(f);
            String swapped = text.replace("\"c0\"", "\"cX\"").replace("\"c1\"", "\"c0\"").replace("\"cX\"", "\"c1\"");
            assertThat(swapped).hasSameSizeAs(text).isNotEqualTo(text);
            Files.write(f, swapped.getBytes(StandardCharsets.UTF_8), StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            assertThat(host.clients().get("c0").recipient()).isEqualTo(b.recipient());
            assertThat(host.clients().get("c1").recipient()).isEqualTo(a.recipient());
        }
    }

    @Test
    void theCallersMapIsItsOwn() {
        try (Identity a = Identity.generate(KeyType.X25519)) {
            HostDir host = hostWith(a);
            host.clients().clear();
            assertThat(host.clients()).containsOnlyKeys("c0");
        }
    }

    @Test
    void aDeletedOrBrokenFileIsNotServedFromTheKeptParse() throws Exception {
        try (Identity a = Identity.generate(KeyType.X25519)) {
            HostDir host = hostWith(a);
            assertThat(host.clients()).containsOnlyKeys("c0");
            Files.writeString(host.clientsFile(), "{\"clients\":[{\"name\":\"c0\",\"recipient\":\"kwx25519broken\"}]}");
            assertThatThrownBy(host::clients).isInstanceOfSatisfying(KeywayException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.MALFORMED));
            Files.delete(host.clientsFile());
            assertThat(host.clients()).isEmpty();
        }
    }
}
