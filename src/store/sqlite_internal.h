/*
 * sqlite_internal.h — what the SQLite backend's files share.
 *
 * The files depend on each other one way: sqlite_db.c (statements, errors,
 * row readers) is used by all; sqlite_accounts.c (users, sessions, the audit
 * log) by sqlite.c (schema and map) for the audit entry of an edit;
 * sqlite_dump.c (whole-database copies) reads the map through sqlite.c; and
 * sqlite_backend.c puts all of them in the table store.c dispatches to.
 */
#ifndef MG_SQLITE_INTERNAL_H
#define MG_SQLITE_INTERNAL_H

#include "store/backend.h"

#include <sqlite3.h>

typedef struct sqlite_store {
    struct store base;
    sqlite3 *db;
} sqlite_store;

static inline sqlite3 *sq_db(store *s) { return ((sqlite_store *)s)->db; }

/* ---- sqlite_db.c ---- */

/* Formats "what: sqlite message" into err; returns -1, or MG_ERR_CONFLICT
 * when the failure is a constraint the user can act on. */
int sq_fail(sqlite3 *db, const char *what, char *err, size_t errlen);
int sq_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);
void sq_rollback(sqlite3 *db);
/* Prepares sql or fails with a message. */
int sq_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err, size_t errlen);
char *sq_column_dup(sqlite3_stmt *st, int col);
void sq_column_copy(sqlite3_stmt *st, int col, char *out, size_t len);
int sq_table_exists(sqlite3 *db, const char *name, int *exists, char *err, size_t errlen);
/* The columns of a user, in the order sq_read_user reads them. */
#define USER_COLUMNS "id, username, email, password_hash, is_admin, disabled, created_at, coalesce(last_login_at, '')"
void sq_read_user(sqlite3_stmt *st, int col, store_user *u);
/* An audit row from the columns id, at, actor, action, entity_type,
 * entity_id, before_json, after_json (in that order). */
void sq_read_audit(sqlite3_stmt *st, store_audit *a);

/* ---- sqlite.c ---- */

int sq_migrations(store *s, store_migration **list, size_t *count, size_t *unknown, char *err, size_t errlen);
int sq_migrate(store *s, int *applied, char *err, size_t errlen);
/* The whole map, read by the caller's transaction. */
int sq_load_map(sqlite3 *db, dataset *d, char *err, size_t errlen);
int sq_load(store *s, dataset *out, char *err, size_t errlen);
int sq_is_empty(store *s, int *empty, char *err, size_t errlen);
int sq_replace_all(store *s, const dataset *d, char *err, size_t errlen);
int sq_data_version(store *s, int64_t *version, char *err, size_t errlen);
int sq_edit(store *s, store_edit_fn fn, void *ctx, char *err, size_t errlen);

/* ---- sqlite_accounts.c ---- */
int sq_user_create(store *s, store_user *u, char *err, size_t errlen);
int sq_user_by_name(store *s, const char *username, store_user *out, int *found, char *err, size_t errlen);
int sq_user_by_id(store *s, int64_t id, store_user *out, int *found, char *err, size_t errlen);
int sq_user_list(store *s, store_user **users, size_t *count, char *err, size_t errlen);
int sq_user_update(store *s, const store_user *u, char *err, size_t errlen);
int sq_user_logged_in(store *s, int64_t id, char *err, size_t errlen);
int sq_admin_count(store *s, int64_t *count, char *err, size_t errlen);
int sq_session_create(store *s, const char *token_hash, int64_t user_id, const char *csrf_token, int64_t now,
                      int64_t expires_at, char *err, size_t errlen);
int sq_session_get(store *s, const char *token_hash, store_session *out, int *found, char *err, size_t errlen);
int sq_session_touch(store *s, const char *token_hash, int64_t now, char *err, size_t errlen);
int sq_session_delete(store *s, const char *token_hash, char *err, size_t errlen);
int sq_sessions_delete_user(store *s, int64_t user_id, char *err, size_t errlen);
int sq_attempt(store *s, const char *const *keys, size_t nkeys, int64_t now_ms, int64_t window_ms, int max, int record,
               int *allowed, int64_t *retry_after_ms, char *err, size_t errlen);
int sq_audit_list(store *s, int64_t offset, int64_t limit, store_audit **entries, size_t *count, int64_t *total,
                  char *err, size_t errlen);
int sq_audit_add(store *s, const store_audit *a, char *err, size_t errlen);
int sq_audit_insert(sqlite3 *db, const store_audit *a, char *err, size_t errlen);

/* ---- sqlite_dump.c: whole-database copies ---- */
int sq_dump(store *s, store_dump_t *out, char *err, size_t errlen);
int sq_restore(store *s, const store_dump_t *d, unsigned what, int64_t expected_version, store_restore_hook before,
               void *ctx, int64_t *users_added, char *err, size_t errlen);

#endif
