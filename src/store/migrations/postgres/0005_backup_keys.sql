-- Migration 5 on both backends (the same numbering). The public halves of
-- the keys that sign this database's backups (ops/backup_keys.h), recorded
-- by whatever signs one, so that every instance on the database trusts
-- what any of them signed, whichever state directory it has. Public keys
-- only; never in a backup. Whoever can write this table can make backups
-- trusted — as whoever can write the users table can make an admin.
CREATE TABLE backup_keys (
    public_key TEXT PRIMARY KEY CHECK (public_key LIKE 'ed25519:%' AND length(public_key) <= 64),
    comment TEXT NOT NULL CHECK (length(comment) <= 200),
    added_at BIGINT NOT NULL
);
REVOKE ALL ON backup_keys FROM PUBLIC;
