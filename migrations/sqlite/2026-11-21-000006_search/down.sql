DROP TABLE search_reindex;
DROP TABLE search_terms;
DROP TRIGGER search_documents_unindexed;
DROP TRIGGER search_documents_reindexed;
DROP TRIGGER search_documents_indexed;
DROP TABLE search_fts;
DROP TABLE search_documents;
