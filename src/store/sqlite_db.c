/*
 * sqlite_db.c — what every file of the SQLite backend uses: failures turned
 * into messages (and constraint failures into MG_ERR_CONFLICT), statements,
 * columns, and the one reader (or writer) of each row kind that several
 * files use (a user, an audit entry).
 */
#include "store/sqlite_internal.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sq_fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
    int code = sqlite3_extended_errcode(db);
    snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
    return (code & 0xff) == SQLITE_CONSTRAINT ? MG_ERR_CONFLICT : -1;
}

int sq_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

void sq_rollback(sqlite3 *db) { sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL); }

/* Runs a schema query with one or two text parameters; *exists says whether it found a row. */
static int schema_has(sqlite3 *db, const char *sql, const char *a, const char *b, int *exists, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, "reading the schema", err, errlen);
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *exists = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sq_fail(db, "reading the schema", err, errlen);
    return 0;
}

int sq_table_exists(sqlite3 *db, const char *name, int *exists, char *err, size_t errlen)
{
    return schema_has(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", name, NULL, exists, err,
                      errlen);
}

int sq_column_exists(sqlite3 *db, const char *table, const char *column, int *exists, char *err, size_t errlen)
{
    return schema_has(db, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", table, column, exists, err, errlen);
}

char *sq_column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? xstrdup((const char *)t) : NULL;
}

void sq_column_copy(sqlite3_stmt *st, int col, char *out, size_t len)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, len, "%s", t ? (const char *)t : "");
}

int sq_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err, size_t errlen)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        sq_fail(db, "preparing a query", err, errlen);
        return -1;
    }
    return 0;
}

int sq_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, char *err, size_t errlen)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sq_fail(db, what, err, errlen);
    sqlite3_finalize(st);
    return rc;
}

/* A user row: the columns of USER_COLUMNS, starting at col. */
void sq_read_user(sqlite3_stmt *st, int col, store_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(st, col);
    sq_column_copy(st, col + 1, u->username, sizeof u->username);
    sq_column_copy(st, col + 2, u->email, sizeof u->email);
    sq_column_copy(st, col + 3, u->password_hash, sizeof u->password_hash);
    u->is_admin = sqlite3_column_int(st, col + 4);
    u->disabled = sqlite3_column_int(st, col + 5);
    sq_column_copy(st, col + 6, u->created_at, sizeof u->created_at);
    sq_column_copy(st, col + 7, u->last_login_at, sizeof u->last_login_at);
}

/* An audit row from the columns id, at, actor, action, entity_type,
 * entity_id, before_json, after_json (in that order). */
void sq_read_audit(sqlite3_stmt *st, store_audit *a)
{
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(st, 0);
    sq_column_copy(st, 1, a->at, sizeof a->at);
    a->actor = sq_column_dup(st, 2);
    sq_column_copy(st, 3, a->action, sizeof a->action);
    sq_column_copy(st, 4, a->entity_type, sizeof a->entity_type);
    a->entity_id = sq_column_dup(st, 5);
    a->before_json = sq_column_dup(st, 6);
    a->after_json = sq_column_dup(st, 7);
}

int sq_audit_insert(sqlite3 *db, const store_audit *a, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sq_prepare(db,
                   "INSERT INTO audit_log (actor, action, entity_type, entity_id, before_json, after_json) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   &st, err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, a->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->entity_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, a->entity_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, a->before_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, a->after_json, -1, SQLITE_STATIC);
    return sq_step_done(db, st, "writing the audit log", err, errlen);
}
