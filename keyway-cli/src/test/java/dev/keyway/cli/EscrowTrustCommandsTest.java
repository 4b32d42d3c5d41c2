package dev.keyway.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.keyway.authority.AuditEntry;
import dev.keyway.authority.AuthorityHome;
import dev.keyway.authority.AuthorityServer;
import dev.keyway.authority.AuthorityStore;
import dev.keyway.authority.Client;
import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.kdf.Hkdf;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.envelope.EnvelopeReader;
import dev.keyway.envelope.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.keyway.cli.Cli.p;
import static dev.keyway.cli.EnvelopeFixtures.JSON;
import static dev.keyway.cli.EnvelopeFixtures.fails;
import static dev.keyway.cli.EnvelopeFixtures.keygen;
import static dev.keyway.cli.EnvelopeFixtures.ok;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The authority's trust model (issue 14) end to end through the CLI, against an authority served in process:
 * revocation, escrows bound to their owner (and the copied-stanza attack), filing a file's escrow stanza,
 * collecting an approved recovery without losing it, the signed audit head, escrow policies, and a file whose
 * escrow stanza does not recompute.
 */
class EscrowTrustCommandsTest {
    private static final String REVOKE_USAGE = "give either --admin-token-file and CLIENT_ID, or -i IDENTITY";

    @TempDir
    Path dir;
    Path auth;
    AuthorityHome home;
    Identity authority;
    String authorityRecipient;
    String cacert;
    Path token;
    AuthorityStore store;
    AuthorityServer server;
    String url;

    @AfterEach
    void stop() {
        stopServer();
        if (authority != null) {
            authority.destroy();
        }
    }

    // ---- 1. revocation, clients, whoami ----

    @Test
    void revokedKeysAreRefusedWithOneLineAndListedAsRevoked() throws Exception {
        initAuthority();
        startServer(false);
        String alice = enrolled("alice.key", "alice");
        String bob = enrolled("bob.key", "bob");
        String carol = Recipient.parse(keygen(dir, "carol.key")).idHex();
        ok(at("authority", "enroll", "-i", key("carol.key"), "--name", "carol"));

        assertThat(ok(at("authority", "whoami", "-i", key("alice.key"))).out())
                .isEqualTo("client " + alice + ", owner 'alice', approved\n");
        assertThat(ok(at("authority", "whoami", "-i", key("carol.key"))).out())
                .as("a key not approved yet may ask who it is").isEqualTo("client " + carol + ", owner 'carol', pending\n");

        // Exactly one of: the admin token with CLIENT_ID, or -i (your own key). Anything else is usage, and revokes nothing.
        fails(2, REVOKE_USAGE, at("authority", "revoke", "--admin-token-file", p(token), "-i", key("alice.key"), bob));
        fails(2, REVOKE_USAGE, at("authority", "revoke", "--admin-token-file", p(token), "-i", key("alice.key")));
        fails(2, REVOKE_USAGE, at("authority", "revoke"));
        fails(2, REVOKE_USAGE, at("authority", "revoke", "--admin-token-file", p(token)));
        fails(2, REVOKE_USAGE, at("authority", "revoke", "-i", key("alice.key"), bob));
        assertThat(store.client(alice).orElseThrow().status()).isEqualTo(Client.Status.APPROVED);
        assertThat(store.client(bob).orElseThrow().status()).isEqualTo(Client.Status.APPROVED);
        fails(2, "(404)", at("authority", "revoke", "--admin-token-file", p(token), "0123456789abcdef"));

        // The admin revokes Bob's key: its next request is an authentication failure, and it cannot enroll again.
        assertThat(ok(at("authority", "revoke", "--admin-token-file", p(token), bob)).out())
                .isEqualTo("client " + bob + " (owner 'bob') revoked\n");
        Cli.Result bobRefused = fails(3, "(401)", at("authority", "whoami", "-i", key("bob.key")));
        assertThat(bobRefused.err()).contains("client " + bob + " was revoked");
        assertThat(bobRefused.out()).isEmpty();
        fails(4, "cannot enroll again", at("authority", "enroll", "-i", key("bob.key"), "--name", "bob"));

        // Alice revokes her own key: from then on it is refused too.
        assertThat(ok(at("authority", "revoke", "-i", key("alice.key"))).out())
                .isEqualTo("client " + alice + " (owner 'alice') revoked\n");
        Cli.Result aliceRefused = fails(3, "(401)", at("authority", "list", "-i", key("alice.key")));
        assertThat(aliceRefused.err()).contains("client " + alice + " was revoked");
        ok("key", "new", "-o", p(dir.resolve("session.key")));
        fails(3, "(401)", at("escrow", "-i", key("alice.key"), "--key-file", p(dir.resolve("session.key")), "--description", "d"));
        fails(3, "(401)", at("authority", "revoke", "-i", key("alice.key")));

        Client a = store.client(alice).orElseThrow();
        Client b = store.client(bob).orElseThrow();
        Client c = store.client(carol).orElseThrow();
        assertThat(List.of(a.status(), b.status(), c.status()))
                .containsExactly(Client.Status.REVOKED, Client.Status.REVOKED, Client.Status.PENDING);

        Cli.Result text = ok(at("authority", "clients", "--admin-token-file", p(token)));
        assertThat(text.out().lines()).containsExactlyInAnyOrder(
                alice + "  revoked   alice  enrolled " + a.enrolledAt() + "  revoked " + a.revokedAt(),
                bob + "  revoked   bob  enrolled " + b.enrolledAt() + "  revoked " + b.revokedAt(),
                carol + "  pending   carol  enrolled " + c.enrolledAt());

        Cli.Result json = ok(at("authority", "clients", "--admin-token-file", p(token), "--json"));
        ObjectNode expected = JSON.createObjectNode();
        ArrayNode list = expected.putArray("clients");
        for (Client cl : store.clients()) {
            String name = cl.id().equals(alice) ? "alice" : cl.id().equals(bob) ? "bob" : "carol";
            ObjectNode o = list.addObject();
            o.put("client_id", cl.id());
            o.put("name", name);
            o.put("status", name.equals("carol") ? "pending" : "revoked");
            o.putArray("roles");
            o.put("enrolled_at", cl.enrolledAt().toString());
            if (!name.equals("carol")) {
                o.put("revoked_at", cl.revokedAt().toString());
            }
        }
        assertThat(list).hasSize(3);
        assertThat(json.out()).isEqualTo(expected.toPrettyString() + "\n");

        // The admin token is checked: a wrong one is an authentication failure.
        Path wrong = dir.resolve("wrong.token");
        Files.writeString(wrong, "kwadmin_" + "0".repeat(64) + "\n");
        fails(3, "(401)", at("authority", "clients", "--admin-token-file", p(wrong)));
    }

