-- Staff sign-in with the trust's own accounts (OpenID Connect), people management from the
-- dashboard, and session idle timeouts.
-- An account signed in through a provider is linked to it by (issuer, subject), which never
-- changes, unlike an e-mail address. Such accounts have an empty password_hash, which no
-- password matches.
ALTER TABLE users ADD COLUMN oidc_issuer TEXT;
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
ALTER TABLE users ADD COLUMN disabled_at TEXT;
ALTER TABLE users ADD COLUMN last_sign_in TEXT;
-- An invitation to choose a password (people added in the dashboard): a hash of the one-time
-- link's secret, and when it runs out.
ALTER TABLE users ADD COLUMN invite_hash TEXT;
ALTER TABLE users ADD COLUMN invite_expires TEXT;
CREATE UNIQUE INDEX users_by_oidc_subject ON users (oidc_issuer, oidc_subject);
-- Where a role came from: given in the dashboard or by `chorus user add` ('manual'), or from
-- the provider's groups at the last sign-in ('oidc', replaced at every sign-in).
ALTER TABLE user_roles ADD COLUMN source TEXT NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'oidc'));
-- When a session last answered a request (the idle timeout counts from here).
ALTER TABLE sessions ADD COLUMN last_seen TEXT;
-- Sign-ins under way at the provider: one row per redirect, deleted when the browser comes
-- back (so a state cannot be used twice). Only hashes of the state and of the browser's cookie
-- are kept; the nonce and the PKCE verifier live for ten minutes at most.
CREATE TABLE oidc_flows (
    state_hash    TEXT PRIMARY KEY,
    browser_hash  TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX oidc_flows_by_expiry ON oidc_flows (expires_at);
