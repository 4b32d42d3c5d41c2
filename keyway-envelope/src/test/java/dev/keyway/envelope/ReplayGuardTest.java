package dev.keyway.envelope;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.identity.Recipient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static dev.keyway.envelope.Envelopes.expectCode;
import static org.assertj.core.api.Assertions.assertThat;

class ReplayGuardTest {
    static final Instant NOW = Instant.parse("2030-06-01T12:00:00Z");
    static final Duration MAX_AGE = ReplayGuard.DEFAULT_MAX_AGE;

    static Identity alice;
    static Identity signer;
    static Identity otherSigner;

    @TempDir
    Path dir;

    @BeforeAll
    static void identities() {
        alice = Identity.generate(KeyType.X25519);
        signer = Identity.generate(KeyType.X25519);
        otherSigner = Identity.generate(KeyType.X25519);
    }

    /** A header as the writer makes it, created at {@code created}. */
    private static Header header(Instant created, Identity by, Long serial, Instant expires) throws Exception {
        EnvelopeWriter w = new EnvelopeWriter().recipients(List.of(alice.recipient())).clock(Clock.fixed(created, ZoneOffset.UTC));
        if (by != null) {
            w.signer(by);
        }
        if (serial != null) {
            w.serial(serial);
        }
        if (expires != null) {
            w.expires(expires);
        }
        return Envelopes.header(Envelopes.encrypt(w, new byte[1]));
    }

    private static Header header(Identity by, long serial) throws Exception {
        return header(NOW, by, serial, null);
    }

    private static Header plain() throws Exception {
        return header(NOW, null, null, null);
    }

    private ReplayGuard open() {
        return ReplayGuard.open(dir.resolve("replay.db"));
    }

    /** The guard's checks as decrypt runs them: check before, accept after. */
    private static void decryptOnce(ReplayGuard g, Header h, Recipient verifiedSigner) {
        g.check(h, NOW, MAX_AGE);
        ReplayGuard.checkExpiry(h, NOW);
        g.accept(h, verifiedSigner, NOW);
    }

    @Test
    void aMessageIsAcceptedOnce() throws Exception {
        Header h = plain();
        try (ReplayGuard g = open()) {
            decryptOnce(g, h, null);
            KeywayException check = expectCode(ErrorCode.POLICY, "check after accept", () -> g.check(h, NOW, MAX_AGE));
            assertThat(check.getMessage()).contains("replayed message " + h.messageIdHex()).contains("first accepted " + NOW);
            KeywayException accept = expectCode(ErrorCode.POLICY, "accept twice", () -> g.accept(h, null, NOW));
            assertThat(accept.getMessage()).contains("replayed message " + h.messageIdHex());
            // Another message is fine.
            decryptOnce(g, plain(), null);
        }
        // It is remembered across opens.
        try (ReplayGuard g = open()) {
            KeywayException e = expectCode(ErrorCode.POLICY, "after reopen", () -> g.check(h, NOW, MAX_AGE));
            assertThat(e.getMessage()).contains("replayed message");
        }
    }

    @Test
    void checkAloneRecordsNothing() throws Exception {
        Header h = plain();
        try (ReplayGuard g = open()) {
            g.check(h, NOW, MAX_AGE);
            g.check(h, NOW, MAX_AGE);
            g.accept(h, null, NOW);
        }
    }

    @Test
    void tooOldMessagesAreRefused() throws Exception {
        Header old = header(NOW.minus(MAX_AGE).minusMillis(1), null, null, null);
        Header edge = header(NOW.minus(MAX_AGE), null, null, null);
        try (ReplayGuard g = open()) {
            KeywayException e = expectCode(ErrorCode.POLICY, "too old", () -> g.check(old, NOW, MAX_AGE));
            assertThat(e.getMessage()).contains("too old").contains("5m");
            g.check(edge, NOW, MAX_AGE);
            // A larger max age lets it through.
            g.check(old, NOW, Duration.ofHours(1));
            KeywayException hour = expectCode(ErrorCode.POLICY, "1h", () -> g.check(old, NOW.plus(Duration.ofHours(2)), Duration.ofHours(1)));
            assertThat(hour.getMessage()).contains("1h");
        }
        KeywayException s = expectCode(ErrorCode.POLICY, "static", () -> ReplayGuard.checkTimes(old, NOW, MAX_AGE));
        assertThat(s.getMessage()).contains(old.messageIdHex());
    }

