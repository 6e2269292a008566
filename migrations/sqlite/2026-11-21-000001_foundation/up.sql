-- Foundation: partner accounts, their users and roles, and the idempotency-key store.
-- Portable column types (see STYLE.md): UUIDs as TEXT, instants as UTC TIMESTAMP.

CREATE TABLE accounts (
    id                  TEXT      NOT NULL PRIMARY KEY,
    directory_id        TEXT      NOT NULL,
    partner_id          TEXT      NOT NULL,
    legal_name          TEXT      NOT NULL,
    address_line1       TEXT      NOT NULL,
    address_line2       TEXT,
    city                TEXT      NOT NULL,
    state_or_province   TEXT,
    postal_code         TEXT,
    country             TEXT      NOT NULL,
    website             TEXT      NOT NULL,
    contact_first_name  TEXT      NOT NULL,
    contact_last_name   TEXT      NOT NULL,
    contact_email       TEXT      NOT NULL,
    contact_phone       TEXT      NOT NULL,
    verification_status TEXT      NOT NULL,
    owner_user_id       TEXT      NOT NULL,
    version             BIGINT    NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL,
    CONSTRAINT accounts_directory_id_key UNIQUE (directory_id),
    CONSTRAINT accounts_partner_id_key UNIQUE (partner_id)
);
CREATE INDEX accounts_verification_status_id ON accounts (verification_status, id);

CREATE TABLE users (
    account_id TEXT      NOT NULL REFERENCES accounts (id),
    id         TEXT      NOT NULL,
    email      TEXT      NOT NULL,
    -- Lower-cased email: mailboxes are matched case-insensitively.
    email_key  TEXT      NOT NULL,
    first_name TEXT,
    last_name  TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, id),
    CONSTRAINT users_account_email_key UNIQUE (account_id, email_key)
);
-- A person's memberships across accounts (directory switching) are found by email.
CREATE INDEX users_email_key ON users (email_key);

CREATE TABLE user_roles (
    account_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    role       TEXT NOT NULL,
    PRIMARY KEY (account_id, user_id, role),
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
);

CREATE TABLE idempotency_keys (
    -- The caller's tenant (`directory:<uuid>` or `operator`), principal and key.
    scope            TEXT      NOT NULL,
    principal        TEXT      NOT NULL,
    idempotency_key  TEXT      NOT NULL,
    request_hash     TEXT      NOT NULL,
    state            TEXT      NOT NULL,
    -- Which claim holds the key: only that claim may complete it.
    claim_token      TEXT      NOT NULL,
    locked_until     TIMESTAMP NOT NULL,
    response_status  INTEGER,
    response_headers TEXT,
    response_body    TEXT,
    created_at       TIMESTAMP NOT NULL,
    expires_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, principal, idempotency_key)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
