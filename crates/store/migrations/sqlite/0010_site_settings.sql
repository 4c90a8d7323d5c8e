-- Site settings that admins may change at run time from the dashboard (Site settings): a
-- site's services with their FFT setting, ward and specialty codes (a JSON array of objects,
-- as `services` in the TOML), and its retention in days. A NULL column, or no row, leaves the
-- configuration file's value in force. Origins, ODS codes and secrets are never stored here.
CREATE TABLE site_settings (
    site TEXT PRIMARY KEY,
    services TEXT,
    retention_days INTEGER,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
