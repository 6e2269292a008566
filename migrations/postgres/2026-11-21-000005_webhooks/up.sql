-- Webhooks (issue 6): endpoints, the transactional event outbox, deliveries with their
-- attempt log, and the sweep that announces what time alone changes.

CREATE TABLE webhook_endpoints (
    account_id      TEXT      NOT NULL REFERENCES accounts (id),
    id              TEXT      NOT NULL,
    url             TEXT      NOT NULL,
    description     TEXT,
    -- JSON array of event types, or ["*"] for every type.
    events          TEXT      NOT NULL,
    enabled         INTEGER   NOT NULL,
    -- manual | failing, while disabled.
    disabled_reason TEXT,
    -- Standard Webhooks signing secrets (whsec_...): kept to sign, so stored as they are.
    secret          TEXT      NOT NULL,
    previous_secret TEXT,
    previous_secret_expires_at TIMESTAMP,
    -- The first failed attempt since the last success (wall clock).
    failing_since   TIMESTAMP,
    created_by      TEXT      NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         BIGINT    NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE UNIQUE INDEX webhook_endpoints_id ON webhook_endpoints (id);

-- Every published event, written in the transaction of the change it reports.
CREATE TABLE webhook_events (
    account_id  TEXT      NOT NULL REFERENCES accounts (id),
    id          TEXT      NOT NULL,
    event_type  TEXT      NOT NULL,
    -- The JSON body delivered: {id, type, created_at, account_id, data}.
    payload     TEXT      NOT NULL,
    -- Events announced by a sweep carry a key so a second sweep cannot announce them twice.
    dedupe_key  TEXT,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE UNIQUE INDEX webhook_events_dedupe ON webhook_events (account_id, dedupe_key);

-- One event for one endpoint: at least once, retried with backoff.
CREATE TABLE webhook_deliveries (
    account_id        TEXT      NOT NULL REFERENCES accounts (id),
    id                TEXT      NOT NULL,
    endpoint_id       TEXT      NOT NULL,
    event_id          TEXT      NOT NULL,
    event_type        TEXT      NOT NULL,
    -- pending | succeeded | failed
    status            TEXT      NOT NULL,
    attempts          INTEGER   NOT NULL,
    -- Wall-clock instants (deliveries run on real time, sandbox or not).
    next_attempt_at   TIMESTAMP NOT NULL,
    first_attempt_at  TIMESTAMP,
    last_attempt_at   TIMESTAMP,
    last_status_code  INTEGER,
    last_error        TEXT,
    delivered_at      TIMESTAMP,
    -- A worker's claim: who holds it and until when.
    lease_token       TEXT,
    locked_until      TIMESTAMP,
    created_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (account_id, endpoint_id, id);
CREATE UNIQUE INDEX webhook_deliveries_id ON webhook_deliveries (id);

CREATE TABLE webhook_attempts (
    account_id   TEXT      NOT NULL REFERENCES accounts (id),
    id           TEXT      NOT NULL,
    delivery_id  TEXT      NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  BIGINT    NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (account_id, delivery_id, id);

-- How far the sweep of time-driven events (renewal due, expired, skilling credit counted) has
-- looked for accounts on the real clock, and which replica holds it.
CREATE TABLE event_sweeps (
    name         TEXT      NOT NULL PRIMARY KEY,
    swept_until  TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);

CREATE INDEX memberships_anniversary ON memberships (anniversary_at);
CREATE INDEX skilling_credits_counts_from ON skilling_credits (counts_from);
