package dev.keyway.authority;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.Recipient;
import dev.keyway.core.keys.SessionKey;
import io.javalin.http.Context;

import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The routes that give keys back: a recovery request (the key unwrapped with the authority key, checked
 * against the owner and message its record names, and wrapped again for the requester) and, under the
 * two-person rule, its approval by a recovery officer who is another person and its collection.
 */
final class RecoveryRoutes {
    private final AuthorityStore store;
    private final Identity identity;
    private final RequestAuth auth;
    private volatile boolean twoPerson;
    private volatile Duration approvalLifetime = AuthorityServer.DEFAULT_APPROVAL_LIFETIME;

    RecoveryRoutes(AuthorityStore store, Identity identity, RequestAuth auth) {
        this.store = store;
        this.identity = identity;
        this.auth = auth;
    }

    void twoPersonRule(boolean on) {
        this.twoPerson = on;
    }

    void approvalLifetime(Duration lifetime) {
        this.approvalLifetime = lifetime;
    }

    void recover(Context ctx) {
        byte[] body = RequestBodies.body(ctx);
        Client c = auth.authenticateClient(ctx, body, "recover");
        JsonNode j = RequestBodies.parse(body, Set.of("owner", "serial", "message_id", "escrow_id", "request_id"));
        String requestId = RequestBodies.text(j, "request_id", false);
        if (requestId != null) {
            checkRequestId(requestId);
            if (j.size() != 1) {
                throw new Refusal(400, "request_id goes alone");
            }
            collect(ctx, c, requestId);
            return;
        }
        String owner = auth.ownerField(ctx, j, c, "recover");
        Long serial = RequestBodies.optionalLong(j, "serial");
        String messageId = RequestBodies.text(j, "message_id", false);
        String escrowId = RequestBodies.text(j, "escrow_id", false);
        if ((serial == null ? 0 : 1) + (messageId == null ? 0 : 1) + (escrowId == null ? 0 : 1) != 1) {
            throw new Refusal(400, "give exactly one of serial, message_id, escrow_id");
        }
        List<EscrowRecord> found = escrowId != null
                ? store.escrow(escrowId).stream().toList()
                : store.find(new AuthorityStore.Query(owner, null, serial, messageId, null, null, 2));
        if (found.isEmpty() || !found.get(0).owner().equals(owner)) {
            throw auth.refuse(ctx, c, "recover", owner, 404, "no escrowed key matches for owner '" + owner + "'");
        }
        if (found.size() > 1) {
            throw auth.refuse(ctx, c, "recover", owner, 409, "several escrowed keys match; ask by escrow_id");
        }
        EscrowRecord rec = found.get(0);
        if (twoPerson) {
            AuthorityStore.RecoveryRequest req = store.requestRecovery(rec.id(), c, auth.now());
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("request_id", req.id());
            out.put("escrow_id", rec.id());
            out.put("status", "pending");
            out.put("message", "a recovery officer who is another person must approve this request; then ask again with request_id");
            ctx.status(202).json(out);
            return;
        }
        release(ctx, c, rec);
    }

