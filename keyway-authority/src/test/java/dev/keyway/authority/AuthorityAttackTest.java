package dev.keyway.authority;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An outsider's attacks on the authority's trust model (issue 14): each test plays one attack end to end
 * over HTTPS and checks the status, the JSON error, that nothing was stored or released, and the audit
 * trail. The server runs on a clock the tests move.
 */
class AuthorityAttackTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    AuthorityHome home;
    AuthorityHome.Initialized init;
    AuthorityStore store;
    AuthorityServer server;
    AuthorityClient client;
    Identity authority;
    MovableClock clock;
    String baseUrl;

    /** A clock the test moves; the server reads it for timestamps, windows, approvals and audit times. */
    static final class MovableClock extends Clock {
        private final AtomicLong millis;

        MovableClock(Instant start) {
            millis = new AtomicLong(start.toEpochMilli());
        }

        void advance(Duration d) {
            millis.addAndGet(d.toMillis());
        }

        @Override
        public long millis() {
            return millis.get();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    @BeforeEach
    void start() {
        home = new AuthorityHome(dir.resolve("authority"));
        init = home.init(KeyType.X25519, null);
        authority = home.identity(f -> null);
        store = AuthorityStore.open(home.databaseUrl(), authority);
        clock = new MovableClock(Instant.now());
        server = new AuthorityServer(home, store, authority, false, clock);
        baseUrl = "https://127.0.0.1:" + server.start("127.0.0.1", 0);
        client = new AuthorityClient(URI.create(baseUrl), home.certificate());
    }

    @AfterEach
    void stop() {
        server.close();
        store.close();
    }

    // ---- helpers ----

    /** A request signed now by the server's clock. */
    AuthorityClient.Response call(Identity id, String method, String path, Object body) {
        return raw(id, method, path, body == null ? new byte[0] : json(body), clock.instant());
    }

    AuthorityClient.Response raw(Identity id, String method, String path, byte[] body, Instant stamped) {
        return client.send(method, path, body, RequestSigning.sign(id, method, path, body, stamped));
    }

    AuthorityClient.Response admin(String method, String path, Object body) {
        return client.admin(init.adminToken(), method, path, body);
    }

    static byte[] json(Object body) {
        try {
            return JSON.writeValueAsBytes(body);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    Identity enrolled(String name, String... roles) {
        Identity id = Identity.generate(KeyType.X25519);
        AuthorityClient.Response r = call(id, "POST", "/v1/enroll", Map.of("name", name, "recipient", id.recipient().encode()));
        assertThat(r.status()).as(r.error()).isEqualTo(202);
        AuthorityClient.Response a = admin("POST", "/v1/admin/approve", Map.of("client_id", id.recipient().idHex(), "roles", List.of(roles)));
        assertThat(a.status()).as(a.error()).isEqualTo(200);
        return id;
    }

    String blob(SessionKey key, EscrowBinding binding) {
        return Base64.getEncoder().encodeToString(KeyWrap.wrapForEscrow(key, authority.recipient(), binding).encode());
    }

    static Map<String, Object> escrowBody(String blob, Long serial, String messageId, String owner) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("blob", blob);
        m.put("description", "d");
        if (serial != null) {
            m.put("serial", serial);
        }
        if (messageId != null) {
            m.put("message_id", messageId);
        }
        if (owner != null) {
            m.put("owner", owner);
        }
        return m;
    }

    static String messageId(Random random) {
        byte[] b = new byte[16];
        random.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    static SessionKey newKey() {
        return SessionKeys.generate(Algorithms.AES_256_GCM);
    }

    static boolean opensTo(AuthorityClient.Response r, Identity requester, SessionKey expected) {
        KeyBlob b = KeyBlob.decode(Base64.getDecoder().decode(r.body().get("blob").asText()));
        try (SessionKey k = KeyWrap.unwrap(b, requester)) {
            return k.sameKeyAs(expected);
        }
    }

    List<AuditEntry> audit() {
        return store.auditEntries(0, 100_000);
    }

    /** Audit rows of {@code action} with {@code outcome} by {@code actor}. */
    long audited(String actor, String action, String outcome) {
        return audit().stream().filter(e -> e.actor().equals(actor) && e.action().equals(action) && e.outcome().equals(outcome)).count();
    }

    long releases() {
        return audit().stream().filter(e -> e.action().equals("release")).count();
    }

    static String id(Identity i) {
        return i.recipient().idHex();
    }

    void sql(String statement, Object... args) throws Exception {
        try (Connection c = DriverManager.getConnection(home.databaseUrl()); PreparedStatement p = c.prepareStatement(statement)) {
            for (int i = 0; i < args.length; i++) {
                p.setObject(i + 1, args[i]);
            }
            p.executeUpdate();
        }
    }

    static void assertJsonError(AuthorityClient.Response r, int status, String contains) {
        assertThat(r.status()).as(r.error()).isEqualTo(status);
        assertThat(r.body()).as("a JSON body").isNotNull();
        assertThat(r.body().has("error")).as(r.body().toString()).isTrue();
        assertThat(r.error()).contains(contains);
        assertThat(r.body().has("blob")).isFalse();
    }

    // ---- 1. an escrow is bound to its owner ----

    @Test
    void copiedUnboundAndRelabelledEscrowsAreRefusedStoreNothingReleaseNothingAndAreAudited() throws Exception {
        Identity alice = enrolled("alice");
        Identity bob = enrolled("bob");
        Identity carol = enrolled("carol", Client.RECOVERY_OFFICER);
        Random random = new Random(1);
        String m1 = messageId(random);
        String m2 = messageId(random);

        // bob's escrow stanza, copied out of bob's encrypted file, filed by alice: as hers, and as bob's.
        SessionKey bobsKey = newKey();
        String bobsStanza = blob(bobsKey, EscrowBinding.message("bob", HexFormat.of().parseHex(m1)));
        assertJsonError(call(alice, "POST", "/v1/escrow", escrowBody(bobsStanza, 1L, m1, null)), 403, "not bound to owner 'alice'");
        assertJsonError(call(alice, "POST", "/v1/escrow", escrowBody(bobsStanza, 1L, m1, "bob")), 403, "may not act for owner 'bob'");
        // alice's own stanza for message m1, presented for message m2, or without its message.
        SessionKey alicesKey = newKey();
        String alicesStanza = blob(alicesKey, EscrowBinding.message("alice", HexFormat.of().parseHex(m1)));
        assertJsonError(call(alice, "POST", "/v1/escrow", escrowBody(alicesStanza, 2L, m2, null)), 403, "and message " + m2);
        assertJsonError(call(alice, "POST", "/v1/escrow", escrowBody(alicesStanza, 2L, null, null)), 403, "not bound to owner 'alice'");
        // A blob bound to the owner only, presented as a message's.
        assertJsonError(call(alice, "POST", "/v1/escrow", escrowBody(blob(newKey(), EscrowBinding.owner("alice")), 3L, m1, null)),
                403, "not bound");
        // A plain, unbound blob.
        String plain = Base64.getEncoder().encodeToString(KeyWrap.wrap(newKey(), authority.recipient()).encode());
        assertJsonError(call(alice, "POST", "/v1/escrow", escrowBody(plain, 4L, null, null)), 403, "not bound to an owner");
        assertThat(store.escrowCount()).isZero();
        assertThat(audited(id(alice), "escrow", "refused")).isEqualTo(6);
        assertThat(audited(id(alice), "escrow", "ok")).isZero();

        // A recovery officer files bob's stanza for bob: stored under bob, and bob (not carol's name) gets it back.
        AuthorityClient.Response filed = call(carol, "POST", "/v1/escrow", escrowBody(bobsStanza, 1L, m1, "bob"));
        assertThat(filed.status()).as(filed.error()).isEqualTo(201);
        assertThat(filed.body().get("owner").asText()).isEqualTo("bob");
        assertThat(store.escrow(filed.body().get("escrow_id").asText()).orElseThrow().owner()).isEqualTo("bob");
        // ...but not a stanza bound to someone else than the owner it names.
        assertJsonError(call(carol, "POST", "/v1/escrow", escrowBody(alicesStanza, 9L, m1, "bob")), 403, "not bound to owner 'bob'");
        assertThat(store.escrowCount()).isEqualTo(1);
        AuthorityClient.Response bobGets = call(bob, "POST", "/v1/recover", Map.of("message_id", m1));
        assertThat(bobGets.status()).as(bobGets.error()).isEqualTo(200);
        assertThat(opensTo(bobGets, bob, bobsKey)).isTrue();

        // alice escrows properly; then someone with write access to the database re-labels her row as bob's.
        AuthorityClient.Response mine = call(alice, "POST", "/v1/escrow", escrowBody(alicesStanza, 7L, m1, null));
        assertThat(mine.status()).as(mine.error()).isEqualTo(201);
        String escrowId = mine.body().get("escrow_id").asText();
        sql("UPDATE escrow SET owner = 'bob' WHERE id = ?", escrowId);
        long releasesBefore = releases();
        assertJsonError(call(bob, "POST", "/v1/recover", Map.of("serial", 7)), 409, "not bound to the owner and message its record names");
        assertJsonError(call(bob, "POST", "/v1/recover", Map.of("escrow_id", escrowId)), 409, "nothing released");
        assertJsonError(call(carol, "POST", "/v1/recover", Map.of("owner", "bob", "escrow_id", escrowId)), 409, "nothing released");
        // Re-labelled to another message of alice's: refused too.
        sql("UPDATE escrow SET owner = 'alice', message_id = ? WHERE id = ?", m2, escrowId);
        assertJsonError(call(alice, "POST", "/v1/recover", Map.of("message_id", m2)), 409, "nothing released");
        assertThat(releases()).isEqualTo(releasesBefore);
        assertThat(audited(id(bob), "recover", "refused")).isEqualTo(2);
        assertThat(audited(id(carol), "recover", "refused")).isEqualTo(1);
        assertThat(audit()).filteredOn(e -> e.action().equals("recover") && e.outcome().equals("refused"))
                .allMatch(e -> e.subject().equals(escrowId) && e.detail().contains("\"status\":409"));
        assertThat(store.verifyAudit(authority.recipient()).intact()).isTrue();
    }

    // ---- 2. the two-person rule counts people ----

    @Test
    void twoPersonRule_aSecondKeyOfTheRequesterCannotApprove_evenAsAnOfficer_anotherPersonCan() {
        server.twoPersonRule(true);
        Identity alice = enrolled("alice");
        Identity aliceOfficerKey = enrolled("ａｌｉｃｅ ", Client.RECOVERY_OFFICER); // the same owner, NFKC and trimmed
        Identity carol = enrolled("carol", Client.RECOVERY_OFFICER);
        Identity carol2 = enrolled("carol", Client.RECOVERY_OFFICER);
        Identity dave = enrolled("dave", Client.RECOVERY_OFFICER);
        SessionKey key = newKey();
        assertThat(call(alice, "POST", "/v1/escrow", escrowBody(blob(key, EscrowBinding.owner("alice")), 3L, null, null)).status())
                .isEqualTo(201);

        // alice asks for her own key; her second key, an officer's, cannot approve.
        AuthorityClient.Response asked = call(alice, "POST", "/v1/recover", Map.of("serial", 3));
        assertThat(asked.status()).as(asked.error()).isEqualTo(202);
        assertThat(asked.body().has("blob")).isFalse();
        String request = asked.body().get("request_id").asText();
        assertJsonError(call(aliceOfficerKey, "POST", "/v1/recover/approve", Map.of("request_id", request)), 403, "cannot approve their own");
        assertJsonError(call(alice, "POST", "/v1/recover/approve", Map.of("request_id", request)), 403, "only a recovery officer");
        assertJsonError(call(alice, "POST", "/v1/recover", Map.of("request_id", request)), 409, "pending");
        assertThat(audited(id(aliceOfficerKey), "recover-approve", "refused")).isEqualTo(1);
        assertThat(store.recoveryRequest(request).orElseThrow().status()).isEqualTo("pending");

        // An officer asks for alice's key: the officer's own second key cannot approve, another person can.
        AuthorityClient.Response byOfficer = call(carol, "POST", "/v1/recover", Map.of("owner", "alice", "serial", 3));
        assertThat(byOfficer.status()).as(byOfficer.error()).isEqualTo(202);
        String request2 = byOfficer.body().get("request_id").asText();
        assertJsonError(call(carol2, "POST", "/v1/recover/approve", Map.of("request_id", request2)), 403, "('carol') cannot approve");
        assertJsonError(call(carol, "POST", "/v1/recover/approve", Map.of("request_id", request2)), 403, "cannot approve");
        assertThat(releases()).isZero();

        AuthorityClient.Response approved = call(dave, "POST", "/v1/recover/approve", Map.of("request_id", request));
        assertThat(approved.status()).as(approved.error()).isEqualTo(200);
        AuthorityClient.Response released = call(alice, "POST", "/v1/recover", Map.of("request_id", request));
        assertThat(released.status()).as(released.error()).isEqualTo(200);
        assertThat(opensTo(released, alice, key)).isTrue();
        assertThat(audit()).filteredOn(e -> e.action().equals("recover-approved"))
                .singleElement().satisfies(e -> {
                    assertThat(e.actor()).isEqualTo(id(dave));
                    assertThat(e.detail()).contains("\"approver_owner\":\"dave\"", "\"requester_owner\":\"alice\"");
                });
        assertThat(store.verifyAudit(authority.recipient()).intact()).isTrue();
    }

    // ---- 3. no replay gap ----

    @Test
    void aRequestStampedNearlyFiveMinutesAheadCannotBeReplayedWhenItsNonceWouldHaveBeenForgotten() {
        Identity alice = enrolled("alice");
        Instant t = clock.instant();
        Instant stamped = t.plus(Duration.ofMinutes(4).plusSeconds(50));
        byte[] body = json(escrowBody(blob(newKey(), EscrowBinding.owner("alice")), 1L, null, null));
        Map<String, String> headers = RequestSigning.sign(alice, "POST", "/v1/escrow", body, stamped);
        byte[] none = new byte[0];
        Map<String, String> listHeaders = RequestSigning.sign(alice, "GET", "/v1/escrows", none, stamped);

        AuthorityClient.Response first = client.send("POST", "/v1/escrow", body, headers);
        assertThat(first.status()).as(first.error()).isEqualTo(201);
        assertThat(client.send("GET", "/v1/escrows", none, listHeaders).status()).isEqualTo(200);

        // 5m20s later: the timestamp is 30 s old, inside the window; a nonce kept only 5 minutes from when it was
        // seen would be gone (and a purge runs first: other requests come and go in between).
        clock.advance(Duration.ofMinutes(5).plusSeconds(20));
        assertThat(call(alice, "GET", "/v1/escrows", null).status()).isEqualTo(200);
        AuthorityClient.Response replay = client.send("POST", "/v1/escrow", body, headers);
        assertJsonError(replay, 401, "replayed");
        assertJsonError(client.send("GET", "/v1/escrows", none, listHeaders), 401, "replayed");
        assertThat(store.escrowCount()).isEqualTo(1);
        assertThat(audited(id(alice), "escrow", "ok")).isEqualTo(1);
        // The failures are counted in the audit log (per source and minute).
        server.flushFailures();
        assertThat(audit()).filteredOn(e -> e.actor().equals("unauthenticated"))
                .singleElement().satisfies(e -> assertThat(e.detail()).contains("\"count\":2", "\"replayed nonce\":2"));
        // Once the timestamp is out of the window, it is stale anyway.
        clock.advance(Duration.ofMinutes(5));
        assertJsonError(client.send("POST", "/v1/escrow", body, headers), 401, "minutes from the server's clock");
    }

    // ---- 4. collecting an approved recovery ----

    @Test
    void anApprovalIsCollectedAgainByItsRequesterOnlyAndOnlyUntilItExpires() {
        server.twoPersonRule(true).approvalLifetime(Duration.ofMinutes(10));
        Identity alice = enrolled("alice");
        Identity alice2 = enrolled("alice");
        Identity carol = enrolled("carol", Client.RECOVERY_OFFICER);
        Identity mallory = enrolled("mallory");
        SessionKey key = newKey();
        assertThat(call(alice, "POST", "/v1/escrow", escrowBody(blob(key, EscrowBinding.owner("alice")), 1L, null, null)).status())
                .isEqualTo(201);
        String request = call(alice, "POST", "/v1/recover", Map.of("serial", 1)).body().get("request_id").asText();
        AuthorityClient.Response approved = call(carol, "POST", "/v1/recover/approve", Map.of("request_id", request));
        assertThat(approved.status()).as(approved.error()).isEqualTo(200);
        assertThat(Instant.parse(approved.body().get("expires_at").asText())).isEqualTo(clock.instant().plus(Duration.ofMinutes(10)));

        for (int i = 0; i < 2; i++) {
            AuthorityClient.Response r = call(alice, "POST", "/v1/recover", Map.of("request_id", request));
            assertThat(r.status()).as(r.error()).isEqualTo(200);
            assertThat(opensTo(r, alice, key)).isTrue();
            clock.advance(Duration.ofMinutes(4));
        }
        // Another key of the same owner, the approving officer, anyone else: 403, audited, nothing released.
        for (Identity other : List.of(alice2, carol, mallory)) {
            assertJsonError(call(other, "POST", "/v1/recover", Map.of("request_id", request)), 403, "belongs to another client");
            assertThat(audited(id(other), "recover", "refused")).isEqualTo(1);
        }
        assertThat(releases()).isEqualTo(2);
        // At 8 minutes it still works; at 10 it has expired.
        assertThat(call(alice, "POST", "/v1/recover", Map.of("request_id", request)).status()).isEqualTo(200);
        clock.advance(Duration.ofMinutes(2));
        assertJsonError(call(alice, "POST", "/v1/recover", Map.of("request_id", request)), 409, "expired");
        assertThat(releases()).isEqualTo(3);
        assertThat(store.recoveryRequest(request).orElseThrow().collected()).isEqualTo(3);
        assertThat(audited(id(alice), "recover-collected", "ok")).isEqualTo(3);
        assertThat(store.verifyAudit(authority.recipient()).intact()).isTrue();
    }

    // ---- 5. revocation ----

    @Test
    void aRevokedKeyIsRefusedAtOnceCannotEnrollAgainNorBeApproved() {
        Identity alice = enrolled("alice");
        Identity bob = enrolled("bob");
        Identity carol = enrolled("carol");
        Identity mallory = enrolled("mallory");
        // Both are in the server's approved-client cache.
        assertThat(call(alice, "GET", "/v1/escrows", null).status()).isEqualTo(200);
        assertThat(call(bob, "GET", "/v1/client", null).status()).isEqualTo(200);

        AuthorityClient.Response byAdmin = admin("POST", "/v1/admin/revoke", Map.of("client_id", id(alice)));
        assertThat(byAdmin.status()).as(byAdmin.error()).isEqualTo(200);
        assertThat(byAdmin.body().get("status").asText()).isEqualTo("revoked");
        AuthorityClient.Response self = call(bob, "POST", "/v1/revoke", Map.of());
        assertThat(self.status()).as(self.error()).isEqualTo(200);
        assertThat(self.body().get("status").asText()).isEqualTo("revoked");

        for (Identity revoked : List.of(alice, bob)) {
            assertJsonError(call(revoked, "GET", "/v1/escrows", null), 401, "was revoked");
            assertJsonError(call(revoked, "GET", "/v1/client", null), 401, "was revoked");
            assertJsonError(call(revoked, "POST", "/v1/revoke", Map.of()), 401, "was revoked");
            assertJsonError(call(revoked, "POST", "/v1/escrow", escrowBody(blob(newKey(), EscrowBinding.owner("alice")), 1L, null, null)),
                    401, "was revoked");
            // Enrolling again, under its name or another: 403, counted (per source and minute) as a refused enrollment.
            for (String name : List.of(revoked == alice ? "alice" : "bob", "fresh")) {
                assertJsonError(call(revoked, "POST", "/v1/enroll", Map.of("name", name, "recipient", revoked.recipient().encode())),
                        403, "cannot enroll again");
            }
            assertThat(refusedEnrollmentsCounted()).isGreaterThanOrEqualTo(2);
            assertJsonError(admin("POST", "/v1/admin/approve", Map.of("client_id", id(revoked), "roles", List.of(Client.RECOVERY_OFFICER))),
                    409, "cannot be approved");
        }
        assertThat(store.escrowCount()).isZero();

        // Someone else's key cannot be revoked with your signature: the signer is the key revoked.
        Map<String, String> h = new HashMap<>(RequestSigning.sign(mallory, "POST", "/v1/revoke", "{}".getBytes(StandardCharsets.UTF_8),
                clock.instant()));
        h.put(RequestSigning.CLIENT, id(carol));
        assertJsonError(client.send("POST", "/v1/revoke", "{}".getBytes(StandardCharsets.UTF_8), h), 401, "does not verify");
        assertJsonError(call(mallory, "POST", "/v1/revoke", Map.of("client_id", id(carol))), 400, "unknown field");
        assertThat(store.client(id(carol)).orElseThrow().status()).isEqualTo(Client.Status.APPROVED);
        assertThat(store.client(id(mallory)).orElseThrow().status()).isEqualTo(Client.Status.APPROVED);

        JsonNode clients = admin("GET", "/v1/admin/clients", null).body().get("clients");
        Map<String, JsonNode> byId = new HashMap<>();
        clients.forEach(c -> byId.put(c.get("client_id").asText(), c));
        for (Identity revoked : List.of(alice, bob)) {
            assertThat(byId.get(id(revoked)).get("status").asText()).isEqualTo("revoked");
            assertThat(Instant.parse(byId.get(id(revoked)).get("revoked_at").asText())).isEqualTo(Instant.ofEpochMilli(clock.millis()));
        }
        assertThat(byId.get(id(carol)).has("revoked_at")).isFalse();
        assertThat(audit()).filteredOn(e -> e.action().equals("revoke")).extracting(e -> e.actor() + " " + e.subject())
                .containsExactly("admin " + id(alice), id(bob) + " " + id(bob));
        assertThat(store.verifyAudit(authority.recipient()).intact()).isTrue();
    }

    @Test
    void aPendingKeyMayAskWhoItIsAndRevokeItselfButNothingElse() {
        Identity eve = Identity.generate(KeyType.X25519);
        assertThat(call(eve, "POST", "/v1/enroll", Map.of("name", "eve", "recipient", eve.recipient().encode())).status()).isEqualTo(202);
        AuthorityClient.Response who = call(eve, "GET", "/v1/client", null);
        assertThat(who.status()).as(who.error()).isEqualTo(200);
        assertThat(who.body().get("status").asText()).isEqualTo("pending");
        assertJsonError(call(eve, "POST", "/v1/escrow", escrowBody(blob(newKey(), EscrowBinding.owner("eve")), 1L, null, null)),
                403, "not approved yet");
        assertJsonError(call(eve, "POST", "/v1/recover", Map.of("serial", 1)), 403, "not approved yet");
        assertThat(call(eve, "POST", "/v1/revoke", Map.of()).status()).isEqualTo(200);
        assertJsonError(admin("POST", "/v1/admin/approve", Map.of("client_id", id(eve))), 409, "cannot be approved");
        assertJsonError(call(eve, "GET", "/v1/client", null), 401, "revoked");
        assertThat(store.escrowCount()).isZero();
    }

    // ---- 6. the audit log ----

    /** A few entries: enrollments, approvals and escrows. */
    Identity someHistory() {
        Identity alice = enrolled("alice");
        for (long s = 1; s <= 3; s++) {
            assertThat(call(alice, "POST", "/v1/escrow", escrowBody(blob(newKey(), EscrowBinding.owner("alice")), s, null, null)).status())
                    .isEqualTo(201);
        }
        assertThat(store.verifyAudit(authority.recipient()).intact()).isTrue();
        return alice;
    }

    @Test
    void droppingTheTailAndRewritingTheHeadIsDetected() throws Exception {
        someHistory();
        List<AuditEntry> entries = audit();
        AuditEntry keep = entries.get(entries.size() - 3);
        sql("DELETE FROM audit WHERE seq > ?", keep.seq());
        sql("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", keep.seq(), keep.hash());
        AuthorityStore.AuditCheck check = store.verifyAudit(authority.recipient());
        assertThat(check.intact()).isFalse();
        assertThat(check.problem()).contains("signature", "does not verify");
    }

    @Test
    void anEditedEntryWithTheWholeChainRecomputedIsDetected() throws Exception {
        someHistory();
        List<AuditEntry> entries = audit();
        String prev = AuditEntry.GENESIS;
        for (AuditEntry e : entries) {
            String detail = e.action().equals("escrow") ? e.detail().replace("alice", "mallory") : e.detail();
            String hash = AuditEntry.computeHash(e.seq(), e.at(), e.actor(), e.action(), e.subject(), e.outcome(), detail, prev);
            sql("UPDATE audit SET detail = ?, prev_hash = ?, hash = ? WHERE seq = ?", detail, prev, hash, e.seq());
            prev = hash;
        }
        sql("UPDATE audit_head SET hash = ? WHERE id = 1", prev);
        AuthorityStore.AuditCheck check = store.verifyAudit(authority.recipient());
        assertThat(check.intact()).isFalse();
        assertThat(check.problem()).contains("signature", "does not verify");
        assertThat(audit()).anyMatch(e -> e.detail().contains("mallory"));
    }

    @Test
    void aFloodOfUnauthenticatedRequestsCostsTheLogACountedRowPerSourceAndMinute() throws Exception {
        Identity alice = someHistory();
        long before = audit().size();
        Identity stranger = Identity.generate(KeyType.X25519);
        byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 300; i++) {
            AuthorityClient.Response r = switch (i % 6) {
                case 0 -> client.send("POST", "/v1/escrow", body, Map.of());
                case 1 -> client.send("GET", "/v1/escrows", new byte[0], Map.of(RequestSigning.CLIENT, "0".repeat(16)));
                case 2 -> raw(stranger, "GET", "/v1/escrows", new byte[0], clock.instant());
                case 3 -> client.admin("kwadmin_guess" + i, "GET", "/v1/admin/clients", null);
                case 4 -> raw(alice, "GET", "/v1/escrows", new byte[0], clock.instant().minus(Duration.ofHours(1)));
                // A forwarded-for header must not make each request a source of its own.
                default -> client.send("GET", "/v1/escrows", new byte[0], Map.of("X-Forwarded-For", "10.0.0." + i,
                        "Forwarded", "for=10.1.0." + i));
            };
            assertThat(r.status()).isEqualTo(401);
            assertThat(r.body().get("error").asText()).isNotEmpty();
        }
        server.flushFailures();
        List<AuditEntry> added = audit().subList((int) before, audit().size());
        assertThat(added.size()).as("audit rows for 300 refused requests").isBetween(1, 2);
        long counted = 0;
        for (AuditEntry e : added) {
            assertThat(e.actor()).isEqualTo("unauthenticated");
            assertThat(e.outcome()).isEqualTo("refused");
            assertThat(e.subject()).isEqualTo("127.0.0.1");
            counted += JSON.readTree(e.detail()).get("count").asLong();
        }
        assertThat(counted).isEqualTo(300);
        assertThat(store.verifyAudit(authority.recipient()).intact()).isTrue();
    }

    // ---- 7. owner names ----

    @Test
    void ownerNamesAreCanonicalAndLookAlikesAndMixedScriptsAreRefused() {
        Identity alice = enrolled("alice");
        for (String same : List.of("ａｌｉｃｅ", "alice ", " alice")) {
            Identity k = Identity.generate(KeyType.X25519);
            AuthorityClient.Response r = call(k, "POST", "/v1/enroll", Map.of("name", same, "recipient", k.recipient().encode()));
            assertThat(r.status()).as(same + ": " + r.error()).isEqualTo(202);
            assertThat(r.body().get("name").asText()).isEqualTo("alice");
            assertThat(r.body().get("status").asText()).isEqualTo("pending");
        }
        List<Identity> refused = new ArrayList<>();
        for (String lookAlike : List.of("\u0430lice", "Alice", "ALICE", "a\u04cfice")) {
            Identity k = Identity.generate(KeyType.X25519);
            refused.add(k);
            assertJsonError(call(k, "POST", "/v1/enroll", Map.of("name", lookAlike, "recipient", k.recipient().encode())), 409,
                    "looks like the enrolled owner 'alice'");
        }
        // Anyone can try names: the refusals are counted per source and minute, not one row each.
        assertThat(refusedEnrollmentsCounted()).isEqualTo(4);
        for (String mixed : List.of("p\u0430ypal", "b\u03bfb")) {
            Identity k = Identity.generate(KeyType.X25519);
            refused.add(k);
            assertJsonError(call(k, "POST", "/v1/enroll", Map.of("name", mixed, "recipient", k.recipient().encode())), 400,
                    "mixes writing systems");
        }
        for (Identity k : refused) {
            assertThat(store.client(id(k))).isEmpty();
        }
        // One owner, four keys (one approved, three pending); no other owner was made.
        assertThat(store.clients()).extracting(Client::name).containsOnly("alice").hasSize(4);
        assertThat(store.client(id(alice)).orElseThrow().approved()).isTrue();
    }

    // ---- 8. strict JSON ----

    @Test
    void duplicateKeysLoneSurrogatesAndOversizedBodiesAre400Json() throws Exception {
        Identity alice = enrolled("alice");
        String b = blob(newKey(), EscrowBinding.owner("alice"));
        byte[] dup = ("{\"blob\":\"" + b + "\",\"description\":\"a\",\"description\":\"b\"}").getBytes(StandardCharsets.UTF_8);
        assertJsonError(raw(alice, "POST", "/v1/escrow", dup, clock.instant()), 400, "names a field twice");
        byte[] surrogate = ("{\"blob\":\"" + b + "\",\"description\":\"x\\ud800y\"}").getBytes(StandardCharsets.UTF_8);
        assertJsonError(raw(alice, "POST", "/v1/escrow", surrogate, clock.instant()), 400, "lone surrogate");
        byte[] lowFirst = ("{\"blob\":\"" + b + "\",\"description\":\"\\udc00\\ud800\"}").getBytes(StandardCharsets.UTF_8);
        assertJsonError(raw(alice, "POST", "/v1/escrow", lowFirst, clock.instant()), 400, "lone surrogate");
        byte[] deep = ("{\"blob\":" + "[".repeat(5000) + "]".repeat(5000) + "}").getBytes(StandardCharsets.UTF_8);
        assertJsonError(raw(alice, "POST", "/v1/escrow", deep, clock.instant()), 400, "not valid JSON");

        for (int size : new int[] {AuthorityServer.MAX_BODY + 1, 3 * AuthorityServer.MAX_BODY}) {
            byte[] huge = new byte[size];
            java.util.Arrays.fill(huge, (byte) ' ');
            assertJsonError(raw(alice, "POST", "/v1/escrow", huge, clock.instant()), 400, "larger than");
        }
        // Exactly the limit is read and parsed (and refused for what it holds, not its size).
        byte[] atLimit = new byte[AuthorityServer.MAX_BODY];
        java.util.Arrays.fill(atLimit, (byte) ' ');
        assertJsonError(raw(alice, "POST", "/v1/escrow", atLimit, clock.instant()), 400, "must be a JSON object");
        assertThat(store.escrowCount()).isZero();
    }

    /** A body over 1 MiB sent chunked (no Content-Length) is answered like any other: 400 and a JSON error. */
    @Test
    void anOversizedChunkedBodyIs400JsonToo() throws Exception {
        Identity alice = enrolled("alice");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(trustingAuthority()).build();
        for (int size : new int[] {AuthorityServer.MAX_BODY + 1, AuthorityServer.MAX_BODY + 10, 3 * AuthorityServer.MAX_BODY}) {
            byte[] huge = new byte[size];
            java.util.Arrays.fill(huge, (byte) ' ');
            // ofInputStream has no length: HTTP/1.1 sends it with Transfer-Encoding: chunked.
            HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(baseUrl + "/v1/escrow"))
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(huge)))
                    .header("Content-Type", "application/json");
            RequestSigning.sign(alice, "POST", "/v1/escrow", huge, clock.instant()).forEach(req::header);
            HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(size + " bytes chunked: " + r.body()).isEqualTo(400);
            assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
            assertThat(JSON.readTree(r.body()).get("error").asText()).contains("larger than");
        }
        assertThat(store.escrowCount()).isZero();
    }

    javax.net.ssl.SSLContext trustingAuthority() throws Exception {
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("a", home.certificate());
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
        ssl.init(null, tmf.getTrustManagers(), null);
        return ssl;
    }

    // ---- property: nothing A escrows is ever released to B ----

    /** Name pieces: ASCII, Latin letters with diacritics (composed and not), fullwidth forms, an inner space. */
    static final String[] PIECES = {"a", "b", "k", "é", "e\u0301", "ø", "ü", "ß", "ñ", "ｋ", "ａ", "z", "ð", " ", "."};

    static String randomName(Random random) {
        StringBuilder sb = new StringBuilder();
        int n = 1 + random.nextInt(5);
        for (int i = 0; i < n; i++) {
            sb.append(PIECES[random.nextInt(PIECES.length)]);
        }
        return sb.toString();
    }

    @Test
    void nothingOneOwnerEscrowsIsEverReleasedToAnother() {
        long seed = Long.getLong("keyway.attack.seed", System.nanoTime());
        System.out.println("AuthorityAttackTest.nothingOneOwnerEscrowsIsEverReleasedToAnother seed=" + seed
                + " (rerun with -Dkeyway.attack.seed=" + seed + ")");
        Random random = new Random(seed);
        Map<String, Identity> owners = new HashMap<>(); // canonical name -> an approved key
        int pairs = 0;
        for (int round = 0; round < 60 && pairs < 14; round++) {
            String rawA = randomName(random);
            String rawB = randomName(random);
            Identity a = owner(owners, rawA);
            Identity b = owner(owners, rawB);
            if (a == null || b == null || a == b) {
                continue; // a name refused (look-alike, mixed, empty) or the same owner twice
            }
            pairs++;
            String nameA = store.client(id(a)).orElseThrow().name();
            String nameB = store.client(id(b)).orElseThrow().name();
            String context = "seed " + seed + ", A '" + nameA + "' (" + rawA + "), B '" + nameB + "' (" + rawB + ")";
            long serial = 1000L * round + random.nextInt(1000); // unique: B may have escrowed as an A before
            String m = messageId(random);
            SessionKey key = newKey();
            String owned = blob(key, EscrowBinding.owner(nameA));
            String stanza = blob(key, EscrowBinding.message(nameA, HexFormat.of().parseHex(m)));
            AuthorityClient.Response e1 = call(a, "POST", "/v1/escrow", escrowBody(owned, serial, null, null));
            AuthorityClient.Response e2 = call(a, "POST", "/v1/escrow", escrowBody(stanza, serial, m, rawA));
            assertThat(e1.status()).as(context + ": " + e1.error()).isIn(200, 201);
            assertThat(e2.status()).as(context + ": " + e2.error()).isIn(200, 201);
            long releases = releases();
            List<AuthorityClient.Response> tries = new ArrayList<>();
            for (String ownerField : new String[] {null, nameA, rawA}) {
                for (Map<String, Object> which : List.<Map<String, Object>>of(Map.of("serial", serial), Map.of("message_id", m),
                        Map.of("escrow_id", e1.body().get("escrow_id").asText()), Map.of("escrow_id", e2.body().get("escrow_id").asText()))) {
                    Map<String, Object> body = new HashMap<>(which);
                    if (ownerField != null) {
                        body.put("owner", ownerField);
                    }
                    tries.add(call(b, "POST", "/v1/recover", body));
                }
            }
            // B cannot file A's blobs, as B's or as A's.
            tries.add(call(b, "POST", "/v1/escrow", escrowBody(owned, serial, null, null)));
            tries.add(call(b, "POST", "/v1/escrow", escrowBody(stanza, serial, m, null)));
            tries.add(call(b, "POST", "/v1/escrow", escrowBody(owned, serial, null, nameA)));
            tries.add(call(b, "POST", "/v1/escrow", escrowBody(stanza, serial, m, rawA)));
            tries.add(call(b, "GET", "/v1/escrows?owner=" + java.net.URLEncoder.encode(nameA, StandardCharsets.UTF_8).replace("+", "%20"), null));
            for (AuthorityClient.Response r : tries) {
                assertThat(r.status()).as(context + ": " + r.error()).isIn(403, 404);
                assertThat(r.body().has("blob")).isFalse();
            }
            // B's own listing shows none of A's escrows.
            AuthorityClient.Response list = call(b, "GET", "/v1/escrows", null);
            assertThat(list.status()).isEqualTo(200);
            list.body().get("escrows").forEach(x -> assertThat(x.get("owner").asText()).as(context).isEqualTo(nameB));
            assertThat(releases()).as(context).isEqualTo(releases);
            // And A still gets its key back.
            AuthorityClient.Response mine = call(a, "POST", "/v1/recover", Map.of("message_id", m));
            assertThat(mine.status()).as(context + ": " + mine.error()).isEqualTo(200);
            assertThat(opensTo(mine, a, key)).isTrue();
        }
        assertThat(pairs).as("pairs tried, seed " + seed + ", owners " + owners.keySet()).isGreaterThanOrEqualTo(5);
        assertThat(audit()).filteredOn(e -> e.action().equals("release"))
                .allSatisfy(e -> {
                    String to = e.detail().replaceAll(".*\"to\":\"([0-9a-f]+)\".*", "$1");
                    Client requester = store.client(to).orElseThrow();
                    assertThat(e.detail()).contains("\"owner\":" + AuthorityStore.json(requester.name()));
                });
        assertThat(store.verifyAudit(authority.recipient()).intact()).isTrue();
    }

    /** The approved key of the owner {@code raw} names, enrolling one if needed; null if the name is refused. */
    Identity owner(Map<String, Identity> owners, String raw) {
        String canonical;
        try {
            canonical = OwnerNames.canonical(raw);
        } catch (dev.keyway.core.KeywayException e) {
            return null;
        }
        Identity known = owners.get(canonical);
        if (known != null) {
            return known;
        }
        Identity id = Identity.generate(KeyType.X25519);
        AuthorityClient.Response r = call(id, "POST", "/v1/enroll", Map.of("name", raw, "recipient", id.recipient().encode()));
        if (r.status() == 409 || r.status() == 400) {
            return null;
        }
        assertThat(r.status()).as(raw + ": " + r.error()).isEqualTo(202);
        assertThat(r.body().get("name").asText()).isEqualTo(canonical);
        assertThat(admin("POST", "/v1/admin/approve", Map.of("client_id", id(id))).status()).isEqualTo(200);
        owners.put(canonical, id);
        return id;
    }

    // ---- B: attacks found reading the code ----

    /** No audit row holds a control character or a subject longer than the column (256, enforced by PostgreSQL). */
    void assertAuditIsClean() {
        for (AuditEntry e : audit()) {
            assertThat(e.subject().length()).as("subject of entry " + e.seq()).isLessThanOrEqualTo(256);
            for (String field : List.of(e.actor(), e.subject(), e.detail())) {
                assertThat(field.chars().noneMatch(ch -> ch < 0x20 || (ch >= 0x7f && ch < 0xa0)))
                        .as("entry " + e.seq() + " holds a control character: " + field.replaceAll("\\p{Cc}", "?")).isTrue();
            }
        }
    }

    /**
     * The owner a listing asks for is an owner name like everywhere else: canonical (a recovery officer finds
     * alice under "ａｌｉｃｅ", as recover does), and a control character or an overlong name is 400, never a
     * refusal row holding it (on PostgreSQL a subject over 256 characters failed the write: 503, nothing audited).
     */
    @Test
    void theListingsOwnerIsAnOwnerName() {
        Identity alice = enrolled("alice");
        Identity bob = enrolled("bob");
        Identity carol = enrolled("carol", Client.RECOVERY_OFFICER);
        assertThat(call(alice, "POST", "/v1/escrow", escrowBody(blob(newKey(), EscrowBinding.owner("alice")), 1L, null, null)).status())
                .isEqualTo(201);
        for (String spelled : List.of("%EF%BD%81lice", "alice%20", "%20alice")) {
            AuthorityClient.Response r = call(carol, "GET", "/v1/escrows?owner=" + spelled, null);
            assertThat(r.status()).as(spelled + ": " + r.error()).isEqualTo(200);
            assertThat(r.body().get("escrows")).as(spelled).hasSize(1);
        }
        assertJsonError(call(bob, "GET", "/v1/escrows?owner=%1B%5B2J%0Aalice", null), 400, "owner");
        assertJsonError(call(bob, "GET", "/v1/escrows?owner=" + "a".repeat(300), null), 400, "owner");
        assertJsonError(call(bob, "GET", "/v1/escrows?owner=%EF%BD%81lice", null), 403, "owner 'alice'");
        // The same goes for an enrolment's name and a request's owner: refused before anything is written.
        Identity k = Identity.generate(KeyType.X25519);
        assertJsonError(call(k, "POST", "/v1/enroll", Map.of("name", "al\u001bice", "recipient", k.recipient().encode())), 400, "control");
        assertJsonError(call(bob, "POST", "/v1/recover", Map.of("owner", "al\u0007ice", "serial", 1)), 400, "control");
        assertThat(audited(id(bob), "list", "refused")).isEqualTo(1);
        assertThat(audit()).filteredOn(e -> e.action().equals("list")).singleElement()
                .satisfies(e -> assertThat(e.subject()).isEqualTo("alice"));
        assertAuditIsClean();
    }

    /**
     * A request id is 32 hex digits: anything else is 400 before it reaches the audit log or an error message
     * (a non-officer's "approval" of a megabyte of text was one audit row holding all of it).
     */
    @Test
    void malformedRequestIdsAre400AndNeverReachTheAuditLog() {
        server.twoPersonRule(true);
        Identity bob = enrolled("bob");
        Identity carol = enrolled("carol", Client.RECOVERY_OFFICER);
        String junk = "\u001b[2J\r\n" + "x".repeat(100_000);
        for (Identity who : List.of(bob, carol)) {
            assertJsonError(call(who, "POST", "/v1/recover/approve", Map.of("request_id", junk)), 400, "request_id");
            assertJsonError(call(who, "POST", "/v1/recover", Map.of("request_id", junk)), 400, "request_id");
            AuthorityClient.Response r = call(who, "POST", "/v1/recover/approve", Map.of("request_id", "0".repeat(32)));
            assertThat(r.status()).isIn(403, 404);
            assertThat(r.error()).doesNotContain("\u001b").hasSizeLessThan(300);
        }
        assertAuditIsClean();
    }

    /**
     * The stored blob is checked before a collection is recorded: when the release check refuses (a re-labelled
     * row), the request is not marked collected and the log does not say "recover-collected ok".
     */
    @Test
    void aCollectionTheReleaseCheckRefusesIsNotRecordedAsCollected() throws Exception {
        server.twoPersonRule(true);
        Identity alice = enrolled("alice");
        Identity carol = enrolled("carol", Client.RECOVERY_OFFICER);
        SessionKey key = newKey();
        String escrowId = call(alice, "POST", "/v1/escrow", escrowBody(blob(key, EscrowBinding.owner("alice")), 1L, null, null))
                .body().get("escrow_id").asText();
        String request = call(alice, "POST", "/v1/recover", Map.of("serial", 1)).body().get("request_id").asText();
        assertThat(call(carol, "POST", "/v1/recover/approve", Map.of("request_id", request)).status()).isEqualTo(200);
        sql("UPDATE escrow SET owner = 'bob' WHERE id = ?", escrowId);
        assertJsonError(call(alice, "POST", "/v1/recover", Map.of("request_id", request)), 409, "nothing released");
        assertThat(store.recoveryRequest(request).orElseThrow().collected()).isZero();
        assertThat(store.recoveryRequest(request).orElseThrow().status()).isEqualTo("approved");
        assertThat(audited(id(alice), "recover-collected", "ok")).isZero();
        assertThat(audited(id(alice), "recover", "refused")).isEqualTo(1);
        assertThat(releases()).isZero();
        // Put right, the approval still stands.
        sql("UPDATE escrow SET owner = 'alice' WHERE id = ?", escrowId);
        AuthorityClient.Response r = call(alice, "POST", "/v1/recover", Map.of("request_id", request));
        assertThat(r.status()).as(r.error()).isEqualTo(200);
        assertThat(opensTo(r, alice, key)).isTrue();
        assertThat(store.recoveryRequest(request).orElseThrow().collected()).isEqualTo(1);
    }

    /**
     * Officers and revoked keys: an officer cannot approve the request of a key revoked since it asked (409,
     * audited), and an approval given by an officer key revoked since (lost or stolen) releases nothing.
     */
    @Test
    void revokedRequestersCannotBeApprovedAndRevokedOfficersApprovalsReleaseNothing() {
        server.twoPersonRule(true);
        Identity alice = enrolled("alice");
        Identity carol = enrolled("carol", Client.RECOVERY_OFFICER);
        Identity dave = enrolled("dave", Client.RECOVERY_OFFICER);
        SessionKey key = newKey();
        assertThat(call(alice, "POST", "/v1/escrow", escrowBody(blob(key, EscrowBinding.owner("alice")), 1L, null, null)).status())
                .isEqualTo(201);
        String r1 = call(alice, "POST", "/v1/recover", Map.of("serial", 1)).body().get("request_id").asText();
        assertThat(admin("POST", "/v1/admin/revoke", Map.of("client_id", id(alice))).status()).isEqualTo(200);
        assertJsonError(call(carol, "POST", "/v1/recover/approve", Map.of("request_id", r1)), 409, "revoked");
        assertThat(store.recoveryRequest(r1).orElseThrow().status()).isEqualTo("pending");
        assertThat(audited(id(carol), "recover-approve", "refused")).isEqualTo(1);

        Identity alice2 = enrolled("alice");
        String r2 = call(alice2, "POST", "/v1/recover", Map.of("serial", 1)).body().get("request_id").asText();
        assertThat(call(dave, "POST", "/v1/recover/approve", Map.of("request_id", r2)).status()).isEqualTo(200);
        assertThat(admin("POST", "/v1/admin/revoke", Map.of("client_id", id(dave))).status()).isEqualTo(200);
        assertJsonError(call(alice2, "POST", "/v1/recover", Map.of("request_id", r2)), 409, "revoked");
        assertThat(store.recoveryRequest(r2).orElseThrow().collected()).isZero();
        assertThat(releases()).isZero();
        assertThat(audited(id(alice2), "recover", "refused")).isEqualTo(1);

        // A fresh request approved by an officer in good standing is released.
        String r3 = call(alice2, "POST", "/v1/recover", Map.of("serial", 1)).body().get("request_id").asText();
        assertThat(call(carol, "POST", "/v1/recover/approve", Map.of("request_id", r3)).status()).isEqualTo(200);
        AuthorityClient.Response ok = call(alice2, "POST", "/v1/recover", Map.of("request_id", r3));
        assertThat(ok.status()).as(ok.error()).isEqualTo(200);
        assertThat(opensTo(ok, alice2, key)).isTrue();
    }

    /** A signature binds method, path, query, body and key: nothing signed for one request works for another. */
    @Test
    void signaturesDoNotCarryOverToOtherPathsQueriesBodiesOrClients() {
        Identity alice = enrolled("alice");
        Identity bob = enrolled("bob");
        Identity carol = enrolled("carol", Client.RECOVERY_OFFICER);
        assertThat(call(alice, "POST", "/v1/escrow", escrowBody(blob(newKey(), EscrowBinding.owner("alice")), 1L, null, null)).status())
                .isEqualTo(201);
        byte[] none = new byte[0];
        Map<String, String> ownList = RequestSigning.sign(bob, "GET", "/v1/escrows?owner=bob", none, clock.instant());
        assertJsonError(client.send("GET", "/v1/escrows?owner=alice", none, ownList), 401, "does not verify");
        assertJsonError(client.send("GET", "/v1/escrows?owner=bob&owner=alice", none, ownList), 401, "does not verify");
        Map<String, String> whoami = RequestSigning.sign(carol, "GET", "/v1/client", none, clock.instant());
        assertJsonError(client.send("GET", "/v1/escrows?owner=alice", none, whoami), 401, "does not verify");
        byte[] recover = json(Map.of("owner", "alice", "serial", 1));
        Map<String, String> recoverHeaders = RequestSigning.sign(bob, "POST", "/v1/recover", recover, clock.instant());
        assertJsonError(client.send("POST", "/v1/recover", json(Map.of("serial", 1)), recoverHeaders), 401, "does not verify");
        // carol's signature presented as bob's, and bob's claim to be carol.
        Map<String, String> asCarol = new HashMap<>(recoverHeaders);
        asCarol.put(RequestSigning.CLIENT, id(carol));
        assertJsonError(client.send("POST", "/v1/recover", recover, asCarol), 401, "does not verify");
        Map<String, String> upper = new HashMap<>(RequestSigning.sign(carol, "POST", "/v1/recover", recover, clock.instant()));
        upper.put(RequestSigning.CLIENT, id(carol).toUpperCase());
        assertJsonError(client.send("POST", "/v1/recover", recover, upper), 401, "not enrolled");
        // A timestamp written another way signs the same instant: the nonce still catches the replay.
        Map<String, String> signed = RequestSigning.sign(alice, "GET", "/v1/client", none, clock.instant());
        assertThat(client.send("GET", "/v1/client", none, signed).status()).isEqualTo(200);
        Map<String, String> respelled = new HashMap<>(signed);
        respelled.put(RequestSigning.TIMESTAMP, "+0" + signed.get(RequestSigning.TIMESTAMP));
        assertJsonError(client.send("GET", "/v1/client", none, respelled), 401, "replayed");
        // An escrow id of another owner answers exactly like one that does not exist.
        String aliceEscrow = store.find(new AuthorityStore.Query("alice", null, null, null, null, null, 10)).get(0).id();
        AuthorityClient.Response theirs = call(bob, "POST", "/v1/recover", Map.of("escrow_id", aliceEscrow));
        AuthorityClient.Response nobodys = call(bob, "POST", "/v1/recover", Map.of("escrow_id", AuthorityStore.randomId()));
        assertThat(theirs.status()).isEqualTo(404);
        assertThat(theirs.error()).isEqualTo(nobodys.error());
        assertThat(call(carol, "POST", "/v1/recover", Map.of("owner", "bob", "escrow_id", aliceEscrow)).status()).isEqualTo(404);
        assertThat(releases()).isZero();
    }

    /**
     * A log truncated and its head rewritten must not be signed into place by the next write: the writer checks
     * the head it extends (signed by this authority) and refuses to append (503) until the log is restored.
     */
    @Test
    void aTruncatedLogIsNotReSignedByTheNextWrite() throws Exception {
        Identity alice = someHistory();
        List<AuditEntry> entries = audit();
        AuditEntry keep = entries.get(entries.size() - 3);
        sql("DELETE FROM audit WHERE seq > ?", keep.seq());
        sql("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", keep.seq(), keep.hash());
        assertThat(store.verifyAudit(authority.recipient()).intact()).isFalse();
        // Any request that writes an audit row: here a refused one. The writer will not extend the altered head.
        AuthorityClient.Response refused = call(alice, "POST", "/v1/recover", Map.of("serial", 99));
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.error()).contains("not signed by this authority");
        assertThat(store.verifyAudit(authority.recipient()).intact()).as("the truncation is still detected").isFalse();
        assertThat(audit()).hasSize(entries.size() - 2);
    }

    /**
     * Anyone can enroll a key (pending) and then make requests that are refused 403, or try look-alike names
     * (409): such refusals are counted per source and minute like unauthenticated ones, not one row each.
     */
    @Test
    void aFreshPendingKeyCannotFloodTheAuditLog() {
        enrolled("alice");
        Identity eve = Identity.generate(KeyType.X25519);
        assertThat(call(eve, "POST", "/v1/enroll", Map.of("name", "eve", "recipient", eve.recipient().encode())).status()).isEqualTo(202);
        Identity mallory = Identity.generate(KeyType.X25519);
        long before = audit().size();
        for (int i = 0; i < 150; i++) {
            assertThat(call(eve, "GET", "/v1/escrows", null).status()).isEqualTo(403);
            assertThat(call(mallory, "POST", "/v1/enroll", Map.of("name", "Alice", "recipient", mallory.recipient().encode())).status())
                    .isEqualTo(409);
        }
        server.flushFailures();
        assertThat(audit().size() - before).as("audit rows for 300 refused requests").isLessThanOrEqualTo(2);
    }

    /** Writes the failure counts and sums the refused enrollments they hold (a new count since the last call). */
    private long refusedEnrollmentsCounted() {
        server.flushFailures();
        long n = 0;
        for (AuditEntry e : audit()) {
            if (e.actor().equals("unauthenticated") && e.seq() > countedUpTo) {
                com.fasterxml.jackson.databind.JsonNode kinds;
                try {
                    kinds = JSON.readTree(e.detail()).get("kinds");
                } catch (java.io.IOException ex) {
                    throw new AssertionError(e.detail(), ex);
                }
                if (kinds.has("refused enrollment")) {
                    n += kinds.get("refused enrollment").asLong();
                }
                countedUpTo = e.seq();
            }
        }
        return n;
    }

    private long countedUpTo;
}
