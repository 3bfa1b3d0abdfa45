/*
 * store.h — the database, behind one backend-neutral interface.
 *
 * A store is one connection: the server opens one per worker thread, a CLI
 * command opens one. The URL chooses the backend (sqlite:… or
 * postgres[ql]://…); nothing above this header knows which one it is.
 * Every write runs in one transaction: it happens whole or not at all.
 * Errors come back as -1 with a one-line message in the caller's buffer;
 * MG_ERR_CONFLICT (core/errors.h) is a write the database refused for a
 * reason the caller can explain to a user (duplicate key, last admin, a
 * constraint).
 */
#ifndef MG_STORE_H
#define MG_STORE_H

#include "store/records.h"

#include <stddef.h>
#include <stdint.h>

typedef struct store store;

/* Opens (and for SQLite creates) the database. Does not migrate. */
int store_open(const char *url, store **out, char *err, size_t errlen);
/* Opens a database only to read it (the source of a copy): a SQLite file
 * must exist and is opened read-only (never created, never switched to
 * WAL); a PostgreSQL session makes every transaction read-only. */
int store_open_readonly(const char *url, store **out, char *err, size_t errlen);
/* "SQLite database /path" or "PostgreSQL database \"x\" on host:port": the
 * database url names, for messages; never a password. */
void store_describe(const char *url, char *out, size_t len);
void store_close(store *s);
/* "sqlite" or "postgresql". */
const char *store_backend(const store *s);
/* 1 when the last call failed because the database could not be reached
 * (a server that is down, a network that is gone): the caller answers
 * "try again later" rather than "error". The next call tries to reconnect. */
int store_lost(store *s);

/* Lists embedded migrations and their state; *list is malloc'd. Also reports
 * migrations recorded in the database that this binary does not know. */
int store_migrations(store *s, store_migration **list, size_t *count, size_t *unknown, char *err, size_t errlen);
/* Applies pending migrations in order, each in its own transaction. Refuses
 * (without changing anything) when the database has migrations this binary
 * does not know or whose checksum differs. *applied counts what ran. */
int store_migrate(store *s, int *applied, char *err, size_t errlen);

/* Runs fn (migrations, the bundled dataset, the first admin) so that
 * several servers starting at once on one database do it one after the
 * other: the second finds the work done instead of seeding twice or racing
 * for the first admin's name. PostgreSQL: a session advisory lock; SQLite:
 * one machine, fn runs as it is. */
int store_startup(store *s, store_startup_fn fn, void *ctx, char *err, size_t errlen);

/* Reads the whole map in one read transaction: a consistent picture, and
 * (version may be NULL) the data version it is the picture of. */
int store_load(store *s, dataset *out, int64_t *version, char *err, size_t errlen);
/* 1 when there are no genres and no bands. */
int store_is_empty(store *s, int *empty, char *err, size_t errlen);
/* Replaces every genre and band with d in one transaction (seed, restore). */
int store_replace_all(store *s, const dataset *d, char *err, size_t errlen);

/* SQLite only (sqlite_replace.c): makes the database file at path hold
 * exactly what the one at from holds, schema included, in one transaction
 * that processes which have it open see as a change of data; the audit
 * entries after audit_after, which it discards, go to *lost (malloc'd,
 * store_audit_clear each). A deploy's rollback across a migration. */
int store_sqlite_replace(const char *path, const char *from, int64_t audit_after, store_audit **lost, size_t *nlost,
                         char *err, size_t errlen);

/* Counter bumped by every committed data change; readers compare it to know
 * whether their snapshot is current (also across processes). */
int store_data_version(store *s, int64_t *version, char *err, size_t errlen);

/* Waits up to timeout_ms for another connection to announce a committed
 * data change (PostgreSQL: LISTEN/NOTIFY, sent by every write); *changed
 * is 1 when one did, or when notifications may have been missed (the
 * connection was lost and opened again). MG_ERR_NOT_FOUND when the backend
 * has no notifications (SQLite): the caller polls store_data_version. Use
 * a store of its own: it keeps listening between calls. */
int store_wait_change(store *s, int timeout_ms, int *changed, char *err, size_t errlen);

/* One line about the database server for doctor ("PostgreSQL 15.4,
 * synchronous_commit on"); *warn = 1 when a setting that matters puts
 * acknowledged writes at risk (synchronous_commit off, fsync off). */
int store_server_check(store *s, char *info, size_t infolen, int *warn, char *err, size_t errlen);

/* ---- editing the map ---- */

/* Runs fn in one write transaction (taken before reading, so no other write
 * can interleave), writes the difference between current and next, the audit
 * entry, and bumps the data version. Returns 0, MG_ERR_DECLINED when fn
 * declined, MG_ERR_CONFLICT when the database refused, MG_ERR on error. */
int store_edit(store *s, store_edit_fn fn, void *ctx, char *err, size_t errlen);

/* Newest first; *entries is malloc'd (free with store_audit_clear each). */
int store_audit_list(store *s, int64_t offset, int64_t limit, store_audit **entries, size_t *count, int64_t *total,
                     char *err, size_t errlen);

/* ---- accounts ---- */

/* Adds user u in one write transaction; u gets the saved row (id,
 * created_at). fn (may be NULL) is called inside it with (NULL, the saved
 * row, an audit entry, ctx), and the entry it fills is written with the
 * user: both are saved or neither. MG_ERR_CONFLICT when the username or
 * email is taken, MG_ERR_DECLINED when fn declined. */
