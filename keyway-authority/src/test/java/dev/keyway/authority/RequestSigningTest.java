package dev.keyway.authority;

import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class RequestSigningTest {
    static final Instant NOW = Instant.parse("2026-11-21T12:00:00Z");
    final Identity alice = Identity.generate(KeyType.X25519);
    final Identity mallory = Identity.generate(KeyType.X25519);
    final byte[] body = "{\"description\":\"q3\"}".getBytes(StandardCharsets.UTF_8);

    RequestSigning.Signed signed(Map<String, String> h) {
        return new RequestSigning.Signed(h.get(RequestSigning.CLIENT), h.get(RequestSigning.TIMESTAMP), h.get(RequestSigning.NONCE),
                h.get(RequestSigning.SIGNATURE));
    }

    @Test
    void aSignedRequestVerifies() {
        Map<String, String> h = RequestSigning.sign(alice, "POST", "/v1/escrow", body, NOW);
        assertThat(h.get(RequestSigning.CLIENT)).isEqualTo(alice.recipient().idHex());
        assertThat(RequestSigning.check(signed(h), alice.recipient(), "POST", "/v1/escrow", body, NOW.plusSeconds(30))).isNull();
    }

    @Test
    void anythingChangedIsRefused() {
        Map<String, String> h = RequestSigning.sign(alice, "POST", "/v1/escrow", body, NOW);
        RequestSigning.Signed s = signed(h);
        assertThat(RequestSigning.check(s, alice.recipient(), "PUT", "/v1/escrow", body, NOW)).contains("does not verify");
        assertThat(RequestSigning.check(s, alice.recipient(), "POST", "/v1/escrows", body, NOW)).contains("does not verify");
        assertThat(RequestSigning.check(s, alice.recipient(), "POST", "/v1/escrow", "{}".getBytes(), NOW)).contains("does not verify");
        assertThat(RequestSigning.check(s, mallory.recipient(), "POST", "/v1/escrow", body, NOW)).contains("does not verify");
        RequestSigning.Signed otherNonce = new RequestSigning.Signed(s.clientId(), s.timestamp(), "0".repeat(32), s.signature());
        assertThat(RequestSigning.check(otherNonce, alice.recipient(), "POST", "/v1/escrow", body, NOW)).contains("does not verify");
        RequestSigning.Signed otherTime = new RequestSigning.Signed(s.clientId(), Long.toString(NOW.toEpochMilli() + 1), s.nonce(), s.signature());
        assertThat(RequestSigning.check(otherTime, alice.recipient(), "POST", "/v1/escrow", body, NOW)).contains("does not verify");
    }

    @Test
    void staleFutureUnsignedAndMalformedAreRefused() {
        RequestSigning.Signed s = signed(RequestSigning.sign(alice, "GET", "/v1/escrows?owner=alice", new byte[0], NOW));
        assertThat(RequestSigning.check(s, alice.recipient(), "GET", "/v1/escrows?owner=alice", new byte[0], NOW.plusSeconds(301)))
                .contains("stale");
        assertThat(RequestSigning.check(s, alice.recipient(), "GET", "/v1/escrows?owner=alice", new byte[0], NOW.minusSeconds(301)))
                .contains("stale");
        assertThat(RequestSigning.check(new RequestSigning.Signed(s.clientId(), null, s.nonce(), s.signature()), alice.recipient(),
                "GET", "/v1/escrows?owner=alice", new byte[0], NOW)).contains("not signed");
        assertThat(RequestSigning.check(new RequestSigning.Signed(s.clientId(), "soon", s.nonce(), s.signature()), alice.recipient(),
                "GET", "/v1/escrows?owner=alice", new byte[0], NOW)).contains("not a number");
        assertThat(RequestSigning.check(new RequestSigning.Signed(s.clientId(), s.timestamp(), "XYZ", s.signature()), alice.recipient(),
                "GET", "/v1/escrows?owner=alice", new byte[0], NOW)).contains("nonce");
        assertThat(RequestSigning.check(new RequestSigning.Signed(s.clientId(), s.timestamp(), s.nonce(), "!!"), alice.recipient(),
                "GET", "/v1/escrows?owner=alice", new byte[0], NOW)).contains("base64");
    }

    /**
     * A timestamp exactly 2^63 ms before the server's clock: now - ts overflows to Long.MIN_VALUE, whose
     * Math.abs is still negative, so a (validly signed) request 292 million years stale passed the window check.
     */
    @Test
    void aTimestampWhoseDistanceOverflowsIsStale() {
        Instant ancient = Instant.ofEpochMilli(NOW.toEpochMilli() + Long.MIN_VALUE);
        RequestSigning.Signed s = signed(RequestSigning.sign(alice, "GET", "/v1/client", new byte[0], ancient));
        assertThat(RequestSigning.check(s, alice.recipient(), "GET", "/v1/client", new byte[0], NOW)).contains("stale");
        RequestSigning.Signed far = signed(RequestSigning.sign(alice, "GET", "/v1/client", new byte[0], Instant.ofEpochMilli(Long.MAX_VALUE)));
        assertThat(RequestSigning.check(far, alice.recipient(), "GET", "/v1/client", new byte[0], NOW)).contains("stale");
    }
}