    @Test
    void messagesFromTheFutureAreRefused() throws Exception {
        Header future = header(NOW.plus(Duration.ofMinutes(10)), null, null, null);
        Header skewed = header(NOW.plus(Duration.ofMinutes(4)), null, null, null);
        try (ReplayGuard g = open()) {
            KeywayException e = expectCode(ErrorCode.POLICY, "10 min ahead", () -> g.check(future, NOW, MAX_AGE));
            assertThat(e.getMessage()).contains("in the future");
            g.check(skewed, NOW, MAX_AGE);
            // Even with a huge max age.
            expectCode(ErrorCode.POLICY, "10 min ahead, max age 1d", () -> g.check(future, NOW, Duration.ofDays(1)));
        }
        Header justOver = header(NOW.plus(ReplayGuard.FUTURE_SKEW).plusMillis(1), null, null, null);
        expectCode(ErrorCode.POLICY, "skew + 1 ms", () -> ReplayGuard.checkTimes(justOver, NOW, MAX_AGE));
    }

    @Test
    void expiredMessagesAreRefused() throws Exception {
        Instant created = NOW.minus(Duration.ofMinutes(2));
        Header h = header(created, null, null, NOW.minus(Duration.ofSeconds(1)));
        KeywayException e = expectCode(ErrorCode.POLICY, "expired", () -> ReplayGuard.checkExpiry(h, NOW));
        assertThat(e.getMessage()).contains("expired at " + h.expires()).contains(h.messageIdHex());
        // At the expiry instant it is expired; one millisecond before, it is not.
        expectCode(ErrorCode.POLICY, "at expiry", () -> ReplayGuard.checkExpiry(h, h.expires()));
        ReplayGuard.checkExpiry(h, h.expires().minusMillis(1));
        // No expiry: never expires.
        ReplayGuard.checkExpiry(plain(), Instant.MAX);
    }

    @Test
    void serialRollbackFromTheSameSignerIsRefused() throws Exception {
        try (ReplayGuard g = open()) {
            decryptOnce(g, header(signer, 5), signer.recipient());
            for (long s : new long[] {5, 4, 0}) {
                Header h = header(signer, s);
                KeywayException c = expectCode(ErrorCode.POLICY, "check serial " + s, () -> g.check(h, NOW, MAX_AGE));
                assertThat(c.getMessage()).contains("serial " + s).contains(signer.recipient().idHex())
                        .contains("last accepted serial 5");
                KeywayException a = expectCode(ErrorCode.POLICY, "accept serial " + s, () -> g.accept(h, signer.recipient(), NOW));
                assertThat(a.getMessage()).contains("serial " + s);
                // A refused message is not recorded as seen.
                assertThat(expectCode(ErrorCode.POLICY, "again", () -> g.check(h, NOW, MAX_AGE)).getMessage())
                        .doesNotContain("replayed");
            }
            decryptOnce(g, header(signer, 6), signer.recipient());
            expectCode(ErrorCode.POLICY, "6 again (other message)", () -> g.accept(header(signer, 6), signer.recipient(), NOW));
            decryptOnce(g, header(signer, 100), signer.recipient());
        }
        // Remembered across opens.
        try (ReplayGuard g = open()) {
            expectCode(ErrorCode.POLICY, "after reopen", () -> g.check(header(signer, 99), NOW, MAX_AGE));
        }
    }

    @Test
    void serialsAreUnsigned64Bit() throws Exception {
        try (ReplayGuard g = open()) {
            decryptOnce(g, header(signer, Long.MAX_VALUE), signer.recipient());
            decryptOnce(g, header(signer, Long.MIN_VALUE), signer.recipient()); // 2^63 > 2^63 - 1
            KeywayException e = expectCode(ErrorCode.POLICY, "5 after 2^63", () -> g.check(header(signer, 5), NOW, MAX_AGE));
            assertThat(e.getMessage()).contains("last accepted serial 9223372036854775808");
            decryptOnce(g, header(signer, -1L), signer.recipient()); // 2^64 - 1
        }
    }