int store_user_create(store *s, store_user *u, store_user_fn fn, void *ctx, char *err, size_t errlen);
/* *found = 0 when there is no such user. */
int store_user_by_name(store *s, const char *username, store_user *out, int *found, char *err, size_t errlen);
int store_user_by_id(store *s, int64_t id, store_user *out, int *found, char *err, size_t errlen);
int store_user_list(store *s, store_user **users, size_t *count, char *err, size_t errlen);
/* Changes user id in one write transaction: fn (store_user_fn) sees the row
 * as it is and changes a copy; only the columns it changed (email,
 * password_hash, is_admin, disabled) are written, so a concurrent change of
 * another column is never undone. Writes fn's audit entry, and ends the
 * user's sessions when the account is disabled or the password changed.
 * after (may be NULL) gets the saved row. MG_ERR_NOT_FOUND when there is no
 * such user, MG_ERR_DECLINED when fn declined, MG_ERR_CONFLICT when it would
 * leave no active admin or the email is taken. */
int store_user_edit(store *s, int64_t id, store_user_fn fn, void *ctx, store_user *after, char *err, size_t errlen);
int store_user_logged_in(store *s, int64_t id, char *err, size_t errlen);
int store_admin_count(store *s, int64_t *count, char *err, size_t errlen);

int store_session_create(store *s, const char *token_hash, int64_t user_id, const char *csrf_token, int64_t now,
                         int64_t expires_at, char *err, size_t errlen);
int store_session_get(store *s, const char *token_hash, store_session *out, int *found, char *err, size_t errlen);
int store_session_touch(store *s, const char *token_hash, int64_t now, char *err, size_t errlen);
int store_session_delete(store *s, const char *token_hash, char *err, size_t errlen);
/* Removes every session of a user (disabled, password changed). */
int store_sessions_delete_user(store *s, int64_t user_id, char *err, size_t errlen);

/* ---- login attempts (the rate limit, api/auth.c) ---- */

/* How many attempts were recorded under key since since_ms (a read); with
 * upto_id > 0, only those up to and including attempt upto_id, which tells
 * an attempt its place among concurrent ones. *oldest_ms: the first of them
 * (0 when none). */
int store_attempts_count(store *s, const char *key, int64_t since_ms, int64_t upto_id, int64_t *count,
                         int64_t *oldest_ms, char *err, size_t errlen);
/* Records one attempt under each of keys at now_ms (ids[i] gets the id of
 * keys[i]'s), and forgets attempts older than forget_before_ms. */
int store_attempts_add(store *s, const char *const *keys, size_t nkeys, int64_t now_ms, int64_t forget_before_ms,
                       int64_t *ids, char *err, size_t errlen);
/* Forgets the attempts with these ids (a login that succeeded). */
int store_attempts_remove(store *s, const int64_t *ids, size_t n, char *err, size_t errlen);

/* Appends the database metrics in Prometheus text format. */
struct buf;
void store_metrics_write(struct buf *out);

/* ---- whole-database copies: backup, restore, export, import ---- */

/* Reads everything in one read transaction: a consistent picture even while
 * other connections write. */
int store_dump(store *s, store_dump_t *out, char *err, size_t errlen);

/* Replaces the parts named by what with d's in ONE write transaction and
 * bumps the data version, so a running server switches to the new data at
 * once: afterwards the database holds exactly d's parts, or on any failure
 * exactly what it held before. The caller has checked every rule; the
 * database constraints are the second line. expected (may be NULL) is the
 * dump the caller read the database as: the restore refuses (MG_ERR_CONFLICT)
 * when the data changed since, that is when the data version, the newest
 * audit entry or any account differs from it (a login's time aside).
 * *users_added (may be NULL) counts users added by STORE_RESTORE_ADD_USERS. */
int store_restore(store *s, const store_dump_t *d, unsigned what, const store_dump_t *expected, int64_t *users_added,
                  char *err, size_t errlen);

/* ---- ACME state shared by several instances (server/certificates.c) ----
 * PostgreSQL only: on SQLite (one machine) the certificates stay files in
 * the state directory and these answer MG_ERR_NOT_FOUND. */

/* The PEM stored under name (malloc'd into *pem); *found = 0 when none. */
int store_acme_get(store *s, const char *name, char **pem, int *found, char *err, size_t errlen);
/* Stores n PEMs under their names in one transaction (a chain and its key
 * change together). */
int store_acme_put(store *s, const char *const *names, const char *const *pems, size_t n, char *err, size_t errlen);
/* take = 1: tries the session lock that lets one instance at a time order
 * (*got = 1 when taken, 0 when another instance holds it); take = 0: lets
 * it go. Closing the connection lets it go too. */
int store_acme_lock(store *s, int take, int *got, char *err, size_t errlen);

/* ---- The public keys that signed this database's backups (ops/backup_keys.h) ----
 * Recorded by whatever signs a backup, so that every process on the
 * database trusts what any of them signed, whichever state directory it
 * has. Public keys only, never inside a backup. Both answer
 * MG_ERR_NOT_FOUND on a schema older than migration 0005. */

/* One "ed25519:… comment" a line, oldest first (malloc'd into *text). */
int store_backup_keys(store *s, char **text, char *err, size_t errlen);
/* Records key with comment; nothing when it is recorded already. */
int store_backup_key_add(store *s, const char *key, const char *comment, char *err, size_t errlen);

#endif
