-- Responses as stored: answers with free text already redacted, the server's own score
-- report, the client's (kept only to prove agreement) and the instrument version answered.
CREATE TABLE responses (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    reference       TEXT    NOT NULL UNIQUE,
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
CREATE INDEX responses_by_instrument ON responses (site, instrument, received_at);
