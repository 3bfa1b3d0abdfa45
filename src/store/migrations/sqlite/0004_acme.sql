-- Migration 4 on both backends (the same numbering). The table shares ACME
-- certificates between instances on PostgreSQL; on SQLite (one machine)
-- they stay in STATE_DIR/acme as files and this table stays empty.
CREATE TABLE acme_state (
    name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 4200),
    pem TEXT NOT NULL CHECK (length(pem) <= 1048576),
    updated_at INTEGER NOT NULL
);
