-- Themes, sentiment and safeguarding flags found in free text (chorus-classify), staff
-- corrections to them, and the review of flagged comments. Every text column holds words
-- taken from comments that were already redacted before storage.
-- One row per response and theme: what the classifier found (source 'auto') or staff said
-- (source 'staff'). A tag staff removed is kept with state 'removed', so the record of what was
-- found, and who changed it, survives.
CREATE TABLE comment_themes (
    response_id BIGINT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    theme       TEXT   NOT NULL,
    sentiment   TEXT   NOT NULL, -- positive | negative | neutral
    evidence    TEXT   NOT NULL, -- JSON: {"cues": [...], "sentiment_words": [...]}, each {item, start, end, text, why}
    source      TEXT   NOT NULL, -- auto | staff
    state       TEXT   NOT NULL, -- active | removed
    updated_by  BIGINT,
    updated_at  TEXT   NOT NULL,
    PRIMARY KEY (response_id, theme)
);
CREATE INDEX comment_themes_by_theme ON comment_themes (theme);
-- Responses the classifier has read (so each is read once, and the worker can catch up).
CREATE TABLE comment_classified (
    response_id BIGINT NOT NULL PRIMARY KEY REFERENCES responses (id) ON DELETE CASCADE,
    has_text    BIGINT NOT NULL,
    at          TEXT   NOT NULL
);
-- Staff corrections, kept for the audit and used as examples: a `phrase` on an 'add' is a cue
-- for the theme on that site from then on; on a 'remove', a cue inside it no longer counts.
CREATE TABLE theme_corrections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    site        TEXT    NOT NULL,
    response_id BIGINT,
    theme       TEXT    NOT NULL,
    action      TEXT    NOT NULL, -- add | remove | sentiment
    sentiment   TEXT,
    phrase      TEXT,
    user_id     BIGINT,
    actor       TEXT    NOT NULL,
    at          TEXT    NOT NULL
);
CREATE INDEX theme_corrections_by_site ON theme_corrections (site);
-- Comments that may describe harm, abuse, neglect, self-harm, a safety incident or a wish to
-- complain, for urgent review.
CREATE TABLE comment_flags (
    response_id BIGINT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    kind        TEXT   NOT NULL,
    evidence    TEXT   NOT NULL, -- JSON: [{item, start, end, text, why}]
    flagged_at  TEXT   NOT NULL,
    PRIMARY KEY (response_id, kind)
);
CREATE TABLE flag_reviews (
    response_id BIGINT NOT NULL PRIMARY KEY REFERENCES responses (id) ON DELETE CASCADE,
    outcome     TEXT   NOT NULL,
    user_id     BIGINT,
    reviewer    TEXT   NOT NULL,
    reviewed_at TEXT   NOT NULL
);
-- "You said, we did": what staff did about what patients said, per service and theme, shown
-- on the site's public results page. Written by staff (checked for personal details), never a
-- patient's words.
CREATE TABLE actions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    site        TEXT    NOT NULL,
    service     TEXT,
    theme       TEXT,
    you_said    TEXT    NOT NULL,
    we_did      TEXT    NOT NULL,
    status      TEXT    NOT NULL, -- planned | in progress | done
    started_on  TEXT,
    done_on     TEXT,
    updated_by  BIGINT,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX actions_by_site ON actions (site);
