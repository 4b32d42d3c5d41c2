-- Keyway backup authority, schema 2: the trust model (docs/AUTHORITY.md, "Threat model").
-- Portable SQL: runs on SQLite and PostgreSQL unchanged.

-- Owner names are compared by their UTS #39 skeleton: a name that looks like an enrolled one is refused.
-- Filled in by the store for rows enrolled before this version.
ALTER TABLE client ADD COLUMN name_skeleton VARCHAR(1024);
ALTER TABLE client ADD COLUMN revoked_at BIGINT;
CREATE INDEX client_skeleton ON client (name_skeleton);

-- A nonce is kept until its timestamp could no longer be accepted (timestamp + window), not just for a
-- window after it was seen: a request stamped in the future cannot be replayed once its nonce is purged.
ALTER TABLE request_nonce ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
UPDATE request_nonce SET expires_at = seen_at + 600000;
CREATE INDEX request_nonce_expires ON request_nonce (expires_at);

-- The two-person rule counts people (owner names), and an approval may be collected again until it expires.
ALTER TABLE recovery_request ADD COLUMN requester_owner VARCHAR(128);
ALTER TABLE recovery_request ADD COLUMN approver_owner VARCHAR(128);
ALTER TABLE recovery_request ADD COLUMN expires_at BIGINT;
ALTER TABLE recovery_request ADD COLUMN collected INTEGER NOT NULL DEFAULT 0;
UPDATE recovery_request SET requester_owner = (SELECT name FROM client WHERE client.id = recovery_request.requester);

-- The chain head (its count and hash) is signed by the authority's Ed25519 key on every write.
ALTER TABLE audit_head ADD COLUMN signature TEXT;
