package dev.keyway.authority;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.blob.EscrowBinding;
import dev.keyway.core.blob.KeyBlob;
import dev.keyway.core.blob.KeyWrap;
import dev.keyway.core.encoding.Hex;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.OwnerName;
import dev.keyway.core.keys.SessionKey;
import io.javalin.http.Context;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The routes about escrows: filing one (the blob must be wrapped for this authority and bound to the owner
 * it is filed for, or nothing is stored), with a signed receipt, and listing them (metadata only).
 */
final class EscrowRoutes {
    private final AuthorityStore store;
    private final Identity identity;
    private final RequestAuth auth;
    private final FailureLog failures;

    EscrowRoutes(AuthorityStore store, Identity identity, RequestAuth auth, FailureLog failures) {
        this.store = store;
        this.identity = identity;
        this.auth = auth;
        this.failures = failures;
    }

    void escrow(Context ctx) {
        byte[] body = RequestBodies.body(ctx);
        RequestSigning.Signed signed = RequestAuth.signedHeaders(ctx);
        Client c = auth.authenticateClient(ctx, body, "escrow", true, false);
        JsonNode j = RequestBodies.parse(body, Set.of("blob", "description", "serial", "message_id", "owner"));
        String owner = auth.ownerField(ctx, j, c, "escrow");
        byte[] blobBytes = RequestBodies.base64(RequestBodies.text(j, "blob", true), "blob");
        KeyBlob blob;
        try {
            blob = KeyBlob.decode(blobBytes);
        } catch (KeywayException e) {
            throw auth.refuse(ctx, c, "escrow", "-", 400, "blob: " + e.getMessage());
        }
        if (!MessageDigest.isEqual(blob.recipientId(), identity.recipient().id())) {
            throw auth.refuse(ctx, c, "escrow", "-", 400, "the blob is not wrapped for this authority (it is for " + blob.recipientIdHex()
                    + ", the authority is " + identity.recipient().idHex() + ")");
        }
        String description = RequestBodies.text(j, "description", true);
        if (description.isEmpty() || description.length() > 1000) {
            throw new Refusal(400, "description must be 1 to 1000 characters");
        }
        Long serial = RequestBodies.optionalLong(j, "serial");
        String messageId = RequestBodies.text(j, "message_id", false);
        if (messageId != null && !messageId.matches("[0-9a-f]{32}")) {
            throw new Refusal(400, "message_id must be 32 lowercase hex digits");
        }
        // The binding: the blob must open for this owner (and message), or nothing is stored.
        checkBinding(ctx, c, blob, EscrowBinding.of(owner, messageId), "escrow");
        AuthorityStore.Escrowed e;
        try {
            e = store.escrow(c, owner, blobBytes, description, serial, messageId,
                    new AuthorityStore.Nonce(c.id(), signed.nonce(), RequestSigning.nonceExpiry(signed)), auth.now());
        } catch (AuthorityStore.ReplayedRequest replay) {
            failures.record(ctx.ip(), RequestSigning.Kind.REPLAYED);
            throw new Refusal(401, replay.getMessage());
        }
        ctx.status(e.created() ? 201 : 200).json(receipt(e.record()).toJson());
    }

    /**
     * Refuses (403, audited) a blob that does not open for {@code binding}: one bound to another owner or
     * message (a copied escrow stanza), or a plain blob without a binding (which says how to make one).
     */
    private void checkBinding(Context ctx, Client c, KeyBlob blob, EscrowBinding binding, String action) {
        try (SessionKey ignored = KeyWrap.unwrapEscrow(blob, identity, binding)) {
            return;
        } catch (KeywayException bound) {
            boolean plain;
            try (SessionKey ignored = KeyWrap.unwrap(blob, identity)) {
                plain = true;
            } catch (KeywayException e) {
                plain = false;
            }
            String who = "owner '" + binding.owner() + "'" + (binding.messageId() == null ? "" : " and message "
                    + Hex.encode(binding.messageId()));
            throw auth.refuse(ctx, c, action, binding.owner(), 403, plain
                    ? "the blob is not bound to an owner (made by 'keyway key wrap'?); nothing stored: escrow a session key with "
                    + "'keyway escrow --key-file KEY' or a file's escrow stanza with 'keyway escrow --file FILE', which bind it"
                    : "the blob is not bound to " + who + " (a copied escrow stanza, or bound to another owner or message); "
                    + "nothing stored");
        }
    }

    void list(Context ctx) {
        Client c = auth.authenticateClient(ctx, new byte[0], "list");
        // An owner name like everywhere else: canonical, so 'ａｌｉｃｅ' lists alice's escrows as recover finds them,
        // and a control character or an overlong name is refused before it can reach a refusal's audit row.
        String owner;
        try {
            owner = ctx.queryParam("owner") == null ? c.name() : OwnerName.normalize(ctx.queryParam("owner"));
        } catch (KeywayException e) {
            throw new Refusal(400, "query parameter 'owner': " + e.getMessage());
        }
        if (!owner.equals(c.name()) && !c.officer()) {
            throw auth.refuse(ctx, c, "list", owner, 403, "client " + c.id() + " may not list keys of owner '" + owner + "'");
        }
        Long serial = ctx.queryParam("serial") == null ? null : RequestBodies.parseLong(ctx.queryParam("serial"), "serial");
        Instant from = ctx.queryParam("from") == null ? null : RequestBodies.parseInstant(ctx.queryParam("from"), "from");
        Instant to = ctx.queryParam("to") == null ? null : RequestBodies.parseInstant(ctx.queryParam("to"), "to");
        int limit = ctx.queryParam("limit") == null ? 1000 : (int) Math.min(10_000, RequestBodies.parseLong(ctx.queryParam("limit"), "limit"));
        List<Object> out = new ArrayList<>();
        for (EscrowRecord r : store.find(new AuthorityStore.Query(owner, ctx.queryParam("description"), serial,
                ctx.queryParam("message_id"), from, to, limit))) {
            out.add(EscrowSummary.of(r).toJson());
        }
        ctx.json(Map.of("escrows", out));
    }

    /** The receipt: what was stored, signed by the authority's Ed25519 key. */
    private EscrowReceipt receipt(EscrowRecord r) {
        String sha = AuthorityStore.sha256(r.blob());
        EscrowReceipt unsigned = new EscrowReceipt(r.id(), r.owner(), r.serial(), r.createdAt(), sha, null, true);
        String signature = Base64.getEncoder().encodeToString(identity.sign(
                unsigned.signedText().getBytes(StandardCharsets.UTF_8)));
        return new EscrowReceipt(r.id(), r.owner(), r.serial(), r.createdAt(), sha, signature, true);
    }
}
