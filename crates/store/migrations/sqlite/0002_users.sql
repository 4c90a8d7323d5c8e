-- Staff accounts for the dashboard: argon2id hashes, and a role per site.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    site    TEXT   NOT NULL,
    role    TEXT   NOT NULL CHECK (role IN ('admin', 'analyst', 'viewer')),
    PRIMARY KEY (user_id, site)
);
