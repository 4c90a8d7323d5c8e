-- Rollups: the core's exactly-mergeable InstrumentAggregate, stored per (site, service,
-- instrument, version, locale, mode, UTC day), so a report merges days × services rows
-- instead of re-reading every response. The writer adds each new response to its rollup in
-- the same transaction as the response (see chorus_store::rollup).
-- `service` is '' for a response without one (a key column cannot be NULL in PostgreSQL).
CREATE TABLE rollups (
    site       TEXT    NOT NULL,
    service    TEXT    NOT NULL,
    instrument TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    locale     TEXT    NOT NULL,
    mode       TEXT    NOT NULL,
    day        TEXT    NOT NULL,
    responses  INTEGER NOT NULL,
    aggregate  TEXT    NOT NULL,
    -- FFT responses positive / in all, per "About you" question and answer (equality
    -- reports): one characteristic at a time, never a combination. JSON, see rollup.rs.
    about      TEXT    NOT NULL,
    PRIMARY KEY (site, service, instrument, version, locale, mode, day)
);
CREATE INDEX rollups_by_day ON rollups (site, day);

-- Keys whose rollup no longer matches its rows: the database itself notes them, in the same
-- transaction as any delete or update of a response (retention, withdrawal, an operator's
-- SQL), and the store recomputes them from the rows (reports read such keys from the rows
-- until then). `gen` is bumped by each change, so a recomputation that raced one is redone.
CREATE TABLE rollup_dirty (
    site       TEXT    NOT NULL,
    service    TEXT    NOT NULL,
    instrument TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    locale     TEXT    NOT NULL,
    mode       TEXT    NOT NULL,
    day        TEXT    NOT NULL,
    gen        INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (site, service, instrument, version, locale, mode, day)
);

CREATE TRIGGER responses_rollup_delete AFTER DELETE ON responses BEGIN
    INSERT INTO rollup_dirty (site, service, instrument, version, locale, mode, day)
    VALUES (OLD.site, COALESCE(OLD.service, ''), OLD.instrument, OLD.version, OLD.locale,
            OLD.mode, substr(OLD.received_at, 1, 10))
    ON CONFLICT DO UPDATE SET gen = gen + 1;
END;

CREATE TRIGGER responses_rollup_update
AFTER UPDATE OF site, service, instrument, version, locale, mode, received_at, scores ON responses
BEGIN
    INSERT INTO rollup_dirty (site, service, instrument, version, locale, mode, day)
    VALUES (OLD.site, COALESCE(OLD.service, ''), OLD.instrument, OLD.version, OLD.locale,
            OLD.mode, substr(OLD.received_at, 1, 10))
    ON CONFLICT DO UPDATE SET gen = gen + 1;
    INSERT INTO rollup_dirty (site, service, instrument, version, locale, mode, day)
    VALUES (NEW.site, COALESCE(NEW.service, ''), NEW.instrument, NEW.version, NEW.locale,
            NEW.mode, substr(NEW.received_at, 1, 10))
    ON CONFLICT DO UPDATE SET gen = gen + 1;
END;

-- Responses stored before this migration: rolled up once by the server when it opens the
-- database (built = 0 until then), in one transaction with setting built = 1.
CREATE TABLE rollup_state (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    built INTEGER NOT NULL
);
INSERT INTO rollup_state (id, built) VALUES (1, 0);
