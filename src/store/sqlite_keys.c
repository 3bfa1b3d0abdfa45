/*
 * sqlite_keys.c — the public keys that signed this database's backups, in
 * table backup_keys (migration 0005; see store.h). A database whose schema
 * predates the table answers MG_ERR_NOT_FOUND: a pre-migration backup is
 * signed before the table exists.
 */
#include "store/sqlite_internal.h"

#include "core/buf.h"
#include "core/errors.h"

#include <stdio.h>
#include <time.h>

static int keys_table(sqlite3 *db, char *err, size_t errlen)
{
    int exists = 0;
    if (sq_table_exists(db, "backup_keys", &exists, err, errlen) != 0)
        return -1;
    if (!exists) {
        snprintf(err, errlen, "the database's schema predates recorded backup keys (migration 0005)");
        return MG_ERR_NOT_FOUND;
    }
    return 0;
}

int sq_backup_keys(store *s, char **text, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    *text = NULL;
    int rc = keys_table(db, err, errlen);
    if (rc != 0)
        return rc;
    if (sq_prepare(db, "SELECT public_key, comment FROM backup_keys ORDER BY added_at, public_key", &st, err, errlen) !=
        0)
        return -1;
    buf out = BUF_INIT;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        buf_printf(&out, "%s %s\n", (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || buf_failed(&out)) {
        buf_free(&out);
        return rc != SQLITE_DONE ? sq_fail(db, "reading the backup keys", err, errlen)
                                 : (snprintf(err, errlen, "out of memory"), -1);
    }
    *text = buf_steal(&out, NULL);
    return 0;
}

int sq_backup_key_add(store *s, const char *key, const char *comment, char *err, size_t errlen)
{
    sqlite3 *db = sq_db(s);
    sqlite3_stmt *st;
    int rc = keys_table(db, err, errlen);
    if (rc != 0)
        return rc;
    if (sq_prepare(db,
                   "INSERT INTO backup_keys (public_key, comment, added_at) VALUES (?, ?, ?) "
                   "ON CONFLICT (public_key) DO NOTHING",
                   &st, err, errlen) != 0)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, comment, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
    return sq_step_done(db, st, "recording the backup key", err, errlen);
}