    @Test
    void serialsOfDifferentSignersAreIndependent() throws Exception {
        try (ReplayGuard g = open()) {
            decryptOnce(g, header(signer, 5), signer.recipient());
            decryptOnce(g, header(otherSigner, 1), otherSigner.recipient());
            decryptOnce(g, header(otherSigner, 2), otherSigner.recipient());
            expectCode(ErrorCode.POLICY, "signer 4", () -> g.check(header(signer, 4), NOW, MAX_AGE));
            expectCode(ErrorCode.POLICY, "other 2", () -> g.check(header(otherSigner, 2), NOW, MAX_AGE));
            decryptOnce(g, header(signer, 6), signer.recipient());
        }
    }

    @Test
    void unsignedMessagesAreNotSerialChecked() throws Exception {
        try (ReplayGuard g = open()) {
            decryptOnce(g, header(null, 9), null);
            decryptOnce(g, header(null, 3), null);
            decryptOnce(g, header(null, 3), null);
            // And they do not move any signer's serial.
            decryptOnce(g, header(signer, 1), signer.recipient());
            // A signed header whose signature did not verify (no verified signer) does not count either.
            Header claimed = header(signer, 50);
            g.accept(claimed, null, NOW);
            decryptOnce(g, header(signer, 2), signer.recipient());
        }
    }

    @Test
    void checkUsesTheClaimedSenderAcceptTheVerifiedOne() throws Exception {
        try (ReplayGuard g = open()) {
            decryptOnce(g, header(signer, 10), signer.recipient());
            Header h = header(signer, 3);
            // check fails fast on the claimed sender's serial.
            expectCode(ErrorCode.POLICY, "check", () -> g.check(h, NOW, MAX_AGE));
            // accept goes by the verified signer: another signer's history is empty.
            g.accept(h, otherSigner.recipient(), NOW);
        }
    }

    @Test
    void concurrentAcceptsOfOneMessageLetExactlyOneThrough() throws Exception {
        Header h = header(signer, 1);
        int threads = 8;
        ReplayGuard.open(dir.resolve("replay.db")).close(); // create the schema first
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    try (ReplayGuard g = open()) {
                        g.accept(h, signer.recipient(), NOW);
                        return "accepted";
                    } catch (KeywayException e) {
                        return e.code() + ": " + e.getMessage();
                    }
                }));
            }
            start.countDown();
            List<String> outcomes = new ArrayList<>();
            for (Future<String> f : results) {
                outcomes.add(f.get(60, TimeUnit.SECONDS));
            }
            assertThat(outcomes).filteredOn("accepted"::equals).hasSize(1);
            assertThat(outcomes).filteredOn(o -> !o.equals("accepted")).hasSize(threads - 1)
                    .allMatch(o -> o.startsWith("POLICY: replayed message " + h.messageIdHex()), "POLICY replayed message");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anOpenGuardDoesNotLockOutOtherReaders() throws Exception {
        // Two decrypts in progress at once, each with its own guard (two processes): the first has run its
        // check and is decrypting a large file; the second must be able to open and check meanwhile, not
        // wait for the first to close its guard (and fail with "database is locked" after 30 s).
        Header first = plain();
        Header second = plain();
        ReplayGuard.open(dir.resolve("replay.db")).close();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (ReplayGuard g1 = open()) {
            g1.check(first, NOW, MAX_AGE);
            Future<?> other = pool.submit(() -> {
                try (ReplayGuard g2 = open()) {
                    g2.check(second, NOW, MAX_AGE);
                }
                return null;
            });
            try {
                other.get(5, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("a second ReplayGuard could not open and check within 5 s while another one "
                        + "was open (the open guard holds the database's write lock)");
            } finally {
                g1.accept(first, null, NOW);
            }
        } finally {
            pool.shutdown();
            assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aMissingDirectoryIsAnIoError() {
        KeywayException e = expectCode(ErrorCode.IO, "no dir", () -> ReplayGuard.open(dir.resolve("nope/replay.db")));
        assertThat(e.getMessage()).contains("no such directory");
    }

    @Test
    void durationsPrintShort() {
        assertThat(ReplayGuard.human(Duration.ofMinutes(5))).isEqualTo("5m");
        assertThat(ReplayGuard.human(Duration.ofHours(2))).isEqualTo("2h");
        assertThat(ReplayGuard.human(Duration.ofDays(3))).isEqualTo("3d");
        assertThat(ReplayGuard.human(Duration.ofSeconds(90))).isEqualTo("90s");
    }
}
