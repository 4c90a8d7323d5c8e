-- Same shape as the SQLite schema (see migrations/sqlite); types chosen so both backends
-- decode identically through sqlx's Any driver.
CREATE TABLE responses (
    id              BIGSERIAL PRIMARY KEY,
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
    score_mismatch  BIGINT  NOT NULL DEFAULT 0,
    received_at     TEXT    NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    UNIQUE (site, idempotency_key)
);
CREATE INDEX responses_by_instrument ON responses (site, instrument, received_at);
