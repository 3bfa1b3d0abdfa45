/*
 * sqlite_internal.h — what the SQLite backend's files share.
 *
 * The files depend on each other one way: sqlite_db.c (statements, errors,
 * the user and audit rows) is used by all; sqlite.c (schema and map) and
 * sqlite_accounts.c (users, sessions, the audit log) use nothing else;
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
/* Steps a statement that changes rows and finalizes it; a constraint
 * failure is MG_ERR_CONFLICT. */
int sq_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, char *err, size_t errlen);
/* Prepares sql or fails with a message. */
int sq_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err, size_t errlen);
char *sq_column_dup(sqlite3_stmt *st, int col);
void sq_column_copy(sqlite3_stmt *st, int col, char *out, size_t len);
int sq_table_exists(sqlite3 *db, const char *name, int *exists, char *err, size_t errlen);
/* The same for a column of a table (older backups lack newer columns). */
int sq_column_exists(sqlite3 *db, const char *table, const char *column, int *exists, char *err, size_t errlen);
/* The columns of a user, in the order sq_read_user reads them. */
#define USER_COLUMNS "id, username, email, password_hash, is_admin, disabled, created_at, coalesce(last_login_at, '')"
void sq_read_user(sqlite3_stmt *st, int col, store_user *u);
/* An audit row from the columns id, at, actor, action, entity_type,
 * entity_id, before_json, after_json (in that order). */
void sq_read_audit(sqlite3_stmt *st, store_audit *a);
int sq_audit_insert(sqlite3 *db, const store_audit *a, char *err, size_t errlen);

/* ---- the operations of backend.h: int sq_NAME(PARAMETERS) for each ---- */

#define SQLITE_DECLARE(name, params, args) int sq_##name params;
STORE_OPERATIONS(SQLITE_DECLARE)

/* ---- sqlite.c ---- */

/* The whole map, read by the caller's transaction. */
int sq_load_map(sqlite3 *db, dataset *d, char *err, size_t errlen);
/* Replaces every row of the map with d's, in the caller's transaction
 * (seed and restore). MG_ERR_CONFLICT when a constraint refuses a row. */
int sq_write_map(sqlite3 *db, const dataset *d, char *err, size_t errlen);

#endif
