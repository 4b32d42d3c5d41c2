package dev.keyway.authority;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.keys.SessionKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** AuthorityClient's typed methods against a real server: the records they return and the error codes refusals become. */
class AuthorityClientTest {
    @TempDir
    Path dir;
    AuthorityHome.Initialized init;
    AuthorityStore store;
    AuthorityServer server;
    AuthorityClient client;
    Identity authority;

    @BeforeEach
    void start() {
        AuthorityHome home = new AuthorityHome(dir.resolve("authority"));
        init = home.init(KeyType.X25519, null);
        authority = home.identity(f -> null);
        store = AuthorityStore.open(home.databaseUrl(), authority);
        server = new AuthorityServer(home, store, authority, false, Clock.systemUTC()).twoPersonRule(true);
        client = new AuthorityClient(URI.create("https://127.0.0.1:" + server.start("127.0.0.1", 0) + "/"), home.certificate());
    }

    @AfterEach
    void stop() {
        server.close();
        store.close();
    }

    @Test
    void enrollApproveEscrowListRecoverUnderTheTwoPersonRule() {
        Identity alice = Identity.generate(KeyType.X25519);
        ClientStatus pending = client.enroll(alice, "alice");
        assertThat(pending.clientId()).isEqualTo(alice.recipient().idHex());
        assertThat(pending.approved()).isFalse();
        assertThat(pending.status()).isEqualTo("pending");
        code(ErrorCode.POLICY, () -> client.listEscrows(alice, EscrowSummary.Filter.ALL)); // 403: not approved yet
        assertThat(client.approve(init.adminToken(), pending.clientId(), List.of()).approved()).isTrue();
        assertThat(client.whoAmI(alice).name()).isEqualTo("alice");

        SessionKey key = SessionKeys.generate(Algorithms.AES_256_GCM);
        KeyBlob blob = KeyWrap.wrapForEscrow(key, authority.recipient(), EscrowBinding.owner("alice"));
        EscrowReceipt receipt = client.escrow(alice, blob, "plans", 7L, null, null);
        assertThat(receipt.created()).isTrue();
        assertThat(receipt.serial()).isEqualTo(7L);
        assertThat(authority.recipient().verify(receipt.signedText().getBytes(StandardCharsets.UTF_8),
                Base64.getDecoder().decode(receipt.signature()))).isTrue();
        assertThat(client.escrow(alice, blob, "plans", 7L, null, null).created()).isFalse();
        assertThat(client.listEscrows(alice, new EscrowSummary.Filter(null, "plan", null, null, null)))
                .extracting(EscrowSummary::escrowId).containsExactly(receipt.escrowId());

        Recovery.Pending request = (Recovery.Pending) client.recover(alice, Recovery.Query.serial(null, 7));
        code(ErrorCode.POLICY, () -> client.approveRecovery(alice, request.requestId())); // not an officer
        Identity carol = Identity.generate(KeyType.X25519);
        client.approve(init.adminToken(), client.enroll(carol, "carol").clientId(), List.of(Client.RECOVERY_OFFICER));
        assertThat(client.approveRecovery(carol, request.requestId()).requestId()).isEqualTo(request.requestId());
        Recovery.Released released = (Recovery.Released) client.recover(alice, Recovery.Query.collect(request.requestId()));
        assertThat(released.escrowId()).isEqualTo(receipt.escrowId());
        try (SessionKey back = KeyWrap.unwrap(released.blob(), alice)) {
            assertThat(back.bytes()).isEqualTo(key.bytes());
        }
    }

    @Test
    void refusalsCarryTheExitCodeTheirStatusMeans() {
        Identity stranger = Identity.generate(KeyType.X25519);
        code(ErrorCode.AUTH_FAILED, () -> client.whoAmI(stranger)); // 401: not enrolled
        code(ErrorCode.AUTH_FAILED, () -> client.listClients("kwadmin_" + "0".repeat(64))); // 401: wrong token
        code(ErrorCode.USAGE, () -> client.approve(init.adminToken(), "0123456789abcdef", List.of())); // 404
        code(ErrorCode.USAGE, () -> client.enroll(stranger, "")); // 400
        ClientStatus revoked = client.adminRevoke(init.adminToken(), client.enroll(stranger, "stranger").clientId());
        assertThat(revoked.revokedAt()).isNotNull();
        assertThat(client.listClients(init.adminToken())).extracting(ClientStatus::status).containsExactly("revoked");
        code(ErrorCode.POLICY, () -> client.enroll(stranger, "stranger")); // 403: a revoked key never enrolls again
    }

    /** A refused connection says so (the JDK's HttpClient throws it without a message: this printed "(null)"). */
    @Test
    void anAuthorityThatIsNotRunningIsAPeerFailureThatSaysWhy() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        AuthorityClient gone = new AuthorityClient(URI.create("https://127.0.0.1:" + port + "/"), new AuthorityHome(dir.resolve("authority")).certificate());
        assertThatThrownBy(() -> gone.whoAmI(Identity.generate(KeyType.X25519))).isInstanceOfSatisfying(KeywayException.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.PEER);
            assertThat(e.getMessage()).contains("cannot reach the authority at https://127.0.0.1:" + port)
                    .containsIgnoringCase("connection refused").doesNotContain("null");
        });
    }

    private static void code(ErrorCode expected, Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(expected));
    }
}
