-- The receipt reference is a pure function of the row id (src/reference.rs: a bijection, with
-- an inverse for look-ups), so it is no longer stored. Dropping the column and its unique index
-- removes a placeholder insert and an update per response from the single writer's path.
-- SQLite cannot drop a UNIQUE column in place: rebuild the table, keeping ids and the
-- AUTOINCREMENT high-water mark (ids, and so references, are never reused after deletions).
CREATE TABLE responses_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    site            TEXT    NOT NULL,
    service         TEXT,
    instrument      TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    locale          TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL,
    body_hash       TEXT    NOT NULL,
    answers         TEXT    NOT NULL,
    scores          TEXT    NOT NULL,
    client_scores   TEXT,
    score_mismatch  INTEGER NOT NULL DEFAULT 0, -- 0 or 1 (an integer on both backends)
    received_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (site, idempotency_key)
);
INSERT INTO responses_new (id, site, service, instrument, version, locale, idempotency_key, body_hash, answers, scores, client_scores, score_mismatch, received_at)
    SELECT id, site, service, instrument, version, locale, idempotency_key, body_hash, answers, scores, client_scores, score_mismatch, received_at
    FROM responses;
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'responses_new', seq FROM sqlite_sequence WHERE name = 'responses'
    AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'responses_new');
UPDATE sqlite_sequence
    SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'responses'), 0))
    WHERE name = 'responses_new';
DROP TABLE responses;
ALTER TABLE responses_new RENAME TO responses;
CREATE INDEX responses_by_instrument ON responses (site, instrument, received_at);
