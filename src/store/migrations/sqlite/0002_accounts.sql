-- 0002_accounts: curators (users), their sessions, login attempts for rate
-- limiting, and the audit log of every change.
--
-- Sessions store only a hash of the token: a leaked database does not let
-- anyone log in. Login attempts live here (not in memory) so the limit holds
-- across restarts and across several server processes.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE
                  CHECK (length(username) BETWEEN 3 AND 80 AND username NOT GLOB '*[^A-Za-z0-9_.-]*'),
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(email) BETWEEN 3 AND 254),
    password_hash TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    last_login_at TEXT
);

-- There is always an active admin once there has been one.
CREATE TRIGGER users_keep_an_admin AFTER UPDATE OF is_admin, disabled ON users
WHEN OLD.is_admin = 1 AND OLD.disabled = 0
     AND NOT EXISTS (SELECT 1 FROM users WHERE is_admin = 1 AND disabled = 0)
BEGIN
    SELECT RAISE(ABORT, 'the last admin cannot be demoted or disabled');
END;

CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL, -- unix seconds
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL  -- absolute expiry
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_attempts (
    key TEXT NOT NULL,   -- 'addr:127.0.0.1' or 'user:alice'
    at  INTEGER NOT NULL -- unix milliseconds
);
CREATE INDEX login_attempts_key ON login_attempts (key, at);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    actor       TEXT,          -- username at the time; NULL once anonymized
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    entity_type TEXT NOT NULL CHECK (entity_type IN ('genre', 'band', 'user')),
    entity_id   TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT
);
