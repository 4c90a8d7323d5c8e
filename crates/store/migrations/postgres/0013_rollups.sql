-- Rollups: the core's exactly-mergeable InstrumentAggregate, stored per (site, service,
-- instrument, version, locale, mode, UTC day); see migrations/sqlite/0013 for why.
CREATE TABLE rollups (
    site       TEXT    NOT NULL,
    service    TEXT    NOT NULL,
    instrument TEXT    NOT NULL,
    version    BIGINT  NOT NULL,
    locale     TEXT    NOT NULL,
    mode       TEXT    NOT NULL,
    day        TEXT    NOT NULL,
    responses  BIGINT  NOT NULL,
    aggregate  TEXT    NOT NULL,
    -- FFT responses positive / in all, per "About you" question and answer (equality
    -- reports): one characteristic at a time, never a combination. JSON, see rollup.rs.
    about      TEXT    NOT NULL,
    PRIMARY KEY (site, service, instrument, version, locale, mode, day)
);
CREATE INDEX rollups_by_day ON rollups (site, day);

CREATE TABLE rollup_dirty (
    site       TEXT    NOT NULL,
    service    TEXT    NOT NULL,
    instrument TEXT    NOT NULL,
    version    BIGINT  NOT NULL,
    locale     TEXT    NOT NULL,
    mode       TEXT    NOT NULL,
    day        TEXT    NOT NULL,
    gen        BIGINT  NOT NULL DEFAULT 1,
    PRIMARY KEY (site, service, instrument, version, locale, mode, day)
);

-- One statement-level trigger per change (a retention run deleting 100,000 rows notes each
-- key once, not once per row). Keys are noted in key order, so two transactions noting some
-- of the same keys lock them in the same order.
CREATE FUNCTION rollup_note_old() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollup_dirty (site, service, instrument, version, locale, mode, day)
    SELECT DISTINCT site, COALESCE(service, ''), instrument, version, locale, mode,
           substr(received_at, 1, 10)
    FROM old_rows ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (site, service, instrument, version, locale, mode, day)
    DO UPDATE SET gen = rollup_dirty.gen + 1;
    RETURN NULL;
END $$;

CREATE FUNCTION rollup_note_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rollup_dirty (site, service, instrument, version, locale, mode, day)
    SELECT DISTINCT site, service, instrument, version, locale, mode, day FROM (
        SELECT site, COALESCE(service, '') AS service, instrument, version, locale, mode,
               substr(received_at, 1, 10) AS day FROM old_rows
        UNION
        SELECT site, COALESCE(service, ''), instrument, version, locale, mode,
               substr(received_at, 1, 10) FROM new_rows
    ) AS k ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (site, service, instrument, version, locale, mode, day)
    DO UPDATE SET gen = rollup_dirty.gen + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER responses_rollup_delete AFTER DELETE ON responses
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rollup_note_old();

CREATE TRIGGER responses_rollup_update AFTER UPDATE ON responses
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION rollup_note_both();

CREATE TABLE rollup_state (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    built BIGINT  NOT NULL
);
INSERT INTO rollup_state (id, built) VALUES (1, 0);
