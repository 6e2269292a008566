-- Search (DESIGN §8): one document per searchable object, kept in step with it in the
-- object's own transaction, and an FTS5 index over the documents' terms.
--
-- Terms are computed by the service (domain::search::terms: lower-cased, diacritics folded,
-- letter-and-digit runs), so both backends index and query exactly the same words.
-- account_id '' marks catalog documents every account searches (workspaces, programs, help
-- topics).

CREATE TABLE search_documents (
    -- The FTS5 row id: an INTEGER PRIMARY KEY keeps it stable across VACUUM.
    seq         INTEGER   PRIMARY KEY,
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
    owner_id    TEXT
);
CREATE UNIQUE INDEX search_documents_key ON search_documents (account_id, doc_type, doc_id);

-- Contentless: the documents table holds the text; the index holds only the terms, under a
-- scope token (the account id without hyphens, or `catalog`) so a query is scoped inside the
-- index, not only after it.
CREATE VIRTUAL TABLE search_fts USING fts5(
    scope,
    terms,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER search_documents_indexed AFTER INSERT ON search_documents BEGIN
    INSERT INTO search_fts (rowid, scope, terms) VALUES (
        new.seq,
        CASE new.account_id WHEN '' THEN 'catalog' ELSE replace(new.account_id, '-', '') END,
        new.title_terms || ' ' || new.body_terms
    );
END;

CREATE TRIGGER search_documents_reindexed AFTER UPDATE ON search_documents BEGIN
    DELETE FROM search_fts WHERE rowid = old.seq;
    INSERT INTO search_fts (rowid, scope, terms) VALUES (
        new.seq,
        CASE new.account_id WHEN '' THEN 'catalog' ELSE replace(new.account_id, '-', '') END,
        new.title_terms || ' ' || new.body_terms
    );
END;

CREATE TRIGGER search_documents_unindexed AFTER DELETE ON search_documents BEGIN
    DELETE FROM search_fts WHERE rowid = old.seq;
END;

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
