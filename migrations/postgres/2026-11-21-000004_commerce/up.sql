-- Commerce: orders, invoices and credit notes, refunds, benefits, support requests (issue 5).
-- Every account-owned table leads its keys with account_id. Money is integer minor units.

CREATE TABLE orders (
    account_id      TEXT      NOT NULL REFERENCES accounts (id),
    id              TEXT      NOT NULL,
    -- Per account, from 1: the order number printed on wire references and invoices.
    number          BIGINT    NOT NULL,
    program_id      TEXT      NOT NULL,
    -- purchase | renewal
    kind            TEXT      NOT NULL,
    -- credit_card | wire_transfer
    payment_method  TEXT      NOT NULL,
    -- awaiting_payment | paid | failed | cancelled | refunded; expired is computed from pay_by.
    standing        TEXT      NOT NULL,
    benefit_pack    TEXT,
    currency        TEXT      NOT NULL,
    subtotal_minor  BIGINT    NOT NULL,
    tax_minor       BIGINT    NOT NULL,
    total_minor     BIGINT    NOT NULL,
    tax_rate_bps    INTEGER   NOT NULL,
    refunded_minor  BIGINT    NOT NULL,
    -- The membership the order activated or renewed, once paid.
    membership_id   TEXT,
    -- A designation of a fee group whose yearly fee another order paid.
    covered_by      TEXT,
    wire_reference  TEXT,
    gateway_charge  TEXT,
    failure_code    TEXT,
    failure_message TEXT,
    placed_by       TEXT      NOT NULL,
    placed_at       TIMESTAMP NOT NULL,
    -- Unpaid wire orders: the last instant they can be paid.
    pay_by          TIMESTAMP,
    paid_at         TIMESTAMP,
    closed_at       TIMESTAMP,
    -- When order.expired was raised for an unpaid wire order past pay_by.
    expiry_raised_at TIMESTAMP,
    version         BIGINT    NOT NULL,
    PRIMARY KEY (account_id, id),
    CHECK (refunded_minor >= 0 AND refunded_minor <= total_minor),
    CHECK (subtotal_minor >= 0 AND tax_minor >= 0 AND total_minor = subtotal_minor + tax_minor)
);
CREATE UNIQUE INDEX orders_number ON orders (account_id, number);
-- Operators record wire receipts by order id alone.
CREATE UNIQUE INDEX orders_id ON orders (id);
CREATE INDEX orders_awaiting ON orders (standing, pay_by);

-- Invoices and credit notes share one gap-free numbering per account.
CREATE TABLE invoices (
    account_id     TEXT      NOT NULL REFERENCES accounts (id),
    id             TEXT      NOT NULL,
    number         BIGINT    NOT NULL,
    -- invoice | credit_note
    kind           TEXT      NOT NULL,
    order_id       TEXT      NOT NULL,
    -- A credit note: the invoice it credits.
    credits_invoice_id TEXT,
    currency       TEXT      NOT NULL,
    subtotal_minor BIGINT    NOT NULL,
    tax_minor      BIGINT    NOT NULL,
    total_minor    BIGINT    NOT NULL,
    tax_rate_bps   INTEGER   NOT NULL,
    -- JSON: the lines, and the buyer as it was when the document was issued.
    lines          TEXT      NOT NULL,
    buyer          TEXT      NOT NULL,
    payment_method TEXT      NOT NULL,
    payment_reference TEXT,
    issued_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE UNIQUE INDEX invoices_number ON invoices (account_id, number);
CREATE INDEX invoices_order ON invoices (account_id, order_id);

-- At most one refund per order: refunds are whole.
CREATE TABLE refunds (
    account_id     TEXT      NOT NULL REFERENCES accounts (id),
    id             TEXT      NOT NULL,
    order_id       TEXT      NOT NULL,
    amount_minor   BIGINT    NOT NULL,
    currency       TEXT      NOT NULL,
    -- The gateway's refund id; NULL for wire transfers, paid back by the operator.
    gateway_refund TEXT,
    credit_note_id TEXT,
    support_request_id TEXT,
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, id),
    CHECK (amount_minor >= 0)
);
CREATE UNIQUE INDEX refunds_order ON refunds (account_id, order_id);

CREATE TABLE benefits (
    account_id        TEXT      NOT NULL REFERENCES accounts (id),
    id                TEXT      NOT NULL,
    membership_id     TEXT      NOT NULL,
    -- The order whose payment granted it; NULL for free memberships.
    order_id          TEXT,
    program_id        TEXT      NOT NULL,
    catalog_benefit   TEXT      NOT NULL,
    kind              TEXT      NOT NULL,
    name              TEXT      NOT NULL,
    quantity          INTEGER   NOT NULL,
    granted_at        TIMESTAMP NOT NULL,
    -- The end of the term it was granted for; NULL: as long as the membership.
    valid_until       TIMESTAMP,
    assignee_user_id  TEXT,
    activated_at      TIMESTAMP,
    reassignments     INTEGER   NOT NULL,
    product_key       TEXT,
    key_revealed_at   TIMESTAMP,
    revoked_at        TIMESTAMP,
    version           BIGINT    NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE INDEX benefits_membership ON benefits (account_id, membership_id);
CREATE INDEX benefits_order ON benefits (account_id, order_id);

CREATE TABLE support_requests (
    account_id  TEXT      NOT NULL REFERENCES accounts (id),
    id          TEXT      NOT NULL,
    number      BIGINT    NOT NULL,
    -- The user who opened it; requests are visible to them and to admins.
    created_by  TEXT      NOT NULL,
    category    TEXT      NOT NULL,
    title       TEXT      NOT NULL,
    description TEXT      NOT NULL,
    -- critical | moderate | minimal
    severity    TEXT      NOT NULL,
    -- open | attention_needed | closed
    status      TEXT      NOT NULL,
    order_id    TEXT,
    -- JSON: a cancellation's decision with its checks.
    decision    TEXT,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    closed_at   TIMESTAMP,
    version     BIGINT    NOT NULL,
    PRIMARY KEY (account_id, id)
);
CREATE UNIQUE INDEX support_requests_number ON support_requests (account_id, number);
CREATE INDEX support_requests_creator ON support_requests (account_id, created_by);

CREATE TABLE support_notes (
    account_id  TEXT      NOT NULL REFERENCES accounts (id),
    request_id  TEXT      NOT NULL,
    id          TEXT      NOT NULL,
    -- partner | support
    author_kind TEXT      NOT NULL,
    author      TEXT      NOT NULL,
    body        TEXT      NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, request_id, id)
);
