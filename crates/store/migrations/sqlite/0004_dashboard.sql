-- The staff dashboard: sign-in sessions, failed sign-in counts (slowing and locking), the audit
-- log, and tags staff put on free-text comments.
-- Sessions: only a SHA-256 of the cookie's token is stored, so a copy of the database does
-- not let anyone sign in. Each session has its own CSRF token for the forms it renders.
CREATE TABLE sessions (
    token_hash TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf       TEXT   NOT NULL,
    created_at TEXT   NOT NULL,
    expires_at TEXT   NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
-- Failed sign-ins per key ("account:<e-mail>" or "ip:<address>").
CREATE TABLE login_failures (
    key          TEXT   PRIMARY KEY,
    failures     BIGINT NOT NULL,
    last_failure TEXT   NOT NULL,
    locked_until TEXT
);
CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT    NOT NULL,
    user_id BIGINT,
    actor   TEXT    NOT NULL, -- e-mail address, or "system" for scheduled tasks
    action  TEXT    NOT NULL,
    site    TEXT,
    detail  TEXT    NOT NULL
);
CREATE INDEX audit_by_time ON audit_log (at);
CREATE TABLE comment_tags (
    response_id BIGINT NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    tag         TEXT   NOT NULL,
    added_by    BIGINT,
    added_at    TEXT   NOT NULL,
    PRIMARY KEY (response_id, tag)
);
CREATE INDEX comment_tags_by_tag ON comment_tags (tag);
-- Reports read one site's responses by time.
CREATE INDEX responses_by_site_time ON responses (site, received_at);
