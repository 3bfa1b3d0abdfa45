/*
 * sqlite_dump.c — whole-database copies for backup, restore and import
 * (see store.h: store_dump, store_restore).
 *
 * A dump is one read transaction: in WAL mode every SELECT inside it sees
 * the database as it was at the first one, so a dump taken while the server
 * writes is a picture of one instant, never half of a write. A restore is one
 * write transaction taken up front (BEGIN IMMEDIATE): it deletes the parts it
 * replaces, inserts the new rows with their original ids and times, clears
 * sessions when accounts change, and bumps the data version that every server
 * polls; a failure anywhere rolls all of it back. The foreign keys between
 * genres and bands are deferred, so they are checked once, at COMMIT.
 *
 * The dump reads tables that older schemas may not have (accounts arrived in
 * 0002), so that the automatic backup taken before a migration works on the
 * old schema too.
 */
#include "store/sqlite_internal.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a query returning one integer (or NULL, read as 0). */
static int query_int(sqlite3 *db, const char *sql, int64_t *out, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sq_prepare(db, sql, &st, err, errlen) != 0)
        return -1;
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sq_fail(db, sql, err, errlen);
}

static int dump_users(sqlite3 *db, store_dump_t *out, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sq_prepare(db, "SELECT " USER_COLUMNS " FROM users ORDER BY id", &st, err, errlen) != 0)
        return -1;
    size_t cap = 0;
    int rc;
    /* Doubling: 100,000 accounts grown one by one copied gigabytes. */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->nusers == cap) {
            cap = cap ? cap * 2 : 64;
            out->users = xreallocarray(out->users, cap, sizeof *out->users);
        }
        sq_read_user(st, 0, &out->users[out->nusers++]);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(db, "reading users", err, errlen);
}

static int dump_audit(sqlite3 *db, store_dump_t *out, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sq_prepare(db,
                   "SELECT id, at, actor, action, entity_type, entity_id, before_json, after_json FROM audit_log "
                   "ORDER BY id",
                   &st, err, errlen) != 0)
        return -1;
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->naudit == cap) {
            cap = cap ? cap * 2 : 64;
            out->audit = xreallocarray(out->audit, cap, sizeof *out->audit);
        }
        store_audit *a = &out->audit[out->naudit++];
        sq_read_audit(st, a);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(db, "reading the audit log", err, errlen);
}

static int dump_all(sqlite3 *db, store_dump_t *out, char *err, size_t errlen)
{
    int exists;
    if (sq_table_exists(db, "schema_migrations", &exists, err, errlen) != 0)
        return -1;
    if (exists) {
        sqlite3_stmt *st;
        if (sq_prepare(db, "SELECT max(name) FROM schema_migrations", &st, err, errlen) != 0)
            return -1;
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            sq_column_copy(st, 0, out->schema_version, sizeof out->schema_version);
        sqlite3_finalize(st);
        if (step != SQLITE_ROW)
            return sq_fail(db, "reading schema_migrations", err, errlen);
    }
    if (sq_table_exists(db, "genres", &exists, err, errlen) != 0)
        return -1;
    if (exists) {
        if (sq_load_map(db, &out->map, err, errlen) != 0 ||
            query_int(db, "SELECT version FROM data_version WHERE id = 1", &out->data_version, err, errlen) != 0 ||
            query_int(db, "SELECT count(*) FROM genres", &out->counts.genres, err, errlen) != 0 ||
            query_int(db, "SELECT count(*) FROM genre_parents", &out->counts.genre_parents, err, errlen) != 0 ||
            query_int(db, "SELECT count(*) FROM genre_links", &out->counts.genre_links, err, errlen) != 0 ||
            query_int(db, "SELECT count(*) FROM bands", &out->counts.bands, err, errlen) != 0 ||
            query_int(db, "SELECT count(*) FROM band_genres", &out->counts.band_genres, err, errlen) != 0)
            return -1;
    }
    if (sq_table_exists(db, "users", &out->has_users, err, errlen) != 0)
        return -1;
    if (out->has_users && (dump_users(db, out, err, errlen) != 0 ||
                           query_int(db, "SELECT count(*) FROM users", &out->counts.users, err, errlen) != 0))
        return -1;
    if (sq_table_exists(db, "audit_log", &out->has_audit, err, errlen) != 0)
        return -1;
    if (out->has_audit && (dump_audit(db, out, err, errlen) != 0 ||
                           query_int(db, "SELECT count(*) FROM audit_log", &out->counts.audit_log, err, errlen) != 0 ||
                           query_int(db, "SELECT max(id) FROM audit_log", &out->audit_last_id, err, errlen) != 0))
        return -1;
    return 0;
}

