-- Keyway backup authority, schema 1. Portable SQL: runs on SQLite and PostgreSQL unchanged.
-- Times are milliseconds since the epoch; binary values are base64 text.

-- Enrolled clients: one row per signing key. Several keys may share a name (a re-enrolled owner).
CREATE TABLE client (
    id          VARCHAR(16)  NOT NULL PRIMARY KEY,  -- recipient id (hex)
    name        VARCHAR(128) NOT NULL,
    recipient   TEXT         NOT NULL,              -- recipient string: key-exchange + Ed25519 public keys
    status      VARCHAR(16)  NOT NULL,              -- pending | approved | revoked
    roles       VARCHAR(256) NOT NULL,              -- comma-separated, e.g. recovery-officer
    enrolled_at BIGINT       NOT NULL,
    approved_at BIGINT
);
CREATE INDEX client_name ON client (name);

-- Escrowed session keys: the key blob wrapped for the authority, never a plaintext key.
CREATE TABLE escrow (
    id          VARCHAR(32)  NOT NULL PRIMARY KEY,  -- random 128-bit id (hex)
    owner       VARCHAR(128) NOT NULL,              -- the owner's enrolled name
    client_id   VARCHAR(16)  NOT NULL,              -- the key that escrowed it
    serial      BIGINT,
    message_id  VARCHAR(32),
    description TEXT         NOT NULL,
    blob        TEXT         NOT NULL,
    blob_sha256 VARCHAR(64)  NOT NULL,
    created_at  BIGINT       NOT NULL,
    CONSTRAINT escrow_once UNIQUE (owner, blob_sha256)
);
CREATE INDEX escrow_owner_serial ON escrow (owner, serial);
CREATE INDEX escrow_message ON escrow (message_id);
CREATE INDEX escrow_created ON escrow (created_at);

-- Request nonces seen within the freshness window (a replayed signed request is refused).
CREATE TABLE request_nonce (
    client_id VARCHAR(16) NOT NULL,
    nonce     VARCHAR(64) NOT NULL,
    seen_at   BIGINT      NOT NULL,
    PRIMARY KEY (client_id, nonce)
);
CREATE INDEX request_nonce_seen ON request_nonce (seen_at);

-- Recovery requests waiting for a second officer (the two-person rule).
CREATE TABLE recovery_request (
    id           VARCHAR(32)  NOT NULL PRIMARY KEY,
    escrow_id    VARCHAR(32)  NOT NULL,
    requester    VARCHAR(16)  NOT NULL,
    status       VARCHAR(16)  NOT NULL,             -- pending | approved | released | refused
    approved_by  VARCHAR(16),
    created_at   BIGINT       NOT NULL,
    decided_at   BIGINT
);

-- The audit log: append-only, each entry's hash covers the previous entry's hash.
CREATE TABLE audit (
    seq       BIGINT       NOT NULL PRIMARY KEY,
    at        BIGINT       NOT NULL,
    actor     VARCHAR(128) NOT NULL,
    action    VARCHAR(40)  NOT NULL,
    subject   VARCHAR(256) NOT NULL,
    outcome   VARCHAR(16)  NOT NULL,
    detail    TEXT         NOT NULL,
    prev_hash VARCHAR(64)  NOT NULL,
    hash      VARCHAR(64)  NOT NULL
);

-- The head of the chain: one row, locked by every append so nodes sharing a database append in turn.
CREATE TABLE audit_head (
    id   INTEGER     NOT NULL PRIMARY KEY,
    seq  BIGINT      NOT NULL,
    hash VARCHAR(64) NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
