-- Full-text search of the (already redacted) free text, for staff looking for "parking" or
-- "rude" among many thousands of comments. The writer fills it in the same transaction as the
-- response; deleting a response (withdrawal, retention) deletes its row here in the same
-- transaction (ON DELETE CASCADE), so a deleted comment is never found.
-- `config` is the text search configuration of the comment's language: 'english' (stemmed),
-- or 'simple' for Welsh and others (PostgreSQL has no Welsh dictionary).
CREATE TABLE comment_search (
    response_id BIGINT PRIMARY KEY REFERENCES responses (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    config REGCONFIG NOT NULL,
    terms TSVECTOR GENERATED ALWAYS AS (to_tsvector(config, body)) STORED
);
CREATE INDEX comment_search_terms ON comment_search USING GIN (terms);

-- Responses stored before this migration are indexed by the server after it starts, from the
-- oldest: ids up to `indexed_to` are done, up to `upto` are to do (later ones the writer did).
CREATE TABLE comment_search_backfill (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_to BIGINT NOT NULL,
    upto BIGINT NOT NULL
);
INSERT INTO comment_search_backfill (id, indexed_to, upto)
    SELECT 1, 0, COALESCE(MAX(id), 0) FROM responses;