int sq_dump(store *s, store_dump_t *out, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    memset(out, 0, sizeof *out);
    if (sq_exec(db, "BEGIN", err, errlen) != 0)
        return -1;
    int rc = dump_all(db, out, err, errlen);
    if (rc == 0)
        rc = sq_exec(db, "COMMIT", err, errlen);
    else
        sq_rollback(db);
    if (rc != 0)
        store_dump_free(out);
    return rc;
}

/* ---- restore ---- */

enum { R_USER, R_USER_ADD, R_AUDIT, R_COUNT };

static const char *const restore_sql[R_COUNT] = {
    "INSERT INTO users (id, username, email, password_hash, is_admin, disabled, created_at, last_login_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, nullif(?8, ''))",
    "INSERT INTO users (username, email, password_hash, is_admin, disabled, created_at, last_login_at) "
    "SELECT ?2, ?3, ?4, ?5, ?6, ?7, nullif(?8, '') WHERE NOT EXISTS "
    "(SELECT 1 FROM users WHERE username = ?2 OR email = ?3)",
    "INSERT INTO audit_log (id, at, actor, action, entity_type, entity_id, before_json, after_json) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
};

typedef struct restorer {
    sqlite3 *db;
    sqlite3_stmt *st[R_COUNT];
    char what[160]; /* the row being written, for the error message */
} restorer;

