/*
 * sqlite_internal.h — what the SQLite backend's files share.
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

/* Formats "what: sqlite message" into err; returns -1, or STORE_CONFLICT
 * when the failure is a constraint the user can act on. */
int sq_fail(sqlite3 *db, const char *what, char *err, size_t errlen);
int sq_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);
void sq_rollback(sqlite3 *db);
/* Prepares sql or fails with a message. */
int sq_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err, size_t errlen);
char *sq_column_dup(sqlite3_stmt *st, int col);
void sq_column_copy(sqlite3_stmt *st, int col, char *out, size_t len);

/* The whole map, read by the caller's transaction (sqlite.c). */
int sq_load_map(sqlite3 *db, dataset *d, char *err, size_t errlen);
int sq_table_exists(sqlite3 *db, const char *name, int *exists, char *err, size_t errlen);
/* Replaces every row of the map with d's, in the caller's transaction
 * (seed and restore). STORE_CONFLICT when a constraint refuses a row. */
int sq_write_map(sqlite3 *db, const dataset *d, char *err, size_t errlen);

/* Account functions (sqlite_accounts.c), plugged into the ops table. */
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
void sq_read_audit(sqlite3_stmt *st, store_audit *a);
int sq_audit_insert(sqlite3 *db, const store_audit *a, char *err, size_t errlen);

/* Whole-database copies (sqlite_dump.c). */
int sq_dump(store *s, store_dump_t *out, char *err, size_t errlen);
int sq_restore(store *s, const store_dump_t *d, unsigned what, int64_t expected_version, store_restore_hook before,
               void *ctx, int64_t *users_added, char *err, size_t errlen);

#endif
