/*
 * sqlite_replace.c — replacing a whole SQLite database, schema included,
 * under the processes that have it open (store_sqlite_replace, store.h).
 *
 * A restore (store_restore) replaces the data inside the schema the
 * database has. Rolling a deploy back across a migration needs more: the
 * schema of the older version, which refuses a database that carries a
 * migration it does not know. The older binary builds a scratch database
 * with its own schema and restores the pre-deploy backup into it; this makes
 * the live database hold exactly that, in ONE write transaction on it:
 * every table, view, index and trigger dropped, the scratch database's
 * created and filled, the data version raised above both (so a running
 * server reloads its map). A server that has the database open sees the
 * old database or the new one, and no write can slip in between: the audit
 * entries that are being discarded are read inside the same transaction,
 * so the list of lost writes is exact.
 */
#include "store/sqlite_internal.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int exec_fmt(sqlite3 *db, char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    char *sql = sqlite3_mprintf(fmt, a, b);
    int rc = sql ? sq_exec(db, sql, err, errlen) : -1;
    sqlite3_free(sql);
    return rc;
}

/* Finalizes a scan that ended with step: 0 when it ran to the end. */
static int scan_end(sqlite3 *db, sqlite3_stmt *st, int step, const char *what, char *err, size_t errlen)
{
    int rc = step == SQLITE_DONE ? 0 : sq_fail(db, what, err, errlen);
    sqlite3_finalize(st);
    return rc == 0 ? 0 : -1;
}

/* The audit entries after audit_after: what the replacement discards. */
static int read_lost(sqlite3 *db, int64_t audit_after, store_audit **lost, size_t *nlost, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sq_prepare(db,
                   "SELECT id, at, actor, action, entity_type, entity_id FROM main.audit_log WHERE id > ? ORDER BY id",
                   &st, err, errlen) != 0)
        return -1;
    sqlite3_bind_int64(st, 1, audit_after);
    size_t cap = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*nlost == cap) {
            cap = cap ? cap * 2 : 16;
            *lost = xrealloc(*lost, cap * sizeof **lost);
        }
        store_audit *a = &(*lost)[(*nlost)++];
        memset(a, 0, sizeof *a);
        a->id = sqlite3_column_int64(st, 0);
        snprintf(a->at, sizeof a->at, "%s", (const char *)sqlite3_column_text(st, 1) ?: "");
        const char *actor = (const char *)sqlite3_column_text(st, 2), *id = (const char *)sqlite3_column_text(st, 5);
        a->actor = actor ? xstrdup(actor) : NULL;
        snprintf(a->action, sizeof a->action, "%s", (const char *)sqlite3_column_text(st, 3) ?: "");
        snprintf(a->entity_type, sizeof a->entity_type, "%s", (const char *)sqlite3_column_text(st, 4) ?: "");
        a->entity_id = id ? xstrdup(id) : NULL;
    }
    return scan_end(db, st, step, "reading the audit log", err, errlen);
}

/* Drops every table and view of main (their indexes and triggers go with them). */
static int drop_all(sqlite3 *db, char *err, size_t errlen)
{
    for (;;) {
        sqlite3_stmt *st;
        if (sq_prepare(db,
                       "SELECT type, name FROM main.sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE "
                       "'sqlite\\_%' ESCAPE '\\' LIMIT 1",
                       &st, err, errlen) != 0)
            return -1;
        int step = sqlite3_step(st);
        if (step != SQLITE_ROW)
            return scan_end(db, st, step, "reading the schema", err, errlen);
        char type[16], name[256];
        snprintf(type, sizeof type, "%s", (const char *)sqlite3_column_text(st, 0));
        snprintf(name, sizeof name, "%s", (const char *)sqlite3_column_text(st, 1));
        sqlite3_finalize(st);
        if (exec_fmt(db, err, errlen,
                     strcmp(type, "view") == 0 ? "DROP VIEW main.\"%w\"%s" : "DROP TABLE main.\"%w\"%s", name, "") != 0)
            return -1;
    }
}

/* Creates scratch's objects in main: tables (and their rows) first, then
 * indexes, then triggers and views, so no trigger fires on the copy. */
static int create_all(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sq_prepare(db,
                   "SELECT type, name, sql FROM scratch.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE "
                   "'sqlite\\_%' ESCAPE '\\' ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END",
                   &st, err, errlen) != 0)
        return -1;
    int rc = 0, step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0), *name = (const char *)sqlite3_column_text(st, 1);
        rc = sq_exec(db, (const char *)sqlite3_column_text(st, 2), err, errlen);
        if (rc == 0 && strcmp(type, "table") == 0)
            rc = exec_fmt(db, err, errlen, "INSERT INTO main.\"%w\" SELECT * FROM scratch.\"%w\"", name, name);
    }
    if (rc != 0) {
        sqlite3_finalize(st);
        return -1;
    }
    if (scan_end(db, st, step, "reading the scratch schema", err, errlen) != 0)
        return -1;
    /* AUTOINCREMENT counters, so ids are not handed out twice. */
    int exists = 0;
    sqlite3_stmt *q;
    if (sq_prepare(db, "SELECT 1 FROM scratch.sqlite_master WHERE name = 'sqlite_sequence'", &q, err, errlen) != 0)
        return -1;
    exists = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    if (exists &&
        (sq_exec(db, "DELETE FROM main.sqlite_sequence", err, errlen) != 0 ||
         sq_exec(db, "INSERT INTO main.sqlite_sequence SELECT * FROM scratch.sqlite_sequence", err, errlen) != 0))
        return -1;
    return 0;
}

int store_sqlite_replace(const char *path, const char *from, int64_t audit_after, store_audit **lost, size_t *nlost,
                         char *err, size_t errlen)
{
    *lost = NULL;
    *nlost = 0;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 10000);
    int rc = -1;
    char *attach = sqlite3_mprintf("ATTACH DATABASE %Q AS scratch", from);
    if (sq_exec(db, "PRAGMA foreign_keys = OFF", err, errlen) != 0 || sq_exec(db, attach, err, errlen) != 0 ||
        sq_exec(db, "BEGIN IMMEDIATE", err, errlen) != 0)
        goto out;
    sqlite3_int64 live = 0, scratch = 0;
    sqlite3_stmt *st;
    if (sq_prepare(db,
                   "SELECT (SELECT version FROM main.data_version WHERE id = 1), (SELECT version FROM "
                   "scratch.data_version WHERE id = 1)",
                   &st, err, errlen) != 0)
        goto rollback;
    if (sqlite3_step(st) == SQLITE_ROW) {
        live = sqlite3_column_int64(st, 0);
        scratch = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    char bump[128];
    snprintf(bump, sizeof bump, "UPDATE main.data_version SET version = %lld WHERE id = 1",
             (long long)(live > scratch ? live : scratch) + 1);
    if (read_lost(db, audit_after, lost, nlost, err, errlen) != 0 || drop_all(db, err, errlen) != 0 ||
        create_all(db, err, errlen) != 0 || sq_exec(db, bump, err, errlen) != 0 ||
        sq_exec(db, "COMMIT", err, errlen) != 0)
        goto rollback;
    rc = 0;
    goto out;
rollback:
    sq_rollback(db);
out:
    sqlite3_free(attach);
    if (rc != 0) {
        for (size_t i = 0; i < *nlost; i++)
            store_audit_clear(&(*lost)[i]);
        free(*lost);
        *lost = NULL;
        *nlost = 0;
    }
    sqlite3_close(db);
    return rc;
}