    // ---- 2. escrow --key-file, recover, a plain blob, the copied-stanza attack ----

    @Test
    void aSessionKeyIsEscrowedBoundToItsOwnerAndACopiedStanzaIsRefused() throws Exception {
        initAuthority();
        startServer(false);
        String aliceRecipient = recipientOf("alice.key");
        enrolled("alice.key", "alice");
        enrolled("bob.key", "bob");

        Path sessionKey = dir.resolve("session.key");
        ok("key", "new", "-o", p(sessionKey));
        Cli.Result escrowed = ok(at("escrow", "-i", key("alice.key"), "--key-file", p(sessionKey), "--description", "Q3 backups",
                "--serial", "7"));
        assertThat(escrowed.out()).matches("escrowed: [0-9a-f]{32} \\(owner 'alice', serial 7, [^)]+\\)\n");
        Path blob = dir.resolve("recovered.blob");
        ok(at("recover", "-i", key("alice.key"), "--serial", "7", "-o", p(blob)));
        assertThat(Files.readString(blob)).startsWith("-----BEGIN KEYWAY KEY BLOB-----");
        assertThat(ok("key", "unwrap", "-i", key("alice.key"), p(blob)).out()).isEqualTo(Files.readString(sessionKey));
        // Bob asks for serial 7: his own name has none, and he may not name Alice.
        fails(2, "no escrowed key matches for owner 'bob'", at("recover", "-i", key("bob.key"), "--serial", "7",
                "-o", p(dir.resolve("bob7.blob"))));
        fails(4, "may not act for owner 'alice'", at("recover", "-i", key("bob.key"), "--serial", "7", "--owner", "alice",
                "-o", p(dir.resolve("bob7.blob"))));
        assertThat(dir.resolve("bob7.blob")).doesNotExist();

        // A plain blob for the authority is bound to nobody: refused, and the message says how to escrow a key.
        Path plainBlob = dir.resolve("plain.blob");
        ok("key", "wrap", "-r", authorityRecipient, "-o", p(plainBlob), p(sessionKey));
        long before = escrowRows();
        Cli.Result plain = fails(4, "--key-file", at("escrow", "-i", key("alice.key"), "--blob", p(plainBlob),
                "--description", "plain", "--serial", "8"));
        assertThat(plain.err()).contains("not bound to an owner").contains("(403)");
        assertThat(escrowRows()).isEqualTo(before);

        // Alice's files: one escrowed online (--escrow), one made offline for the authority and bound to her.
        Path plans = dir.resolve("plans.txt");
        Files.writeString(plans, "alice's secret plans\n");
        Path online = dir.resolve("alices.kw");
        ok("encrypt", "-r", aliceRecipient, "--sign-with", key("alice.key"), "--escrow", url, "--cacert", cacert, "--serial", "5",
                "-o", p(online), p(plans));
        Path offline = dir.resolve("alices-offline.kw");
        ok("encrypt", "-r", aliceRecipient, "--escrow-recipient", authorityRecipient, "--escrow-owner", "alice",
                "-o", p(offline), p(plans));

        before = escrowRows();
        for (Path alices : List.of(online, offline)) {
            Header h = header(alices);
            assertThat(h.escrow().owner()).isEqualTo("alice");
            Path stanza = dir.resolve("stanza.bin");
            Files.write(stanza, h.escrow().blob().encode());

            Cli.Result asBob = fails(4, "is not bound to owner 'bob'", at("escrow", "-i", key("bob.key"), "--blob", p(stanza),
                    "--serial", "99", "--description", "mine now"));
            assertThat(asBob.err()).contains("nothing stored").contains("(403)");
            fails(4, "is not bound to owner 'bob' and message " + h.messageIdHex(), at("escrow", "-i", key("bob.key"),
                    "--blob", p(stanza), "--message-id", h.messageIdHex(), "--serial", "99", "--description", "mine now"));
            fails(4, "may not act for owner 'alice'", at("escrow", "-i", key("bob.key"), "--file", p(alices), "--serial", "99"));
            assertThat(escrowRows()).as("nothing stored").isEqualTo(before);
            assertThat(ok(at("authority", "list", "-i", key("bob.key"))).out()).isEmpty();

            Path bobOut = dir.resolve("bob.out");
            Cli.Result recover = Cli.run(at("recover", "-i", key("bob.key"), "--serial", "99", "--file", p(alices), "-o", p(bobOut)));
            assertThat(recover.exit()).as(recover.err()).isNotZero();
            assertThat(recover.oneLineError()).as(recover.err()).isTrue();
            assertThat(bobOut).doesNotExist();
            recover = Cli.run(at("recover", "-i", key("bob.key"), "--file", p(alices), "-o", p(bobOut)));
            assertThat(recover.exit()).as(recover.err()).isNotZero();
            assertThat(bobOut).doesNotExist();
            Files.delete(stanza);
        }
        // Alice herself gets her online file back by its message id (what --escrow filed it under).
        Path out = dir.resolve("plans.out");
        ok(at("recover", "-i", key("alice.key"), "--file", p(online), "-o", p(out)));
        assertThat(Files.readString(out)).isEqualTo("alice's secret plans\n");
    }

