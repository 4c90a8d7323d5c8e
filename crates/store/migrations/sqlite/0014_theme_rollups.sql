-- Theme rollups: the themes page's counts kept per (site, service, UTC day) and per month
-- (`day` = 'YYYY-MM'), so the page merges days × services × themes rows instead of joining
-- every tag to its response (see chorus_store::theme_rollup).
-- One row per theme and sentiment: comments with that active tag. The row with theme '' and
-- sentiment '' counts the comments with free text the classifier read (the page's
-- denominator); every write locks it first, so it also serialises a key's writers.
-- Kept in the same transaction as the tags (the classifier, staff corrections); deletes and
-- updates of responses are noted in `rollup_dirty` (0013), whose days reads take from rows.
CREATE TABLE theme_rollups (
    site      TEXT    NOT NULL,
    service   TEXT    NOT NULL,
    day       TEXT    NOT NULL,
    theme     TEXT    NOT NULL,
    sentiment TEXT    NOT NULL,
    comments  INTEGER NOT NULL,
    PRIMARY KEY (site, service, day, theme, sentiment)
);
CREATE INDEX theme_rollups_by_day ON theme_rollups (site, day);

-- Tags stored before this migration: rolled up once when the database is opened.
ALTER TABLE rollup_state ADD COLUMN themes_built INTEGER NOT NULL DEFAULT 0;