static int step(restorer *r, int k)
{
    int rc = sqlite3_step(r->st[k]);
    sqlite3_reset(r->st[k]);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void bind_text(restorer *r, int k, int i, const char *s)
{
    sqlite3_bind_text(r->st[k], i, s, -1, SQLITE_STATIC);
}

static int put_user(restorer *r, int k, const store_user *u)
{
    snprintf(r->what, sizeof r->what, "restoring user %.80s", u->username);
    sqlite3_stmt *st = r->st[k];
    sqlite3_bind_int64(st, 1, u->id);
    bind_text(r, k, 2, u->username);
    bind_text(r, k, 3, u->email);
    bind_text(r, k, 4, u->password_hash);
    sqlite3_bind_int(st, 5, u->is_admin ? 1 : 0);
    sqlite3_bind_int(st, 6, u->disabled ? 1 : 0);
    bind_text(r, k, 7, u->created_at);
    bind_text(r, k, 8, u->last_login_at);
    return step(r, k);
}

static int put_audit(restorer *r, const store_audit *a)
{
    snprintf(r->what, sizeof r->what, "restoring audit entry %lld", (long long)a->id);
    sqlite3_stmt *st = r->st[R_AUDIT];
    sqlite3_bind_int64(st, 1, a->id);
    bind_text(r, R_AUDIT, 2, a->at);
    bind_text(r, R_AUDIT, 3, a->actor);
    bind_text(r, R_AUDIT, 4, a->action);
    bind_text(r, R_AUDIT, 5, a->entity_type);
    bind_text(r, R_AUDIT, 6, a->entity_id);
    bind_text(r, R_AUDIT, 7, a->before_json);
    bind_text(r, R_AUDIT, 8, a->after_json);
    return step(r, R_AUDIT);
}

/* The accounts as the guard compares them: everything but the last login. */
static int same_user(const store_user *a, const store_user *b)
{
    return a->id == b->id && strcmp(a->username, b->username) == 0 && strcmp(a->email, b->email) == 0 &&
           strcmp(a->password_hash, b->password_hash) == 0 && a->is_admin == b->is_admin && a->disabled == b->disabled;
}

/* MG_ERR_CONFLICT when the database is no longer what expected was read
 * as: its data version, newest audit entry or accounts differ. The write
 * lock is held, so nothing can change after this check. */
static int check_unchanged(sqlite3 *db, const store_dump_t *expected, char *err, size_t errlen)
{
    store_dump_t now;
    memset(&now, 0, sizeof now);
    int rc = query_int(db, "SELECT version FROM data_version WHERE id = 1", &now.data_version, err, errlen);
    if (rc == 0 && expected->has_audit)
        rc = query_int(db, "SELECT max(id) FROM audit_log", &now.audit_last_id, err, errlen);
    if (rc == 0 && expected->has_users)
        rc = dump_users(db, &now, err, errlen);
    int same = now.data_version == expected->data_version && now.audit_last_id == expected->audit_last_id &&
               now.nusers == expected->nusers;
    for (size_t i = 0; rc == 0 && same && i < now.nusers; i++)
        same = same_user(&now.users[i], &expected->users[i]);
    if (rc == 0 && !same) {
        snprintf(err, errlen,
                 "the data changed while this command ran (data version %lld, it read %lld; or an account or the "
                 "audit log changed): nothing was written; run it again",
                 (long long)now.data_version, (long long)expected->data_version);
        rc = MG_ERR_CONFLICT;
    }
    store_dump_free(&now);
    return rc;
}

static int restore_rows(restorer *r, const store_dump_t *d, unsigned what, const store_dump_t *expected,
                        int64_t *users_added, char *err, size_t errlen)
{
    sqlite3 *db = r->db;
    int rc = expected ? check_unchanged(db, expected, err, errlen) : 0;
    if (rc != 0)
        return rc;
    for (int i = 0; i < R_COUNT; i++)
        if (sq_prepare(db, restore_sql[i], &r->st[i], err, errlen) != 0)
            return -1;
    if ((what & STORE_RESTORE_MAP) && sq_write_map(db, &d->map, err, errlen) != 0)
        return -1;
    if (what & STORE_RESTORE_USERS) {
        /* Sessions point at user ids that may now name somebody else. */
        if (sq_exec(db, "DELETE FROM sessions; DELETE FROM login_attempts; DELETE FROM users;", err, errlen) != 0)
            return -1;
        for (size_t i = 0; i < d->nusers; i++)
            if (put_user(r, R_USER, &d->users[i]) != 0)
                return sq_fail(db, r->what, err, errlen);
    }
    if (what & STORE_RESTORE_ADD_USERS) {
        for (size_t i = 0; i < d->nusers; i++) {
            if (put_user(r, R_USER_ADD, &d->users[i]) != 0)
                return sq_fail(db, r->what, err, errlen);
            if (users_added)
                *users_added += sqlite3_changes(db);
        }
    }
    if (what & STORE_RESTORE_AUDIT) {
        if (sq_exec(db, "DELETE FROM audit_log", err, errlen) != 0)
            return -1;
        for (size_t i = 0; i < d->naudit; i++)
            if (put_audit(r, &d->audit[i]) != 0)
                return sq_fail(db, r->what, err, errlen);
    }
    return sq_exec(db, "UPDATE data_version SET version = version + 1 WHERE id = 1", err, errlen);
}

int sq_restore(store *s, const store_dump_t *d, unsigned what, const store_dump_t *expected, int64_t *users_added,
               char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    if (users_added)
        *users_added = 0;
    if (sq_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
        return -1;
    restorer r;
    memset(&r, 0, sizeof r);
    r.db = db;
    int rc = restore_rows(&r, d, what, expected, users_added, err, errlen);
    for (int i = 0; i < R_COUNT; i++)
        sqlite3_finalize(r.st[i]);
    if (rc != 0) {
        sq_rollback(db);
        return rc;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = sq_fail(db, "the database refused the restored data", err, errlen);
        sq_rollback(db);
        return rc;
    }
    return 0;
}