    /** What escrow --key-file can check by itself it checks before asking the authority (here: which is not even up). */
    @Test
    void escrowOfAKeyFileReportsLocalMistakesBeforeAskingTheAuthority() throws Exception {
        initAuthority();
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        url = "https://127.0.0.1:" + closed;
        keygen(dir, "alice.key");
        Path sessionKey = dir.resolve("session.key");
        ok("key", "new", "-o", p(sessionKey));
        fails(5, "", at("escrow", "-i", key("alice.key"), "--key-file", p(sessionKey), "--description", "d"));

        fails(2, "--description is needed", at("escrow", "-i", key("alice.key"), "--key-file", p(sessionKey)));
        fails(2, "missing.key", at("escrow", "-i", key("alice.key"), "--key-file", p(dir.resolve("missing.key")), "--description", "d"));
        Path notAKey = dir.resolve("not-a-key");
        Files.writeString(notAKey, "not hex\n");
        fails(2, "not-a-key", at("escrow", "-i", key("alice.key"), "--key-file", p(notAKey), "--description", "d"));
        fails(2, "go with --blob", at("escrow", "-i", key("alice.key"), "--key-file", p(sessionKey), "--description", "d",
                "--message-id", "00".repeat(16)));

        // encrypt --escrow too: a bad option, a missing input or an existing output is a local error, not exit 5.
        String alice = ok("pubkey", "-i", key("alice.key")).out().strip();
        Path plain = Files.writeString(dir.resolve("plain.txt"), "x\n");
        String[] escrow = {"--escrow", url, "--cacert", cacert, "--sign-with", key("alice.key")};
        fails(5, "", concat(new String[] {"encrypt", "-r", alice, "-o", p(dir.resolve("e.kw")), p(plain)}, escrow));
        fails(2, "--serial", concat(new String[] {"encrypt", "-r", alice, "--serial", "-1", "-o", p(dir.resolve("e.kw")), p(plain)}, escrow));
        fails(2, "missing.txt", concat(new String[] {"encrypt", "-r", alice, "-o", p(dir.resolve("e.kw")), p(dir.resolve("missing.txt"))},
                escrow));
        fails(2, "already exists", concat(new String[] {"encrypt", "-r", alice, "-o", p(plain), p(plain)}, escrow));
        assertThat(dir.resolve("e.kw")).doesNotExist();
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    // ---- 3. escrow --file, then recovery after re-enrolling ----

    @Test
    void aFilesEscrowStanzaFiledLaterIsRecoveredWithANewKey() throws Exception {
        initAuthority();
        startServer(false);
        String aliceRecipient = recipientOf("alice.key");
        enrolled("alice.key", "alice");
        Path policy = dir.resolve("escrow-policy");
        Files.writeString(policy, "authority " + authorityRecipient + "\nowner alice\n");

        Path plain = dir.resolve("report.txt");
        Files.writeString(plain, "quarterly report\n");
        Path byFlags = dir.resolve("report-flags.kw");
        ok("encrypt", "-r", aliceRecipient, "--escrow-recipient", authorityRecipient, "--escrow-owner", "alice", "--serial", "41",
                "-o", p(byFlags), p(plain));
        Path byPolicy = dir.resolve("report-policy.kw");
        ok("encrypt", "--policy", p(policy), "-r", aliceRecipient, "-o", p(byPolicy), p(plain));

        Cli.Result first = ok(at("escrow", "-i", key("alice.key"), "--file", p(byFlags)));
        assertThat(first.out()).matches("escrowed: [0-9a-f]{32} \\(owner 'alice', serial 41, [^)]+\\)\n");
        assertThat(ok(at("escrow", "-i", key("alice.key"), "--file", p(byFlags))).out())
                .as("sending the same key again returns the same receipt").isEqualTo(first.out());
        assertThat(ok(at("escrow", "-i", key("alice.key"), "--file", p(byPolicy), "--description", "policy file")).out())
                .matches("escrowed: [0-9a-f]{32} \\(owner 'alice', no serial, [^)]+\\)\n");
        assertThat(ok(at("authority", "list", "-i", key("alice.key"))).out().lines())
                .hasSize(2).anyMatch(l -> l.endsWith("  " + p(byFlags))).anyMatch(l -> l.endsWith("  policy file"));

        // A file without an escrow stanza has nothing to file.
        Path noEscrow = dir.resolve("no-escrow.kw");
        ok("encrypt", "-r", aliceRecipient, "-o", p(noEscrow), p(plain));
        fails(2, "has no escrow stanza", at("escrow", "-i", key("alice.key"), "--file", p(noEscrow)));

        // Alice loses her key and enrolls a new one under her name.
        Files.delete(dir.resolve("alice.key"));
        enrolled("alice2.key", "alice");
        for (Path f : List.of(byFlags, byPolicy)) {
            Path out = dir.resolve(f.getFileName() + ".out");
            Cli.Result r = ok(at("recover", "-i", key("alice2.key"), "--file", p(f), "-o", p(out)));
            assertThat(r.err()).startsWith("keyway: recovered escrow ");
            assertThat(Files.readString(out)).isEqualTo("quarterly report\n");
        }
        fails(2, "no escrowed key matches", at("recover", "-i", key("alice2.key"), "--file", p(noEscrow),
                "-o", p(dir.resolve("no-escrow.out"))));
        assertThat(dir.resolve("no-escrow.out")).doesNotExist();
    }

    // ---- 4. two-person rule: collecting never loses an approval ----

    @Test
    void anApprovedRecoveryIsCollectedAgainAndABadOutputFailsFirst() throws Exception {
        initAuthority();
        startServer(true);
        String aliceRecipient = recipientOf("alice.key");
        String alice = enrolled("alice.key", "alice");
        enrolled("alice-officer.key", "alice", "recovery-officer");
        enrolled("carol.key", "carol", "recovery-officer");

        Path plain = dir.resolve("ledger.txt");
        Files.writeString(plain, "the ledger\n");
        Path enc = dir.resolve("ledger.kw");
        ok("encrypt", "-r", aliceRecipient, "--sign-with", key("alice.key"), "--escrow", url, "--cacert", cacert, "--serial", "1",
                "-o", p(enc), p(plain));
        String fileKey = ok("decrypt", "-i", key("alice.key"), "--show-session-key", "-o", p(dir.resolve("check.out")), p(enc))
                .err().lines().findFirst().orElseThrow();

        Path first = dir.resolve("first.blob");
        Cli.Result pending = fails(4, "is pending", at("recover", "-i", key("alice.key"), "--serial", "1", "-o", p(first)));
        assertThat(first).doesNotExist();
        Matcher m = Pattern.compile("recovery request ([0-9a-f]+) is pending").matcher(pending.err());
        assertThat(m.find()).as(pending.err()).isTrue();
        String request = m.group(1);

        // Alice's second key is a recovery officer, but the same person: refused.
        Cli.Result self = fails(4, "two-person rule", at("authority", "approve-recovery", "-i", key("alice-officer.key"), request));
        assertThat(self.err()).contains("(403)").contains("'alice'");
        assertThat(store.recoveryRequest(request).orElseThrow().status()).isEqualTo("pending");
        fails(2, "a second recovery officer must approve it first", at("recover", "-i", key("alice.key"), "--request-id", request,
                "-o", p(first)));
        assertThat(first).doesNotExist();

        assertThat(ok(at("authority", "approve-recovery", "-i", key("carol.key"), request)).out())
                .isEqualTo("recovery request " + request + " approved\n");

        // An output that exists fails before the authority is asked: the approval is not used up.
        Path existing = dir.resolve("existing.blob");
        Files.writeString(existing, "keep me\n");
        fails(2, "already exists", at("recover", "-i", key("alice.key"), "--request-id", request, "-o", p(existing)));
        assertThat(Files.readString(existing)).isEqualTo("keep me\n");
        assertThat(store.recoveryRequest(request).orElseThrow().collected()).as("not collected").isZero();
        Path existingPlain = dir.resolve("existing.txt");
        Files.writeString(existingPlain, "keep me too\n");
        fails(2, "already exists", at("recover", "-i", key("alice.key"), "--request-id", request, "--file", p(enc),
                "-o", p(existingPlain)));
        assertThat(Files.readString(existingPlain)).isEqualTo("keep me too\n");
        assertThat(store.recoveryRequest(request).orElseThrow().collected()).as("not collected").isZero();

        // The retry with a fresh path collects it; the blob opens with Alice's key to the file key.
        ok(at("recover", "-i", key("alice.key"), "--request-id", request, "-o", p(first)));
        assertThat(ok("key", "unwrap", "-i", key("alice.key"), p(first)).out()).isEqualTo(fileKey + "\n");
        assertThat(store.recoveryRequest(request).orElseThrow().collected()).isEqualTo(1);

        // Collected again (a delivery that failed), this time decrypting the file.
        Path out = dir.resolve("ledger.out");
        ok(at("recover", "-i", key("alice.key"), "--request-id", request, "--file", p(enc), "-o", p(out)));
        assertThat(Files.readString(out)).isEqualTo("the ledger\n");
        assertThat(store.recoveryRequest(request).orElseThrow().collected()).isEqualTo(2);

        // Only the requester collects: another key, even of the same owner, is refused.
        fails(4, "belongs to another client", at("recover", "-i", key("alice-officer.key"), "--request-id", request,
                "-o", p(dir.resolve("other.blob"))));
        assertThat(dir.resolve("other.blob")).doesNotExist();
        assertThat(store.recoveryRequest(request).orElseThrow().requester()).isEqualTo(alice);

        // Until expiry only: an approval that lived 1 ms cannot be collected, and nothing is written.
        server.approvalLifetime(Duration.ofMillis(1));
        Cli.Result again = fails(4, "is pending", at("recover", "-i", key("alice.key"), "--serial", "1", "-o", p(dir.resolve("late.blob"))));
        Matcher m2 = Pattern.compile("recovery request ([0-9a-f]+) is pending").matcher(again.err());
        assertThat(m2.find()).isTrue();
        String late = m2.group(1);
        assertThat(late).isNotEqualTo(request);
        ok(at("authority", "approve-recovery", "-i", key("carol.key"), late));
        Thread.sleep(5);
        fails(2, "expired", at("recover", "-i", key("alice.key"), "--request-id", late, "-o", p(dir.resolve("late.blob"))));
        assertThat(dir.resolve("late.blob")).doesNotExist();
        assertThat(store.recoveryRequest(late).orElseThrow().collected()).isZero();
    }

    // ---- 5. audit verify: signed head, remembered head, rollback ----

    @Test
    void auditVerifyCatchesACutLogARechainedLogAndARollback() throws Exception {
        initAuthority();
        startServer(false);
        enrolled("alice.key", "alice");
        Path sessionKey = dir.resolve("session.key");
        ok("key", "new", "-o", p(sessionKey));
        ok(at("escrow", "-i", key("alice.key"), "--key-file", p(sessionKey), "--description", "one", "--serial", "1"));
        stopServer();

        Cli.Result verified = ok("authority", "audit", "verify", "--dir", p(auth));
        String head = headOf(verified);
        long count = Long.parseLong(head.substring(0, head.indexOf(':')));
        assertThat(count).isGreaterThanOrEqualTo(4);
        assertThat(head).isEqualTo(count + ":" + auditHash(count));
        assertThat(Files.readString(auth.resolve(AuthorityHome.SEEN_HEAD))).contains("\n" + head + "\n");
        Path pristine = dir.resolve("pristine");
        Files.createDirectories(pristine);
        copyDatabase(auth, pristine);

        // Cut the last two entries and rewrite the head to the new end: the head's signature gives it away.
        long cut = count - 2;
        sql("DELETE FROM audit WHERE seq > " + cut,
                "UPDATE audit_head SET seq = " + cut + ", hash = (SELECT hash FROM audit WHERE seq = " + cut + ") WHERE id = 1");
        Cli.Result cutLog = fails(3, "signature", "authority", "audit", "verify", "--dir", p(auth));
        assertThat(cutLog.err()).contains("entry " + cut).contains("does not verify");
        assertThat(cutLog.out()).isEmpty();
        copyDatabase(pristine, auth);
        assertThat(headOf(ok("authority", "audit", "verify", "--dir", p(auth)))).isEqualTo(head);

        // Edit entry 2 and recompute the whole chain and the head's hash: the signature still gives it away.
        rechainAfterEditing(2, "nobody");
        Cli.Result rechained = fails(3, "signature", "authority", "audit", "verify", "--dir", p(auth));
        assertThat(rechained.err()).contains("entry " + count).contains("does not verify");
        copyDatabase(pristine, auth);
        assertThat(headOf(ok("authority", "audit", "verify", "--dir", p(auth), "--expect-head", head))).isEqualTo(head);

        // More writes, a later head; then the old copy is put back.
        startServer(false);
        enrolled("bob.key", "bob");
        stopServer();
        String later = headOf(ok("authority", "audit", "verify", "--dir", p(auth)));
        assertThat(Long.parseLong(later.substring(0, later.indexOf(':')))).isGreaterThan(count);
        copyDatabase(pristine, auth);
        Cli.Result rollback = fails(3, "rolled back", "authority", "audit", "verify", "--dir", p(auth), "--expect-head", later);
        assertThat(rollback.err()).contains("--expect-head");
        Cli.Result remembered = fails(3, "rolled back", "authority", "audit", "verify", "--dir", p(auth));
        assertThat(remembered.err()).contains(AuthorityHome.SEEN_HEAD);
        // A failing verify does not overwrite the remembered head.
        assertThat(Files.readString(auth.resolve(AuthorityHome.SEEN_HEAD))).contains("\n" + later + "\n");
    }

    // ---- 6. escrow policy ----

    @Test
    void anEscrowPolicyAddsTheStanzaAndDecryptRequiresIt() throws Exception {
        String authorityRec = keygen(dir, "authority.key");
        String otherAuthority = keygen(dir, "other-authority.key");
        String aliceRecipient = keygen(dir, "alice.key");
        Path policy = dir.resolve("escrow-policy");
        Files.writeString(policy, "# the company's escrow policy\n\nauthority " + authorityRec + "\r\n  owner   alice  \n");
        Path plain = dir.resolve("memo.txt");
        Files.writeString(plain, "memo\n");

        Path enc = dir.resolve("memo.kw");
        ok("encrypt", "--policy", p(policy), "-r", aliceRecipient, "-o", p(enc), p(plain));
        JsonNode inspect = JSON.readTree(ok("inspect", "--json", p(enc)).out());
        assertThat(inspect.get("format").asText()).isEqualTo("keyway envelope v2");
        ObjectNode escrowStanza = JSON.createObjectNode().put("kind", "escrow").put("type", "x25519")
                .put("id", Recipient.parse(authorityRec).idHex()).put("owner", "alice");
        assertThat(inspect.get("stanzas")).contains(escrowStanza).hasSize(2);

        Path out = dir.resolve("memo.out");
        ok("decrypt", "--policy", p(policy), "-i", key("alice.key"), "-o", p(out), p(enc));
        assertThat(Files.readString(out)).isEqualTo("memo\n");
        ok("decrypt", "--require-escrow", authorityRec, "-i", key("alice.key"), "-o", p(dir.resolve("memo2.out")), p(enc));
        Path wrongAuthority = dir.resolve("memo3.out");
        Cli.Result other = fails(4, "is for authority " + Recipient.parse(authorityRec).idHex(), "decrypt", "--require-escrow",
                otherAuthority, "-i", key("alice.key"), "-o", p(wrongAuthority), p(enc));
        assertThat(other.out()).isEmpty();
        assertThat(wrongAuthority).doesNotExist();

        // A file without escrow: refused under the policy with no output, accepted with --no-policy.
        Path bare = dir.resolve("bare.kw");
        ok("encrypt", "-r", aliceRecipient, "-o", p(bare), p(plain));
        assertThat(JSON.readTree(ok("inspect", "--json", p(bare)).out()).get("format").asText()).isEqualTo("keyway envelope v1");
        Path bareOut = dir.resolve("bare.out");
        fails(4, "has no escrow stanza", "decrypt", "--policy", p(policy), "-i", key("alice.key"), "-o", p(bareOut), p(bare));
        assertThat(bareOut).doesNotExist();
        fails(4, "has no escrow stanza", "decrypt", "--require-escrow", authorityRec, "-i", key("alice.key"), "-o", p(bareOut), p(bare));
        assertThat(bareOut).doesNotExist();
        ok("decrypt", "--no-policy", "-i", key("alice.key"), "-o", p(bareOut), p(bare));
        assertThat(Files.readString(bareOut)).isEqualTo("memo\n");
        fails(2, "give --policy or --no-policy, not both", "decrypt", "--policy", p(policy), "--no-policy", "-i", key("alice.key"),
                "-o", p(dir.resolve("both.out")), p(enc));

        // Encrypting under the policy: no passphrase file, no other authority, and an owner is needed.
        Path pass = dir.resolve("pass.txt");
        Files.writeString(pass, "correct horse battery staple\n");
        Path pp = dir.resolve("pp.kw");
        fails(4, "passphrase", "encrypt", "--policy", p(policy), "--passphrase-file", p(pass), "-o", p(pp), p(plain));
        assertThat(pp).doesNotExist();
        Path otherEnc = dir.resolve("other.kw");
        fails(4, "requires escrow with authority " + Recipient.parse(authorityRec).idHex(), "encrypt", "--policy", p(policy),
                "-r", aliceRecipient, "--escrow-recipient", otherAuthority, "--escrow-owner", "alice", "-o", p(otherEnc), p(plain));
        assertThat(otherEnc).doesNotExist();
        Path noOwner = dir.resolve("no-owner-policy");
        Files.writeString(noOwner, "authority " + authorityRec + "\n");
        fails(2, "bound to an owner", "encrypt", "--policy", p(noOwner), "-r", aliceRecipient, "-o", p(otherEnc), p(plain));
        assertThat(otherEnc).doesNotExist();
        ok("encrypt", "--policy", p(noOwner), "--escrow-owner", "alice", "-r", aliceRecipient, "-o", p(otherEnc), p(plain));
        ok("decrypt", "--policy", p(noOwner), "-i", key("alice.key"), "-o", p(dir.resolve("other.out")), p(otherEnc));

        // Malformed policies: usage, one line, naming the file (and the line).
        String rec = "authority " + authorityRec + "\n";
        badPolicy("unknown.policy", rec + "colour blue\n", "line 2: unknown keyword 'colour'");
        badPolicy("two.policy", "# two\n" + rec + rec, "line 3: 'authority' is given twice");
        badPolicy("none.policy", "# nothing here\nowner alice\n", "names no authority");
        badPolicy("badrec.policy", "authority kwx255191notarecipient\n", "line 1: the authority is not a recipient string");
        badPolicy("twoowners.policy", rec + "owner alice\nowner bob\n", "line 3: 'owner' is given twice");
        badPolicy("ctrl-owner.policy", rec + "owner al\u0007ice\n", "line 2: the owner name holds a control");
        Cli.Result esc = badPolicy("ctrl-key.policy", rec + "\u001b[31mred x\n", "line 2: unknown keyword");
        assertThat(esc.err()).doesNotContain("\u001b");
        Files.write(dir.resolve("latin1.policy"), new byte[] {'o', 'w', 'n', 'e', 'r', ' ', (byte) 0xe9, '\n'});
        fails(2, p(dir.resolve("latin1.policy")) + " is not UTF-8", "decrypt", "--policy", p(dir.resolve("latin1.policy")),
                "-i", key("alice.key"), "-o", p(dir.resolve("x.out")), p(enc));
        fails(2, "no such file", "decrypt", "--policy", p(dir.resolve("missing.policy")), "-i", key("alice.key"),
                "-o", p(dir.resolve("x.out")), p(enc));
        assertThat(dir.resolve("x.out")).doesNotExist();
    }

    // ---- 7. an escrow stanza that does not recompute ----

    /**
     * The file is rebuilt as a recipient could (it knows the file key): its escrow stanza replaced by a blob for
     * the same authority, owner and message but with fresh randomness (or by another file's stanza), and the
     * header MAC recomputed as docs/FORMAT.md gives it. The envelope module keeps its header constructors
     * package-private, so this follows the format page with core's public HKDF rather than an envelope API.
     */
    @Test
    void aFileWhoseEscrowStanzaDoesNotRecomputeIsRefused() throws Exception {
        String authorityRec = keygen(dir, "authority.key");
        String aliceRecipient = keygen(dir, "alice.key");
        Path plain = dir.resolve("memo.txt");
        Files.writeString(plain, "memo\n");
        Path enc = dir.resolve("memo.kw");
        ok("encrypt", "-r", aliceRecipient, "--escrow-recipient", authorityRec, "--escrow-owner", "alice", "-o", p(enc), p(plain));
        Path other = dir.resolve("other.kw");
        ok("encrypt", "-r", aliceRecipient, "--escrow-recipient", authorityRec, "--escrow-owner", "alice", "-o", p(other), p(plain));
        String fileKeyHex = ok("decrypt", "-i", key("alice.key"), "--show-session-key", "-o", p(dir.resolve("key.out")), p(enc))
                .err().lines().findFirst().orElseThrow();
        ok("decrypt", "--require-escrow", authorityRec, "-i", key("alice.key"), "-o", p(dir.resolve("intact.out")), p(enc));

        Header h = header(enc);
        byte[] fresh;
        try (SessionKey fileKey = SessionKey.of(h.aead().algorithm(), Hex.decode(fileKeyHex, "file key"))) {
            fresh = KeyWrap.wrapForEscrowFresh(fileKey, Recipient.parse(authorityRec),
                    EscrowBinding.message("alice", h.messageId())).encode();
        }
        byte[] copied = header(other).escrow().blob().encode();
        for (byte[] replacement : List.of(fresh, copied)) {
            Path forged = dir.resolve("forged.kw");
            Files.write(forged, replaceEscrowBlob(Files.readAllBytes(enc), h.escrow().blob().encode(), replacement,
                    Hex.decode(fileKeyHex, "file key")));
            assertThat(header(forged).escrow().blob().encode()).isEqualTo(replacement);
            // The forgery is a well-formed file: the MAC verifies and it decrypts when escrow is not required.
            Path readable = dir.resolve("forged-plain.out");
            ok("decrypt", "-i", key("alice.key"), "-o", p(readable), p(forged));
            assertThat(Files.readString(readable)).isEqualTo("memo\n");
            Files.delete(readable);

            Path out = dir.resolve("forged.out");
            Cli.Result refused = fails(4, "does not recompute", "decrypt", "--require-escrow", authorityRec, "-i", key("alice.key"),
                    "-o", p(out), p(forged));
            assertThat(refused.out()).isEmpty();
            assertThat(out).doesNotExist();
            Files.delete(forged);
        }
    }

    // ---- helpers ----

    private void initAuthority() throws IOException {
        auth = dir.resolve("auth");
        Cli.Result init = ok("authority", "init", "--dir", p(auth), "--type", "x25519");
        authorityRecipient = field(init.out(), "recipient:");
        token = dir.resolve("admin.token");
        Files.writeString(token, field(init.out(), "admin token:") + "\n");
        home = new AuthorityHome(auth);
        authority = home.identity(f -> null);
        cacert = p(auth.resolve(AuthorityHome.TLS_CERT));
    }

    private void startServer(boolean twoPerson) {
        store = AuthorityStore.open(home.databaseUrl(), authority);
        server = new AuthorityServer(home, store, authority, false, Clock.systemUTC()).twoPersonRule(twoPerson);
        url = "https://127.0.0.1:" + server.start("127.0.0.1", 0);
    }

    private void stopServer() {
        if (server != null) {
            server.close();
            server = null;
        }
        if (store != null) {
            store.close();
            store = null;
        }
    }

    private static String field(String out, String label) {
        return out.lines().filter(l -> l.startsWith(label)).findFirst().orElseThrow().substring(label.length()).strip();
    }

    /** {@code args}, then the options that reach the authority. */
    private String[] at(String... args) {
        String[] all = Arrays.copyOf(args, args.length + 4);
        all[args.length] = "--authority";
        all[args.length + 1] = url;
        all[args.length + 2] = "--cacert";
        all[args.length + 3] = cacert;
        return all;
    }

    private String key(String name) {
        return p(dir.resolve(name));
    }

    /** The recipient of identity {@code name}, made now if it does not exist. */
    private String recipientOf(String name) {
        if (Files.exists(dir.resolve(name))) {
            return ok("pubkey", "-i", key(name)).out().strip();
        }
        return keygen(dir, name);
    }

    /** Makes (if needed) identity {@code name}, enrolls it as {@code owner}, has the admin approve it; returns its client id. */
    private String enrolled(String name, String owner, String... roles) {
        String id = Recipient.parse(recipientOf(name)).idHex();
        assertThat(ok(at("authority", "enroll", "-i", key(name), "--name", owner)).out())
                .isEqualTo("client " + id + " enrolled as '" + owner + "': pending\n");
        List<String> approve = new ArrayList<>(List.of("authority", "approve", "--admin-token-file", p(token), id));
        for (String role : roles) {
            approve.add("--role");
            approve.add(role);
        }
        ok(at(approve.toArray(String[]::new)));
        return id;
    }

    private static Header header(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return EnvelopeReader.open(in, Header.DEFAULT_MAX_RECIPIENTS).header();
        }
    }

