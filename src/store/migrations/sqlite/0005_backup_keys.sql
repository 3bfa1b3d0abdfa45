-- Migration 5 on both backends (the same numbering). The public halves of
-- the keys that sign this database's backups (ops/backup_keys.h), recorded
-- by whatever signs one, so that every process on the database trusts them
-- whichever state directory it has. Public keys only; never in a backup.
CREATE TABLE backup_keys (
    public_key TEXT PRIMARY KEY CHECK (public_key LIKE 'ed25519:%' AND length(public_key) <= 64),
    comment TEXT NOT NULL CHECK (length(comment) <= 200),
    added_at INTEGER NOT NULL
);
