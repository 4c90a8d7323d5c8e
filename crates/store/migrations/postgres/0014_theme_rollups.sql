-- Theme rollups per (site, service, UTC day or month, theme, sentiment); see
-- migrations/sqlite/0014 for why and chorus_store::theme_rollup for how they stay exact.
CREATE TABLE theme_rollups (
    site TEXT NOT NULL, service TEXT NOT NULL, day TEXT NOT NULL,
    theme TEXT NOT NULL, sentiment TEXT NOT NULL, comments BIGINT NOT NULL,
    PRIMARY KEY (site, service, day, theme, sentiment)
);
CREATE INDEX theme_rollups_by_day ON theme_rollups (site, day);
ALTER TABLE rollup_state ADD COLUMN themes_built BIGINT NOT NULL DEFAULT 0;