    /** The two-person rule's second step: an officer who is another person than the requester approves. */
    void approveRecovery(Context ctx) {
        byte[] body = RequestBodies.body(ctx);
        Client officer = auth.authenticateClient(ctx, body, "recover-approve");
        JsonNode j = RequestBodies.parse(body, Set.of("request_id"));
        String id = RequestBodies.text(j, "request_id", true);
        checkRequestId(id);
        if (!officer.officer()) {
            throw auth.refuse(ctx, officer, "recover-approve", id, 403, "only a recovery officer may approve a recovery");
        }
        AuthorityStore.RecoveryRequest req;
        try {
            req = store.approveRecovery(id, officer, approvalLifetime, auth.now());
        } catch (AuthorityStore.Forbidden e) {
            throw auth.refuse(ctx, officer, "recover-approve", id, 403, e.getMessage());
        } catch (AuthorityStore.Conflict e) {
            throw auth.refuse(ctx, officer, "recover-approve", id, 409, e.getMessage());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("request_id", id);
        out.put("status", "approved");
        out.put("expires_at", req.expiresAt().toString());
        ctx.json(out);
    }

    /** A request id is what requestRecovery made (32 hex digits); anything else never reaches an audit row or an error. */
    private static void checkRequestId(String id) {
        if (!id.matches("[0-9a-f]{32}")) {
            throw new Refusal(400, "request_id must be 32 lowercase hex digits (the id a recovery request answered with)");
        }
    }

    /** The requester collects an approved request; again, if delivery failed, until the approval expires. */
    private void collect(Context ctx, Client c, String requestId) {
        // The output is checked first: a stored blob the release check refuses (a re-labelled row) must not leave
        // the request marked collected, nor a "recover-collected ok" row for a key that was never released. The
        // store decides who may collect, in its transaction; this read only spares others the unwrapping.
        Optional<AuthorityStore.RecoveryRequest> seen = store.recoveryRequest(requestId);
        EscrowRecord rec = null;
        KeyBlob rewrapped = null;
        if (seen.isPresent() && seen.get().requester().equals(c.id())) {
            rec = store.escrow(seen.get().escrowId()).orElseThrow(() -> new Refusal(404, "the escrowed key is gone"));
            rewrapped = rewrapChecked(ctx, c, rec);
        }
        AuthorityStore.RecoveryRequest req;
        try {
            req = store.collectRecovery(requestId, c, auth.now());
        } catch (AuthorityStore.Forbidden e) {
            throw auth.refuse(ctx, c, "recover", requestId, 403, e.getMessage());
        } catch (AuthorityStore.Conflict e) {
            throw auth.refuse(ctx, c, "recover", requestId, 409, e.getMessage());
        }
        if (rec == null || !rec.id().equals(req.escrowId())) {
            rec = store.escrow(req.escrowId()).orElseThrow(() -> new Refusal(404, "the escrowed key is gone"));
            rewrapped = rewrapChecked(ctx, c, rec);
        }
        respond(ctx, c, rec, rewrapped);
    }

    private void release(Context ctx, Client c, EscrowRecord rec) {
        respond(ctx, c, rec, rewrapChecked(ctx, c, rec));
    }

    /**
     * Unwraps with the authority key, checking the blob is bound to the owner and message its row names
     * (a second line of defence against a re-labelled row), and wraps again for the requester; no plaintext
     * key leaves this method. Refuses (409, audited) a blob that does not open so.
     */
    private KeyBlob rewrapChecked(Context ctx, Client c, EscrowRecord rec) {
        Recipient requester = auth.recipientOf(c);
        KeyBlob stored = KeyBlob.decode(rec.blob());
        EscrowBinding binding = EscrowBinding.of(rec.owner(), rec.messageId());
        try (SessionKey key = KeyWrap.unwrapEscrow(stored, identity, binding)) {
            return KeyWrap.wrap(key, requester);
        } catch (KeywayException e) {
            boolean plain;
            try (SessionKey ignored = KeyWrap.unwrap(stored, identity)) {
                plain = true;
            } catch (KeywayException e2) {
                plain = false;
            }
            throw auth.refuse(ctx, c, "recover", rec.id(), 409, plain
                    ? "escrow " + rec.id() + " was stored before owner binding and is not released: the authority's admin binds "
                    + "stored escrows to their owners with 'keyway authority bind-legacy'"
                    : "escrow " + rec.id() + " is not bound to the owner and message its record names (the database was "
                    + "altered?); nothing released");
        }
    }

    /** Audits the release and answers with the blob re-wrapped for the requester. */
    private void respond(Context ctx, Client c, EscrowRecord rec, KeyBlob rewrapped) {
        store.audit(auth.now(), c.id(), "release", rec.id(), "ok", "{\"owner\":" + AuthorityStore.json(rec.owner()) + ",\"to\":\""
                + c.id() + "\"}");
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("escrow_id", rec.id());
        out.put("owner", rec.owner());
        out.put("serial", rec.serial());
        out.put("message_id", rec.messageId());
        out.put("description", rec.description());
        out.put("blob", Base64.getEncoder().encodeToString(rewrapped.encode()));
        ctx.json(out);
    }
}
