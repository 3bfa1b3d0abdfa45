/*
 * postgres_internal.h — what the PostgreSQL backend's files share.
 *
 * The same split as the SQLite backend: postgres_backend.c (the connection,
 * statements, errors, transactions, the user and audit rows) is used by
 * all; postgres.c (schema and map), postgres_accounts.c (users, sessions,
 * login attempts, the audit log) and postgres_dump.c (whole-database
 * copies) implement the operations of backend.h.
 *
 * Every statement goes through PQexecParams with text parameters: values
 * never become SQL text. A store is one connection, used by one thread at a
 * time (the server opens one per worker thread, off the event loops).
 */
#ifndef MG_POSTGRES_INTERNAL_H
#define MG_POSTGRES_INTERNAL_H

#include "store/backend.h"

#include <libpq-fe.h>

/* Transaction-scoped advisory locks (the same numbers as the migrations'
 * musicgraph_lock_map() and musicgraph_lock_users()), and the session lock
 * that lets one instance at a time migrate. */
#define PG_LOCK_MIGRATIONS 6170000
#define PG_LOCK_MAP        6170001
#define PG_LOCK_USERS      6170002
/* The first half of the two-part lock per login-attempt key (the second: hashtext(key)). */
#define PG_LOCK_ATTEMPTS_CLASS "6170003"
/* The session lock held by the instance placing an ACME order. */
#define PG_LOCK_ACME 6170004

typedef struct pg_store {
    struct store base;
    PGconn *conn;
    char where[300];   /* database "x" on host:port, for messages (never the password) */
    int in_tx;         /* inside BEGIN: a lost connection is not silently replaced */
    int listening;     /* LISTEN musicgraph_data was issued on this connection */
    int lost;          /* the last statement failed for want of a connection */
    uint32_t pause_ms; /* between attempts to reconnect; 0 while connected */
    uint64_t retry_at; /* monotonic ms before which no attempt is made */
    /* Statements prepared on this connection (pg_run), forgotten when it is
     * opened again: their names are s0, s1, … in the order prepared. */
    char **prepared;
    size_t nprepared;
} pg_store;

static inline pg_store *pg(store *s) { return (pg_store *)s; }

/* ---- postgres_backend.c ---- */

/* Runs sql with n text parameters (NULL is SQL NULL). Reconnects first when
 * the connection was lost outside a transaction. Never NULL. */
PGresult *pg_run(pg_store *p, const char *sql, int n, const char *const *params);
/* 1 when r is a success (a command or rows). */
int pg_ok(const PGresult *r);
/* Formats "what: message" into err, clears r; returns MG_ERR_CONFLICT for a
 * constraint violation (SQLSTATE class 23), else -1. */
int pg_fail(pg_store *p, PGresult *r, const char *what, char *err, size_t errlen);
/* Runs a statement whose rows do not matter; 0 or pg_fail's code. */
int pg_cmd(pg_store *p, const char *sql, int n, const char *const *params, const char *what, char *err, size_t errlen);
/* Runs a query returning one integer (0 when no row or NULL). */
int pg_int(pg_store *p, const char *sql, int n, const char *const *params, int64_t *out, char *err, size_t errlen);
int pg_begin(pg_store *p, char *err, size_t errlen);
/* Commits; a deferred constraint that fails here is MG_ERR_CONFLICT. */
int pg_commit(pg_store *p, const char *what, char *err, size_t errlen);
void pg_rollback(pg_store *p);
/* Takes a transaction-scoped advisory lock (PG_LOCK_*). */
int pg_lock(pg_store *p, long key, char *err, size_t errlen);
/* Decimal text of an integer, for a parameter. */
typedef struct pg_num {
    char s[24];
} pg_num;
pg_num pg_i64(int64_t v);
/* A column as a malloc'd string (NULL for SQL NULL), or copied into out. */
char *pg_dup(const PGresult *r, int row, int col);
void pg_copy(const PGresult *r, int row, int col, char *out, size_t len);
int64_t pg_get_i64(const PGresult *r, int row, int col);
int pg_table_exists(pg_store *p, const char *name, int *exists, char *err, size_t errlen);
/* The same for a column of a table in the current schema (older backups lack newer columns). */
int pg_column_exists(pg_store *p, const char *table, const char *column, int *exists, char *err, size_t errlen);
/* The columns of a user, in the order pg_read_user reads them. */
#define PG_USER_COLUMNS                                                                                                \
    "id, username, email, password_hash, is_admin, disabled, created_at, coalesce(last_login_at, '')"
void pg_read_user(const PGresult *r, int row, int col, store_user *u);
/* Every user, ordered by order_by ("id", "username"); *users malloc'd. */
int pg_users(pg_store *p, const char *order_by, store_user **users, size_t *count, char *err, size_t errlen);
/* An audit row from id, at, actor, action, entity_type, entity_id,
 * before_json, after_json. */
void pg_read_audit(const PGresult *r, int row, store_audit *a);
int pg_audit_insert(pg_store *p, const store_audit *a, char *err, size_t errlen);

/* ---- the operations of backend.h: int pg_NAME(PARAMETERS) for each ---- */

#define POSTGRES_DECLARE(name, params, args) int pg_##name params;
STORE_OPERATIONS(POSTGRES_DECLARE)

/* ---- postgres.c ---- */

/* The whole map, read by the caller's transaction. */
int pg_load_map(pg_store *p, dataset *d, char *err, size_t errlen);
/* Replaces every row of the map with d's, in the caller's transaction. */
int pg_write_map(pg_store *p, const dataset *d, char *err, size_t errlen);

/* ---- postgres_copy.c ---- */

/* d's rows into the map's empty tables, one COPY per table. */
int pg_copy_map(pg_store *p, const dataset *d, char *err, size_t errlen);
/* Adds one to the data version and tells every instance (NOTIFY). */
int pg_bump_version(pg_store *p, char *err, size_t errlen);

#endif
