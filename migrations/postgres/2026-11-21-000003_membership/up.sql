-- Membership: catalog, memberships, skilling, performance, applications, marketplace offers,
-- sandbox clocks (issue 4). Every account-owned table leads its keys with account_id.

-- A sandbox account's clock: frozen at creation, moved forward only by its users. NULL for
-- live accounts, which run on the wall clock.
ALTER TABLE accounts ADD COLUMN sandbox_clock TIMESTAMP;

-- The program catalog, loaded from catalog/programs.json and edited by operators.
CREATE TABLE programs (
    id              TEXT      NOT NULL PRIMARY KEY,
    -- The program's definition (domain::catalog::Program) as JSON.
    definition      TEXT      NOT NULL,
    -- The catalog file version it was loaded from.
    catalog_version INTEGER   NOT NULL,
    -- The operator who last edited it; NULL while it is as the catalog file has it.
    edited_by       TEXT,
    version         BIGINT    NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE program_allow_list (
    account_id TEXT      NOT NULL REFERENCES accounts (id),
    program_id TEXT      NOT NULL REFERENCES programs (id),
    added_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, program_id)
);
CREATE INDEX program_allow_list_program ON program_allow_list (program_id, account_id);

CREATE TABLE memberships (
    account_id     TEXT      NOT NULL REFERENCES accounts (id),
    id             TEXT      NOT NULL,
    program_id     TEXT      NOT NULL,
    -- pending_payment | active | cancelled; renewal_due and expired are computed from dates.
    standing       TEXT      NOT NULL,
    -- automatic | enrollment | application | operator_grant
    source         TEXT      NOT NULL,
    benefit_pack   TEXT,
    activated_at   TIMESTAMP,
    anniversary_at TIMESTAMP,
    renewable      INTEGER   NOT NULL,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    version        BIGINT    NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX memberships_program ON memberships (account_id, program_id);

-- Every existing account joined the base program when it was created.
INSERT INTO memberships (account_id, id, program_id, standing, source, benefit_pack,
                         activated_at, anniversary_at, renewable, created_at, updated_at, version)
SELECT id, id, 'ai_cloud_partner_program', 'active', 'automatic', NULL,
       created_at, NULL, 0, created_at, created_at, 1
FROM accounts;

-- Learn profiles associated with accounts. `realm` is `live` for live accounts and the
-- account id for a sandbox, so a sandbox never touches a live association.
CREATE TABLE learning_links (
    account_id  TEXT      NOT NULL REFERENCES accounts (id),
    id          TEXT      NOT NULL,
    user_id     TEXT      NOT NULL,
    learn_id    TEXT      NOT NULL,
    realm       TEXT      NOT NULL,
    linked_at   TIMESTAMP NOT NULL,
    unlinked_at TIMESTAMP,
    -- relinked (the person linked another profile) | moved (the profile joined another account)
    unlinked_reason TEXT,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX learning_links_learn_id ON learning_links (realm, learn_id);
CREATE INDEX learning_links_user ON learning_links (account_id, user_id, linked_at);

-- Completions reported by the learning platform (or a sandbox), per Learn profile.
CREATE TABLE skilling_completions (
    realm        TEXT      NOT NULL,
    learn_id     TEXT      NOT NULL,
    id           TEXT      NOT NULL,
    kind         TEXT      NOT NULL,
    credential   TEXT      NOT NULL,
    title        TEXT      NOT NULL,
    completed_at TIMESTAMP NOT NULL,
    received_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (realm, learn_id, id),
    CONSTRAINT skilling_completions_once UNIQUE (realm, learn_id, credential, completed_at)
);

-- Completions credited to an account while the profile is linked to it.
CREATE TABLE skilling_credits (
    account_id    TEXT      NOT NULL REFERENCES accounts (id),
    id            TEXT      NOT NULL,
    link_id       TEXT      NOT NULL,
    completion_id TEXT      NOT NULL,
    user_id       TEXT      NOT NULL,
    learn_id      TEXT      NOT NULL,
    kind          TEXT      NOT NULL,
    credential    TEXT      NOT NULL,
    title         TEXT      NOT NULL,
    completed_at  TIMESTAMP NOT NULL,
    counts_from   TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX skilling_credits_link ON skilling_credits (account_id, link_id);

CREATE TABLE partner_links (
    account_id         TEXT      NOT NULL REFERENCES accounts (id),
    id                 TEXT      NOT NULL,
    kind               TEXT      NOT NULL,
    customer_tenant_id TEXT      NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, id),
    CONSTRAINT partner_links_once UNIQUE (account_id, kind, customer_tenant_id)
);

CREATE TABLE performance_records (
    account_id         TEXT      NOT NULL REFERENCES accounts (id),
    id                 TEXT      NOT NULL,
    area               TEXT      NOT NULL,
    -- revenue | usage_growth | deployment
    kind               TEXT      NOT NULL,
    customer_tenant_id TEXT      NOT NULL,
    revenue_minor      BIGINT,
    currency           TEXT,
    growth_percent     INTEGER,
    workload           TEXT,
    occurred_at        TIMESTAMP NOT NULL,
    received_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX performance_records_area ON performance_records (account_id, area, occurred_at);

CREATE TABLE program_applications (
    account_id    TEXT      NOT NULL REFERENCES accounts (id),
    id            TEXT      NOT NULL,
    program_id    TEXT      NOT NULL,
    evidence      TEXT      NOT NULL,
    -- submitted | approved | rejected
    status        TEXT      NOT NULL,
    reason        TEXT,
    submitted_by  TEXT      NOT NULL,
    membership_id TEXT,
    created_at    TIMESTAMP NOT NULL,
    decided_at    TIMESTAMP,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX program_applications_queue ON program_applications (status, id);

CREATE TABLE marketplace_offers (
    account_id   TEXT      NOT NULL REFERENCES accounts (id),
    id           TEXT      NOT NULL,
    name         TEXT      NOT NULL,
    transactable INTEGER   NOT NULL,
    -- draft | published
    status       TEXT      NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    published_at TIMESTAMP,
    PRIMARY KEY (account_id, id)
);
