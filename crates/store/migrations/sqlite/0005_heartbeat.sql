-- One row the writer bumps when /healthz asks: a health check that commits a write, so a
-- full, read-only or unreachable database reports not-ok instead of answering a read.
CREATE TABLE heartbeat (
    id    INTEGER PRIMARY KEY,
    beats BIGINT  NOT NULL
);