    private long escrowRows() throws Exception {
        try (Connection c = DriverManager.getConnection(home.databaseUrl());
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM escrow")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private void sql(String... statements) throws Exception {
        try (Connection c = DriverManager.getConnection(home.databaseUrl()); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.executeUpdate(s);
            }
        }
    }

    private String auditHash(long seq) throws Exception {
        try (Connection c = DriverManager.getConnection(home.databaseUrl());
             PreparedStatement ps = c.prepareStatement("SELECT hash FROM audit WHERE seq = ?")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getString(1);
            }
        }
    }

    /** Changes entry {@code seq}'s actor, recomputes every hash from there on, and points the head at the new last hash. */
    private void rechainAfterEditing(long seq, String actor) throws Exception {
        try (Connection c = DriverManager.getConnection(home.databaseUrl())) {
            c.setAutoCommit(false);
            String prev;
            try (PreparedStatement ps = c.prepareStatement("SELECT hash FROM audit WHERE seq = ?")) {
                ps.setLong(1, seq - 1);
                try (ResultSet rs = ps.executeQuery()) {
                    prev = rs.next() ? rs.getString(1) : AuditEntry.GENESIS;
                }
            }
            List<Object[]> rows = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT seq, at, actor, action, subject, outcome, detail FROM audit WHERE seq >= ? ORDER BY seq")) {
                ps.setLong(1, seq);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(new Object[] {rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4), rs.getString(5),
                                rs.getString(6), rs.getString(7)});
                    }
                }
            }
            try (PreparedStatement up = c.prepareStatement("UPDATE audit SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?")) {
                for (Object[] r : rows) {
                    long s = (Long) r[0];
                    String who = s == seq ? actor : (String) r[2];
                    String hash = AuditEntry.computeHash(s, Instant.ofEpochMilli((Long) r[1]), who, (String) r[3], (String) r[4],
                            (String) r[5], (String) r[6], prev);
                    up.setString(1, who);
                    up.setString(2, prev);
                    up.setString(3, hash);
                    up.setLong(4, s);
                    up.executeUpdate();
                    prev = hash;
                }
            }
            try (PreparedStatement up = c.prepareStatement("UPDATE audit_head SET hash = ? WHERE id = 1")) {
                up.setString(1, prev);
                up.executeUpdate();
            }
            c.commit();
        }
    }

    private static String headOf(Cli.Result verified) {
        assertThat(verified.out()).startsWith("audit log intact: ");
        return field(verified.out(), "head:");
    }

    /** Copies the SQLite database (and its WAL files, when present) from one directory to another. */
    private static void copyDatabase(Path from, Path to) throws IOException {
        for (String suffix : List.of("", "-wal", "-shm")) {
            Path source = from.resolve("authority.db" + suffix);
            Path target = to.resolve("authority.db" + suffix);
            if (Files.exists(source)) {
                Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.deleteIfExists(target);
            }
        }
    }

    private Cli.Result badPolicy(String name, String text, String fragment) throws IOException {
        Path policy = dir.resolve(name);
        Files.writeString(policy, text);
        Cli.Result r = fails(2, fragment, "decrypt", "--policy", p(policy), "-i", key("alice.key"), "-o", p(dir.resolve("x.out")),
                p(dir.resolve("memo.kw")));
        assertThat(r.err()).contains(p(policy));
        assertThat(dir.resolve("x.out")).doesNotExist();
        Cli.Result e = fails(2, fragment, "encrypt", "--policy", p(policy), "-r", recipientOf("alice.key"), "-o", p(dir.resolve("x.kw")),
                p(dir.resolve("memo.txt")));
        assertThat(e.err()).isEqualTo(r.err());
        assertThat(dir.resolve("x.kw")).doesNotExist();
        return r;
    }

    /**
     * {@code file} with its escrow blob {@code old} replaced by {@code replacement} (the same length) and the header
     * MAC recomputed with the file key: mac_key = HKDF(salt "", file_key, "keyway header mac v1"), header_mac =
     * HMAC-SHA256(mac_key, header up to the MAC) (docs/FORMAT.md, "Keys derived from the file key").
     */
    private static byte[] replaceEscrowBlob(byte[] file, byte[] old, byte[] replacement, byte[] fileKey) throws Exception {
        assertThat(replacement).hasSameSizeAs(old).isNotEqualTo(old);
        int at = indexOf(file, old);
        assertThat(at).isPositive();
        assertThat(indexOf(Arrays.copyOfRange(file, at + 1, file.length), old)).as("the blob occurs once").isNegative();
        byte[] out = file.clone();
        System.arraycopy(replacement, 0, out, at, replacement.length);
        int fieldsLength = ((out[5] & 0xff) << 24) | ((out[6] & 0xff) << 16) | ((out[7] & 0xff) << 8) | (out[8] & 0xff);
        int macAt = 9 + fieldsLength;
        assertThat(at + replacement.length).isLessThanOrEqualTo(macAt);
        byte[] macKey = Hkdf.derive(Hkdf.Hash.SHA256, new byte[0], fileKey, "keyway header mac v1".getBytes(StandardCharsets.US_ASCII), 32);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(macKey, "HmacSHA256"));
        mac.update(out, 0, macAt);
        System.arraycopy(mac.doFinal(), 0, out, macAt, 32);
        return out;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
