-- Full-text search of the (already redacted) free text, for staff looking for "parking" or
-- "rude" among many thousands of comments. The writer fills it in the same transaction as the
-- response (the row id is the response id); the trigger empties it in the same transaction as
-- any deletion (withdrawal, retention), so a deleted comment is never found.
-- Contentless: the text is already in responses.answers, the index holds only its terms.
-- Porter stemming, so "park" finds "parking"; diacritics folded, so "Cymraeg" text in Welsh
-- with accents is found without them.
CREATE VIRTUAL TABLE comment_search USING fts5(
    body,
    content = '',
    contentless_delete = 1,
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER comment_search_on_delete AFTER DELETE ON responses BEGIN
    DELETE FROM comment_search WHERE rowid = old.id;
END;

-- Responses stored before this migration are indexed by the server after it starts, from the
-- oldest: ids up to `indexed_to` are done, up to `upto` are to do (later ones the writer did).
CREATE TABLE comment_search_backfill (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_to INTEGER NOT NULL,
    upto INTEGER NOT NULL
);
INSERT INTO comment_search_backfill (id, indexed_to, upto)
    SELECT 1, 0, COALESCE(MAX(id), 0) FROM responses;
