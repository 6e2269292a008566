DROP TABLE search_reindex;
DROP TABLE search_terms;
DROP TABLE search_documents;
