-- Search (DESIGN §8): one document per searchable object, kept in step with it in the
-- object's own transaction, and a GIN-indexed tsvector over the documents' terms.
--
-- Terms are computed by the service (domain::search::terms: lower-cased, diacritics folded,
-- letter-and-digit runs), so both backends index and query exactly the same words: the
-- tsvector is built from them with array_to_tsvector, without PostgreSQL's parser or a text
-- search configuration. account_id '' marks catalog documents every account searches
-- (workspaces, programs, help topics).

CREATE TABLE search_documents (
    account_id  TEXT      NOT NULL,
    -- workspace | program | help_topic | user | invoice | support_request | order
    doc_type    TEXT      NOT NULL,
    doc_id      TEXT      NOT NULL,
    title       TEXT      NOT NULL,
    summary     TEXT      NOT NULL,
    -- Distinct terms, space-separated.
    title_terms TEXT      NOT NULL,
    body_terms  TEXT      NOT NULL,
    -- The one person who may see it without an admin role (a support request's author).
    owner_id    TEXT,
    -- The terms plus a scope lexeme ('@' + account id, '@' alone for the catalog), which no
    -- term can equal (terms are letters and digits), so a query is scoped inside the index.
    tsv         tsvector  GENERATED ALWAYS AS (
        array_to_tsvector(array_remove(
            string_to_array('@' || account_id || ' ' || title_terms || ' ' || body_terms, ' '),
            ''
        ))
    ) STORED,
    PRIMARY KEY (account_id, doc_type, doc_id)
);
CREATE INDEX search_documents_tsv ON search_documents USING GIN (tsv);

-- Every term an account's documents (or the catalog's, under '') have used: what a misspelt
-- query word is compared with. Terms are added, never counted down: a term of a removed
-- document only widens a query's alternatives, never its results.
CREATE TABLE search_terms (
    account_id TEXT NOT NULL,
    term       TEXT NOT NULL,
    PRIMARY KEY (account_id, term)
);

-- Accounts whose objects must be (re)indexed; the service drains it at start-up. Every account
-- that existed before this migration is queued, so an older database becomes searchable.
CREATE TABLE search_reindex (
    account_id TEXT PRIMARY KEY
);
INSERT INTO search_reindex (account_id) SELECT id FROM accounts;
