-- Account settings, verification, users and apps, Action Center, audit log (issue 3).
-- Every account-owned table leads its keys with account_id (DESIGN §1).

-- Verification: the operator's reason and the legal-profile fields under review (JSON array).
ALTER TABLE accounts ADD COLUMN verification_reason TEXT;
ALTER TABLE accounts ADD COLUMN under_review TEXT NOT NULL DEFAULT '[]';

-- Users are concurrency-guarded resources (ETag / If-Match).
ALTER TABLE users ADD COLUMN version BIGINT NOT NULL DEFAULT 1;

CREATE TABLE verification_evidence (
    account_id    TEXT      NOT NULL REFERENCES accounts (id),
    id            TEXT      NOT NULL,
    file_name     TEXT,
    media_type    TEXT      NOT NULL,
    size_bytes    BIGINT    NOT NULL,
    sha256        TEXT      NOT NULL,
    content       BLOB      NOT NULL,
    comment       TEXT,
    uploaded_by   TEXT      NOT NULL,
    uploaded_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, id)
);

CREATE TABLE apps (
    account_id        TEXT      NOT NULL REFERENCES accounts (id),
    id                TEXT      NOT NULL,
    -- Public identifier used at the token endpoint; unique across the service.
    client_id         TEXT      NOT NULL,
    name              TEXT      NOT NULL,
    -- PHC-format Argon2id hash; the secret itself is never stored.
    secret_hash       TEXT      NOT NULL,
    secret_hint       TEXT      NOT NULL,
    secret_created_at TIMESTAMP NOT NULL,
    created_by        TEXT      NOT NULL,
    version           BIGINT    NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, id),
    CONSTRAINT apps_client_id_key UNIQUE (client_id)
);

CREATE TABLE app_roles (
    account_id TEXT NOT NULL,
    app_id     TEXT NOT NULL,
    role       TEXT NOT NULL,
    PRIMARY KEY (account_id, app_id, role),
    FOREIGN KEY (account_id, app_id) REFERENCES apps (account_id, id) ON DELETE CASCADE
);

CREATE TABLE action_center_items (
    account_id   TEXT      NOT NULL REFERENCES accounts (id),
    id           TEXT      NOT NULL,
    kind         TEXT      NOT NULL,
    priority     TEXT,
    category     TEXT,
    event        TEXT      NOT NULL,
    workspace    TEXT      NOT NULL,
    -- A personal item is addressed to one user; otherwise to everyone with the workspace.
    user_id      TEXT,
    title        TEXT      NOT NULL,
    message      TEXT      NOT NULL,
    target_type  TEXT,
    target_id    TEXT,
    due_at       TIMESTAMP,
    completed_at TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, id)
);

-- Archiving is per person: one user's archive does not hide the item from the others.
CREATE TABLE action_center_archives (
    account_id  TEXT      NOT NULL,
    item_id     TEXT      NOT NULL,
    user_id     TEXT      NOT NULL,
    archived_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, item_id, user_id),
    FOREIGN KEY (account_id, item_id) REFERENCES action_center_items (account_id, id) ON DELETE CASCADE
);

CREATE TABLE notification_preferences (
    account_id              TEXT      NOT NULL,
    user_id                 TEXT      NOT NULL,
    contact_email           TEXT,
    contact_email_verified_at TIMESTAMP,
    language                TEXT      NOT NULL,
    promotional_opt_out     INTEGER   NOT NULL,
    transactional_opt_out   INTEGER   NOT NULL,
    -- The pending verification code (SHA-256), its expiry and the wrong guesses so far.
    code_hash               TEXT,
    code_expires_at         TIMESTAMP,
    code_attempts           INTEGER   NOT NULL,
    version                 BIGINT    NOT NULL,
    updated_at              TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, user_id),
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
);

-- Mail written in the transaction that causes it and sent afterwards by the mail worker.
CREATE TABLE email_outbox (
    account_id      TEXT      NOT NULL,
    id              TEXT      NOT NULL,
    recipient       TEXT      NOT NULL,
    subject         TEXT      NOT NULL,
    body            TEXT      NOT NULL,
    attempts        INTEGER   NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until    TIMESTAMP,
    sent_at         TIMESTAMP,
    last_error      TEXT,
    -- Mail that is useless after a moment (a verification code) is dropped unsent then.
    expires_at      TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX email_outbox_due ON email_outbox (sent_at, next_attempt_at);

CREATE TABLE audit_records (
    account_id  TEXT      NOT NULL,
    id          TEXT      NOT NULL,
    at          TIMESTAMP NOT NULL,
    actor_kind  TEXT      NOT NULL,
    actor       TEXT      NOT NULL,
    action      TEXT      NOT NULL,
    target_type TEXT      NOT NULL,
    target_id   TEXT      NOT NULL,
    request_id  TEXT      NOT NULL,
    details     TEXT      NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX audit_records_action ON audit_records (account_id, action, id);
CREATE INDEX audit_records_actor ON audit_records (account_id, actor, id);
CREATE INDEX audit_records_target ON audit_records (account_id, target_id, id);
